"""Storage behind a small API, on SQLite (the embedded default) or PostgreSQL, through SQLAlchemy Core.

``Store("data/bot.db")`` opens (or creates) a SQLite file; ``Store("postgresql://user@host/db")``
uses PostgreSQL through psycopg 3. One code path serves both; the dialects differ only where
SQL does (upsert and insert-if-absent use each dialect's ``ON CONFLICT``).

SQLite: one connection shared by the Slack handler threads and the scheduler thread, guarded
by a re-entrant lock, so callers never see "database is locked" inside the process. WAL mode
and a busy timeout cover other processes (a second replica, the sandbox console, ``doctor``);
:meth:`Store.transaction` is ``BEGIN IMMEDIATE``.
PostgreSQL: a connection pool; :meth:`Store.transaction` also takes a transaction-scoped
advisory lock, so a read-then-write block is as serial across replicas as ``BEGIN IMMEDIATE``
makes it on SQLite.

Where clauses and :meth:`Store.execute` take ``?`` placeholders with a list of values (or
``:name`` with a dict), on both databases. Booleans are stored as 0/1 on both, and columns
named ``*_json`` hold JSON.

Schema changes are versioned migrations: one module per migration in
``services/migrations/`` named ``mNNN_description.py`` with ``def up(db)``, where ``db`` is a
:class:`Schema` (``db["table"].create({...}, pk=...)``, ``.add_column``, ``.create_index``,
``db.execute(sql)``). Numbers are unique; a migration renumbered later lists its old names in
``FORMERLY``, so a database that ran it under one of them does not run it again. They run in
name order at start-up and each runs once, in its own
transaction; a second replica starting at the same time waits on a lock (a PostgreSQL
advisory lock, a file lock beside the SQLite file) and then finds them applied. Number
ranges: 000-099 core, 100-199 Nimrobo, 200-299 Pluto client, 300-399 scoring, 400-499 voice
links, 500-599 interview watcher, 600-699 live interviews and personal keys, 700-799 screening
boards (the hiring loop), 860-869 running it as a service, 920-949 several workspaces, 960-964 Slack tokens
encrypted at rest.

Several workspaces (multi-workspace mode, services/workspaces.py): each workspace's records live in
a store of their own, named by its team id: a PostgreSQL schema ``ws_<team id>`` in the same
database, or a SQLite file beside the main one. :meth:`Store.enable_workspaces` switches routing on:
then every call made while :func:`in_workspace` names a workspace (the Bolt app sets it for each
request, the scheduler for each workspace's turn of a job) reads and writes that workspace's store,
so no query can reach another workspace's rows, whatever id it is given. Outside any workspace
(and always in single-workspace mode) calls reach the main store. :attr:`Store.shared` is the main
store whatever the context: the tables every workspace shares (``workspaces``, the installations,
the leader's heartbeat). A migration with ``GLOBAL = True`` runs only in the main store.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import hashlib
import importlib
import json
import logging
import pkgutil
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar, overload

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

from services import migrations as _migrations_pkg

_log = logging.getLogger(__name__)

#: advisory lock keys (any 64-bit numbers, fixed for this app)
MIGRATION_LOCK = 0x706C75746F01  # "pluto" 01
TRANSACTION_LOCK = 0x706C75746F02

_TYPES: dict[Any, Any] = {str: sa.Text, int: sa.BigInteger, float: sa.Float, bytes: sa.LargeBinary,
                          bool: sa.Integer, dict: sa.Text, list: sa.Text}


P = ParamSpec("P")
R = TypeVar("R")

#: the workspace whose store the calls in this context reach (None: the main store)
WORKSPACE: ContextVar[str | None] = ContextVar("pluto_workspace", default=None)
WORKSPACE_KEY = re.compile(r"[A-Z0-9]{2,40}")  # a Slack team or enterprise id (matched whole: fullmatch)


def now() -> float:
    return time.time()


def current_workspace() -> str | None:
    """The workspace this thread's calls serve (set by :func:`in_workspace`), or None."""
    return WORKSPACE.get()


@contextlib.contextmanager
def in_workspace(key: str | None) -> Iterator[None]:
    """Within the block, the store's calls reach workspace ``key``'s records (None: the main store)."""
    token = WORKSPACE.set(key or None)
    try:
        yield
    finally:
        WORKSPACE.reset(token)


def _routed(method: Callable[Concatenate[Store, P], R]) -> Callable[Concatenate[Store, P], R]:
    """A :class:`Store` method that runs on the current workspace's store when routing is on."""

    @functools.wraps(method)
    def call(self: Store, /, *args: P.args, **kwargs: P.kwargs) -> R:
        if self._routes:
            key = WORKSPACE.get()
            if key is not None:
                return method(self.workspace(key), *args, **kwargs)
        return method(self, *args, **kwargs)

    return call


def _lock_key(base: int, name: str) -> int:
    """An advisory lock key of its own for workspace ``name`` (a signed 63-bit number)."""
    return base ^ int.from_bytes(hashlib.sha256(name.encode()).digest()[:7], "big")


def is_postgres_url(target: str | Path) -> bool:
    return str(target).startswith(("postgresql:", "postgresql+", "postgres:"))


def engine_url(target: str | Path) -> str:
    """The SQLAlchemy URL for a SQLite path or a ``postgresql://`` URL (driven by psycopg 3)."""
    text = str(target)
    if is_postgres_url(text):
        scheme, rest = text.split(":", 1)
        return "postgresql+psycopg:" + rest if scheme in ("postgresql", "postgres") else text
    return "sqlite://" if text == ":memory:" else f"sqlite:///{text}"


def describe_target(target: str | Path) -> str:
    """``target`` for a log line or a doctor check: a PostgreSQL URL without its password."""
    if not is_postgres_url(target):
        return str(target)
    return sa.engine.make_url(engine_url(target)).render_as_string(hide_password=True)


def _migration_modules() -> list[tuple[str, Any]]:
    names = sorted(m.name for m in pkgutil.iter_modules(_migrations_pkg.__path__) if m.name.startswith("m"))
    return [(name, importlib.import_module(f"services.migrations.{name}")) for name in names]


class Store:
    """State in a SQLite file (``":memory:"`` for tests) or a PostgreSQL database (a URL)."""

    def __init__(self, target: str | Path, *, migrate: bool = True, workspace: str | None = None,
                 engine: Engine | None = None, pool_size: int = 8, max_overflow: int = 24,
                 encryption_key: str = "") -> None:
        self.target = str(target)
        #: ``ENCRYPTION_KEY`` for migrations that encrypt stored secrets (m960); "" defers them (:class:`Deferred`)
        self._encryption_key = encryption_key
        self.path = self.target  # the SQLite path (kept for callers of the SQLite-only store)
        self.is_postgres = is_postgres_url(self.target)
        #: the workspace whose store this is (None: the main store)
        self.workspace_key = workspace
        #: the PostgreSQL schema of a workspace's store (None: the main store's ``public``)
        self.schema = f"ws_{workspace.lower()}" if workspace and self.is_postgres else None
        self._routes = False  # the main store routes to workspaces' stores after enable_workspaces()
        self._children: dict[str, Store] = {}
        self._children_lock = threading.Lock()
        self._shared: Store | None = None
        self._library_engine: Engine | None = None
        self._local = threading.local()
        self._lock = threading.RLock() if not self.is_postgres else None
        self._transaction_lock = _lock_key(TRANSACTION_LOCK, self.schema) if self.schema else TRANSACTION_LOCK
        self._migration_lock_key = _lock_key(MIGRATION_LOCK, self.schema) if self.schema else MIGRATION_LOCK
        #: whether this store made its engine (and so disposes of it): a workspace's store on PostgreSQL borrows
        #: the main store's, so the connections a replica holds do not grow with the workspaces it serves
        self._owns_engine = engine is None
        if self.is_postgres:
            if engine is not None:  # a workspace's store: the main pool, its schema set on every transaction
                self.engine: Engine = engine.execution_options(pluto_schema=self.schema)
            else:
                self.engine = sa.create_engine(engine_url(self.target), pool_size=pool_size,
                                               max_overflow=max_overflow, pool_pre_ping=True, pool_recycle=1800)
                sa.event.listen(self.engine, "begin", _postgres_on_begin)
        else:
            if self.target != ":memory:":
                Path(self.target).parent.mkdir(parents=True, exist_ok=True)
            self.engine = sa.create_engine(engine_url(self.target), poolclass=StaticPool,
                                           connect_args={"check_same_thread": False, "timeout": 10})
            sa.event.listen(self.engine, "connect", _sqlite_on_connect)
            sa.event.listen(self.engine, "begin", _sqlite_on_begin)
        self.dialect = self.engine.dialect.name
        self._meta = sa.MetaData()
        self.applied: list[str] = self.migrate() if migrate else []

    # -- several workspaces ----------------------------------------------------
    def enable_workspaces(self) -> None:
        """Route every call made inside :func:`in_workspace` to that workspace's own store."""
        self._routes = True

    @property
    def shared(self) -> Store:
        """The main store, whatever workspace the caller serves (the tables every workspace shares)."""
        if not self._routes:
            return self
        if self._shared is None:
            view = copy.copy(self)
            view._routes = False
            self._shared = view
        return self._shared

    def engine_for_libraries(self) -> Engine:
        """An engine for a library that runs its own transactions on this database (slack_sdk's OAuth stores).
        PostgreSQL: the store's pool. SQLite: connections of its own to the same file, because the store's one
        shared connection is guarded by the store's lock, which such a library does not take (two threads
        would begin a transaction on one connection). In-memory: the store's engine (nothing else sees it)."""
        if self.is_postgres or self.target == ":memory:":
            return self.engine
        if self._library_engine is None:
            engine = sa.create_engine(engine_url(self.target), connect_args={"check_same_thread": False,
                                                                            "timeout": 10})
            sa.event.listen(engine, "connect", _sqlite_on_connect)
            sa.event.listen(engine, "begin", _sqlite_on_begin)
            self._library_engine = engine
        return self._library_engine

    def _workspace_target(self, key: str) -> str:
        if self.is_postgres or self.target == ":memory:":
            return self.target
        main = Path(self.target)
        return str(main.parent / f"{main.stem}.workspaces" / f"{key}.db")

    def workspace(self, key: str) -> Store:
        """Workspace ``key``'s own store (created and migrated on first use)."""
        child = self._children.get(key)
        if child is not None:
            return child
        if not WORKSPACE_KEY.fullmatch(key):
            raise ValueError(f"{key!r} is not a Slack team or enterprise id")
        with self._children_lock:
            child = self._children.get(key)
            if child is None:
                if self.is_postgres:
                    with self.engine.begin() as conn:
                        conn.exec_driver_sql(f'create schema if not exists "ws_{key.lower()}"')
                child = Store(self._workspace_target(key), workspace=key,
                              engine=self.engine if self.is_postgres else None)
                self._children[key] = child
        return child

    def drop_workspace(self, key: str) -> None:
        """Delete workspace ``key``'s store and every record in it (its schema, or its file)."""
        if not WORKSPACE_KEY.fullmatch(key):
            raise ValueError(f"{key!r} is not a Slack team or enterprise id")
        with self._children_lock:
            child = self._children.pop(key, None)
            if child is not None:
                child.close()
            if self.is_postgres:
                with self.engine.begin() as conn:
                    conn.exec_driver_sql(f'drop schema if exists "ws_{key.lower()}" cascade')
            elif self.target != ":memory:":
                target = self._workspace_target(key)
                for suffix in ("", "-wal", "-shm", ".migrate.lock"):
                    Path(target + suffix).unlink(missing_ok=True)

    @_routed
    def table_names(self) -> list[str]:
        """The tables of this store (inside :func:`in_workspace`, or on a workspace's own store: that
        workspace's tables)."""
        with self._hold():
            return sorted(t for t in sa.inspect(self.engine).get_table_names() if t != "schema_migrations")

    # -- lifecycle ---------------------------------------------------------
    def migrate(self) -> list[str]:
        """Run every migration not yet applied, once across replicas; return the names applied now."""
        applied_now = []
        with self._migration_lock():
            with self._begin() as conn:
                sa.Table("schema_migrations", sa.MetaData(), sa.Column("name", sa.Text, primary_key=True),
                         sa.Column("applied_at", sa.Float)).create(conn, checkfirst=True)
            with self._begin() as conn:
                done = {r[0] for r in conn.exec_driver_sql("select name from schema_migrations")}
            for name, module in _migration_modules():
                if name in done or (self.workspace_key and getattr(module, "GLOBAL", False)):
                    continue
                former = [old for old in getattr(module, "FORMERLY", ()) if old in done]
                if former:  # renumbered: it ran under its old name; record the new one too (the old row stays
                    with self._begin() as conn:  # for a replica still running the previous release)
                        conn.execute(sa.text("insert into schema_migrations (name, applied_at) "
                                             "select :n, applied_at from schema_migrations where name = :o"),
                                     {"n": name, "o": former[0]})
                    continue
                try:
                    with self._begin() as conn:
                        module.up(Schema(conn, encryption_key=self._encryption_key))
                        conn.execute(sa.text("insert into schema_migrations (name, applied_at) values (:n, :t)"),
                                     {"n": name, "t": now()})
                except Deferred as deferred:  # rolled back; it stays pending and runs at a later start
                    _log.warning("migration %s is not applied yet: %s", name, deferred)
                    continue
                applied_now.append(name)
        self._reflect()
        return applied_now

    @_routed
    def pending_migrations(self) -> list[str]:
        """Migrations this code has that the database has not applied yet (``GET /ready`` wants none)."""
        done = {r["name"] for r in self.execute("select name from schema_migrations")}
        return [name for name, module in _migration_modules() if name not in done
                and not (self.workspace_key and getattr(module, "GLOBAL", False))]

    @contextlib.contextmanager
    def _migration_lock(self) -> Iterator[None]:
        if self.is_postgres:
            with self.engine.connect() as conn:
                conn.execute(sa.text("select pg_advisory_lock(:k)"), {"k": self._migration_lock_key})
                conn.commit()
                try:
                    yield
                finally:
                    conn.execute(sa.text("select pg_advisory_unlock(:k)"), {"k": self._migration_lock_key})
                    conn.commit()
        elif self.target == ":memory:":
            with self._hold():
                yield
        else:
            with self._hold(), file_lock(self.target + ".migrate.lock"):
                yield

    def _reflect(self) -> None:
        meta = sa.MetaData()
        with self._hold():
            meta.reflect(self.engine)
        self._meta = meta

    @_routed
    def table(self, name: str) -> sa.Table | None:
        """The reflected table ``name`` (None when it does not exist)."""
        table = self._meta.tables.get(name)
        if table is None:  # created since start-up, e.g. by another replica's newer migration
            self._reflect()
            table = self._meta.tables.get(name)
        return table

    def _table(self, name: str) -> sa.Table:
        table = self.table(name)
        if table is None:
            raise KeyError(f"no table {name!r}")
        return table

    def close(self) -> None:
        with self._children_lock:
            children, self._children = list(self._children.values()), {}
        for child in children:
            child.close()
        if self._owns_engine:
            with self._hold():
                self.engine.dispose()
        if self._library_engine is not None:
            self._library_engine.dispose()

    # -- connections and transactions --------------------------------------
    @contextlib.contextmanager
    def _hold(self) -> Iterator[None]:
        if self._lock is None:
            yield
        else:
            with self._lock:
                yield

    @contextlib.contextmanager
    def _begin(self) -> Iterator[Connection]:
        """The thread's open transaction, or a new one committed at the end of the block."""
        current = getattr(self._local, "conn", None)
        if current is not None:
            yield current
            return
        with self._hold(), self.engine.begin() as conn:
            yield conn

    @_routed
    @contextlib.contextmanager
    def transaction(self) -> Iterator[Store]:
        """Run the block in one transaction (nested calls join the outer one). Writers are serial:
        ``BEGIN IMMEDIATE`` on SQLite, a transaction advisory lock on PostgreSQL."""
        if getattr(self._local, "conn", None) is not None:
            yield self
            return
        with self._hold(), self.engine.begin() as conn:
            if self.is_postgres:
                conn.execute(sa.text("select pg_advisory_xact_lock(:k)"), {"k": self._transaction_lock})
            self._local.conn = conn
            try:
                yield self
            finally:
                self._local.conn = None

    # -- rows --------------------------------------------------------------
    @_routed
    def insert(self, table: str, row: dict[str, Any], *, ignore: bool = False, replace: bool = False) -> dict[str, Any]:
        if ignore:
            self.insert_if_absent(table, row)
        elif replace:
            self.upsert(table, row, tuple(c.name for c in self._table(table).primary_key.columns))
        else:
            with self._begin() as conn:
                conn.execute(self._table(table).insert().values(**_encode(row)))
        return row

    def _dialect_insert(self, table: sa.Table) -> Any:
        if self.is_postgres:
            from sqlalchemy.dialects.postgresql import insert as postgres_insert

            return postgres_insert(table)
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)

    @_routed
    def upsert(self, table: str, row: dict[str, Any], pk: str | tuple[str, ...]) -> None:
        """Insert ``row``, or update the given columns of the row with the same ``pk``."""
        tbl = self._table(table)
        keys = (pk,) if isinstance(pk, str) else tuple(pk)
        values = _encode(row)
        stmt = self._dialect_insert(tbl).values(**values)
        changes = {k: stmt.excluded[k] for k in values if k not in keys}
        stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_=changes) if changes \
            else stmt.on_conflict_do_nothing(index_elements=list(keys))
        with self._begin() as conn:
            conn.execute(stmt)

    @_routed
    def upsert_many(self, table: str, rows: list[dict[str, Any]], pk: str | tuple[str, ...]) -> None:
        """:meth:`upsert` of many rows with the same columns: one statement, one commit."""
        if not rows:
            return
        tbl = self._table(table)
        keys = (pk,) if isinstance(pk, str) else tuple(pk)
        values = [_encode(row) for row in rows]
        stmt = self._dialect_insert(tbl)
        changes = {k: stmt.excluded[k] for k in values[0] if k not in keys}
        stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_=changes) if changes \
            else stmt.on_conflict_do_nothing(index_elements=list(keys))
        with self._begin() as conn:
            conn.execute(stmt, values)

    @_routed
    def insert_if_absent(self, table: str, row: dict[str, Any]) -> bool:
        """Insert ``row``; return False (and change nothing) when its primary key exists.

        One statement, so it is the claim primitive: of two replicas inserting the same key,
        exactly one gets True."""
        tbl = self._table(table)
        stmt = (self._dialect_insert(tbl).values(**_encode(row)).on_conflict_do_nothing()
                .returning(*tbl.primary_key.columns))
        with self._begin() as conn:
            return conn.execute(stmt).first() is not None

    def _pk_clause(self, tbl: sa.Table, pk: Any) -> Any:
        cols = list(tbl.primary_key.columns)
        values = pk if isinstance(pk, tuple | list) else (pk,)
        if len(values) != len(cols):
            raise ValueError(f"{tbl.name} has primary key {[c.name for c in cols]}, got {values!r}")
        return sa.and_(*[c == v for c, v in zip(cols, values, strict=True)])

    @_routed
    def update(self, table: str, pk: Any, values: dict[str, Any]) -> int:
        """Set ``values`` on the row with primary key ``pk``; the number of rows changed (0 or 1)."""
        tbl = self._table(table)
        with self._begin() as conn:
            return conn.execute(tbl.update().where(self._pk_clause(tbl, pk)).values(**_encode(values))).rowcount

    @_routed
    def update_where(self, table: str, values: dict[str, Any], where: str,
                     params: dict[str, Any] | list[Any] | None = None) -> int:
        """``update table set values where ...``: the number of rows changed (a compare-and-set)."""
        tbl = self._table(table)
        clause, binds = _bind(where, params)
        stmt = tbl.update().where(sa.text(clause).bindparams(**binds)).values(**_encode(values))
        with self._begin() as conn:
            return conn.execute(stmt).rowcount

    @_routed
    def get(self, table: str, pk: Any) -> dict[str, Any] | None:
        tbl = self.table(table)
        if tbl is None:
            return None
        with self._begin() as conn:
            row = conn.execute(sa.select(tbl).where(self._pk_clause(tbl, pk))).mappings().first()
        return _decode(dict(row)) if row is not None else None

    @_routed
    def rows(
        self,
        table: str,
        where: str | None = None,
        params: dict[str, Any] | list[Any] | None = None,
        order_by: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        tbl = self.table(table)
        if tbl is None:
            return []
        stmt = sa.select(tbl)
        if where:
            clause, binds = _bind(where, params)
            stmt = stmt.where(sa.text(clause).bindparams(**binds))
        if order_by:
            stmt = stmt.order_by(sa.text(order_by))
        if limit is not None:
            stmt = stmt.limit(limit)
        with self._begin() as conn:
            return [_decode(dict(r)) for r in conn.execute(stmt).mappings()]

    @_routed
    def count(self, table: str, where: str | None = None, params: dict[str, Any] | list[Any] | None = None) -> int:
        tbl = self.table(table)
        if tbl is None:
            return 0
        stmt = sa.select(sa.func.count()).select_from(tbl)
        if where:
            clause, binds = _bind(where, params)
            stmt = stmt.where(sa.text(clause).bindparams(**binds))
        with self._begin() as conn:
            return int(conn.execute(stmt).scalar_one())

    @_routed
    def delete(self, table: str, pk: Any) -> None:
        tbl = self._table(table)
        with self._begin() as conn:
            conn.execute(tbl.delete().where(self._pk_clause(tbl, pk)))

    @_routed
    def execute(self, sql: str, params: dict[str, Any] | list[Any] | tuple = ()) -> list[dict[str, Any]]:
        """Run one SQL statement (``?`` or ``:name`` placeholders); rows as dicts (empty for writes)."""
        clause, binds = _bind(sql, params)
        with self._begin() as conn:
            result = conn.execute(sa.text(clause), binds)
            if not result.returns_rows:
                return []
            return [dict(r) for r in result.mappings()]

    @_routed
    def checkpoint(self) -> bool:
        """SQLite: copy the WAL into the database file and truncate it to zero bytes, so data deleted
        since (overwritten in the file by ``secure_delete``) survives in neither file. Outside any
        transaction; False when a reader elsewhere kept it from finishing. PostgreSQL: nothing to do."""
        if self.is_postgres or self.target == ":memory:" or getattr(self._local, "conn", None) is not None:
            return False
        with self._hold():
            raw = self.engine.raw_connection()
            try:
                row = raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            finally:
                raw.close()
        return bool(row) and row[0] == 0

    # -- small key/value settings -----------------------------------------
    @_routed
    def kv_get(self, key: str, default: Any = None) -> Any:
        row = self.get("kv", key)
        return json.loads(row["value"]) if row else default

    @_routed
    def kv_set(self, key: str, value: Any) -> None:
        self.upsert("kv", {"key": key, "value": json.dumps(value)}, pk="key")

    # -- files kept as evidence -----------------------------------------
    @_routed
    def save_file(self, file_id: str, name: str, content: bytes, source: str = "") -> None:
        self.upsert(
            "files",
            {"id": file_id, "name": name, "size": len(content), "sha256": hashlib.sha256(content).hexdigest(),
             "content": content, "source": source, "created_at": now()},
            pk="id",
        )

    @_routed
    def load_file(self, file_id: str) -> dict[str, Any] | None:
        row = self.get("files", file_id)
        if row is not None and isinstance(row.get("content"), memoryview):
            row["content"] = bytes(row["content"])
        return row


# -- schema for migrations ------------------------------------------------------------------
class Deferred(Exception):  # noqa: N818 - a migration's way to say "not now", not a failure
    """Raised by a migration's ``up`` that can't run yet (it needs ``ENCRYPTION_KEY`` and the store was opened
    without it): its transaction is rolled back and it stays pending (``GET /ready`` says so) until a start
    that has what it needs."""


class Schema:
    """What a migration's ``up(db)`` gets: ``db["t"].create(...)``, ``.add_column``, ``.create_index``,
    ``.exists()``, ``.drop()``, the data moves ``.rows`` / ``.rows_where`` / ``.update``, and
    ``db.execute(sql)``, on either database (inside the migration's transaction); ``db.encryption_key``
    (``ENCRYPTION_KEY``, "" when the store was opened without it) for one that encrypts stored secrets."""

    def __init__(self, conn: Connection, *, encryption_key: str = "") -> None:
        self.conn = conn
        self.encryption_key = encryption_key

    @property
    def dialect(self) -> str:
        return self.conn.dialect.name

    def __getitem__(self, name: str) -> TableSchema:
        return TableSchema(self, name)

    def execute(self, sql: str, params: dict[str, Any] | list[Any] | tuple = ()) -> None:
        clause, binds = _bind(sql, params)
        self.conn.execute(sa.text(clause), binds)

    def table_names(self) -> list[str]:
        return sa.inspect(self.conn).get_table_names()


class TableSchema:
    def __init__(self, schema: Schema, name: str) -> None:
        self.schema = schema
        self.name = name

    def exists(self) -> bool:
        return sa.inspect(self.schema.conn).has_table(self.name)

    def create(self, columns: dict[str, Any], pk: str | tuple[str, ...] | None = None) -> None:
        keys = (pk,) if isinstance(pk, str) else tuple(pk or ())
        cols = [sa.Column(col, _TYPES.get(kind, sa.Text), primary_key=col in keys, nullable=col not in keys)
                for col, kind in columns.items()]
        sa.Table(self.name, sa.MetaData(), *cols).create(self.schema.conn)

    def add_column(self, name: str, kind: Any = str) -> None:
        col_type = _TYPES.get(kind, sa.Text)().compile(dialect=self.schema.conn.dialect)
        self.schema.conn.exec_driver_sql(f'ALTER TABLE "{self.name}" ADD COLUMN "{name}" {col_type}')

    def create_index(self, columns: list[str], *, unique: bool = False, index_name: str | None = None) -> None:
        name = index_name or f"idx_{self.name}_{'_'.join(columns)}"
        table = sa.Table(self.name, sa.MetaData(), autoload_with=self.schema.conn)
        sa.Index(name, *[table.c[c] for c in columns], unique=unique).create(self.schema.conn)

    def drop(self) -> None:
        sa.Table(self.name, sa.MetaData(), autoload_with=self.schema.conn).drop(self.schema.conn)

    def rows_where(self, where: str | None = None, params: list[Any] | tuple = (),
                   order_by: str | None = None) -> list[dict[str, Any]]:
        sql = f'SELECT * FROM "{self.name}"' + (f" WHERE {where}" if where else "") + \
            (f" ORDER BY {order_by}" if order_by else "")
        clause, binds = _bind(sql, params)
        return [dict(row._mapping) for row in self.schema.conn.execute(sa.text(clause), binds)]

    @property
    def rows(self) -> list[dict[str, Any]]:
        return self.rows_where()

    def update(self, pk: Any, values: dict[str, Any]) -> None:
        table = sa.Table(self.name, sa.MetaData(), autoload_with=self.schema.conn)
        keys = [c for c in table.primary_key.columns]
        pks = pk if isinstance(pk, tuple | list) else (pk,)
        clause = sa.and_(*[col == value for col, value in zip(keys, pks, strict=True)])
        self.schema.conn.execute(table.update().where(clause).values(**values))


# -- SQLite connection set-up -------------------------------------------------------------
def _postgres_on_begin(conn: Connection) -> None:
    """A workspace's store (PostgreSQL): its transaction sees that workspace's schema and no other. ``SET LOCAL``
    lasts until the transaction ends, so the pooled connection goes back with the default search path; the
    main store's transactions (no schema) leave it as it is."""
    schema = conn.get_execution_options().get("pluto_schema")
    if schema:
        conn.exec_driver_sql(f'SET LOCAL search_path TO "{schema}"')


def _sqlite_on_connect(dbapi_conn: Any, record: Any) -> None:
    dbapi_conn.isolation_level = None  # let SQLAlchemy's "begin" event emit BEGIN IMMEDIATE
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA busy_timeout = 10000")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")  # answers "memory" for an in-memory database
    cursor.execute("PRAGMA secure_delete = ON")  # deleted candidate data is overwritten, not left in free pages
    cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


@contextlib.contextmanager
def file_lock(path: str | Path, *, blocking: bool = True) -> Iterator[bool]:
    """An exclusive ``flock`` on ``path`` for the block; yields False when ``blocking`` is off and
    another holder has it. (Without ``fcntl`` (Windows), one process is assumed.)"""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on Linux/macOS
        yield True
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# -- placeholders and encoding -------------------------------------------------------------
_PLACEHOLDER = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\?")


def _bind(sql: str, params: dict[str, Any] | list[Any] | tuple | None) -> tuple[str, dict[str, Any]]:
    """``?`` placeholders with a list of values -> ``:p0, :p1...`` with a dict (quoted text left alone)."""
    if params is None:
        return sql, {}
    if isinstance(params, dict):
        return sql, dict(params)
    values = list(params)
    counter = iter(range(len(values) + 1))

    def swap(match: re.Match[str]) -> str:
        return f":p{next(counter)}" if match.group(0) == "?" else match.group(0)

    clause = _PLACEHOLDER.sub(swap, sql)
    return clause, {f"p{i}": _plain(v) for i, v in enumerate(values)}


def _plain(value: Any) -> Any:
    return int(value) if isinstance(value, bool) else value


_JSON_SUFFIX = "_json"


def _encode(row: dict[str, Any]) -> dict[str, Any]:
    """Columns named ``*_json`` hold JSON; booleans are 0/1; everything else is stored as given."""
    out = {}
    for k, v in row.items():
        if k.endswith(_JSON_SUFFIX) and not isinstance(v, str | type(None)):
            v = json.dumps(v)
        out[k] = _plain(v)
    return out


@overload
def _decode(row: dict[str, Any]) -> dict[str, Any]: ...


@overload
def _decode(row: None) -> None: ...


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
