"""Recruiters' own Nimrobo keys, encrypted at rest with Fernet (``ENCRYPTION_KEY``).

A key is checked before it is kept (``GET /v1/user/profile``), stored only as a Fernet
token, handed out only as a :class:`config.Secret` (whose repr and str are masked), and
never logged or shown again. Without ``ENCRYPTION_KEY`` nobody can log in; everyone uses the
operator's ``NIMROBO_API_KEY``.

Make a key with::

    python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken

from config import Secret
from services.http import ServiceError
from services.store import Store, now

MAKE_KEY = 'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'


class KeyVaultError(ServiceError):
    service = "Key vault"

    @property
    def user_message(self) -> str:
        return f"{self.message} {self.hint}".strip()


@dataclass(frozen=True)
class StoredKey:
    user_id: str
    key: Secret
    account: str
    missing_scopes: tuple[str, ...]
    revoked: bool


def check_encryption_key(value: str) -> str | None:
    """Why ``value`` can't serve as ``ENCRYPTION_KEY``, or None when it can."""
    if not value:
        return "ENCRYPTION_KEY is not set."
    try:
        Fernet(value.encode())
    except (ValueError, TypeError):
        return "ENCRYPTION_KEY is not a Fernet key (32 url-safe base64-encoded bytes)."
    return None


class KeyVault:
    def __init__(self, store: Store, encryption_key: str | Secret) -> None:
        self.store = store
        raw = encryption_key.reveal() if isinstance(encryption_key, Secret) else encryption_key
        self._fernet = Fernet(raw.encode()) if raw and check_encryption_key(raw) is None else None

    def __repr__(self) -> str:
        return f"KeyVault(enabled={self.enabled})"

    @property
    def enabled(self) -> bool:
        return self._fernet is not None

    def _need(self) -> Fernet:
        if self._fernet is None:
            raise KeyVaultError("Personal Nimrobo keys are not enabled on this bot.",
                                hint="The operator must set ENCRYPTION_KEY (see `python -m bot doctor`); until "
                                     "then everyone uses the shared key.")
        return self._fernet

    def save(self, user_id: str, key: str, account: str, missing_scopes: list[str] | tuple[str, ...] = ()) -> None:
        token = self._need().encrypt(Secret(key).reveal().encode()).decode()
        self.store.upsert("user_keys", {"user_id": user_id, "ciphertext": token, "account": account,
                                        "missing_scopes": ",".join(missing_scopes), "created_at": now(),
                                        "revoked_at": None}, pk="user_id")

    def load(self, user_id: str) -> StoredKey | None:
        if not user_id or self._fernet is None:
            return None
        row = self.store.get("user_keys", user_id)
        if row is None:
            return None
        try:
            key = Secret(self._fernet.decrypt(row["ciphertext"].encode()).decode())
        except InvalidToken:  # ENCRYPTION_KEY changed: the stored key can't be read any more
            return None
        scopes = tuple(s for s in (row.get("missing_scopes") or "").split(",") if s)
        return StoredKey(user_id, key, row.get("account") or "", scopes, bool(row.get("revoked_at")))

    def delete(self, user_id: str) -> bool:
        if self.store.get("user_keys", user_id) is None:
            return False
        self.store.delete("user_keys", user_id)
        return True

    def mark_revoked(self, user_id: str) -> bool:
        """Record a 401 for this user's key; True the first time (so the owner is told once)."""
        row = self.store.get("user_keys", user_id)
        if row is None or row.get("revoked_at"):
            return False
        self.store.update("user_keys", user_id, {"revoked_at": now()})
        return True
