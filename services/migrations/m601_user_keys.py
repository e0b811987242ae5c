"""Recruiters' own Nimrobo keys, encrypted at rest (services/keys.py).

Numbered m600 until two migrations shared that number: a database that ran it as ``m600_user_keys``
has it applied already (``FORMERLY``), and it does not run again.
"""

from services.store import Schema

FORMERLY = ("m600_user_keys",)


def up(db: Schema) -> None:
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
