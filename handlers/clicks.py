"""The steps every action listener shares, written once.

A Bolt action listener always does the same things: ack at once, see who clicked and where,
parse the button's value, load the record it names, check the clicker may use it, answer
privately, and run anything slow on the work pool. Here those steps are decorators and one
:class:`Click`, so a listener keeps only what differs::

    @deferred("sort the board")                   # acks, then runs on the work pool; failures answered
    def on_sort(click: Click) -> Message | None:  # privately
        board_id, sort = click.pair()             # "a|b"; an old or forged value is told privately
        board = load_board(click, board_id)       # the feature's loader: the record, access checked
        ...
        return None                               # or a Message: sent privately to the clicker

    @modal("Candidate", "Loading the candidate…", "candidate details")
    def on_details(click: Click) -> View: ...     # a loading modal at once, filled from the pool

    @listener                                     # acks, then runs on the ack path: quick steps only
    def on_screen_one(click: Click) -> None: ...  # (click.defer / click.open_modal inside it)

:func:`listener` (and so :func:`deferred` and :func:`modal`) keeps Bolt's calling convention (``ack``, ``body``, ``action``, ``client``,
``services`` by name), so a test still calls ``on_sort(ack=..., body=..., action=..., client=...,
services=...)`` with a mock ``ack``. ``click.reply`` is private by default (an ephemeral message
where the click happened); a listener names another place with ``to=``: ``"dm"`` (the App Home tab,
which has no conversation), ``"thread"`` (the assistant thread the button is in, a DM with the app),
or ``respond=True`` (the click's response_url; ``replace=True`` replaces the private message clicked).
Listener modules import these from here, never from each other.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from slack_bolt import Ack, Respond
from slack_sdk import WebClient
from slack_sdk.models.views import View

from bot.blocks import Message, error_message
from bot.context import Services
from bot.slack_out import SlackOut, respond_privately
from bot.work import Reply, defer, defer_modal, run_safely
from services.errors import BotError, NotFoundHere
from services.records import SEP, STALE

Step = Callable[["Click"], Any]
Listener = Callable[..., None]
R = TypeVar("R")
To = Literal["here", "dm", "thread"]


def where(body: dict[str, Any]) -> tuple[str, str, str | None]:
    """(channel, user, thread) of a click."""
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or ""
    message = body.get("message") or {}
    return channel, body["user"]["id"], message.get("thread_ts") or message.get("ts")


def private_reply(client: WebClient, body: dict[str, Any], *, threaded: bool = True, to: To = "here") -> Reply:
    """Answer the person who clicked, privately, where they clicked (in the message's thread unless
    ``threaded`` is off); by DM when the click came from no conversation or ``to="dm"``; ``to="thread"``:
    a message in the clicked message's thread (an assistant thread: a DM with the app, private to them)."""
    channel, user, thread = where(body)
    out = SlackOut(client)
    if to == "thread":
        thread = (body.get("container") or {}).get("thread_ts") or thread or ""
        return lambda message: client.chat_postMessage(channel=channel, thread_ts=thread, **message.kwargs())
    if not channel or to == "dm":
        return lambda message: out.dm(user, message)
    return lambda message: out.reply_privately(channel, user, message, thread if threaded else None)


@dataclass
class Click:
    """One button press or select choice, with what every listener needs from it."""

    services: Services
    client: Any  # the WebClient (None in a listener test that needs none)
    body: dict[str, Any]
    action: dict[str, Any]
    respond: Respond | None = None  # through the click's response_url, when the listener answers that way
    threaded: bool = True  # a private answer goes in the clicked message's thread
    to: To = "here"  # where click.reply answers when not through the response_url
    replace_clicked: bool = False  # through the response_url: every answer replaces the message clicked
    reply: Reply = field(init=False)

    def __post_init__(self) -> None:
        self.channel, self.user, self.thread = where(self.body)
        respond, replace = self.respond, self.replace_clicked
        self.reply = (private_reply(self.client, self.body, threaded=self.threaded, to=self.to) if respond is None
                      else lambda message: respond_privately(respond, message, replace=replace))

    def replace(self, message: Message) -> None:
        """Answer privately in place of the private message clicked (a picker, a page), through the
        response_url."""
        assert self.respond is not None, "replace() needs a listener made with respond=True"
        respond_privately(self.respond, message, replace=True)

    @property
    def value(self) -> str:
        """The button's value, or the chosen option's."""
        return self.action.get("value") or (self.action.get("selected_option") or {}).get("value") or ""

    @property
    def out(self) -> SlackOut:
        return SlackOut(self.client)

    @property
    def ephemeral(self) -> bool:
        """Pressed on a message only the clicker sees."""
        return bool((self.body.get("container") or {}).get("is_ephemeral"))

    @property
    def message_ts(self) -> str | None:
        return (self.body.get("message") or {}).get("ts")

    def pair(self) -> tuple[str, str]:
        """``"a|b"`` from the value; an old or forged value is a polite refusal."""
        first, sep, second = self.value.partition(SEP)
        if not sep or not first or not second:
            raise NotFoundHere(STALE)
        return first, second

    def parts(self, count: int) -> list[str]:
        """``count`` non-empty parts of ``"a|b|c"``; an old or forged value is a polite refusal."""
        parts = self.value.split(SEP)
        if len(parts) != count or not all(parts):
            raise NotFoundHere(STALE)
        return parts

    def parsed(self, parse: Callable[[str], R]) -> R:
        """The value read by ``parse`` (``CandidateRef.parse``, ``PageRef.parse`` ...)."""
        return parse(self.value)

    def defer(self, what: str, step: Step) -> None:
        """Run ``step(click)`` on the work pool after the ack, as the clicker (their own keys); a ``Message``
        it returns goes to them privately, and a failure reaches them as a private message naming ``what``."""

        def work() -> None:
            answer = step(self)
            if isinstance(answer, Message):
                self.reply(answer)

        defer(self.services.work, self.user, work, self.reply, what)

    def now(self, what: str, step: Step) -> None:
        """Run ``step(click)`` at once on the ack path (opening a form: a trigger id lasts 3 s); any failure
        reaches the clicker as a private message naming ``what``."""
        run_safely(lambda: step(self), self.reply, what)

    def open_modal(self, title: str, waiting: str, what: str, build: Callable[[Click], View]) -> None:
        """A loading modal now (a trigger id lasts 3 s), filled with ``build(click)`` from the work pool;
        a refusal shows in the modal."""
        defer_modal(self.services.work, self.client, self.body, title, waiting, lambda: build(self), self.reply,
                    what)


def listener(step: Step | None = None, *, respond: bool = False, threaded: bool = True, to: To = "here",
             replace: bool = False) -> Any:
    """The Bolt listener for ``step(click)``: acks first, then runs it on the ack path (keep it quick). A
    refusal raised there (an old button's value, say) is answered privately; anything else is Bolt's error
    handler's. ``respond=True``: ``click.reply`` answers through the click's response_url (it can replace
    the private message clicked) instead of ``chat.postEphemeral``, and with ``replace=True`` every answer
    replaces it; ``threaded=False``: not in the clicked message's thread; ``to``: see :func:`private_reply`."""
    if step is None:
        return lambda step: listener(step, respond=respond, threaded=threaded, to=to, replace=replace)
    uses_respond = respond

    @functools.wraps(step)
    def on_action(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient | None = None,
                  services: Services | None = None, respond: Respond | None = None) -> None:
        # every parameter positional-or-keyword: Bolt passes the names getfullargspec(...).args lists
        assert services is not None, "inject() supplies services"
        ack()
        click = Click(services, client, body, action, respond if uses_respond else None, threaded, to, replace)
        try:
            step(click)
        except BotError as exc:
            click.reply(error_message(exc.user_message))

    # Bolt (and inject()) pass what the signature names: the adapter's own, not the step's, and
    # ``respond`` only to a listener that answers through it.
    del on_action.__wrapped__
    signature = inspect.signature(on_action)
    on_action.__signature__ = signature.replace(  # type: ignore[attr-defined]  # read by inspect.signature
        parameters=[p for name, p in signature.parameters.items() if uses_respond or name != "respond"])
    return on_action


def deferred(what: str, *, respond: bool = False, threaded: bool = True, to: To = "here",
             replace: bool = False) -> Callable[[Step], Listener]:
    """The listener that acks, then runs the step on the work pool as the clicker (see :meth:`Click.defer`)."""

    def wrap(step: Step) -> Listener:
        return listener(functools.wraps(step)(lambda click: click.defer(what, step)), respond=respond,
                        threaded=threaded, to=to, replace=replace)

    return wrap


def at_once(what: str, *, to: To = "here") -> Callable[[Step], Listener]:
    """The listener that acks, then runs the step at once on the ack path (see :meth:`Click.now`): for a step
    that opens a form, whose trigger id lasts 3 s."""

    def wrap(step: Step) -> Listener:
        return listener(functools.wraps(step)(lambda click: click.now(what, step)), to=to)

    return wrap


def modal(title: str, waiting: str, what: str, *, respond: bool = False) -> Callable[[Callable[[Click], View]], Listener]:
    """The listener that acks, opens a loading modal and fills it with the step's ``View``
    (see :meth:`Click.open_modal`)."""

    def wrap(build: Callable[[Click], View]) -> Listener:
        return listener(functools.wraps(build)(lambda click: click.open_modal(title, waiting, what, build)),
                        respond=respond)

    return wrap
