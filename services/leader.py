"""One leader among the replicas: the one that runs the scheduled jobs.

Every replica serves Slack requests; only the leader runs the watcher, the voice-card refresh
and the scoring queue. Leadership is a lock that the database server (or the kernel) drops by
itself when its holder dies, so no lease has to expire:

* PostgreSQL: a session advisory lock (``pg_try_advisory_lock``) held on a connection kept
  open for the purpose. A killed replica's connection closes and the lock goes with it.
* SQLite: an exclusive ``flock`` on ``<database>.leader.lock``; the kernel drops it when the
  process dies.

Followers call :meth:`Leadership.check` every poll interval, so one of them takes over within
one interval of the leader's death (the issue asks for two). The leader's ``check`` also proves
its lock is still held (PostgreSQL: the lock connection still answers), and steps down if not.

The lock carries an **epoch**: a number in the store that grows at every takeover
(:meth:`Leadership.epoch`). The outbox records the epoch each claim was taken under, so a new
leader knows at once which claims belonged to a leader that is gone (services/outbox.py).
With ``LEADER_ELECTION=false`` every replica runs the jobs (:class:`Unelected`) and there are
no epochs: claims are then settled by the claim timeout only.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from typing import Any

import sqlalchemy as sa

from services.store import Store

log = logging.getLogger(__name__)

LEADER_LOCK = 0x706C75746F10  # the advisory lock key ("pluto" 10)
EPOCH_KEY = "leader:epoch"


def replica_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Leadership:
    """Base: always the leader (one process on an in-memory database)."""

    def __init__(self, store: Store | None = None) -> None:
        self.is_leader = False
        self.changes = 0  # how many times this replica became leader
        self.store = store
        self._epoch: int | None = None
        self._lock = threading.Lock()

    @property
    def epoch(self) -> int | None:
        """The epoch of this replica's leadership (None while it does not lead, or without elections)."""
        return self._epoch if self.is_leader else None

    def _take_epoch(self) -> int:
        """One more than any leader before: a takeover is a new epoch."""
        if self.store is None:
            return 1
        with self.store.transaction():
            epoch = int(self.store.kv_get(EPOCH_KEY, 0)) + 1
            self.store.kv_set(EPOCH_KEY, epoch)
        return epoch

    def check(self) -> bool:
        """Become (or stay) the leader if possible; True while this replica leads."""
        with self._lock:
            was = self.is_leader
            self.is_leader = self._hold() if was else self._acquire()
            if self.is_leader and not was:
                try:
                    self._epoch = self._take_epoch()
                except Exception:  # no epoch, no leadership: the next check tries again
                    log.exception("leader election: could not take a new epoch")
                    self.is_leader = False
                    self._release()
                    return False
                self.changes += 1
                log.info("this replica (%s) now runs the scheduled jobs (leader epoch %s)", replica_id(),
                         self._epoch)
            elif was and not self.is_leader:
                log.warning("this replica (%s) lost the leadership; its jobs stop", replica_id())
            return self.is_leader

    def release(self) -> None:
        with self._lock:
            if self.is_leader:
                log.info("this replica (%s) hands the leadership over", replica_id())
            self.is_leader = False
            self._release()

    def _acquire(self) -> bool:
        return True

    def _hold(self) -> bool:
        return True

    def _release(self) -> None:
        pass


class Unelected(Leadership):
    """Leader election switched off (``LEADER_ELECTION=false``): every replica runs the jobs, no epochs."""

    @property
    def epoch(self) -> int | None:
        return None

    def _take_epoch(self) -> int:
        return 0


class PostgresLeadership(Leadership):
    def __init__(self, store: Store) -> None:
        super().__init__(store)
        # A connection of its own (not from the store's pool), open for as long as we lead.
        self.engine = sa.create_engine(store.engine.url, poolclass=sa.pool.NullPool,
                                       connect_args={"connect_timeout": 5})
        self.conn: Any = None

    def _acquire(self) -> bool:
        try:
            if self.conn is None:
                self.conn = self.engine.connect()
                self.conn.execution_options(isolation_level="AUTOCOMMIT")
            got = bool(self.conn.execute(sa.text("select pg_try_advisory_lock(:k)"), {"k": LEADER_LOCK}).scalar())
        except sa.exc.SQLAlchemyError as exc:
            log.warning("leader election: database unreachable (%s)", type(exc).__name__)
            self._close()
            return False
        return got

    def _hold(self) -> bool:
        try:
            # The lock is ours as long as this session lives; prove the session still does.
            self.conn.execute(sa.text("select 1"))
        except sa.exc.SQLAlchemyError:
            self._close()
            return False
        return True

    def _release(self) -> None:
        if self.conn is not None:
            try:
                self.conn.execute(sa.text("select pg_advisory_unlock(:k)"), {"k": LEADER_LOCK})
            except sa.exc.SQLAlchemyError:
                pass
        self._close()

    def _close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except sa.exc.SQLAlchemyError:
                pass
            self.conn = None


class FileLeadership(Leadership):
    def __init__(self, path: str, store: Store | None = None) -> None:
        super().__init__(store)
        self.path = path
        self.handle: Any = None

    def _acquire(self) -> bool:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: one process assumed
            return True
        handle = open(self.path, "a+")  # noqa: SIM115 - held open for as long as we lead
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self.handle = handle
        return True

    def _release(self) -> None:
        if self.handle is not None:
            self.handle.close()  # closing drops the flock
            self.handle = None


def leadership_for(store: Store, *, election: bool = True) -> Leadership:
    if not election:
        return Unelected()
    if store.is_postgres:
        return PostgresLeadership(store)
    if store.target == ":memory:":
        return Leadership(store)
    return FileLeadership(store.target + ".leader.lock", store)
