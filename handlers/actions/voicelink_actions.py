"""Buttons and selects for voice links: pattern, study, draft, retry, cancel, pages, edits, the default
project, session details; and the options of every project select (Slack's external select)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.blocks import info_message, paginate
from bot.blocks.voice import (
    FIND_SELECT,
    LINKS_PER_PAGE,
    NEW_STUDY,
    STUDY_SELECT,
    cancel_confirm,
    create_modal,
    edit_instant_modal,
    edit_project_modal,
    evaluation_message,
    links_page,
    project_details,
    project_form,
    project_options,
    read_values,
    session_message,
    summary_message,
)
from bot.blocks.voice_projects import USE_SELECT, use_message
from bot.blocks.voice_watcher import watch_reply
from bot.context import Services
from bot.flows.voice import deliver, refresh_card
from bot.slack_out import SlackOut, respond_privately
from bot.work import Reply, defer, defer_modal
from handlers import inject
from services.errors import BotError
from services.prompts import as_dict
from services.records import ChannelProject, LinkRef, PageRef, SessionRef

PROJECT_SELECTS = re.compile(rf"^({STUDY_SELECT}|{USE_SELECT}|{FIND_SELECT})$")
OPTIONS_WAIT = 2.0  # seconds an options request may wait for the project list (Slack allows 3)


def private(respond: Respond) -> Reply:
    """Answer the person who clicked through the click's response_url."""
    return lambda message: respond_privately(respond, message)


KEEP = object()


def refresh_modal(client: WebClient, body: dict[str, Any], ai: bool, pattern: str | None = None,
                  extra: dict[str, str] | None = None, note: str = "", study: Any = KEEP) -> None:
    """Rebuild the create modal from what was typed (another pattern, a study, a draft, a note)."""
    view = body["view"]
    meta = json.loads(view.get("private_metadata") or "{}")
    values = {**read_values(view["state"]["values"]), **(extra or {})}
    pattern = pattern or meta.get("pattern", "interview")
    default = services_default(meta)
    if study is KEEP:
        study = meta.get("study") if meta.get("pattern") == "research" else (
            (default.project_id, default.project_name) if default else None)
    kept = {k: v for k, v in meta.items() if k not in ("channel", "pattern", "v", "study", "default")}  # a run
    titles = {"title": view["title"]["text"], "submit": view["submit"]["text"]} if kept and view.get("submit") else {}
    new = create_modal(meta.get("channel", ""), pattern, values, meta.get("v", 1) + 1, note, ai=ai,
                       study=tuple(study) if study and pattern == "research" else None, default=default, meta=kept,
                       **titles)
    client.views_update(view_id=view["id"], hash=view.get("hash"), view=new.to_dict())


def services_default(meta: dict[str, Any]) -> ChannelProject | None:
    """The channel's default project as the form was opened with it (kept in the form's metadata)."""
    found = meta.get("default")
    return ChannelProject(meta.get("channel", ""), found[0], found[1], "") if found else None


def on_pattern(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
               services: Services) -> None:
    ack()
    refresh_modal(client, body, services.voicelinks.ai_drafting, pattern=action["selected_option"]["value"])


def on_study(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, services: Services) -> None:
    """The research form's study: an existing project (the form asks only for labels and expiry) or a new one."""
    ack()
    option = action.get("selected_option") or {}
    value = option.get("value") or NEW_STUDY
    study = None if value == NEW_STUDY or value.startswith("-") else (value, option.get("text", {}).get("text", value))
    refresh_modal(client, body, services.voicelinks.ai_drafting, study=study)


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


def on_draft(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
             services: Services) -> None:
    """Draft the four prompt sections (AI, or a template without a key) into the open modal."""
    ack()
    ai = services.voicelinks.ai_drafting
    user = body["user"]["id"]

    def work() -> None:
        values = read_values(body["view"]["state"]["values"])
        try:
            sections, source = services.voicelinks.draft(action.get("value") or "interview",
                                                         values.get("brief", ""), values.get("name", ""))
        except BotError as exc:  # show the reason in the modal; the form stays as typed
            refresh_modal(client, body, ai, note=f":warning: {exc.user_message}")
            return
        note = "Drafted with AI from your brief: review before creating." if source == "ai" else \
            "Filled from a template (no OpenAI key is set): edit it to fit."
        refresh_modal(client, body, ai, extra=as_dict(sections), note=note)

    defer(services.work, user, work, lambda m: SlackOut(client).dm(user, m), "AI draft")


def on_project_draft(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
                     services: Services) -> None:
    """Draft the four sections of a new project (AI, or a template) into its form, as typed otherwise."""
    ack()
    ai, user = services.voicelinks.ai_drafting, body["user"]["id"]
    view = body["view"]

    def work() -> None:
        meta = json.loads(view.get("private_metadata") or "{}")
        values = read_values(view["state"]["values"])
        try:
            sections, source = services.voicelinks.draft(action.get("value") or "interview", values.get("brief", ""),
                                                         values.get("name", ""))
            extra, note = as_dict(sections), ("Drafted with AI from your brief: review before creating."
                                              if source == "ai" else "Filled from a template (no OpenAI key is set).")
        except BotError as exc:
            extra, note = {}, f":warning: {exc.user_message}"
        new = project_form(values={**values, **extra}, v=meta.get("v", 1) + 1, note=note, ai=ai,
                           channel=meta.get("channel", ""))
        client.views_update(view_id=view["id"], hash=view.get("hash"), view=new.to_dict())

    defer(services.work, user, work, lambda m: SlackOut(client).dm(user, m), "AI draft")


def _channel(body: dict[str, Any]) -> str:
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or ""


def on_use_pick(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                services: Services) -> None:
    """A project chosen in the ``/voicelink use`` select (or the Use button of a project): the channel's default."""
    ack()
    option = action.get("selected_option") or {}
    project_id = option.get("value") or action.get("value") or ""
    if not project_id or project_id.startswith("-"):
        return

    def work() -> None:
        chosen = services.voicelinks.use(_channel(body), project_id, body["user"]["id"])
        respond_privately(respond, use_message(chosen, f":white_check_mark: *{chosen.project_name}* is now this "
                                                       "channel's default project."),
                          replace=action.get("type") != "button")

    defer(services.work, body["user"]["id"], work, private(respond), "/voicelink use")


def on_use_clear(ack: Ack, body: dict[str, Any], respond: Respond, services: Services) -> None:
    ack()

    def work() -> None:
        cleared = services.voicelinks.clear_default(_channel(body))
        note = f":white_check_mark: *{cleared.project_name}* is no longer this channel's default project." \
            if cleared else "This channel had no default project."
        respond_privately(respond, use_message(None, note), replace=True)

    defer(services.work, body["user"]["id"], work, private(respond), "/voicelink use")


def on_project_find(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                    services: Services) -> None:
    """A project chosen in the ``/voicelink projects`` search: its details, privately."""
    ack()
    project_id = (action.get("selected_option") or {}).get("value") or ""
    if not project_id or project_id.startswith("-"):
        return
    defer(services.work, body["user"]["id"],
          lambda: private(respond)(project_details(services.voicelinks.project_by_id(project_id))),
          private(respond), "project details")


def on_file_create(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond,
                   services: Services) -> None:
    """Create the links a file of names (shared with a mention) listed, after its report was read."""
    ack()
    user = body["user"]["id"]

    def work() -> None:
        result = services.voicelinks.confirm(action["value"], user)
        batch = result.batch
        if batch.state == "created" and not result.links:  # pressed again: created already
            text = f"These links for *{batch.project_name}* were created already; they are in your DMs."
        else:
            deliver(services, SlackOut(client), result)
            text = (f":white_check_mark: {len(result.links)} links for *{batch.project_name}* are in your DMs."
                    if batch.state == "created" else f":warning: {batch.error or 'Nothing was created.'}")
        respond_privately(respond, info_message(text), replace=True)

    defer(services.work, user, work, private(respond), "links from a file")


def on_retry(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond,
             services: Services) -> None:
    ack()
    defer(services.work, body["user"]["id"],
          lambda: deliver(services, SlackOut(client), services.voicelinks.retry(action["value"])),
          private(respond), "retry voice links")


def on_cancel(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond,
              services: Services) -> None:
    """Cancel after the confirmation; the rules (who, which links) are the service's."""
    ack()

    def work() -> None:
        out = SlackOut(client)
        link, batch_id = services.voicelinks.cancel(LinkRef.parse(action["value"]).link_id, body["user"]["id"],
                                                    out.members)
        if batch_id:
            refresh_card(services, out, batch_id)
        private(respond)(info_message(f":white_check_mark: The link for *{link.label}* is cancelled."))

    defer(services.work, body["user"]["id"], work, private(respond), "cancel link")


def on_page(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, services: Services) -> None:
    ack()

    def work() -> None:
        ref = PageRef.parse(action["value"])
        listing = services.voicelinks.list_for(ref.key, user=body["user"]["id"], channel=_channel(body))
        respond_privately(respond, links_page(paginate(listing.links, ref.number, LINKS_PER_PAGE), listing.key,
                                              listing.title, more=listing.more), replace=True)

    defer(services.work, body["user"]["id"], work, private(respond), "list links")


def on_edit_instant(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond,
                    services: Services) -> None:
    ack()

    def build() -> Any:
        link, sections = services.voicelinks.editable_instant_link(action["value"], user=body["user"]["id"])
        return edit_instant_modal(link, as_dict(sections))

    defer_modal(services.work, client, body, "Edit instant link", "Loading the link…", build, private(respond),
                "edit link")


def on_project(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
               services: Services) -> None:
    ack()
    defer(services.work, body["user"]["id"],
          lambda: private(respond)(project_details(services.voicelinks.project_by_id(action["value"]))),
          private(respond), "project details")


def on_edit_project(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond,
                    services: Services) -> None:
    ack()

    def build() -> Any:
        project, sections = services.voicelinks.editable_project(action["value"])
        return edit_project_modal(project, as_dict(sections))

    defer_modal(services.work, client, body, "Edit project", "Loading the project…", build, private(respond),
                "edit project")


def on_transcript(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond,
                  services: Services) -> None:
    """The transcript as a file (readable text, or JSON), by DM to the person who pressed (a transcript is
    personal data)."""
    ack()
    user = body["user"]["id"]
    fmt = "json" if action.get("action_id") == "voicelink_transcript_json" else "text"

    def work() -> None:
        ref = SessionRef.parse(action["value"])
        text = services.sessions.transcript(ref, user=user, fmt=fmt)
        if not text:
            private(respond)(info_message(f"The transcript of `{ref.session_id}` is empty: nobody spoke yet."))
            return
        out = SlackOut(client)
        file_id = out.upload_privately(user, text, f"transcript-{ref.session_id}.{'json' if fmt == 'json' else 'txt'}",
                                       f"Transcript · {ref.label or ref.session_id}")
        dm = out.dm_channel(user)
        services.lifecycle.record_file(file_id, dm, "transcript", session_id=ref.session_id)
        services.audit.record(user, "transcript", channel=dm, delivery="dm", session_id=ref.session_id,
                              file_id=file_id)
        private(respond)(info_message(":page_facing_up: The transcript is in your DMs with me; only you can see it."))

    defer(services.work, body["user"]["id"], work, private(respond), "transcript")


def on_audio(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, services: Services) -> None:
    ack()

    def work() -> None:
        ref = SessionRef.parse(action["value"])
        url = services.sessions.audio_url(ref, user=body["user"]["id"])  # fresh, never stored
        services.audit.record(body["user"]["id"], "audio_link", channel=_channel(body), delivery="ephemeral",
                              session_id=ref.session_id)
        private(respond)(info_message(f"Audio for `{ref.session_id}` (this link expires in about an hour): <{url}>"))

    defer(services.work, body["user"]["id"], work, private(respond), "audio")


def on_evaluation(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                  services: Services) -> None:
    ack()

    def work() -> None:
        ref, user = SessionRef.parse(action["value"]), body["user"]["id"]
        evaluation = services.sessions.evaluation(ref, user=user)
        services.audit.record(user, "evaluation", channel=_channel(body), delivery="ephemeral",
                              session_id=ref.session_id)
        private(respond)(evaluation_message(evaluation))

    defer(services.work, body["user"]["id"], work, private(respond), "evaluation")


def on_summary(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
               services: Services) -> None:
    """Summary and Regenerate: the same answer, the second asks Nimrobo to write it again first."""
    ack()
    regenerate = action.get("action_id") == "voicelink_regenerate"

    def work() -> None:
        ref = SessionRef.parse(action["value"])
        summary = services.sessions.summary(ref, user=body["user"]["id"], regenerate=regenerate)
        services.audit.record(body["user"]["id"], "summary", channel=_channel(body), delivery="ephemeral",
                              session_id=ref.session_id)
        private(respond)(summary_message(summary, ref))

    defer(services.work, body["user"]["id"], work, private(respond), "summary")


def on_pick_status(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                   services: Services) -> None:
    """A session picked from the several a name matched (``/voicelink status <name>``)."""
    ack()

    def work() -> None:
        sessions, user = services.sessions, body["user"]["id"]
        ref = sessions.locate(action["value"], user=user)
        status = sessions.status(ref, user=user)
        respond_privately(respond, session_message(status, ref, sessions.project_of(ref)[0]), replace=True)

    defer(services.work, body["user"]["id"], work, private(respond), "session status")


def on_pick_watch(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                  services: Services) -> None:
    """A session picked for ``/voicelink watch <name>``: watched in the channel where the command was typed."""
    ack()
    user, channel = body["user"]["id"], (body.get("channel") or {}).get("id") or ""

    def work() -> None:
        respond_privately(respond, watch_reply(services.sessions.watch(action["value"], channel, user)), replace=True)

    defer(services.work, user, work, private(respond), "watch")


def on_pick_cancel(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond,
                   services: Services) -> None:
    """A link picked for ``/voicelink cancel <name>``: the confirmation, as if its id had been typed."""
    ack()

    def work() -> None:
        link = services.voicelinks.cancellable(action["value"], body["user"]["id"], SlackOut(client).members)
        respond_privately(respond, cancel_confirm(link), replace=True)

    defer(services.work, body["user"]["id"], work, private(respond), "cancel link")


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
    for action_id, listener in LISTENERS.items():
        app.action(action_id)(inject(listener, services))
    app.options(PROJECT_SELECTS)(inject(on_project_options, services))
