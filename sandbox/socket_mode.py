"""Slack's side of Socket Mode on loopback: a WebSocket server (the ``websockets`` library).

:class:`~sandbox.slack_api.SlackStandIn` answers ``apps.connections.open`` (app-level token
only) with a ``ws://`` URL of this server. From there it speaks Slack's Socket Mode protocol:

* A client connects with a ticket from ``apps.connections.open`` (good for one connection)
  and gets ``{"type": "hello", "num_connections": n, ...}``.
* :meth:`SocketModeServer.deliver` sends an envelope ``{"envelope_id", "type", "payload",
  "accepts_response_payload"}`` (``slash_commands``, ``interactive`` or ``events_api``;
  events also carry ``retry_attempt`` and ``retry_reason``) to the newest open connection
  that has not been told to disconnect, and waits for the app's acknowledgement
  ``{"envelope_id", "payload"?}``. A payload counts only where the envelope accepts one.
* An ``events_api`` envelope not acknowledged within ``ack_timeout`` (Slack: 3 s), or whose
  connection closes before the ack, is sent again on an open connection with
  ``retry_attempt`` 1, 2, 3 and ``retry_reason`` ``"timeout"``, as Slack retries events.
  Commands and interactions are not re-sent: the person sees an error in Slack instead
  (the delivery's outcome is ``"timeout"``).
* On command, as Slack does: :meth:`disconnect` sends ``{"type": "disconnect", "reason":
  "refresh_requested" | "warning"}`` and closes that connection ``disconnect_grace`` seconds
  later if the app has not; :meth:`close_abruptly` drops the TCP connection without a
  close frame (a network failure or a Slack host going away).

Every connection is recorded (:meth:`connections`) so tests can see reconnects, and every
envelope with its attempts and ack (:meth:`envelopes`).
"""

from __future__ import annotations

import itertools
import json
import secrets
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request as WsRequest
from websockets.http11 import Response as WsResponse
from websockets.sync.server import Server, ServerConnection, serve

ENVELOPE_TYPES = ("slash_commands", "interactive", "events_api")
DISCONNECT_REASONS = ("refresh_requested", "warning", "link_disabled")
EVENT_RETRIES = 3  # Slack retries an unacknowledged event three times


@dataclass
class _Connection:
    id: int
    ws: ServerConnection
    opened_at: float
    ticket: str
    greeted: bool = False
    closed_at: float | None = None
    closed_by: str | None = None  # "app", "refresh_requested", "warning", "abrupt", "server"
    disconnect_sent: str | None = None
    delivered: int = 0
    acks: int = 0

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "opened_at": self.opened_at, "closed_at": self.closed_at,
                "closed_by": self.closed_by, "disconnect_sent": self.disconnect_sent, "open": self.closed_at is None,
                "delivered": self.delivered, "acks": self.acks}


@dataclass
class Envelope:
    """One envelope Slack sends until it is acknowledged (or given up)."""

    envelope_id: str
    type: str
    payload: dict[str, Any]
    accepts_response_payload: bool
    attempts: list[dict[str, Any]] = field(default_factory=list)  # connection, retry_attempt, sent_at
    ack: dict[str, Any] | None = None  # the app's acknowledgement message, as sent
    ack_connection: int | None = None
    outcome: str = "pending"  # pending, acked, timeout, no_connection
    duplicate_acks: int = 0  # acks after the first (a retry's and the original's both arriving)

    @property
    def response(self) -> Any:
        """The payload Slack takes from the ack (None when the envelope accepts none or there was none)."""
        if not self.ack or not self.accepts_response_payload:
            return None
        return self.ack.get("payload")

    def public(self) -> dict[str, Any]:
        return {"envelope_id": self.envelope_id, "type": self.type, "payload": self.payload,
                "accepts_response_payload": self.accepts_response_payload, "attempts": list(self.attempts),
                "ack": self.ack, "ack_connection": self.ack_connection, "outcome": self.outcome,
                "duplicate_acks": self.duplicate_acks}


class SocketModeServer:
    """The Socket Mode endpoint of the Slack test bed. ``start()`` binds 127.0.0.1 on an ephemeral port."""

    def __init__(self, app_id: str = "A0SANDBOX", host: str = "127.0.0.1", port: int = 0, *,
                 ack_timeout: float = 3.0, disconnect_grace: float = 10.0, ticket_ttl: float = 30.0) -> None:
        self.app_id = app_id
        self.host = host
        self.port = port
        self.ack_timeout = ack_timeout  # Slack: an envelope is acknowledged within 3 seconds
        self.disconnect_grace = disconnect_grace  # Slack closes a connection ~10 s after "warning"
        self.ticket_ttl = ticket_ttl
        self._lose_next_acks = 0  # see lose_next_acks()
        self._lost: set[str] = set()
        self._ticket_of: dict[int, str] = {}
        self._cond = threading.Condition(threading.RLock())
        self._conns: list[_Connection] = []
        self._tickets: dict[str, float] = {}
        self._envelopes: dict[str, Envelope] = {}
        self._order: list[str] = []
        self._pending: list[Envelope] = []  # envelopes still waiting for an ack (the retry loop's work)
        self._ids = itertools.count(1)
        self._server: Server | None = None
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self.rejected_handshakes = 0

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> SocketModeServer:
        self._server = serve(self._handle, self.host, self.port, process_request=self._check_ticket,
                             compression=None, ping_interval=20, ping_timeout=20, close_timeout=2)
        serve_thread = threading.Thread(target=self._server.serve_forever, name="slack-socket", daemon=True)
        retry_thread = threading.Thread(target=self._retry_loop, name="slack-socket-retries", daemon=True)
        self._threads = [serve_thread, retry_thread]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server = None
        for thread in self._threads:
            thread.join(timeout=5)

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the Socket Mode server is not started")
        return f"ws://{self.host}:{self._server.socket.getsockname()[1]}"

    # -- apps.connections.open -----------------------------------------------------------------
    def issue_url(self) -> str:
        """A fresh WebSocket URL, as ``apps.connections.open`` returns it (one connection per ticket)."""
        ticket = secrets.token_hex(12)
        with self._cond:
            self._tickets[ticket] = time.monotonic()
        return f"{self.url}/link/?ticket={ticket}&app_id={self.app_id}"

    def _check_ticket(self, connection: ServerConnection, request: WsRequest) -> WsResponse | None:
        query = parse_qs(urlsplit(request.path).query)
        ticket = (query.get("ticket") or [""])[0]
        with self._cond:
            issued = self._tickets.pop(ticket, None)
            if issued is not None and time.monotonic() - issued <= self.ticket_ttl and not self._stopping.is_set():
                self._ticket_of[id(connection)] = ticket
                return None
            self.rejected_handshakes += 1
        return connection.respond(HTTPStatus.UNAUTHORIZED, "invalid or used ticket: call apps.connections.open\n")

    # -- connections -------------------------------------------------------------------------
    def _handle(self, ws: ServerConnection) -> None:
        with self._cond:
            conn = _Connection(next(self._ids), ws, time.time(), self._ticket_of.pop(id(ws), ""))
            self._conns.append(conn)
            open_now = sum(1 for c in self._conns if c.closed_at is None)
        hello = json.dumps({"type": "hello", "num_connections": open_now,
                            "debug_info": {"host": "applink-sandbox", "build_number": 1,
                                           "approximate_connection_time": 18060},
                            "connection_info": {"app_id": self.app_id}})
        try:
            with self._cond:  # nothing is delivered on the connection before its hello, and all after it
                ws.send(hello)
                conn.greeted = True
                self._cond.notify_all()
            for message in ws:
                self._on_message(conn, message)
        except ConnectionClosed:
            pass
        except OSError:
            pass
        finally:
            with self._cond:
                conn.closed_at = time.time()
                conn.closed_by = conn.closed_by or "app"
                self._cond.notify_all()

    def _on_message(self, conn: _Connection, message: str | bytes) -> None:
        try:
            data = json.loads(message)
        except ValueError:
            return
        if not isinstance(data, dict) or "envelope_id" not in data:
            return
        with self._cond:
            envelope = self._envelopes.get(str(data["envelope_id"]))
            if envelope is None:
                return
            if self._lose_next_acks and envelope.envelope_id not in self._lost and envelope.outcome == "pending":
                self._lose_next_acks -= 1
                self._lost.add(envelope.envelope_id)
                return  # lost on the way: Slack never sees it
            conn.acks += 1
            if envelope.outcome != "pending":
                envelope.duplicate_acks += 1
                return
            envelope.ack = data
            envelope.ack_connection = conn.id
            envelope.outcome = "acked"
            self._cond.notify_all()

    def _live(self) -> list[_Connection]:
        """Connections an envelope can go to: open, greeted, not told to disconnect; newest first."""
        return [c for c in reversed(self._conns)
                if c.closed_at is None and c.greeted and c.disconnect_sent is None]

    def connections(self) -> list[dict[str, Any]]:
        """Every connection so far, oldest first: id, opened_at, closed_at, closed_by, open, ..."""
        with self._cond:
            return [c.public() for c in self._conns]

    def open_connections(self) -> list[dict[str, Any]]:
        return [c for c in self.connections() if c["open"]]

    def wait_for_connection(self, count: int = 1, timeout: float = 30) -> dict[str, Any]:
        """Wait until at least ``count`` connections were ever opened and one can take envelopes."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                live = self._live()
                if len(self._conns) >= count and live:
                    return live[0].public()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no live Socket Mode connection #{count} within {timeout}s; "
                                         f"connections: {[c.public() for c in self._conns]}")
                self._cond.wait(min(remaining, 0.1))

    # -- Slack's disconnects -----------------------------------------------------------------
    def disconnect(self, reason: str = "refresh_requested", connection: int | None = None) -> int:
        """Send ``{"type": "disconnect", "reason": reason}`` on a connection (the newest live one by
        default) and close it ``disconnect_grace`` s later if the app has not. Returns its id."""
        if reason not in DISCONNECT_REASONS:
            raise ValueError(f"reason must be one of {DISCONNECT_REASONS}")
        conn = self._pick(connection)
        with self._cond:
            conn.disconnect_sent = reason
        try:
            conn.ws.send(json.dumps({"type": "disconnect", "reason": reason,
                                     "debug_info": {"host": "applink-sandbox"}}))
        except ConnectionClosed:
            pass

        def close_later() -> None:
            deadline = time.monotonic() + self.disconnect_grace
            with self._cond:
                while conn.closed_at is None and not self._stopping.is_set():
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        conn.closed_by = reason
                        threading.Thread(target=conn.ws.close, daemon=True).start()
                        return
                    self._cond.wait(min(remaining, 0.1))

        threading.Thread(target=close_later, name=f"slack-socket-close-{conn.id}", daemon=True).start()
        return conn.id

    def close_abruptly(self, connection: int | None = None, *, reset: bool = False) -> int:
        """Drop a connection's TCP stream with no close frame (``reset``: with an RST). Returns its id."""
        conn = self._pick(connection)
        with self._cond:
            conn.closed_by = "abrupt"
        sock = conn.ws.socket
        try:
            if reset:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.close()
            else:
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        return conn.id

    def _pick(self, connection: int | None) -> _Connection:
        with self._cond:
            if connection is None:
                live = [c for c in reversed(self._conns) if c.closed_at is None]
                if not live:
                    raise LookupError("no open Socket Mode connection")
                return live[0]
            for c in self._conns:
                if c.id == connection:
                    return c
        raise LookupError(f"no Socket Mode connection {connection}")

    def lose_next_acks(self, count: int = 1) -> None:
        """The next ``count`` first acknowledgements never reach Slack, as when a connection drops
        mid-flight: Slack then re-sends those events (commands and interactions time out)."""
        with self._cond:
            self._lose_next_acks += count

    # -- envelopes -------------------------------------------------------------------------
    def deliver(self, kind: str, payload: dict[str, Any], *, accepts_response_payload: bool | None = None,
                wait: bool = True, timeout: float | None = None) -> Envelope:
        """Send ``payload`` in a ``kind`` envelope; with ``wait``, return once it is acknowledged or
        given up (commands and interactions after ``ack_timeout``; events after their retries)."""
        if kind not in ENVELOPE_TYPES:
            raise ValueError(f"kind must be one of {ENVELOPE_TYPES}")
        if accepts_response_payload is None:
            accepts_response_payload = accepts_payload(kind, payload)
        envelope = Envelope(envelope_id=_envelope_id(), type=kind, payload=payload,
                            accepts_response_payload=accepts_response_payload)
        with self._cond:
            self._envelopes[envelope.envelope_id] = envelope
            self._order.append(envelope.envelope_id)
            self._pending.append(envelope)
            sent = self._send(envelope, retry_reason="")
            if not sent and kind != "events_api":
                envelope.outcome = "no_connection"  # Slack shows the person a dispatch failure
        if wait:
            self.wait(envelope, timeout)
        return envelope

    def wait(self, envelope: Envelope, timeout: float | None = None) -> Envelope:
        """Until ``envelope`` is acknowledged or given up."""
        limit = timeout if timeout is not None else self.ack_timeout * (EVENT_RETRIES + 2) + 2
        deadline = time.monotonic() + limit
        with self._cond:
            while envelope.outcome == "pending":
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(min(remaining, 0.1))
        return envelope

    def redeliver(self, envelope: Envelope, retry_reason: str = "timeout") -> Envelope:
        """Send an (acknowledged) events_api envelope again as Slack's next retry, and wait for the ack."""
        with self._cond:
            envelope.outcome = "pending"
            self._pending.append(envelope)
            envelope.ack = None
            self._send(envelope, retry_reason=retry_reason)
        return self.wait(envelope)

    def _send(self, envelope: Envelope, retry_reason: str) -> bool:
        live = self._live()
        if not live:
            return False
        conn = live[0]
        message: dict[str, Any] = {"envelope_id": envelope.envelope_id, "type": envelope.type,
                                   "payload": envelope.payload,
                                   "accepts_response_payload": envelope.accepts_response_payload}
        retry_attempt = len(envelope.attempts)
        if envelope.type == "events_api":
            message["retry_attempt"] = retry_attempt
            message["retry_reason"] = retry_reason
        envelope.attempts.append({"connection": conn.id, "retry_attempt": retry_attempt,
                                  "retry_reason": retry_reason, "sent_at": time.monotonic()})
        conn.delivered += 1
        try:
            conn.ws.send(json.dumps(message))
        except (ConnectionClosed, OSError):
            pass  # the connection is going; the retry loop notices the missing ack
        return True

    def _retry_loop(self) -> None:
        while not self._stopping.is_set():
            with self._cond:
                self._cond.wait(0.05)
                for envelope in self._pending:
                    if envelope.outcome == "pending":
                        self._follow_up(envelope)
                self._pending = [e for e in self._pending if e.outcome == "pending"]

    def _follow_up(self, envelope: Envelope) -> None:
        """Re-send or give up on an envelope whose ack is late or whose connection is gone."""
        if not envelope.attempts:  # an event that found no connection: it goes out on the next one
            self._send(envelope, retry_reason="")
            return
        last = envelope.attempts[-1]
        conn = self._conn(last["connection"])
        lost = conn is None or conn.closed_at is not None
        late = time.monotonic() - last["sent_at"] > self.ack_timeout
        if not (lost or late):
            return
        if envelope.type != "events_api" or len(envelope.attempts) > EVENT_RETRIES:
            envelope.outcome = "timeout"
            self._cond.notify_all()
            return
        self._send(envelope, retry_reason="timeout")  # waits while no connection is live

    def _conn(self, conn_id: int) -> _Connection | None:
        return next((c for c in self._conns if c.id == conn_id), None)

    def envelopes(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Every envelope sent, oldest first, with its attempts and acknowledgement."""
        with self._cond:
            return [self._envelopes[e].public() for e in self._order
                    if kind is None or self._envelopes[e].type == kind]


def accepts_payload(kind: str, payload: dict[str, Any]) -> bool:
    """Whether Slack takes a response payload in the ack: slash commands, view submissions and
    option loads (block_suggestion) do; button clicks, shortcuts and events do not."""
    if kind == "slash_commands":
        return True
    if kind == "interactive":
        return payload.get("type") in ("view_submission", "block_suggestion")
    return False


def _envelope_id() -> str:
    raw = secrets.token_hex(16)
    return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"

