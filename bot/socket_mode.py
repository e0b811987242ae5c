"""Socket Mode: the Bolt app over Bolt's built-in ``SocketModeHandler``, with its state for ``/health``.

Why the built-in handler (``slack_bolt.adapter.socket_mode``, slack_sdk's dependency-free
client): the app is a synchronous ``App``, which the ``websockets``/``aiohttp`` adapters do not
take (they need an ``AsyncApp``). The built-in client acknowledges through the same
``app.dispatch`` as HTTP mode (so the same ack rules apply: listeners ack first, slow work
runs off the ack path), answers Slack's ``disconnect`` (``refresh_requested``/``warning``)
by opening the new connection before it closes the old one, reconnects after a close frame,
and pings the server every ``ping_interval`` seconds, which is how it notices a connection
that went silent.

Added here, on the library's own hooks:

* **Backoff.** The client retries a lost connection once per ``ping_interval``, however often
  ``apps.connections.open`` or the network refuses. :class:`BackoffSocketModeClient` spaces
  failed attempts with slack_sdk's exponential backoff with jitter (capped at ``MAX_BACKOFF``
  s); a ``ratelimited`` answer is waited out (``Retry-After``), and ``close()`` cuts that wait
  short. The first connection at start-up is retried the same way; an answer that no retry can
  fix (``invalid_auth``, ``not_allowed_token_type``, Socket Mode off in the app...) stops
  start-up with one line naming the fix.
* **Three fixes to the client** (see :class:`BackoffSocketModeClient`): no 3 s stall when a
  connection is replaced, a stream that ends without a close frame noticed at once (instead of
  a spinning reader), and an ended connection replaced at once.
* **State.** :class:`SocketModeState` follows the connection through the client's listeners
  (``hello``, ``disconnect``, errors and closes) for ``/health``: ``connecting``,
  ``connected`` or ``reconnecting``, since when, how many reconnects, the last disconnect.
"""

from __future__ import annotations

import functools
import logging
import socket
import threading
import time
from datetime import UTC, datetime
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientNotConnectedError
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.builtin.connection import Connection

log = logging.getLogger(__name__)

MAX_BACKOFF = 30.0  # seconds between reconnect attempts, at most
#: apps.connections.open answers that retrying cannot fix: start-up stops and says why.
FATAL_ERRORS = {
    "invalid_auth": "SLACK_APP_TOKEN was not accepted; create an app-level token (xapp-…) with connections:write",
    "not_authed": "SLACK_APP_TOKEN is empty",
    "not_allowed_token_type": "SLACK_APP_TOKEN is not an app-level token; use the xapp-… token from "
                              "Basic Information → App-Level Tokens, not the bot token",
    "token_revoked": "SLACK_APP_TOKEN was revoked; create a new app-level token",
    "account_inactive": "the app-level token belongs to a deleted or deactivated app",
    "missing_scope": "the app-level token lacks connections:write",
    "socket_mode_not_enabled": "Socket Mode is off in the app's settings; turn it on or run in HTTP mode",
}
#: /health answers 503 when the socket has been down longer than this (an orchestrator may restart).
DOWN_GRACE_SECONDS = 120.0


class SocketModeStartError(RuntimeError):
    """The first connection was refused for a reason no retry can fix."""


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z") if ts else None


class SocketModeState:
    """What ``/health`` says about the socket. Thread-safe; fed by the client's listeners."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.state = "connecting"
        self.since = time.time()
        self.connected_once = False
        self.reconnects = 0
        self.last_disconnect: str | None = None
        self.last_error: str | None = None

    def _set(self, state: str) -> None:
        if self.state != state:
            self.state, self.since = state, time.time()

    def hello(self) -> None:
        with self._lock:
            if self.connected_once:
                self.reconnects += 1
            self.connected_once = True
            self.last_error = None
            self.state, self.since = "connected", time.time()  # a new connection, even during a refresh

    def disconnect_requested(self, reason: str) -> None:
        with self._lock:
            self.last_disconnect = reason

    def lost(self, why: str) -> None:
        with self._lock:
            if self.state == "connected":
                self.last_disconnect = why
                self._set("reconnecting")

    def error(self, message: str) -> None:
        with self._lock:
            self.last_error = message

    def failed(self, error: str) -> None:
        with self._lock:
            self.last_error = error
            self._set("failed")

    def stopped(self) -> None:
        with self._lock:
            self._set("stopped")

    def snapshot(self, client_connected: bool | None = None) -> dict[str, Any]:
        """The state as ``/health`` reports it; ``client_connected`` corrects a loss no listener saw."""
        with self._lock:
            if client_connected is False and self.state == "connected":
                self.last_disconnect = self.last_disconnect or "lost"
                self._set("reconnecting")
            down_for = time.time() - self.since if self.state in ("connecting", "reconnecting") else 0.0
            out: dict[str, Any] = {"state": self.state, "connected": self.state == "connected",
                                   "since": _iso(self.since), "reconnects": self.reconnects,
                                   "healthy": self.state == "connected" or (self.state != "failed"
                                                                            and down_for <= DOWN_GRACE_SECONDS)}
            if self.last_disconnect:
                out["last_disconnect"] = self.last_disconnect
            if self.last_error:
                out["last_error"] = self.last_error
            return out


class BackoffSocketModeClient(SocketModeClient):
    """slack_sdk's built-in Socket Mode client, with three fixes on its own hooks.

    * Failed reconnects back off exponentially (see the module docstring).
    * A refresh does not stall: the client replaces a connection by opening the new one and
      then closing the old one, and that close waits for the old reader's pending ``recv``
      (a 3 s socket timeout) while nothing reads the new connection, so an envelope Slack sends
      there in those seconds misses its 3 s ack. The old socket is shut down first, which
      ends that ``recv`` at once.
    * A connection that ends without a close frame is noticed at once: the client's reader
      takes the end of the TCP stream (``recv`` returning nothing) for "no data yet" and spins
      on it until a ping fails, so the socket is wrapped to report that end as a reset. A ping
      that cannot be sent (a peer gone silent) drops the connection at once, instead of after
      five failed pings; a connection that ended is replaced at once, not at the next ping.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._backoff = BackoffRetryIntervalCalculator(backoff_factor=0.5)
        self._failures = 0
        self._retry_at = 0.0
        self._closing = threading.Event()
        super().__init__(*args, **kwargs)

    def issue_new_wss_url(self) -> str:
        """``apps.connections.open``; a ``ratelimited`` answer waits out ``Retry-After``, but ``close()``
        ends the wait (the library's own version sleeps, and retries for as long as Slack limits it)."""
        while True:
            if self._closing.is_set():
                raise SlackClientNotConnectedError("the Socket Mode client is closing")
            try:
                return str(self.web_client.apps_connections_open(app_token=self.app_token)["url"])
            except SlackApiError as exc:
                if exc.response.get("error") != "ratelimited":
                    raise
                delay = float(exc.response.headers.get("Retry-After", "30"))
                self.logger.info("apps.connections.open is rate-limited; retrying in %.0fs", delay)
                self._closing.wait(delay)

    def connect_to_new_endpoint(self, force: bool = False) -> None:
        if self.closed or (not force and time.monotonic() < self._retry_at):
            return
        try:
            super().connect_to_new_endpoint(force)
        except Exception:
            if not self.closed:
                self._failed()
            raise
        if self.is_connected():
            self._failures, self._retry_at = 0, 0.0
        else:
            self._failed()

    def connect(self) -> None:
        old = self.current_session
        if old is not None:
            old.close = functools.partial(_close_now, old)  # type: ignore[method-assign]  # patched on purpose: see above
        super().connect()
        new = self.current_session
        if new is not None and new is not old and new.sock is not None:
            new.sock = _EndAwareSocket(new.sock)  # type: ignore[assignment]  # a socket wrapper, typed as socket

    def disconnect(self) -> None:
        if self.current_session is not None:
            _close_now(self.current_session)

    def close(self) -> None:
        self._closing.set()
        self.closed = True
        self.message_queue.put(None)  # wakes the message processor instead of letting it wait out 1 s
        super().close()

    def _run_current_session(self) -> None:
        session = self.current_session
        was_active = session is not None and session.is_active()
        super()._run_current_session()  # returns when that connection ends
        if was_active and self.current_session is session and not self.closed and self.auto_reconnect_enabled:
            try:  # at once, rather than at the next ping
                self.connect_to_new_endpoint()
            except Exception as exc:  # the monitor tries again, after the backoff
                if not self.closed:
                    self.logger.error("Socket Mode reconnect failed: %s: %s", type(exc).__name__, exc)

    def _monitor_current_session(self) -> None:
        super()._monitor_current_session()
        session = self.current_session
        if self.closed or session is None or not session.is_active() or not session.consecutive_check_state_error_count:
            return
        self.logger.info("Socket Mode ping failed; the connection is gone (session id: %s)", session.session_id)
        session.disconnect()
        for listener in self.on_error_listeners:
            listener(ConnectionError("the Socket Mode connection stopped answering"))
        if self.auto_reconnect_enabled:
            try:
                self.connect_to_new_endpoint()
            except Exception as exc:  # the next monitor run tries again, after the backoff
                if not self.closed:
                    self.logger.error("Socket Mode reconnect failed: %s: %s", type(exc).__name__, exc)

    def _failed(self) -> None:
        delay = min(MAX_BACKOFF, self._backoff.calculate_sleep_duration(self._failures))
        self._failures += 1
        self._retry_at = time.monotonic() + delay
        self.logger.info("Socket Mode reconnect failed (%d in a row); next attempt in %.1fs", self._failures, delay)


class _EndAwareSocket:
    """A connection's socket whose ``recv`` raises ``ConnectionResetError`` when the peer ends the stream."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.closing = False  # we are closing it: the end of the stream is expected

    def recv(self, size: int) -> bytes:
        data = self._sock.recv(size)
        if not data and size and not self.closing:
            raise ConnectionResetError("Slack closed the Socket Mode connection without a close frame")
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def _close_now(connection: Connection) -> None:
    """Close a connection without waiting out its reader's receive timeout (up to 3 s)."""
    sock = connection.sock
    if sock is None:
        return
    if isinstance(sock, _EndAwareSocket):
        sock.closing = True
    try:
        sock.shutdown(socket.SHUT_RDWR)  # the reader's recv returns now, releasing its lock
    except OSError:
        pass
    with connection.sock_send_lock, connection.sock_receive_lock:
        if connection.sock is not None:
            connection.sock.close()
            connection.sock = None
    log.debug("Socket Mode connection closed (session id: %s)", connection.session_id)


class BotSocketModeHandler(SocketModeHandler):
    """Bolt's built-in ``SocketModeHandler`` on :class:`BackoffSocketModeClient`."""

    def __init__(self, app: App, app_token: str, *, ping_interval: float = 5.0, concurrency: int = 10) -> None:
        self.app = app
        self.app_token = app_token
        # Its own WebClient for apps.connections.open: the bot's paces and retries writes, which
        # would hold a reconnect (and a shutdown) through several Retry-After sleeps.
        web_client = WebClient(base_url=app.client.base_url, timeout=10, proxy=app.client.proxy)
        self.client = BackoffSocketModeClient(app_token=app_token, logger=app.logger, web_client=web_client,
                                              proxy=app.client.proxy, ping_interval=ping_interval,
                                              concurrency=concurrency)
        self.client.socket_mode_request_listeners.append(self.handle)  # type: ignore[arg-type]  # slack_sdk types it too narrowly


class SocketModeRunner:
    """Connects the app over Socket Mode in the background and keeps :attr:`state` for ``/health``."""

    def __init__(self, app: App, app_token: str, *, ping_interval: float = 5.0, concurrency: int = 10) -> None:
        self.state = SocketModeState()
        self.handler = BotSocketModeHandler(app, app_token, ping_interval=ping_interval, concurrency=concurrency)
        client = self.handler.client
        client.on_message_listeners.append(self._on_message)
        client.on_error_listeners.append(self._on_error)
        client.on_close_listeners.append(self._on_close)
        self._closing = threading.Event()
        self.fatal: SocketModeStartError | None = None
        self._backoff = BackoffRetryIntervalCalculator(backoff_factor=0.5)

    # -- the client's listeners ----------------------------------------------------------------
    def _on_message(self, message: str) -> None:
        head = message[:48]
        if '"hello"' in head:
            self.state.hello()
            log.info("Socket Mode connected (session %s)", self.handler.client.session_id())
        elif '"disconnect"' in head:
            reason = "refresh_requested" if "refresh_requested" in message[:200] else (
                "warning" if "warning" in message[:200] else "disconnect")
            self.state.disconnect_requested(reason)
            log.info("Slack asked for a new Socket Mode connection (%s)", reason)

    def _on_error(self, error: Exception) -> None:
        self.state.error(f"{type(error).__name__}: {error}")
        if not self._closing.is_set() and not self.handler.client.is_connected():
            self.state.lost("error")

    def _on_close(self, code: int, reason: str | None) -> None:
        if not self._closing.is_set() and not self.handler.client.is_connected():
            self.state.lost(f"closed ({code})")

    # -- lifecycle -----------------------------------------------------------------------------
    def connect(self, stop: threading.Event | None = None) -> None:
        """Open the first connection, retrying with backoff; raises :class:`SocketModeStartError`
        for an answer no retry can fix. Afterwards the client keeps the connection up."""
        stop = stop or self._closing
        attempt = 0
        while not stop.is_set():
            try:
                self.handler.connect()
                return
            except SlackApiError as exc:
                error = str(exc.response.get("error", "error"))
                if error in FATAL_ERRORS:
                    self.fatal = SocketModeStartError(
                        f"apps.connections.open answered {error}: {FATAL_ERRORS[error]} "
                        "(python -m bot doctor checks the tokens)")
                    self.state.failed(error)
                    raise self.fatal from None
                self.state.error(f"apps.connections.open answered {error}")
            except Exception as exc:  # network errors: Slack unreachable for now
                self.state.error(f"{type(exc).__name__}: {exc}")
            delay = min(MAX_BACKOFF, self._backoff.calculate_sleep_duration(attempt))
            attempt += 1
            log.warning("Socket Mode: cannot connect yet (%s); retrying in %.1fs", self.state.last_error, delay)
            stop.wait(delay)

    def health(self) -> dict[str, Any]:
        return self.state.snapshot(self.handler.client.is_connected() if self.state.connected_once else None)

    def close(self) -> None:
        self._closing.set()
        self.state.stopped()
        self.handler.close()
