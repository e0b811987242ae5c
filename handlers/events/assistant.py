"""The "Ask Pluto" pane, with Bolt's ``Assistant``: the thread started, a question, the context changed.

Each listener only reads the payload and hands the work to the work pool (``bot/flows/assistant.py``);
Bolt has acknowledged the event already.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import App, Assistant, SaveThreadContext
from slack_sdk import WebClient

from bot.blocks import Message, error_message
from bot.context import Services
from bot.flows import assistant as flow
from bot.work import defer
from handlers import inject


def _reply(client: WebClient, channel: str, thread_ts: str) -> Callable[[Message], None]:
    def reply(message: Message) -> None:
        client.chat_postMessage(channel=channel, thread_ts=thread_ts, **message.kwargs())
    return reply


def on_thread_started(payload: dict[str, Any], client: WebClient, services: Services) -> None:
    thread = payload.get("assistant_thread") or {}
    user, channel, thread_ts = thread.get("user_id", ""), thread.get("channel_id", ""), thread.get("thread_ts", "")
    defer(services.work, user,
          lambda: flow.thread_started(services, client, user=user, channel=channel, thread_ts=thread_ts,
                                      context=dict(thread.get("context") or {})),
          _reply(client, channel, thread_ts), "Ask Pluto")


def on_user_message(payload: dict[str, Any], client: WebClient, services: Services) -> None:
    user, channel = payload.get("user", ""), payload.get("channel", "")
    thread_ts, text = payload.get("thread_ts", ""), payload.get("text") or ""
    if not text.strip():  # a file or an emoji alone: say how to ask, after the ack like everything else
        reply = _reply(client, channel, thread_ts)
        defer(services.work, user, lambda: reply(error_message(
            "Ask me in words: for example “Top candidates of my last run”.")), reply, "Ask Pluto")
        return
    defer(services.work, user,
          lambda: flow.answer(services, client, user=user, channel=channel, thread_ts=thread_ts, text=text,
                              message_ts=payload.get("ts", "")),
          _reply(client, channel, thread_ts), "Ask Pluto")


def on_context_changed(payload: dict[str, Any], save_thread_context: SaveThreadContext) -> None:
    """The person moved to another conversation with the pane open: later questions start from it."""
    save_thread_context((payload.get("assistant_thread") or {}).get("context") or {})


def register(app: App, services: Services) -> None:
    assistant = Assistant(thread_context_store=flow.StoredThreadContext(services))
    assistant.thread_started(inject(on_thread_started, services))
    assistant.user_message(inject(on_user_message, services))
    assistant.thread_context_changed(on_context_changed)
    app.assistant(assistant)
