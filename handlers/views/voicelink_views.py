"""/voicelink modal submissions: create (inline errors, then private links and a channel card), the review of
a create form (a file's report, the existing project's choice), a new project, and the edits.

The same create form, opened by "Voice-screen top N" on a shortlist, carries its scoring run: its
links are then made on the run's Screening board (bot/flows/screening.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View

from bot.blocks import error_message, info_message
from bot.blocks.voice import (
    CREATE_MODAL,
    EDIT_INSTANT_MODAL,
    EDIT_PROJECT_MODAL,
    PROJECT_NEW_MODAL,
    drafts_on_submit,
    read_values,
    rebuild_create_modal,
    rebuild_project_form,
)
from bot.blocks.voice_projects import REVIEW_MODAL, project_created_message
from bot.context import Services
from bot.flows import screening
from bot.flows.voice import confirm_links, create_links, draft_sections, open_working, prepare_links
from bot.slack_out import SlackOut
from bot.work import defer
from handlers import inject
from services.errors import BotError
from services.prompts import FIELDS
from services.voice.forms import validate_edit_form, validate_voice_form


def versioned(errors: dict[str, str], v: int) -> dict[str, str]:
    """Errors keyed by the modal's block ids (``field~version``)."""
    return {f"{key}~{v}": message for key, message in errors.items()}


def on_create(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services) -> None:
    """Check the form inline; then the form closes. A file of names or an interview role is looked at first, in
    a new form opened at once with the submission's trigger id ("Checking…", then what to decide, then the
    outcome): a view the bot opened itself, so no update of it can race Slack's handling of this ack."""
    meta = json.loads(view.get("private_metadata") or "{}")
    pattern = meta.get("pattern", "interview")
    study = tuple(meta["study"]) if pattern == "research" and meta.get("study") else None
    values = read_values(view["state"]["values"])
    form, errors = validate_voice_form(pattern, values, existing=study)
    if study is None and drafts_on_submit(values):  # the four sections left empty: they are drafted first
        errors = {key: message for key, message in errors.items() if key not in FIELDS}
        if not errors:
            draft_on_submit(ack, body, view, client, services, values, pattern, rebuild_create_modal)
            return
    if form is not None and meta.get("run_id"):  # "Voice-screen top N": each label must be a candidate of the run
        try:
            problems = services.screening.check_labels(meta["run_id"], form.labels)
        except BotError as exc:  # the run is gone: say so under the field, never leave Slack unanswered
            problems = [exc.user_message]
        if problems:
            errors = {"labels": ("Each line must be a candidate of this run: " + "; ".join(problems))[:150]}
    if errors or form is None:
        ack(response_action="errors", errors=versioned(errors, meta.get("v", 1)))
        return
    user, channel = body["user"]["id"], meta.get("channel", "")
    out = SlackOut(client)
    ack()
    if meta.get("run_id"):  # Voice-screen: the role's existing project is asked about as below
        view_id = open_working(client, body.get("trigger_id", ""), f"Looking for a project for {form.name}…")
        defer(services.work, user,
              lambda: screening.prepare(services, out, client, view_id=view_id, run_id=meta["run_id"], form=form,
                                        user=user, channel=channel),
              lambda m: out.reply_privately(channel, user, m, meta.get("thread_ts")), "voice-screen")
        return
    if form.labels_file or (form.pattern == "interview" and not form.project_id):
        what = "Reading your file of names…" if form.labels_file else f"Looking for a project for {form.name}…"
        view_id = open_working(client, body.get("trigger_id", ""), what)
        defer(services.work, user,
              lambda: prepare_links(services, out, client, view_id=view_id, form=form, channel=channel, user=user),
              lambda m: out.reply_privately(channel, user, m), "/voicelink create")
        return
    defer(services.work, user,
          lambda: create_links(services, out, form, channel=channel, user=user),
          lambda m: out.reply_privately(channel, user, m), "/voicelink create")


def draft_on_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services,
                    values: dict[str, str], style: str, rebuild: Callable[..., View]) -> None:
    """A new form submitted with its four sections empty: as if its draft button had been pressed. The same form,
    as typed, opens again at once with the submission's trigger id ("Drafting…"), then shows the drafted sections
    to review and submit: a view the bot opened itself, so no update of it races Slack's handling of the ack."""
    ai, user = services.voicelinks.ai_drafting, body["user"]["id"]
    what = "Drafting the four sections with AI from your brief" if ai else \
        "Filling in the four sections from a template"
    waiting = rebuild(view, ai, note=f":hourglass_flowing_sand: {what}…")
    ack()
    try:
        view_id = client.views_open(trigger_id=body.get("trigger_id", ""), view=waiting.to_dict())["view"]["id"]
    except SlackApiError as exc:  # the trigger expired: nothing to fill, and nothing was created
        SlackOut(client).dm(user, error_message(f"The form could not be reopened to draft its sections "
                                                f"({exc.response.get('error')}): open it again and press the draft "
                                                "button."))
        return

    def work() -> None:
        extra, note = draft_sections(services, style, values)
        done = rebuild({**waiting.to_dict(), "state": {"values": {}}}, ai, extra={**values, **extra}, note=note)
        client.views_update(view_id=view_id, view=done.to_dict())

    defer(services.work, user, work, lambda m: SlackOut(client).dm(user, m), "AI draft")


def on_review(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services) -> None:
    """The creator decided (or just confirmed what the file left out): create, and say how it went in the form."""
    choice = read_values(view["state"]["values"]).get("project_choice") or None
    ack()
    view_id = open_working(client, body.get("trigger_id", ""), "Creating the links…")
    user, out, batch_id = body["user"]["id"], SlackOut(client), view["private_metadata"]

    def work() -> None:
        if services.screening.is_screening_batch(batch_id):  # a Voice-screen form: the links go on its board
            screening.confirm(services, out, client, view_id=view_id, batch_id=batch_id, user=user, choice=choice)
        else:
            confirm_links(services, out, client, view_id=view_id, batch_id=batch_id, user=user, choice=choice)

    defer(services.work, user, work, lambda m: out.dm(user, m), "/voicelink create")


def on_project_new(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient,
                   services: Services) -> None:
    """``/voicelink project new``: a project with every field, no links; the answer is private."""
    meta = json.loads(view.get("private_metadata") or "{}")
    values = read_values(view["state"]["values"])
    fields, errors = validate_edit_form(values, "name")
    if drafts_on_submit(values):  # the four sections left empty: drafted first (an interview; research by button)
        errors = {key: message for key, message in errors.items() if key not in FIELDS}
        if not errors:
            draft_on_submit(ack, body, view, client, services, values, "interview", rebuild_project_form)
            return
    if errors:
        ack(response_action="errors", errors=versioned(errors, meta.get("v", 1)))
        return
    ack()
    user, channel, out = body["user"]["id"], meta.get("channel", ""), SlackOut(client)
    defer(services.work, user,
          lambda: out.reply_privately(channel, user, project_created_message(
              services.voicelinks.create_project(fields))),
          lambda m: out.reply_privately(channel, user, m), "/voicelink project new")


def on_edit(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services) -> None:
    """Both edit modals, every field the API takes: an instant link's label, prompt, landing page, time limit,
    expiry and evaluator; a project's name, description, prompt, landing page, time limit and evaluator."""
    instant = view.get("callback_id") == EDIT_INSTANT_MODAL
    fields, errors = validate_edit_form(read_values(view["state"]["values"]), "label" if instant else "name")
    if errors:
        ack(response_action="errors", errors=versioned(errors, 1))
        return
    ack()
    user, out = body["user"]["id"], SlackOut(client)

    def work() -> None:
        if instant:
            changed = services.voicelinks.update_instant_link(view["private_metadata"], fields)
            saved = f"Instant link {fields['label']} saved"
        else:
            project, changed = services.voicelinks.update_project(view["private_metadata"], fields)
            saved = f"Project {project.name} saved"
        what = f". Changed: {', '.join(changed)}." if changed else "; nothing changed."
        out.dm(user, info_message(f":white_check_mark: {saved}{what}"))

    defer(services.work, user, work, lambda m: out.dm(user, m), "edit")


def register(app: App, services: Services) -> None:
    app.view(CREATE_MODAL)(inject(on_create, services))
    app.view(REVIEW_MODAL)(inject(on_review, services))
    app.view(PROJECT_NEW_MODAL)(inject(on_project_new, services))
    app.view(EDIT_INSTANT_MODAL)(inject(on_edit, services))
    app.view(EDIT_PROJECT_MODAL)(inject(on_edit, services))
