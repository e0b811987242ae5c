"""The services a handler or job may use, built once per process from the settings.

Handlers and jobs reach the domain only through the feature services here
(``scoring``, ``voicelinks``, ``sessions``, ``screening``, ``home``, ``events``); the API clients
and the store are theirs (tests/test_layers.py checks it).
"""

from __future__ import annotations

import logging
import threading
import time
from functools import cached_property
from typing import Any

from bot.work import InFlight, WorkPool
from config import Secret, Settings
from services.access import AccessService, Directory
from services.assistant import AssistantService
from services.audit import AuditLog
from services.backends import WorkspaceBackends
from services.clock import Clock
from services.concurrency import Backoff
from services.events import EventLog
from services.heartbeat import Heartbeat
from services.home import HomeService
from services.http import RetryPolicy
from services.intake import download_slack_file
from services.interviews import MAX_TRANSCRIPT_FILE_BYTES, InterviewService
from services.keys import KeyService, KeyVault
from services.leader import Leadership
from services.lifecycle import Lifecycle
from services.nimrobo import NimroboClient
from services.outbox import Outbox
from services.pluto import PlutoClient, PlutoServers
from services.reminders import ReminderService
from services.scoring import ScoringService
from services.screening import ScreeningService
from services.steps import StepService
from services.store import Store, current_workspace
from services.voice.links import VoiceLinkService
from services.voice.sessions import SessionService
from services.workspaces import Workspaces, workspace_key

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
        # ENCRYPTION_KEY for the migration that encrypts Slack tokens an earlier release stored (m960)
        self.store = store or Store(settings.database_target, encryption_key=Secret(settings.encryption_key).reveal())
        self.transports = transports or {}
        self.stopping = threading.Event()
        self.jobs_in_flight = InFlight()  # scheduled job runs under way (a shutdown lets them finish)
        self._directory: Directory = _NoDirectory()
        self.sender: Any = None  # the outbox sender (bot/delivery.py), set by the runtime
        self.installs: Any = None  # several workspaces: the OAuth stores (bot/installs.py), set by the app factory
        self.clients: Any = None  # the Slack client of each workspace (bot/installs.py), set by the app factory
        if settings.multi_workspace:
            self.store.enable_workspaces()  # every call inside a workspace reaches its own store

    def client_here(self) -> Any:
        """The Slack client of the workspace being served (the app's client in single-workspace mode)."""
        return self.clients.client_for(current_workspace())

    def record_install(self, installation: Any) -> None:
        """An "Add to Slack" finished: the workspace is served from now on (its store is made now)."""
        workspace = self.workspaces.installed(
            team_id=installation.team_id, enterprise_id=installation.enterprise_id,
            is_enterprise_install=bool(installation.is_enterprise_install),
            name=installation.team_name or installation.enterprise_name or "", installed_by=installation.user_id or "")
        if self.clients is not None:  # an org-wide install's key is its enterprise, not the installer's team
            self.clients.forget(workspace.key)

    def workspace_left(self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool,
                       reason: str) -> None:
        """The app was uninstalled from a workspace (or its bot token revoked): its tokens go now, its jobs
        stop, and its data is deleted after ``WORKSPACE_RETENTION_DAYS`` (the ``workspace_purge`` job)."""
        key = workspace_key(team_id, enterprise_id, is_enterprise_install)
        if self.installs is not None:
            self.installs.forget(enterprise_id=enterprise_id, team_id=None if is_enterprise_install else team_id)
        if key is None:
            return
        if self.clients is not None:
            self.clients.forget(key)
        # the bot's clock (tests move it); the workspace's own Nimrobo key is deleted now, like its tokens
        left = self.workspaces.uninstalled(key, at=self.clock.now())
        self.keys.forget_workspace(key)  # and no client holding it (or its people's keys) is used again
        log.warning("%s: left workspace %s; its data is deleted after %s", reason, key,
                    "its retention period" if left is None else time.strftime(
                        "%Y-%m-%d", time.gmtime(left.purge_after or 0)))

    def team_access_changed(self, *, enterprise_id: str | None, team_ids: list[str], granted: bool) -> None:
        """``team_access_revoked`` / ``team_access_granted``: an org admin removed the org-wide install from some
        of the org's teams (or added it back). A team without access is served nothing (bot/app.py); the org's
        install, its data and its other teams go on."""
        workspace = self.workspaces.get(enterprise_id) if enterprise_id else None
        if workspace is None or not workspace.is_enterprise_install:
            log.info("team access changed for %s, which has no org-wide install here", enterprise_id)
            return
        if granted:
            self.workspaces.teams_granted(workspace.key, team_ids)
            log.info("the org-wide install of %s serves %s again", workspace.key, ", ".join(team_ids))
        else:
            self.workspaces.teams_revoked(workspace.key, team_ids, at=self.clock.now())
            log.warning("team_access_revoked: the org-wide install of %s no longer serves %s", workspace.key,
                        ", ".join(team_ids))

    @cached_property
    def workspaces(self) -> Workspaces:
        """The workspaces the bot is installed in and their own settings (services/workspaces.py)."""
        return Workspaces(self.store, enabled=self.settings.multi_workspace,
                          encryption_key=self.settings.encryption_key,
                          retention_days=self.settings.workspace_retention_days)

    def notify_sender(self) -> None:
        """Something was enqueued in the outbox: the sender in this process looks at once."""
        if self.sender is not None:
            self.sender.notify()

    # -- the feature services: the only door for handlers and jobs --------------------------
    @cached_property
    def scoring(self) -> ScoringService:
        service = ScoringService(self.store, self.settings, self.pluto, self.access)
        service.slack_token = self.slack_token_here
        service.server_here = self.workspaces.pluto_server
        return service

    @cached_property
    def voicelinks(self) -> VoiceLinkService:
        service = VoiceLinkService(self.store, self.nimrobo, self.settings, workers=self.settings.api_concurrency,
                                   backoff=self.backoff, access=self.access)
        service.slack_token = self.slack_token_here
        service.shared_account = self.on_shared_nimrobo
        return service

    def on_shared_nimrobo(self) -> bool:
        """Several workspaces, and this one on the environment's Nimrobo key (the account others may use too)."""
        if not self.settings.multi_workspace:
            return False
        found = self.workspaces.get(current_workspace() or "")
        return not (found is not None and found.has_nimrobo_key)

    def slack_token_here(self) -> str:
        """The bot token of the workspace being served (files shared in Slack are downloaded with it)."""
        if self.clients is None or not self.settings.multi_workspace:
            return self.settings.slack_bot_token.reveal()
        return str(self.client_here().token or "")

    @cached_property
    def sessions(self) -> SessionService:
        return SessionService(self.store, self.nimrobo, self.voicelinks, workers=self.settings.api_concurrency,
                              backoff=self.backoff, access=self.access, outbox=self.outbox)

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
        return AccessService(self.store, self.directory, self.settings.admin_user_ids,
                             strict=self.settings.multi_workspace)

    @cached_property
    def keys(self) -> KeyService:
        """Recruiters' own Nimrobo keys (``/voicelink login``) and whose key each call runs with."""
        vault = KeyVault(self.store, self.settings.encryption_key)
        return KeyService(vault, self.nimrobo_shared, self._nimrobo_client,
                          fallback=self.settings.nimrobo_shared_key_fallback,
                          workspace_key=self.workspaces.nimrobo_key)

    @cached_property
    def backends(self) -> WorkspaceBackends:
        """The workspace's own Nimrobo key and Pluto server, set by its admin from App Home (services/backends.py)."""
        def probe(url: str) -> PlutoClient:  # an admin waits on it: one quick retry, not the jobs' patience
            return PlutoClient(url, transport=self.transports.get("pluto"), timeout=10.0,
                               retry=RetryPolicy(attempts=2, base_delay=0.2, max_total=5.0))

        return WorkspaceBackends(self.workspaces, self.keys, self.access,
                                 default_pluto_server=self.settings.pluto_api_base_url, make_pluto=probe)

    @cached_property
    def outbox(self) -> Outbox:
        """Every message the bot sends on its own initiative, sent once by the sender (bot/delivery.py)."""
        return Outbox(self.store, on_enqueue=self.notify_sender)

    @cached_property
    def screening(self) -> ScreeningService:
        """Score → voice-screen → one board with both signals (services/screening.py)."""
        return ScreeningService(self.store, self.scoring, self.voicelinks, self.sessions, self.pluto)

    @cached_property
    def steps(self) -> StepService:
        """Workflow Builder steps: each execution's state, so none is left hanging (services/steps.py)."""
        return StepService(self.store, self.settings.step_stale_seconds)

    @cached_property
    def assistant(self) -> AssistantService:
        """"Ask Pluto": read-only, access-checked tools over the bot's data, answered by OpenAI or a matcher."""
        return AssistantService(self.store, self.scoring, self.screening, self.access, self.settings,
                                voicelinks=self.voicelinks, transport=self.transports.get("openai"))

    @cached_property
    def home(self) -> HomeService:
        return HomeService(self.store, self.screening, self.access)

    @cached_property
    def audit(self) -> AuditLog:
        """Who read or exported which personal data, when and where (append-only)."""
        return AuditLog(self.store)

    @cached_property
    def lifecycle(self) -> Lifecycle:
        """Retention, erasure and subject-access exports of candidate data (services/lifecycle.py)."""
        return Lifecycle(self.store)

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
    def heartbeat(self) -> Heartbeat:
        """The leader's heartbeat row: followers read it for ``/ready``; ``/metrics`` exports its age and epoch."""
        from services.leader import replica_id

        return Heartbeat(self.store, replica_id(), stale_after=max(10.0, 3 * self.settings.poll_interval_seconds))

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
        """Nimrobo with the operator's ``NIMROBO_API_KEY`` (a workspace whose admin set its own key uses that
        instead: :attr:`KeyService.shared`)."""
        return self._nimrobo_client(self.settings.nimrobo_api_key)

    def _nimrobo_client(self, key: str) -> NimroboClient:
        return NimroboClient(self.settings.nimrobo_api_base_url, key, transport=self.transports.get("nimrobo"))

    @cached_property
    def pluto_servers(self) -> PlutoServers:
        """A Pluto client per (workspace, server): the workspace's own server, else ``PLUTO_API_BASE_URL``."""
        return PlutoServers(self.settings.pluto_api_base_url, self.workspaces.pluto_server, self._pluto_client)

    def _pluto_client(self, url: str) -> PlutoClient:
        return PlutoClient(url, transport=self.transports.get("pluto"))

    @cached_property
    def pluto(self) -> PlutoClient:
        """Pluto at the server of the workspace being served (each call picks it)."""
        return self.pluto_servers.routed  # type: ignore[return-value]  # a PlutoClient look-alike

    def operations_gauges(self) -> dict[str, Any]:
        """What ``/metrics`` reads from the database when scraped (names from services/metrics.py)."""
        outbox = self.outbox.stats()
        out: dict[str, Any] = {"pluto_bot_outbox_waiting": outbox.waiting,
                               "pluto_bot_outbox_oldest_age_seconds": outbox.oldest_age_seconds,
                               "pluto_bot_scoring_queue_length": [({"server": server}, n) for server, n in
                                                                  self.scoring.queue_lengths().items()]}
        beat = self.heartbeat.read()
        out["pluto_bot_leader_epoch"] = self.heartbeat.epoch
        if beat is not None:
            out["pluto_bot_leader_heartbeat_age_seconds"] = beat.age
        if "sessions" in self.__dict__:
            out["pluto_bot_watcher_sessions_followed"] = self.sessions.followed
        return out

    def interrupt_unfinished(self) -> list[str]:
        """At shutdown, after the grace period: record the slow work still running here so the next leader
        resumes it (voice batches being created); the ids recorded."""
        return self.voicelinks.interrupt_running() if "voicelinks" in self.__dict__ else []

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
            return download_slack_file(file, token=self.slack_token_here(),
                                       slack_api_url=settings.slack_api_url, max_bytes=MAX_TRANSCRIPT_FILE_BYTES,
                                       transport=self.transports.get("slack_files"))

        return InterviewService(self.store, self.pluto, self.scoring, lambda: self.nimrobo, access=self.access,
                                download=download)

    def close(self) -> None:
        self.stopping.set()
        if "work" in self.__dict__ and not self.work.closed:
            self.work.shutdown(wait=True, timeout=self.settings.shutdown_grace_seconds)
        if "keys" in self.__dict__:
            self.keys.close()
        for name in ("nimrobo_shared", "pluto_servers"):
            client = self.__dict__.get(name)
            if client is not None:
                try:
                    client.close()
                except Exception:  # closing must not stop the shutdown
                    log.exception("closing %s client", name)
        if "leadership" in self.__dict__:
            if self.leadership.is_leader and "heartbeat" in self.__dict__:
                try:
                    self.heartbeat.release()
                except Exception:  # the database may be gone; the lock still goes with the connection
                    log.warning("could not record the leadership hand-over")
            self.leadership.release()
        self.store.close()
