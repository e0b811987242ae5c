"""Post each finished interview to the channels that asked, once (every ``POLL_INTERVAL_SECONDS``).

The channel cards follow link statuses through the ``voice_cards`` job (bot/jobs/voice_cards.py),
which also records the session ids this job reads.
"""

from __future__ import annotations

import logging
from typing import Any

from bot import once
from bot.blocks.watcher import completed_message
from bot.context import Services
from bot.scheduler import job
from services import watcher

log = logging.getLogger(__name__)

EVENT_TYPE = "voice_session_completed"


def wait_seconds(services: Services) -> float:
    """How long a completed interview may wait for its summary and evaluation."""
    return max(10.0, 4 * services.settings.poll_interval_seconds)


@job("interview_watcher", seconds=lambda services: services.settings.poll_interval_seconds)
def watch_interviews(services: Services, client: Any) -> None:
    if not services.settings.nimrobo_api_key:
        return
    reconcile(services, client)
    for note in watcher.poll(services.store, services.nimrobo, wait_seconds=wait_seconds(services),
                             workers=services.settings.api_concurrency, backoff=services.backoff):
        if services.stopping.is_set():
            return
        post(services, client, note)


def _key(session_id: str, channel: str) -> str:
    return f"{EVENT_TYPE}:{session_id}:{channel}"


def post(services: Services, client: Any, note: watcher.Notification) -> str | None:
    """Claim, post, confirm: the message ts, or None when it was not posted (now)."""
    store = services.store
    if not watcher.claim(store, note.session_id, note.channel, note.thread_ts):
        return None
    sent = once.send(_key(note.session_id, note.channel), lambda: client.chat_postMessage(
        channel=note.channel, thread_ts=note.thread_ts, **completed_message(note).kwargs()))
    if sent.outcome == "posted":
        watcher.mark_posted(store, note.session_id, note.channel, sent.ts or "")
        return sent.ts
    if sent.outcome == "undeliverable":
        log.warning("watcher: can't post session %s to %s (%s); giving up", note.session_id, note.channel,
                    sent.error)
        watcher.give_up(store, note.session_id, note.channel, sent.error)
    elif sent.outcome == "failed":
        log.warning("watcher: posting session %s to %s failed (%s); next poll retries", note.session_id,
                    note.channel, sent.error)
        watcher.release(store, note.session_id, note.channel)
    else:  # Slack may have stored it: the claim stays, and reconcile() looks it up after the timeout
        log.warning("watcher: posting session %s to %s had no clear answer (%s); will look it up in Slack",
                    note.session_id, note.channel, sent.error)
    return None


def reconcile(services: Services, client: Any) -> None:
    """Settle claims left "claimed" by a lost answer or a dead process: found in Slack -> record it;
    not found -> release it, and this same poll posts it."""
    store = services.store
    for row in watcher.stale_claims(store, services.settings.claim_timeout_seconds):
        if services.stopping.is_set():
            return
        if _key(row["session_id"], row["channel"]) in once.IN_FLIGHT or not watcher.retake(store, row):
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
            watcher.mark_posted(store, row["session_id"], row["channel"], ts)
        else:
            log.info("watcher: session %s was never posted to %s; posting it", row["session_id"], row["channel"])
            watcher.release(store, row["session_id"], row["channel"])
