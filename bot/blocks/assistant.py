"""The "Ask Pluto" pane's messages: an answer with its sources, and proposed actions as buttons."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.blocks import MAX_SECTION_TEXT, Message, actions, button, clip, context, section
from services.assistant import Answer

CREATE_LINKS, DECIDE = "assistant_create_links", "assistant_decide"
ACTION_IDS = {"create_links": CREATE_LINKS, "decision": DECIDE}
MAX_SOURCES = 8


def answer_message(answer: Answer, sources: list[tuple[str, str]]) -> Message:
    """``answer`` with its ``sources`` as links ((label, permalink)) and a button per proposed action."""
    text = answer.text.strip() or "I have no answer to that."
    chunks = [text[i:i + MAX_SECTION_TEXT] for i in range(0, min(len(text), MAX_SECTION_TEXT * 5), MAX_SECTION_TEXT)]
    blocks: list[Block] = [section(chunk) for chunk in chunks]
    if sources:
        links = " · ".join(f"<{url}|{label}>" for label, url in sources[:MAX_SOURCES])
        blocks.append(context(clip(f":link: Sources: {links}", 3000)))
    proposals = answer.proposals[:5]
    if proposals:
        blocks.append(context("Nothing is done until you press a button."))
        blocks.append(actions(*[button(p.label, ACTION_IDS[p.kind], p.value, style="primary") for p in proposals],
                              block_id="assistant_actions"))
    return Message(text=clip(text, 3000), blocks=blocks)


def outcome_message(text: str) -> Message:
    return Message(text=text, blocks=[section(text)])
