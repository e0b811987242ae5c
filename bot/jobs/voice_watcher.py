"""Follow the voice links and post each finished interview to the channels that asked, once (every
``POLL_INTERVAL_SECONDS``).

Each run, in order: the links' statuses from Nimrobo (their channel cards and the screening boards showing
them follow, and the session ids of opened links are recorded), then the sessions those links and the
channels' watches and subscriptions name (services/voice/sessions.py), then the notifications.

The watcher decides; the outbox delivers (bot/delivery.py). For each ready notification it
writes, in one store transaction, the outbox row (idempotency key
``voice_session_completed:<session>:<channel>``) and its own record in
``session_notifications``; the sender posts it at the channel's pace, exactly once, and the
after-sent step records the message ts. A screened interview also updates its Screening board
(bot/flows/screening.py).
"""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

from bot.blocks.voice_watcher import completed_message
from bot.context import Services
from bot.delivery import Deliveries, after_sent
from bot.flows.reminders import completion_dms
from bot.flows.screening import on_interview, show_boards
from bot.flows.voice import refresh_changed_cards
from bot.logging_setup import log_context
from bot.scheduler import job, job_logger
from bot.slack_out import SlackOut
from services import metrics
from services.records import Notification
from services.voice.sessions import COMPLETED, completed_key, completed_of

JOB = "voice_watcher"
log = job_logger(JOB)  # its own lines and its failures: one logger, bot.jobs.voice_watcher


def wait_seconds(services: Services) -> float:
    """How long a completed interview may wait for its summary and evaluation."""
    return max(10.0, 4 * services.settings.poll_interval_seconds)


@job(JOB, seconds=lambda services: services.settings.poll_interval_seconds)
def watch_interviews(services: Services, client: WebClient) -> None:
    if not services.settings.nimrobo_api_key:
        return
    with metrics.WATCHER_CYCLE.time():
        _cycle(services, client)


def _cycle(services: Services, client: WebClient) -> None:
    out = SlackOut(client)
    follow_links(services, out)
    deliveries = Deliveries(services, out)
    for note in services.sessions.poll(wait_seconds=wait_seconds(services)):
        if services.stopping.is_set():
            return
        with log_context(session=note.session_id, channel=note.channel):
            try:
                decide(services, deliveries, note)
            except Exception:
                log.exception("watcher: session %s could not be queued for %s", note.session_id, note.channel)
                continue
            try:  # completions by DM, as each person chose in App Home (once per person)
                completion_dms(services, deliveries, note)
            except Exception:
                log.exception("watcher: completion DMs of session %s failed; next poll", note.session_id)
            try:  # a screened interview also changes its board (once, however many channels follow it)
                on_interview(services, out, note)
            except Exception:
                log.exception("watcher: the screening board of session %s could not be updated", note.session_id)


def follow_links(services: Services, out: SlackOut) -> None:
    """The links' statuses: cards and boards (invited → started → expired) show them, and the session ids
    they learn are what the poll reads next. A failure here never keeps the poll from running."""
    try:
        changed = refresh_changed_cards(services, out)
        show_boards(services, out, services.screening.boards_for_batches(changed))
    except Exception:
        log.exception("watcher: following the voice links failed; sessions already known are still read")


def decide(services: Services, deliveries: Deliveries, note: Notification) -> bool:
    """Queue the completed-interview post and note it, in one transaction; False when it was queued before."""
    message = completed_message(note)
    deliveries.out.is_public(note.channel)  # asked (and cached) before the transaction, not inside it
    with services.outbox.transaction():
        queued = deliveries.post(completed_key(note.session_id, note.channel), note.channel, message, note.thread_ts)
        if queued:
            services.sessions.note_reported(note.session_id, note.channel, note.thread_ts)
    return queued


@after_sent(COMPLETED)
def _posted(services: Services, out: SlackOut, row: dict[str, Any], ts: str | None) -> None:
    session_id, channel = completed_of(row["key"])
    services.sessions.mark_posted(session_id, channel, ts or "", row.get("thread_ts"))
    metrics.WATCHER_POSTED.inc()
