"""The completed-interview message."""

from __future__ import annotations

from typing import Any

from bot.blocks import Message, context, header, mrkdwn_escape, section
from services.privacy import mask_text
from services.watcher import Notification


def completed_message(note: Notification) -> Message:
    who = note.label or note.session_id
    metadata = {"event_type": "voice_session_completed",
                "event_payload": {"session_id": note.session_id, "project_id": note.project_id or "",
                                  "label": note.label, "status": note.status}}
    if note.status != "completed":
        text = f"The voice interview with {who} {note.status}."
        return Message(text=text, blocks=[section(f":x: {mrkdwn_escape(text)}")], metadata=metadata)
    blocks: list[Any] = [header(f"Interview completed · {who}"[:150])]
    summary = note.summary
    if isinstance(summary, dict):
        body = str(summary.get("overview") or summary.get("summary") or "")
        points = [f"• {p}" for p in summary.get("keyPoints", [])][:15]
        body = "\n".join([body, *points]).strip()
    else:
        body = str(summary or "")
    if note.summary_pending:
        body = "The summary is still being generated; `/voicelink status " + note.session_id + "` shows it later."
    blocks.append(section("*Summary*\n" + mrkdwn_escape(mask_text(body) or "No summary.")))
    if isinstance(note.evaluation, dict) and note.evaluation:
        fields = [f"*{mrkdwn_escape(str(k))}*\n{mrkdwn_escape(mask_text(str(v)))}" for k, v in note.evaluation.items()]
        blocks.append(section("*Evaluation*"))
        for i in range(0, min(len(fields), 300), 10):
            blocks.append(section("", fields=fields[i:i + 10]))
    else:
        blocks.append(context("No evaluation: none is configured for this interview, or it isn't ready."))
    blocks.append(context(f"Session `{note.session_id}` · `/voicelink status {note.session_id}` for the transcript "
                          "and audio."))
    return Message(text=f"Interview completed: {who}", blocks=blocks[:50], metadata=metadata)
