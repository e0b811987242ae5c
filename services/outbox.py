"""The outbox: every message the bot sends on its own initiative, shared by every replica.

The job that decides a post writes its row with :meth:`Outbox.enqueue`, inside the same
store transaction as its own state change (``with store.transaction(): ...; outbox.enqueue(...)``),
under an idempotency key: enqueueing a key twice does nothing, so a decision repeated by a
restart or a second replica is still one post. A sender (bot/delivery.py) drains the rows:

* ``waiting`` → :meth:`Outbox.claim` (a compare-and-set, so of two senders exactly one wins; the
  claim records the leader ``epoch`` it was taken under) → ``sending`` → ``sent`` with the
  message ts (:meth:`Outbox.mark_sent`).
* Slack answered with an error: nothing was stored, :meth:`Outbox.release` puts it back to
  ``waiting`` with a back-off; an error that trying again won't fix: ``undeliverable``.
* No answer, a timeout or a 5xx: Slack may have stored it, so it is never re-sent blindly; it
  becomes ``unclear`` and is looked up in Slack by its metadata after a short grace
  (:meth:`Outbox.to_settle`). A claim of an older leader epoch is settled at once by the new
  leader, since the lock already says its holder is gone; a claim older than the claim timeout
  is the last resort when leader election is off.

Updates of one message (``kind="update"``, a board, a card) share one row per message, so
repeated updates coalesce into its newest state (``version``); an update is idempotent, so an
unclear one is simply sent again.

:meth:`Outbox.stats` says how much is waiting and for how long (``/health``, metrics).
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from services.store import Store, now

TABLE = "outbox"
WAITING, SENDING, UNCLEAR, SENT = "waiting", "sending", "unclear", "sent"
UNDELIVERABLE = "undeliverable"
OPEN_STATES = (WAITING, SENDING, UNCLEAR)
KINDS = ("post", "update", "upload", "dm", "upload_dm")
MAX_BACKOFF = 60.0


@dataclass(frozen=True)
class OutboxStats:
    """What waits in the outbox: rows not yet sent, the age of the oldest, the channels they wait in."""

    waiting: int
    oldest_age_seconds: float
    channels: int


class _Sequence:
    """Increasing numbers for the enqueue order (nanoseconds, never repeating within a process)."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> int:
        with self._lock:
            self._last = max(self._last + 1, time.time_ns())
            return self._last


_SEQ = _Sequence()


#: payload fields that hold a file's content (text, or bytes as base64)
FILE_CONTENT = frozenset({"content", "content_b64"})


def without_file_content(payload: dict[str, Any]) -> dict[str, Any]:
    """A file's payload with its name and size but not its content (any other payload as it is)."""
    if not FILE_CONTENT & set(payload):
        return payload
    out = {k: v for k, v in payload.items() if k not in FILE_CONTENT}
    content_b64, content = payload.get("content_b64"), payload.get("content")
    out["content_left_out_bytes"] = len(base64.b64decode(content_b64)) if content_b64 is not None \
        else len(str(content or "").encode())
    return out


def update_key(channel: str, ts: str) -> str:
    """The one row of every update of message ``ts`` in ``channel``."""
    return f"update:{channel}:{ts}"


class Outbox:
    """``on_enqueue`` is called after a row is enqueued (after the commit, inside :meth:`transaction`):
    the sender in this process then looks at once instead of at its next poll."""

    def __init__(self, store: Store, on_enqueue: Callable[[], None] | None = None) -> None:
        self.store = store
        self.on_enqueue = on_enqueue
        self._local = threading.local()

    def _enqueued(self) -> None:
        if getattr(self._local, "depth", 0):
            self._local.pending = True
        elif self.on_enqueue is not None:
            self.on_enqueue()

    # -- deciding -----------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """The store transaction a decision and its outbox rows share (``with outbox.transaction(): ...``);
        the sender hears of the rows once they are committed."""
        depth = getattr(self._local, "depth", 0)
        self._local.depth = depth + 1
        try:
            with self.store.transaction() as store:
                yield store
        except BaseException:
            if depth == 0:
                self._local.pending = False  # rolled back: nothing to hear of
            raise
        finally:
            self._local.depth = depth
        if depth == 0 and getattr(self._local, "pending", False):
            self._local.pending = False
            self._enqueued()

    def enqueue(self, key: str, channel: str, kind: str, payload: dict[str, Any], *, thread_ts: str | None = None,
                match: dict[str, Any] | None = None) -> bool:
        """Owe Slack this message; call it inside the store transaction of the decision.

        ``key`` makes it idempotent: a post already in the outbox (waiting, sent or anything)
        is left alone and False returned. An ``update`` replaces the payload of the message's
        row with its newest state (True), and wakes a row already sent. ``match`` says how to
        find a post in Slack after an unclear outcome (default: the key in its metadata).
        """
        if kind not in KINDS:
            raise ValueError(f"unknown outbox kind {kind!r}")
        at, seq = now(), _SEQ.next()
        row = {"key": key, "channel": channel, "thread_ts": thread_ts, "kind": kind,
               "payload_json": json.dumps(payload), "match_json": json.dumps(match or {"outbox_key": key}),
               "state": WAITING, "epoch": 0, "seq": seq, "version": 1, "sent_version": 0, "created_at": at,
               "due_at": at, "claimed_at": None, "sent_at": None, "attempts": 0, "message_ts": None, "error": ""}
        if kind != "update":
            added = self.store.insert_if_absent(TABLE, row)
            if added:
                self._enqueued()
            return added
        cols = ", ".join(row)
        self.store.execute(
            f"insert into {TABLE} ({cols}) values ({', '.join(':' + c for c in row)}) "
            "on conflict (key) do update set payload_json = excluded.payload_json, "
            f"version = {TABLE}.version + 1, due_at = excluded.due_at, error = '', "
            f"created_at = case when {TABLE}.state in ('sent', 'undeliverable') then excluded.created_at "
            f"else {TABLE}.created_at end, "
            f"state = case when {TABLE}.state = 'sending' then 'sending' else 'waiting' end", row)
        self._enqueued()
        return True

    # -- reading --------------------------------------------------------------------------------
    def get(self, key: str) -> dict[str, Any] | None:
        return self.store.get(TABLE, key)

    def due_channels(self, limit: int = 1000) -> list[str]:
        """Channels with rows due now, the longest waiting first."""
        rows = self.store.execute(
            f"select channel, min(seq) as first from {TABLE} where state = 'waiting' and due_at <= ? "
            "group by channel order by first limit ?", [now(), limit])
        return [r["channel"] for r in rows]

    def heads(self, channel: str, lookahead: int = 50) -> list[dict[str, Any]]:
        """The channel's next post (anything but an update) and its next update that may go now, oldest first.

        Posts keep their order within a thread (and at the top level): a post waits while an earlier
        one of its thread is being sent, is unclear, or waits for its back-off. Another thread's post
        may go ahead, and so may an update, whose tier is separate."""
        at = now()
        heads = self.store.rows(TABLE, "channel = ? and state = 'waiting' and due_at <= ? and kind = 'update'",
                                [channel, at], order_by="seq", limit=1)
        blocked: set[str] = set()
        for row in self.store.rows(TABLE, "channel = ? and state in ('waiting', 'sending', 'unclear') and "
                                          "kind != 'update'", [channel], order_by="seq", limit=lookahead):
            thread = row.get("thread_ts") or ""
            if row["state"] == WAITING and (row.get("due_at") or 0) <= at and thread not in blocked:
                heads.append(row)
                break
            blocked.add(thread)
        return sorted(heads, key=lambda r: r["seq"])

    def stats(self) -> OutboxStats:
        """Rows waiting (not yet sent), the age of the oldest in seconds, and the channels they wait in."""
        [row] = self.store.execute(
            f"select count(*) as n, min(created_at) as oldest, count(distinct channel) as channels from {TABLE} "
            "where state in ('waiting', 'sending', 'unclear')")
        oldest = row["oldest"]
        return OutboxStats(int(row["n"] or 0), round(max(0.0, now() - oldest), 3) if oldest else 0.0,
                           int(row["channels"] or 0))

    # -- sending ------------------------------------------------------------------------------
    def claim(self, row: dict[str, Any], epoch: int) -> dict[str, Any] | None:
        """Take ``row`` for sending under leader ``epoch`` (compare-and-set on its state and version);
        the claimed row, or None when another sender got it first."""
        at = now()
        won = self.store.update_where(
            TABLE, {"state": SENDING, "epoch": epoch, "claimed_at": at, "attempts": (row.get("attempts") or 0) + 1},
            "key = ? and state = 'waiting' and version = ?", [row["key"], row["version"]]) == 1
        if not won:
            return None
        return {**row, "state": SENDING, "epoch": epoch, "claimed_at": at, "attempts": (row.get("attempts") or 0) + 1}

    def mark_sent(self, row: dict[str, Any], ts: str | None, *, after_pending: bool = False) -> bool:
        """Record the message ts of a claimed row. An update that got a newer state while it was
        sent goes back to waiting, to send that state too. False when the claim was taken over.
        ``after_pending``: the post has an after-sent step still to run (:meth:`after_done` when it ran)."""
        done = self.store.update_where(
            TABLE, {"state": SENT, "message_ts": ts, "sent_at": now(), "sent_version": row["version"], "error": "",
                    "after_pending": 1 if after_pending else 0},
            "key = ? and state in ('sending', 'unclear') and claimed_at = ? and version = ?",
            [row["key"], row["claimed_at"], row["version"]]) == 1
        if not done and row["kind"] == "update":
            return self.store.update_where(TABLE, {"state": WAITING, "message_ts": ts},
                                           "key = ? and state = 'sending' and claimed_at = ?",
                                           [row["key"], row["claimed_at"]]) == 1
        return done

    def release(self, row: dict[str, Any], error: str) -> None:
        """Slack answered with an error, so nothing was stored: back to waiting, after a back-off."""
        delay = min(MAX_BACKOFF, 2.0 ** min(10, row.get("attempts") or 1))
        self.store.update_where(TABLE, {"state": WAITING, "due_at": now() + delay, "error": error[:200]},
                                "key = ? and state in ('sending', 'unclear') and claimed_at = ?",
                                [row["key"], row["claimed_at"]])

    def unclear(self, row: dict[str, Any], error: str) -> None:
        """No clear answer: Slack may have stored it. Looked up after the grace (:meth:`to_settle`)."""
        self.store.update_where(TABLE, {"state": UNCLEAR, "claimed_at": now(), "error": error[:200]},
                                "key = ? and state = 'sending' and claimed_at = ?", [row["key"], row["claimed_at"]])

    def give_up(self, row: dict[str, Any], error: str) -> None:
        """An error that trying again won't fix (the bot left the channel...): kept, with the reason."""
        self.store.update_where(TABLE, {"state": UNDELIVERABLE, "error": error[:200]},
                                "key = ? and state in ('sending', 'unclear') and claimed_at = ?",
                                [row["key"], row["claimed_at"]])

    # -- settling claims whose outcome nobody knows -------------------------------------------------
    def to_settle(self, *, epoch: int | None, grace: float, timeout: float) -> list[dict[str, Any]]:
        """Claims to look up in Slack now (oldest first): unclear ones past the grace; those of a leader
        epoch older than ``epoch`` (their holder is gone: at once); any past ``timeout`` (the last resort)."""
        at = now()
        where = "(state = 'unclear' and claimed_at <= ?) or (state = 'sending' and claimed_at <= ?)"
        params: list[Any] = [at - grace, at - timeout]
        if epoch is not None:
            where += " or (state = 'sending' and epoch < ?)"
            params.append(epoch)
        return self.store.rows(TABLE, where, params, order_by="seq")

    def retake(self, row: dict[str, Any], epoch: int) -> dict[str, Any] | None:
        """Take over a claim to settle it (compare-and-set); None when someone else did."""
        at = now()
        won = self.store.update_where(TABLE, {"state": SENDING, "epoch": epoch, "claimed_at": at},
                                      "key = ? and state = ? and claimed_at = ?",
                                      [row["key"], row["state"], row["claimed_at"]]) == 1
        return {**row, "state": SENDING, "epoch": epoch, "claimed_at": at} if won else None

    def reopen(self, row: dict[str, Any]) -> None:
        """Not found in Slack: it was never stored, so it may be sent (a row without a payload, from
        before the outbox, is dropped for its job to decide it again)."""
        if row.get("payload_json") is None:
            self.store.execute(f"delete from {TABLE} where key = ? and claimed_at = ?", [row["key"], row["claimed_at"]])
            return
        self.store.update_where(TABLE, {"state": WAITING, "due_at": now()}, "key = ? and claimed_at = ?",
                                [row["key"], row["claimed_at"]])

    def drop_file_content(self, key: str) -> bool:
        """A sent file's content leaves the outbox (its name and size stay): a copy of data such as a
        workspace's export is not kept after it reached Slack. False when ``key`` is not a sent file."""
        row = self.store.get(TABLE, key)
        payload = (row or {}).get("payload_json")
        if row is None or row["state"] != SENT or not isinstance(payload, dict) or not FILE_CONTENT & set(payload):
            return False
        return self.store.update_where(TABLE, {"payload_json": json.dumps(without_file_content(payload))},
                                       "key = ? and state = ?", [key, SENT]) == 1

    def sent_rows(self, prefix: str) -> list[dict[str, Any]]:
        return self.store.rows(TABLE, "key like ? and state = 'sent'", [prefix + "%"], order_by="seq")

    def after_done(self, key: str) -> None:
        """A sent post's after-sent step ran."""
        self.store.update_where(TABLE, {"after_pending": 0}, "key = ?", [key])

    def after_steps_pending(self, *, grace: float) -> list[dict[str, Any]]:
        """Sent posts whose after-sent step never ran (their sender died in between), sent over ``grace`` ago."""
        return self.store.rows(TABLE, "state = 'sent' and after_pending = 1 and sent_at <= ?", [now() - grace],
                               order_by="seq")

    def keys(self, prefix: str) -> set[str]:
        """Every key beginning with ``prefix`` (whatever its state)."""
        return {r["key"] for r in self.store.execute(f"select key from {TABLE} where key like ?", [prefix + "%"])}
