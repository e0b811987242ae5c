"""Interview watcher: explicit watches, project subscriptions, and the once-only notification log."""

from services.store import Schema


def up(db: Schema) -> None:
    db["session_watches"].create(
        {
            "session_id": str,
            "channel": str,
            "thread_ts": str,
            "kind": str,  # project | instant
            "project_id": str,
            "requested_by": str,
            "created_at": float,
        },
        pk=("session_id", "channel"),
    )
    db["project_subscriptions"].create(
        {"project_id": str, "channel": str, "created_by": str, "created_at": float},
        pk=("project_id", "channel"),
    )
    # One row per (session, channel). A row is claimed before posting and marked posted
    # after; the claim is what makes the post happen exactly once across restarts.
    db["session_notifications"].create(
        {
            "session_id": str,
            "channel": str,
            "state": str,  # claimed | posted
            "message_ts": str,
            "claimed_at": float,
            "posted_at": float,
        },
        pk=("session_id", "channel"),
    )
