"""Fixtures and helpers shared by the test modules.

PostgreSQL comes from Debian's ``postgresql`` package, which ``python3 dev.py test`` (and so CI)
installs when it is missing. Without it the PostgreSQL variants skip with the reason, except
in CI (``CI=true``), where a missing server is a failure: CI must really run them.
"""


import contextlib
import itertools
import os
import time
from unittest.mock import Mock

import pytest

from sandbox.nimrobo_sim import ALL_SCOPES, NimroboSimulator
from sandbox.postgres import PostgresUnavailable, TempPostgres
from services.http import RetryPolicy
from services.nimrobo import NimroboClient
from services.store import Store

NIMROBO_KEY = "api_test_key"


@pytest.fixture()
def store(tmp_path):
    """A fresh, migrated database in the test's folder (``tmp_path / "bot.db"``)."""
    s = Store(tmp_path / "bot.db")
    yield s
    s.close()


@pytest.fixture(scope="module")
def nimrobo_server(request):
    """One Nimrobo simulator per module (starting one costs ~0.5 s). A module sets ``NIMROBO_DELAY``
    (seconds until a session's summary and evaluation exist) when it needs one; the default is 0."""
    delay = getattr(request.module, "NIMROBO_DELAY", 0.0)
    with NimroboSimulator(keys={NIMROBO_KEY: ALL_SCOPES}, evaluation_delay=delay, summary_delay=delay) as s:
        yield s


@pytest.fixture()
def sim(nimrobo_server):
    """The module's simulator with a fresh state for each test."""
    nimrobo_server.reset()
    nimrobo_server.faults.retry_after = 0.05
    return nimrobo_server


@pytest.fixture()
def nimrobo(sim):
    """A client of :func:`sim` with ``NIMROBO_KEY`` and quick retries."""
    with NimroboClient(sim.url + "/api", NIMROBO_KEY, retry=RetryPolicy(base_delay=0.01, max_total=5)) as c:
        yield c


def eventually(condition, timeout=30.0, interval=0.05):
    """Poll ``condition`` until it returns something truthy and return that (tests wait on conditions, not sleeps)."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


def not_queued(messages):
    """``messages`` without the bot's private "Busy right now: … is queued" notices: the work pool sends one,
    legitimately, whenever a request has to wait for a worker (a loaded machine), before the real answer."""
    return [m for m in messages if "Busy right now:" not in m["text"]]


class InlinePool:
    """A work pool that runs each job at once, in order (listener unit tests)."""

    def __init__(self) -> None:
        self.done: list[str] = []

    def submit(self, user, fn, *, what="work", on_queued=None, on_dropped=None):
        self.done.append(what)
        fn()

    def acting_as(self, user):
        return contextlib.nullcontext()


@pytest.fixture()
def services():
    """``Services`` for one listener: feature services are mocks, slow work runs inline on ``services.work``."""
    fake = Mock(name="services", spec=["scoring", "voicelinks", "sessions", "events", "work", "settings", "screening",
                                       "home", "access", "keys", "interviews", "audit", "lifecycle",
                                       "outbox"])
    fake.work = InlinePool()
    return fake


@pytest.fixture()
def slack():
    """One recorder for ``ack``, ``client`` and ``respond``, so a test can check what came first."""
    recorder = Mock(name="slack")
    recorder.client.views_open.return_value = {"view": {"id": "V1"}}
    recorder.client.chat_postMessage.return_value = {"ts": "2.0"}
    recorder.client.conversations_open.return_value = {"channel": {"id": "D_ALICE"}}
    return recorder

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
_names = itertools.count(1)


@pytest.fixture(scope="session")
def pg_server():
    try:
        server = TempPostgres().start()
    except PostgresUnavailable as exc:
        if IN_CI:
            pytest.fail(f"CI must run the PostgreSQL tests, but: {exc}")
        pytest.skip(f"PostgreSQL tests skipped: {exc}")
    yield server
    server.stop()


@pytest.fixture()
def pg_url(pg_server):
    """A new, empty PostgreSQL database for this test."""
    return pg_server.create_database(f"t{os.getpid()}_{next(_names)}")


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    """Where the test's state lives: a SQLite file, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "bot.db")
    return request.getfixturevalue("pg_url")


def db_options(database: str) -> dict:
    """StackOptions keywords that put the bot's state in ``database`` (a SQLite path or a PostgreSQL URL)."""
    if database.startswith("postgresql:"):
        return {"database_url": database}
    return {"database_path": database}


@pytest.fixture(params=["http", "socket"])
def mode(request):
    """The bot's Slack transport for an end-to-end test: HTTP (signed POSTs) or Socket Mode."""
    return request.param
