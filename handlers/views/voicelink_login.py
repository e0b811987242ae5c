"""The login modal: the key is checked with Nimrobo after the ack (handlers/forms.py), and the modal shows the
outcome."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.blocks.keys import KEY_ACTION, KEY_BLOCK, LOGIN_MODAL, login_result_view
from bot.context import Services
from handlers import inject
from handlers.forms import CheckedForm, submit_checked

LOGIN = CheckedForm(KEY_BLOCK, KEY_ACTION, lambda key: None if key else "Paste your Nimrobo API key.",
                    lambda services, user, key: services.keys.login(user, key), login_result_view,
                    "Your Nimrobo key", "Checking the key with Nimrobo…", "/voicelink login")


def on_login(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services) -> None:
    submit_checked(LOGIN, ack, body, view, client, services)


def register(app: App, services: Services) -> None:
    app.view(LOGIN_MODAL)(inject(on_login, services))
