"""Post each finished interview to the channels that asked, once (every ``POLL_INTERVAL_SECONDS``).

The channel cards follow link statuses through the ``voice_cards`` job (bot/jobs/voice_cards.py),
which also records the session ids this job reads. A screened interview also updates its
Screening board (bot/flows/screening.py).
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient

from bot import once
from bot.blocks.watcher import completed_message
from bot.context import Services
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
    reconcile(services, client)
    for note in services.sessions.poll(wait_seconds=wait_seconds(services)):
        if services.stopping.is_set():
            return
        with log_context(session=note.session_id, channel=note.channel):
            post(services, out, note)
            try:  # a screened interview also changes its board (once, however many channels follow it)
                on_interview(services, out, note)
            except Exception:
                log.exception("watcher: the screening board of session %s could not be updated", note.session_id)


def _key(session_id: str, channel: str) -> str:
    return f"{EVENT_TYPE}:{session_id}:{channel}"


def post(services: Services, out: SlackOut, note: Notification) -> str | None:
    """Claim, post, confirm: the message ts, or None when it was not posted (now)."""
    sessions = services.sessions
    if not sessions.claim(note.session_id, note.channel, note.thread_ts):
        return None
    sent = once.send(_key(note.session_id, note.channel),
                     lambda: {"ts": out.post(note.channel, completed_message(note), note.thread_ts)})
    if sent.outcome == "posted":
        sessions.mark_posted(note.session_id, note.channel, sent.ts or "")
        metrics.WATCHER_POSTED.inc()
        return sent.ts
    if sent.outcome == "undeliverable":
        log.warning("watcher: can't post session %s to %s (%s); giving up", note.session_id, note.channel,
                    sent.error)
        sessions.give_up(note.session_id, note.channel, sent.error)
    elif sent.outcome == "failed":
        log.warning("watcher: posting session %s to %s failed (%s); next poll retries", note.session_id,
                    note.channel, sent.error)
        sessions.release(note.session_id, note.channel)
    else:  # Slack may have stored it: the claim stays, and reconcile() looks it up after the timeout
        log.warning("watcher: posting session %s to %s had no clear answer (%s); will look it up in Slack",
                    note.session_id, note.channel, sent.error)
    return None


def reconcile(services: Services, client: WebClient) -> None:
    """Settle claims left "claimed" by a lost answer or a dead process: found in Slack -> record it;
    not found -> release it, and this same poll posts it."""
    sessions = services.sessions
    for row in sessions.stale_claims(services.settings.claim_timeout_seconds):
        if services.stopping.is_set():
            return
        if _key(row["session_id"], row["channel"]) in once.IN_FLIGHT or not sessions.retake(row):
            continue
        try:
            ts = once.find_posted(client, row["channel"], row.get("thread_ts"),
                                  once.metadata_matches(EVENT_TYPE, {"session_id": row["session_id"]}),
                                  oldest=(row["claimed_at"] or 0) - once.LOOKBACK_SECONDS)
        except Exception as exc:  # Slack can't be asked now: the claim stays, the next poll asks again
            log.warning("watcher: looking up session %s in %s failed (%s); will try again", row["session_id"],
                        row["channel"], exc)
            continue
        if ts:
            log.info("watcher: session %s was already posted to %s (%s); recorded", row["session_id"],
                     row["channel"], ts)
            sessions.mark_posted(row["session_id"], row["channel"], ts)
        else:
            log.info("watcher: session %s was never posted to %s; posting it", row["session_id"], row["channel"])
            sessions.release(row["session_id"], row["channel"])
