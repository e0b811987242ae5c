"""A CSV posted with a mention that says "score": the rest of the text is the job description."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from bot.blocks import error_message
from handlers.router import defer
from handlers.scoring_flow import post, start_scoring, tell_privately

if TYPE_CHECKING:
    from slack_bolt import App
    from slack_sdk import WebClient

    from bot.context import Services

SCORE_WORD = re.compile(r"\bscore\b", re.IGNORECASE)


def job_description(text: str) -> str:
    text = re.sub(r"<@[A-Z0-9]+>", " ", text or "")
    match = SCORE_WORD.search(text)
    return text[match.end():].strip(" :,-\n") if match else ""


def handle(services: Services, client: WebClient, event: dict[str, Any], bot_user_id: str) -> None:
    text = event.get("text") or ""
    if f"<@{bot_user_id}>" not in text or not SCORE_WORD.search(text):
        return
    channel, ts, user = event["channel"], event.get("thread_ts") or event["ts"], event.get("user", "")
    # Slack sends both app_mention and message for the same post: handle it once.
    if not services.store.insert_if_absent("slack_events_seen", {"event_id": f"score:{channel}:{event['ts']}",
                                                                 "seen_at": 0.0}):
        return
    csvs = [f for f in event.get("files") or [] if str(f.get("name", "")).lower().endswith(".csv")
            or f.get("filetype") == "csv"]
    if not csvs:
        post(client, channel, error_message("Attach a CSV of candidates to the message that says score.",
                                            hint="Or use `/pluto score` to pick a file in a form."), ts)
        return
    for file in csvs[:3]:
        defer(services, user, lambda f=file: start_scoring(services, client, file=f, channel=channel, thread_ts=ts, user=user,
                                                job_description=job_description(text)),
                   lambda m: tell_privately(client, channel, user, m), "score from a message")


def register(app: App, services: Services) -> None:
    @app.event("app_mention")
    def on_mention(event: dict[str, Any], client: WebClient, context: dict[str, Any]) -> None:
        handle(services, client, event, context.get("bot_user_id") or "")

    @app.event("message")
    def on_message(event: dict[str, Any], client: WebClient, context: dict[str, Any]) -> None:
        if event.get("files") and event.get("subtype") in (None, "file_share"):
            handle(services, client, event, context.get("bot_user_id") or "")
