"""A claimed notification remembers its thread, so a lost answer can be looked up in the right place."""

from services.store import Schema


def up(db: Schema) -> None:
    db["session_notifications"].add_column("thread_ts", str)
