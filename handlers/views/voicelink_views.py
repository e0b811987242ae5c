"""/voicelink modal submissions: create (inline errors, then private links and a channel card), edits."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError

from bot.blocks import info_message
from bot.blocks.voice import (
    CREATE_MODAL,
    EDIT_INSTANT_MODAL,
    EDIT_PROJECT_MODAL,
    card_message,
    links_dm,
    read_values,
)
from handlers.router import defer
from handlers.scoring_flow import post, tell_privately
from services.prompts import FIELDS, PromptSections, assemble_prompt
from services.voice_forms import validate_voice_form

if TYPE_CHECKING:
    from slack_bolt import Ack, App
    from slack_sdk import WebClient

    from bot.context import Services


def deliver(services: Services, client: WebClient, result: Any) -> None:
    """Links privately to their creator; the card (no URLs) to the channel."""
    batch = result.batch
    if result.links:
        dm = client.conversations_open(users=batch["creator"])["channel"]["id"]
        post(client, dm, links_dm(batch, result.links))
    card_batch, lines = services.voicelinks.card(batch["id"])
    message = card_message(card_batch, lines)
    if card_batch.get("card_ts"):
        client.chat_update(channel=batch["channel"], ts=card_batch["card_ts"], **message.kwargs())
        return
    try:
        ts = post(client, batch["channel"], message)
        services.voicelinks.set_card(batch["id"], ts)
    except SlackApiError:
        tell_privately(client, batch["channel"], batch["creator"], message)


def _errors(errors: dict[str, str], v: int) -> dict[str, str]:
    return {f"{key}~{v}": message for key, message in errors.items()}


def register(app: App, services: Services) -> None:
    @app.view(CREATE_MODAL)
    def on_create(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        meta = json.loads(view.get("private_metadata") or "{}")
        form, errors = validate_voice_form(meta.get("pattern", "interview"), read_values(view["state"]["values"]))
        if errors:
            ack(response_action="errors", errors=_errors(errors, meta.get("v", 1)))
            return
        ack()
        user, channel = body["user"]["id"], meta.get("channel", "")

        def work() -> None:
            deliver(services, client, services.voicelinks.create(form, channel=channel, creator=user))

        defer(services, user, work, lambda m: tell_privately(client, channel, user, m), "/voicelink create")

    def edit_form(view: dict[str, Any], name_key: str) -> tuple[dict[str, Any], dict[str, str]]:
        """The fields both edit modals share: a name, the four sections, landing page and time limit."""
        values = read_values(view["state"]["values"])
        sections = PromptSections(**{k: values.get(k, "").strip() for k in FIELDS})
        errors = {f"{k}~1": f"The {k.capitalize()} section is required." for k in FIELDS if not getattr(sections, k)}
        name = values.get(name_key, "").strip()
        if not name:
            errors[f"{name_key}~1"] = f"The {name_key} can't be empty."
        text = values.get("time_limit", "").strip()
        if not (text.isdigit() and 1 <= int(text) <= 60):
            errors["time_limit~1"] = "Choose 1 to 60 minutes."
        if errors:
            return {}, errors
        return {name_key: name, "prompt": assemble_prompt(sections), "time_limit_minutes": int(text),
                "landing_page_title": values.get("landing_title", ""),
                "landing_page_info": values.get("landing_info", "")}, {}

    def on_edit(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        instant = view.get("callback_id") == EDIT_INSTANT_MODAL
        fields, errors = edit_form(view, "label" if instant else "name")
        if errors:
            ack(response_action="errors", errors=errors)
            return
        ack()
        user = body["user"]["id"]

        def work() -> None:
            if instant:
                services.nimrobo.update_instant_link(view["private_metadata"], **fields)
                _dm(client, user, _saved(f"Instant link {fields['label']} saved."))
            else:  # the update call needs name and prompt every time: both are in fields
                project = services.nimrobo.update_project(view["private_metadata"], **fields)
                _dm(client, user, _saved(f"Project {project.name} saved."))

        defer(services, user, work, lambda m: _dm(client, user, m), "edit")

    app.view(EDIT_INSTANT_MODAL)(on_edit)
    app.view(EDIT_PROJECT_MODAL)(on_edit)

def _saved(text: str) -> Any:
    return info_message(f":white_check_mark: {text}")


def _dm(client: WebClient, user: str, message: Any) -> None:
    dm = client.conversations_open(users=user)["channel"]["id"]
    post(client, dm, message)
