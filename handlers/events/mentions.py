"""Mentions of the bot: the interview assistant in an Interview card's thread, else a file of names for voice
links (a mention that says "links", bot/flows/voice.py's ``links_from_mention``), else scoring a CSV
(bot/flows/scoring.py's ``score_from_message``).

Bolt runs one listener per event, so this module owns ``app_mention`` and routes it.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.blocks import info_message
from bot.context import Services
from bot.flows.interviews import ask_assistant, assistant_room
from bot.flows.scoring import says_score, score_from_message
from bot.flows.voice import links_from_mention, wants_links
from bot.slack_out import SlackOut
from bot.work import defer
from handlers import inject


def on_mention(event: dict[str, Any], client: WebClient, context: dict[str, Any], services: Services) -> None:
    room = assistant_room(services, event)
    if room is None and wants_links(event):
        links_from_mention(services, SlackOut(client), event)
        return
    if room is None and not says_score(event.get("text") or ""):
        hint_privately(event, client, services)  # a mention with nothing to do still gets an answer
        return
    if room is None:
        score_from_message(services, SlackOut(client), event, context.get("bot_user_id") or "")
        return
    channel, user = event["channel"], event.get("user") or ""
    if not services.events.first_time(f"assistant:{channel}:{event['ts']}"):  # Slack re-sent it
        return
    out = SlackOut(client)
    defer(services.work, user, lambda: ask_assistant(services, out, room, event),
          lambda message: out.reply_privately(channel, user, message, event.get("thread_ts")), "interview assistant")


MENTION_HINT = ("Mention me with *score* and a CSV attached to score candidates, or with *links* and a file of "
                "names for voice links; in an Interview card's thread, ask the interview assistant. "
                "`/pluto help` and `/voicelink help` list everything else.")


def hint_privately(event: dict[str, Any], client: WebClient, services: Services) -> None:
    """What a mention can do, to the person who mentioned the bot only (once, however often Slack re-sends it)."""
    channel, user = event["channel"], event.get("user") or ""
    if not user or not services.events.first_time(f"mention-hint:{channel}:{event['ts']}"):
        return
    out = SlackOut(client)
    defer(services.work, user, lambda: out.reply_privately(channel, user, info_message(MENTION_HINT),
                                                           event.get("thread_ts")),
          lambda message: None, "mention hint")


def register(app: App, services: Services) -> None:
    app.event("app_mention")(inject(on_mention, services))
