"""One create call made at most once, and finding it in Slack when its outcome is unclear.

The outbox's sender (bot/delivery.py) makes every post through :func:`send`, which says how
it ended:

* ``posted``: Slack answered ok (the ts is recorded);
* ``failed``: Slack answered with an error, so nothing was stored; the row waits and is sent
  again after a back-off;
* ``undeliverable``: an error that trying again won't fix (the bot left the channel...); the
  row is kept with the reason;
* ``unknown``: no answer (dropped connection, timeout) or a 5xx. Slack may have stored the
  message. The client never re-sends a create by itself (bot/slack_client.py), so the row
  becomes "unclear".

An unclear row is looked up after a short grace (``OUTBOX_GRACE_SECONDS``), and a claim of an
older leader epoch at once: :func:`find_posted` looks for the message's metadata (or its file)
in the channel (``conversations.history``) or thread (``conversations.replies``) with
``include_all_metadata``. Found: its ts is recorded. Not found: it is sent.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError

from services import metrics

log = logging.getLogger(__name__)

# Slack errors that won't go away by trying again: keep the claim, record why, stop trying.
UNDELIVERABLE = {"channel_not_found", "not_in_channel", "is_archived", "restricted_action", "access_denied",
                 "team_access_not_granted", "invalid_blocks", "invalid_metadata", "msg_too_long",
                 "message_not_found", "cant_update_message", "edit_window_closed", "user_not_found"}
LOOKBACK_SECONDS = 600.0  # how far before the claim a history lookup starts (clock skew, slow posts)
HISTORY_PAGES = 10  # at most this many pages of 200 messages per lookup


@dataclass
class Sent:
    outcome: str  # posted | failed | undeliverable | unknown
    ts: str | None = None
    error: str = ""


class InFlight:
    """Keys this process is posting right now: never reconciled while their request may be open."""

    def __init__(self) -> None:
        self._keys: set[str] = set()
        self._lock = threading.Lock()

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        with self._lock:
            self._keys.add(key)
        try:
            yield
        finally:
            with self._lock:
                self._keys.discard(key)

    def __contains__(self, key: str) -> bool:
        with self._lock:
            return key in self._keys


IN_FLIGHT = InFlight()


def classify(exc: Exception) -> Sent:
    """What an exception from a create call says about whether Slack stored it."""
    if isinstance(exc, SlackApiError):
        response = exc.response
        status = getattr(response, "status_code", 200) or 200
        error = str(response.get("error", "")) if response is not None else ""
        if status >= 500:
            return Sent("unknown", error=f"HTTP {status} {error}".strip())
        if error in UNDELIVERABLE:
            return Sent("undeliverable", error=error)
        return Sent("failed", error=error or f"HTTP {status}")  # Slack answered: nothing was stored
    return Sent("unknown", error=type(exc).__name__)


def send(key: str, call: Callable[[], Any]) -> Sent:
    """Make one create call (never re-sent on a dropped connection) and say how it ended."""
    with IN_FLIGHT.hold(key):
        try:
            response = call()
        except Exception as exc:  # noqa: BLE001 - every failure is classified, none is swallowed silently
            sent = classify(exc)
            level = logging.WARNING if sent.outcome != "unknown" else logging.ERROR
            log.log(level, "post %s: %s (%s)", key, sent.outcome, sent.error)
            return sent
    ts = response.get("ts") if hasattr(response, "get") else None
    return Sent("posted", ts=str(ts) if ts else None)


def metadata_matches(event_type: str, payload: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
    """A predicate for :func:`find_posted`: the message carries ``event_type`` and these payload values."""

    def match(message: dict[str, Any]) -> bool:
        meta = message.get("metadata") or {}
        if meta.get("event_type") != event_type:
            return False
        found = meta.get("event_payload") or {}
        return all(str(found.get(k)) == str(v) for k, v in payload.items())

    return match


def find_posted(client: Any, channel: str, thread_ts: str | None, match: Callable[[dict[str, Any]], bool],
                oldest: float) -> str | None:
    """The ts of the bot's message in ``channel`` (or in the thread ``thread_ts``) that ``match``\\ es,
    or None. Raises SlackApiError (or a connection error) when Slack can't be asked now."""
    cursor = None
    for _ in range(HISTORY_PAGES):
        if thread_ts:
            response = client.conversations_replies(channel=channel, ts=thread_ts, include_all_metadata=True,
                                                    limit=200, cursor=cursor)
        else:
            response = client.conversations_history(channel=channel, oldest=f"{max(0.0, oldest):.6f}",
                                                    include_all_metadata=True, limit=200, cursor=cursor)
        for message in response.get("messages") or []:
            if match(message):
                metrics.outbox_settled(found=True)
                return str(message["ts"])
        cursor = (response.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            metrics.outbox_settled(found=False)
            return None
    metrics.outbox_settled(found=False)
    log.warning("history lookup in %s stopped after %d pages without finding the message", channel, HISTORY_PAGES)
    return None
