"""Buttons on scoring messages: candidate details, questions, pre-brief, intake link, voice intake,
start interview; retry; pages."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from slack_bolt import App
from slack_sdk.models.views import View

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
from handlers import inject
from handlers.clicks import Click, deferred, modal
from services.errors import BotError
from services.records import CandidateRef, PageRef

log = logging.getLogger(__name__)
T = TypeVar("T")


def candidate_modal(click: Click, read: Callable[..., T], build: Callable[[T], View], audited_as: str) -> View:
    """A modal of the clicked candidate: ``read`` as the clicker (access checked), ``build``, and audited."""
    ref = click.parsed(CandidateRef.parse)
    view = build(read(ref, user=click.user))
    click.services.audit.record(click.user, audited_as, channel=click.channel, delivery="modal", run_id=ref.run_id,
                                candidate_id=ref.candidate_id)
    return view


@modal("Candidate", "Loading the candidate…", "candidate details")
def on_details(click: Click) -> View:
    return candidate_modal(click, click.services.scoring.candidate, details_view, "candidate_details")


@deferred("interview questions")
def on_questions(click: Click) -> None:
    """A spinner in the thread, replaced by the questions (or by why there are none)."""
    ref = click.parsed(CandidateRef.parse)
    scoring, out, user = click.services.scoring, click.out, click.user
    name = scoring.candidate_name(ref, user=user)  # refuses an outsider before anything is posted
    ts = out.post(click.channel, spinner_message(f"Generating interview questions for {name}…"),
                  click.thread or scoring.run(ref.run_id).thread_ts)
    click.services.lifecycle.record_message(click.channel, ts, "questions", run_id=ref.run_id,
                                            candidate_id=ref.candidate_id)
    try:
        message = questions_message(name, scoring.questions(ref, user=user))
    except BotError as exc:
        message = error_message(exc.user_message)
    except Exception:
        log.exception("interview questions for %s failed", ref)
        message = error_message("Could not generate questions.")
    out.update(click.channel, ts, message)


@modal("Pre-interview brief", "Preparing the brief…", "pre-brief")
def on_prebrief(click: Click) -> View:
    return candidate_modal(click, click.services.scoring.prebrief, prebrief_view, "candidate_brief")


@deferred("intake link")
def on_intake(click: Click) -> None:
    """A new intake link, checked with Pluto before it is shown, and its gaps; only to the person who clicked."""
    interviews.intake_link(click.services, click.parsed(CandidateRef.parse), click.user, click.reply)


@deferred("voice intake")
def on_voice_intake(click: Click) -> None:
    """The voice intake's room and questions, only to the person who clicked."""
    interviews.voice_intake(click.services, click.parsed(CandidateRef.parse), click.user, click.reply)


@deferred("start interview")
def on_start_interview(click: Click) -> None:
    """Start interview: the Interview card in the run's thread; the room link and token to the clicker only."""
    interviews.start_from_candidate(click.services, click.out, click.parsed(CandidateRef.parse), click.user)


@deferred("retry")
def on_retry(click: Click) -> None:
    scoring = click.services.scoring
    scoring.allowed_run(click.value, click.user)
    run = scoring.retry(click.value)
    if run.progress_ts and run.state == "queued":
        message: Message = queued_message(run, scoring.position(run))
        click.out.update(run.channel, run.progress_ts, message)


@deferred("cancel run")
def on_cancel(click: Click) -> Message | None:
    """Cancel run (after Slack's confirmation): the run's progress message says it was cancelled; a refusal
    (not allowed, or Pluto already has the run) goes privately to the person who pressed."""
    run = cancel_run(click.services, click.out, click.value, click.user)
    if click.ephemeral:  # pressed on /pluto cancel's private question
        return info_message(f":white_check_mark: The scoring of *{run.filename}* is cancelled.")
    return None


@deferred("cancel run")
def on_cancel_pick(click: Click) -> Message:
    """A run picked from several for ``/pluto cancel``: the same question, for that run."""
    scoring = click.services.scoring
    run = scoring.cancellable(scoring.run(click.value), click.user)
    return cancel_prompt(run, scoring.position(run))


@deferred("shortlist page")
def on_page(click: Click) -> Message | None:
    """Another page of a shortlist: the channel's message changes in place; a private one is sent again."""
    ref = click.parsed(PageRef.parse)
    run = click.services.scoring.allowed_run(ref.key, click.user)
    message = shortlist_message(run, ref.number, interviewed=interviews.interviewed_for(click.services, run))
    if click.message_ts and not click.ephemeral:
        click.out.update(click.channel, click.message_ts, message)
        return None
    return message


def register(app: App, services: Services) -> None:
    for action_id, fn in (("pluto_details", on_details), ("pluto_questions", on_questions),
                                ("pluto_prebrief", on_prebrief), ("pluto_intake", on_intake),
                                ("pluto_voice_intake", on_voice_intake), ("pluto_interview", on_start_interview),
                                # cards posted before "Start interview" existed carry "Interview room"
                                ("pluto_room", on_start_interview), ("pluto_retry", on_retry),
                                ("pluto_cancel", on_cancel), ("pluto_cancel_pick", on_cancel_pick),
                                ("pluto_page_next", on_page), ("pluto_page_prev", on_page)):
        app.action(action_id)(inject(fn, services))
