"""Buttons on the App Home tab: pages of each list, refresh, the doctor's checks again, new voice links, and
(admins, several workspaces) the workspace's own Nimrobo key and Pluto server."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.blocks.board import board_message, home_pages
from bot.blocks.voice import create_modal
from bot.blocks.workspace_admin import (
    CLEAR_KEY,
    CLEAR_PLUTO,
    SET_KEY,
    SET_PLUTO,
    nimrobo_key_modal,
    pluto_server_modal,
)
from bot.context import Services
from bot.flows.home import publish_home
from bot.slack_out import SlackOut
from bot.work import Reply, defer, run_safely
from handlers import inject
from services.errors import NotAllowed

log = logging.getLogger(__name__)
PAGE_ACTION = re.compile(r"^home_page_(?:next|prev)_\w+$")


def _dm_reply(client: WebClient, user: str) -> Reply:
    """The Home tab has no thread to answer in: problems go to the person's DM."""
    return lambda message: SlackOut(client).dm(user, message)


def on_page(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, services: Services) -> None:
    ack()
    section, _, page = (action.get("value") or "").rpartition("|")
    pages = {**home_pages(body.get("view")), section: int(page) if page.isdigit() else 1}
    user = body["user"]["id"]
    defer(services.work, user, lambda: publish_home(services, client, user, pages=pages), _dm_reply(client, user),
          "App Home page")


def on_refresh(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
               services: Services) -> None:
    ack()
    user = body["user"]["id"]
    fresh = action.get("action_id") == "home_doctor"
    defer(services.work, user,
          lambda: publish_home(services, client, user, pages=home_pages(body.get("view")), fresh_checks=fresh),
          _dm_reply(client, user), "App Home")


def on_new_links(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
                 services: Services) -> None:
    """The /voicelink create form from the Home tab; its card goes to the person's DM with the bot."""
    ack()
    user = body["user"]["id"]
    name = action.get("value") if action.get("value") not in (None, "", "home") else ""

    def open_form() -> None:  # right after the ack: a trigger id lasts 3 s
        channel = client.conversations_open(users=user)["channel"]["id"]
        view = create_modal(channel, "interview", {"name": name or ""}, ai=services.voicelinks.ai_drafting)
        client.views_open(trigger_id=body["trigger_id"], view=view.to_dict())

    run_safely(open_form, _dm_reply(client, user), "new voice links")


def on_show_board(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
                  services: Services) -> None:
    """"Show board" (a board whose message Slack can't link to): the board by DM, for someone who may see
    its run; anyone else gets the access service's refusal, whether or not the board exists."""
    ack()
    user = body["user"]["id"]
    reply = _dm_reply(client, user)

    def work() -> None:
        board_id = action.get("value") or ""
        decision = services.access.may_see_board(user, board_id)
        if not decision.allowed:
            raise NotAllowed(decision.refusal("that screening board"))
        SlackOut(client).dm(user, board_message(services.screening.board_view(board_id), public=False))

    defer(services.work, user, work, reply, "screening board")


def on_backend_form(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
                    services: Services) -> None:
    """"Set Nimrobo key" / "Set Pluto server": the form, for an admin of a workspace that may set them; anyone
    else (a forged click) is refused by DM and sees no form."""
    ack()
    user = body["user"]["id"]

    def open_form() -> None:  # right after the ack: a trigger id lasts 3 s
        services.backends.admin_here(user)
        view = nimrobo_key_modal() if action.get("action_id") == SET_KEY else \
            pluto_server_modal(services.backends.state().pluto_server)
        client.views_open(trigger_id=body["trigger_id"], view=view.to_dict())

    run_safely(open_form, _dm_reply(client, user), "workspace backends")


def on_backend_clear(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
                     services: Services) -> None:
    """"Use the default key / server": the workspace's own setting goes (admins only), and the tab shows it."""
    ack()
    user = body["user"]["id"]

    def clear() -> None:
        if action.get("action_id") == CLEAR_KEY:
            services.backends.clear_nimrobo_key(user)
        else:
            services.backends.clear_pluto_server(user)
        publish_home(services, client, user, pages=home_pages(body.get("view")))

    defer(services.work, user, clear, _dm_reply(client, user), "workspace backends")


def on_link_button(ack: Ack) -> None:
    """"Open board" is a link; Slack still reports the click, which needs only an ack."""
    ack()


def register(app: App, services: Services) -> None:
    app.action(PAGE_ACTION)(inject(on_page, services))
    app.action("home_refresh")(inject(on_refresh, services))
    app.action("home_doctor")(inject(on_refresh, services))
    app.action("home_voicelink_create")(inject(on_new_links, services))
    app.action("home_open_board")(on_link_button)
    app.action("home_show_board")(inject(on_show_board, services))
    for action_id in (SET_KEY, SET_PLUTO):
        app.action(action_id)(inject(on_backend_form, services))
    for action_id in (CLEAR_KEY, CLEAR_PLUTO):
        app.action(action_id)(inject(on_backend_clear, services))
