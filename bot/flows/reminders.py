"""Reminders, nudges and expiry warnings by DM, and each channel's daily digest (the ``reminders`` job).

What is due comes from :class:`services.reminders.ReminderService`; each delivery is exactly once:
its occurrence key is claimed in the outbox (``services.outbox``) before the message is sent and
confirmed after, and the message carries the key in its metadata. A claim whose outcome is
unknown (a dropped connection, a crash) is looked up in the conversation's history by that
metadata after ``CLAIM_TIMEOUT_SECONDS``: found, it is recorded; not found, it is sent again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bot import once
from bot.blocks import Message
from bot.blocks.reminders import decision_nudge, digest_message, expiry_warning, feedback_reminder
from bot.blocks.watcher import completed_message
from bot.context import Services
from bot.slack_out import SlackOut, masked_kwargs
from services.records import Notification
from services.reminders import Reminder

log = logging.getLogger(__name__)

REMINDER_EVENT, DIGEST_EVENT = "pluto_reminder", "pluto_digest"


def deliver(services: Services, client: Any, key: str, channel: str, message: Message,
            match: Callable[[dict[str, Any]], bool], *, masked: bool = False) -> str:
    """Send ``message`` to ``channel`` once for ``key``: ``posted``, ``done`` (it was already),
    ``pending`` (its outcome is not known yet) or ``failed`` (try again next time)."""
    outbox, out = services.outbox, SlackOut(client)
    if not outbox.claim(key, channel, None):
        row = outbox.get(key) or {}
        if row.get("state") != "posting":
            return "done"
        if key in once.IN_FLIGHT or not outbox.retake_if_stale(row, services.settings.claim_timeout_seconds):
            return "pending"
        try:
            found = once.find_posted(client, channel, None, match, row["claimed_at"] - once.LOOKBACK_SECONDS)
        except Exception as exc:  # noqa: BLE001 - Slack can't say now: ask again next time
            log.warning("could not look up %s in %s (%s); next time", key, channel, exc)
            return "pending"
        if found:
            outbox.mark_posted(key, found)
            return "done"
    kwargs = masked_kwargs(message) if masked and out.is_public(channel) else message.kwargs()
    sent = once.send(key, lambda: client.chat_postMessage(channel=channel, **kwargs))
    if sent.outcome == "posted":
        outbox.mark_posted(key, sent.ts)
        return "posted"
    if sent.outcome == "failed":
        outbox.release(key)
        return "failed"
    if sent.outcome == "undeliverable":
        outbox.give_up(key, sent.error)
        return "done"
    return "pending"


def _metadata_key(event_type: str, key: str) -> Callable[[dict[str, Any]], bool]:
    return once.metadata_matches(event_type, {"key": key})


def message_for(services: Services, client: Any, reminder: Reminder, now: float) -> Message:
    if reminder.kind == "feedback":
        return feedback_reminder(reminder, now)
    if reminder.kind == "decision":
        return decision_nudge(reminder, _board_url(services, client, reminder.subject), now)
    return expiry_warning(reminder)


def _board_url(services: Services, client: Any, board_id: str) -> str | None:
    try:
        board = services.screening.board(board_id)
        if not board.message_ts:
            return None
        return str(client.chat_getPermalink(channel=board.channel, message_ts=board.message_ts)["permalink"])
    except Exception as exc:  # noqa: BLE001 - the nudge still works without the link
        log.info("no permalink for board %s: %s", board_id, exc)
        return None


def send_reminders(services: Services, client: Any) -> int:
    """Every reminder due now, each once; how many went out."""
    reminders = services.reminders
    now = services.clock.now()
    sent = 0
    for reminder in reminders.due(now):
        if services.stopping.is_set():
            break
        try:
            channel = SlackOut(client).dm_channel(reminder.user)
            outcome = deliver(services, client, reminder.occurrence, channel,
                              message_for(services, client, reminder, now),
                              _metadata_key(REMINDER_EVENT, reminder.occurrence))
        except Exception:
            log.exception("reminder %s to %s could not be sent; next time", reminder.key, reminder.user)
            continue
        log.info("reminder %s #%d to %s: %s", reminder.key, reminder.n + 1, reminder.user, outcome)
        if outcome in ("posted", "done"):
            reminders.mark_sent(reminder)
            sent += outcome == "posted"
    return sent


def post_digests(services: Services, client: Any) -> int:
    """Each channel's digest whose time has come, once per channel and day; empty days post nothing."""
    reminders, out = services.reminders, SlackOut(client)

    def posted(key: str) -> bool:
        row = services.outbox.get(key)
        return bool(row) and row["state"] != "posting"

    count = 0
    for due in reminders.digests_due(posted):
        digest = reminders.digest(due)
        if digest.empty:
            continue
        message = digest_message(digest)
        match = once.metadata_matches(DIGEST_EVENT, {"channel": digest.channel, "day": digest.day})
        try:
            outcome = deliver(services, client, due.key, due.setting.channel, message, match, masked=True)
        except Exception:
            log.exception("the digest of %s could not be posted; next time", due.setting.channel)
            continue
        if outcome != "posted":
            continue
        count += 1
        members = out.members(due.setting.channel) or set()
        for user in reminders.digest_dm_recipients(sorted(members)):
            try:
                deliver(services, client, f"{due.key}:dm:{user}", out.dm_channel(user), message,
                        once.metadata_matches(DIGEST_EVENT, {"channel": digest.channel, "day": digest.day}))
            except Exception:
                log.exception("the digest DM to %s could not be sent", user)
    return count


def completion_dms(services: Services, client: Any, note: Notification) -> None:
    """A finished interview by DM to whoever asked for it (App Home: mine / all I follow / off; a choice
    made on a Screening board wins), once per person however many channels follow the session."""
    out = SlackOut(client)
    for user in services.reminders.completion_dm_targets(note.session_id):
        key = f"completed_dm:{note.session_id}:{user}"
        message = completed_message(note)
        message = Message(message.text, message.blocks, {"event_type": REMINDER_EVENT, "event_payload": {"key": key}})
        deliver(services, client, key, out.dm_channel(user), message, _metadata_key(REMINDER_EVENT, key))


def run_due(services: Services, client: Any) -> None:
    """The ``reminders`` job's body: reminders first, then digests."""
    send_reminders(services, client)
    post_digests(services, client)
