"""The outbox remembers whether a sent post's after-sent step ran (bot/delivery.py ``after_sent``).

A replica killed between recording a post as sent and running its after-sent step (the watcher
noting the post's ts, a board keeping its message) left that step undone for good. ``after_pending``
is 1 from the moment the post is recorded until the step ran; the next leader's settling sweep runs
the steps still pending.
"""

from services.store import Schema


def up(db: Schema) -> None:
    db["outbox"].add_column("after_pending", int)
