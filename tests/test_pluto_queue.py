"""The per-server queue: one upload at a time, positions, 409s, and restarts."""

import time

import pytest

from sandbox.pluto_sim import PlutoSimulator
from services.http import RetryPolicy
from services.pluto import PlutoClient
from services.pluto_queue import PlutoQueue
from services.store import Store

CSV = "name,years_experience\nAda,9\nAlan,12\n"


@pytest.fixture()
def setup(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(CSV)
    with PlutoSimulator(extract_seconds=0.2, score_seconds=0.2) as s:
        client = PlutoClient(s.url + "/api", retry=RetryPolicy(base_delay=0.01))
        yield s, client, Store(tmp_path / "bot.db"), path, tmp_path
        client.close()


def drive(queue, client, run_id, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = queue.get(run_id)
        if run.state == "queued":
            queue.start(run_id, client)
        elif run.state == "running":
            queue.advance(run_id, client)
        else:
            return run
        time.sleep(0.05)
    raise AssertionError(queue.get(run_id))


def test_second_run_waits_with_its_position_and_never_overlaps(setup):
    s, client, store, path, _ = setup
    queue = PlutoQueue(store)
    base = s.url + "/api"
    first = queue.enqueue(base, str(path), "a.csv", owner={"channel": "C1"})
    second = queue.enqueue(base, str(path), "b.csv")
    third = queue.enqueue(base, str(path), "c.csv")
    assert (first.position, second.position, third.position) == (0, 1, 2)
    assert queue.start(first.id, client).state == "running"
    assert queue.start(second.id, client).state == "queued"  # refused locally: server busy with ours
    assert s.calls["POST /api/pluto/upload"] == 1
    assert queue.get(second.id).position == 1 and queue.next_ready(base) is None
    assert drive(queue, client, first.id).state == "done"
    assert queue.get(second.id).position == 0 and queue.next_ready(base).id == second.id
    assert drive(queue, client, second.id).state == "done"
    assert queue.get(first.id).owner == {"channel": "C1"}


def test_409_from_a_foreign_run_leaves_ours_queued(setup):
    s, client, store, path, _ = setup
    s.configure(extract_seconds=5)
    client.upload(path)  # someone else's run
    queue = PlutoQueue(store)
    run = queue.enqueue(s.url + "/api", str(path), "a.csv")
    assert queue.start(run.id, client).state == "queued"
    assert queue.get(run.id).error is None


def test_waiting_confirmation_is_confirmed_by_advance(setup):
    s, client, store, path, _ = setup
    s.configure(confirmation_step=True)
    queue = PlutoQueue(store)
    run = queue.enqueue(s.url + "/api", str(path), "a.csv")
    assert drive(queue, client, run.id).state == "done"
    assert s.calls["POST /api/pluto/score"] >= 1


def test_pluto_error_fails_the_run_with_the_message(setup):
    s, client, store, path, _ = setup
    queue = PlutoQueue(store)
    run = queue.enqueue(s.url + "/api", str(path), "a.csv")
    queue.start(run.id, client)
    s.fail_run("scoring model unavailable")
    queue.advance(run.id, client)
    failed = queue.get(run.id)
    assert failed.state == "failed" and failed.error == "scoring model unavailable"


def test_restart_keeps_order_and_reconciles_a_lost_upload(setup):
    s, client, store, path, tmp_path = setup
    queue = PlutoQueue(store)
    base = s.url + "/api"
    first = queue.enqueue(base, str(path), "a.csv")
    second = queue.enqueue(base, str(path), "b.csv")
    s.faults.script("POST /api/pluto/upload", "drop_response")
    s.faults.script("GET /api/pluto/status", "drop", "drop", "drop", "drop", "drop")  # status unreachable too
    assert queue.start(first.id, client).state == "uploading"  # outcome unknown, not re-sent
    store.close()

    # The bot restarts: a new store on the same file.
    store2 = Store(tmp_path / "bot.db")
    queue2 = PlutoQueue(store2)
    assert [r.id for r in queue2.runs(base)] == [first.id, second.id]
    assert queue2.recover(lambda url: client) == [first.id]
    assert queue2.get(first.id).state == "running"  # the server was busy: the upload had landed
    assert s.calls["POST /api/pluto/upload"] == 1
    assert drive(queue2, client, first.id).state == "done"
    assert drive(queue2, client, second.id).state == "done"
    assert s.calls["POST /api/pluto/upload"] == 2
