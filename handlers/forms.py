"""The shared step of a form whose value a backend must check before it is kept (a Nimrobo key, a Pluto server):
refused at once when it is plainly wrong, else acked with a "checking…" page; the check runs on the work pool and
its outcome replaces that page (by its external id, so it lands after the ack's page, never under it). A form
closed meanwhile gets the outcome by DM."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient
from slack_sdk.models.views import View

from bot.blocks import Message, fallback_text, loading_view, to_dicts
from bot.context import Services
from bot.slack_out import SlackOut
from bot.work import defer
from services.errors import BotError


@dataclass(frozen=True)
class CheckedForm:
    """What differs between such forms: where the value is, how it is refused at once, how it is kept."""

    block: str
    action: str
    refuse: Callable[[str], str | None]  # the inline error for a value refused before any check, or None
    keep: Callable[[Services, str, str], Any]  # (services, user, value) -> what was kept (checked first)
    result: Callable[[Any, str], View]  # the outcome page: (what was kept or None, the problem)
    title: str
    waiting: str
    what: str
    then: Callable[[Services, WebClient, str], None] | None = None  # after the outcome: (services, client, user)


def submit_checked(form: CheckedForm, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient,
                   services: Services) -> None:
    state = ((view.get("state") or {}).get("values") or {}).get(form.block) or {}
    value = ((state.get(form.action) or {}).get("value") or "").strip()
    problem = form.refuse(value)
    if problem:
        ack(response_action="errors", errors={form.block: problem})
        return
    checking = loading_view(form.title, form.waiting)  # the check calls a backend: never on the ack path
    external_id = f"{view.get('callback_id')}:{view['id']}"
    checking.external_id = external_id
    ack(response_action="update", view=checking.to_dict())
    user, out = body["user"]["id"], SlackOut(client)

    def work() -> None:
        try:
            outcome = form.result(form.keep(services, user, value), "")
        except BotError as exc:
            outcome = form.result(None, exc.user_message)
        if not out.show_after_ack(external_id, outcome):  # the form was closed meanwhile
            out.dm(user, Message(text=f"{form.title}: {fallback_text(to_dicts(outcome.blocks or []))}", blocks=outcome.blocks))
        if form.then is not None:
            form.then(services, client, user)

    defer(services.work, user, work, lambda m: out.dm(user, m), form.what)
