"""Scoring results go through the outbox; runs that finished before it count as delivered."""

from services.store import Schema


def up(db: Schema) -> None:
    if not db["scoring_runs"].exists():
        return
    for kind in ("pluto_scoring_completed", "pluto_export"):
        db.execute(
            "insert into slack_posts (key, channel, thread_ts, state, message_ts, claimed_at, posted_at, attempts) "
            f"select '{kind}:' || id, channel, thread_ts, 'posted', null, finished_at, finished_at, 1 "
            "from scoring_runs where state = 'complete'")
