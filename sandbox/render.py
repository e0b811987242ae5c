"""Plain-text rendering of Block Kit JSON, for the sandbox console and test failure output.

Headers are upper-cased and underlined, section fields read ``Label: value``, context lines
start with a dim ``·``, buttons show as ``[Label]`` (a link button as ``[Label ↗ url]``), selects
as ``[Label ▾]``, modal inputs as ``Label: ____``. Slack's mrkdwn links and mentions are made
readable (``<https://x|Open>`` -> ``Open (https://x)``, ``<@U1>`` -> ``@U1``).
"""

from __future__ import annotations

import html
import re
from typing import Any

RULE = "─" * 40
# Slack's angle-bracket tokens: links, mailto, @user, #channel and !special mentions. Anything else in
# angle brackets is left as it is.
_LINK = re.compile(r"<((?:https?://|mailto:|[@#!])[^<>|\s]*)(?:\|([^<>]*))?>")
SELECT_KINDS = ("static_select", "external_select", "users_select", "conversations_select", "channels_select",
                "multi_static_select", "multi_external_select", "multi_users_select",
                "multi_conversations_select", "multi_channels_select", "datepicker", "timepicker")


def readable(text: str) -> str:
    """Slack mrkdwn's angle-bracket syntax and HTML escapes made readable."""

    def link(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith(("@", "#")):
            return (target[0] + label) if label else target
        if target.startswith("!"):
            special = target[1:].split("^", 1)[0]
            return label or ("@" + special if special in ("here", "channel", "everyone") else special)
        address = target.removeprefix("mailto:")
        return f"{label} ({address})" if label and label != address else address

    return html.unescape(_LINK.sub(link, text))


def _text(obj: Any) -> str:
    if isinstance(obj, dict):
        return readable(str(obj.get("text", "")))
    return readable(str(obj or ""))


def _field(obj: Any) -> str:
    """A section field: ``*Label*\\nvalue`` reads as ``Label: value``."""
    text = _text(obj).strip()
    head, sep, rest = text.partition("\n")
    if sep and re.fullmatch(r"\*[^*]+\*", head.strip()):
        return f"{head.strip()[1:-1]}: {rest.strip()}".replace("\n", " ")
    return text.replace("\n", " ")


def _option(option: Any) -> str:
    return _text((option or {}).get("text"))


def render_element(element: dict[str, Any]) -> str:
    """One interactive element or context element on one line."""
    kind = element.get("type")
    if kind == "button":
        label = f"[{_text(element.get('text'))}"
        return label + (f" ↗ {element['url']}]" if element.get("url") else "]")
    if kind in SELECT_KINDS:
        chosen = [_option(o) for o in element.get("initial_options") or []]
        if element.get("initial_option"):
            chosen = [_option(element["initial_option"])]
        for key in ("initial_date", "initial_time", "initial_user", "initial_conversation", "initial_channel"):
            if element.get(key):
                chosen = [str(element[key])]
        label = ", ".join(chosen) or _text(element.get("placeholder")) or "Choose"
        return f"[{label} ▾]"
    if kind == "overflow":
        return "[⋯]"
    if kind == "image":
        return f"[image: {element.get('alt_text', '')}]"
    if kind in ("mrkdwn", "plain_text"):
        return _text(element)
    if kind in ("checkboxes", "radio_buttons"):
        picked = {o.get("value") for o in element.get("initial_options") or []}
        if element.get("initial_option"):
            picked.add(element["initial_option"].get("value"))
        on, off = ("[x]", "[ ]") if kind == "checkboxes" else ("(•)", "( )")
        return "  ".join(f"{on if o.get('value') in picked else off} {_option(o)}" for o in element.get("options", []))
    if kind in ("plain_text_input", "number_input", "email_text_input", "url_text_input"):
        return str(element.get("initial_value") or "") or "____"
    if kind == "file_input":
        return "[choose file]"
    return f"[{kind}]"


def _rich_text(element: Any) -> str:
    if isinstance(element, list):
        return "".join(_rich_text(e) for e in element)
    if not isinstance(element, dict):
        return ""
    kind = element.get("type")
    if kind == "text":
        return str(element.get("text", ""))
    if kind == "link":
        return str(element.get("text") or element.get("url", ""))
    if kind == "user":
        return "@" + str(element.get("user_id", ""))
    if kind == "channel":
        return "#" + str(element.get("channel_id", ""))
    if kind == "emoji":
        return f":{element.get('name', '')}:"
    if kind == "rich_text_list":
        return "\n".join("• " + _rich_text(e) for e in element.get("elements", []))
    inner = _rich_text(element.get("elements", []))
    return inner + ("\n" if kind in ("rich_text_section", "rich_text_preformatted", "rich_text_quote") else "")


def render_block(block: dict[str, Any]) -> list[str]:
    kind = block.get("type")
    if kind == "header":
        title = _text(block.get("text"))
        return [title.upper(), "═" * min(max(len(title), 3), 60)]
    if kind == "section":
        lines = [_text(block["text"])] if block.get("text") else []
        lines += ["  " + _field(f) for f in block.get("fields") or []]
        if block.get("accessory"):
            lines.append("  " + render_element(block["accessory"]))
        return lines
    if kind == "context":
        return ["  · " + "  ".join(render_element(e) for e in block.get("elements", []))]
    if kind == "divider":
        return [RULE]
    if kind == "actions":
        return ["  ".join(render_element(e) for e in block.get("elements", []))]
    if kind == "image":
        title = _text(block.get("title"))
        return [f"[image: {block.get('alt_text', '')}]" + (f" {title}" if title else "")]
    if kind == "input":
        label = _text(block.get("label"))
        optional = " (optional)" if block.get("optional") else ""
        lines = [f"{label}{optional}: {render_element(block.get('element') or {})}"]
        if block.get("hint"):
            lines.append("  · " + _text(block["hint"]))
        return lines
    if kind == "rich_text":
        return _rich_text(block.get("elements", [])).rstrip("\n").splitlines()
    if kind == "markdown":
        return [readable(str(block.get("text", "")))]
    return [f"[{kind}]"]


def render_blocks(blocks: list[dict[str, Any]] | None, text: str = "") -> str:
    """Blocks as plain text; ``text`` (the notification fallback) when there are no blocks."""
    if not blocks:
        return readable(text)
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, dict):
            lines += render_block(block)
    return "\n".join(lines)


def render_view(view: dict[str, Any]) -> str:
    """A modal or Home tab: title box, blocks, then its submit/close buttons as ``<Label>``."""
    title = _text(view.get("title"))
    out = [f"┌ {title} ┐"] if title else []
    body = render_blocks(view.get("blocks") or [])
    if body:
        out.append(body)
    errors = view.get("errors") or {}
    out += [f"! {block_id}: {message}" for block_id, message in errors.items()]
    buttons = [b for b in (_text(view.get("submit")), _text(view.get("close"))) if b]
    if buttons:
        out.append("  ".join(f"<{b}>" for b in buttons))
    return "\n".join(out)
