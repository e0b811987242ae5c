"""Reminders, nudges and expiry warnings by DM, and each channel's daily digest (the ``reminders`` job).

What is due comes from :class:`services.reminders.ReminderService`. Each one is written to the outbox
(bot/delivery.py) under its occurrence key in the same store transaction that records it as sent,
so a restart or a new leader neither repeats nor loses one; the outbox's sender delivers it at
Slack's pace, and settles an unclear outcome by the key in the message's metadata.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.blocks import Message
from bot.blocks.reminders import decision_nudge, digest_message, expiry_warning, feedback_reminder
from bot.blocks.watcher import completed_message
from bot.context import Services
from bot.delivery import Deliveries
from bot.slack_out import SlackOut
from services.records import Notification
from services.reminders import Reminder

log = logging.getLogger(__name__)


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
    """Every reminder due now, each queued once; how many."""
    reminders, deliveries = services.reminders, Deliveries(services, SlackOut(client))
    now = services.clock.now()
    count = 0
    for reminder in reminders.due(now):
        if services.stopping.is_set():
            break
        try:
            message = message_for(services, client, reminder, now)
            with services.outbox.transaction():
                reminders.mark_sent(reminder)
                count += deliveries.dm(reminder.occurrence, reminder.user, message)
        except Exception:
            log.exception("reminder %s to %s could not be queued; next time", reminder.key, reminder.user)
    return count


def post_digests(services: Services, client: Any) -> int:
    """Each channel's digest whose time has come, once per channel and day; empty days post nothing."""
    reminders, out = services.reminders, SlackOut(client)
    deliveries = Deliveries(services, out)
    count = 0
    for due in reminders.digests_due(lambda key: services.outbox.get(key) is not None):
        digest = reminders.digest(due)
        if digest.empty:
            continue
        channel = due.setting.channel
        message = digest_message(digest)
        try:
            out.is_public(channel)  # asked (and cached) before the transaction, not inside it
            followers = reminders.digest_dm_recipients(sorted(out.members(channel) or set()))
            with services.outbox.transaction():
                if not deliveries.post(due.key, channel, message):
                    continue
                for user in followers:
                    deliveries.dm(f"{due.key}:dm:{user}", user, message)
            count += 1
        except Exception:
            log.exception("the digest of %s could not be queued; next time", channel)
    return count


def completion_dms(services: Services, deliveries: Deliveries, note: Notification) -> None:
    """A finished interview by DM to whoever asked for it (App Home: mine / all I follow / off; a choice
    made on a Screening board wins), once per person however many channels follow the session."""
    for user in services.reminders.completion_dm_targets(note.session_id):
        message = completed_message(note)
        deliveries.dm(f"interview_dm:{note.session_id}:{user}", user, Message(message.text, message.blocks))


def run_due(services: Services, client: Any) -> None:
    """The ``reminders`` job's body: reminders first, then digests."""
    send_reminders(services, client)
    post_digests(services, client)
