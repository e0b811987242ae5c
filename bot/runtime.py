"""Start and stop the bot in each mode; used by ``python -m bot``, the sandbox and the tests.

Probes: ``GET /health`` is liveness (the process is up); ``GET /ready`` is readiness (a load balancer
may send it Slack requests): the database answers, every migration is applied, in Socket Mode the
socket is connected, on a follower some leader's heartbeat is fresh, and it is not shutting down.

Shutting down (SIGTERM, :meth:`BotRuntime.stop`) loses nothing:

1. ``/ready`` answers 503 at once (``draining``), so the load balancer stops sending requests;
2. the HTTP front stops accepting connections and the acks in flight finish (Socket Mode: the acks in
   flight finish, then the socket closes);
3. the scheduler starts no new job runs; running ones and the slow work on the pool get up to
   ``SHUTDOWN_GRACE_SECONDS`` to finish. Then the jobs are told to stop at their next step; queued work
   that never started is refused with a private message to its person; a voice batch still being
   created is recorded as ``interrupted`` for the next leader to resume (scoring runs always live in the
   database: the next leader carries them on);
4. the leadership is handed over (the heartbeat says so and the lock is released) and the database closed.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.background import BackgroundScheduler
from slack_bolt import App

from bot.app import create_app
from bot.context import Services
from bot.delivery import Sender
from bot.scheduler import start_scheduler
from bot.server import BotHTTPServer
from bot.socket_mode import SocketModeRunner, SocketModeStartError
from config import Settings
from services import metrics

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
        self.metrics_server: BotHTTPServer | None = None
        self.draining = False
        self._stopped = threading.Event()
        self.metrics_registry = metrics.registry(self.metrics_state)

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

    def ready(self) -> dict[str, Any]:
        """Readiness: 200 only when this replica can serve Slack requests now."""
        services = self.services
        checks: dict[str, bool] = {"database": services.database_ok()}
        try:
            checks["migrations"] = checks["database"] and not services.store.pending_migrations()
        except Exception:
            checks["migrations"] = False
        if self.socket is not None:
            checks["socket"] = self.socket.state.state == "connected"
        leads = self.is_leader
        if self.scheduler is not None and not leads:
            try:
                checks["leader_heartbeat"] = checks["database"] and services.heartbeat.fresh()
            except Exception:
                checks["leader_heartbeat"] = False
        checks["accepting"] = not self.draining
        return {"ok": all(checks.values()), "mode": "socket" if self.socket is not None else self.settings.mode,
                "leader": leads, **checks}

    @property
    def is_leader(self) -> bool:
        return bool(self.scheduler and self.scheduler.running and "leadership" in self.services.__dict__
                    and self.services.leadership.is_leader)

    def metrics_state(self) -> dict[str, Any]:
        """The gauges read from the database when ``/metrics`` is scraped (services/metrics.py SCRAPED)."""
        services = self.services
        out: dict[str, Any] = {"pluto_bot_leader": 1 if self.is_leader else 0,
                               "pluto_bot_draining": 1 if self.draining else 0}
        out["pluto_bot_ready"] = 1 if self.ready()["ok"] else 0
        out.update(services.operations_gauges())
        leadership = services.__dict__.get("leadership")
        epoch = getattr(leadership, "epoch", None)  # the outbox's leader epoch, where the leadership has one
        if epoch is not None:
            out["pluto_bot_leader_epoch"] = epoch
        return out

    def render_metrics(self) -> bytes:
        return metrics.render(self.metrics_registry)

    def _front(self, app: App | None, port: int | None, host: str, dispatch_threads: int) -> BotHTTPServer:
        """The HTTP front: Slack requests (HTTP mode), /health, /ready and /metrics (or /metrics on its own port)."""
        settings = self.settings
        own_port = settings.metrics_enabled and settings.metrics_port is not None
        inline = settings.metrics_enabled and not own_port
        server = BotHTTPServer(app, settings.port if port is None else port, host, health=self.health,
                               ready=self.ready, metrics=self.render_metrics if inline else None,
                               backlog=settings.http_backlog, keepalive=settings.http_keepalive_seconds,
                               dispatch_threads=dispatch_threads,
                               graceful_seconds=max(3.0, settings.shutdown_grace_seconds)).start()
        if own_port and settings.metrics_port is not None:
            self.metrics_server = BotHTTPServer(None, settings.metrics_port, host, serve_health=False,
                                                metrics=self.render_metrics).start()
        if self._stopped.is_set():  # a signal's stop() ran while it started, before it knew of these servers
            server.stop(timeout=3.0)
            if self.metrics_server is not None:
                self.metrics_server.stop()
        return server

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
        if self._stopped.is_set():  # stopped while it started (a signal's stop() may have run here already)
            _shutdown(scheduler)
            self.services.sender.stop()

    def start_http(self, port: int | None = None, host: str = "0.0.0.0", *, scheduler: bool = True) -> BotHTTPServer:
        """Serve ``POST /slack/events`` and ``GET /health`` in a background thread."""
        self.server = self._front(self.app, port, host, 2 * self.settings.ack_threads)
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
        self.server = self._front(None, port, host, 4)
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
        """Drain and stop (see the module's docstring). Safe to call twice."""
        if self._stopped.is_set():
            return
        grace = self.settings.shutdown_grace_seconds
        deadline = time.monotonic() + grace
        self.draining = True  # /ready: 503 from now on
        self._stopped.set()
        log.info("shutting down: no new requests; up to %.0fs for the work under way", grace)
        if self.scheduler is not None:
            _shutdown(self.scheduler)  # no new job runs; the running ones go on
        if self.server:
            self.server.stop(timeout=max(3.0, grace))  # listening stops; requests in flight finish
        in_flight = getattr(self.app, "in_flight", None)
        if in_flight is not None and not in_flight.wait_idle(max(3.0, deadline - time.monotonic())):
            log.warning("shutting down with %d Slack request(s) still being acknowledged", in_flight.count)
        if self.socket:
            self.socket.close()
        if self.metrics_server:
            self.metrics_server.stop()
        services = self.services
        jobs_done = services.jobs_in_flight.wait_idle(deadline - time.monotonic())
        running = services.work.shutdown(wait=True, timeout=deadline - time.monotonic()) \
            if "work" in services.__dict__ else 0
        services.stopping.set()  # what still runs stops at its next step
        if not jobs_done and not services.jobs_in_flight.wait_idle(5.0):
            log.warning("a scheduled job is still running after the grace period; it resumes on the next leader")
        if services.sender is not None:  # what it is sending now finishes; the rest waits in the outbox
            services.sender.stop()
        if running:
            try:
                interrupted = services.interrupt_unfinished()
            except Exception:
                log.exception("could not record the unfinished work")
            else:
                log.warning("left %d unfinished voice batch(es) recorded for the next leader to resume",
                            len(interrupted))
        services.close()
        log.info("stopped cleanly")


def _shutdown(scheduler: BackgroundScheduler) -> None:
    """Stop the scheduler without waiting for its jobs; nothing to do when it already stopped.

    A SIGTERM's handler runs ``stop()`` in the main thread between two of its steps, so ``start_scheduler``
    may find the scheduler it just started stopped by that handler (checking ``running`` first would race)."""
    try:
        scheduler.shutdown(wait=False)
    except SchedulerNotRunningError:
        pass
