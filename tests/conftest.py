"""Shared fixtures: a throwaway PostgreSQL cluster, and ``database`` to run a test on SQLite and PostgreSQL.

PostgreSQL comes from Debian's ``postgresql`` package, which ``python3 dev.py test`` (and so CI)
installs when it is missing. Without it the PostgreSQL variants skip with the reason, except
in CI (``CI=true``), where a missing server is a failure: CI must really run them.
"""

from __future__ import annotations

import itertools
import os

import pytest

from sandbox.postgres import PostgresUnavailable, TempPostgres

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
