"""Buttons and selects for voice links: pattern, draft, retry, cancel, pages, edits, session details."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.blocks import info_message, paginate
from bot.blocks.voice import (
    cancel_confirm,
    create_modal,
    edit_instant_modal,
    edit_project_modal,
    evaluation_message,
    links_page,
    project_details,
    read_values,
    session_message,
    summary_message,
)
from bot.blocks.watcher import watch_reply
from bot.context import Services
from bot.flows.voice import deliver, refresh_card
from bot.slack_out import SlackOut, respond_privately
from bot.work import Reply, defer, defer_modal
from handlers import inject
from handlers.commands.voicelink_manage import LINKS_PER_PAGE
from services.errors import ServiceError
from services.prompts import as_dict
from services.records import LinkRef, PageRef, SessionRef


def private(respond: Respond) -> Reply:
    """Answer the person who clicked through the click's response_url."""
    return lambda message: respond_privately(respond, message)


def refresh_modal(client: WebClient, body: dict[str, Any], ai: bool, pattern: str | None = None,
                  extra: dict[str, str] | None = None, note: str = "") -> None:
    """Rebuild the create modal from what was typed (another pattern, a draft, a note)."""
    view = body["view"]
    meta = json.loads(view.get("private_metadata") or "{}")
    values = {**read_values(view["state"]["values"]), **(extra or {})}
    kept = {k: v for k, v in meta.items() if k not in ("channel", "pattern", "v")}  # e.g. a screening form's run
    titles = {"title": view["title"]["text"], "submit": view["submit"]["text"]} if kept and view.get("submit") else {}
    new = create_modal(meta.get("channel", ""), pattern or meta.get("pattern", "interview"), values,
                       meta.get("v", 1) + 1, note, ai=ai, meta=kept, **titles)
    client.views_update(view_id=view["id"], hash=view.get("hash"), view=new.to_dict())


def on_pattern(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
               services: Services) -> None:
    ack()
    refresh_modal(client, body, services.voicelinks.ai_drafting, pattern=action["selected_option"]["value"])


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
        except ServiceError as exc:  # show the reason in the modal; the form stays as typed
            refresh_modal(client, body, ai, note=f":warning: {exc.user_message}")
            return
        note = "Drafted with AI from your brief: review before creating." if source == "ai" else \
            "Filled from a template (no OpenAI key is set): edit it to fit."
        refresh_modal(client, body, ai, extra=as_dict(sections), note=note)

    defer(services.work, user, work, lambda m: SlackOut(client).dm(user, m), "AI draft")


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
        links = services.voicelinks.links(ref.key)
        respond_privately(respond, links_page(paginate(links, ref.number, LINKS_PER_PAGE), ref.key), replace=True)

    defer(services.work, body["user"]["id"], work, private(respond), "list links")


def on_edit_instant(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond,
                    services: Services) -> None:
    ack()

    def build() -> Any:
        link, sections = services.voicelinks.editable_instant_link(action["value"])
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
    """The transcript as a file, by DM to the person who pressed (a transcript is personal data)."""
    ack()
    user = body["user"]["id"]

    def work() -> None:
        ref = SessionRef.parse(action["value"])
        text = services.sessions.transcript(ref, user=user)
        if not text:
            private(respond)(info_message(f"The transcript of `{ref.session_id}` is empty: nobody spoke yet."))
            return
        out = SlackOut(client)
        out.upload_privately(user, text, f"transcript-{ref.session_id}.txt", f"Transcript · {ref.label or ref.session_id}")
        private(respond)(info_message(":page_facing_up: The transcript is in your DMs with me; only you can see it."))

    defer(services.work, body["user"]["id"], work, private(respond), "transcript")


def on_audio(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, services: Services) -> None:
    ack()

    def work() -> None:
        ref = SessionRef.parse(action["value"])
        url = services.sessions.audio_url(ref, user=body["user"]["id"])  # fresh, never stored
        private(respond)(info_message(f"Audio for `{ref.session_id}` (this link expires in about an hour): <{url}>"))

    defer(services.work, body["user"]["id"], work, private(respond), "audio")


def on_evaluation(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                  services: Services) -> None:
    ack()
    defer(services.work, body["user"]["id"],
          lambda: private(respond)(evaluation_message(services.sessions.evaluation(SessionRef.parse(action["value"]),
                                                                                   user=body["user"]["id"]))),
          private(respond), "evaluation")


def on_summary(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
               services: Services) -> None:
    """Summary and Regenerate: the same answer, the second asks Nimrobo to write it again first."""
    ack()
    regenerate = action.get("action_id") == "voicelink_regenerate"

    def work() -> None:
        ref = SessionRef.parse(action["value"])
        private(respond)(summary_message(services.sessions.summary(ref, user=body["user"]["id"],
                                                                   regenerate=regenerate), ref))

    defer(services.work, body["user"]["id"], work, private(respond), "summary")


def on_pick_status(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                   services: Services) -> None:
    """A session picked from the several a name matched (``/voicelink status <name>``)."""
    ack()

    def work() -> None:
        sessions, user = services.sessions, body["user"]["id"]
        ref = sessions.locate(action["value"], user=user)
        respond_privately(respond, session_message(sessions.status(ref, user=user), ref), replace=True)

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


LISTENERS = {
    "voicelink_pattern": on_pattern, "voicelink_draft": on_draft, "voicelink_retry": on_retry,
    "voicelink_cancel": on_cancel, "voicelink_list_next": on_page, "voicelink_list_prev": on_page,
    "voicelink_edit_instant": on_edit_instant, "voicelink_project": on_project,
    "voicelink_edit_project": on_edit_project, "voicelink_transcript": on_transcript, "voicelink_audio": on_audio,
    "voicelink_evaluation": on_evaluation, "voicelink_summary": on_summary, "voicelink_regenerate": on_summary,
    "voicelink_pick_status": on_pick_status, "voicelink_pick_watch": on_pick_watch,
    "voicelink_pick_cancel": on_pick_cancel,
}


def register(app: App, services: Services) -> None:
    for action_id, listener in LISTENERS.items():
        app.action(action_id)(inject(listener, services))
