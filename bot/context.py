"""The services a handler or job may use, built once per process from the settings.

Handlers and jobs reach the domain only through the feature services here
(``scoring``, ``voicelinks``, ``sessions``, ``screening``, ``home``, ``events``); the API clients
and the store are theirs (tests/test_layers.py checks it).
"""

from __future__ import annotations

import logging
import threading
from functools import cached_property
from typing import Any

from bot.work import WorkPool
from config import Settings
from services.access import AccessService, Directory
from services.clock import Clock
from services.concurrency import Backoff
from services.events import EventLog
from services.home import HomeService
from services.intake import download_slack_file
from services.interviews import MAX_TRANSCRIPT_FILE_BYTES, InterviewService
from services.keys import KeyService, KeyVault
from services.leader import Leadership
from services.nimrobo import NimroboClient
from services.outbox import Outbox
from services.pluto import PlutoClient
from services.reminders import ReminderService
from services.scoring import ScoringService
from services.screening import ScreeningService
from services.sessions import SessionService
from services.store import Store
from services.voicelinks import VoiceLinkService

log = logging.getLogger(__name__)


class _NoDirectory:
    """Before the app is built: nobody is a member of anything, nobody is an admin."""

    def members(self, channel: str) -> set[str]:
        return set()

    def is_admin(self, user: str) -> bool:
        return False


class Services:
    """Clients and storage, created lazily so a missing backend never blocks start-up.

    Tests pass ``transports`` (``{"nimrobo": httpx.MockTransport(...)}``) to reach fakes.
    """

    def __init__(self, settings: Settings, store: Store | None = None, *, transports: dict[str, Any] | None = None):
        self.settings = settings
        self.store = store or Store(settings.database_target)
        self.transports = transports or {}
        self.stopping = threading.Event()
        self._directory: Directory = _NoDirectory()
        self.sender: Any = None  # the outbox sender (bot/delivery.py), set by the runtime

    def notify_sender(self) -> None:
        """Something was enqueued in the outbox: the sender in this process looks at once."""
        if self.sender is not None:
            self.sender.notify()

    # -- the feature services: the only door for handlers and jobs --------------------------
    @cached_property
    def scoring(self) -> ScoringService:
        return ScoringService(self.store, self.settings, self.pluto, self.access)

    @cached_property
    def voicelinks(self) -> VoiceLinkService:
        return VoiceLinkService(self.store, self.nimrobo, self.settings, workers=self.settings.api_concurrency,
                                backoff=self.backoff)

    @cached_property
    def sessions(self) -> SessionService:
        return SessionService(self.store, self.nimrobo, self.voicelinks, workers=self.settings.api_concurrency,
                              backoff=self.backoff, access=self.access)

    @property
    def directory(self) -> Directory:
        """What Slack says about channels and people (bot/directory.py); the app factory sets it."""
        return self._directory

    @directory.setter
    def directory(self, directory: Directory) -> None:
        self._directory = directory
        if "access" in self.__dict__:
            self.access.directory = directory

    @cached_property
    def access(self) -> AccessService:
        """Who may see which voice session and scoring run: the one place that decides."""
        return AccessService(self.store, self.directory, self.settings.admin_user_ids)

    @cached_property
    def keys(self) -> KeyService:
        """Recruiters' own Nimrobo keys (``/voicelink login``) and whose key each call runs with."""
        vault = KeyVault(self.store, self.settings.encryption_key)
        return KeyService(vault, self.nimrobo_shared, self._nimrobo_client,
                          fallback=self.settings.nimrobo_shared_key_fallback)

    @cached_property
    def outbox(self) -> Outbox:
        """Every message the bot sends on its own initiative, sent once by the sender (bot/delivery.py)."""
        return Outbox(self.store)

    @cached_property
    def screening(self) -> ScreeningService:
        """Score → voice-screen → one board with both signals (services/screening.py)."""
        return ScreeningService(self.store, self.scoring, self.voicelinks, self.sessions, self.pluto)

    @cached_property
    def home(self) -> HomeService:
        return HomeService(self.store, self.screening)

    @cached_property
    def clock(self) -> Clock:
        """"Now" for what is due later (the sandbox's ``sim clock +1d`` moves it)."""
        return Clock()

    @cached_property
    def reminders(self) -> ReminderService:
        """Feedback reminders, decision nudges, expiry warnings, digests, notification settings."""
        return ReminderService(self.store, self.settings, self.clock, self.timezone_of)

    def timezone_of(self, user: str) -> str | None:
        """A person's IANA time zone as Slack has it (``users.info``), None when Slack can't say."""
        look_up = getattr(self.directory, "timezone", None)
        return look_up(user) if look_up else None

    @cached_property
    def events(self) -> EventLog:
        return EventLog(self.store)

    @cached_property
    def backoff(self) -> Backoff:
        """Per-project back-off for the scheduled jobs' API calls: a failing project waits alone."""
        return Backoff(base=self.settings.poll_interval_seconds)

    @cached_property
    def leadership(self) -> Leadership:
        """Whether this replica runs the scheduled jobs (services/leader.py)."""
        from services.leader import leadership_for

        return leadership_for(self.store, election=self.settings.leader_election)

    @cached_property
    def work(self) -> WorkPool:
        """The bounded, per-user-fair pool for slow work after a Slack ack."""
        return WorkPool(self.settings.work_pool_size, self.settings.work_per_user, acting_as=self.keys.acting_as)

    # -- what the feature services are built on ----------------------------------------------
    @cached_property
    def nimrobo(self) -> NimroboClient:
        """Nimrobo with the acting user's own key when they have one, else the operator's."""
        return self.keys.nimrobo  # type: ignore[return-value]  # a NimroboClient look-alike

    @cached_property
    def nimrobo_shared(self) -> NimroboClient:
        """Nimrobo with the operator's ``NIMROBO_API_KEY``."""
        return self._nimrobo_client(self.settings.nimrobo_api_key)

    def _nimrobo_client(self, key: str) -> NimroboClient:
        return NimroboClient(self.settings.nimrobo_api_base_url, key, transport=self.transports.get("nimrobo"))

    @cached_property
    def pluto(self) -> PlutoClient:
        return PlutoClient(self.settings.pluto_api_base_url, transport=self.transports.get("pluto"))

    def database_ok(self) -> bool:
        try:
            self.store.execute("select 1")
        except Exception:
            return False
        return True

    @cached_property
    def interviews(self) -> InterviewService:
        settings = self.settings

        def download(file: dict[str, Any]) -> bytes:  # a transcript shared in Slack, with the bot token
            return download_slack_file(file, token=settings.slack_bot_token.reveal(),
                                       slack_api_url=settings.slack_api_url, max_bytes=MAX_TRANSCRIPT_FILE_BYTES,
                                       transport=self.transports.get("slack_files"))

        return InterviewService(self.store, self.pluto, self.scoring, lambda: self.nimrobo, access=self.access,
                                download=download)

    def close(self) -> None:
        self.stopping.set()
        if "work" in self.__dict__:
            self.work.shutdown(wait=True)
        if "keys" in self.__dict__:
            self.keys.close()
        for name in ("nimrobo_shared", "pluto"):
            client = self.__dict__.get(name)
            if client is not None:
                try:
                    client.close()
                except Exception:  # closing must not stop the shutdown
                    log.exception("closing %s client", name)
        if "leadership" in self.__dict__:
            self.leadership.release()
        self.store.close()
