"""The store on SQLite and on PostgreSQL: one API, migrations once, claims that only one caller wins."""

import sqlite3
import threading

import pytest

from services.store import Store


def test_folder_created_wal_on_and_migrations_run_once(tmp_path):
    path = tmp_path / "nested" / "dir" / "bot.db"
    store = Store(path)
    assert path.exists()
    assert store.execute("PRAGMA journal_mode")[0]["journal_mode"] == "wal"
    assert "m000_core" in store.applied
    store.kv_set("greeting", {"hello": "world"})
    store.close()

    again = Store(path)
    assert again.applied == []  # nothing re-applied
    assert again.kv_get("greeting") == {"hello": "world"}
    again.close()


def test_migrations_run_once_and_state_survives_a_reopen(database):
    store = Store(database)
    assert "m000_core" in store.applied and "m500_watcher" in store.applied
    store.kv_set("greeting", {"hello": "world"})
    store.close()
    again = Store(database)
    assert again.applied == []
    assert again.kv_get("greeting") == {"hello": "world"}
    assert again.count("schema_migrations") == len(store.applied)
    again.close()


def test_two_replicas_starting_at_once_apply_each_migration_once(database):
    stores, errors = [], []
    barrier = threading.Barrier(4)

    def start():
        try:
            barrier.wait()
            stores.append(Store(database))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    applied = [s.applied for s in stores]
    assert sum(1 for a in applied if a) == 1  # exactly one replica ran them
    assert stores[0].count("schema_migrations") == len(max(applied, key=len))
    for s in stores:
        s.close()


def test_threads_and_a_second_connection_do_not_lock(tmp_path):
    store = Store(tmp_path / "bot.db")
    errors = []

    def writer(n):
        try:
            for i in range(200):
                store.kv_set(f"k{n}-{i}", i)
                with store.transaction():
                    store.kv_set(f"t{n}-{i}", i)
        except Exception as exc:  # pragma: no cover - the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    # Another process-like connection reads while the writers run.
    other = sqlite3.connect(tmp_path / "bot.db", timeout=10)
    for _ in range(50):
        other.execute("select count(*) from kv").fetchone()
    for t in threads:
        t.join()
    other.close()
    assert errors == []
    assert store.count("kv") == 6 * 200 * 2


def test_transactions_from_two_stores_are_serial(database):
    """A read-then-write block (the queue's next seq) never interleaves, even across replicas."""
    a, b = Store(database), Store(database)
    a.kv_set("counter", 0)
    errors = []

    def bump(store):
        try:
            for _ in range(30):
                with store.transaction():
                    value = store.kv_get("counter")
                    store.kv_set("counter", value + 1)
        except Exception as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=bump, args=(s,)) for s in (a, b, a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert a.kv_get("counter") == 120
    a.close()
    b.close()


def test_transaction_rolls_back_on_error(database):
    store = Store(database)
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.kv_set("a", 1)
            raise RuntimeError("boom")
    assert store.kv_get("a") is None
    store.close()


def test_api_on_both_databases(database):
    store = Store(database)
    assert store.insert_if_absent("slack_events_seen", {"event_id": "Ev1", "seen_at": 1.0})
    assert not store.insert_if_absent("slack_events_seen", {"event_id": "Ev1", "seen_at": 2.0})
    assert store.get("slack_events_seen", "Ev1")["seen_at"] == 1.0
    # compound keys, upsert keeping other columns, update, delete
    row = {"session_id": "s1", "channel": "C1", "state": "claimed", "message_ts": None, "claimed_at": 1.0,
           "posted_at": None}
    store.insert("session_notifications", row)
    store.upsert("session_notifications", {"session_id": "s1", "channel": "C1", "state": "posted"},
                 pk=("session_id", "channel"))
    got = store.get("session_notifications", ("s1", "C1"))
    assert got["state"] == "posted" and got["claimed_at"] == 1.0
    store.upsert_many("session_notifications", [{"session_id": s, "channel": "C1", "state": "sent"}
                                                for s in ("s1", "s3")], pk=("session_id", "channel"))
    assert [(r["session_id"], r["state"], r["claimed_at"]) for r in store.rows("session_notifications",
                                                                               order_by="session_id")] \
        == [("s1", "sent", 1.0), ("s3", "sent", None)]  # one updated (other columns kept), one inserted
    store.upsert("session_notifications", {"session_id": "s1", "channel": "C1", "state": "posted"},
                 pk=("session_id", "channel"))
    store.delete("session_notifications", ("s3", "C1"))
    assert store.update("session_notifications", ("s1", "C1"), {"message_ts": "1.2"}) == 1
    assert store.update("session_notifications", ("s2", "C1"), {"message_ts": "1.2"}) == 0
    assert store.update_where("session_notifications", {"state": "x"}, "state = ? and channel = ?",
                              ["posted", "C1"]) == 1
    assert store.update_where("session_notifications", {"state": "y"}, "state = ?", ["posted"]) == 0
    # ? placeholders, quoted text with a question mark, ordering, limits, counts
    for i in range(5):
        store.kv_set(f"k{i}", {"i": i, "q": "what?"})
    assert [r["key"] for r in store.rows("kv", "key like ? and value != '?'", ["k%"], order_by="key desc",
                                         limit=2)] == ["k4", "k3"]
    assert store.count("kv", "key in (?, ?)", ["k1", "k2"]) == 2
    assert store.execute("select max(key) as m from kv where key < ?", ["k3"])[0]["m"] == "k2"
    assert store.rows("no_such_table") == [] and store.get("no_such_table", "x") is None
    # JSON columns, booleans stored as 0/1 (so "ok = 0" works on both), bytes
    store.insert("intakes", {"id": "i1", "ok": False, "report_json": {"rows": 3}, "created_at": 1.5})
    [intake] = store.rows("intakes", "ok = 0")
    assert intake["report_json"] == {"rows": 3}
    store.save_file("F1", "a.csv", b"a,b\n\x00\xff")
    assert store.load_file("F1")["content"] == b"a,b\n\x00\xff"
    store.delete("kv", "k1")
    assert store.kv_get("k1") is None
    store.close()


def test_fanned_out_calls_reach_the_workspace_their_caller_serves(tmp_path):
    """The jobs fan API calls out over threads (services/concurrency.py); each call must still read and
    write the workspace its job turn serves, never the main store."""
    from services.concurrency import bounded_map
    from services.store import in_workspace

    store = Store(tmp_path / "bot.db")
    store.enable_workspaces()
    with in_workspace("T0BETA"):
        bounded_map(lambda i: store.kv_set(f"k{i}", i), range(6), workers=3)
        assert [store.kv_get(f"k{i}") for i in range(6)] == list(range(6))
    assert store.kv_get("k0") is None  # nothing landed in the main store
    store.close()


@pytest.mark.parametrize("key", ["T0BETA\n", "t0beta", "T0/../X", "T"])
def test_a_workspace_key_that_is_not_a_whole_team_id_names_no_store(tmp_path, key):
    """A workspace's schema or file is named by its team id: anything else (a trailing newline included) is refused."""
    store = Store(tmp_path / "bot.db")
    store.enable_workspaces()
    with pytest.raises(ValueError):
        store.workspace(key)
    assert not (tmp_path / "bot.workspaces").exists() or not list((tmp_path / "bot.workspaces").iterdir())
    store.close()
