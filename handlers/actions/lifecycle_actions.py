"""Erase / Cancel on the private ``/pluto forget`` question: every answer replaces the question."""

from __future__ import annotations

from slack_bolt import App

from bot.blocks import Message, info_message
from bot.blocks.lifecycle import FORGET_CANCEL, FORGET_CONFIRM
from bot.context import Services
from bot.flows import lifecycle
from handlers import inject
from handlers.clicks import Click, deferred, listener


@deferred("erasure", respond=True, replace=True)
def on_forget_confirm(click: Click) -> Message:
    """The admin confirmed: erase, then the one private summary replaces the question."""
    return lifecycle.forget(click.services, click.client, click.user, click.value)


@listener(respond=True, replace=True)
def on_forget_cancel(click: Click) -> None:
    click.reply(info_message("Nothing was erased."))


def register(app: App, services: Services) -> None:
    app.action(FORGET_CONFIRM)(inject(on_forget_confirm, services))
    app.action(FORGET_CANCEL)(inject(on_forget_cancel, services))
