"""Buttons on scoring messages: candidate details, questions, pre-brief, intake link, room; retry; pages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.blocks import Message, error_message
from bot.blocks.pluto import (
    details_view,
    prebrief_view,
    private_link_message,
    questions_message,
    queued_message,
    spinner_message,
)
from handlers.router import defer, defer_modal
from handlers.scoring_flow import post, shortlist_for, tell_privately

if TYPE_CHECKING:
    from slack_bolt import Ack, App
    from slack_sdk import WebClient

    from bot.context import Services


def _where(body: dict[str, Any]) -> tuple[str, str, str | None]:
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or ""
    message = body.get("message") or {}
    return channel, body["user"]["id"], message.get("thread_ts") or message.get("ts")


def register(app: App, services: Services) -> None:
    scoring = services.scoring

    def candidate_from(value: str) -> tuple[dict[str, Any], str]:
        run_id, _, candidate_id = value.partition("|")
        run = scoring.get(run_id)
        if run is None:
            raise LookupError("That shortlist is no longer available; run /pluto results.")
        return run, candidate_id

    def reply_to(client: WebClient, body: dict[str, Any]) -> Any:
        channel, user, thread = _where(body)
        return lambda message: tell_privately(client, channel, user, message, thread)

    @app.action("pluto_details")
    def details(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()

        def build() -> Any:
            _, cid = candidate_from(action["value"])
            return details_view(services.pluto.candidate(cid))

        defer_modal(services, client, body, "Candidate", "Loading the candidate…", build, reply_to(client, body),
                    "candidate details")

    @app.action("pluto_questions")
    def questions(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        channel, user, thread = _where(body)

        def work() -> None:
            run, cid = candidate_from(action["value"])
            name = next((c.name for c in scoring.candidates(run) if c.id == cid), "the candidate")
            ts = post(client, channel, spinner_message(f"Generating interview questions for {name}…"),
                      thread or run["thread_ts"])
            try:
                message = questions_message(name, services.pluto.questions(cid))
            except Exception as exc:
                message = error_message(getattr(exc, "user_message", "Could not generate questions."))
            client.chat_update(channel=channel, ts=ts, **message.kwargs())

        defer(services, body["user"]["id"], work, reply_to(client, body), "interview questions")

    @app.action("pluto_prebrief")
    def prebrief(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()

        def build() -> Any:
            _, cid = candidate_from(action["value"])
            return prebrief_view(services.pluto.prebrief(cid))

        defer_modal(services, client, body, "Pre-interview brief", "Preparing the brief…", build,
                    reply_to(client, body), "pre-brief")

    @app.action("pluto_intake")
    def intake(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()

        def work() -> None:
            _, cid = candidate_from(action["value"])
            link = services.pluto.intake_link(cid)
            expires = f"<!date^{int(link.expires_at)}^{{date_short_pretty}} {{time}}|soon>" if link.expires_at else "soon"
            reply_to(client, body)(private_link_message(
                "Intake link", link.url.reveal(),
                f"Only you can see this. Send it to the candidate; it expires {expires}."))

        defer(services, body["user"]["id"], work, reply_to(client, body), "intake link")

    @app.action("pluto_room")
    def room(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()

        def work() -> None:
            _, cid = candidate_from(action["value"])
            interviewer = body["user"].get("name") or body["user"]["id"]
            started = services.pluto.start_interview(cid, interviewer)
            reply_to(client, body)(private_link_message(
                f"Interview room {started.room_name}", started.room_url.reveal(),
                "Only you can see this. The room has the candidate's context and pre-brief loaded."))

        defer(services, body["user"]["id"], work, reply_to(client, body), "interview room")

    @app.action("pluto_retry")
    def retry(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()

        def work() -> None:
            run = scoring.retry(action["value"])
            message: Message = queued_message(run["filename"], scoring.position(run))
            client.chat_update(channel=run["channel"], ts=run["progress_ts"], **message.kwargs())

        defer(services, body["user"]["id"], work, reply_to(client, body), "retry")

    def page(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()

        def work() -> None:
            run_id, _, number = action["value"].rpartition("|")
            run = scoring.get(run_id)
            message = shortlist_for(run, services, int(number))
            channel, _, _ = _where(body)
            ts = (body.get("message") or {}).get("ts")
            if ts and not (body.get("container") or {}).get("is_ephemeral"):
                client.chat_update(channel=channel, ts=ts, **message.kwargs())
            else:
                reply_to(client, body)(message)

        defer(services, body["user"]["id"], work, reply_to(client, body), "shortlist page")

    app.action("pluto_page_next")(page)
    app.action("pluto_page_prev")(page)
