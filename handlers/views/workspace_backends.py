"""The workspace's Nimrobo key and Pluto server forms (App Home, admins only): each is checked after the ack,
the modal shows the outcome, and the admin's Home tab is published again."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class _Form:
    """What differs between the two forms: where the value is, how it is refused at once, how it is kept."""

    block: str
    action: str
    refuse: Callable[[str], str | None]  # the inline error for a value refused before any check, or None
    keep: Callable[[Services, str, str], Any]  # (services, admin, value) -> what was kept (checked first)
    result: Callable[[Any, str], View]  # the outcome page: (what was kept or None, the problem)
    title: str
    waiting: str
    what: str


def _submit(form: _Form, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient,
            services: Services) -> None:
    value = _value(view, form.block, form.action).strip()
    problem = form.refuse(value)
    if problem:
        ack(response_action="errors", errors={form.block: problem})
        return

    def check(user: str) -> View:
        try:
            return form.result(form.keep(services, user, value), "")
        except BotError as exc:
            return form.result(None, exc.user_message)

    _check_then_show(ack, body, view, client, services, title=form.title, waiting=form.waiting, check=check,
                     what=form.what)


NIMROBO_KEY = _Form(KEY_BLOCK, KEY_ACTION, lambda key: None if key else "Paste the workspace's Nimrobo API key.",
                    lambda services, user, key: services.backends.set_nimrobo_key(user, key), key_result_view,
                    "Workspace Nimrobo key", "Checking the key with Nimrobo…", "workspace Nimrobo key")
PLUTO_SERVER = _Form(URL_BLOCK, URL_ACTION, lambda url: None if url.startswith(("http://", "https://"))
                     else "Give the server's address, starting with https://",
                     lambda services, user, url: services.backends.set_pluto_server(user, url), pluto_result_view,
                     "Workspace Pluto server", "Asking the Pluto server…", "workspace Pluto server")


def on_nimrobo_key(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient,
                   services: Services) -> None:
    _submit(NIMROBO_KEY, ack, body, view, client, services)


def on_pluto_server(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient,
                    services: Services) -> None:
    _submit(PLUTO_SERVER, ack, body, view, client, services)


def register(app: App, services: Services) -> None:
    app.view(NIMROBO_MODAL)(inject(on_nimrobo_key, services))
    app.view(PLUTO_MODAL)(inject(on_pluto_server, services))
