// The sandbox page: a small Slack over the sandbox's stand-ins. Plain JavaScript, no build step.
// State comes from GET /api/state; the server pushes "change" over server-sent events (/api/events).
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "html") node.innerHTML = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) node.append(c.nodeType ? c : String(c));
  return node;
};

// With several workspaces (python3 dev.py run --workspaces 2) the page shows one column per workspace, each
// this page with ?team=<team id>: every request names its workspace, and each column keeps its own acting user.
const TEAM = new URLSearchParams(location.search).get("team") || "";
const USER_KEY = TEAM ? `sandbox-user:${TEAM}` : "sandbox-user";

const ui = {
  user: localStorage.getItem(USER_KEY) || "U_SANDBOX",
  channel: "C_SANDBOX",
  tab: "messages",
  thread: null,         // ts of the open thread
  state: null,
  modalKey: null,       // id + hash of the modal on screen
  modalValues: {},      // what is typed in the modal: {block_id: {action_id: value}}
  fetching: false, again: false,
};

// -- talking to the sandbox ------------------------------------------------------------------------
async function api(path, body) {
  const opts = body === undefined ? {} : {method: "POST", headers: {"Content-Type": "application/json"},
                                          body: JSON.stringify({user: ui.user, channel: ui.channel, ...(TEAM ? {team: TEAM} : {}), ...body})};
  const res = await fetch(path, opts);
  const data = await res.json().catch(() => ({ok: false, error: `HTTP ${res.status}`}));
  if (!data.ok) toast(data.error || "That did not work");
  return data;
}

async function refresh() {
  if (ui.fetching) { ui.again = true; return; }
  ui.fetching = true;
  try {
    const q = new URLSearchParams({user: ui.user, channel: ui.channel, ...(TEAM ? {team: TEAM} : {})});
    const data = await api(`/api/state?${q}`);
    if (data.ok) { ui.state = data; render(); }
  } finally {
    ui.fetching = false;
    if (ui.again) { ui.again = false; refresh(); }
  }
}

function listen() {
  const source = new EventSource(TEAM ? `/api/events?team=${encodeURIComponent(TEAM)}` : "/api/events");
  source.addEventListener("change", () => refresh());
  source.onerror = () => { /* the browser reconnects by itself */ };
}

function toast(text) {
  const t = $("#toast");
  t.textContent = text; t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 4000);
}

// -- mrkdwn ------------------------------------------------------------------------------------
const escapeHtml = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const unescapeSlack = (s) => String(s).replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const ordinal = (n) => n + (n % 100 >= 11 && n % 100 <= 13 ? "th" : ({1: "st", 2: "nd", 3: "rd"}[n % 10] || "th"));

function ago(date) {
  const s = (date - new Date()) / 1000, future = s > 0, a = Math.abs(s);
  let amount = a < 45 ? "a few seconds" : "a minute";
  for (const [unit, size] of [["year", 31536000], ["month", 2592000], ["day", 86400], ["hour", 3600], ["minute", 60]]) {
    if (a >= 45 && a >= size * 0.95) { const n = Math.max(1, Math.round(a / size)); amount = `${n} ${unit}${n !== 1 ? "s" : ""}`; break; }
  }
  return future ? `in ${amount}` : `${amount} ago`;
}

function slackDate(ts, format) {
  const d = new Date(Number(ts) * 1000), now = new Date();
  const time = d.toLocaleTimeString([], {hour: "numeric", minute: "2-digit"});
  const dayDiff = Math.round((new Date(d.toDateString()) - new Date(now.toDateString())) / 86400000);
  const pretty = (base) => dayDiff === 0 ? "today" : dayDiff === -1 ? "yesterday" : dayDiff === 1 ? "tomorrow" : base;
  const date = `${MONTHS[d.getMonth()]} ${ordinal(d.getDate())}, ${d.getFullYear()}`;
  const short = `${MONTHS[d.getMonth()].slice(0, 3)} ${d.getDate()}, ${d.getFullYear()}`;
  const long = `${DAYS[d.getDay()]}, ${date}`;
  const tokens = {
    date_num: d.toISOString().slice(0, 10), date, date_short: short, date_long: long,
    date_pretty: pretty(date), date_short_pretty: pretty(short), date_long_pretty: pretty(long),
    time, time_secs: d.toLocaleTimeString(), ago: ago(d),
  };
  return format.replace(/\{(\w+)\}/g, (m, k) => tokens[k] ?? m);
}

function mrkdwn(raw) {
  if (raw === undefined || raw === null) return "";
  const held = [];
  const hold = (html) => `\u0000${held.push(html) - 1}\u0000`;
  const names = (ui.state && ui.state.names) || {};
  let s = String(raw);
  s = s.replace(/```([\s\S]*?)```/g, (m, code) => hold(`<pre>${escapeHtml(unescapeSlack(code))}</pre>`));
  s = s.replace(/`([^`\n]+)`/g, (m, code) => hold(`<code>${escapeHtml(unescapeSlack(code))}</code>`));
  s = s.replace(/<!date\^(\d+)\^([^^|<>]*)(?:\^([^|<>]*))?(?:\|([^<>]*))?>/g, (m, ts, fmt, link, fallback) => {
    const shown = escapeHtml(slackDate(ts, fmt));
    const iso = new Date(Number(ts) * 1000).toString();
    return hold(link ? `<a href="${escapeHtml(link)}" target="_blank" title="${escapeHtml(iso)}">${shown}</a>`
      : `<span class="date-token" title="${escapeHtml(iso)}">${shown}</span>`);
  });
  s = s.replace(/<((?:https?:\/\/|mailto:|[@#!])[^<>|\s]*)(?:\|([^<>]*))?>/g, (m, target, label) => {
    if (target.startsWith("@")) { const id = target.slice(1); return hold(`<span class="mention">@${escapeHtml(label || names[id] || id)}</span>`); }
    if (target.startsWith("#")) { const id = target.slice(1); return hold(`<span class="mention">#${escapeHtml(label || id.replace(/^C_/, "").toLowerCase())}</span>`); }
    if (target.startsWith("!")) {
      const special = target.slice(1).split("^")[0];
      return hold(`<span class="mention">@${escapeHtml(label ? label.replace(/^@/, "") : special)}</span>`);
    }
    return hold(`<a href="${escapeHtml(unescapeSlack(target))}" target="_blank" rel="noopener">${escapeHtml(unescapeSlack(label || target))}</a>`);
  });
  s = escapeHtml(unescapeSlack(s));
  s = s.replace(/(^|\n)&gt; ?([^\n]*)/g, (m, start, line) => `${start}\u0001${line}\u0002`);
  s = s.replace(/(^|[^\w*])\*(?!\s)([^*\n]+?)\*(?!\w)/g, "$1<b>$2</b>");
  s = s.replace(/(^|[^\w])_(?!\s)([^_\n]+?)_(?!\w)/g, "$1<i>$2</i>");
  s = s.replace(/(^|[^\w~])~(?!\s)([^~\n]+?)~(?!\w)/g, "$1<s>$2</s>");
  s = s.replace(/\u0001([^\u0002]*)\u0002\n?/g, "<blockquote>$1</blockquote>");
  s = s.replace(/\n/g, "<br>");
  return s.replace(/\u0000(\d+)\u0000/g, (m, i) => held[Number(i)]);
}

function textHtml(obj) {
  if (!obj) return "";
  if (typeof obj === "string") return mrkdwn(obj);
  return obj.type === "plain_text" ? escapeHtml(obj.text || "") : mrkdwn(obj.text || "");
}
const plain = (obj) => (obj && typeof obj === "object" ? obj.text || "" : obj || "");

// -- Block Kit ---------------------------------------------------------------------------------
// ctx: {kind: message|ephemeral|response|view|home, ts, view_id, channel, modal: bool}
function renderBlocks(blocks, ctx) {
  const box = el("div", {class: "blocks"});
  for (const block of blocks || []) {
    const node = renderBlock(block, ctx);
    if (node) { node.dataset.blockId = block.block_id || ""; box.append(node); }
  }
  return box;
}

function renderBlock(b, ctx) {
  switch (b.type) {
    case "section": {
      const body = el("div", {class: "body"});
      if (b.text) body.append(el("div", {class: "text", html: textHtml(b.text)}));
      if (b.fields) body.append(el("div", {class: "fields"}, b.fields.map((f) => el("div", {class: "text", html: textHtml(f)}))));
      const node = el("div", {class: "block-section"}, body);
      if (b.accessory) node.append(el("div", {class: "accessory"}, renderElement(b.accessory, b, ctx)));
      return node;
    }
    case "header": return el("div", {class: "block-header", html: textHtml(b.text)});
    case "divider": return el("hr", {class: "block-divider"});
    case "context": return el("div", {class: "block-context"}, (b.elements || []).map((e) => e.type === "image"
      ? el("img", {src: e.image_url || fileUrl(e.slack_file), alt: e.alt_text || ""}) : el("span", {html: textHtml(e)})));
    case "actions": return el("div", {class: "block-actions"}, (b.elements || []).map((e) => renderElement(e, b, ctx)));
    case "image": return el("figure", {class: "block-image"},
      b.title ? el("div", {class: "title"}, plain(b.title)) : null,
      el("img", {src: b.image_url || fileUrl(b.slack_file), alt: b.alt_text || ""}));
    case "rich_text": return el("div", {class: "text rich"}, (b.elements || []).map(richElement));
    case "markdown": return el("div", {class: "text", html: mrkdwn(b.text)});
    case "input": return renderInput(b, ctx);
    case "file": return el("div", {class: "file"}, `File ${b.external_id || b.file_id || ""}`);
    case "video": return el("div", {class: "text"}, el("a", {href: b.video_url, target: "_blank"}, plain(b.title) || "Video"));
    default: return el("div", {class: "meta"}, `(${b.type} block)`);
  }
}

const fileUrl = (f) => f ? `/api/file/${encodeURIComponent(f.id || (f.url || "").split("-").pop())}` : "";

function richText(e) {
  const s = e.style || {};
  let node;
  switch (e.type) {
    case "text": node = el("span", {}, e.text); break;
    case "link": node = el("a", {href: e.url, target: "_blank"}, e.text || e.url); break;
    case "user": node = el("span", {class: "mention"}, "@" + ((ui.state.names || {})[e.user_id] || e.user_id)); break;
    case "channel": node = el("span", {class: "mention"}, "#" + e.channel_id); break;
    case "usergroup": node = el("span", {class: "mention"}, "@" + e.usergroup_id); break;
    case "broadcast": node = el("span", {class: "mention"}, "@" + e.range); break;
    case "emoji": node = el("span", {}, e.unicode ? String.fromCodePoint(...e.unicode.split("-").map((h) => parseInt(h, 16))) : `:${e.name}:`); break;
    case "date": node = el("span", {class: "date-token"}, slackDate(e.timestamp, e.format || "{date_short}")); break;
    default: node = el("span", {}, e.text || "");
  }
  if (s.bold) node = el("b", {}, node);
  if (s.italic) node = el("i", {}, node);
  if (s.strike) node = el("s", {}, node);
  if (s.code) node = el("code", {}, node);
  return node;
}

function richElement(e) {
  switch (e.type) {
    case "rich_text_section": return el("div", {}, (e.elements || []).map(richText));
    case "rich_text_preformatted": return el("pre", {}, (e.elements || []).map(richText));
    case "rich_text_quote": return el("blockquote", {}, (e.elements || []).map(richText));
    case "rich_text_list": return el(e.style === "ordered" ? "ol" : "ul", {class: "rich-list"},
      (e.elements || []).map((item) => el("li", {}, (item.elements || []).map(richText))));
    default: return el("span", {}, "");
  }
}

function optionsOf(element) {
  if (element.options) return element.options;
  return (element.option_groups || []).flatMap((g) => g.options || []);
}

function people() { return (ui.state.people || []).map((p) => ({value: p.id, text: {type: "plain_text", text: p.name}})); }
function conversations() { return (ui.state.channels || []).map((c) => ({value: c.id, text: {type: "plain_text", text: c.kind === "dm" ? c.name : "#" + c.name}})); }

// Interactive elements. In a modal, inputs only record what is typed (sent on submit); an element in an
// actions/section block (or an input with dispatch_action) sends block_actions.
function renderElement(e, block, ctx, inInput = false) {
  const act = (extra = {}) => sendAction(ctx, block, e, extra);
  const dispatch = !inInput || block.dispatch_action;
  const key = [block.block_id, e.action_id];
  switch (e.type) {
    case "button": {
      const cls = `btn ${e.style || ""} ${e.url ? "link-btn" : ""}`;
      return el("button", {type: "button", class: cls, "data-action-id": e.action_id, onclick: async (ev) => {
        if (e.confirm && !(await confirmDialog(e.confirm))) return;
        if (e.url) window.open(e.url, "_blank", "noopener");
        ev.target.disabled = true;
        await act();
        ev.target.disabled = false;
      }}, plain(e.text));
    }
    case "image": return el("img", {src: e.image_url || fileUrl(e.slack_file), alt: e.alt_text || ""});
    case "overflow": {
      const wrap = el("span", {class: "overflow"});
      const menu = el("div", {class: "menu", hidden: true}, optionsOf(e).map((o) => el("button", {type: "button", onclick: async () => {
        menu.hidden = true;
        if (e.confirm && !(await confirmDialog(e.confirm))) return;
        if (o.url) window.open(o.url, "_blank", "noopener");
        act({selected_option: o});
      }}, plain(o.text))));
      wrap.append(el("button", {type: "button", class: "btn", "aria-label": "More actions", "data-action-id": e.action_id,
                                onclick: () => { menu.hidden = !menu.hidden; }}, "⋮"), menu);
      return wrap;
    }
    case "static_select": case "users_select": case "conversations_select": case "channels_select": {
      const opts = e.type === "static_select" ? optionsOf(e) : e.type === "users_select" ? people() : conversations();
      const initial = e.type === "static_select" ? (e.initial_option || {}).value
        : e.initial_user || e.initial_conversation || e.initial_channel;
      const select = el("select", {class: "bk-select", "data-action-id": e.action_id},
        el("option", {value: ""}, plain(e.placeholder) || "Select an item"),
        e.option_groups && e.type === "static_select"
          ? e.option_groups.map((g) => el("optgroup", {label: plain(g.label)}, (g.options || []).map((o) => el("option", {value: o.value}, plain(o.text)))))
          : opts.map((o) => el("option", {value: o.value}, plain(o.text))));
      const typed = getTyped(key);
      select.value = typed !== undefined ? typed : initial || "";
      select.addEventListener("change", async () => {
        const option = opts.find((o) => o.value === select.value) || null;
        setTyped(key, select.value, valueOf(e, option));
        if (!dispatch || !option) return;
        if (e.confirm && !(await confirmDialog(e.confirm))) return;
        if (e.type === "static_select") act({selected_option: option});
        else act({values: modalValues()});
      });
      if (select.value && getValue(key) === undefined) setTyped(key, select.value, valueOf(e, opts.find((o) => o.value === select.value)));
      return select;
    }
    case "multi_static_select": case "multi_users_select": case "multi_conversations_select": case "multi_channels_select": {
      const opts = e.type === "multi_static_select" ? optionsOf(e) : e.type === "multi_users_select" ? people() : conversations();
      const initial = new Set((e.initial_options || []).map((o) => o.value).concat(e.initial_users || e.initial_conversations || e.initial_channels || []));
      const select = el("select", {class: "bk-select", multiple: true, size: Math.min(6, opts.length || 1), "data-action-id": e.action_id},
        opts.map((o) => el("option", {value: o.value, selected: initial.has(o.value)}, plain(o.text))));
      const remember = () => {
        const chosen = opts.filter((o) => [...select.selectedOptions].some((s) => s.value === o.value));
        setTyped(key, chosen.map((o) => o.value).join("\n"), valueOf(e, chosen));
      };
      const typed = getTyped(key);
      if (typed !== undefined) for (const option of select.options) option.selected = typed.split("\n").includes(option.value);
      remember();
      select.addEventListener("change", () => { remember(); if (dispatch && !inInput) act({values: modalValues()}); });
      return select;
    }
    case "external_select": case "multi_external_select": return externalSelect(e, block, ctx, key, dispatch);
    case "plain_text_input": case "email_text_input": case "url_text_input": case "number_input": case "rich_text_input": {
      const type = {email_text_input: "email", url_text_input: "url", number_input: "text"}[e.type] || "text";
      const multiline = e.multiline || e.type === "rich_text_input";
      const initial = e.type === "rich_text_input" ? richToText(e.initial_value) : e.initial_value;
      const input = multiline ? el("textarea", {class: "bk-input", rows: 4, "data-action-id": e.action_id, placeholder: plain(e.placeholder)})
        : el("input", {class: "bk-input", type, "data-action-id": e.action_id, placeholder: plain(e.placeholder),
                       inputmode: e.type === "number_input" ? (e.is_decimal_allowed ? "decimal" : "numeric") : null});
      if (e.max_length) input.maxLength = e.max_length;
      const typed = getTyped(key);
      input.value = typed !== undefined ? typed : initial || "";
      const remember = () => setTyped(key, input.value, valueOf(e, input.value));
      remember();
      input.addEventListener("input", remember);
      if (dispatch && inInput) input.addEventListener("keydown", (ev) => { if (ev.key === "Enter" && !multiline) { ev.preventDefault(); act({values: modalValues()}); } });
      return input;
    }
    case "checkboxes": case "radio_buttons": {
      const multi = e.type === "checkboxes";
      const initial = new Set(multi ? (e.initial_options || []).map((o) => o.value) : [(e.initial_option || {}).value]);
      const typed = getTyped(key);
      const chosen = typed !== undefined ? new Set(typed.split("\n")) : initial;
      const name = `${block.block_id}-${e.action_id}`;
      const box = el("div", {"data-action-id": e.action_id});
      const remember = () => {
        const picked = optionsOf(e).filter((o, i) => box.querySelectorAll("input")[i].checked);
        setTyped(key, picked.map((o) => o.value).join("\n"), valueOf(e, multi ? picked : picked[0] || null));
      };
      optionsOf(e).forEach((o) => {
        const input = el("input", {type: multi ? "checkbox" : "radio", name, value: o.value, checked: chosen.has(o.value)});
        input.addEventListener("change", () => { remember(); if (dispatch) act(inInput ? {values: modalValues()} : {selected_option: o}); });
        box.append(el("label", {class: "choice"}, input, " ", el("span", {html: textHtml(o.text)}), o.description ? el("span", {class: "desc"}, plain(o.description)) : null));
      });
      remember();
      return box;
    }
    case "datepicker": case "timepicker": {
      const input = el("input", {class: "bk-input", type: e.type === "datepicker" ? "date" : "time", "data-action-id": e.action_id});
      const typed = getTyped(key);
      input.value = typed !== undefined ? typed : e.initial_date || e.initial_time || "";
      const remember = () => setTyped(key, input.value, valueOf(e, input.value));
      remember();
      input.addEventListener("change", () => { remember(); if (dispatch) act({values: modalValues()}); });
      return input;
    }
    case "file_input": {
      const input = el("input", {type: "file", class: "bk-input", "data-action-id": e.action_id, multiple: (e.max_files || 1) > 1,
                                 accept: (e.filetypes || []).map((t) => "." + t).join(",") || null});
      const note = el("div", {class: "hint"});
      const previous = getValue(key);
      if (previous && previous.files && previous.files.length) note.textContent = "Attached: " + previous.files.map((f) => f.name).join(", ");
      else setTyped(key, "", {type: "file_input", files: []});
      input.addEventListener("change", async () => {
        const files = [];
        for (const file of input.files) {
          const data = await api("/api/upload", {filename: file.name, content: await base64(file), share: false});
          if (data.ok) files.push(data.file);
        }
        setTyped(key, files.map((f) => f.id).join("\n"), {type: "file_input", files});
        note.textContent = files.length ? "Attached: " + files.map((f) => f.name).join(", ") : "";
      });
      return el("div", {}, input, note);
    }
    default: return el("span", {class: "meta"}, `(${e.type})`);
  }
}

function richToText(value) {
  if (!value) return "";
  return (value.elements || []).map((s) => (s.elements || []).map((e) => e.text || "").join("")).join("\n");
}

function valueOf(e, v) {
  const t = e.type;
  if (["plain_text_input", "email_text_input", "url_text_input", "number_input"].includes(t)) return {type: t, value: v === "" ? null : v};
  if (t === "rich_text_input") return {type: t, rich_text_value: {type: "rich_text", elements: [{type: "rich_text_section", elements: v ? [{type: "text", text: v}] : []}]}};
  if (t === "static_select" || t === "external_select" || t === "radio_buttons") return {type: t, selected_option: v || null};
  if (t === "multi_static_select" || t === "multi_external_select" || t === "checkboxes") return {type: t, selected_options: v || []};
  if (t === "users_select") return {type: t, selected_user: v ? v.value : null};
  if (t === "conversations_select") return {type: t, selected_conversation: v ? v.value : null};
  if (t === "channels_select") return {type: t, selected_channel: v ? v.value : null};
  if (t === "multi_users_select") return {type: t, selected_users: (v || []).map((o) => o.value)};
  if (t === "multi_conversations_select") return {type: t, selected_conversations: (v || []).map((o) => o.value)};
  if (t === "multi_channels_select") return {type: t, selected_channels: (v || []).map((o) => o.value)};
  if (t === "datepicker") return {type: t, selected_date: v || null};
  if (t === "timepicker") return {type: t, selected_time: v || null};
  return {type: t, value: v};
}

function externalSelect(e, block, ctx, key, dispatch) {
  const multi = e.type === "multi_external_select";
  const wrap = el("div", {class: "external"});
  const input = el("input", {class: "bk-input", type: "search", placeholder: plain(e.placeholder) || "Type to search", "data-action-id": e.action_id});
  const list = el("div", {class: "options", hidden: true});
  const chosen = el("div", {class: "chosen"});
  let picked = multi ? (e.initial_options || []) : (e.initial_option ? [e.initial_option] : []);
  const prior = getValue(key);
  if (prior) picked = multi ? prior.selected_options || [] : (prior.selected_option ? [prior.selected_option] : []);
  const show = () => { chosen.textContent = picked.length ? "Chosen: " + picked.map((o) => plain(o.text)).join(", ") : ""; };
  const remember = () => setTyped(key, picked.map((o) => o.value).join("\n"), valueOf(e, multi ? picked : picked[0] || null));
  remember(); show();
  let timer = null;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const data = await api("/api/suggest", {...surfaceOf(ctx), block_id: block.block_id, action_id: e.action_id, query: input.value});
      list.replaceChildren(...(data.options || []).map((o) => el("button", {type: "button", onclick: async () => {
        picked = multi ? [...picked.filter((p) => p.value !== o.value), o] : [o];
        list.hidden = true; input.value = ""; remember(); show();
        if (dispatch && !ctx.modal) await sendAction(ctx, block, e, {selected_option: o});
        else if (dispatch && block.dispatch_action) await sendAction(ctx, block, e, {selected_option: o, values: modalValues()});
      }}, plain(o.text))));
      if (!(data.options || []).length && input.value.length >= (e.min_query_length ?? 3)) list.replaceChildren(el("div", {class: "meta", style: "padding:6px 10px"}, "No matches"));
      list.hidden = input.value.length < (e.min_query_length ?? 3);
    }, 150);
  });
  wrap.append(input, list, chosen);
  return wrap;
}

function base64(file) {
  return new Promise((resolve) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",")[1] || "");
    reader.readAsDataURL(file);
  });
}

// -- what is typed in the modal ------------------------------------------------------------------
const typedKey = ([blockId, actionId]) => `${blockId}\u0000${actionId}`;
function getTyped(key) { const v = ui.modalValues[typedKey(key)]; return v ? v.raw : undefined; }
function getValue(key) { const v = ui.modalValues[typedKey(key)]; return v ? v.value : undefined; }
function setTyped(key, raw, value) { ui.modalValues[typedKey(key)] = {raw, value, key}; }
function modalValues() {
  const values = {};
  const modal = ui.state && ui.state.modal;
  if (!modal) return values;
  const inputs = new Set((modal.blocks || []).filter((b) => b.type === "input").map((b) => `${b.block_id}\u0000${b.element.action_id}`));
  for (const [k, v] of Object.entries(ui.modalValues)) {
    if (!inputs.has(k)) continue;
    const [blockId, actionId] = v.key;
    (values[blockId] = values[blockId] || {})[actionId] = v.value;
  }
  return values;
}

function surfaceOf(ctx) {
  return ctx.view_id ? {kind: ctx.kind, view_id: ctx.view_id} : {kind: ctx.kind, ts: ctx.ts, channel: ctx.channel};
}

async function sendAction(ctx, block, element, extra = {}) {
  const body = {...surfaceOf(ctx), block_id: block.block_id, action_id: element.action_id, ...extra};
  if (ctx.modal && body.values === undefined) body.values = modalValues();
  return api("/api/action", body);
}

function renderInput(b, ctx) {
  const errors = (ui.state.modal && ui.state.modal.errors) || {};
  const error = errors[b.block_id];
  return el("div", {class: `input-block ${error ? "has-error" : ""}`, "data-block-id": b.block_id},
    el("label", {class: "input-label"}, plain(b.label), b.optional ? el("span", {class: "optional"}, " (optional)") : null),
    renderElement(b.element || {}, b, ctx, true),
    error ? el("div", {class: "error", role: "alert"}, error) : null,
    b.hint ? el("div", {class: "hint"}, plain(b.hint)) : null);
}

function confirmDialog(confirm) {
  return new Promise((resolve) => {
    const close = (answer) => { root.replaceChildren(); resolve(answer); };
    const root = $("#dialog-root");
    const yes = el("button", {type: "button", class: `btn ${confirm.style === "danger" ? "danger" : "primary"}`, onclick: () => close(true)}, plain(confirm.confirm) || "Yes");
    root.replaceChildren(el("div", {class: "backdrop", onclick: (ev) => { if (ev.target === ev.currentTarget) close(false); }},
      el("div", {class: "dialog", role: "alertdialog"}, el("h3", {}, plain(confirm.title) || "Are you sure?"),
        el("div", {class: "text", html: textHtml(confirm.text)}),
        el("div", {class: "actions"}, el("button", {type: "button", class: "btn", onclick: () => close(false)}, plain(confirm.deny) || "Cancel"), yes))));
    yes.focus();
  });
}

// -- messages, threads, files -----------------------------------------------------------------
function who(m) {
  const names = ui.state.names || {};
  if (m.kind === "note" && m.by !== "bot") return "Slackbot";
  if (m.bot || m.user === ui.state.bot || m.kind) return "Pluto Bot";
  return names[m.user] || m.user;
}

function renderFile(f) {
  const url = `/api/file/${encodeURIComponent(f.id)}`;
  const isImage = (f.mimetype || "").startsWith("image/");
  const node = el("div", {class: "file", "data-file": f.name},
    el("div", {class: "file-head"}, el("div", {class: "file-icon"}, (f.filetype || "file").toUpperCase().slice(0, 4)),
      el("div", {}, el("div", {class: "file-name"}, f.title || f.name), el("div", {class: "file-sub"}, `${f.name} · ${(f.size || 0).toLocaleString()} bytes`)),
      el("div", {class: "file-actions"},
        f.table ? el("button", {type: "button", class: "btn", onclick: () => openTable(f)}, "Open") : null,
        el("a", {class: "btn", href: `${url}?download=1`, download: f.name}, "Download"))));
  if (isImage) node.append(el("img", {src: url, alt: f.alt_txt || f.title || f.name, title: f.alt_txt || ""}));
  return node;
}

function openTable(f) {
  const rows = f.table.rows || [];
  const table = el("table", {class: "csv"}, el("thead", {}, el("tr", {}, (rows[0] || []).map((c) => el("th", {}, c)))),
    el("tbody", {}, rows.slice(1).map((r) => el("tr", {}, r.map((c) => el("td", {title: c}, c))))));
  const more = f.table.total > rows.length - 1 ? el("div", {class: "meta"}, `First ${rows.length - 1} of ${f.table.total} rows`) : null;
  const close = () => $("#dialog-root").replaceChildren();
  $("#dialog-root").replaceChildren(el("div", {class: "backdrop", onclick: (ev) => { if (ev.target === ev.currentTarget) close(); }},
    el("div", {class: "modal", role: "dialog", "aria-label": f.name, style: "width: 860px"},
      el("header", {}, el("h2", {}, f.name), el("button", {type: "button", class: "icon", "aria-label": "Close", onclick: close}, "✕")),
      el("div", {class: "modal-body", style: "overflow:auto"}, table, more))));
}

function renderMessage(m, replies) {
  const kind = m.kind || "message";
  const ctx = {kind, ts: m.ts, channel: ui.channel};
  const bot = kind !== "message" || m.bot || m.user === ui.state.bot;
  const name = who(m);
  const node = el("div", {class: `message ${kind !== "message" ? "ephemeral" : ""}`, "data-ts": m.ts, "data-kind": kind},
    el("div", {class: `avatar ${bot ? "bot" : ""}`}, name.slice(0, 1)),
    el("div", {class: "content"},
      kind !== "message" ? el("div", {class: "only-you"}, "Only visible to you") : null,
      el("div", {class: "meta"}, el("span", {class: "who"}, name), bot ? el("span", {class: "app-tag"}, "APP") : null,
        new Date(Number(m.ts) * 1000).toLocaleTimeString([], {hour: "numeric", minute: "2-digit"}),
        m.edited ? el("span", {class: "edited"}, " (edited)") : null),
      (m.blocks || []).length ? renderBlocks(m.blocks, ctx) : el("div", {class: "text", html: mrkdwn(m.text)}),
      (m.files || []).map(renderFile),
      replies ? el("div", {class: "replies"}, el("button", {type: "button", onclick: () => openThread(m.ts)},
        `${replies} repl${replies === 1 ? "y" : "ies"}`)) : null));
  return node;
}

function openThread(ts) { ui.thread = ts; render(); }

function keepScroll(container, fill) {
  const atBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 40;
  const top = container.scrollTop;
  fill();
  container.scrollTop = atBottom ? container.scrollHeight : top;
}

function render() {
  const s = ui.state;
  renderSidebar(s);
  renderPanel(s);
  const channel = s.channels.find((c) => c.id === ui.channel) || {name: ui.channel, kind: "channel"};
  const isApp = channel.kind === "dm";
  $("#conversation-title").textContent = isApp ? "Pluto Bot" : `${channel.kind === "private" ? "🔒" : "#"} ${channel.name}`;
  $("#tabs").hidden = !isApp;
  if (!isApp) ui.tab = "messages";
  $("#tab-home").classList.toggle("active", ui.tab === "home");
  $("#tab-messages").classList.toggle("active", ui.tab === "messages");
  const showHome = isApp && ui.tab === "home";
  $("#home").hidden = !showHome;
  $("#messages").hidden = showHome;
  $("#composer").hidden = showHome;
  $("#composer-input").placeholder = isApp ? "Message Pluto Bot" : `Message #${channel.name}`;
  if (showHome) {
    $("#home").replaceChildren(s.home ? renderBlocks(s.home.blocks, {kind: "home", view_id: s.home.id}) : el("div", {class: "empty"}, "Loading the Home tab…"));
  }
  const top = [], threads = {};
  for (const m of s.messages) {
    if (m.thread_ts && m.thread_ts !== m.ts) (threads[m.thread_ts] = threads[m.thread_ts] || []).push(m);
    else top.push(m);
  }
  const privateTop = s.private.filter((p) => !p.thread_ts);
  const main = [...top, ...privateTop].sort((a, b) => Number(a.ts) - Number(b.ts));
  keepScroll($("#messages"), () => $("#messages").replaceChildren(...(main.length ? main.map((m) => renderMessage(m, !m.kind && (threads[m.ts] || []).length))
    : [el("div", {class: "empty"}, "Nothing here yet. Type /pluto help, or drop a CSV below.")])));
  const thread = $("#thread");
  thread.hidden = !ui.thread;
  if (ui.thread) {
    const parent = s.messages.find((m) => m.ts === ui.thread);
    const replies = [...(threads[ui.thread] || []), ...s.private.filter((p) => p.thread_ts === ui.thread)]
      .sort((a, b) => Number(a.ts) - Number(b.ts));
    $("#thread-where").textContent = isApp ? "Pluto Bot" : `#${channel.name}`;
    keepScroll($("#thread-messages"), () => $("#thread-messages").replaceChildren(
      ...(parent ? [renderMessage(parent), el("div", {class: "reply-count"}, `${(threads[ui.thread] || []).length} replies`)] : []),
      ...replies.map((m) => renderMessage(m))));
  }
  renderModal(s.modal);
}

function renderSidebar(s) {
  const list = $("#channel-list");
  list.replaceChildren(...s.channels.filter((c) => c.kind !== "dm").map((c) => el("li", {}, el("button", {
    type: "button", class: c.id === ui.channel ? "active" : "", "data-channel": c.id,
    onclick: () => { ui.channel = c.id; ui.thread = null; refresh(); }}, `${c.kind === "private" ? "🔒" : "#"} ${c.name}`))));
  const dm = s.channels.find((c) => c.kind === "dm");
  $("#app-list").replaceChildren(el("li", {}, el("button", {type: "button", class: dm && dm.id === ui.channel ? "active" : "", "data-channel": "app",
    onclick: () => { ui.channel = appChannel(); ui.thread = null; openTab("home"); }}, "Pluto Bot")));
  $("#acting-name").textContent = (s.people.find((p) => p.id === ui.user) || {name: ui.user}).name;
  if (s.workspace) renderWorkspace(s.workspace);
}

// One column of several workspaces: its name, whether the bot is installed there, and Uninstall / Install.
function renderWorkspace(w) {
  document.body.classList.add("column");
  document.title = `${w.name} · Pluto Bot sandbox`;
  const head = $("#sidebar .workspace");
  head.dataset.team = w.id;
  head.replaceChildren(w.name, el("span", {class: "sub"}, w.installed ? "Pluto Bot installed (OAuth)" : "Pluto Bot not installed"));
  let box = $("#workspace-install");
  if (!box) {
    box = el("div", {id: "workspace-install", class: "panel-buttons"});
    $("#panel .panel-buttons").after(box);
  }
  const verb = w.installed ? "uninstall" : "install";
  if (box.dataset.verb !== verb) {
    box.dataset.verb = verb;
    box.replaceChildren(el("button", {type: "button", class: w.installed ? "danger" : "", onclick: () => sim({do: verb}, "/api/workspace")},
      w.installed ? `Uninstall Pluto Bot from ${w.name}` : `Install Pluto Bot in ${w.name}`));
  }
}

function renderPanel(s) {
  const acting = $("#acting-user");
  if (acting.options.length !== s.people.length) {
    acting.replaceChildren(...s.people.map((p) => el("option", {value: p.id}, p.name)));
  }
  acting.value = ui.user;
  $("#links").replaceChildren(...(s.links.length ? s.links.map((l) => el("li", {"data-label": l.label},
    el("span", {class: "label", title: l.id}, l.label || l.id), el("span", {class: "status"}, l.session ? "session" : l.status),
    el("button", {type: "button", onclick: () => sim({do: "complete", link: l.id})}, "Complete"),
    el("button", {type: "button", onclick: () => sim({do: "fail", link: l.id})}, "Fail")))
    : [el("li", {class: "meta"}, "No voice links yet: /voicelink create makes some.")]));
  const firstOpen = s.tour.findIndex((t) => !t.done);
  $("#tour").replaceChildren(...s.tour.map((t, i) => el("li", {class: t.done ? "done" : i === firstOpen ? "current" : ""},
    el("div", {class: "title"}, t.title),
    i === firstOpen ? el("div", {class: "explain"}, t.explain) : null,
    i === firstOpen && t.hint ? el("div", {class: "hint"}, t.hint) : null,
    t.done ? el("div", {class: "note"}, t.done) : null)));
}

let shownModal = null;
function renderModal(modal) {
  const root = $("#modal-root");
  if (!modal) { root.replaceChildren(); ui.modalKey = null; ui.modalValues = {}; ui.valuesByView = {}; shownModal = null; return; }
  const key = `${modal.id}:${modal.hash}:${JSON.stringify(modal.errors || {})}`;
  if (key === ui.modalKey) return;  // typed values live in the DOM; nothing changed
  // Each view of the stack keeps what was typed in it: back from a pushed view, the form is as it was left.
  ui.valuesByView = ui.valuesByView || {};
  ui.modalValues = ui.valuesByView[modal.id] = ui.valuesByView[modal.id] || {};
  // As Slack keeps typed values across an update only for inputs the new version still has (the same
  // block_id and action_id): a form that went elsewhere and back (a refused file, then step 1) starts empty.
  const inputs = new Set((modal.blocks || []).filter((b) => b.type === "input").map((b) => typedKey([b.block_id, (b.element || {}).action_id])));
  for (const k of Object.keys(ui.modalValues)) if (!inputs.has(k)) delete ui.modalValues[k];
  ui.modalKey = key; shownModal = modal;
  const ctx = {kind: "view", view_id: modal.id, modal: true};
  const close = el("button", {type: "button", class: "btn", onclick: () => api("/api/close", {view_id: modal.id})}, plain(modal.close) || "Cancel");
  const submit = modal.submit ? el("button", {type: "submit", class: "btn primary"}, plain(modal.submit)) : null;
  const form = el("form", {class: "modal", role: "dialog", "aria-label": plain(modal.title), onsubmit: async (ev) => {
    ev.preventDefault();
    // As Slack's client does: a required input left empty is flagged here, and nothing is sent.
    let missing = false;
    for (const b of modal.blocks || []) {
      if (b.type !== "input" || b.optional) continue;
      const value = getValue([b.block_id, (b.element || {}).action_id]);
      const filled = value && Object.entries(value).some(([k, v]) => k !== "type" && v !== null && v !== "" && !(Array.isArray(v) && !v.length));
      const box = form.querySelector(`.input-block[data-block-id="${CSS.escape(b.block_id)}"]`);
      if (!box) continue;
      const old = box.querySelector(".error.required");
      if (old) old.remove();
      box.classList.toggle("has-error", !filled);
      if (!filled) { missing = true; box.append(el("div", {class: "error required", role: "alert"}, "Please complete this required field.")); }
    }
    if (missing) return;
    if (submit) submit.disabled = true;
    const data = await api("/api/submit", {view_id: modal.id, values: modalValues()});
    if (submit) submit.disabled = false;
    if (data.ok && data.outcome === "rejected") toast("Slack refused the bot's answer: " + (data.problems || []).join("; "));
    refresh();  // errors under the fields, an updated or pushed view, or the modal gone
  }},
  el("header", {}, el("h2", {}, plain(modal.title)), modal.depth > 1 ? el("span", {class: "stack-depth"}, `${modal.depth} of ${modal.depth}`) : null,
    el("button", {type: "button", class: "icon", "aria-label": "Close", onclick: () => api("/api/close", {view_id: modal.id})}, "✕")),
  el("div", {class: "modal-body"}, renderBlocks(modal.blocks, ctx)),
  el("footer", {}, close, submit));
  root.replaceChildren(el("div", {class: "backdrop"}, form));
  const firstError = form.querySelector(".has-error .bk-input, .has-error .bk-select");
  if (firstError) firstError.focus();
}

// -- composer --------------------------------------------------------------------------------------
function setupComposer(form, input, threadOf) {
  const hints = form.querySelector(".hints");
  const showHints = () => {
    if (!hints || !ui.state) return;
    const text = input.value;
    if (!text.startsWith("/") || text.includes(" ")) { hints.hidden = true; return; }
    const matches = Object.entries(ui.state.commands).filter(([c]) => c.startsWith(text));
    hints.replaceChildren(...matches.map(([c, usage]) => el("button", {type: "button", onclick: () => { input.value = c + " "; hints.hidden = true; input.focus(); }},
      el("strong", {}, c), el("span", {class: "usage"}, usage))));
    hints.hidden = !matches.length;
  };
  input.addEventListener("input", showHints);
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); form.requestSubmit(); }
    if (ev.key === "Escape" && hints) hints.hidden = true;
  });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    if (hints) hints.hidden = true;
    await api("/api/post", {text, thread_ts: threadOf()});
  });
  for (const name of ["dragenter", "dragover"]) form.addEventListener(name, (ev) => { ev.preventDefault(); form.classList.add("dragging"); });
  form.addEventListener("dragleave", () => form.classList.remove("dragging"));
  form.addEventListener("drop", async (ev) => {
    ev.preventDefault();
    form.classList.remove("dragging");
    for (const file of ev.dataTransfer.files) {
      await api("/api/upload", {filename: file.name, content: await base64(file), text: input.value.trim() || "score", thread_ts: threadOf()});
    }
    input.value = "";
  });
}

async function sim(body, path = "/api/sim") {
  const data = await api(path, body);
  if (data.ok) $("#panel-said").textContent = data.said || "";
}

// The app's DM with the person acting now (the test bed names it D<user>), not with whoever the page last showed:
// a click that lands before the page has re-read the state for a new acting person still opens their own DM.
function appChannel() {
  return `D${ui.user}`;
}

function openTab(tab) {
  ui.tab = tab;
  if (tab === "home") api("/api/home", {});
  refresh();
}

function start() {
  setupComposer($("#composer"), $("#composer-input"), () => null);
  setupComposer($("#thread-composer"), $("#thread-input"), () => ui.thread);
  $("#thread-close").addEventListener("click", () => { ui.thread = null; render(); });
  $("#tab-home").addEventListener("click", () => openTab("home"));
  $("#tab-messages").addEventListener("click", () => openTab("messages"));
  $("#acting-user").addEventListener("change", (ev) => {
    const inApp = ui.channel === appChannel();
    ui.user = ev.target.value; localStorage.setItem(USER_KEY, ui.user); ui.modalValues = {};
    if (inApp) ui.channel = appChannel();  // the app's DM is the acting person's own
    refresh();
  });
  $("#use-example").addEventListener("click", () => api("/api/upload", {example: true, text: "score", thread_ts: null}));
  $("#pluto-fail").addEventListener("click", () => sim({do: "pluto-fail"}));
  $("#clock").addEventListener("click", () => sim({do: "clock", hours: 1}));
  $("#reset").addEventListener("click", async () => {
    if (!(await confirmDialog({title: {text: "Start over?"}, text: {type: "plain_text", text: "A new database and empty stand-ins, here and in the console."}, confirm: {text: "Reset"}, deny: {text: "Cancel"}, style: "danger"}))) return;
    const data = await api("/api/reset", {});
    if (data.ok) { ui.thread = null; $("#panel-said").textContent = data.said; }
  });
  document.addEventListener("click", (ev) => {
    for (const menu of document.querySelectorAll(".overflow .menu")) if (!menu.parentElement.contains(ev.target)) menu.hidden = true;
  });
  refresh();
  listen();
}

start();
