"""A throwaway PostgreSQL cluster in a temp folder, for tests and benchmarks.

Uses Debian's ``postgresql`` package: ``initdb``, ``pg_ctl`` and ``postgres`` live in the
folder ``pg_config --bindir`` names (often not on PATH). ``initdb`` refuses to run as root,
so as root the cluster is created and run as an unprivileged system user (``postgres``
when the package created it) through ``runuser``. It listens on 127.0.0.1 and a Unix socket
in its own folder, trusts local connections, and is deleted on :meth:`TempPostgres.stop`.

    with TempPostgres() as pg:
        url = pg.create_database("t1")   # postgresql://postgres@127.0.0.1:PORT/t1
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import sqlalchemy as sa

INSTALL_HINT = "install Debian's postgresql package (apt-get install postgresql)"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries here, or the cluster could not start (the message says why)."""


def bindir() -> Path | None:
    """The folder with initdb/pg_ctl, or None when PostgreSQL is not installed."""
    found = shutil.which("pg_config")
    if found:
        try:
            out = subprocess.run([found, "--bindir"], capture_output=True, text=True, timeout=10).stdout.strip()
            # pg_config from libpq-dev alone names /usr/bin, which has no initdb
            if out and (Path(out) / "initdb").exists():
                return Path(out)
        except (OSError, subprocess.SubprocessError):
            pass
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _service_user() -> str:
    """The unprivileged user to run the server as when we are root."""
    import pwd

    for name in ("postgres", "pluto-pg"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "pluto-pg"],
                   check=True, capture_output=True)
    return "pluto-pg"


class TempPostgres:
    def __init__(self, user: str = "postgres") -> None:
        self.bin = bindir()
        if self.bin is None:
            raise PostgresUnavailable(f"PostgreSQL is not installed; {INSTALL_HINT}")
        self.db_user = user
        self.port = _free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="pluto-pg-"))
        self.data = self.dir / "data"
        self.run_as = _service_user() if os.geteuid() == 0 else None
        self._engine: sa.Engine | None = None

    def _cmd(self, *args: str) -> list[str]:
        return (["runuser", "-u", self.run_as, "--"] if self.run_as else []) + list(args)

    def _run(self, *args: str, timeout: float = 120) -> None:
        done = subprocess.run(self._cmd(*args), capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise PostgresUnavailable(f"{Path(args[0]).name} failed: {(done.stderr or done.stdout).strip()[-800:]}")

    def start(self) -> TempPostgres:
        if self.run_as:
            shutil.chown(self.dir, self.run_as)
        os.chmod(self.dir, 0o700)
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", self.db_user, "--auth=trust",
                  "--encoding=UTF8", "--no-sync", "--no-instructions")
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.dir / "log"),
                  "-w", "-t", "60", "start")
        self._engine = sa.create_engine(self.url("postgres").replace("postgresql:", "postgresql+psycopg:", 1),
                                        isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        return self

    def url(self, database: str) -> str:
        return f"postgresql://{self.db_user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new empty database; its URL."""
        assert self._engine is not None, "start() first"
        with self._engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        if self.data.exists():
            subprocess.run(self._cmd(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w",
                                     "stop"), capture_output=True, timeout=60)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> TempPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
