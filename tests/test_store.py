import sqlite3
import threading

from services.store import Store


def test_folder_created_wal_on_and_migrations_run_once(tmp_path):
    path = tmp_path / "nested" / "dir" / "bot.db"
    store = Store(path)
    assert path.exists()
    assert store.db.journal_mode == "wal"
    assert "m000_core" in store.applied
    store.kv_set("greeting", {"hello": "world"})
    store.close()

    again = Store(path)
    assert again.applied == []  # nothing re-applied
    assert again.kv_get("greeting") == {"hello": "world"}
    again.close()


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


def test_transaction_rolls_back_on_error(tmp_path):
    store = Store(tmp_path / "bot.db")
    try:
        with store.transaction():
            store.kv_set("a", 1)
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert store.kv_get("a") is None


def test_insert_if_absent_and_json_columns():
    store = Store(":memory:")
    assert store.insert_if_absent("slack_events_seen", {"event_id": "Ev1", "seen_at": 1.0})
    assert not store.insert_if_absent("slack_events_seen", {"event_id": "Ev1", "seen_at": 2.0})
    assert store.get("slack_events_seen", "Ev1")["seen_at"] == 1.0
