"""The outbox: one row per post the bot must make exactly once (claim -> post -> confirm)."""

from services.store import Schema


def up(db: Schema) -> None:
    db["slack_posts"].create(
        {
            "key": str,  # what is posted, e.g. "pluto_scoring_completed:<run id>"
            "channel": str,
            "thread_ts": str,
            "state": str,  # posting | posted | undeliverable: <reason>
            "message_ts": str,
            "claimed_at": float,  # when the current attempt started (reconciled after the claim timeout)
            "posted_at": float,
            "attempts": int,
        },
        pk="key",
    )
    db["slack_posts"].create_index(["state", "claimed_at"])
