"""A CSV posted with a mention that says "score": the rest of the text is the job description.

The ``app_mention`` event itself is routed in :mod:`handlers.events.mentions`."""

from __future__ import annotations

import functools
import re
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.blocks import error_message
from bot.context import Services
from bot.flows.scoring import start_scoring
from bot.slack_out import SlackOut
from bot.work import defer
from handlers import inject

SCORE_WORD = re.compile(r"\bscore\b", re.IGNORECASE)
MAX_FILES = 3


def job_description(text: str) -> str:
    text = re.sub(r"<@[A-Z0-9]+>", " ", text or "")
    match = SCORE_WORD.search(text)
    return text[match.end():].strip(" :,-\n") if match else ""


def score_from_message(services: Services, client: WebClient, event: dict[str, Any], bot_user_id: str) -> None:
    """Start a run for each CSV (up to three) attached to a message that mentions the bot and says score."""
    text = event.get("text") or ""
    if f"<@{bot_user_id}>" not in text or not SCORE_WORD.search(text):
        return
    channel, ts, user = event["channel"], event.get("thread_ts") or event["ts"], event.get("user", "")
    # Slack sends both app_mention and message for the same post: handle it once.
    if not services.events.first_time(f"score:{channel}:{event['ts']}"):
        return
    out = SlackOut(client)
    csvs = [f for f in event.get("files") or [] if str(f.get("name", "")).lower().endswith(".csv")
            or f.get("filetype") == "csv"]
    if not csvs:
        out.reply_privately(channel, user, error_message("Attach a CSV of candidates to the message that says score.",
                                                         hint="Or use `/pluto score` to pick a file in a form."), ts)
        return
    for file in csvs[:MAX_FILES]:
        defer(services.work, user,
              functools.partial(start_scoring, services, out, file=file, channel=channel, thread_ts=ts, user=user,
                                job_description=job_description(text)),
              lambda m: out.reply_privately(channel, user, m), "score from a message")


def on_message(event: dict[str, Any], client: WebClient, context: dict[str, Any], services: Services) -> None:
    if event.get("files") and event.get("subtype") in (None, "file_share"):
        score_from_message(services, client, event, context.get("bot_user_id") or "")


def register(app: App, services: Services) -> None:
    app.event("message")(inject(on_message, services))
