"""The outbox: claims for posts the bot must make exactly once, shared by every replica.

A post is claimed (one INSERT that does nothing when the key exists, so of two replicas or
a restarted bot exactly one wins) before it is sent, and confirmed with the message ts
after. A definite failure releases the claim; an unknown outcome leaves it "posting" until
:func:`stale` hands it to the reconciler (bot/once.py), which takes it over with
:func:`retake` (a compare-and-set, so only one reconciler acts on it).
"""

from __future__ import annotations

from typing import Any

from services.store import Store, now

TABLE = "slack_posts"
POSTING, POSTED = "posting", "posted"


def claim(store: Store, key: str, channel: str, thread_ts: str | None) -> bool:
    """Take the right to post ``key``; False when it is already claimed or posted."""
    return store.insert_if_absent(TABLE, {"key": key, "channel": channel, "thread_ts": thread_ts, "state": POSTING,
                                          "message_ts": None, "claimed_at": now(), "posted_at": None,
                                          "attempts": 1})


def get(store: Store, key: str) -> dict[str, Any] | None:
    return store.get(TABLE, key)


def mark_posted(store: Store, key: str, ts: str | None) -> None:
    store.update(TABLE, key, {"state": POSTED, "message_ts": ts, "posted_at": now()})


def release(store: Store, key: str) -> None:
    """Drop a claim whose post definitely did not happen, so the next run tries again."""
    store.execute(f"delete from {TABLE} where key = ? and state = ?", [key, POSTING])


def give_up(store: Store, key: str, reason: str) -> None:
    store.update(TABLE, key, {"state": f"undeliverable: {reason}"[:200]})


def stale(store: Store, timeout: float, prefix: str = "") -> list[dict[str, Any]]:
    """Claims still "posting" ``timeout`` seconds after they were taken (oldest first)."""
    return store.rows(TABLE, "state = ? and claimed_at < ? and key like ?", [POSTING, now() - timeout, prefix + "%"],
                      order_by="claimed_at")


def retake(store: Store, row: dict[str, Any]) -> bool:
    """Take over a stale claim for reconciling; False when someone else already did."""
    return store.update_where(TABLE, {"claimed_at": now(), "attempts": (row.get("attempts") or 1) + 1},
                              "key = ? and state = ? and claimed_at = ?",
                              [row["key"], POSTING, row["claimed_at"]]) == 1
