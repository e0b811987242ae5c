"""A scoring run can be cancelled while it waits in the queue: who did it is kept with the run."""

from services.store import Schema


def up(db: Schema) -> None:
    db["scoring_runs"].add_column("cancelled_by", str)
