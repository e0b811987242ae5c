"""The workspace's Nimrobo key and Pluto server forms (App Home, admins only): each is checked after the ack
(handlers/forms.py), the modal shows the outcome, and the admin's Home tab is published again."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.blocks.workspace_admin import (
    KEY_ACTION,
    KEY_BLOCK,
    NIMROBO_MODAL,
    PLUTO_MODAL,
    URL_ACTION,
    URL_BLOCK,
    key_result_view,
    pluto_result_view,
)
from bot.context import Services
from bot.flows.home import refresh_home
from handlers import inject
from handlers.forms import CheckedForm, submit_checked

NIMROBO_KEY = CheckedForm(KEY_BLOCK, KEY_ACTION, lambda key: None if key else "Paste the workspace's Nimrobo API key.",
                          lambda services, user, key: services.backends.set_nimrobo_key(user, key), key_result_view,
                          "Workspace Nimrobo key", "Checking the key with Nimrobo…", "workspace Nimrobo key",
                          then=refresh_home)
PLUTO_SERVER = CheckedForm(URL_BLOCK, URL_ACTION, lambda url: None if url.startswith(("http://", "https://"))
                           else "Give the server's address, starting with https://",
                           lambda services, user, url: services.backends.set_pluto_server(user, url),
                           pluto_result_view, "Workspace Pluto server", "Asking the Pluto server…",
                           "workspace Pluto server", then=refresh_home)


def on_nimrobo_key(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient,
                   services: Services) -> None:
    submit_checked(NIMROBO_KEY, ack, body, view, client, services)


def on_pluto_server(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient,
                    services: Services) -> None:
    submit_checked(PLUTO_SERVER, ack, body, view, client, services)


def register(app: App, services: Services) -> None:
    app.view(NIMROBO_MODAL)(inject(on_nimrobo_key, services))
    app.view(PLUTO_MODAL)(inject(on_pluto_server, services))
