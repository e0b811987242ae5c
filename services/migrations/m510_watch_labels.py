"""Watches remember the participant's label for the completed-interview message."""

from services.store import Schema


def up(db: Schema) -> None:
    db["session_watches"].add_column("label", str)
