"""Recruiters' own Nimrobo keys, encrypted at rest (services/keys.py)."""

import sqlite_utils


def up(db: sqlite_utils.Database) -> None:
    db["user_keys"].create(
        {
            "user_id": str,
            "ciphertext": str,  # Fernet token of the key; the key itself is never stored
            "account": str,  # the Nimrobo account's name or email, for /voicelink whoami
            "missing_scopes": str,  # comma-separated, as checked at login
            "created_at": float,
            "revoked_at": float,  # set when Nimrobo answered 401: the owner is told once
        },
        pk="user_id",
    )
