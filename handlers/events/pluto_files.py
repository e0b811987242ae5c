"""A CSV posted with a mention that says "score": the rest of the text is the job description.

The ``app_mention`` event itself is routed in :mod:`handlers.events.mentions`; both hand the message to
:func:`bot.flows.scoring.score_from_message` (Slack sends both for one post: it is scored once)."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.context import Services
from bot.flows.scoring import score_from_message
from bot.slack_out import SlackOut
from handlers import inject


def on_message(event: dict[str, Any], client: WebClient, context: dict[str, Any], services: Services) -> None:
    if event.get("files") and event.get("subtype") in (None, "file_share"):
        score_from_message(services, SlackOut(client), event, context.get("bot_user_id") or "")


def register(app: App, services: Services) -> None:
    app.event("message")(inject(on_message, services))
