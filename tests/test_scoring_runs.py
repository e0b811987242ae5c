"""One scoring run, one state machine: the per-server queue, uploads that never overlap, 409s,
confirmation, failures, a restart mid-upload, and databases from before the merge."""

import importlib
import pkgutil
import time
from unittest.mock import Mock

import pytest
import sqlite_utils

import services.migrations
from bot.flows.scoring import cancel_run, show_update
from config import Settings
from sandbox.pluto_sim import PlutoSimulator
from services.errors import NotAllowed, NotFoundHere
from services.http import RetryPolicy
from services.outbox import Outbox, update_key
from services.pluto import PlutoClient
from services.records import RunUpdate
from services.scoring import ScoringService
from services.store import Store

CSV = b"name,years_experience\nAda,9\nAlan,12\n"


@pytest.fixture()
def pluto():
    with PlutoSimulator(extract_seconds=0.2, score_seconds=0.2) as s:
        yield s


def service(pluto, store, stall=300.0):
    settings = Settings().replace(pluto_api_base_url=pluto.url + "/api", database_path=store.path,
                                  pluto_stall_seconds=stall)
    return ScoringService(store, settings, PlutoClient(pluto.url + "/api", retry=RetryPolicy(base_delay=0.01)))


def enqueue(scoring, name="a.csv"):
    intake = scoring.intake(CSV, name, user="U1", channel="C1")
    return scoring.enqueue(intake, channel="C1", thread_ts="1.1", user="U1")


def tick_until(scoring, condition, timeout=30):
    """Tick as the scheduler does until ``condition()`` holds (every update seen is collected)."""
    updates, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        updates += scoring.tick()
        if condition():
            return updates
        time.sleep(0.05)
    raise AssertionError(f"not reached; updates: {[(u.kind, u.run.state) for u in updates]}")


def state(scoring, run):
    return scoring.run(run.id).state


def test_runs_queue_per_server_in_order_and_uploads_never_overlap(pluto, store):
    scoring = service(pluto, store)
    runs = [enqueue(scoring, f"{n}.csv") for n in "abc"]
    assert [scoring.position(r) for r in runs] == [0, 1, 2]
    updates = scoring.tick()
    assert state(scoring, runs[0]) == "running" and pluto.calls["POST /api/pluto/upload"] == 1
    assert [scoring.position(scoring.run(r.id)) for r in runs[1:]] == [1, 2]
    assert [(u.kind, u.position) for u in updates if u.run.id != runs[0].id] == [("queued", 1), ("queued", 2)]
    tick_until(scoring, lambda: state(scoring, runs[0]) == "complete")
    assert scoring.position(scoring.run(runs[1].id)) <= 1
    tick_until(scoring, lambda: all(state(scoring, r) == "complete" for r in runs), timeout=20)
    assert pluto.calls["POST /api/pluto/upload"] == 3  # one each: never refused as busy, never re-sent
    assert [c.name for c in scoring.run(runs[2].id).candidates] and scoring.active_runs() == []


def test_a_queued_run_can_be_cancelled_and_is_never_sent(pluto, store):
    pluto.configure(extract_seconds=5)
    scoring = service(pluto, store)
    first, second, third = (enqueue(scoring, f"{n}.csv") for n in "abc")
    scoring.tick()
    assert state(scoring, first) == "running"
    with pytest.raises(NotAllowed, match="Pluto has no way to stop a run once it has started"):
        scoring.cancel(first.id, "U2")
    cancelled = scoring.cancel(second.id, "U2")
    assert (cancelled.state, cancelled.cancelled_by) == ("cancelled", "U2") and cancelled.finished_at
    assert scoring.position(scoring.run(third.id)) == 1  # only the running one is ahead now
    assert [r.id for r in scoring.waiting("C1")] == [first.id, third.id]
    with pytest.raises(NotAllowed, match="already cancelled"):
        scoring.cancel(second.id, "U1")
    assert scoring.retry(second.id).state == "cancelled"  # final: Retry does not bring it back
    pluto.configure(extract_seconds=0.1, score_seconds=0.1)
    tick_until(scoring, lambda: state(scoring, third) == "complete", timeout=20)
    assert pluto.calls["POST /api/pluto/upload"] == 2 and state(scoring, second) == "cancelled"


def test_a_cancel_that_lands_while_a_tick_holds_the_run_wins(pluto, store):
    """The upload claims the run only if it is still queued: a cancel between the read and the claim wins."""
    scoring = service(pluto, store)
    run = enqueue(scoring)
    stale = scoring.run(run.id)
    scoring.cancel(run.id, "U1")
    assert scoring._start(stale).state == "cancelled"
    assert pluto.calls["POST /api/pluto/upload"] == 0


def test_a_tick_that_read_the_run_before_a_cancel_never_shows_it_queued_again(pluto, store):
    """A tick read the run as queued; then the cancel committed and rendered. The tick's late render must
    not put "queued" back over "cancelled" on the run's progress message (the newest update wins)."""
    scoring = service(pluto, store)
    run = enqueue(scoring)
    scoring.set_progress_message(run.id, "2.2")
    stale = scoring.run(run.id)
    services, out = Mock(scoring=scoring, outbox=Outbox(store)), Mock()
    out.is_public.return_value = False
    cancel_run(services, out, run.id, "U1")
    show_update(services, out, RunUpdate(stale, "queued", None, 1))
    shown = str(services.outbox.get(update_key("C1", "2.2")))
    assert "was cancelled by <@U1>" in shown and "queued" not in shown


def test_a_409_from_someone_elses_run_leaves_ours_queued_without_an_error(pluto, store, tmp_path):
    pluto.configure(extract_seconds=5)
    (tmp_path / "theirs.csv").write_bytes(CSV)
    PlutoClient(pluto.url + "/api").upload(tmp_path / "theirs.csv")  # not ours
    scoring = service(pluto, store)
    run = enqueue(scoring)
    scoring.tick()
    assert scoring.run(run.id).state == "queued" and scoring.run(run.id).error is None


def test_waiting_confirmation_is_confirmed_by_the_run(pluto, store):
    pluto.configure(confirmation_step=True)
    scoring = service(pluto, store)
    run = enqueue(scoring)
    tick_until(scoring, lambda: state(scoring, run) == "complete")
    assert pluto.calls["POST /api/pluto/score"] >= 1


def test_a_pluto_error_fails_the_run_with_its_message_and_retry_queues_it_again(pluto, store):
    pluto.configure(extract_seconds=30)
    scoring = service(pluto, store)
    run = enqueue(scoring)
    scoring.tick()
    pluto.fail_run("scoring model unavailable")
    updates = tick_until(scoring, lambda: state(scoring, run) == "failed")
    assert scoring.run(run.id).error == "scoring model unavailable"
    assert [u.kind for u in updates if u.kind == "failed"] == ["failed"]  # reported once
    pluto.reset()
    pluto.configure(extract_seconds=0.2, score_seconds=0.2)
    assert scoring.retry(run.id).state == "queued"
    tick_until(scoring, lambda: state(scoring, run) == "complete")
    with pytest.raises(NotFoundHere):
        scoring.retry("no-such-run")


def test_no_progress_for_too_long_is_reported_as_stalled(pluto, store):
    pluto.configure(extract_seconds=30)
    scoring = service(pluto, store, stall=0.5)
    run = enqueue(scoring)
    scoring.tick()
    pluto.stall()
    updates = tick_until(scoring, lambda: state(scoring, run) == "stalled")
    assert "no progress" in scoring.run(run.id).error and updates[-1].kind == "stalled"


def test_a_lost_upload_is_reconciled_after_a_restart_and_the_order_is_kept(pluto, store, tmp_path):
    # Pluto must still be busy with the first file when the restarted bot looks (a loaded machine may
    # take longer than a 0.4 s pipeline to restart): that is how it knows the upload had landed.
    pluto.configure(extract_seconds=3, score_seconds=0.2)
    scoring = service(pluto, store)
    first, second = enqueue(scoring, "a.csv"), enqueue(scoring, "b.csv")
    pluto.faults.script("POST /api/pluto/upload", "drop_response")
    pluto.faults.script("GET /api/pluto/status", "drop", "drop", "drop", "drop", "drop")  # status unreachable too
    scoring.tick()
    assert state(scoring, first) == "uploading"  # outcome unknown: not re-sent
    store.close()

    again = Store(tmp_path / "bot.db")  # the bot restarts on the same file
    try:
        restarted = service(pluto, again)
        assert [r.id for r, _ in restarted.active_runs()] == [first.id, second.id]
        restarted.tick()  # the first tick reconciles: Pluto has (or had) the file, so the upload had landed
        assert state(restarted, first) in ("running", "complete")
        tick_until(restarted, lambda: state(restarted, second) == "complete", timeout=30)
        assert state(restarted, first) == "complete"
        # each file went up exactly once: the lost answer was reconciled, never re-sent
        assert sorted(u["filename"] for u in pluto.uploads) == ["a.csv", "b.csv"]
    finally:
        again.close()


def _database_before_the_merge(path):
    """A database as the bot left it before m320: a run in two rows (pluto_queue + scoring_runs)."""
    db = sqlite_utils.Database(path)
    db["schema_migrations"].create({"name": str, "applied_at": float}, pk="name")
    for info in sorted(pkgutil.iter_modules(services.migrations.__path__), key=lambda m: m.name):
        if info.name.startswith("m") and info.name < "m320":
            importlib.import_module(f"services.migrations.{info.name}").up(db)
            db["schema_migrations"].insert({"name": info.name, "applied_at": 0.0})
    queue = [("q1", 1, "done", None), ("q2", 2, "running", None), ("q3", 3, "queued", None),
             ("q4", 4, "failed", "Pluto refused the file.")]
    for qid, seq, qstate, error in queue:
        db["pluto_queue"].insert({"id": qid, "seq": seq, "base_url": "http://pluto/api", "state": qstate,
                                  "csv_path": f"/data/{qid}.csv", "filename": f"{qid}.csv", "job_description": "",
                                  "owner_json": "{}", "total": 4, "error": error, "created_at": float(seq),
                                  "started_at": None, "finished_at": None})
    runs = [("r1", "q1", "complete"), ("r2", "q2", "running"), ("r3", "q3", "queued"), ("r4", "q4", "running")]
    for rid, qid, rstate in runs:
        db["scoring_runs"].insert({"id": rid, "queue_id": qid, "intake_id": "i", "channel": "C1", "thread_ts": "1.1",
                                   "progress_ts": "1.2", "user": "U1", "filename": f"{qid}.csv",
                                   "job_description": "", "top_n": 10, "state": rstate, "error": None,
                                   "fingerprint": None, "last_change_at": 0.0, "last_render_at": 0.0,
                                   "results_json": None, "export_file_id": None, "created_at": float(qid[1]),
                                   "finished_at": None})
    db.conn.close()


def test_a_database_from_before_the_merge_keeps_its_runs(tmp_path):
    path = tmp_path / "old.db"
    _database_before_the_merge(path)
    store = Store(path)
    try:
        assert "m320_one_run_state" in store.applied and store.table("pluto_queue") is None
        settings = Settings().replace(pluto_api_base_url="http://pluto/api", database_path=str(path))
        scoring = ScoringService(store, settings, PlutoClient("http://pluto/api"))
        states = {r: scoring.run(r).state for r in ("r1", "r2", "r3", "r4")}
        assert states == {"r1": "complete", "r2": "running", "r3": "queued", "r4": "failed"}
        assert scoring.run("r4").error == "Pluto refused the file."
        r3 = scoring.run("r3")
        assert (r3.seq, r3.base_url, r3.csv_path, r3.total) == (3, "http://pluto/api", "/data/q3.csv", 4)
        assert [r.id for r, _ in scoring.active_runs()] == ["r2", "r3"] and scoring.position(r3) == 1
    finally:
        store.close()
