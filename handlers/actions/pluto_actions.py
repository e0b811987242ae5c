"""Buttons on scoring messages: candidate details, questions, pre-brief, intake link, voice intake,
start interview; retry; pages."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.blocks import Message, error_message, info_message
from bot.blocks.pluto import (
    cancel_prompt,
    details_view,
    prebrief_view,
    questions_message,
    queued_message,
    shortlist_message,
    spinner_message,
)
from bot.context import Services
from bot.flows import interviews
from bot.flows.scoring import cancel_run
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

    def build() -> Any:
        ref, (channel, user, _) = CandidateRef.parse(action["value"]), where(body)
        candidate = services.scoring.candidate(ref, user=user)
        services.audit.record(user, "candidate_details", channel=channel, delivery="modal", run_id=ref.run_id,
                              candidate_id=ref.candidate_id)
        return details_view(candidate)

    defer_modal(services.work, client, body, "Candidate", "Loading the candidate…", build,
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
        services.lifecycle.record_message(channel, ts, "questions", run_id=ref.run_id, candidate_id=ref.candidate_id)
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

    def build() -> Any:
        ref, (channel, user, _) = CandidateRef.parse(action["value"]), where(body)
        brief = services.scoring.prebrief(ref, user=user)
        services.audit.record(user, "candidate_brief", channel=channel, delivery="modal", run_id=ref.run_id,
                              candidate_id=ref.candidate_id)
        return prebrief_view(brief)

    defer_modal(services.work, client, body, "Pre-interview brief", "Preparing the brief…", build,
                private_reply(client, body), "pre-brief")


def on_intake(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
              services: Services) -> None:
    """A new intake link, checked with Pluto before it is shown, and its gaps; only to the person who clicked."""
    ack()
    reply = private_reply(client, body)
    user = body["user"]["id"]
    defer(services.work, user,
          lambda: interviews.intake_link(services, CandidateRef.parse(action["value"]), user, reply),
          reply, "intake link")


def on_voice_intake(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
                    services: Services) -> None:
    """The voice intake's room and questions, only to the person who clicked."""
    ack()
    reply = private_reply(client, body)
    user = body["user"]["id"]
    defer(services.work, user,
          lambda: interviews.voice_intake(services, CandidateRef.parse(action["value"]), user, reply),
          reply, "voice intake")


def on_start_interview(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
                       services: Services) -> None:
    """Start interview: the Interview card in the run's thread; the room link and token to the clicker only."""
    ack()
    user = body["user"]["id"]
    defer(services.work, user,
          lambda: interviews.start_from_candidate(services, SlackOut(client), CandidateRef.parse(action["value"]),
                                                  user),
          private_reply(client, body), "start interview")


def on_retry(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
             services: Services) -> None:
    ack()

    def work() -> None:
        scoring = services.scoring
        scoring.allowed_run(action["value"], body["user"]["id"])
        run = scoring.retry(action["value"])
        if run.progress_ts and run.state == "queued":
            message: Message = queued_message(run, scoring.position(run))
            SlackOut(client).update(run.channel, run.progress_ts, message)

    defer(services.work, body["user"]["id"], work, private_reply(client, body), "retry")


def on_cancel(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
              services: Services) -> None:
    """Cancel run (after Slack's confirmation): the run's progress message says it was cancelled; a refusal
    (not allowed, or Pluto already has the run) goes privately to the person who pressed."""
    ack()
    reply = private_reply(client, body)

    def work() -> None:
        run = cancel_run(services, SlackOut(client), action["value"], body["user"]["id"])
        if (body.get("container") or {}).get("is_ephemeral"):  # pressed on /pluto cancel's private question
            reply(info_message(f":white_check_mark: The scoring of *{run.filename}* is cancelled."))

    defer(services.work, body["user"]["id"], work, reply, "cancel run")


def on_cancel_pick(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
                   services: Services) -> None:
    """A run picked from several for ``/pluto cancel``: the same question, for that run."""
    ack()
    reply = private_reply(client, body)

    def work() -> None:
        scoring = services.scoring
        run = scoring.cancellable(scoring.run(action["value"]), body["user"]["id"])
        reply(cancel_prompt(run, scoring.position(run)))

    defer(services.work, body["user"]["id"], work, reply, "cancel run")


def on_page(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
            services: Services) -> None:
    """Another page of a shortlist: the channel's message changes in place; a private one is sent again."""
    ack()
    reply = private_reply(client, body)

    def work() -> None:
        ref = PageRef.parse(action["value"])
        run = services.scoring.allowed_run(ref.key, body["user"]["id"])
        message = shortlist_message(run, ref.number, interviewed=interviews.interviewed_for(services, run))
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
                                ("pluto_voice_intake", on_voice_intake), ("pluto_interview", on_start_interview),
                                # cards posted before "Start interview" existed carry "Interview room"
                                ("pluto_room", on_start_interview), ("pluto_retry", on_retry),
                                ("pluto_cancel", on_cancel), ("pluto_cancel_pick", on_cancel_pick),
                                ("pluto_page_next", on_page), ("pluto_page_prev", on_page)):
        app.action(action_id)(inject(listener, services))
