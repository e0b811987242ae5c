"""Buttons under an "Ask Pluto" answer: the actions it proposed, done only now that they were pressed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.blocks import Message, error_message
from bot.blocks.assistant import CREATE_LINKS, DECIDE
from bot.context import Services
from bot.flows import assistant as flow
from bot.work import defer
from handlers import inject
from services.errors import NotFoundHere
from services.records import STALE


def _replier(client: WebClient, channel: str, thread_ts: str) -> Callable[[Message], None]:
    """Answer in the assistant thread the button is in (a DM with the app: private to the person)."""
    def reply(message: Message) -> None:
        client.chat_postMessage(channel=channel, thread_ts=thread_ts, **message.kwargs())
    return reply


def _where(body: dict[str, Any]) -> tuple[str, str]:
    container = body.get("container") or {}
    message = body.get("message") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id", "")
    return channel, container.get("thread_ts") or message.get("thread_ts") or message.get("ts") or ""


def on_create_links(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
                    services: Services) -> None:
    ack()
    user, (channel, thread_ts) = body["user"]["id"], _where(body)
    reply = _replier(client, channel, thread_ts)
    run_id, _, n = (action.get("value") or "").partition("|")
    if not run_id or not n.isdigit():
        reply(error_message(NotFoundHere(STALE).user_message))
        return
    message = body.get("message") or {}

    def work() -> None:
        done = flow.create_links(services, client, user=user, run_id=run_id, top_n=int(n))
        flow.close_proposal(client, channel, message, done.text)
        reply(done)

    defer(services.work, user, work, reply, "create voice links")


def on_decide(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
              services: Services) -> None:
    ack()
    user, (channel, thread_ts) = body["user"]["id"], _where(body)
    reply = _replier(client, channel, thread_ts)
    parts = (action.get("value") or "").split("|")
    if len(parts) != 3 or parts[2] not in ("advance", "reject"):
        reply(error_message(NotFoundHere(STALE).user_message))
        return
    board_id, candidate_id, decision = parts
    message = body.get("message") or {}

    def work() -> None:
        done = flow.decide(services, client, user=user, board_id=board_id, candidate_id=candidate_id,
                           decision=decision)
        flow.close_proposal(client, channel, message, done.text)
        reply(done)

    defer(services.work, user, work, reply, "record a decision")


def register(app: App, services: Services) -> None:
    app.action(CREATE_LINKS)(inject(on_create_links, services))
    app.action(DECIDE)(inject(on_decide, services))
