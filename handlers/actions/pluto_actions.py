"""Buttons on scoring messages: candidate details, questions, pre-brief, intake link, room; retry; pages."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.blocks import Message, error_message
from bot.blocks.pluto import (
    details_view,
    intake_link_message,
    prebrief_view,
    questions_message,
    queued_message,
    room_message,
    shortlist_message,
    spinner_message,
)
from bot.context import Services
from bot.slack_out import SlackOut
from bot.work import Reply, defer, defer_modal
from handlers import inject
from services.errors import ServiceError
from services.records import CandidateRef, PageRef

log = logging.getLogger(__name__)


def where(body: dict[str, Any]) -> tuple[str, str, str | None]:
    """(channel, user, thread) of a click."""
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or ""
    message = body.get("message") or {}
    return channel, body["user"]["id"], message.get("thread_ts") or message.get("ts")


def private_reply(client: WebClient, body: dict[str, Any]) -> Reply:
    """Answer the person who clicked, privately, where they clicked."""
    channel, user, thread = where(body)
    out = SlackOut(client)
    return lambda message: out.reply_privately(channel, user, message, thread)


def on_details(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
               services: Services) -> None:
    ack()
    defer_modal(services.work, client, body, "Candidate", "Loading the candidate…",
                lambda: details_view(services.scoring.candidate(CandidateRef.parse(action["value"]),
                                                                user=body["user"]["id"])),
                private_reply(client, body), "candidate details")


def on_questions(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
                 services: Services) -> None:
    """A spinner in the thread, replaced by the questions (or by why there are none)."""
    ack()
    channel, user, thread = where(body)

    def work() -> None:
        ref = CandidateRef.parse(action["value"])
        scoring, out = services.scoring, SlackOut(client)
        name = scoring.candidate_name(ref, user=user)  # refuses an outsider before anything is posted
        ts = out.post(channel, spinner_message(f"Generating interview questions for {name}…"),
                      thread or scoring.run(ref.run_id).thread_ts)
        try:
            message = questions_message(name, scoring.questions(ref, user=user))
        except ServiceError as exc:
            message = error_message(exc.user_message)
        except Exception:
            log.exception("interview questions for %s failed", ref)
            message = error_message("Could not generate questions.")
        out.update(channel, ts, message)

    defer(services.work, user, work, private_reply(client, body), "interview questions")


def on_prebrief(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
                services: Services) -> None:
    ack()
    defer_modal(services.work, client, body, "Pre-interview brief", "Preparing the brief…",
                lambda: prebrief_view(services.scoring.prebrief(CandidateRef.parse(action["value"]),
                                                                user=body["user"]["id"])),
                private_reply(client, body), "pre-brief")


def on_intake(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
              services: Services) -> None:
    """The intake link is a bearer secret: only the person who clicked sees it."""
    ack()
    reply = private_reply(client, body)

    def work() -> None:
        link = services.scoring.intake_link(CandidateRef.parse(action["value"]), user=body["user"]["id"])
        reply(intake_link_message(link.url, link.expires_at))

    defer(services.work, body["user"]["id"], work, reply, "intake link")


def on_room(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
            services: Services) -> None:
    """The room link is a bearer secret: only the person who clicked sees it."""
    ack()
    reply = private_reply(client, body)
    interviewer = body["user"].get("name") or body["user"]["id"]
    defer(services.work, body["user"]["id"],
          lambda: reply(room_message(services.scoring.interview_room(CandidateRef.parse(action["value"]),
                                                                     interviewer, user=body["user"]["id"]))),
          reply, "interview room")


def on_retry(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
             services: Services) -> None:
    ack()

    def work() -> None:
        scoring = services.scoring
        run = scoring.retry(action["value"])
        if run.progress_ts:
            message: Message = queued_message(run.filename, scoring.position(run))
            SlackOut(client).update(run.channel, run.progress_ts, message)

    defer(services.work, body["user"]["id"], work, private_reply(client, body), "retry")


def on_page(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
            services: Services) -> None:
    """Another page of a shortlist: the channel's message changes in place; a private one is sent again."""
    ack()
    reply = private_reply(client, body)

    def work() -> None:
        ref = PageRef.parse(action["value"])
        message = shortlist_message(services.scoring.run(ref.key), ref.number)
        channel, _, _ = where(body)
        ts = (body.get("message") or {}).get("ts")
        if ts and not (body.get("container") or {}).get("is_ephemeral"):
            SlackOut(client).update(channel, ts, message)
        else:
            reply(message)

    defer(services.work, body["user"]["id"], work, reply, "shortlist page")


def register(app: App, services: Services) -> None:
    for action_id, listener in (("pluto_details", on_details), ("pluto_questions", on_questions),
                                ("pluto_prebrief", on_prebrief), ("pluto_intake", on_intake),
                                ("pluto_room", on_room), ("pluto_retry", on_retry),
                                ("pluto_page_next", on_page), ("pluto_page_prev", on_page)):
        app.action(action_id)(inject(listener, services))
