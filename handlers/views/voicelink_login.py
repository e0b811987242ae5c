"""The login modal: the key is checked with Nimrobo after the ack, and the modal shows the outcome."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.blocks import loading_view
from bot.blocks.keys import KEY_ACTION, KEY_BLOCK, LOGIN_MODAL, login_result_view
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
    # The check calls Nimrobo: never on the ack path. The modal turns into "checking…" at once.
    ack(response_action="update", view=loading_view("Your Nimrobo key", "Checking the key with Nimrobo…").to_dict())
    user, view_id = body["user"]["id"], view["id"]

    def check() -> None:
        try:
            result = login_result_view(services.keys.login(user, key))
        except BotError as exc:
            result = login_result_view(None, exc.user_message)
        client.views_update(view_id=view_id, view=result.to_dict())

    defer(services.work, user, check, lambda m: SlackOut(client).dm(user, m), "/voicelink login")


def register(app: App, services: Services) -> None:
    app.view(LOGIN_MODAL)(inject(on_login, services))
