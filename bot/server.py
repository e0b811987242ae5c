"""HTTP mode: Bolt's Starlette adapter under uvicorn. ``POST /slack/events``, ``GET /health`` (liveness),
``GET /ready`` (readiness) and ``GET /metrics`` (Prometheus; or on a port of its own, see ``METRICS_PORT``).

Why this pair: uvicorn is a production ASGI server that runs in-process, so ``python -m bot``
keeps starting everything (Bolt, the scheduler, the server) with one command, and the
sandbox and the tests start the very same front on an ephemeral port. Its accept loop is
asynchronous: a burst of connections queues in a large listen backlog instead of being
reset. Bolt's ``App.dispatch`` is synchronous (it waits for ``ack()``), so each request is
dispatched on a thread of its own limiter instead of blocking the event loop; listeners
only ack and hand slow work to :class:`bot.work.WorkPool`, so those threads are free
again within milliseconds. One worker process: the bot's state lives in the store, and a
team that needs more capacity runs more replicas (see README).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import anyio
import uvicorn
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from services.metrics import CONTENT_TYPE

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
MAX_BODY = 5 * 1024 * 1024


def build_asgi(app: App | None, health: Callable[[], dict[str, Any]] | None, *, dispatch_threads: int = 64,
               ready: Callable[[], dict[str, Any]] | None = None,
               metrics: Callable[[], bytes] | None = None) -> Starlette:
    """The ASGI app: ``GET /health`` (when given), ``GET /ready`` and ``GET /metrics`` when given, and
    ``POST /slack/events`` when ``app`` is given (HTTP mode)."""
    limiter = anyio.CapacityLimiter(dispatch_threads)
    side = anyio.CapacityLimiter(4)  # probes and scrapes never take the threads Slack requests use

    def status_route(check: Callable[[], dict[str, Any]]) -> Callable[[Request], Any]:
        async def route(_: Request) -> Response:
            payload = await anyio.to_thread.run_sync(check, limiter=side)
            return JSONResponse(payload, status_code=200 if payload.get("ok") else 503)
        return route

    async def metrics_route(_: Request) -> Response:
        assert metrics is not None
        body = await anyio.to_thread.run_sync(metrics, limiter=side)
        return Response(body, media_type=CONTENT_TYPE)

    async def events(request: Request) -> Response:
        received = time.perf_counter()
        length = int(request.headers.get("content-length") or 0)
        if length > MAX_BODY:
            return PlainTextResponse("Payload too large", status_code=413)
        body = await request.body()
        if len(body) > MAX_BODY:
            return PlainTextResponse("Payload too large", status_code=413)
        bolt_request = to_bolt_request(request, body)
        assert app is not None  # the events route exists only with an app (HTTP mode)
        bolt_request.context["pluto_received_at"] = received  # the ack histogram counts the wait for a thread
        bolt_response = await anyio.to_thread.run_sync(app.dispatch, bolt_request, limiter=limiter)
        return to_starlette_response(bolt_response)

    routes = _oauth_routes(app, side)
    if health is not None:
        routes.append(Route("/health", status_route(health), methods=["GET"]))
    if ready is not None:
        routes.append(Route("/ready", status_route(ready), methods=["GET"]))
    if metrics is not None:
        routes.append(Route("/metrics", metrics_route, methods=["GET"]))
    if app is not None:
        routes.append(Route(EVENTS_PATH, events, methods=["POST"]))
    return Starlette(routes=routes)


def _oauth_routes(app: App | None, limiter: anyio.CapacityLimiter) -> list[Route]:
    """Several workspaces: "Add to Slack" (``GET /slack/install``) and its return (``GET /slack/oauth_redirect``),
    served by Bolt's OAuthFlow."""
    flow = app.oauth_flow if app is not None else None
    if flow is None:
        return []

    async def oauth(request: Request) -> Response:
        assert flow is not None
        bolt_request = to_bolt_request(request, b"")
        handle = flow.handle_installation if request.url.path == flow.install_path else flow.handle_callback
        bolt_response = await anyio.to_thread.run_sync(handle, bolt_request, limiter=limiter)
        return to_starlette_response(bolt_response)

    return [Route(flow.install_path, oauth, methods=["GET"]), Route(flow.redirect_uri_path, oauth, methods=["GET"])]


class _ThreadedServer(uvicorn.Server):
    """uvicorn in a background thread: no signal handlers (the main thread owns those)."""

    def install_signal_handlers(self) -> None:  # pragma: no cover - trivial
        pass


class BotHTTPServer:
    """uvicorn serving :func:`build_asgi` on ``host:port`` (port 0 picks a free one)."""

    def __init__(self, app: App | None, port: int = 3000, host: str = "0.0.0.0",
                 health: Callable[[], dict[str, Any]] | None = None, *, backlog: int = 2048,
                 keepalive: float = 5.0, dispatch_threads: int = 64, ready: Callable[[], dict[str, Any]] | None = None,
                 metrics: Callable[[], bytes] | None = None, serve_health: bool = True,
                 graceful_seconds: float = 10.0) -> None:
        self.app = app
        self.health = health or (lambda: {"ok": True})
        # Bind first, so the port is known (and taken) before start() returns.
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self._socket.listen(backlog)
        self._socket.set_inheritable(True)
        asgi = build_asgi(app, self.health if serve_health else None, dispatch_threads=dispatch_threads, ready=ready,
                          metrics=metrics)
        # On stop, uvicorn closes the listening socket first, then lets requests in flight finish.
        config = uvicorn.Config(asgi, backlog=backlog, timeout_keep_alive=int(keepalive), log_config=None,
                                access_log=False, lifespan="off", workers=1,
                                timeout_graceful_shutdown=max(1, int(graceful_seconds)))
        self._server = _ThreadedServer(config)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._socket.getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> BotHTTPServer:
        """Serve in a background thread; returns once the server accepts connections."""
        self._thread = threading.Thread(target=self.serve_forever, name="bot-http", daemon=True)
        self._thread.start()
        for _ in range(500):
            if self._server.started or not self._thread.is_alive():
                break
            threading.Event().wait(0.01)
        if not self._server.started:
            raise RuntimeError("the HTTP server did not start")
        return self

    def serve_forever(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._socket]))

    def stop(self, timeout: float = 10.0) -> None:
        """Stop accepting connections, let the requests in flight finish (up to ``timeout`` s), close."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=timeout)
        self._socket.close()
