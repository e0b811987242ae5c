"""Block Kit builders shared by every surface, on ``slack_sdk.models``.

Everything here keeps a message inside Slack's limits: text is clipped to the
limit of the field it goes in, and :func:`fit_blocks` caps a message at 50 blocks.
Domain builders live beside this module (``bot.blocks.pluto``, ``bot.blocks.voice``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.blocks.basic_components import ConfirmObject
from slack_sdk.models.views import View

from services.errors import Ambiguous
from services.records import PageRef

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_CONTEXT_TEXT = 3000
MAX_ACTIONS_ELEMENTS = 25
MAX_MESSAGE_TEXT = 40000


def clip(text: str | None, limit: int, ellipsis: str = "…") -> str:
    text = text or ""
    return text if len(text) <= limit else text[: max(0, limit - len(ellipsis))] + ellipsis


def mrkdwn_escape(text: str | None) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def section(text: str, *, fields: Sequence[str] | None = None, accessory: Any = None,
            block_id: str | None = None) -> SectionBlock:
    return SectionBlock(
        text=MarkdownTextObject(text=clip(text, MAX_SECTION_TEXT)) if text else None,
        fields=[MarkdownTextObject(text=clip(f, MAX_FIELD_TEXT)) for f in (fields or [])[:10]] or None,
        accessory=accessory,
        block_id=block_id,
    )


def header(text: str) -> HeaderBlock:
    return HeaderBlock(text=PlainTextObject(text=clip(text, MAX_HEADER_TEXT), emoji=True))


def context(*texts: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=clip(t, MAX_CONTEXT_TEXT)) for t in texts[:10] if t])


def divider() -> DividerBlock:
    return DividerBlock()


def button(label: str, action_id: str, value: str | None = None, *, style: str | None = None,
           url: str | None = None, confirm: ConfirmObject | None = None) -> ButtonElement:
    return ButtonElement(
        text=PlainTextObject(text=clip(label, MAX_BUTTON_TEXT), emoji=True),
        action_id=action_id,
        value=clip(value, MAX_BUTTON_VALUE, "") if value is not None else None,
        style=style,
        url=url,
        confirm=confirm,
    )


def confirm_dialog(title: str, text: str, yes: str = "Yes", no: str = "Cancel",
                   style: str | None = "danger") -> ConfirmObject:
    return ConfirmObject(title=clip(title, 100), text=MarkdownTextObject(text=clip(text, 300)),
                         confirm=clip(yes, 30), deny=clip(no, 30), style=style)


def actions(*elements: Any, block_id: str | None = None) -> ActionsBlock:
    return ActionsBlock(elements=list(elements)[:MAX_ACTIONS_ELEMENTS], block_id=block_id)


def fit_blocks(blocks: Sequence[Block], limit: int = MAX_MESSAGE_BLOCKS, note: str | None = None) -> list[Block]:
    """Cap ``blocks`` at ``limit``; the last block says how much was left out."""
    blocks = list(blocks)
    if len(blocks) <= limit:
        return blocks
    left_out = len(blocks) - (limit - 1)
    return blocks[: limit - 1] + [context(note or f"…{left_out} more blocks were left out to fit Slack's limits.")]


def to_dicts(blocks: Sequence[Block | dict]) -> list[dict]:
    return [b if isinstance(b, dict) else b.to_dict() for b in blocks]


def fallback_text(blocks: Sequence[dict], limit: int = 300) -> str:
    """A message's words for a notification or a screen reader, from its header, sections and context."""
    words: list[str] = []
    for block in blocks:
        texts = [block.get("text")] + list(block.get("fields") or []) + \
            (list(block.get("elements") or []) if block.get("type") == "context" else [])
        words += [str(t.get("text") or "") for t in texts if isinstance(t, dict) and t.get("type") in
                  ("mrkdwn", "plain_text")]
    text = " ".join(w.replace("*", "").replace("\n", " ").strip() for w in words if w.strip())
    return clip(text, limit) or "Pluto Bot"


@dataclass
class Message:
    """A Slack message: fallback ``text`` (notifications, screen readers) plus ``blocks``."""

    text: str
    blocks: list[Block] = field(default_factory=list)
    metadata: dict | None = None

    def kwargs(self) -> dict[str, Any]:
        blocks = to_dicts(fit_blocks(self.blocks)) if self.blocks else []
        # never without fallback text: it is what notifications and screen readers read (Slack's
        # accessibility guidance; the test bed refuses a message without it)
        out: dict[str, Any] = {"text": clip(self.text.strip() or fallback_text(blocks), MAX_MESSAGE_TEXT)}
        if blocks:
            out["blocks"] = blocks
        if self.metadata:
            out["metadata"] = self.metadata
        return out


def error_message(text: str, *, hint: str = "") -> Message:
    body = f":warning: {text}"
    blocks: list[Block] = [section(body)]
    if hint:
        blocks.append(context(hint))
    return Message(text=f"{text} {hint}".strip(), blocks=blocks)


def info_message(text: str) -> Message:
    return Message(text=text, blocks=[section(text)])


MAX_PICKS = 40  # candidates a picker shows as buttons; more means the query was too loose


def picker_message(choice: Ambiguous, action_id: str, verb: str) -> Message:
    """Several things matched what someone typed: one button (``verb``) per candidate, its id as value.

    For the person who typed it only (send it privately); the listener of ``action_id`` gets the id.
    """
    count = len(choice.candidates)
    matched = f"match “{mrkdwn_escape(choice.query)}”" if choice.query else "could be meant"
    heading = f"{count} {choice.what}s {matched}. Which one?"
    blocks: list[Block] = [section(heading)]
    for name, ident in choice.candidates[:MAX_PICKS]:
        blocks.append(section(f"*{mrkdwn_escape(name)}*\n`{mrkdwn_escape(ident)}`",
                              accessory=button(verb, action_id, ident)))
    if count > MAX_PICKS:
        blocks.append(context(f"…and {count - MAX_PICKS} more. Type more of the name, or the id."))
    return Message(text=f"{count} {choice.what}s {matched}: pick one.", blocks=blocks)


def loading_view(title: str, text: str) -> View:
    """A closable modal that says what is happening (or why it could not be filled)."""
    return View(type="modal", title=clip(title, 24), close="Close", blocks=[section(f":hourglass_flowing_sand: {text}")])


@dataclass
class Page:
    items: list[Any]
    number: int  # 1-based
    pages: int
    total: int

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def paginate(items: Sequence[Any], page: int, per_page: int) -> Page:
    pages = max(1, math.ceil(len(items) / per_page))
    page = min(max(1, page), pages)
    start = (page - 1) * per_page
    return Page(list(items[start : start + per_page]), page, pages, len(items))


def pager(page: Page, action_id: str, key: str) -> list[Block]:
    """Prev/next buttons plus "page k of n" (empty when everything fits on one page).

    Buttons carry ``PageRef(key, number).to_value()``; the listener parses it back.
    """
    if page.pages <= 1:
        return []
    buttons = []
    if page.has_prev:
        buttons.append(button("◀ Previous", f"{action_id}_prev", PageRef(key, page.number - 1).to_value()))
    if page.has_next:
        buttons.append(button("Next ▶", f"{action_id}_next", PageRef(key, page.number + 1).to_value()))
    return [context(f"Page {page.number} of {page.pages} · {page.total} in all"), actions(*buttons)]
