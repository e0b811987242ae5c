"""Slack deliveries seen before: Slack re-sends an event it thinks was missed, and sends some posts twice."""

from __future__ import annotations

from services.store import Store, now

TABLE = "slack_events_seen"


class EventLog:
    def __init__(self, store: Store) -> None:
        self.store = store

    def first_time(self, key: str) -> bool:
        """Record ``key`` (an event id, or any key for one piece of work); False when it was seen before."""
        return self.store.insert_if_absent(TABLE, {"event_id": key, "seen_at": now()})
