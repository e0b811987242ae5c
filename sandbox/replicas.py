"""Several bot processes (``python -m bot`` in HTTP mode) on one database, behind the stand-ins.

For the replica tests and ``bench/bench_replicas.py``: the Slack test bed, the Nimrobo and
Pluto simulators run in this process; each replica is a real process that can be killed
(SIGKILL, no clean-up) and started again. :meth:`Replicas.signer` alternates the signed
Slack requests between the live replicas, as a load balancer would.
"""

from __future__ import annotations

import itertools
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from sandbox.nimrobo_sim import NimroboSimulator
from sandbox.pluto_sim import PlutoSimulator
from sandbox.signer import SlackSigner
from sandbox.slack_api import SlackStandIn

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Replica:
    def __init__(self, name: str, env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"{name}.log"
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()/kill()
        self.proc = subprocess.Popen([sys.executable, "-m", "bot"], cwd=ROOT, env={**env, "PORT": str(self.port)},
                                     stdout=self._log, stderr=subprocess.STDOUT)

    def health(self) -> dict[str, Any] | None:
        try:
            response = httpx.get(self.url + "/health", timeout=2)
        except httpx.TransportError:
            return None
        return response.json() if response.status_code == 200 else None

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    @property
    def is_leader(self) -> bool:
        return bool((self.health() or {}).get("leader"))

    def kill(self) -> None:
        """SIGKILL: no shutdown, no lock release, no clean-up, as a crash or an OOM kill."""
        if self.alive:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)
        self._log.close()

    def stop(self) -> None:
        if self.alive:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class Replicas:
    """Stand-ins plus ``count`` bot processes sharing ``database_url`` (or a SQLite file)."""

    def __init__(self, database: str, count: int = 2, *, poll_interval: float = 1.0, claim_timeout: float = 2.0,
                 nimrobo: dict[str, Any] | None = None, pluto: dict[str, Any] | None = None,
                 settings: dict[str, str] | None = None) -> None:
        self.database = database
        self.count = count
        self.poll_interval = poll_interval
        self.claim_timeout = claim_timeout
        self.bot_token = "xoxb-replicas-" + secrets.token_hex(6)
        self.signing_secret = secrets.token_hex(16)
        self.nimrobo_key = "api_replicas_" + secrets.token_hex(6)
        self._nimrobo_opts = {"evaluation_delay": 0.1, "summary_delay": 0.1, **(nimrobo or {})}
        self._pluto_opts = {"extract_seconds": 0.3, "score_seconds": 0.6, **(pluto or {})}
        self._extra = settings or {}
        self.replicas: list[Replica] = []
        self._names = itertools.count(1)
        self._turn = itertools.count()
        self._signers: dict[str, SlackSigner] = {}
        self._tmp = tempfile.TemporaryDirectory(prefix="pluto-replicas-")

    def start(self) -> Replicas:
        self.slack = SlackStandIn(bot_token=self.bot_token).start()
        self.nimrobo = NimroboSimulator(keys={}, **self._nimrobo_opts).start()
        self.nimrobo.add_key(self.nimrobo_key)
        self.pluto = PlutoSimulator(**self._pluto_opts).start()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "NIMROBO_", "OPENAI_", "API_",
                                                                          "DATABASE_"))}
        env.update({
            "SLACK_BOT_TOKEN": self.bot_token, "SLACK_SIGNING_SECRET": self.signing_secret,
            "SLACK_API_URL": self.slack.url + "/api/", "NIMROBO_API_BASE_URL": self.nimrobo.url + "/api",
            "NIMROBO_API_KEY": self.nimrobo_key, "PLUTO_API_BASE_URL": self.pluto.url + "/api",
            "POLL_INTERVAL_SECONDS": str(self.poll_interval), "PROGRESS_UPDATE_SECONDS": "0.2",
            "CLAIM_TIMEOUT_SECONDS": str(self.claim_timeout), "LOG_LEVEL": "INFO", **self._extra,
        })
        if self.database.startswith("postgresql:"):
            env["DATABASE_URL"] = self.database
        else:
            env["DATABASE_PATH"] = self.database
        self.env = env
        for _ in range(self.count):
            self.add()
        return self

    def add(self) -> Replica:
        """Start one more replica and wait until it answers /health."""
        replica = Replica(f"replica{next(self._names)}", self.env, Path(self._tmp.name))
        self.replicas.append(replica)
        deadline = time.monotonic() + 60
        while replica.health() is None:
            if not replica.alive or time.monotonic() > deadline:
                raise RuntimeError(f"{replica.name} did not start:\n{replica.log()[-3000:]}")
            time.sleep(0.1)
        return replica

    @property
    def live(self) -> list[Replica]:
        return [r for r in self.replicas if r.alive]

    def leader(self) -> Replica | None:
        leaders = [r for r in self.live if r.is_leader]
        return leaders[0] if len(leaders) == 1 else None

    def leaders(self) -> list[Replica]:
        return [r for r in self.live if r.is_leader]

    def signer(self) -> SlackSigner:
        """A signer for the next live replica, round robin."""
        live = self.live
        replica = live[next(self._turn) % len(live)]
        if replica.name not in self._signers:
            self._signers[replica.name] = SlackSigner(replica.url, self.signing_secret, self.slack)
        return self._signers[replica.name]

    def stop(self) -> None:
        for replica in self.replicas:
            replica.stop()
        for signer in self._signers.values():
            signer.close()
        for server in (self.pluto, self.nimrobo, self.slack):
            server.stop()
        self._tmp.cleanup()

    def __enter__(self) -> Replicas:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
