"""Installing in several workspaces: Bolt's OAuth flow, its SQLAlchemy stores, and a Slack client per workspace.

With ``SLACK_CLIENT_ID``, ``SLACK_CLIENT_SECRET`` and ``SLACK_STATE_SECRET`` set, the app is built
with Bolt's :class:`OAuthSettings`:

* ``GET /slack/install`` shows the "Add to Slack" button and ``GET /slack/oauth_redirect`` finishes
  the install (Bolt's :class:`OAuthFlow`); the state against CSRF is kept in the bot's database by
  slack_sdk's :class:`SQLAlchemyOAuthStateStore` and signed with ``SLACK_STATE_SECRET``
  (:class:`SignedStateStore`), so a state this deployment did not issue is refused before any lookup;
* installations (bot tokens, refresh tokens) are kept by slack_sdk's
  :class:`SQLAlchemyInstallationStore` in the bot's own database (SQLite or PostgreSQL, the main store),
  every token encrypted at rest with ``ENCRYPTION_KEY`` (:class:`EncryptedInstallationStore`);
* the bot's scopes are the manifest's (``oauth_config.scopes.bot`` in manifest.yml);
* tokens rotate: Bolt refreshes an expiring token on each request, and :class:`SlackClients` does the
  same for the jobs and the outbox sender, ``SLACK_TOKEN_ROTATION_MINUTES`` before expiry;
* a request is acknowledged without waiting on Slack: Bolt's authorize cache (``auth.test`` once per token,
  shared by requests and jobs) and a workspace lock taken only while a rotation is due
  (:class:`SerializedAuthorize`).

With ``SLACK_BOT_TOKEN`` instead, :class:`SlackClients` hands out the one client, as always.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from slack_bolt import BoltContext
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store import OAuthStateStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

from bot.slack_client import BotWebClient, SlackWriteLimiter
from config import ConfigError, Settings, encryption_key_problem
from services.crypto import SLACK_TOKEN_COLUMNS, Cipher
from services.store import Store
from services.workspaces import workspace_key

log = logging.getLogger(__name__)

MANIFEST = Path(__file__).resolve().parent.parent / "manifest.yml"
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"


def manifest_bot_scopes(path: Path = MANIFEST) -> list[str]:
    """The bot scopes the manifest asks for: what "Add to Slack" requests."""
    manifest = yaml.safe_load(path.read_text(encoding="utf-8"))
    return list(((manifest.get("oauth_config") or {}).get("scopes") or {}).get("bot") or [])


def manifest_user_scopes(path: Path = MANIFEST) -> list[str]:
    """The user scopes the manifest asks for (none: no person gets a token of their own)."""
    manifest = yaml.safe_load(path.read_text(encoding="utf-8"))
    return list(((manifest.get("oauth_config") or {}).get("scopes") or {}).get("user") or [])


class BotInstallations:
    """The installation store as the authorize reads it when the app asks for no user scopes: nobody has an
    installation of their own, so Bolt's look-up of "this user's installation" (one more query on every request
    from anyone but the installer, which may also find an earlier installer's stale row) is answered at once
    with None. Everything else is the store's."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def find_installation(self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None,
                          is_enterprise_install: bool | None = False) -> Installation | None:
        if user_id is not None:
            return None
        return self._store.find_installation(enterprise_id=enterprise_id, team_id=team_id,
                                             is_enterprise_install=is_enterprise_install)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def slack_web_base(settings: Settings) -> str:
    """Slack's web address for the configured API (``https://slack.com/api/`` → ``https://slack.com``)."""
    return settings.slack_api_url.rstrip("/").removesuffix("/api")


class SignedStateStore(OAuthStateStore):
    """slack_sdk's SQLAlchemy state store, its states signed with ``SLACK_STATE_SECRET`` (HMAC-SHA256):
    a state is single use and expires (the database row), and one this deployment did not sign is
    refused without a lookup."""

    def __init__(self, inner: SQLAlchemyOAuthStateStore, secret: str) -> None:
        self.inner = inner
        self._secret = secret.encode()

    @property
    def logger(self) -> logging.Logger:
        return self.inner.logger

    def _sign(self, state: str) -> str:
        digest = hmac.new(self._secret, state.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:18]).decode()

    def issue(self, *args: Any, **kwargs: Any) -> str:
        state = self.inner.issue(*args, **kwargs)
        return f"{state}.{self._sign(state)}"

    def consume(self, state: str) -> bool:
        raw, _, signature = (state or "").rpartition(".")
        if not raw or not hmac.compare_digest(signature, self._sign(raw)):
            log.warning("OAuth: a state this bot did not issue was refused")
            return False
        return bool(self.inner.consume(raw))


class AuthTestCache(dict[str, AuthorizeResult]):
    """Bolt's authorize cache (token -> the ``auth.test`` result) where a miss is one thread's: while one request
    asks ``auth.test`` for a token, the others with that token wait for its answer instead of asking too, so a
    burst of requests with a token not seen yet costs one ``auth.test``. (Bolt asks ``token in cache``, calls
    ``auth.test`` on a miss and stores the result; a thread whose call failed releases its claim, see
    :meth:`release_mine`, and a waiter then asks itself.)"""

    wait_seconds = 15.0  # the client's timeout: past it a waiter asks auth.test itself

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._pending: dict[str, threading.Event] = {}
        self._claims = threading.local()

    def _mine(self) -> set[str]:
        if not hasattr(self._claims, "tokens"):
            self._claims.tokens = set()
        return self._claims.tokens

    def __contains__(self, token: object) -> bool:
        while True:
            with self._lock:
                if dict.__contains__(self, token):
                    self._claims.seen = (token, super().__getitem__(str(token)))  # what this thread's [token] returns
                    return True
                pending = self._pending.get(str(token))
                if pending is None:  # this thread asks auth.test; the others wait for it
                    self._pending[str(token)] = threading.Event()
                    self._mine().add(str(token))
                    return False
            if not pending.wait(self.wait_seconds):
                return False

    def __getitem__(self, token: str) -> AuthorizeResult:
        """The result this thread found by ``token in cache``, even if another thread has dropped it since (a
        leaving workspace's :meth:`SerializedAuthorize.forget`, the size limit): Bolt reads it right after."""
        with self._lock:
            if dict.__contains__(self, token):
                return super().__getitem__(token)
        seen = getattr(self._claims, "seen", None)
        if seen is not None and seen[0] == token:
            return seen[1]
        raise KeyError(token)

    def __setitem__(self, token: str, result: AuthorizeResult) -> None:
        super().__setitem__(token, result)
        self.release(token)

    def release(self, token: str) -> None:
        with self._lock:
            pending = self._pending.pop(token, None)
        self._mine().discard(token)
        if pending is not None:
            pending.set()

    def release_mine(self) -> None:
        """Release what this thread claimed and did not store (its auth.test failed, or raised)."""
        for token in list(self._mine()):
            self.release(token)


class EncryptedInstallationStore(SQLAlchemyInstallationStore):
    """slack_sdk's SQLAlchemy installation store (its tables, its queries), every credential in it encrypted at
    rest: the bot and user tokens, their refresh tokens and the incoming webhook URL
    (:data:`~services.crypto.SLACK_TOKEN_COLUMNS`) are written as Fernet tokens made with ``ENCRYPTION_KEY``
    and decrypted as a row is read, so Bolt's authorize and token rotation see the real tokens and the
    database never holds one. Those columns are ``text`` (a Fernet token outgrows slack_sdk's ``VARCHAR(200)``,
    which PostgreSQL enforces); migration m960 encrypts rows stored before."""

    def __init__(self, *, cipher: Cipher, **kwargs: Any) -> None:
        self.cipher = cipher
        super().__init__(**kwargs)

    @classmethod
    def _widened(cls, table: sa.Table) -> sa.Table:
        for column in SLACK_TOKEN_COLUMNS[table.name]:
            table.c[column].type = sa.Text()
        return table

    @classmethod
    def build_installations_table(cls, metadata: sa.MetaData, table_name: str) -> sa.Table:
        return cls._widened(super().build_installations_table(metadata, table_name))

    @classmethod
    def build_bots_table(cls, metadata: sa.MetaData, table_name: str) -> sa.Table:
        return cls._widened(super().build_bots_table(metadata, table_name))

    def _sealed(self, entity: Any, table: str) -> Any:
        """A copy of ``entity`` (an Installation or a Bot) whose credentials are Fernet tokens."""
        sealed = copy.copy(entity)
        for column in SLACK_TOKEN_COLUMNS[table]:
            setattr(sealed, column, self.cipher.encrypt(getattr(entity, column, None)))
        return sealed

    def _open(self, row: Any, table: str) -> dict[str, Any]:
        """``row`` with its credentials decrypted; one this ``ENCRYPTION_KEY`` can't read comes out as None
        (the workspace is then "not installed" until it installs again). A value an earlier release stored in
        plain text (before m960 ran, or from a replica not yet upgraded) is read as it is; the next save of
        that installation (a token rotation, a re-install) encrypts it."""
        values = dict(row)
        for column in SLACK_TOKEN_COLUMNS[table]:
            value = values.get(column)
            if Cipher.is_encrypted(value):
                values[column] = self.cipher.decrypt(value)
                if values[column] is None:
                    log.warning("a stored Slack token of %s can't be read with this ENCRYPTION_KEY",
                                values.get("team_id") or values.get("enterprise_id"))
        return values

    def save(self, installation: Installation) -> None:
        super().save(self._sealed(installation, "slack_installations"))  # (its save_bot seals the bot's copy)

    def save_bot(self, bot: Bot) -> None:
        super().save_bot(self._sealed(bot, "slack_bots"))

    def build_installation_entity(self, row: Any) -> Installation:  # type: ignore[override]  # slack_sdk's is a classmethod, called on the store
        return super().build_installation_entity(self._open(row, "slack_installations"))

    def build_bot_entity(self, row: Any) -> Bot:  # type: ignore[override]  # as above
        return super().build_bot_entity(self._open(row, "slack_bots"))


def slack_store_cipher(settings: Settings) -> Cipher:
    """The cipher of the installation store: ``ENCRYPTION_KEY``, which OAuth mode requires."""
    cipher = Cipher.from_setting(settings.encryption_key)
    if cipher is None:
        raise ConfigError(encryption_key_problem(settings.encryption_key, "installing in several workspaces keeps "
                                                 "their Slack tokens encrypted with it") or "ENCRYPTION_KEY")
    return cipher


class SerializedAuthorize(InstallationStoreAuthorize):
    """Bolt's authorize with its cache on (one ``auth.test`` per token, not one per request) and token rotation,
    one rotation per workspace at a time in this process.

    The cache is Bolt's own, keyed by token and consulted only after the installation has been read: a rotated
    token is a new key (one ``auth.test``), and a workspace that uninstalled (no installation left) is refused
    before the cache is looked at. So a request waits on no Slack call and no lock unless its workspace's token
    is within ``SLACK_TOKEN_ROTATION_MINUTES`` of expiry.

    A refresh token is single use: a request's authorize and a job's look-up (:class:`SlackClients`) rotating
    with the same one leave the second with ``invalid_refresh_token``, and Bolt then drops the request ("the
    AuthorizeResult was not found"). So a rotation that is due takes the workspace's lock
    (:meth:`Installs.rotation_lock`) and reads the installation again under it: a thread that waited there uses
    the token the first one saved. A rotation lost all the same (another replica's) is followed by one more
    read of the installation it saved."""

    #: tokens whose auth.test result is kept; past it the cache starts again (tokens of rotations elsewhere pile up)
    cache_limit = 2000

    def __init__(self, *, locks: Callable[[str], threading.Lock], **kwargs: Any) -> None:
        super().__init__(cache_enabled=True, **kwargs)
        self.authorize_result_cache = self._cache = AuthTestCache()
        self._locks = locks

    def __call__(self, *, context: BoltContext, enterprise_id: str | None, team_id: str | None,
                 user_id: str | None, **actor: Any) -> AuthorizeResult | None:
        cache = self._cache
        if len(cache) > self.cache_limit:
            cache.clear()
        try:
            result = super().__call__(context=context, enterprise_id=enterprise_id, team_id=team_id,
                                      user_id=user_id, **actor)
            if result is None:
                cache.release_mine()  # its auth.test failed: the claim must not make the retry wait on it
                result = super().__call__(context=context, enterprise_id=enterprise_id, team_id=team_id,
                                          user_id=user_id, **actor)
        finally:
            cache.release_mine()
        return result

    def rotation_due(self, installation: Installation) -> bool:
        """Whether a token of ``installation`` is within the rotation window of its expiry."""
        window = time.time() + self.token_rotation_expiration_minutes * 60
        return any(refresh is not None and expires_at is not None and expires_at <= window
                   for refresh, expires_at in ((installation.bot_refresh_token, installation.bot_token_expires_at),
                                               (installation.user_refresh_token, installation.user_token_expires_at)))

    def _rotate_and_save_tokens_if_necessary(self, installation: Installation | None) -> Installation | None:
        if installation is None or not self.rotation_due(installation):
            return None  # the usual case: no lock, no Slack call
        org_wide = bool(installation.is_enterprise_install)
        key = workspace_key(installation.team_id, installation.enterprise_id, org_wide) or ""
        with self._locks(key):
            latest = self.installation_store.find_installation(
                enterprise_id=installation.enterprise_id, team_id=None if org_wide else installation.team_id,
                user_id=installation.user_id if installation.user_token else None, is_enterprise_install=org_wide)
            if latest is None:
                return None  # uninstalled meanwhile
            if installation.user_token is None:  # as Bolt hands it on: not this user's installation
                latest.user_token = latest.user_refresh_token = latest.user_token_expires_at = None
                latest.user_scopes = None
            if latest.bot_token != installation.bot_token and not self.rotation_due(latest):
                return latest  # rotated by another thread while this one waited: its tokens
            refreshed = super()._rotate_and_save_tokens_if_necessary(latest)  # its refresh token is the newest
            if refreshed is not None:
                self.authorize_result_cache.pop(latest.bot_token or "", None)
            return refreshed

    def forget(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Drop a leaving workspace's cached results (a request from it is refused all the same: no installation)."""
        for token, result in list(self.authorize_result_cache.items()):
            if (team_id and result.team_id == team_id) or (enterprise_id and not team_id
                                                           and result.enterprise_id == enterprise_id):
                self.authorize_result_cache.pop(token, None)


class Installs:
    """The installation and state stores (in the main store's database) and Bolt's OAuth settings."""

    def __init__(self, settings: Settings, store: Store, *, on_installed: Any = None) -> None:
        self.settings = settings
        engine = store.engine_for_libraries()  # slack_sdk runs its own transactions (SQLite: not on the store's one)
        self.installation_store = EncryptedInstallationStore(cipher=slack_store_cipher(settings),
                                                             client_id=settings.slack_client_id, engine=engine)
        self.state_store = SignedStateStore(
            SQLAlchemyOAuthStateStore(expiration_seconds=600, engine=engine),
            settings.slack_state_secret.reveal())
        self._create_tables()
        self.on_installed = on_installed
        self._rotation_locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()
        self._authorize: SerializedAuthorize | None = None

    def rotation_lock(self, key: str) -> threading.Lock:
        """The lock a workspace's token look-ups (and rotations) take, in requests and in jobs alike."""
        with self._locks_lock:
            return self._rotation_locks.setdefault(key, threading.Lock())

    def _create_tables(self) -> None:
        """slack_sdk's own tables (``slack_installations``, ``slack_bots``, ``slack_oauth_states``), once."""
        for table_store in (self.installation_store, self.state_store.inner):
            table_store.metadata.create_all(table_store.engine, checkfirst=True)

    def oauth_settings(self) -> OAuthSettings:
        settings = self.settings
        return OAuthSettings(
            client_id=settings.slack_client_id, client_secret=settings.slack_client_secret.reveal(),
            scopes=manifest_bot_scopes(), install_path=INSTALL_PATH, redirect_uri_path=REDIRECT_PATH,
            installation_store=self.installation_store, state_store=self.state_store,
            token_rotation_expiration_minutes=settings.slack_token_rotation_minutes,  # type: ignore[arg-type]  # Bolt multiplies it by 60; a fraction of a minute works
            authorization_url=f"{slack_web_base(settings)}/oauth/v2/authorize",
            callback_options=CallbackOptions(success=self._success, failure=self._failure),
        )

    def _success(self, args: SuccessArgs) -> BoltResponse:
        installation = args.installation
        if self.on_installed is not None:
            self.on_installed(installation)
        log.info("installed in %s (%s)", installation.team_name or installation.enterprise_name,
                 installation.team_id or installation.enterprise_id)
        return args.default.success(args)

    @staticmethod
    def _failure(args: FailureArgs) -> BoltResponse:
        log.warning("an install did not finish: %s", args.reason)
        return args.default.failure(args)

    def authorize(self, client: WebClient) -> SerializedAuthorize:
        """Bolt's authorizer with its cache and token rotation, one for the process: Bolt's requests, the jobs and
        the outbox (:class:`SlackClients`) share its cache (one ``auth.test`` per token) and its rotation lock.
        ``client`` (the first caller's) is the one it refreshes tokens with."""
        with self._locks_lock:
            if self._authorize is None:
                settings = self.settings
                store = self.installation_store if manifest_user_scopes() else BotInstallations(self.installation_store)
                authorize = SerializedAuthorize(
                    locks=self.rotation_lock, logger=log, installation_store=store,
                    client_id=settings.slack_client_id, client_secret=settings.slack_client_secret.reveal(),
                    client=client)
                authorize.token_rotation_expiration_minutes = settings.slack_token_rotation_minutes  # type: ignore[assignment]  # as above
                self._authorize = authorize
            return self._authorize

    def forget(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Delete every token of a workspace (``app_uninstalled`` / ``tokens_revoked``)."""
        self.installation_store.delete_all(enterprise_id=enterprise_id, team_id=team_id)
        if self._authorize is not None:
            self._authorize.forget(enterprise_id=enterprise_id, team_id=team_id)


class NotInstalled(RuntimeError):
    """A workspace has no usable installation (uninstalled, or its tokens were revoked)."""


class SlackClients:
    """The Slack client for each workspace: the one client in single-workspace mode; in multi-workspace
    mode one :class:`BotWebClient` per workspace (paced on its own, as Slack's limits are per workspace),
    whose token is the installation's, refreshed before it expires."""

    def __init__(self, settings: Settings, app_client: WebClient, installs: Installs | None = None,
                 workspaces: Any = None) -> None:
        self.settings = settings
        self.app_client = app_client
        self.installs = installs
        self.workspaces = workspaces
        self._clients: dict[str, BotWebClient] = {}
        self._checked: dict[str, float] = {}  # when each workspace's token was last looked up
        self._lock = threading.Lock()
        #: how long a looked-up token is used before the installation is read again (and rotated when due): well
        #: inside SLACK_TOKEN_ROTATION_MINUTES, so a token kept at a look-up never expires before the next one
        self.recheck_seconds = min(5.0, settings.slack_token_rotation_minutes * 60 / 2)
        self._lookup_client = WebClient(base_url=settings.slack_api_url, timeout=15)
        # The app's authorize (create_app builds it first): one cache and one rotation lock for requests and jobs
        self._authorize = installs.authorize(self._lookup_client) if installs is not None else None

    def client_for(self, key: str | None) -> WebClient:
        """The client that acts in workspace ``key`` (None: the app's own client)."""
        if self._authorize is None or key is None:
            return self.app_client
        with self._lock:
            cached = self._clients.get(key)
            if cached is not None and time.monotonic() - self._checked.get(key, 0.0) < self.recheck_seconds:
                return cached
        # No lock here: the authorize reads the installation, answers from its cache (no auth.test for a token
        # it has seen), and takes the workspace's rotation lock only when a rotation is due (SerializedAuthorize).
        return self._look_up(key)

    def _look_up(self, key: str) -> WebClient:
        workspace = self.workspaces.get(key) if self.workspaces is not None else None
        enterprise_id = workspace.enterprise_id if workspace else None
        team_id = workspace.team_id if workspace else key
        org_wide = bool(workspace and workspace.is_enterprise_install)
        # The client Bolt's authorize asks auth.test with (without one it would make its own, for slack.com)
        context = BoltContext({"is_enterprise_install": org_wide, "client": self._lookup_client})
        team = None if org_wide else team_id
        # As its installer: with another user (or none) Bolt also rotates "that user's installation", the
        # same row, and then the stale copy again with the refresh token just spent (invalid_refresh_token).
        authorize = self._authorize
        assert authorize is not None and self.installs is not None  # client_for looks up only with installs
        installed = self.installs.installation_store.find_installation(
            enterprise_id=enterprise_id, team_id=team, is_enterprise_install=org_wide)
        installer = installed.user_id if installed is not None else None
        result = authorize(context=context, enterprise_id=enterprise_id, team_id=team, user_id=installer)
        if result is None or not result.bot_token:
            raise NotInstalled(f"the bot is not installed in workspace {key}")
        keep = self.recheck_seconds
        if installed is None or installed.bot_token != result.bot_token:  # rotated just now: when does it expire?
            installed = self.installs.installation_store.find_installation(
                enterprise_id=enterprise_id, team_id=team, is_enterprise_install=org_wide)
        expires_at = installed.bot_token_expires_at if installed is not None else None
        if expires_at:  # never keep a token for more than half the life it has left
            keep = min(keep, max(0.5, (expires_at - time.time()) / 2))
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                settings = self.settings
                limiter = SlackWriteLimiter(settings.slack_posts_per_second, settings.slack_updates_per_minute)
                client = BotWebClient(token=result.bot_token, base_url=settings.slack_api_url, timeout=15,
                                      limiter=limiter, team_id=team_id)
                self._clients[key] = client
            elif client.token != result.bot_token:  # rotated: the same client (and its caches), the new token
                client.token = result.bot_token
            self._checked[key] = time.monotonic() - (self.recheck_seconds - keep)  # looked up again after ``keep``
        return client

    def forget(self, key: str) -> None:
        with self._lock:
            self._clients.pop(key, None)
            self._checked.pop(key, None)
