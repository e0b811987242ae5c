"""Erase / Cancel on the private ``/pluto forget`` question."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.blocks import info_message
from bot.blocks.lifecycle import FORGET_CANCEL, FORGET_CONFIRM
from bot.context import Services
from bot.flows import lifecycle
from bot.slack_out import respond_privately
from bot.work import defer
from handlers import inject


def on_forget_confirm(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond,
                      services: Services) -> None:
    """The admin confirmed: erase, then the one private summary replaces the question."""
    ack()
    user = body["user"]["id"]

    def reply(message: Any) -> None:
        respond_privately(respond, message, replace=True)

    defer(services.work, user, lambda: reply(lifecycle.forget(services, client, user, action.get("value") or "")),
          reply, "erasure")


def on_forget_cancel(ack: Ack, respond: Respond) -> None:
    ack()
    respond_privately(respond, info_message("Nothing was erased."), replace=True)


def register(app: App, services: Services) -> None:
    app.action(FORGET_CONFIRM)(inject(on_forget_confirm, services))
    app.action(FORGET_CANCEL)(inject(on_forget_cancel, services))
