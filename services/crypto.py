"""Secrets at rest: a Fernet cipher made from ``ENCRYPTION_KEY`` (the key that already protects the personal
and workspace Nimrobo keys, services/keys.py), and the Slack token columns it protects.

slack_sdk's SQLAlchemy installation store keeps every install's tokens in ``slack_installations`` and
``slack_bots``; bot/installs.py (:class:`~bot.installs.EncryptedInstallationStore`) writes the columns named in
:data:`SLACK_TOKEN_COLUMNS` only as Fernet tokens and reads them back, and migration m960 encrypts rows an
earlier release wrote in plain text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from config import Secret

#: every Fernet token starts so (version byte 0x80 and a timestamp, base64): nothing Slack issues does
FERNET_PREFIX = "gAAAAA"

#: the columns of slack_sdk's installation tables that hold a credential (a token, a refresh token, or the
#: incoming webhook's URL, which posts without any other credential)
SLACK_TOKEN_COLUMNS: dict[str, tuple[str, ...]] = {
    "slack_installations": ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token",
                            "incoming_webhook_url"),
    "slack_bots": ("bot_token", "bot_refresh_token"),
}


def stored_credentials(rows_of: Callable[[str], Iterable[dict[str, Any]]]) -> Iterator[tuple[str, dict[str, Any], str]]:
    """``(table, row, column)`` of every credential value set in the installation tables, whose rows
    ``rows_of(table)`` gives (no rows for a table that doesn't exist)."""
    for table, columns in SLACK_TOKEN_COLUMNS.items():
        for row in rows_of(table):
            for column in columns:
                if row.get(column):
                    yield table, row, column


class Cipher:
    """Encrypts and decrypts text with ``ENCRYPTION_KEY`` (Fernet: AES-128-CBC and HMAC-SHA256)."""

    def __init__(self, key: str | Secret) -> None:
        raw = key.reveal() if isinstance(key, Secret) else key
        if not raw:
            raise ValueError("ENCRYPTION_KEY is not set")
        self._fernet = Fernet(raw.encode())  # ValueError when it is not a Fernet key

    def __repr__(self) -> str:
        return "Cipher(***)"

    @classmethod
    def from_setting(cls, key: str | Secret) -> Cipher | None:
        """The cipher for ``key``, or None when it is unset or not a Fernet key."""
        try:
            return cls(key)
        except (ValueError, TypeError):
            return None

    @staticmethod
    def is_encrypted(value: str | None) -> bool:
        return bool(value) and str(value).startswith(FERNET_PREFIX)

    def encrypt(self, value: str | None) -> str | None:
        """``value`` as a Fernet token (None and "" stay as they are; a value already encrypted is kept)."""
        if not value or self.is_encrypted(value):
            return value
        return self._fernet.encrypt(Secret(value).reveal().encode()).decode()

    def decrypt(self, value: str | None) -> str | None:
        """The text of a Fernet token; None when it is empty, or can't be read with this key (another
        ``ENCRYPTION_KEY``, or not a Fernet token: stored in plain text, which this never hands out)."""
        if not value:
            return None
        try:
            return self._fernet.decrypt(str(value).encode()).decode()
        except InvalidToken:
            return None
