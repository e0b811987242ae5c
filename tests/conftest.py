"""Fixtures and helpers shared by the test modules.

PostgreSQL comes from Debian's ``postgresql`` package, which ``python3 dev.py test`` (and so CI)
installs when it is missing. Without it the PostgreSQL variants skip with the reason, except
in CI (``CI=true``), where a missing server is a failure: CI must really run them.
"""


import contextlib
import itertools
import os
import time
from dataclasses import dataclass
from typing import Any
from unittest.mock import Mock

import pytest

from bot.blocks.pluto import SCORE_DETAILS, SCORE_MODAL, SCORE_PROBLEM
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


@dataclass
class ScoreForm:
    """The two steps of the ``/pluto score`` form as a person goes through them (:func:`score_with_form`)."""

    checked: Any  # the ack of step 1 (the form turns into "Checking <name>…")
    form: dict[str, Any]  # the form once the file was checked: step 2, or the problem
    submitted: Any = None  # the ack of step 2 (None when the file was refused)

    @property
    def problem(self) -> str | None:
        """What the form said was wrong with the file (None when it passed)."""
        if self.form.get("callback_id") != SCORE_PROBLEM:
            return None
        return str((self.form["blocks"][0].get("text") or {}).get("text"))


def score_with_form(signer, file, *, jd="", top_n=None, user="U_ALICE", channel="C_GENERAL", then=None,
                    timeout=30.0) -> ScoreForm:
    """``/pluto score`` with ``file`` (a test bed file record): the CSV in step 1; once the bot has checked it,
    ``jd`` and ``top_n`` (None keeps the form's default) in step 2, submitted by ``then`` (another replica's
    signer, say) or ``signer``. A refused file stops after step 1 (see :attr:`ScoreForm.problem`)."""
    slack = signer.slack
    known = {v["id"] for v in slack.views(user=user)}
    assert signer.command("/pluto", "score", user=user, channel=channel).status_code == 200
    step1 = slack.wait_for(lambda: [v for v in slack.views(user=user) if v["id"] not in known
                                    and v.get("callback_id") == SCORE_MODAL and not v.get("closed")])[-1]
    checked = signer.view_submission(step1, {"file": {"file": signer.files([file])}}, user=user)
    assert checked.status_code == 200, checked

    def outcome():
        view = slack.view(step1["id"])
        return view if view and view.get("callback_id") in (SCORE_DETAILS, SCORE_PROBLEM) else None
    form = slack.wait_for(outcome, timeout=timeout)
    result = ScoreForm(checked, form)
    if result.problem is None:
        values: dict[str, Any] = {"jd": {"jd": signer.input_value(jd)}}
        if top_n is not None:
            values["top_n"] = {"top_n": {"type": "number_input", "value": str(top_n)}}
        result.submitted = (then or signer).view_submission(form, values, user=user)
    return result


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


def module_database(request: pytest.FixtureRequest, name: str) -> dict:
    """StackOptions keywords for a module-scoped stack parametrized over ``["sqlite", "postgresql"]``: a SQLite
    file of its own, or a fresh database on the session's PostgreSQL server (one per worker)."""
    if request.param == "postgresql":
        return {"database_url": request.getfixturevalue("pg_server").create_database(f"{name}{os.getpid()}")}
    return {"database_path": str(request.getfixturevalue("tmp_path_factory").mktemp(name) / "bot.db")}


def db_options(database: str) -> dict:
    """StackOptions keywords that put the bot's state in ``database`` (a SQLite path or a PostgreSQL URL)."""
    if database.startswith("postgresql:"):
        return {"database_url": database}
    return {"database_path": database}


@pytest.fixture(params=["http", "socket"])
def mode(request):
    """The bot's Slack transport for an end-to-end test: HTTP (signed POSTs) or Socket Mode."""
    return request.param
