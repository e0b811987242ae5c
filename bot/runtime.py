"""Start and stop the bot in each mode; used by ``python -m bot``, the sandbox and the tests."""

from __future__ import annotations

import logging
import threading
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from slack_bolt import App

from bot.app import create_app
from bot.context import Services
from bot.delivery import Sender
from bot.scheduler import start_scheduler
from bot.server import BotHTTPServer
from bot.socket_mode import SocketModeRunner, SocketModeStartError
from config import Settings

log = logging.getLogger(__name__)


class BotRuntime:
    """The app, its services, scheduler, HTTP front and (in Socket Mode) socket, with one clean ``stop()``."""

    def __init__(self, settings: Settings, *, transports: dict[str, Any] | None = None) -> None:
        self.settings = settings
        self.services = Services(settings, transports=transports)
        self.app: App = create_app(self.services)
        self.scheduler: BackgroundScheduler | None = None
        self.server: BotHTTPServer | None = None
        self.socket: SocketModeRunner | None = None
        self._stopped = threading.Event()

    @property
    def client(self) -> Any:
        return self.app.client

    def health(self) -> dict[str, Any]:
        db_ok = self.services.database_ok()
        running = bool(self.scheduler and self.scheduler.running)
        leader = bool(running and "leadership" in self.services.__dict__ and self.services.leadership.is_leader)
        out: dict[str, Any] = {"ok": db_ok, "mode": self.settings.mode, "database": db_ok, "scheduler": running,
                               "leader": leader}
        if db_ok:
            out["outbox"] = self.outbox_health()
        if self.socket is not None:
            out["mode"] = "socket"
            out["socket"] = self.socket.health()
            out["ok"] = db_ok and out["socket"].pop("healthy")
        return out

    def outbox_health(self) -> dict[str, Any]:
        """What waits in the outbox (services/outbox.py) and which channels the sender is pacing."""
        stats = self.services.outbox.stats()
        sender = self.services.sender
        return {"waiting": stats.waiting, "oldest_age_seconds": stats.oldest_age_seconds,
                "channels_waiting": stats.channels,
                "channels_paced": sender.paced_channels() if sender is not None else []}

    def start_scheduler(self) -> None:
        if self.scheduler is not None or self._stopped.is_set():
            return
        try:
            scheduler = start_scheduler(self.services, self.client)
        except Exception:
            if self._stopped.is_set():  # SIGTERM arrived while it started: the database is already closed
                return
            raise
        self.scheduler = scheduler
        self.services.sender = Sender(self.services, self.client).start()
        if self._stopped.is_set():  # stopped while it started: stop it too
            scheduler.shutdown(wait=False)
            self.services.sender.stop()

    def start_http(self, port: int | None = None, host: str = "0.0.0.0", *, scheduler: bool = True) -> BotHTTPServer:
        """Serve ``POST /slack/events`` and ``GET /health`` in a background thread."""
        settings = self.settings
        self.server = BotHTTPServer(self.app, settings.port if port is None else port, host, health=self.health,
                                    backlog=settings.http_backlog, keepalive=settings.http_keepalive_seconds,
                                    dispatch_threads=2 * settings.ack_threads).start()
        if scheduler:
            self.start_scheduler()
        return self.server

    def start_socket_mode(self, port: int | None = None, host: str = "0.0.0.0", *, scheduler: bool = True,
                          ping_interval: float = 5.0) -> BotHTTPServer:
        """Socket Mode: serve ``GET /health`` on ``port`` (the same front as HTTP mode, without
        ``/slack/events``) and connect with the app token in the background. A refusal no retry
        can fix (a wrong token, Socket Mode off in the app) is logged, ``/health`` answers 503 and
        :meth:`run_socket_mode` returns 1."""
        settings = self.settings
        self.socket = SocketModeRunner(self.app, settings.slack_app_token.reveal(), ping_interval=ping_interval,
                                       concurrency=settings.ack_threads)
        self.server = BotHTTPServer(None, settings.port if port is None else port, host, health=self.health,
                                    backlog=settings.http_backlog, keepalive=settings.http_keepalive_seconds,
                                    dispatch_threads=4).start()
        threading.Thread(target=self._connect_socket, name="socket-connect", daemon=True).start()
        if scheduler:
            self.start_scheduler()
        return self.server

    def _connect_socket(self) -> None:
        assert self.socket is not None
        try:
            self.socket.connect(self._stopped)
        except SocketModeStartError as exc:
            log.error("Socket Mode cannot start: %s", exc)

    def run_socket_mode(self) -> int:
        """Socket Mode until ``stop()``: 0 after a clean stop, 1 when Slack refused the connection."""
        self.start_socket_mode()
        assert self.server is not None and self.socket is not None
        log.info("Socket Mode; GET /health on port %s", self.server.port)
        while not self._stopped.wait(0.5):
            if self.socket.fatal:
                return 1
        return 0

    def wait(self) -> None:
        self._stopped.wait()

    def stop(self) -> None:
        """Stop the scheduler, the server and close the database. Safe to call twice."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        self.services.stopping.set()
        if self.scheduler and self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        if self.services.sender is not None:
            self.services.sender.stop()
        if self.socket:
            self.socket.close()
        if self.server:
            self.server.stop()
        self.services.close()
        log.info("stopped cleanly")
