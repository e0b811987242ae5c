"""An index for the settling sweep's look for sent posts whose after-sent step is still pending
(``Outbox.after_steps_pending``): the outbox keeps its sent rows, so without it every sweep, twice a second,
would read the whole history."""

from services.store import Schema


def up(db: Schema) -> None:
    db["outbox"].create_index(["after_pending", "sent_at"])
