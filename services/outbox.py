"""The outbox: claims for posts the bot must make exactly once, shared by every replica.

A post is claimed (one INSERT that does nothing when the key exists, so of two replicas or
a restarted bot exactly one wins) before it is sent, and confirmed with the message ts
after. A definite failure releases the claim; an unknown outcome leaves it "posting" until
it is stale, when the reconciler (bot/once.py) takes it over with :meth:`Outbox.retake`
(a compare-and-set, so only one reconciler acts on it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.store import Store, now

TABLE = "slack_posts"
POSTING, POSTED = "posting", "posted"


@dataclass(frozen=True)
class OutboxStats:
    """What waits in the outbox (``/metrics``): rows not yet confirmed, the age of the oldest, their channels."""

    waiting: int
    oldest_age_seconds: float
    channels: int


class Outbox:
    def __init__(self, store: Store) -> None:
        self.store = store

    def claim(self, key: str, channel: str, thread_ts: str | None) -> bool:
        """Take the right to post ``key``; False when it is already claimed or posted."""
        return self.store.insert_if_absent(TABLE, {"key": key, "channel": channel, "thread_ts": thread_ts,
                                                   "state": POSTING, "message_ts": None, "claimed_at": now(),
                                                   "posted_at": None, "attempts": 1})

    def get(self, key: str) -> dict[str, Any] | None:
        return self.store.get(TABLE, key)

    def mark_posted(self, key: str, ts: str | None) -> None:
        self.store.update(TABLE, key, {"state": POSTED, "message_ts": ts, "posted_at": now()})

    def release(self, key: str) -> None:
        """Drop a claim whose post definitely did not happen, so the next run tries again."""
        self.store.execute(f"delete from {TABLE} where key = ? and state = ?", [key, POSTING])

    def give_up(self, key: str, reason: str) -> None:
        self.store.update(TABLE, key, {"state": f"undeliverable: {reason}"[:200]})

    def stale(self, timeout: float, prefix: str = "") -> list[dict[str, Any]]:
        """Claims still "posting" ``timeout`` seconds after they were taken (oldest first)."""
        return self.store.rows(TABLE, "state = ? and claimed_at < ? and key like ?",
                               [POSTING, now() - timeout, prefix + "%"], order_by="claimed_at")

    def retake_if_stale(self, row: dict[str, Any], timeout: float) -> bool:
        """Take over ``row`` when its claim is older than ``timeout`` s (its post is no longer in flight)."""
        return row["claimed_at"] <= now() - timeout and self.retake(row)

    def stats(self) -> OutboxStats:
        """Posts claimed and not yet confirmed, the age of the oldest in seconds, the channels they wait in."""
        [row] = self.store.execute(f"select count(*) as n, min(claimed_at) as oldest, count(distinct channel) as "
                                   f"channels from {TABLE} where state = ?", [POSTING])
        oldest = row["oldest"]
        return OutboxStats(int(row["n"] or 0), round(max(0.0, now() - oldest), 3) if oldest else 0.0,
                           int(row["channels"] or 0))

    def retake(self, row: dict[str, Any]) -> bool:
        """Take over a stale claim for reconciling; False when someone else already did."""
        return self.store.update_where(TABLE, {"claimed_at": now(), "attempts": (row.get("attempts") or 1) + 1},
                                       "key = ? and state = ? and claimed_at = ?",
                                       [row["key"], POSTING, row["claimed_at"]]) == 1
