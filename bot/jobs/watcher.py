"""Post each finished interview to the channels that asked, once (every ``POLL_INTERVAL_SECONDS``).

The channel cards follow link statuses through the ``voice_cards`` job (bot/jobs/voice_cards.py),
which also records the session ids this job reads.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.watcher import completed_message
from bot.context import Services
from bot.scheduler import job
from bot.slack_out import SlackOut
from services.records import Notification

log = logging.getLogger(__name__)

# Slack errors that won't go away by trying again: keep the claim, record why, stop trying.
UNDELIVERABLE = {"channel_not_found", "not_in_channel", "is_archived", "restricted_action", "access_denied",
                 "team_access_not_granted", "invalid_blocks", "invalid_metadata", "msg_too_long"}


def wait_seconds(services: Services) -> float:
    """How long a completed interview may wait for its summary and evaluation."""
    return max(10.0, 4 * services.settings.poll_interval_seconds)


@job("interview_watcher", seconds=lambda services: services.settings.poll_interval_seconds)
def watch_interviews(services: Services, client: WebClient) -> None:
    if not services.settings.nimrobo_api_key:
        return
    out = SlackOut(client)
    for note in services.sessions.poll(wait_seconds=wait_seconds(services)):
        if services.stopping.is_set():
            return
        post(services, out, note)


def post(services: Services, out: SlackOut, note: Notification) -> str | None:
    """Claim, post, mark: the message ts, or None when it was not posted (now)."""
    sessions = services.sessions
    if not sessions.claim(note.session_id, note.channel):
        return None
    try:
        ts = out.post(note.channel, completed_message(note), note.thread_ts)
    except SlackApiError as exc:  # Slack answered, so nothing was posted
        error = str(exc.response.get("error", "")) if exc.response is not None else ""
        if error in UNDELIVERABLE:
            log.warning("watcher: can't post session %s to %s (%s); giving up", note.session_id, note.channel, error)
            sessions.give_up(note.session_id, note.channel, error)
        else:
            log.warning("watcher: posting session %s to %s failed (%s); next poll retries", note.session_id,
                        note.channel, error or exc)
            sessions.release(note.session_id, note.channel)
        return None
    except Exception:  # no answer: it may have been posted, so never post it again (at most once)
        log.exception("watcher: posting session %s to %s had no answer; not retrying", note.session_id, note.channel)
        return None
    sessions.mark_posted(note.session_id, note.channel, ts)
    return ts
