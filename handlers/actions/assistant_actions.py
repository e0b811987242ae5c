"""Buttons under an "Ask Pluto" answer: the actions it proposed, done only now that they were pressed.

Every answer goes to the assistant thread the button is in (a DM with the app: private to the person)."""

from __future__ import annotations

from slack_bolt import App

from bot.blocks import Message
from bot.blocks.assistant import CREATE_LINKS, DECIDE
from bot.context import Services
from bot.flows import assistant as flow
from handlers import inject
from handlers.clicks import Click, listener
from services.errors import NotFoundHere
from services.records import STALE


def _closing(click: Click, done: Message) -> Message:
    """The proposal pressed loses its buttons and says what was done; ``done`` then goes to the thread."""
    flow.close_proposal(click.client, click.channel, click.body.get("message") or {}, done.text)
    return done


@listener(to="thread")
def on_create_links(click: Click) -> None:
    run_id, n = click.pair()
    if not n.isdigit():
        raise NotFoundHere(STALE)
    click.defer("create voice links", lambda c: _closing(c, flow.create_links(
        c.services, c.client, user=c.user, run_id=run_id, top_n=int(n))))


@listener(to="thread")
def on_decide(click: Click) -> None:
    board_id, candidate_id, decision = click.parts(3)
    if decision not in ("advance", "reject"):
        raise NotFoundHere(STALE)
    click.defer("record a decision", lambda c: _closing(c, flow.decide(
        c.services, c.client, user=c.user, board_id=board_id, candidate_id=candidate_id, decision=decision)))


def register(app: App, services: Services) -> None:
    app.action(CREATE_LINKS)(inject(on_create_links, services))
    app.action(DECIDE)(inject(on_decide, services))
