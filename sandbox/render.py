"""Plain-text rendering of Block Kit JSON, for the sandbox console and test failure output.

Headers are upper-cased and underlined, section fields read ``Label: value``, context lines
start with a dim ``·``, buttons show as ``[Label]`` (a link button as ``[Label ↗ url]``), selects
as ``[Label ▾]``, modal inputs as ``Label: ____``. Slack's mrkdwn is made readable:
links (``<https://x|Open>`` -> ``Open (https://x)``), mentions (``<@U1>`` -> ``@U1``), dates
(``<!date^1700000000^{date_short_pretty} at {time}|fallback>`` in this machine's time zone, as
Slack shows each reader theirs) and emoji names (``:white_check_mark:`` -> ✅).

A :class:`Renderer` has a style: ``raw`` keeps ``*bold*``, ``_italic_`` and ``~strike~`` markers
(the default, for test output), ``plain`` drops them, ``ansi`` shows them with terminal
attributes (bold, italic, strike-through, code in cyan).
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Any

import emoji

RULE = "─" * 40
_SHORTCODE = re.compile(r":([a-z0-9_+\-]+):")


def channel_name(channel_id: str) -> str:
    """The readable name the stand-in gives a channel id (``C_GENERAL`` -> ``general``)."""
    return channel_id.lower().removeprefix("c_").removeprefix("g_")


def _emoji(match: re.Match[str]) -> str:
    """A Slack emoji name the alias table lacks: by its CLDR name, or without Slack's ``large_`` prefix
    (``:large_green_circle:`` -> 🟢); an unknown name stays as typed."""
    name = match.group(1)
    for candidate in (name, name.removeprefix("large_")):
        for language in ("alias", "en"):
            shown = emoji.emojize(f":{candidate}:", language=language)
            if shown != f":{candidate}:":
                return shown
    return match.group(0)
STYLES = ("raw", "plain", "ansi")
# Slack's angle-bracket tokens: links, mailto, @user, #channel and !special mentions. Anything else in
# angle brackets is left as it is.
_LINK = re.compile(r"<((?:https?://|mailto:|[@#!])[^<>|\s]*)(?:\|([^<>]*))?>")
# <!date^UNIX^format[^link][|fallback]>; the format may hold spaces.
_DATE = re.compile(r"<!date\^(\d+)\^([^^|<>]*)(?:\^([^|<>]*))?(?:\|([^<>]*))?>")
_CODE = re.compile(r"```(.*?)```|`([^`\n]+)`", re.S)
_BOLD = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?!\s)([^_\n]+?)(?<!\s)_(?![\w_])")
_STRIKE = re.compile(r"(?<![\w~])~(?!\s)([^~\n]+?)(?<!\s)~(?![\w~])")
_HOLD = re.compile(r"\x00(\d+)\x00")
ANSI = {"bold": ("\x1b[1m", "\x1b[22m"), "italic": ("\x1b[3m", "\x1b[23m"), "strike": ("\x1b[9m", "\x1b[29m"),
        "code": ("\x1b[36m", "\x1b[39m"), "dim": ("\x1b[2m", "\x1b[22m"), "link": ("\x1b[4m", "\x1b[24m")}
SELECT_KINDS = ("static_select", "external_select", "users_select", "conversations_select", "channels_select",
                "multi_static_select", "multi_external_select", "multi_users_select",
                "multi_conversations_select", "multi_channels_select", "datepicker", "timepicker")


# -- dates ----------------------------------------------------------------------------------------
def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _ago(when: datetime, now: datetime) -> str:
    seconds = (when - now).total_seconds()
    future, seconds = seconds > 0, abs(seconds)
    amount = "a few seconds" if seconds < 45 else "a minute"  # 45-57 s: no unit below reaches it
    if seconds >= 45:
        for unit, size in (("year", 365 * 86400), ("month", 30 * 86400), ("day", 86400), ("hour", 3600),
                           ("minute", 60)):
            if seconds >= size * 0.95:
                count = max(1, round(seconds / size))
                amount = f"{count} {unit}" + ("s" if count != 1 else "")
                break
    return f"in {amount}" if future else f"{amount} ago"


def slack_date(timestamp: int, fmt: str, fallback: str = "", now: datetime | None = None) -> str:
    """A ``<!date^…>`` token as Slack shows it, in this machine's time zone."""
    try:
        when = datetime.fromtimestamp(int(timestamp)).astimezone()
    except (OverflowError, OSError, ValueError):
        return fallback or str(timestamp)
    now = now or datetime.now().astimezone()

    def pretty(base: str) -> str:
        days = (when.date() - now.date()).days
        return {0: "today", -1: "yesterday", 1: "tomorrow"}.get(days, base)

    hour = when.hour % 12 or 12
    ampm = "AM" if when.hour < 12 else "PM"
    date = f"{when:%B} {_ordinal(when.day)}, {when.year}"
    short = f"{when:%b} {when.day}, {when.year}"
    long = f"{when:%A}, {date}"
    tokens = {"date_num": f"{when:%Y-%m-%d}", "date": date, "date_short": short, "date_long": long,
              "date_pretty": pretty(date), "date_short_pretty": pretty(short), "date_long_pretty": pretty(long),
              "time": f"{hour}:{when.minute:02d} {ampm}", "time_secs": f"{hour}:{when.minute:02d}:{when.second:02d} {ampm}",
              "ago": _ago(when, now)}
    out = re.sub(r"\{(\w+)\}", lambda m: tokens.get(m.group(1), m.group(0)), fmt)
    if out.startswith(("today", "yesterday", "tomorrow")):  # "Today at 3:05 PM"
        out = out[:1].upper() + out[1:]
    return out


class Renderer:
    """Block Kit as terminal text in one of :data:`STYLES`."""

    def __init__(self, style: str = "raw") -> None:
        if style not in STYLES:
            raise ValueError(f"style must be one of {STYLES}")
        self.style = style

    # -- text ---------------------------------------------------------------------------------
    def _wrap(self, kind: str, text: str) -> str:
        if self.style != "ansi":
            return text
        start, end = ANSI[kind]
        return f"{start}{text}{end}"

    def _emphasis(self, pattern: re.Pattern[str], kind: str, text: str) -> str:
        if self.style == "raw":
            return text
        return pattern.sub(lambda m: self._wrap(kind, m.group(1)), text)

    def _token(self, match: re.Match[str]) -> str:
        if match.re is _DATE:
            stamp, fmt, _link, fallback = match.groups()
            return slack_date(int(stamp), fmt, fallback or "")
        target, label = match.group(1), match.group(2)
        if target.startswith("#"):  # a channel: its name, as Slack shows it (<#C_SANDBOX> -> #sandbox)
            return "#" + (label or channel_name(target[1:]))
        if target.startswith("@"):
            return (target[0] + label) if label else target
        if target.startswith("!"):
            special = target[1:].split("^", 1)[0]
            return label or ("@" + special if special in ("here", "channel", "everyone") else special)
        address = target.removeprefix("mailto:")
        if label and label != address:
            return f"{self._wrap('link', html.unescape(label))} ({address})"
        return address

    def _prose(self, text: str) -> str:
        held: list[str] = []

        def hold(match: re.Match[str]) -> str:
            held.append(self._token(match))
            return f"\x00{len(held) - 1}\x00"

        text = _LINK.sub(hold, _DATE.sub(hold, text))
        text = _SHORTCODE.sub(_emoji, emoji.emojize(text, language="alias"))
        text = self._emphasis(_BOLD, "bold", text)
        text = self._emphasis(_ITALIC, "italic", text)
        text = self._emphasis(_STRIKE, "strike", text)
        text = html.unescape(text)
        return _HOLD.sub(lambda m: held[int(m.group(1))], text)

    def mrkdwn(self, text: str) -> str:
        """Slack mrkdwn made readable (see the module docstring); code is left as typed."""
        out, last = [], 0
        for match in _CODE.finditer(text):
            out.append(self._prose(text[last:match.start()]))
            block, inline = match.group(1), match.group(2)
            code = html.unescape(block if block is not None else inline)
            if self.style == "ansi":
                out.append(self._wrap("code", code))
            else:
                out.append(match.group(0) if self.style == "raw" else
                           ("```" + code + "```" if block is not None else f"`{code}`"))
            last = match.end()
        out.append(self._prose(text[last:]))
        return "".join(out)

    def text(self, obj: Any) -> str:
        if isinstance(obj, dict):
            value = str(obj.get("text", ""))
            if obj.get("type") == "plain_text":
                return html.unescape(emoji.emojize(value, language="alias")) if obj.get("emoji", True) else value
            return self.mrkdwn(value)
        return self.mrkdwn(str(obj or ""))

    def field(self, obj: Any) -> str:
        """A section field: ``*Label*\\nvalue`` reads as ``Label: value``."""
        raw = str(obj.get("text", "")) if isinstance(obj, dict) else str(obj or "")
        head, sep, rest = raw.strip().partition("\n")
        if sep and re.fullmatch(r"\*[^*]+\*", head.strip()):
            label = self.mrkdwn(head.strip()[1:-1])
            return f"{label}: {self.mrkdwn(rest.strip())}".replace("\n", " ")
        return self.text(obj).strip().replace("\n", " ")

    def option(self, option: Any) -> str:
        return self.text((option or {}).get("text"))

    # -- elements and blocks ------------------------------------------------------------------
    def element(self, element: dict[str, Any], value: dict[str, Any] | None = None) -> str:
        """One interactive or context element on one line; ``value`` is typed state that overrides
        the element's initial value (``{"type": ..., "value"|"selected_option"|... : ...}``)."""
        kind = element.get("type")
        value = value or {}
        if kind == "button":
            label = f"[{self.text(element.get('text'))}"
            return label + (f" ↗ {element['url']}]" if element.get("url") else "]")
        if kind in SELECT_KINDS:
            chosen = [self.option(o) for o in element.get("initial_options") or []]
            if element.get("initial_option"):
                chosen = [self.option(element["initial_option"])]
            for key in ("initial_date", "initial_time", "initial_user", "initial_conversation", "initial_channel"):
                if element.get(key):
                    chosen = [str(element[key])]
            if "selected_option" in value:
                chosen = [self.option(value["selected_option"])] if value["selected_option"] else []
            if "selected_options" in value:
                chosen = [self.option(o) for o in value["selected_options"] or []]
            label = ", ".join(chosen) or self.text(element.get("placeholder")) or "Choose"
            return f"[{label} ▾]"
        if kind == "overflow":
            return "[⋯]"
        if kind == "image":
            return f"[image: {element.get('alt_text', '')}]"
        if kind in ("mrkdwn", "plain_text"):
            return self.text(element)
        if kind in ("checkboxes", "radio_buttons"):
            picked = {o.get("value") for o in element.get("initial_options") or []}
            if element.get("initial_option"):
                picked.add(element["initial_option"].get("value"))
            if "selected_option" in value:
                picked = {(value["selected_option"] or {}).get("value")}
            if "selected_options" in value:
                picked = {o.get("value") for o in value["selected_options"] or []}
            on, off = ("[x]", "[ ]") if kind == "checkboxes" else ("(•)", "( )")
            return "  ".join(f"{on if o.get('value') in picked else off} {self.option(o)}"
                             for o in element.get("options", []))
        if kind in ("plain_text_input", "number_input", "email_text_input", "url_text_input"):
            typed = value.get("value") if "value" in value else element.get("initial_value")
            return str(typed or "") or "____"
        if kind == "file_input":
            names = [str(f.get("name") or f.get("title") or f.get("id")) for f in value.get("files") or []]
            return ", ".join(names) if names else "[choose file]"
        return f"[{kind}]"

    def _rich_text(self, element: Any) -> str:
        if isinstance(element, list):
            return "".join(self._rich_text(e) for e in element)
        if not isinstance(element, dict):
            return ""
        kind = element.get("type")
        if kind == "text":
            text = str(element.get("text", ""))
            style = element.get("style") or {}
            for key, name in (("code", "code"), ("bold", "bold"), ("italic", "italic"), ("strike", "strike")):
                if style.get(key):
                    text = self._wrap(name, text)
            return text
        if kind == "link":
            return str(element.get("text") or element.get("url", ""))
        if kind == "user":
            return "@" + str(element.get("user_id", ""))
        if kind == "channel":
            return "#" + str(element.get("channel_id", ""))
        if kind == "emoji":
            name = element.get("name", "")
            return emoji.emojize(f":{name}:", language="alias")
        if kind == "date":
            return slack_date(int(element.get("timestamp", 0)), str(element.get("format", "{date_short}")),
                              str(element.get("fallback", "")))
        if kind == "rich_text_list":
            return "\n".join("• " + self._rich_text(e) for e in element.get("elements", []))
        inner = self._rich_text(element.get("elements", []))
        return inner + ("\n" if kind in ("rich_text_section", "rich_text_preformatted", "rich_text_quote") else "")

    def block(self, block: dict[str, Any], values: dict[str, Any] | None = None,
              errors: dict[str, str] | None = None) -> list[str]:
        kind = block.get("type")
        if kind == "header":
            title = self.text(block.get("text"))
            return [self._wrap("bold", title.upper()), "═" * min(max(len(title), 3), 60)]
        if kind == "section":
            lines = [self.text(block["text"])] if block.get("text") else []
            lines += ["  " + self.field(f) for f in block.get("fields") or []]
            if block.get("accessory"):
                lines.append("  " + self.element(block["accessory"]))
            return lines
        if kind == "context":
            return ["  · " + "  ".join(self.element(e) for e in block.get("elements", []))]
        if kind == "divider":
            return [RULE]
        if kind == "actions":
            return ["  ".join(self.element(e) for e in block.get("elements", []))]
        if kind == "image":
            title = self.text(block.get("title"))
            return [f"[image: {block.get('alt_text', '')}]" + (f" {title}" if title else "")]
        if kind == "input":
            label = self.text(block.get("label"))
            optional = " (optional)" if block.get("optional") else ""
            element = block.get("element") or {}
            typed = ((values or {}).get(block.get("block_id") or "") or {}).get(element.get("action_id", ""))
            shown = self.element(element, typed)
            if "\n" in shown:
                lines = [f"{label}{optional}:"] + ["    " + line for line in shown.splitlines()]
            else:
                lines = [f"{label}{optional}: {shown}"]
            if block.get("hint"):
                lines.append("  · " + self.text(block["hint"]))
            error = (errors or {}).get(block.get("block_id") or "")
            if error:
                lines.append(f"  ! {error}")
            return lines
        if kind == "rich_text":
            return self._rich_text(block.get("elements", [])).rstrip("\n").splitlines()
        if kind == "markdown":
            return self.mrkdwn(str(block.get("text", ""))).splitlines()
        return [f"[{kind}]"]

    def blocks(self, blocks: list[dict[str, Any]] | None, text: str = "") -> str:
        """Blocks as plain text; ``text`` (the notification fallback) when there are no blocks."""
        if not blocks:
            return self.mrkdwn(text)
        lines: list[str] = []
        for block in blocks:
            if isinstance(block, dict):
                lines += self.block(block)
        return "\n".join(lines)

    def view(self, view: dict[str, Any], values: dict[str, Any] | None = None) -> str:
        """A modal or Home tab: title box, blocks (inputs showing ``values`` where typed, each
        error under its field), then its submit/close buttons as ``<Label>``."""
        title = self.text(view.get("title"))
        out = [f"┌ {title} ┐"] if title else []
        errors = view.get("errors") or {}
        for block in view.get("blocks") or []:
            if isinstance(block, dict):
                out += self.block(block, values, errors)
        inputs = {b.get("block_id") for b in view.get("blocks") or [] if isinstance(b, dict)}
        out += [f"! {block_id}: {message}" for block_id, message in errors.items() if block_id not in inputs]
        buttons = [b for b in (self.text(view.get("submit")), self.text(view.get("close"))) if b]
        if buttons:
            out.append("  ".join(f"<{b}>" for b in buttons))
        return "\n".join(out)


_RAW = Renderer("raw")


def readable(text: str) -> str:
    """Slack mrkdwn's angle-bracket syntax, dates, emoji names and HTML escapes made readable."""
    return _RAW.mrkdwn(text)


def render_element(element: dict[str, Any]) -> str:
    return _RAW.element(element)


def render_block(block: dict[str, Any]) -> list[str]:
    return _RAW.block(block)


def render_blocks(blocks: list[dict[str, Any]] | None, text: str = "") -> str:
    return _RAW.blocks(blocks, text)


def render_view(view: dict[str, Any], values: dict[str, Any] | None = None) -> str:
    return _RAW.view(view, values)


def render_csv(content: bytes, rows: int = 10, cell_width: int = 32, width: int = 110) -> str:
    """The first ``rows`` rows of a CSV as aligned tables (every column; wrapped into several tables of at
    most ``width`` characters), then its size ("N rows × M columns")."""
    import io

    import pandas as pd

    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1252 decodes almost anything
        text = content.decode("utf-8", "replace")
    if not text.strip():
        return "(empty file)"
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=None, engine="python")
    except Exception:  # not sniffable: read it as plain comma-separated
        try:
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        except Exception as exc:
            return f"(not a readable CSV: {exc})\n" + "\n".join(text.splitlines()[:rows])
    shown = frame.head(rows).apply(lambda col: col.str.replace("\n", " ", regex=False))
    # every column: as many as fit in ``width`` side by side, the rest in further tables below, each
    # repeating the first column (the name, usually) so a row can be followed
    names = list(shown.columns)
    groups: list[list[str]] = []
    current: list[str] = []
    for name in names:
        trial = ([names[0]] if groups and not current else []) + current + [name]
        if current and len(shown[trial].to_string(index=False, max_colwidth=cell_width).splitlines()[0]) > width:
            groups.append(current)
            current = [names[0], name] if name != names[0] else [name]
        else:
            current = trial
    groups.append(current)
    table = "\n\n".join(shown[group].to_string(index=False, max_colwidth=cell_width) for group in groups)
    total = f"{len(frame):,} rows × {len(frame.columns)} columns"
    if len(frame) > rows:
        total += f" (the first {rows} shown)"
    return f"{table}\n{total}"
