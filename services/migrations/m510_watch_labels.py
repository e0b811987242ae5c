"""Watches remember the participant's label for the completed-interview message."""

import sqlite_utils


def up(db: sqlite_utils.Database) -> None:
    db["session_watches"].add_column("label", str)
