"""Core tables: key/value settings, stored files, Slack event de-duplication."""

from services.store import Schema


def up(db: Schema) -> None:
    db["kv"].create({"key": str, "value": str}, pk="key")
    db["files"].create(
        {"id": str, "name": str, "size": int, "sha256": str, "content": bytes, "source": str, "created_at": float},
        pk="id",
    )
    db["slack_events_seen"].create({"event_id": str, "seen_at": float}, pk="event_id")
