"""/voicelink modal submissions: create (inline errors, then private links and a channel card), edits.

The same create form, opened by "Voice-screen top N" on a shortlist, carries its scoring run: its
links are then made on the run's Screening board (bot/flows/screening.py).
"""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.blocks import info_message
from bot.blocks.voice import CREATE_MODAL, EDIT_INSTANT_MODAL, EDIT_PROJECT_MODAL, read_values
from bot.context import Services
from bot.flows import screening
from bot.flows.voice import deliver
from bot.slack_out import SlackOut
from bot.work import defer
from handlers import inject
from services.errors import ServiceError
from services.voice_forms import validate_edit_form, validate_voice_form


def versioned(errors: dict[str, str], v: int) -> dict[str, str]:
    """Errors keyed by the modal's block ids (``field~version``)."""
    return {f"{key}~{v}": message for key, message in errors.items()}


def on_create(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services) -> None:
    meta = json.loads(view.get("private_metadata") or "{}")
    form, errors = validate_voice_form(meta.get("pattern", "interview"), read_values(view["state"]["values"]))
    if form is not None and meta.get("run_id"):  # "Voice-screen top N": each label must be a candidate of the run
        try:
            problems = services.screening.check_labels(meta["run_id"], form.labels)
        except ServiceError as exc:  # the run is gone: say so under the field, never leave Slack unanswered
            problems = [exc.user_message]
        if problems:
            errors = {"labels": ("Each line must be a candidate of this run: " + "; ".join(problems))[:150]}
    if errors or form is None:
        ack(response_action="errors", errors=versioned(errors, meta.get("v", 1)))
        return
    ack()
    user, channel = body["user"]["id"], meta.get("channel", "")
    out = SlackOut(client)
    if meta.get("run_id"):
        defer(services.work, user,
              lambda: screening.submit(services, out, run_id=meta["run_id"], form=form, user=user, channel=channel),
              lambda m: out.reply_privately(channel, user, m, meta.get("thread_ts")), "voice-screen")
        return
    defer(services.work, user,
          lambda: deliver(services, out, services.voicelinks.create(form, channel=channel, creator=user)),
          lambda m: out.reply_privately(channel, user, m), "/voicelink create")


def on_edit(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services) -> None:
    """Both edit modals: an instant link's or a project's name, prompt, landing page and time limit."""
    instant = view.get("callback_id") == EDIT_INSTANT_MODAL
    fields, errors = validate_edit_form(read_values(view["state"]["values"]), "label" if instant else "name")
    if errors:
        ack(response_action="errors", errors=versioned(errors, 1))
        return
    ack()
    user, out = body["user"]["id"], SlackOut(client)

    def work() -> None:
        if instant:
            services.voicelinks.update_instant_link(view["private_metadata"], fields)
            saved = f"Instant link {fields['label']} saved."
        else:
            saved = f"Project {services.voicelinks.update_project(view['private_metadata'], fields).name} saved."
        out.dm(user, info_message(f":white_check_mark: {saved}"))

    defer(services.work, user, work, lambda m: out.dm(user, m), "edit")


def register(app: App, services: Services) -> None:
    app.view(CREATE_MODAL)(inject(on_create, services))
    app.view(EDIT_INSTANT_MODAL)(inject(on_edit, services))
    app.view(EDIT_PROJECT_MODAL)(inject(on_edit, services))
