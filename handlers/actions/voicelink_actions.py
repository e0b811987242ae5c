"""Buttons and selects for voice links: pattern, study, draft, retry, cancel, pages, edits, the default
project, session details; and the options of every project select (Slack's external select).

Each listener keeps only what differs; the shared steps (ack, who and where, the value, a private
answer, the work pool) are handlers/clicks.py's. Buttons on private messages answer through the click's
``response_url`` (``respond=True``); buttons in a modal answer by DM.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_sdk.models.views import View

from bot.blocks import Message, info_message, paginate
from bot.blocks.voice import (
    FIND_SELECT,
    KEEP,
    LINKS_PER_PAGE,
    NEW_STUDY,
    STUDY_SELECT,
    cancel_confirm,
    edit_instant_modal,
    edit_project_modal,
    evaluation_message,
    links_page,
    project_details,
    project_options,
    read_values,
    rebuild_create_modal,
    rebuild_project_form,
    session_message,
    summary_message,
)
from bot.blocks.voice_projects import USE_SELECT, use_message
from bot.blocks.voice_watcher import watch_reply
from bot.context import Services
from bot.flows.voice import deliver, draft_sections, refresh_card
from handlers import inject
from handlers.clicks import Click, deferred, listener, modal
from services.errors import BotError
from services.prompts import as_dict
from services.records import LinkRef, PageRef, SessionRef

PROJECT_SELECTS = re.compile(rf"^({STUDY_SELECT}|{USE_SELECT}|{FIND_SELECT})$")
OPTIONS_WAIT = 2.0  # seconds an options request may wait for the project list (Slack allows 3)
# -- the create form and the project form ----------------------------------------------------
def refresh_modal(click: Click, pattern: str | None = None, extra: dict[str, str] | None = None, note: str = "",
                  study: Any = KEEP) -> None:
    """Rebuild the create modal from what was typed (another pattern, a study, a draft, a note)."""
    view = click.body["view"]
    new = rebuild_create_modal(view, click.services.voicelinks.ai_drafting, pattern=pattern, extra=extra, note=note,
                               study=study)
    click.client.views_update(view_id=view["id"], hash=view.get("hash"), view=new.to_dict())


@listener
def on_pattern(click: Click) -> None:
    refresh_modal(click, pattern=click.action["selected_option"]["value"])


@listener
def on_study(click: Click) -> None:
    """The research form's study: an existing project (the form asks only for labels and expiry) or a new one."""
    option = click.action.get("selected_option") or {}
    value = option.get("value") or NEW_STUDY
    study = None if value == NEW_STUDY or value.startswith("-") else (value, option.get("text", {}).get("text", value))
    refresh_modal(click, study=study)


def on_project_options(ack: Ack, payload: dict[str, Any], services: Services) -> None:
    """What Slack shows under a project select as the person types: matching projects, from the list fetched
    once a minute (waiting at most ``OPTIONS_WAIT`` for it), at most 100."""
    new_study = payload.get("action_id") == STUDY_SELECT
    try:
        found = services.voicelinks.search_projects(payload.get("value") or "", user=payload["user"]["id"],
                                                    limit=99 if new_study else 100, wait=OPTIONS_WAIT)
    except BotError as exc:
        ack(**project_options([], new_study=new_study, problem=exc.user_message))
        return
    ack(**project_options(found, new_study=new_study))


@deferred("AI draft")
def on_draft(click: Click) -> None:
    """Draft the four prompt sections (AI, or a template without a key) into the open modal."""
    extra, note = draft_sections(click.services, click.value or "interview",
                                 read_values(click.body["view"]["state"]["values"]))
    refresh_modal(click, extra=extra, note=note)


@deferred("AI draft")
def on_project_draft(click: Click) -> None:
    """Draft the four sections of a new project (AI, or a template) into its form, as typed otherwise."""
    view = click.body["view"]
    extra, note = draft_sections(click.services, click.value or "interview", read_values(view["state"]["values"]))
    new = rebuild_project_form(view, click.services.voicelinks.ai_drafting, extra=extra, note=note)
    click.client.views_update(view_id=view["id"], hash=view.get("hash"), view=new.to_dict())


# -- projects and the channel's default --------------------------------------------------------
@listener(respond=True)
def on_use_pick(click: Click) -> None:
    """A project chosen in the ``/voicelink use`` select (or the Use button of a project): the channel's default."""
    project_id = click.value
    if not project_id or project_id.startswith("-"):
        return

    def use(click: Click) -> None:
        chosen = click.services.voicelinks.use(click.channel, project_id, click.user)
        message = use_message(chosen, f":white_check_mark: *{chosen.project_name}* is now this channel's default "
                                      "project.")
        if click.action.get("type") == "button":
            click.reply(message)
        else:  # the select's message becomes the answer
            click.replace(message)

    click.defer("/voicelink use", use)


@deferred("/voicelink use", respond=True)
def on_use_clear(click: Click) -> None:
    cleared = click.services.voicelinks.clear_default(click.channel)
    note = f":white_check_mark: *{cleared.project_name}* is no longer this channel's default project." \
        if cleared else "This channel had no default project."
    click.replace(use_message(None, note))


@listener(respond=True)
def on_project_find(click: Click) -> None:
    """A project chosen in the ``/voicelink projects`` search: its details, privately."""
    project_id = click.value
    if project_id and not project_id.startswith("-"):
        click.defer("project details", lambda click: project_details(click.services.voicelinks.project_by_id(project_id)))


@deferred("project details", respond=True)
def on_project(click: Click) -> Message:
    return project_details(click.services.voicelinks.project_by_id(click.value))


@modal("Edit project", "Loading the project…", "edit project", respond=True)
def on_edit_project(click: Click) -> View:
    project, sections = click.services.voicelinks.editable_project(click.value)
    return edit_project_modal(project, as_dict(sections))


# -- links -----------------------------------------------------------------------------------
@deferred("links from a file", respond=True)
def on_file_create(click: Click) -> None:
    """Create the links a file of names (shared with a mention) listed, after its report was read."""
    result = click.services.voicelinks.confirm(click.value, click.user)
    batch = result.batch
    if batch.state == "created" and not result.links:  # pressed again: created already
        text = f"These links for *{batch.project_name}* were created already; they are in your DMs."
    else:
        deliver(click.services, click.out, result)
        text = (f":white_check_mark: {len(result.links)} links for *{batch.project_name}* are in your DMs."
                if batch.state == "created" else f":warning: {batch.error or 'Nothing was created.'}")
    click.replace(info_message(text))


@deferred("retry voice links", respond=True)
def on_retry(click: Click) -> None:
    deliver(click.services, click.out, click.services.voicelinks.retry(click.value))


@deferred("cancel link", respond=True)
def on_cancel(click: Click) -> Message:
    """Cancel after the confirmation; the rules (who, which links) are the service's."""
    out = click.out
    link, batch_id = click.services.voicelinks.cancel(click.parsed(LinkRef.parse).link_id, click.user, out.members)
    if batch_id:
        refresh_card(click.services, out, batch_id)
    return info_message(f":white_check_mark: The link for *{link.label}* is cancelled.")


@deferred("list links", respond=True)
def on_page(click: Click) -> None:
    ref = click.parsed(PageRef.parse)
    listing = click.services.voicelinks.list_for(ref.key, user=click.user, channel=click.channel)
    click.replace(links_page(paginate(listing.links, ref.number, LINKS_PER_PAGE), listing.key, listing.title,
                             more=listing.more))


@modal("Edit instant link", "Loading the link…", "edit link", respond=True)
def on_edit_instant(click: Click) -> View:
    link, sections = click.services.voicelinks.editable_instant_link(click.value, user=click.user)
    return edit_instant_modal(link, as_dict(sections))


# -- sessions: what the buttons on a status or a completed-interview post show -----------------
@deferred("transcript", respond=True)
def on_transcript(click: Click) -> Message:
    """The transcript as a file (readable text, or JSON), by DM to the person who pressed (a transcript is
    personal data)."""
    services, user, json_format = click.services, click.user, click.action.get("action_id") == "voicelink_transcript_json"
    ref = click.parsed(SessionRef.parse)
    text = services.sessions.transcript(ref, user=user, fmt="json" if json_format else "text")
    if not text:
        return info_message(f"The transcript of `{ref.session_id}` is empty: nobody spoke yet.")
    out = click.out
    file_id = out.upload_privately(user, text, f"transcript-{ref.session_id}.{'json' if json_format else 'txt'}",
                                   f"Transcript · {ref.label or ref.session_id}")
    dm = out.dm_channel(user)
    services.lifecycle.record_file(file_id, dm, "transcript", session_id=ref.session_id)
    services.audit.record(user, "transcript", channel=dm, delivery="dm", session_id=ref.session_id, file_id=file_id)
    return info_message(":page_facing_up: The transcript is in your DMs with me; only you can see it.")


@deferred("audio", respond=True)
def on_audio(click: Click) -> Message:
    ref = click.parsed(SessionRef.parse)
    url = click.services.sessions.audio_url(ref, user=click.user)  # fresh, never stored
    click.services.audit.record(click.user, "audio_link", channel=click.channel, delivery="ephemeral",
                                session_id=ref.session_id)
    return info_message(f"Audio for `{ref.session_id}` (this link expires in about an hour): <{url}>")


@deferred("evaluation", respond=True)
def on_evaluation(click: Click) -> Message:
    ref = click.parsed(SessionRef.parse)
    evaluation = click.services.sessions.evaluation(ref, user=click.user)
    click.services.audit.record(click.user, "evaluation", channel=click.channel, delivery="ephemeral",
                                session_id=ref.session_id)
    return evaluation_message(evaluation)


@deferred("summary", respond=True)
def on_summary(click: Click) -> Message:
    """Summary and Regenerate: the same answer, the second asks Nimrobo to write it again first."""
    ref = click.parsed(SessionRef.parse)
    summary = click.services.sessions.summary(ref, user=click.user,
                                              regenerate=click.action.get("action_id") == "voicelink_regenerate")
    click.services.audit.record(click.user, "summary", channel=click.channel, delivery="ephemeral",
                                session_id=ref.session_id)
    return summary_message(summary, ref)


# -- pickers: one of several a name matched ----------------------------------------------------
@deferred("session status", respond=True)
def on_pick_status(click: Click) -> None:
    """A session picked from the several a name matched (``/voicelink status <name>``)."""
    sessions = click.services.sessions
    ref = sessions.locate(click.value, user=click.user)
    click.replace(session_message(sessions.status(ref, user=click.user), ref, sessions.project_of(ref)[0]))


@deferred("watch", respond=True)
def on_pick_watch(click: Click) -> None:
    """A session picked for ``/voicelink watch <name>``: watched in the channel where the command was typed."""
    click.replace(watch_reply(click.services.sessions.watch(click.value, click.channel, click.user)))


@deferred("cancel link", respond=True)
def on_pick_cancel(click: Click) -> None:
    """A link picked for ``/voicelink cancel <name>``: the confirmation, as if its id had been typed."""
    click.replace(cancel_confirm(click.services.voicelinks.cancellable(click.value, click.user, click.out.members)))


LISTENERS: dict[str, Callable[..., None]] = {
    "voicelink_pattern": on_pattern, "voicelink_draft": on_draft, "voicelink_retry": on_retry,
    "voicelink_cancel": on_cancel, "voicelink_list_next": on_page, "voicelink_list_prev": on_page,
    "voicelink_list_all": on_page,
    "voicelink_edit_instant": on_edit_instant, "voicelink_project": on_project,
    "voicelink_edit_project": on_edit_project, "voicelink_transcript": on_transcript, "voicelink_audio": on_audio,
    "voicelink_evaluation": on_evaluation, "voicelink_summary": on_summary, "voicelink_regenerate": on_summary,
    "voicelink_transcript_json": on_transcript, STUDY_SELECT: on_study, "voicelink_project_draft": on_project_draft,
    "voicelink_project_draft_research": on_project_draft, USE_SELECT: on_use_pick, "voicelink_use_set": on_use_pick,
    "voicelink_use_clear": on_use_clear, FIND_SELECT: on_project_find, "voicelink_file_create": on_file_create,
    "voicelink_pick_status": on_pick_status, "voicelink_pick_watch": on_pick_watch,
    "voicelink_pick_cancel": on_pick_cancel,
}


def register(app: App, services: Services) -> None:
    for action_id, fn in LISTENERS.items():
        app.action(action_id)(inject(fn, services))
    app.options(PROJECT_SELECTS)(inject(on_project_options, services))
