"""Messages of the data lifecycle: the note that replaces purged messages, the private erasure
question and summary (``/pluto forget``)."""

from __future__ import annotations

from bot.blocks import Message, actions, button, clip, confirm_dialog, context, header, mrkdwn_escape, section
from services.lifecycle import ErasureResult, PersonRecords
from services.privacy import mask_email

FORGET_CONFIRM = "pluto_forget_confirm"
FORGET_CANCEL = "pluto_forget_cancel"


def removed_message(days: int) -> Message:
    """What a purged message says instead of the candidates it listed."""
    text = (f":wastebasket: The candidate data in this message was removed after {days} days, under the team's "
            "data retention rule.")
    return Message(text=text, blocks=[section(text)])


def redacted_message() -> Message:
    """What a message naming an erased person says instead."""
    text = ":wastebasket: This message was removed at a data-erasure request."
    return Message(text=text, blocks=[section(text)])


def _found_lines(found: PersonRecords) -> list[str]:
    lines = [f"• {count} {what}" for what, count in found.counts.items() if count]
    runs = found.run_ids
    if runs:
        lines.append("Runs: " + ", ".join(f"`{r}`" for r in runs[:20]) + (" …" if len(runs) > 20 else ""))
    if found.link_ids:
        lines.append("Voice links: " + ", ".join(f"`{i}`" for i in found.link_ids[:20]))
    return lines


def forget_question(found: PersonRecords) -> Message:
    """Privately: what was found, and Erase / Cancel (the query rides in the button, to this person only)."""
    who = mrkdwn_escape(clip(found.query, 200))
    if found.empty:
        text = f"I hold nothing about *{who}* (exact e-mail or full name)."
        return Message(text=text, blocks=[section(text), context("Only you can see this.")])
    if found.ambiguous:
        return ambiguous_message(found, "forget")
    text = f"Erase everything I hold about *{who}*? I found:"
    return Message(text=f"Erase {found.total} records about {found.query}?", blocks=[
        header("Erase a person's data"),
        section(text + "\n" + "\n".join(_found_lines(found))),
        context("Their rows leave every run and board, and the files and messages of mine that name them are "
                "deleted or redacted. Pluto and Nimrobo keep their own copies: the summary lists the ids to erase "
                "there. This can't be undone."),
        actions(button("Erase", FORGET_CONFIRM, found.query, style="danger", confirm=confirm_dialog(
            "Erase this person?", f"Everything about *{who}* is deleted. This can't be undone.", yes="Erase")),
            button("Cancel", FORGET_CANCEL, "cancel")),
    ])


def ambiguous_message(found: PersonRecords, command: str) -> Message:
    """A name several people share: which e-mails, masked; the command again with one of them."""
    emails = ", ".join(sorted(mask_email(e) for e in found.emails))
    text = (f"Several people are called *{mrkdwn_escape(clip(found.query, 200))}* ({emails}). Run "
            f"`/pluto {command} <e-mail>` with the e-mail of the one you mean.")
    return Message(text=text, blocks=[section(text), context("Only you can see this.")])


def erasure_summary(result: ErasureResult, done: list[str], not_done: list[str]) -> Message:
    """Privately: what was erased, what could not be, and what must be erased elsewhere."""
    counts = ", ".join(f"{n} {what}" for what, n in result.counts.items() if n) or "nothing"
    lines = [f":white_check_mark: Erased {result.records} records ({counts}). Erasure `{result.erasure_id}` is "
             "recorded with who asked and when, without the person's data."]
    lines += [f"• {line}" for line in done]
    blocks = [header("Erasure done"), section("\n".join(lines))]
    if not_done:
        blocks.append(section(clip(":warning: *Could not be done:*\n" + "\n".join(f"• {n}" for n in not_done), 3000)))
    elsewhere = []
    if result.pluto_candidates:
        elsewhere.append("*Pluto* (no delete endpoint) — candidate ids: "
                         + ", ".join(f"`{c}`" for c in result.pluto_candidates[:50]))
    if result.nimrobo_links or result.nimrobo_sessions:
        elsewhere.append("*Nimrobo* (no delete endpoint) — voice links: "
                         + (", ".join(f"`{i}`" for i in result.nimrobo_links[:50]) or "none")
                         + "; sessions: " + (", ".join(f"`{i}`" for i in result.nimrobo_sessions[:50]) or "none"))
    if elsewhere:
        blocks.append(section(clip(":outbox_tray: *Ask these services to erase the person too:*\n"
                                   + "\n".join(elsewhere), 3000)))
    blocks.append(context("Only you can see this."))
    text = f"Erased {result.records} records ({counts})." + (f" {len(not_done)} things could not be done."
                                                              if not_done else "")
    return Message(text=text, blocks=blocks)
