"""SQLite storage behind a small API, on top of sqlite-utils.

One connection, shared by the Slack handler threads and the scheduler thread, guarded
by a re-entrant lock, so callers never see "database is locked" inside the process.
WAL mode and a busy timeout cover other processes (the sandbox console, ``doctor``).

Schema changes are versioned migrations: one module per migration in
``services/migrations/`` named ``mNNN_description.py`` with ``def up(db)``. They run
in name order at start-up and each runs once. Number ranges: 000-099 core,
100-199 Nimrobo, 200-299 Pluto client, 300-399 scoring, 400-499 voice links,
500-599 interview watcher,
600-699 live interviews.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from services import migrations as _migrations_pkg


def now() -> float:
    return time.time()


def _migration_modules() -> list[tuple[str, Any]]:
    names = sorted(m.name for m in pkgutil.iter_modules(_migrations_pkg.__path__) if m.name.startswith("m"))
    return [(name, importlib.import_module(f"services.migrations.{name}")) for name in names]


class Store:
    """A SQLite database at ``path`` (``":memory:"`` for tests)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, check_same_thread=False, timeout=10, isolation_level=None)
        self._lock = threading.RLock()
        self.db = sqlite_utils.Database(conn)
        with self._lock:
            conn.execute("PRAGMA busy_timeout = 10000")
            if self.path != ":memory:":
                self.db.enable_wal()
            conn.execute("PRAGMA foreign_keys = ON")
        self.applied: list[str] = self.migrate()

    # -- lifecycle ---------------------------------------------------------
    def migrate(self) -> list[str]:
        """Run every migration not yet applied; return the names applied now."""
        applied_now = []
        with self._lock:
            table = self.db["schema_migrations"]
            if not table.exists():
                table.create({"name": str, "applied_at": float}, pk="name")
            done = {row["name"] for row in table.rows}
            for name, module in _migration_modules():
                if name in done:
                    continue
                with self.transaction():
                    module.up(self.db)
                    table.insert({"name": name, "applied_at": now()})
                applied_now.append(name)
        return applied_now

    def close(self) -> None:
        with self._lock:
            self.db.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite_utils.Database]:
        """Hold the lock and run the block in one transaction (nested calls join the outer one)."""
        with self._lock:
            conn = self.db.conn
            if conn.in_transaction:
                yield self.db
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    # -- rows --------------------------------------------------------------
    def insert(self, table: str, row: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        with self._lock:
            tbl = self.db[table]
            tbl.insert(_encode(row), **kwargs)
            return row

    def upsert(self, table: str, row: dict[str, Any], pk: str | tuple[str, ...]) -> None:
        with self._lock:
            self.db[table].upsert(_encode(row), pk=pk)

    def insert_if_absent(self, table: str, row: dict[str, Any]) -> bool:
        """Insert ``row``; return False (and change nothing) when its primary key exists."""
        with self._lock:
            before = self.db.conn.total_changes
            self.db[table].insert(_encode(row), ignore=True)
            return self.db.conn.total_changes > before

    def update(self, table: str, pk: Any, values: dict[str, Any]) -> None:
        with self._lock:
            self.db[table].update(pk, _encode(values))

    def get(self, table: str, pk: Any) -> dict[str, Any] | None:
        with self._lock:
            try:
                return _decode(self.db[table].get(pk))
            except sqlite_utils.db.NotFoundError:
                return None

    def rows(
        self,
        table: str,
        where: str | None = None,
        params: dict[str, Any] | list[Any] | None = None,
        order_by: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        with self._lock:
            if not self.db[table].exists():
                return []
            return [
                _decode(r)
                for r in self.db[table].rows_where(where, params or [], order_by=order_by, limit=limit)
            ]

    def count(self, table: str, where: str | None = None, params: dict[str, Any] | list[Any] | None = None) -> int:
        with self._lock:
            return self.db[table].count_where(where, params or []) if where else self.db[table].count

    def delete(self, table: str, pk: Any) -> None:
        with self._lock:
            try:
                self.db[table].delete(pk)
            except sqlite_utils.db.NotFoundError:
                pass

    def execute(self, sql: str, params: dict[str, Any] | list[Any] | tuple = ()) -> list[dict[str, Any]]:
        with self._lock:
            cursor = self.db.execute(sql, params)
            if cursor.description is None:
                return []
            cols = [c[0] for c in cursor.description]
            return [dict(zip(cols, r, strict=True)) for r in cursor.fetchall()]

    # -- small key/value settings -----------------------------------------
    def kv_get(self, key: str, default: Any = None) -> Any:
        row = self.get("kv", key)
        return json.loads(row["value"]) if row else default

    def kv_set(self, key: str, value: Any) -> None:
        self.upsert("kv", {"key": key, "value": json.dumps(value)}, pk="key")

    # -- files kept as evidence -----------------------------------------
    def save_file(self, file_id: str, name: str, content: bytes, source: str = "") -> None:
        import hashlib

        self.upsert(
            "files",
            {"id": file_id, "name": name, "size": len(content), "sha256": hashlib.sha256(content).hexdigest(),
             "content": content, "source": source, "created_at": now()},
            pk="id",
        )

    def load_file(self, file_id: str) -> dict[str, Any] | None:
        return self.get("files", file_id)


_JSON_SUFFIX = "_json"


def _encode(row: dict[str, Any]) -> dict[str, Any]:
    """Columns named ``*_json`` hold JSON; everything else is stored as given."""
    return {k: (json.dumps(v) if k.endswith(_JSON_SUFFIX) and not isinstance(v, str | type(None)) else v)
            for k, v in row.items()}


def _decode(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    out = dict(row)
    for k, v in row.items():
        if k.endswith(_JSON_SUFFIX) and isinstance(v, str):
            try:
                out[k] = json.loads(v)
            except ValueError:
                pass
    return out
