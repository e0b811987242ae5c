"""Connections per workspace (issue 29): on PostgreSQL every workspace's store (its own schema) runs on the main
store's one pool, so a replica's connections stay bounded however many workspaces it serves, and each
transaction still sees its own workspace's schema and no other.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from services.outbox import TABLE as OUTBOX
from services.outbox import Outbox
from services.store import Store, in_workspace

POOL, OVERFLOW = 2, 2  # the main store's pool, small here (8 kept, 24 more under load, by default)
WORKSPACES = 8  # more than the pool's bound: one pool (or one idle connection) per workspace would show


def connections(store: Store) -> int:
    """This database's backend connections other than the one asking (pg_stat_activity)."""
    rows = store.shared.execute("select count(*) as n from pg_stat_activity where datname = current_database() "
                                "and pid <> pg_backend_pid()")
    return int(rows[0]["n"])


@pytest.fixture()
def pg_store(pg_url):
    store = Store(pg_url, pool_size=POOL, max_overflow=OVERFLOW)
    store.enable_workspaces()
    yield store
    store.close()


def test_many_workspaces_on_postgresql_share_one_bounded_pool_and_stay_apart(pg_store):
    keys = [f"T0CONN{i:02d}" for i in range(WORKSPACES)]
    for key in keys:
        pg_store.workspace(key)  # created and migrated
    peak = [0]
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], connections(pg_store))
            time.sleep(0.02)

    outbox = Outbox(pg_store)  # as the bot's: on the routing store, so each call reaches the workspace served

    def work(key: str) -> None:  # each workspace's turn of the outbox sender and of a job: poll, read, write
        with in_workspace(key):
            for _ in range(3):
                outbox.due_channels()
                outbox.to_settle(epoch=1, grace=30, timeout=60)
                with pg_store.transaction():
                    pg_store.kv_set("owner", key)
                    pg_store.kv_get("owner")
            outbox.enqueue(f"{key}-post", "C_GENERAL", "post", {"text": key})

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with ThreadPoolExecutor(max_workers=6) as pool:
            list(pool.map(work, keys * 2))
    finally:
        stop.set()
        watcher.join()
    assert 0 < peak[0] <= POOL + OVERFLOW, peak[0]  # the pool's bound, not one pool per workspace
    for key in keys:  # each workspace read back its own rows: the schema of its transaction was its own
        with in_workspace(key):
            assert pg_store.kv_get("owner") == key
            assert [r["key"] for r in pg_store.rows(OUTBOX)] == [f"{key}-post"]
    assert pg_store.shared.kv_get("owner") is None  # nothing leaked into the main store's schema
    # a connection handed back to the pool has the default search path again
    assert "ws_" not in pg_store.shared.execute("show search_path")[0]["search_path"]
