"""Recruiters' own Nimrobo keys, encrypted at rest with Fernet (``ENCRYPTION_KEY``).

A key is checked before it is kept (``GET /v1/user/profile``), stored only as a Fernet
token, handed out only as a :class:`config.Secret` (whose repr and str are masked), and
never logged or shown again. Without ``ENCRYPTION_KEY`` nobody can log in; everyone uses the
operator's ``NIMROBO_API_KEY``.

Make a key with::

    python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from config import MAKE_ENCRYPTION_KEY, Secret
from services.crypto import Cipher
from services.errors import Refusal
from services.nimrobo import NimroboClient, NimroboError
from services.store import Store, current_workspace, now

MAKE_KEY = MAKE_ENCRYPTION_KEY  # how to make an ENCRYPTION_KEY


class KeyVaultError(Refusal):
    """Personal keys are off here, a key is malformed, or Nimrobo no longer accepts it."""

    service = "Key vault"


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
    if Cipher.from_setting(value) is None:
        return "ENCRYPTION_KEY is not a Fernet key (32 url-safe base64-encoded bytes)."
    return None


class KeyVault:
    def __init__(self, store: Store, encryption_key: str | Secret) -> None:
        self.store = store
        self._cipher = Cipher.from_setting(encryption_key)

    def __repr__(self) -> str:
        return f"KeyVault(enabled={self.enabled})"

    @property
    def enabled(self) -> bool:
        return self._cipher is not None

    def _need(self) -> Cipher:
        if self._cipher is None:
            raise KeyVaultError("Personal Nimrobo keys are not enabled on this bot.",
                                hint="The operator must set ENCRYPTION_KEY (see `python -m bot doctor`); until "
                                     "then everyone uses the shared key.")
        return self._cipher

    def save(self, user_id: str, key: str, account: str, missing_scopes: list[str] | tuple[str, ...] = ()) -> None:
        token = self._need().encrypt(Secret(key).reveal())
        self.store.upsert("user_keys", {"user_id": user_id, "ciphertext": token, "account": account,
                                        "missing_scopes": ",".join(missing_scopes), "created_at": now(),
                                        "revoked_at": None}, pk="user_id")

    def load(self, user_id: str) -> StoredKey | None:
        if not user_id or self._cipher is None:
            return None
        row = self.store.get("user_keys", user_id)
        if row is None:
            return None
        plain = self._cipher.decrypt(row["ciphertext"])
        if plain is None:  # ENCRYPTION_KEY changed: the stored key can't be read any more
            return None
        key = Secret(plain)
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


# -- whose key a request runs with ------------------------------------------------------------
_acting: ContextVar[str] = ContextVar("acting_user", default="")


@contextmanager
def acting_as(user: str | None) -> Iterator[None]:
    """Run the block on behalf of ``user``: Nimrobo calls inside it use their key when they have one."""
    token = _acting.set(user or "")
    try:
        yield
    finally:
        _acting.reset(token)


def acting_user() -> str:
    return _acting.get()


@dataclass(frozen=True)
class Login:
    account: str
    missing_scopes: tuple[str, ...]


@dataclass(frozen=True)
class Identity:
    """Which Nimrobo account a user's requests run as."""

    personal: bool
    account: str
    missing_scopes: tuple[str, ...] = ()
    revoked: bool = False


class KeyService:
    """``/voicelink login | logout | whoami``, and the Nimrobo client each request runs with.

    :attr:`nimrobo` behaves like a :class:`~services.nimrobo.NimroboClient`; each call runs with
    the acting user's own key (:func:`acting_as`) when they have one, else with the operator's
    ``NIMROBO_API_KEY``. A personal key that Nimrobo refuses (401) is marked revoked, its owner
    is told once (``on_revoked``), and the call falls back to the operator's key when
    ``NIMROBO_SHARED_KEY_FALLBACK`` allows it.
    """

    def __init__(self, vault: KeyVault, shared: NimroboClient, make_client: Callable[[str], NimroboClient], *,
                 fallback: bool = True, workspace_key: Callable[[], Secret | None] = lambda: None) -> None:
        self.vault = vault
        self.environment = shared  # the operator's NIMROBO_API_KEY
        self.make_client = make_client
        self.fallback = fallback
        #: the key the current workspace's admin set (App Home), None to use the environment's
        self.workspace_key = workspace_key
        self.on_revoked: Callable[[str], object] | None = None
        # (workspace, user) → (key fingerprint, client); user "" holds the workspace's own key
        self._clients: dict[tuple[str, str], tuple[str, NimroboClient]] = {}
        self._retired: list[NimroboClient] = []
        self._lock = threading.Lock()
        self.nimrobo = KeyedNimrobo(self)

    @staticmethod
    def acting_as(user: str | None) -> AbstractContextManager[None]:
        """Run a block on behalf of ``user`` (see :func:`acting_as`)."""
        return acting_as(user)

    # -- the slash commands ------------------------------------------------------------------
    def login(self, user: str, key: str) -> Login:
        """Check ``key`` with Nimrobo (profile, then scopes) and keep it encrypted. Raises on a bad key."""
        if not self.vault.enabled:
            self.vault.save(user, key, "")  # raises the "not enabled" explanation
        login = self.check(key)
        self.vault.save(user, key.strip(), login.account, login.missing_scopes)
        self._forget(user)
        return login

    def check(self, key: str) -> Login:
        """Whose Nimrobo account ``key`` is and which scopes it lacks; raises when it is not a key Nimrobo
        accepts. Used for a personal key and for a workspace's own key alike."""
        secret = Secret(key.strip())
        if not secret.reveal().startswith("api_"):
            raise KeyVaultError("That doesn't look like a Nimrobo API key.",
                                hint="Nimrobo keys start with `api_`; make one in Nimrobo under Settings → API keys.")
        client = self.make_client(secret.reveal())
        try:
            profile = client.get_profile()
            missing = tuple(client.missing_scopes())
        finally:
            client.close()
        return Login(profile.email or profile.name or profile.id, missing)

    def logout(self, user: str) -> bool:
        self._forget(user)
        return self.vault.delete(user)

    def whoami(self, user: str) -> Identity:
        stored = self.vault.load(user)
        if stored is not None and not stored.revoked:
            return Identity(True, stored.account, stored.missing_scopes)
        profile = self.shared.get_profile()
        return Identity(False, profile.email or profile.name or profile.id, revoked=stored is not None)

    # -- which client a call uses ----------------------------------------------------------------
    @property
    def shared(self) -> NimroboClient:
        """The "shared" client of the workspace being served: its own key when its admin set one, else the
        operator's ``NIMROBO_API_KEY``. A workspace whose own key can't be read gets neither: the call is
        refused (:class:`~services.workspaces.WorkspaceKeyUnreadable`, from ``workspace_key``)."""
        own = self.workspace_key()
        if own is None:
            return self.environment
        return self._cached("", own)

    def client_for(self, user: str) -> tuple[NimroboClient, str | None]:
        """(client, the user whose key it holds, or None for the shared one). A personal key wins over the
        workspace's own key, which wins over the environment's."""
        stored = self.vault.load(user) if user else None
        if stored is None:
            return self.shared, None
        if stored.revoked:
            if self.fallback:
                return self.shared, None
            raise KeyVaultError("Nimrobo no longer accepts your key.",
                                hint="Run `/voicelink login` with a new key.")
        return self._cached(user, stored.key), user

    def _cached(self, user: str, key: Secret) -> NimroboClient:
        """The client holding ``key`` for ``user`` in the current workspace (never another workspace's)."""
        fingerprint = hashlib.sha256(key.reveal().encode()).hexdigest()
        slot = (current_workspace() or "", user)
        with self._lock:
            cached = self._clients.get(slot)
            if cached is None or cached[0] != fingerprint:
                if cached is not None:
                    self._retired.append(cached[1])
                cached = self._clients[slot] = (fingerprint, self.make_client(key.reveal()))
        return cached[1]

    def on_environment_key(self, user: str) -> bool:
        """Whether ``user``'s calls here run with the environment's key (an account several workspaces may
        share), decided from the client they actually use; raises as :meth:`client_for` does."""
        return self.client_for(user)[0] is self.environment

    def revoked(self, user: str) -> None:
        """Nimrobo answered 401 to ``user``'s own key."""
        self._forget(user)
        if self.vault.mark_revoked(user) and self.on_revoked is not None:
            self.on_revoked(user)

    def _forget(self, user: str) -> None:
        """Stop using ``user``'s client; it is closed at shutdown, since another thread may still be in a call."""
        with self._lock:
            cached = self._clients.pop((current_workspace() or "", user), None)
            if cached is not None:
                self._retired.append(cached[1])

    def forget_workspace(self, workspace: str) -> None:
        """Workspace ``workspace`` left: stop using every client of it (its own key's and its people's); they are
        closed at shutdown, as another thread may still be in a call."""
        with self._lock:
            for slot in [slot for slot in self._clients if slot[0] == workspace]:
                self._retired.append(self._clients.pop(slot)[1])

    def close(self) -> None:
        with self._lock:
            clients = [c for _, c in self._clients.values()] + self._retired
            self._clients, self._retired = {}, []
        for client in clients:
            client.close()


class KeyedNimrobo:
    """A :class:`NimroboClient` look-alike that picks the key per call (see :class:`KeyService`)."""

    def __init__(self, keys: KeyService) -> None:
        self._keys = keys

    def __repr__(self) -> str:
        return f"KeyedNimrobo({self._keys.environment!r})"

    def __getattr__(self, name: str) -> Any:
        # What the attribute is, from the environment's client (the same class): the workspace's key is read
        # per call, and a call that would use an unreadable one is refused there (client_for).
        attribute = getattr(self._keys.environment, name)
        if name.startswith("_") or not callable(attribute):
            return getattr(self._keys.shared, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            client, owner = self._keys.client_for(acting_user())
            try:
                return getattr(client, name)(*args, **kwargs)
            except NimroboError as exc:
                if exc.status == 401 and owner is None and client is not self._keys.environment:
                    raise KeyVaultError("Nimrobo no longer accepts this workspace's own key.",
                                        hint="A workspace admin sets a new one on the bot's App Home "
                                             "(Workspace backends), or goes back to the default key.") from exc
                if exc.status != 401 or owner is None:
                    raise
                self._keys.revoked(owner)
                if not self._keys.fallback:
                    raise KeyVaultError("Nimrobo no longer accepts your key.",
                                        hint="Run `/voicelink login` with a new key.") from exc
                return getattr(self._keys.shared, name)(*args, **kwargs)  # a 401 changed nothing: safe to repeat

        return call
