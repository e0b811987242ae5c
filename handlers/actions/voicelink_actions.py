"""Buttons and selects for voice links: pattern, draft, retry, cancel, pages, edits, session details."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from bot.blocks import info_message, paginate
from bot.blocks.pluto import loading_view
from bot.blocks.voice import (
    create_modal,
    edit_instant_modal,
    edit_project_modal,
    evaluation_message,
    links_page,
    project_details,
    read_values,
    summary_message,
)
from handlers.commands.voicelink_manage import LINKS_PER_PAGE, channel_members
from handlers.router import defer, defer_modal
from handlers.views.voicelink_views import _dm, deliver
from services.prompts import as_dict, draft_sections, parse_prompt
from services.voicelinks import BatchResult

if TYPE_CHECKING:
    from slack_bolt import Ack, App, Respond
    from slack_sdk import WebClient

    from bot.context import Services


def _private(respond: Respond) -> Any:
    def reply(message: Any) -> None:
        kwargs = message.kwargs()
        kwargs.pop("metadata", None)
        respond(response_type="ephemeral", replace_original=False, **kwargs)
    return reply


def register(app: App, services: Services) -> None:
    settings = services.settings

    def refresh_modal(client: WebClient, body: dict[str, Any], pattern: str | None = None,
                      extra: dict[str, str] | None = None, note: str = "") -> None:
        view = body["view"]
        meta = json.loads(view.get("private_metadata") or "{}")
        values = {**read_values(view["state"]["values"]), **(extra or {})}
        new = create_modal(meta.get("channel", ""), pattern or meta.get("pattern", "interview"), values,
                           meta.get("v", 1) + 1, note, ai=bool(settings.openai_api_key))
        client.views_update(view_id=view["id"], hash=view.get("hash"), view=new.to_dict())

    @app.action("voicelink_pattern")
    def on_pattern(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        refresh_modal(client, body, pattern=action["selected_option"]["value"])

    @app.action("voicelink_draft")
    def on_draft(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()

        def work() -> None:
            values = read_values(body["view"]["state"]["values"])
            try:
                sections, source = draft_sections(
                    action.get("value") or "interview", values.get("brief", ""), values.get("name", ""),
                    api_key=settings.openai_api_key.reveal(), base_url=settings.openai_base_url,
                    model=settings.openai_model)
            except Exception as exc:  # show the reason in the modal; the form stays as typed
                refresh_modal(client, body, note=f":warning: {getattr(exc, 'user_message', 'Drafting failed.')}")
                return
            note = "Drafted with AI from your brief: review before creating." if source == "ai" else \
                "Filled from a template (no OpenAI key is set): edit it to fit."
            refresh_modal(client, body, extra=as_dict(sections), note=note)

        defer(services, body["user"]["id"], work, lambda m: _dm(client, body["user"]["id"], m), "AI draft")

    @app.action("voicelink_retry")
    def on_retry(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        defer(services, body["user"]["id"], lambda: deliver(services, client, services.voicelinks.retry(action["value"])),
                   _private(respond), "retry voice links")

    @app.action("voicelink_cancel")
    def on_cancel(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()

        def work() -> None:
            service = services.voicelinks
            _, _, link_id = action["value"].partition("|")
            link = service.find_link(link_id)
            user = body["user"]["id"]
            problem = service.cancel_check(link, user, channel_members(client, service.link_row(link.id)))
            if problem:
                _private(respond)(info_message(problem))
                return
            service.cancel(link)
            row = service.link_row(link.id)
            if row:
                deliver(services, client, BatchResult(service.batch(row["batch_id"])))  # refresh the card
            _private(respond)(info_message(f":white_check_mark: The link for *{link.label}* is cancelled."))

        defer(services, body["user"]["id"], work, _private(respond), "cancel link")

    def on_page(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()

        def work() -> None:
            project, _, number = action["value"].rpartition("|")
            links = services.voicelinks.all_links(project)
            message = links_page(paginate(links, int(number), LINKS_PER_PAGE), project)
            respond(replace_original=True, **{k: v for k, v in message.kwargs().items() if k != "metadata"})

        defer(services, body["user"]["id"], work, _private(respond), "list links")

    app.action("voicelink_list_next")(on_page)
    app.action("voicelink_list_prev")(on_page)

    @app.action("voicelink_edit_instant")
    def on_edit_instant(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
                        respond: Respond) -> None:
        ack()

        def build() -> Any:
            link = services.voicelinks.find_link(action["value"])
            if link.kind != "instant" or not link.is_active:
                return loading_view("Edit instant link",
                                    f"Only active instant links can be edited; this one is {link.status}.")
            return edit_instant_modal(link, as_dict(parse_prompt(link.raw.get("prompt", ""))))

        defer_modal(services, client, body, "Edit instant link", "Loading the link…", build, _private(respond),
                    "edit link")

    @app.action("voicelink_project")
    def on_project(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        defer(services, body["user"]["id"], lambda: _private(respond)(project_details(services.nimrobo.get_project(action["value"]))),
                   _private(respond), "project details")

    @app.action("voicelink_edit_project")
    def on_edit_project(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
                        respond: Respond) -> None:
        ack()

        def build() -> Any:
            project = services.nimrobo.get_project(action["value"])
            return edit_project_modal(project, as_dict(parse_prompt(project.prompt)))

        defer_modal(services, client, body, "Edit project", "Loading the project…", build, _private(respond),
                    "edit project")

    def session_args(value: str) -> tuple[str, str | None, str]:
        kind, project_id, session_id = value.split("|")
        return kind, project_id or None, session_id

    @app.action("voicelink_transcript")
    def on_transcript(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
                      respond: Respond) -> None:
        ack()

        def work() -> None:
            kind, project_id, session_id = session_args(action["value"])
            turns = services.nimrobo.session_transcript(session_id, kind, project_id) or []
            lines = [f"{t.get('role', '?')}: {t.get('text', '')}" if isinstance(t, dict) else str(t) for t in turns]
            row = services.voicelinks.session_row(session_id) or {}
            channel = row.get("channel") or (body.get("channel") or {}).get("id")
            client.files_upload_v2(channel=channel, thread_ts=row.get("thread_ts"), content="\n".join(lines),
                                   filename=f"transcript-{session_id}.txt", title=f"Transcript · {session_id}")

        defer(services, body["user"]["id"], work, _private(respond), "transcript")

    @app.action("voicelink_audio")
    def on_audio(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()

        def work() -> None:
            kind, project_id, session_id = session_args(action["value"])
            url = services.nimrobo.session_audio_url(session_id, kind, project_id)  # fresh, never stored
            _private(respond)(info_message(f"Audio for `{session_id}` (this link expires in about an hour): <{url}>"))

        defer(services, body["user"]["id"], work, _private(respond), "audio")

    @app.action("voicelink_evaluation")
    def on_evaluation(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        defer(services, body["user"]["id"], lambda: _private(respond)(evaluation_message(
            services.nimrobo.session_evaluation(*session_args(action["value"])))), _private(respond), "evaluation")

    def summary_of(value: str, regenerate: bool) -> Any:
        kind, project_id, session_id = session_args(value)
        call = services.nimrobo.regenerate_summary if regenerate else services.nimrobo.session_summary
        return summary_message(call(session_id, project_id=project_id, instant=kind == "instant"), value)

    @app.action("voicelink_summary")
    def on_summary(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        defer(services, body["user"]["id"], lambda: _private(respond)(summary_of(action["value"], False)), _private(respond), "summary")

    @app.action("voicelink_regenerate")
    def on_regenerate(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        defer(services, body["user"]["id"], lambda: _private(respond)(summary_of(action["value"], True)), _private(respond), "summary")
