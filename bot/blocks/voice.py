"""Block Kit for voice links: the create modal, the channel card, private link delivery, lists and status."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ExternalDataSelectElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
)
from slack_sdk.models.blocks.block_elements import FileInputElement
from slack_sdk.models.views import View

from bot.blocks import (
    Message,
    Page,
    actions,
    button,
    clip,
    confirm_dialog,
    context,
    header,
    mrkdwn_escape,
    pager,
    section,
)
from bot.blocks.voice_watcher import evaluation_fields
from bot.blocks.when import ago, expiry, slack_date
from services.nimrobo import Evaluation, Project, SessionStatus, Summary, VoiceLink
from services.prompts import FIELDS, PATTERNS, SECTIONS
from services.records import CardLine, ChannelProject, LinkRef, PageRef, SessionRef, VoiceBatch
from services.transcripts import summary_parts
from services.voice.forms import EXPIRY_PRESETS, MAX_LABELS, evaluator_questions_text
from services.voice.links import EVERY_PROJECT

CREATE_MODAL = "voicelink_create"
EDIT_INSTANT_MODAL = "voicelink_edit_instant"
EDIT_PROJECT_MODAL = "voicelink_edit_project"
PROJECT_NEW_MODAL = "voicelink_project_new"
STUDY_SELECT = "voicelink_study"  # the research form's searchable select of projects
FIND_SELECT = "voicelink_project_find"  # /voicelink projects: open any project
NEW_STUDY = "new"
LABEL_FILETYPES = ["csv", "txt"]
# How the card names what was done with the project (``request["project_mode"]``).
PROJECT_MODES = {"new": "new project", "reuse": "existing project, kept as it was",
                 "update": "existing project, prompt and evaluator updated first", "existing": "existing project"}
SECTION_HINTS = {"goal": "What the conversation must achieve", "role": "Who the voice agent is",
                 "guidelines": "How to run the conversation", "constraints": "What it must never do; limits"}


def block_key(block_id: str) -> str:
    """Block ids carry a ``~version`` suffix so Slack refreshes initial values; strip it."""
    return block_id.split("~", 1)[0]


def read_values(state_values: dict[str, Any]) -> dict[str, str]:
    """Every input's value as a string by field name (a select's chosen value, a file input's file ids)."""
    out: dict[str, str] = {}
    for block_id, actions_ in state_values.items():
        for element in actions_.values():
            value = element.get("value")
            if value is None and element.get("selected_option"):
                value = element["selected_option"].get("value")
            if value is None and element.get("files"):
                value = ",".join(str(f.get("id", "")) for f in element["files"] if isinstance(f, dict))
            out[block_key(block_id)] = value or ""
    return out


def project_option(project: Project) -> Option:
    """A project in a searchable select: its name (Slack shows at most 75 characters), its id as the value."""
    return Option(value=project.id, label=clip(project.name or project.id, 75))


def project_options(projects: list[Project], *, new_study: bool = False, problem: str = "") -> dict[str, Any]:
    """The answer to a project select's ``block_suggestion``: at most 100 options (``problem``: one that says
    why there are none; its value starts with ``-`` and choosing it does nothing)."""
    options = [Option(value=NEW_STUDY, label="➕ New study")] if new_study else []
    if problem:
        options.append(Option(value="-unavailable", label=clip(problem, 75)))
    options += [project_option(p) for p in projects]
    return {"options": [o.to_dict() for o in options[:100]]}


def project_select(action_id: str, placeholder: str, chosen: tuple[str, str] | None = None,
                   ) -> ExternalDataSelectElement:
    """Slack's external select: the options come from the bot as the person types (``block_suggestion``)."""
    initial = Option(value=chosen[0], label=clip(chosen[1], 75)) if chosen else None
    return ExternalDataSelectElement(action_id=action_id, placeholder=clip(placeholder, 150), min_query_length=0,
                                     initial_option=initial)


def _text_input(key: str, v: int, label: str, value: str = "", *, multiline: bool = False, optional: bool = False,
                placeholder: str | None = None, hint: str | None = None) -> InputBlock:
    return InputBlock(block_id=f"{key}~{v}", label=label, optional=optional, hint=hint,
                      element=PlainTextInputElement(action_id=key, multiline=multiline, initial_value=value or None,
                                                    placeholder=placeholder))


def _options(mapping: dict[str, str]) -> list[Option]:
    return [Option(value=k, label=v) for k, v in mapping.items()]


def _labels_file(v: int) -> InputBlock:
    return InputBlock(block_id=f"labels_file~{v}", label="…or a file of names (CSV or text)", optional=True,
                      hint=f"One name a line, or a CSV with a name column; up to {MAX_LABELS:,}. Duplicates and "
                           "empty names are shown to you before anything is created.",
                      element=FileInputElement(action_id="labels_file", filetypes=LABEL_FILETYPES, max_files=1))


def create_modal(channel: str, pattern: str = "interview", values: dict[str, str] | None = None, v: int = 1,
                 note: str = "", ai: bool = False, *, study: tuple[str, str] | None = None,
                 default: ChannelProject | None = None, meta: dict[str, Any] | None = None,
                 title: str = "Create voice links", submit: str = "Create") -> View:
    """The create form. ``study`` (id, name): research links added to that existing project as it is, so only
    the labels and the expiry are asked. ``default``: the channel's default project, named at the top.
    ``meta`` rides along in ``private_metadata`` (e.g. the scoring run a "Voice-screen top N" form belongs to)
    and survives every rebuild of the form."""
    values = values or {}
    options = _options(PATTERNS)
    chosen = next(o for o in options if o.value == pattern)
    blocks: list[Any] = [
        section("*Pattern*: interview = one project per role, one link per candidate · research = one project "
                "per study, one link per interview · instant = links with their own prompt, no project."),
        ActionsBlock(block_id="pattern_pick", elements=[StaticSelectElement(
            action_id="voicelink_pattern", options=options, initial_option=chosen, placeholder="Pattern")]),
    ]
    if default is not None:
        blocks.append(context(f"This channel's default project is *{mrkdwn_escape(default.project_name)}* "
                              "(`/voicelink use`)."))
    if pattern == "interview":
        blocks.append(_text_input("name", v, "Job title", values.get("name", ""), placeholder="e.g. Backend Engineer",
                                  hint="The role you are hiring for. If its voice project exists, you choose what "
                                       "to do with it."))
        blocks.append(_text_input("labels", v, "Candidates (one name per line)", values.get("labels", ""),
                                  multiline=True, optional=True))
        blocks.append(_labels_file(v))
    elif pattern == "research":
        blocks.append(section("*Study*: add interviews to a running study, or start a new one.",
                              accessory=project_select(STUDY_SELECT, "Start a new study, or search your projects",
                                                       study or (NEW_STUDY, "New study"))))
        if study is None:
            blocks.append(_text_input("name", v, "New study", values.get("name", ""),
                                      placeholder="e.g. Onboarding study"))
        else:
            blocks.append(context(f"Adding interviews to *{mrkdwn_escape(study[1])}*; its prompt and evaluator "
                                  "stay as they are. Choose “New study” above to start another."))
        blocks.append(_text_input("labels", v, "Interview labels (one per line)", values.get("labels", ""),
                                  multiline=True, optional=True))
        blocks.append(_text_input("count", v, "…or a number of interviews", values.get("count", ""), optional=True,
                                  hint="Labels them Interview 1…n"))
        blocks.append(_labels_file(v))
    else:
        blocks.append(_text_input("labels", v, "Link labels (one per line)", values.get("labels", ""),
                                  multiline=True))
    if study is None:
        blocks += _prompt_inputs(pattern, values, v, note, ai, submit)
    blocks.append(InputBlock(block_id=f"expiry~{v}", label="Links expire after", element=StaticSelectElement(
        action_id="expiry", options=_options(EXPIRY_PRESETS),
        initial_option=next(o for o in _options(EXPIRY_PRESETS) if o.value == (values.get("expiry") or "1_week")))))
    if study is None:
        blocks += _evaluator_inputs(values, v)
    kept: dict[str, Any] = {**(meta or {}), "channel": channel, "pattern": pattern, "v": v}
    if study:
        kept["study"] = list(study)
    if default is not None:
        kept["default"] = [default.project_id, clip(default.project_name, 200)]
    return View(type="modal", callback_id=CREATE_MODAL, title=clip(title, 24), submit=clip(submit, 24),
                close="Cancel", private_metadata=json.dumps(kept), blocks=blocks)


def _prompt_inputs(pattern: str, values: dict[str, str], v: int, note: str, ai: bool,
                   submit: str = "Create") -> list[Any]:
    """The brief and draft button, the four prompt sections, the landing page and the time limit."""
    blocks: list[Any] = [
        _text_input("brief", v, "Job description or research brief (for drafting)", values.get("brief", ""),
                    multiline=True, optional=True),
        actions(button("Draft with AI" if ai else "Fill from template", "voicelink_draft", pattern),
                block_id="draft"),
    ]
    return blocks + _section_inputs(values, v, note, ai, submit) + [
        _text_input("landing_title", v, "Landing page title", values.get("landing_title", ""), optional=True),
        _text_input("landing_info", v, "Landing page info", values.get("landing_info", ""), multiline=True,
                    optional=True),
        _text_input("time_limit", v, "Time limit (1–60 minutes)", values.get("time_limit", "10")),
    ]


def _section_inputs(values: dict[str, str], v: int, note: str, ai: bool, submit: str = "Create") -> list[Any]:
    """A new form's four prompt sections: optional, because left all empty they are drafted on submit
    (``drafts_on_submit``), as pressing the draft button would; the note says so until something is drafted."""
    how = "drafts them with AI from the brief" if ai else "fills them in from a template"
    blocks: list[Any] = [context(note or f"Or leave the four sections empty: *{submit}* {how}, for you to review "
                                         "first.")]
    for key, title in zip(FIELDS, SECTIONS, strict=True):
        blocks.append(_text_input(key, v, title, values.get(key, ""), multiline=True, optional=True,
                                  hint=SECTION_HINTS[key]))
    return blocks


def drafts_on_submit(values: dict[str, str]) -> bool:
    """The four sections are all empty: submitting the form drafts them instead of creating anything."""
    return not any((values.get(key) or "").strip() for key in FIELDS)


def services_default(meta: dict[str, Any]) -> ChannelProject | None:
    """The channel's default project as the create form was opened with it (kept in the form's metadata)."""
    found = meta.get("default")
    return ChannelProject(meta.get("channel", ""), found[0], found[1], "") if found else None


KEEP: Any = object()  # rebuild_create_modal: the study as the form had it


def _typed(view: dict[str, Any], extra: dict[str, str] | None) -> tuple[dict[str, Any], dict[str, str]]:
    """A submitted or acted-on form's metadata, and what was typed in it (``extra`` on top)."""
    meta = json.loads(view.get("private_metadata") or "{}")
    return meta, {**read_values((view.get("state") or {}).get("values") or {}), **(extra or {})}


def rebuild_create_modal(view: dict[str, Any], ai: bool, *, pattern: str | None = None,
                         extra: dict[str, str] | None = None, note: str = "", study: Any = KEEP) -> View:
    """The create modal rebuilt from what was typed in ``view`` (another pattern, a study, a draft, a note), one
    version on, so Slack shows the new initial values."""
    meta, values = _typed(view, extra)
    pattern = pattern or meta.get("pattern", "interview")
    default = services_default(meta)
    if study is KEEP:
        study = meta.get("study") if meta.get("pattern") == "research" else (
            (default.project_id, default.project_name) if default else None)
    kept = {k: v for k, v in meta.items() if k not in ("channel", "pattern", "v", "study", "default")}  # a run
    titles = {"title": view["title"]["text"], "submit": view["submit"]["text"]} if kept and view.get("submit") else {}
    return create_modal(meta.get("channel", ""), pattern, values, meta.get("v", 1) + 1, note, ai=ai,
                        study=tuple(study) if study and pattern == "research" else None, default=default, meta=kept,
                        **titles)


def rebuild_project_form(view: dict[str, Any], ai: bool, *, extra: dict[str, str] | None = None,
                         note: str = "") -> View:
    """``/voicelink project new``'s form rebuilt from what was typed, one version on."""
    meta, values = _typed(view, extra)
    return project_form(values=values, v=meta.get("v", 1) + 1, note=note, ai=ai, channel=meta.get("channel", ""))


def _evaluator_inputs(values: dict[str, str], v: int, optional_note: str = "") -> list[Any]:
    return [
        _text_input("eval_prompt", v, f"Evaluator prompt {optional_note}".strip(), values.get("eval_prompt", ""),
                    multiline=True, optional=True),
        _text_input("eval_questions", v, f"Evaluator questions {optional_note}".strip(),
                    values.get("eval_questions", ""), multiline=True, optional=True,
                    hint="One per line: `Communication | number` or `Notes | text`"),
    ]


def card_message(batch: VoiceBatch, lines: list[CardLine]) -> Message:
    """The channel card of a batch: its status lines, never a link's URL."""
    pattern = PATTERNS.get(batch.pattern, "Links for an existing project")
    created = sum(1 for line in lines if line.status != "not created")
    mode = PROJECT_MODES.get(batch.request.get("project_mode") or "")
    project = mrkdwn_escape(batch.project_name) + (f" ({mode})" if mode and batch.pattern != "instant" else "")
    expires = min((line.expires_at for line in lines if line.expires_at), default=None)
    fields = [f"*Project*\n{project}", f"*Pattern*\n{pattern}", f"*Links*\n{created} of {len(lines)}",
              f"*Expiry*\n{EXPIRY_PRESETS.get(batch.expiry_preset, '')}"
              + (f" · expires {ago(expires)}" if ago(expires) else "")]
    blocks: list[Any] = [header(f"Voice links · {clip(batch.project_name, 100)}"), section("", fields=fields)]
    rows = [f"• {mrkdwn_escape(line.label)} — {line.status}" for line in lines]
    chunk: list[str] = []
    for row in rows:
        if len("\n".join(chunk + [row])) > 2900 or len(blocks) >= 44:
            if len(blocks) >= 44:
                break
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(row)
    if chunk and len(blocks) < 45:
        blocks.append(section("\n".join(chunk)))
    shown = sum(b.text.text.count("\n• ") + 1 for b in blocks[2:] if getattr(b, "text", None))
    if shown < len(rows):
        blocks.append(context(f"…and {len(rows) - shown} more; see `/voicelink list`."))
    if batch.state in ("partial", "failed"):
        blocks.append(section(f":warning: {mrkdwn_escape(batch.error or 'Some links were not created.')}"))
        if batch.state == "partial":
            blocks.append(actions(button("Retry creating links", "voicelink_retry", batch.id, style="primary")))
    blocks.append(context(f"Created by <@{batch.creator}>. Links were sent to them privately."))
    return Message(text=f"Voice links for {batch.project_name}: {created} of {len(lines)} created", blocks=blocks)


def links_dm(batch: VoiceBatch, links: list[VoiceLink]) -> Message:
    """The links themselves (bearer secrets), for their creator only."""
    rows = [f"• *{mrkdwn_escape(link.label)}*: <{link.url}>" for link in links]
    expires = min((link.expires_at for link in links if link.expires_at), default=None)
    when = f" They expire {ago(expires)}." if ago(expires) else ""
    blocks: list[Any] = [section(f"Your voice links for *{mrkdwn_escape(batch.project_name)}* "
                                 f"({len(links)}). Each link is a secret: send it only to its participant.{when}")]
    chunk: list[str] = []
    for row in rows:
        if len("\n".join(chunk + [row])) > 2900:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(row)
    if chunk:
        blocks.append(section("\n".join(chunk)))
    text = f"Your {len(links)} voice links for {batch.project_name}"
    return Message(text=text, blocks=blocks[:50])


def link_line(link: VoiceLink) -> str:
    status = link.status if link.is_active or link.status in ("used", "expired", "cancelled") \
        else f"not active ({link.status})"
    until = expiry(link.expires_at)
    expires = (until if until.startswith("expired") else f"expires {until}") if until else "no expiry date"
    session = f" · session `{link.session_id}`" if link.session_id else ""
    return f"*{mrkdwn_escape(link.label)}* · {status} · {expires}{session} · `{link.id}` ({link.kind})"


LINKS_PER_PAGE = 15  # links on one page of /voicelink list


def links_page(links: Page, project: str, title: str = "", *, more: bool = False) -> Message:
    """A page of links; ``project`` is what was asked (the pager's key), ``title`` how to name it; ``more``: a
    button for every other project's links (asked for only when wanted: one listing per project)."""
    named = title or project
    blocks: list[Any] = [section(f"*Voice links*{' · ' + mrkdwn_escape(named) if named else ''} "
                                 f"({links.total})")]
    for link in links.items:
        accessory = None
        if link.kind == "project" and link.is_active:
            accessory = button("Cancel", "voicelink_cancel", LinkRef(link.project_id or "", link.id).to_value(),
                               style="danger",
                               confirm=confirm_dialog("Cancel this link?", f"{link.label} won't be able to use it."))
        elif link.kind == "instant" and link.is_active:
            accessory = button("Edit", "voicelink_edit_instant", link.id)
        blocks.append(section(link_line(link), accessory=accessory))
    blocks += pager(links, "voicelink_list", project)
    if not links.items:
        blocks.append(context("No links yet. Create some with `/voicelink create`."))
    if more:
        blocks.append(actions(button("Every project's links", "voicelink_list_all",
                                     PageRef(EVERY_PROJECT, 1).to_value())))
    return Message(text=f"{links.total} voice links", blocks=blocks)


def cancel_confirm(link: VoiceLink) -> Message:
    return Message(text=f"Cancel {link.label}?", blocks=[
        section(f"Cancel the link for *{mrkdwn_escape(link.label)}*? It stops working at once."),
        actions(button("Cancel link", "voicelink_cancel", LinkRef(link.project_id or "", link.id).to_value(),
                       style="danger",
                       confirm=confirm_dialog("Cancel this link?", "This cannot be undone.")))])


def projects_page(projects: list[Project], shown: int = 20) -> Message:
    """The account's projects: a searchable select to open any of them, then the most recently changed."""
    blocks: list[Any] = [section(f"*Voice projects* ({len(projects)})",
                                 accessory=project_select(FIND_SELECT, "Search your projects"))]
    recent = sorted(projects, key=lambda p: p.updated_at or p.created_at or "", reverse=True)[:shown]
    for project in recent:
        blocks.append(section(f"*{mrkdwn_escape(project.name)}* · `{project.id}` · {project.time_limit_minutes} min"
                              + (" · evaluator" if project.evaluator else "")
                              + (f" · changed {ago(project.updated_at)}" if ago(project.updated_at) else ""),
                              accessory=button("Details", "voicelink_project", project.id)))
    if len(projects) > shown:
        blocks.append(context(f"The {shown} most recently changed are shown; search above for the other "
                              f"{len(projects) - shown}."))
    if not projects:
        blocks.append(context("No projects yet. Create one with `/voicelink project new` or `/voicelink create`."))
    return Message(text=f"{len(projects)} voice projects", blocks=blocks)


def project_details(project: Project) -> Message:
    evaluator = project.evaluator or {}
    questions = ", ".join(q.get("label", "") for q in evaluator.get("questions", [])) or "none"
    return Message(text=f"Project {project.name}", blocks=[
        header(clip(project.name, 150)),
        section("", fields=[f"*Id*\n`{project.id}`", f"*Time limit*\n{project.time_limit_minutes} min",
                            f"*Description*\n{mrkdwn_escape(project.description) or '—'}",
                            f"*Landing title*\n{mrkdwn_escape(project.landing_page_title) or '—'}",
                            f"*Evaluator*\n{mrkdwn_escape(clip(evaluator.get('prompt', ''), 300)) or 'none'}",
                            f"*Evaluator questions*\n{mrkdwn_escape(questions)}",
                            f"*Created*\n{slack_date(project.created_at) or '—'}",
                            f"*Changed*\n{ago(project.updated_at) or '—'}"]),
        section(f"*Prompt*\n```{clip(project.prompt, 2800)}```"),
        actions(button("Edit", "voicelink_edit_project", project.id),
                button("Use in this channel", "voicelink_use_set", project.id))])


EXPIRY_KEEP = "keep"


def edit_instant_modal(link: VoiceLink, sections: dict[str, str]) -> View:
    """Every field the API lets an active instant link change: label, prompt, landing page, time limit, expiry
    (a new preset counts from now) and evaluator (set, change; both fields empty removes it)."""
    raw = link.raw
    evaluator = raw.get("evaluator") or None
    keep = Option(value=EXPIRY_KEEP, label=clip(f"Keep it ({_expiry_text(link.expires_at)})", 75))
    expiry = [keep] + [Option(value=k, label=f"{v} from now") for k, v in EXPIRY_PRESETS.items()]
    blocks: list[Any] = [_text_input("label", 1, "Label", link.label)]
    for key, title in zip(FIELDS, SECTIONS, strict=True):
        blocks.append(_text_input(key, 1, title, sections.get(key, ""), multiline=True))
    blocks += [_text_input("landing_title", 1, "Landing page title", raw.get("landingPageTitle", ""), optional=True),
               _text_input("landing_info", 1, "Landing page info", raw.get("landingPageInfo", ""), multiline=True,
                           optional=True),
               _text_input("time_limit", 1, "Time limit (1–60 minutes)", str(link.time_limit_minutes or 5)),
               InputBlock(block_id="expiry~1", label="Expiry", element=StaticSelectElement(
                   action_id="expiry", options=expiry, initial_option=keep))]
    blocks += _evaluator_inputs({"eval_prompt": (evaluator or {}).get("prompt", ""),
                                 "eval_questions": evaluator_questions_text(evaluator)}, 1, "")
    blocks.append(context("Empty both evaluator fields to remove the evaluator."))
    return View(type="modal", callback_id=EDIT_INSTANT_MODAL, title="Edit instant link", submit="Save",
                close="Cancel", private_metadata=link.id, blocks=blocks)


def _expiry_text(expires_at: str | None) -> str:
    """The exact expiry for an option label (plain text: Slack's date formatting works only in mrkdwn)."""
    return f"expires {expires_at[:16].replace('T', ' ')} UTC" if expires_at else "no expiry date"


def edit_project_modal(project: Project, sections: dict[str, str]) -> View:
    return project_form(project=project, values={
        "name": project.name, "description": project.description, **sections,
        "landing_title": project.landing_page_title, "landing_info": project.landing_page_info,
        "time_limit": str(project.time_limit_minutes), "eval_prompt": (project.evaluator or {}).get("prompt", ""),
        "eval_questions": evaluator_questions_text(project.evaluator)})


def project_form(*, project: Project | None = None, values: dict[str, str] | None = None, v: int = 1,
                 note: str = "", ai: bool = False, channel: str = "") -> View:
    """A project's every field: name, description, the four prompt sections, landing page, time limit and
    evaluator. New (``project`` None): with a brief and AI drafting or a template. Edit: prefilled; both
    evaluator fields emptied removes the evaluator."""
    values = values or {}
    blocks: list[Any] = [
        _text_input("name", v, "Name", values.get("name", ""), placeholder="e.g. Backend Engineer"),
        _text_input("description", v, "Description", values.get("description", ""), multiline=True, optional=True),
    ]
    if project is None:
        blocks.append(_text_input("brief", v, "Job description or research brief (for drafting)",
                                  values.get("brief", ""), multiline=True, optional=True))
        verb = "Draft with AI" if ai else "Fill from template"
        blocks.append(actions(button(f"{verb}: interview", "voicelink_project_draft", "interview"),
                              button(f"{verb}: research", "voicelink_project_draft_research", "research"),
                              block_id="draft"))
        blocks += _section_inputs(values, v, note, ai, submit="Create")
    else:
        if note:
            blocks.append(context(note))
        for key, title in zip(FIELDS, SECTIONS, strict=True):
            blocks.append(_text_input(key, v, title, values.get(key, ""), multiline=True, hint=SECTION_HINTS[key]))
    blocks += [
        _text_input("landing_title", v, "Landing page title", values.get("landing_title", ""), optional=True),
        _text_input("landing_info", v, "Landing page info", values.get("landing_info", ""), multiline=True,
                    optional=True),
        _text_input("time_limit", v, "Time limit (1–60 minutes)", values.get("time_limit", "10")),
    ]
    blocks += _evaluator_inputs(values, v)
    if project is not None:
        blocks.append(context("Empty both evaluator fields to remove the evaluator."))
        return View(type="modal", callback_id=EDIT_PROJECT_MODAL, title="Edit project", submit="Save",
                    close="Cancel", private_metadata=project.id, blocks=blocks)
    return View(type="modal", callback_id=PROJECT_NEW_MODAL, title="New voice project", submit="Create",
                close="Cancel", private_metadata=json.dumps({"channel": channel, "v": v}), blocks=blocks)


def session_message(status: SessionStatus, ref: SessionRef, project_name: str = "") -> Message:
    who = f" · {mrkdwn_escape(ref.label)}" if ref.label else ""
    value = ref.to_value()
    finished = "finished" if status.is_finished else "not finished"
    project = f" · project *{mrkdwn_escape(project_name)}*" if project_name and not ref.instant else \
        (" · instant link" if ref.instant else "")
    return Message(text=f"Session {status.session_id}: {status.status}", blocks=[
        section(f"*Session* `{status.session_id}`{who}\nStatus: *{status.status}* ({finished}){project}"
                + (f" · completed {slack_date(status.completed_at)}" if slack_date(status.completed_at) else "")),
        actions(button("Transcript (text)", "voicelink_transcript", value),
                button("Transcript (JSON)", "voicelink_transcript_json", value),
                button("Audio", "voicelink_audio", value), button("Evaluation", "voicelink_evaluation", value),
                button("Summary", "voicelink_summary", value))])


def summary_message(summary: Summary, ref: SessionRef) -> Message:
    value = ref.to_value()
    if summary.raw.get("repeat"):
        text = (f"A new summary was asked for {ago(summary.raw.get('asked_at'))}; Nimrobo is writing "
                "it. Refresh in a minute instead of asking again.")
        return Message(text="The summary is being regenerated.", blocks=[
            section(f":hourglass_flowing_sand: {text}"), actions(button("Refresh", "voicelink_summary", value))])
    if summary.generating:
        what = "regenerated" if summary.raw.get("asked_at") else "generated"
        return Message(text=f"The summary is being {what}.", blocks=[
            section(f":hourglass_flowing_sand: The summary is being {what}. Ask again in a minute."),
            actions(button("Refresh", "voicelink_summary", value))])
    parts = summary_parts(summary.summary)
    overview = parts.overview or "Nimrobo returned no summary."
    lines = [f"*Summary*\n{mrkdwn_escape(overview)}"] + [f"• {mrkdwn_escape(p)}" for p in parts.points[:20]]
    return Message(text=f"Summary: {overview}", blocks=[section("\n".join(lines)),
                                                    actions(button("Regenerate", "voicelink_regenerate", value))])


def evaluation_message(evaluation: Evaluation) -> Message:
    if evaluation.has_error:
        return Message(text="The evaluation failed.", blocks=[section(":warning: Nimrobo's evaluation failed.")])
    if not evaluation.ready:
        text = "No evaluation yet: it appears a little after the interview ends, and only with an evaluator."
        return Message(text=text, blocks=[section(text)])
    fields = evaluation_fields(evaluation.results, evaluation.questions)
    blocks: list[Any] = [section("*Evaluation*")]
    for i in range(0, min(len(fields), 400), 10):
        blocks.append(section("", fields=fields[i:i + 10]))
    return Message(text="Evaluation", blocks=blocks[:50])
