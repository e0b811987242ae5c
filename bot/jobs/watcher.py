"""Post each finished interview to the channels that asked, once (every ``POLL_INTERVAL_SECONDS``).

The watcher decides; the outbox delivers (bot/delivery.py). For each ready notification it
writes, in one store transaction, the outbox row (idempotency key
``voice_session_completed:<session>:<channel>``) and its own record in
``session_notifications``; the sender posts it at the channel's pace, exactly once, and the
after-sent step records the message ts. The channel cards follow link statuses through the
``voice_cards`` job (bot/jobs/voice_cards.py), which also records the session ids this job
reads. A screened interview also updates its Screening board (bot/flows/screening.py).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient

from bot.blocks.watcher import completed_message
from bot.context import Services
from bot.delivery import Deliveries, after_sent
from bot.flows.reminders import completion_dms
from bot.flows.screening import on_interview
from bot.logging_setup import log_context
from bot.scheduler import job
from bot.slack_out import SlackOut
from services import metrics
from services.records import Notification

log = logging.getLogger(__name__)

EVENT_TYPE = "voice_session_completed"


def wait_seconds(services: Services) -> float:
    """How long a completed interview may wait for its summary and evaluation."""
    return max(10.0, 4 * services.settings.poll_interval_seconds)


@job("interview_watcher", seconds=lambda services: services.settings.poll_interval_seconds)
def watch_interviews(services: Services, client: WebClient) -> None:
    if not services.settings.nimrobo_api_key:
        return
    with metrics.WATCHER_CYCLE.time():
        _cycle(services, client)


def _cycle(services: Services, client: WebClient) -> None:
    out = SlackOut(client)
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


def key_of(session_id: str, channel: str) -> str:
    return f"{EVENT_TYPE}:{session_id}:{channel}"


def decide(services: Services, deliveries: Deliveries, note: Notification) -> bool:
    """Queue the completed-interview post and note it, in one transaction; False when it was queued before."""
    message = completed_message(note)
    deliveries.out.is_public(note.channel)  # asked (and cached) before the transaction, not inside it
    with services.outbox.transaction():
        queued = deliveries.post(key_of(note.session_id, note.channel), note.channel, message, note.thread_ts)
        if queued:
            services.sessions.note_reported(note.session_id, note.channel, note.thread_ts)
    return queued


@after_sent(EVENT_TYPE)
def _posted(services: Services, out: SlackOut, row: dict[str, Any], ts: str | None) -> None:
    prefix, channel = f"{EVENT_TYPE}:", row["channel"]
    session_id = row["key"][len(prefix):-(len(channel) + 1)]
    services.sessions.mark_posted(session_id, channel, ts or "", row.get("thread_ts"))
    metrics.WATCHER_POSTED.inc()
