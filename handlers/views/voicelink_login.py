"""The login modal: the key is checked with Nimrobo after the ack, and the modal shows the outcome."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.blocks import loading_view
from bot.blocks.keys import KEY_ACTION, KEY_BLOCK, LOGIN_MODAL, login_result_message, login_result_view
from bot.context import Services
from bot.slack_out import SlackOut
from bot.work import defer
from handlers import inject
from services.errors import BotError


def on_login(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services) -> None:
    key = ((view["state"]["values"].get(KEY_BLOCK) or {}).get(KEY_ACTION) or {}).get("value") or ""
    if not key.strip():
        ack(response_action="errors", errors={KEY_BLOCK: "Paste your Nimrobo API key."})
        return
    # The check calls Nimrobo: never on the ack path. The modal turns into "checking…" at once, through the
    # ack; the outcome replaces it by its external id, so it can only land after it (SlackOut.show_after_ack).
    checking, external_id = loading_view("Your Nimrobo key", "Checking the key with Nimrobo…"), f"{LOGIN_MODAL}:{view['id']}"
    checking.external_id = external_id
    ack(response_action="update", view=checking.to_dict())
    user, out = body["user"]["id"], SlackOut(client)

    def check() -> None:
        try:
            login, problem = services.keys.login(user, key), ""
        except BotError as exc:
            login, problem = None, exc.user_message
        if not out.show_after_ack(external_id, login_result_view(login, problem)):  # the modal was closed
            out.dm(user, login_result_message(login, problem))

    defer(services.work, user, check, lambda m: out.dm(user, m), "/voicelink login")


def register(app: App, services: Services) -> None:
    app.view(LOGIN_MODAL)(inject(on_login, services))
