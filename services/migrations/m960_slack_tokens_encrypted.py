"""Slack tokens encrypted at rest (number range 960-964).

slack_sdk's installation store (``slack_installations``, ``slack_bots``, in the shared database) held each
install's bot and user tokens, refresh tokens and incoming webhook URL in plain text until this release; the
bot now writes them only as Fernet tokens made with ``ENCRYPTION_KEY`` (bot/installs.py
``EncryptedInstallationStore``). This migration encrypts what an earlier release stored, in both tables,
and widens those columns where the database enforces slack_sdk's ``VARCHAR(200)`` (PostgreSQL: a Fernet
token is longer than the value it holds).

Idempotent: a value already encrypted is left as it is, so a partial or repeated run changes nothing twice.
A database without those tables (never in OAuth mode, or new: the bot makes them with the wide columns)
has nothing to do. Plain-text tokens and no ``ENCRYPTION_KEY`` (the store opened without it): the migration
is deferred, not recorded, and runs at the next start that has the key (OAuth mode requires it).
"""

from __future__ import annotations

from services.crypto import SLACK_TOKEN_COLUMNS, Cipher, stored_credentials
from services.store import Deferred, Schema

GLOBAL = True  # the installation tables live in the shared database only


def plain_values(db: Schema) -> list[tuple[str, dict, str]]:
    """The token values stored in plain text: ``(table, row, column)``."""
    return [(table, row, column) for table, row, column in
            stored_credentials(lambda t: db[t].rows if db[t].exists() else [])
            if not Cipher.is_encrypted(row[column])]


def up(db: Schema) -> None:
    present = [table for table in SLACK_TOKEN_COLUMNS if db[table].exists()]
    if not present:
        return
    if db.dialect == "postgresql":  # slack_sdk made them VARCHAR(200); a Fernet token of a rotating token is longer
        for table in present:
            for column in SLACK_TOKEN_COLUMNS[table]:
                db.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE text')
    plain = plain_values(db)
    if not plain:
        return
    cipher = Cipher.from_setting(db.encryption_key)
    if cipher is None:
        raise Deferred("slack_installations / slack_bots hold Slack tokens in plain text and ENCRYPTION_KEY is "
                       "not set (or not a Fernet key): set it and start the bot again to encrypt them")
    for table, row, column in plain:
        db[table].update(row["id"], {column: cipher.encrypt(row[column])})
