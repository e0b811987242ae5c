"""What the interview watcher posts, and the answers to watch / subscribe / subscriptions.

The completed-interview message goes to channels; ``bot.slack_out`` masks personal data (in the
text and the metadata) where a channel is public.
"""

from __future__ import annotations

from typing import Any

from bot.blocks import (
    MAX_FIELD_TEXT,
    MAX_MESSAGE_BLOCKS,
    MAX_SECTION_TEXT,
    Message,
    actions,
    button,
    clip,
    context,
    fit_blocks,
    header,
    mrkdwn_escape,
    section,
    when,
)
from services.nimrobo import Project
from services.privacy import mask_text
from services.records import ChannelFollows, Notification, SessionRef, WatchOutcome
from services.transcripts import QuestionsLike, evaluation_answers, summary_text
from services.voice.sessions import COMPLETED

EVENT_TYPE = COMPLETED  # the post's metadata event type is its outbox key's prefix
SUMMARY_SECTIONS = 3  # a long summary spans at most this many sections, then is clipped
EVALUATION_BLOCKS = MAX_MESSAGE_BLOCKS - 10  # leaves room for the header, summary and footer
MAX_LISTED = 40  # lines of /voicelink subscriptions

NO_EVALUATION = {
    "none": "No evaluation: this interview has no evaluator configured.",
    "pending": "The evaluation wasn't ready in time; `/voicelink status {session}` shows it once it is.",
    "error": "Nimrobo could not evaluate this interview.",
}


def _shown(text: Any) -> str:
    return mrkdwn_escape(str(text if text is not None else ""))


def metadata(note: Notification) -> dict[str, Any]:
    return {"event_type": EVENT_TYPE,
            "event_payload": {"session_id": note.session_id, "project_id": note.project_id or "",
                              "label": note.label, "status": note.status}}


def duration(note: Notification) -> str:
    """``12 min`` from the session's start and completion times, or "" when either is missing."""
    return when.duration(note.created_at, note.completed_at)


def _chunks(text: str, size: int, count: int) -> list[str]:
    parts = [text[i:i + size] for i in range(0, len(text), size)][:count]
    if len(text) > size * count:
        parts[-1] = clip(parts[-1] + "…", size)
    return parts


def evaluation_fields(results: Any, questions: QuestionsLike = None) -> list[str]:
    """One "*question*\\nanswer" field per answer, whatever shape the answers came in
    (services/transcripts.py ``evaluation_answers``): labels, readable text, never a Python repr."""
    return [clip(f"*{_shown(a.label)}*\n{_shown(a.text)}", MAX_FIELD_TEXT)
            for a in evaluation_answers(results, questions)]


def completed_message(note: Notification) -> Message:
    who = note.label or note.session_id
    if note.status != "completed":
        text = f"The voice interview with {who} {note.status}; there is no summary or evaluation."
        return Message(text=text, blocks=[section(f":x: {mrkdwn_escape(text)}"),
                                          context(f"Session `{note.session_id}`")], metadata=metadata(note))
    blocks: list[Any] = [header(f"Interview completed · {who}")]
    facts = [f"*{_shown(note.project_name)}*" if note.project_name else "",
             duration(note), f"session `{note.session_id}`"]
    blocks.append(context(" · ".join(f for f in facts if f)))
    if note.summary_pending:
        body = f"The summary is still being generated; `/voicelink status {note.session_id}` shows it later."
    else:
        body = _shown(summary_text(note.summary)) or "Nimrobo returned no summary."
    for i, chunk in enumerate(_chunks(body, MAX_SECTION_TEXT - 20, SUMMARY_SECTIONS)):
        blocks.append(section(("*Summary*\n" if i == 0 else "") + chunk))
    if note.evaluation is not None:
        fields = evaluation_fields(note.evaluation, note.questions)
        blocks.append(section("*Evaluation*"))
        groups = [fields[i:i + 10] for i in range(0, len(fields), 10)]
        for group in groups[:EVALUATION_BLOCKS]:
            blocks.append(section("", fields=group))
        if len(groups) > EVALUATION_BLOCKS:
            left = len(fields) - 10 * EVALUATION_BLOCKS
            blocks.append(context(f"…{left} more answers: `/voicelink status {note.session_id}` shows them all."))
    elif note.evaluation_note:
        blocks.append(context(NO_EVALUATION[note.evaluation_note].format(session=note.session_id)))
    # each answers privately, after checking the presser may read this session (handlers/actions)
    ref = SessionRef("instant" if note.kind == "instant" else "project", note.project_id or None, note.session_id)
    value = ref.to_value()
    blocks.append(actions(button("Transcript", "voicelink_transcript", value),
                          button("Evaluation", "voicelink_evaluation", value),
                          button("Audio", "voicelink_audio", value), block_id=f"session|{note.session_id}"))
    blocks.append(context("Only you see what a button answers (a transcript comes to your DMs)."))
    return Message(text=f"Interview completed: {who}", blocks=fit_blocks(blocks), metadata=metadata(note))


# -- answers to the follow commands (private; labels may be emails, so they are masked) -------
def _named(label: str) -> str:
    return f" ({mask_text(label)})" if label else ""


def watch_reply(outcome: WatchOutcome) -> Message:
    ref = outcome.ref
    session, named = f"`{ref.session_id}`", _named(ref.label)
    text = {"already_posted": f"The results of {session}{named} were already posted in this channel.",
            "watching": f":eyes: I'll post the results of {session}{named} here when the interview completes.",
            }.get(outcome.state, f"This channel already watches {session}{named}.")
    return Message(text=text, blocks=[section(text)])


def subscribe_reply(project: Project, added: bool) -> Message:
    if added:
        text = (f":bell: Every completed interview of *{mrkdwn_escape(project.name)}* (`{project.id}`) will be posted "
                f"here. Stop with `/voicelink unsubscribe {project.id}`.")
    else:
        text = f"This channel already follows *{mrkdwn_escape(project.name)}* (`{project.id}`)."
    return Message(text=text, blocks=[section(text)])


def unsubscribe_reply(query: str, project_id: str, removed: bool) -> Message:
    if removed:
        text = f"This channel no longer follows `{project_id}`. Interviews already posted stay."
    else:
        text = f"This channel was not subscribed to `{query}`. See `/voicelink subscriptions`."
    return Message(text=text, blocks=[section(text)])


def follows_message(follows: ChannelFollows) -> Message:
    lines = [f"• project `{s.project_id}` (by <@{s.created_by}>)" for s in follows.subscriptions]
    lines += [f"• session `{w.session_id}`{_named(w.label)} (by <@{w.requested_by}>)" for w in follows.watches]
    if len(lines) > MAX_LISTED:
        lines = lines[:MAX_LISTED] + [f"…and {len(lines) - MAX_LISTED} more."]
    own = (f"\nInterviews of the {follows.links_here} link(s) created in this channel are posted here too."
           if follows.links_here else "")
    if lines:
        text = "*This channel follows:*\n" + "\n".join(lines) + own
    else:
        text = ("This channel follows no projects or sessions. Try `/voicelink subscribe <project>` or "
                "`/voicelink watch <session>`." + own)
    return Message(text=text, blocks=[section(text)])
