"""Interview modals' submissions: the colleague to add, and the transcript to analyze.

Both answer inline errors on the ack and close at once otherwise; the work runs on the pool
and reports to the person who submitted, privately.
"""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.blocks.interviews import ADD_INTERVIEWER_MODAL, ANALYZE_MODAL, FILE_TYPES
from bot.context import Services
from bot.flows import interviews
from bot.slack_out import SlackOut
from bot.work import Reply, defer
from handlers import inject

MIN_WORDS = 5


def _meta(view: dict[str, Any]) -> dict[str, Any]:
    try:
        return dict(json.loads(view.get("private_metadata") or "{}"))
    except ValueError:
        return {}


def _reply(client: WebClient, meta: dict[str, Any], user: str) -> Reply:
    out = SlackOut(client)
    channel, thread = meta.get("channel") or "", meta.get("thread")
    if not channel:
        return lambda message: out.dm(user, message)
    return lambda message: out.reply_privately(channel, user, message, thread)


def on_add_interviewer(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient,
                       services: Services) -> None:
    picked = ((view["state"]["values"].get("colleague") or {}).get("colleague") or {}).get("selected_user")
    user = body["user"]["id"]
    if not picked:
        ack(response_action="errors", errors={"colleague": "Choose a colleague."})
        return
    if picked == user:
        ack(response_action="errors", errors={"colleague": "You are in the room already; choose a colleague."})
        return
    ack()
    meta = _meta(view)
    reply = _reply(client, meta, user)
    defer(services.work, user,
          lambda: interviews.add_interviewer(services, SlackOut(client), meta.get("room", ""), user, picked, reply),
          reply, "add interviewer")


def parse_transcript_form(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """(what to analyze, inline errors): exactly one of a pasted text, a file, a voice interview."""
    text = (((values.get("transcript") or {}).get("transcript") or {}).get("value") or "").strip()
    files = ((values.get("file") or {}).get("file") or {}).get("files") or []
    chosen = (((values.get("session") or {}).get("session") or {}).get("selected_option") or {}).get("value")
    given = [name for name, present in (("transcript", text), ("file", files), ("session", chosen)) if present]
    errors: dict[str, str] = {}
    if not given:
        errors["transcript"] = "Paste the transcript, upload it as a file, or pick a voice interview."
    elif len(given) > 1:
        errors[given[1]] = "Use one source at a time."
    elif text and len(text.split()) < MIN_WORDS:
        errors["transcript"] = "That is too short to analyze; paste the whole conversation."
    elif files:
        name = str(files[0].get("name") or "")
        if name.rsplit(".", 1)[-1].lower() not in FILE_TYPES:
            errors["file"] = f"Upload a transcript as {', '.join('.' + t for t in FILE_TYPES)}."
    form = {"text": text, "file_id": files[0].get("id") if files else None, "session_id": chosen}
    return form, errors


def on_analyze(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient,
               services: Services) -> None:
    form, errors = parse_transcript_form(view["state"]["values"])
    if errors:
        ack(response_action="errors", errors=errors)
        return
    ack()
    user, meta = body["user"]["id"], _meta(view)
    reply = _reply(client, meta, user)
    defer(services.work, user,
          lambda: interviews.analyze(services, SlackOut(client), room_id=meta.get("room", ""), user=user, **form),
          reply, "analyze interview")


def register(app: App, services: Services) -> None:
    app.view(ADD_INTERVIEWER_MODAL)(inject(on_add_interviewer, services))
    app.view(ANALYZE_MODAL)(inject(on_analyze, services))
