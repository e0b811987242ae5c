"""The workspace's Nimrobo key and Pluto server forms (App Home, admins only): each is checked after the ack,
the modal shows the outcome, and the admin's Home tab is published again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.models.views import View

from bot.blocks import Message, loading_view
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
from bot.slack_out import SlackOut
from bot.work import defer
from handlers import inject
from services.errors import BotError


def _value(view: dict[str, Any], block: str, action: str) -> str:
    return (((view.get("state") or {}).get("values") or {}).get(block) or {}).get(action, {}).get("value") or ""


def _check_then_show(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services, *,
                     title: str, waiting: str, check: Callable[[str], View], what: str) -> None:
    """Ack with a "checking…" page at once; the check (a call to a backend) runs on the work pool and its
    outcome replaces the page by its external id, so it lands after the ack's page, never under it
    (a closed modal gets the outcome by DM). The admin's Home tab then shows the new state."""
    checking = loading_view(title, waiting)
    external_id = f"{view.get('callback_id')}:{view['id']}"
    checking.external_id = external_id
    ack(response_action="update", view=checking.to_dict())
    user, out = body["user"]["id"], SlackOut(client)

    def work() -> None:
        outcome = check(user)
        if not out.show_after_ack(external_id, outcome):  # the modal was closed meanwhile
            out.dm(user, Message(text=title, blocks=outcome.blocks))
        refresh_home(services, client, user)

    defer(services.work, user, work, lambda m: out.dm(user, m), what)


def on_nimrobo_key(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient,
                   services: Services) -> None:
    key = _value(view, KEY_BLOCK, KEY_ACTION)
    if not key.strip():
        ack(response_action="errors", errors={KEY_BLOCK: "Paste the workspace's Nimrobo API key."})
        return

    def check(user: str) -> View:
        try:
            return key_result_view(services.backends.set_nimrobo_key(user, key))
        except BotError as exc:
            return key_result_view(None, exc.user_message)

    _check_then_show(ack, body, view, client, services, title="Workspace Nimrobo key",
                     waiting="Checking the key with Nimrobo…", check=check, what="workspace Nimrobo key")


def on_pluto_server(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient,
                    services: Services) -> None:
    url = _value(view, URL_BLOCK, URL_ACTION).strip()
    if not url.startswith(("http://", "https://")):
        ack(response_action="errors", errors={URL_BLOCK: "Give the server's address, starting with https://"})
        return

    def check(user: str) -> View:
        try:
            return pluto_result_view(services.backends.set_pluto_server(user, url))
        except BotError as exc:
            return pluto_result_view(None, exc.user_message)

    _check_then_show(ack, body, view, client, services, title="Workspace Pluto server",
                     waiting="Asking the Pluto server…", check=check, what="workspace Pluto server")


def register(app: App, services: Services) -> None:
    app.view(NIMROBO_MODAL)(inject(on_nimrobo_key, services))
    app.view(PLUTO_MODAL)(inject(on_pluto_server, services))
