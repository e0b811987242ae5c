"""The services a handler or job may use, built once per process from the settings."""

from __future__ import annotations

import logging
import threading
from functools import cached_property
from typing import TYPE_CHECKING, Any

from config import Settings
from services.store import Store

if TYPE_CHECKING:
    from bot.work import WorkPool
    from services.concurrency import Backoff
    from services.leader import Leadership
    from services.nimrobo import NimroboClient
    from services.pluto import PlutoClient
    from services.scoring import ScoringService
    from services.voicelinks import VoiceLinkService

log = logging.getLogger(__name__)


class Services:
    """Clients and storage, created lazily so a missing backend never blocks start-up.

    Tests pass ``transports`` (``{"nimrobo": httpx.MockTransport(...)}``) to reach fakes.
    """

    def __init__(self, settings: Settings, store: Store | None = None, *, transports: dict[str, Any] | None = None):
        self.settings = settings
        self.store = store or Store(settings.database_target)
        self.transports = transports or {}
        self.stopping = threading.Event()

    @cached_property
    def leadership(self) -> Leadership:
        """Whether this replica runs the scheduled jobs (services/leader.py)."""
        from services.leader import leadership_for

        return leadership_for(self.store)

    @cached_property
    def work(self) -> WorkPool:
        """The bounded, per-user-fair pool for slow work after a Slack ack."""
        from bot.work import WorkPool

        return WorkPool(self.settings.work_pool_size, self.settings.work_per_user)

    @cached_property
    def nimrobo(self) -> NimroboClient:
        from services.nimrobo import NimroboClient

        return NimroboClient(self.settings.nimrobo_api_base_url, self.settings.nimrobo_api_key,
                             transport=self.transports.get("nimrobo"))

    @cached_property
    def pluto(self) -> PlutoClient:
        from services.pluto import PlutoClient

        return PlutoClient(self.settings.pluto_api_base_url, transport=self.transports.get("pluto"))

    @cached_property
    def scoring(self) -> ScoringService:
        from services.scoring import ScoringService

        return ScoringService(self.store, self.settings, lambda base_url: self.pluto)

    @cached_property
    def voicelinks(self) -> VoiceLinkService:
        from services.voicelinks import VoiceLinkService

        return VoiceLinkService(self.store, self.nimrobo, workers=self.settings.api_concurrency,
                                backoff=self.backoff)

    @cached_property
    def backoff(self) -> Backoff:
        """Per-project back-off for the scheduled jobs' API calls: a failing project waits alone."""
        from services.concurrency import Backoff

        return Backoff(base=self.settings.poll_interval_seconds)

    def close(self) -> None:
        self.stopping.set()
        if "work" in self.__dict__:
            self.work.shutdown(wait=True)
        for name in ("nimrobo", "pluto"):
            client = self.__dict__.get(name)
            if client is not None:
                try:
                    client.close()
                except Exception:  # closing must not stop the shutdown
                    log.exception("closing %s client", name)
        if "leadership" in self.__dict__:
            self.leadership.release()
        self.store.close()
