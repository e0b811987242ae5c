"""HTTP mode: ``POST /slack/events`` (signature-verified by Bolt) and ``GET /health``."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from slack_bolt import App
from slack_bolt.request import BoltRequest

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
MAX_BODY = 5 * 1024 * 1024


class BotHTTPServer:
    """A threaded HTTP server in front of the Bolt app."""

    def __init__(self, app: App, port: int = 3000, host: str = "0.0.0.0",
                 health: Callable[[], dict[str, Any]] | None = None) -> None:
        self.app = app
        self.health = health or (lambda: {"ok": True})
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt: str, *args: Any) -> None:
                log.debug("%s " + fmt, self.address_string(), *args)

            def _send(self, status: int, body: str | bytes, headers: dict[str, Any] | None = None) -> None:
                data = body.encode() if isinstance(body, str) else body
                self.send_response(status)
                for key, values in (headers or {}).items():
                    for value in values if isinstance(values, list | tuple) else [values]:
                        if key.lower() != "content-length":
                            self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                path = self.path.partition("?")[0]
                if path == "/health":
                    payload = server.health()
                    self._send(200 if payload.get("ok") else 503, json.dumps(payload),
                               {"Content-Type": "application/json"})
                else:
                    self._send(404, "Not found")

            def do_POST(self) -> None:
                path, _, query = self.path.partition("?")
                if path != EVENTS_PATH:
                    self._send(404, "Not found")
                    return
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY:
                    self._send(413, "Payload too large")
                    return
                body = self.rfile.read(length).decode("utf-8")
                bolt_response = server.app.dispatch(BoltRequest(body=body, query=query, headers=self.headers))
                self._send(bolt_response.status, bolt_response.body, bolt_response.headers)

        self._httpd = ThreadingHTTPServer((host, port), Handler)
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> BotHTTPServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="bot-http", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
