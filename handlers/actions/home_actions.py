"""Buttons on the App Home tab: pages of each list, refresh, the doctor's checks again, new voice links, and
(admins, several workspaces) the workspace's own Nimrobo key and Pluto server."""

from __future__ import annotations

import re

from slack_bolt import Ack, App

from bot.blocks import Message
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
from handlers import inject
from handlers.clicks import Click, at_once, deferred
from services.errors import NotAllowed

PAGE_ACTION = re.compile(r"^home_page_(?:next|prev)_\w+$")
# The Home tab has no conversation to answer in: every listener here answers by DM (to="dm").


@deferred("App Home page", to="dm")
def on_page(click: Click) -> None:
    section, _, page = click.value.rpartition("|")
    pages = {**home_pages(click.body.get("view")), section: int(page) if page.isdigit() else 1}
    publish_home(click.services, click.client, click.user, pages=pages)


@deferred("App Home", to="dm")
def on_refresh(click: Click) -> None:
    publish_home(click.services, click.client, click.user, pages=home_pages(click.body.get("view")),
                 fresh_checks=click.action.get("action_id") == "home_doctor")


@at_once("new voice links", to="dm")  # right after the ack: a trigger id lasts 3 s
def on_new_links(click: Click) -> None:
    """The /voicelink create form from the Home tab; its card goes to the person's DM with the bot."""
    name = click.value if click.value != "home" else ""
    channel = click.out.dm_channel(click.user)
    view = create_modal(channel, "interview", {"name": name}, ai=click.services.voicelinks.ai_drafting)
    click.client.views_open(trigger_id=click.body["trigger_id"], view=view.to_dict())


@deferred("screening board", to="dm")
def on_show_board(click: Click) -> Message:
    """"Show board" (a board whose message Slack can't link to): the board by DM, for someone who may see
    its run; anyone else gets the access service's refusal, whether or not the board exists."""
    decision = click.services.access.may_see_board(click.user, click.value)
    if not decision.allowed:
        raise NotAllowed(decision.refusal("that screening board"))
    return board_message(click.services.screening.board_view(click.value), public=False)


@at_once("workspace backends", to="dm")  # right after the ack: a trigger id lasts 3 s
def on_backend_form(click: Click) -> None:
    """"Set Nimrobo key" / "Set Pluto server": the form, for an admin of a workspace that may set them; anyone
    else (a forged click) is refused by DM and sees no form."""
    backends = click.services.backends
    if click.action.get("action_id") == SET_KEY:
        backends.admin_here(click.user)
        view = nimrobo_key_modal()
    else:
        view = pluto_server_modal(backends.own_pluto_server(click.user))
    click.client.views_open(trigger_id=click.body["trigger_id"], view=view.to_dict())


@deferred("workspace backends", to="dm")
def on_backend_clear(click: Click) -> None:
    """"Use the default key / server": the workspace's own setting goes (admins only), and the tab shows it."""
    if click.action.get("action_id") == CLEAR_KEY:
        click.services.backends.clear_nimrobo_key(click.user)
    else:
        click.services.backends.clear_pluto_server(click.user)
    publish_home(click.services, click.client, click.user, pages=home_pages(click.body.get("view")))


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
