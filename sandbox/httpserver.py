"""A small threaded HTTP server that every local stand-in is built on.

It speaks real HTTP on loopback and gives each stand-in the same control surface:

* routes: ``@server.route("GET", "/api/v1/projects/{project_id}")``;
* call counts per route (``server.calls["GET /api/v1/projects/{project_id}"]``);
* faults: latency, a share of 500s, of 429s with ``Retry-After``, of dropped
  connections (before handling), and of lost responses (handled, then the
  connection is dropped, so the client cannot know the outcome);
* scripted one-off faults for deterministic tests: ``server.faults.script("POST /x", "drop_response")``
  (a route pattern, or a concrete path such as ``"POST /api/chat.postMessage"``);
* the same controls over HTTP under ``/_control/`` for the sandbox and other processes.
"""

from __future__ import annotations

import json
import random
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)
    route: str = ""

    def json(self) -> Any:
        if not self.body:
            return None
        return json.loads(self.body.decode("utf-8"))

    def form(self) -> dict[str, str]:
        """``application/x-www-form-urlencoded`` body (or JSON object) as a flat dict."""
        ctype = self.headers.get("content-type", "")
        if "json" in ctype:
            data = self.json() or {}
            return {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
        parsed = parse_qs(self.body.decode("utf-8"), keep_blank_values=True)
        return {k: v[-1] for k, v in parsed.items()}

    def multipart(self) -> dict[str, MultipartPart]:
        """Parse ``multipart/form-data``; returns parts by field name."""
        ctype = self.headers.get("content-type", "")
        match = re.search(r'boundary="?([^";]+)"?', ctype)
        if not match:
            raise ValueError("not multipart")
        boundary = b"--" + match.group(1).encode()
        parts: dict[str, MultipartPart] = {}
        for chunk in self.body.split(boundary)[1:]:
            if chunk.startswith(b"--"):
                break
            head, _, content = chunk.lstrip(b"\r\n").partition(b"\r\n\r\n")
            if content.endswith(b"\r\n"):
                content = content[:-2]
            headers = {}
            for line in head.decode("utf-8", "replace").split("\r\n"):
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
            disp = headers.get("content-disposition", "")
            name = re.search(r'name="([^"]*)"', disp)
            filename = re.search(r'filename="([^"]*)"', disp)
            if name:
                parts[name.group(1)] = MultipartPart(
                    name.group(1), filename.group(1) if filename else None, headers.get("content-type", ""), content
                )
        return parts


@dataclass
class MultipartPart:
    name: str
    filename: str | None
    content_type: str
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def json_response(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status, json.dumps(obj).encode(), {"Content-Type": "application/json", **(headers or {})})


def text_response(text: str | bytes, status: int = 200, content_type: str = "text/plain; charset=utf-8") -> Response:
    body = text.encode() if isinstance(text, str) else text
    return Response(status, body, {"Content-Type": content_type})


Handler = Callable[[Request], Response]
FAULT_KINDS = ("error_500", "rate_limit", "drop", "drop_response")


class Faults:
    """Random and scripted faults. Random ones use a seeded RNG, so runs repeat."""

    def __init__(self, seed: int = 7) -> None:
        self.latency = 0.0
        self.error_rate = 0.0
        self.rate_limit_rate = 0.0
        self.retry_after = 1.0
        self.drop_rate = 0.0
        self.drop_response_rate = 0.0
        self._scripted: dict[str, list[str]] = {}
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def configure(self, **values: float) -> None:
        with self._lock:
            for key, value in values.items():
                if not hasattr(self, key) or key.startswith("_"):
                    raise ValueError(f"unknown fault setting {key}")
                setattr(self, key, float(value))

    def script(self, route: str, *kinds: str) -> None:
        """Queue one-off faults for ``"METHOD /route/pattern"`` (or ``"*"``), used in order."""
        for kind in kinds:
            if kind not in FAULT_KINDS:
                raise ValueError(f"unknown fault {kind}")
        with self._lock:
            self._scripted.setdefault(route, []).extend(kinds)

    def reset(self) -> None:
        with self._lock:
            self.latency = self.error_rate = self.rate_limit_rate = self.drop_rate = self.drop_response_rate = 0.0
            self._scripted.clear()

    def pick(self, route: str, path: str | None = None) -> str | None:
        """The fault for this request: one scripted for its concrete ``"METHOD /path"``, else for its
        route pattern, else for ``"*"``, else a random one."""
        with self._lock:
            for key in (path, route, "*"):
                if key is None:
                    continue
                queue = self._scripted.get(key)
                if queue:
                    return queue.pop(0)
            roll = self._rng.random()
            for kind, rate in (("drop", self.drop_rate), ("error_500", self.error_rate),
                               ("rate_limit", self.rate_limit_rate), ("drop_response", self.drop_response_rate)):
                if roll < rate:
                    return kind
                roll -= rate
        return None


class _BurstServer(ThreadingHTTPServer):
    request_queue_size = 256  # like a real API's front: a burst queues instead of being reset

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that vanished mid-request (a killed bot replica) is normal here, not a traceback."""
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class SimServer:
    """Base for stand-ins. Subclasses register routes in ``__init__``."""

    name = "sim"

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.faults = Faults()
        self.calls: Counter[str] = Counter()
        self.log: list[tuple[str, str]] = []  # (route key, raw path) in order
        self.in_flight = 0  # API requests being handled now (control routes excluded)
        self.max_in_flight = 0  # the most seen at once since the last reset_calls()
        self._routes: list[tuple[str, re.Pattern[str], str, Handler]] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.RLock()
        self._add_control_routes()

    # -- routing -----------------------------------------------------------
    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$")

        def register(fn: Handler) -> Handler:
            self._routes.append((method.upper(), regex, pattern, fn))
            return fn

        return register

    def add_route(self, method: str, pattern: str, fn: Handler) -> None:
        self.route(method, pattern)(fn)

    def _match(self, method: str, path: str) -> tuple[Handler, dict[str, str], str] | None | bool:
        path_matched = False
        for m, regex, pattern, fn in self._routes:
            found = regex.match(path)
            if found:
                path_matched = True
                if m == method:
                    return fn, found.groupdict(), f"{m} {pattern}"
        return path_matched

    def not_found(self, request: Request) -> Response:
        return json_response({"error": "Not found"}, 404)

    def method_not_allowed(self, request: Request) -> Response:
        return json_response({"error": "Method not allowed"}, 405)

    # -- control surface -------------------------------------------------
    def _add_control_routes(self) -> None:
        @self.route("GET", "/_control/calls")
        def _calls(req: Request) -> Response:
            return json_response(dict(self.calls))

        @self.route("POST", "/_control/faults")
        def _faults(req: Request) -> Response:
            body = req.json() or {}
            script = body.pop("script", {})
            try:
                if body.pop("reset", False):
                    self.faults.reset()
                self.faults.configure(**body)
                for route, kinds in script.items():
                    self.faults.script(route, *kinds)
            except ValueError as exc:
                return json_response({"error": str(exc)}, 400)
            return json_response({"ok": True})

        @self.route("POST", "/_control/reset_calls")
        def _reset(req: Request) -> Response:
            self.reset_calls()
            return json_response({"ok": True})

    def reset_calls(self) -> None:
        with self._lock:
            self.calls.clear()
            self.log.clear()
            self.max_in_flight = self.in_flight

    def count(self, prefix: str) -> int:
        """Sum of call counts whose route key starts with ``prefix`` (e.g. ``"POST /api/v1/projects"``)."""
        with self._lock:
            return sum(n for key, n in self.calls.items() if key.startswith(prefix))

    # -- dispatch -----------------------------------------------------------
    def handle(self, request: Request) -> tuple[Response | None, bool]:
        """Returns (response, drop_after). ``None`` response means drop before handling."""
        found = self._match(request.method, request.path)
        if not isinstance(found, tuple):
            return (self.method_not_allowed(request) if found else self.not_found(request)), False
        fn, params, key = found
        request.params, request.route = params, key
        control = request.path.startswith("/_control/")
        if not control:
            with self._lock:
                self.calls[key] += 1
                self.log.append((key, request.path))
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                return self._handle(request, fn, key)
            finally:
                with self._lock:
                    self.in_flight -= 1
        return self._handle(request, fn, key, control=True)

    def _handle(self, request: Request, fn: Handler, key: str, *, control: bool = False) -> tuple[Response | None, bool]:
        if not control:
            if self.faults.latency:
                time.sleep(self.faults.latency)
            fault = self.faults.pick(key, f"{request.method} {request.path}")
            if fault == "drop":
                return None, False
            if fault == "error_500":
                return self.fault_500(request), False
            if fault == "rate_limit":
                return self.fault_429(request), False
        else:
            fault = None
        try:
            response = fn(request)
        except Exception as exc:  # a bug in a stand-in shows as a 500, like a real server
            response = json_response({"error": f"Internal error: {exc}"}, 500)
        return response, fault == "drop_response"

    def fault_500(self, request: Request) -> Response:
        return json_response({"error": "Internal server error"}, 500)

    def fault_429(self, request: Request) -> Response:
        return json_response({"error": "Too many requests"}, 429,
                             {"Retry-After": f"{self.faults.retry_after:g}"})

    # -- lifecycle ---------------------------------------------------------
    @property
    def url(self) -> str:
        if not self._httpd:
            raise RuntimeError(f"{self.name} is not started")
        return f"http://{self.host}:{self._httpd.server_address[1]}"

    def start(self) -> SimServer:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    body = _read_chunked(self.rfile)
                query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                headers = {k.lower(): v for k, v in self.headers.items()}
                request = Request(self.command, parts.path, query, headers, body)
                response, drop_after = server.handle(request)
                if response is None or drop_after:
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                self.send_response(response.status)
                for k, v in response.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(response.body)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _serve

        self._httpd = _BurstServer((self.host, self.port), _Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name=self.name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _read_chunked(rfile: Any) -> bytes:
    out = bytearray()
    while True:
        size = int(rfile.readline().strip() or b"0", 16)
        if size == 0:
            rfile.readline()
            return bytes(out)
        out += rfile.read(size)
        rfile.readline()
