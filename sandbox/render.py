"""Plain-text rendering of Block Kit JSON, for the sandbox console and test failure output."""

from __future__ import annotations

from typing import Any


def _text(obj: Any) -> str:
    return obj.get("text", "") if isinstance(obj, dict) else str(obj or "")


def _element(element: dict[str, Any]) -> str:
    kind = element.get("type")
    if kind == "button":
        return f"[{_text(element.get('text'))}]"
    if kind in ("static_select", "overflow", "users_select", "conversations_select", "channels_select"):
        label = _text(element.get("placeholder")) or "Choose"
        return f"[{label} ▾]"
    if kind == "image":
        return f"[image: {element.get('alt_text', '')}]"
    if kind in ("mrkdwn", "plain_text"):
        return _text(element)
    if kind == "radio_buttons":
        return " ".join(f"( ) {_text(o.get('text'))}" for o in element.get("options", []))
    return f"[{kind}]"


def render_blocks(blocks: list[dict[str, Any]] | None, text: str = "") -> str:
    if not blocks:
        return text
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            title = _text(block.get("text"))
            lines += [title.upper(), "=" * min(len(title), 60)]
        elif kind == "section":
            if block.get("text"):
                lines.append(_text(block["text"]))
            for field in block.get("fields") or []:
                lines.append("  " + _text(field).replace("\n", " "))
            if block.get("accessory"):
                lines.append("  " + _element(block["accessory"]))
        elif kind == "context":
            lines.append("  · " + "  ".join(_element(e) for e in block.get("elements", [])))
        elif kind == "divider":
            lines.append("-" * 40)
        elif kind == "actions":
            lines.append("  ".join(_element(e) for e in block.get("elements", [])))
        elif kind == "image":
            lines.append(f"[image: {block.get('alt_text', '')}]")
        elif kind == "input":
            element = block.get("element", {})
            initial = element.get("initial_value") or _text(element.get("initial_option", {}).get("text", ""))
            lines.append(f"{_text(block.get('label'))}: {initial or '____'}")
        else:
            lines.append(text or f"[{kind}]")
    return "\n".join(lines)


def render_view(view: dict[str, Any]) -> str:
    title = _text(view.get("title"))
    out = [f"┌ {title} ┐"] if title else []
    out.append(render_blocks(view.get("blocks") or []))
    buttons = [b for b in (_text(view.get("submit")), _text(view.get("close"))) if b]
    if buttons:
        out.append("  ".join(f"<{b}>" for b in buttons))
    return "\n".join(out)
