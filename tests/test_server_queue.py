"""The Pluto queue per server across workspaces (issue 29): two workspaces on one server take turns
fairly and never overlap on it; two servers never wait for each other; positions count every
workspace's runs as a number only; the turn is one compare-and-set winner across replicas and is
reclaimed when its holder is gone. On SQLite and PostgreSQL."""

import itertools
import threading
import time

import pytest

from config import Settings
from sandbox.pluto_sim import PlutoSimulator
from services.http import RetryPolicy
from services.pluto import PlutoClient
from services.scoring import ON_SERVER, ScoringService
from services.server_queue import LINE, TURNS, ServerQueue
from services.store import Store, in_workspace
from services.workspaces import Workspaces
from tests.conftest import module_database

CSV = b"name,years_experience\nAda,9\nAlan,12\n"


_tests = itertools.count(1)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request, tmp_path_factory):
    """One database per module (each test uses workspaces and a Pluto server of its own)."""
    where = module_database(request, "q")
    return where.get("database_url") or where["database_path"]


@pytest.fixture(scope="module")
def main_store(database):
    store = Store(database)
    store.enable_workspaces()
    yield store
    store.close()


@pytest.fixture()
def teams(main_store):
    """This test's two workspaces, installed (their names are the test's own: tests share the database)."""
    n = next(_tests)
    keys = (f"T{n}A", f"T{n}B")
    workspaces = Workspaces(main_store, enabled=True)
    for team in keys:
        workspaces.installed(team_id=team, enterprise_id=None, is_enterprise_install=False, name=team)
    return keys


@pytest.fixture()
def shared(main_store, teams):
    return main_store


def simulator(**flags):
    return PlutoSimulator(extract_seconds=flags.pop("extract_seconds", 0.1), score_seconds=0.1, **flags)


@pytest.fixture()
def pluto():
    with simulator() as s:
        yield s


def scoring_on(sim, store, tmp_path):
    settings = Settings().replace(pluto_api_base_url=sim.url + "/api", database_path=str(tmp_path / "bot.db"))
    return ScoringService(store, settings, PlutoClient(sim.url + "/api", retry=RetryPolicy(base_delay=0.01)))


def enqueue(scoring, team, name):
    with in_workspace(team):
        intake = scoring.intake(CSV, name, user="U1", channel="C1")
        return scoring.enqueue(intake, channel="C1", thread_ts="1.1", user="U1")


def on_server(store, teams):
    """Every run uploading or running, in either workspace."""
    return [(team, r["filename"]) for team in teams
            for r in store.workspace(team).rows("scoring_runs", "state in ('uploading', 'running')")]


def drive(ticks, store, done, timeout=30):
    """Tick each workspace in turn, as the scheduler does, until ``done()``; at no moment may two runs be
    on one server."""
    teams, deadline = [team for team, _ in ticks], time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"not done; on the server: {on_server(store, teams)}"
        for team, scoring in ticks:
            with in_workspace(team):
                scoring.tick()
        assert len(on_server(store, teams)) <= 1, on_server(store, teams)
        time.sleep(0.03)


def states(scoring, team, runs):
    with in_workspace(team):
        return [scoring.run(r.id).state for r in runs]


def shared_rows(store, table, base_url):
    return store.shared.rows(table, "base_url = ?", [base_url])


def test_two_workspaces_on_one_server_alternate_and_never_overlap(shared, teams, pluto, tmp_path):
    t1, t2 = teams
    scoring = scoring_on(pluto, shared, tmp_path)
    a = [enqueue(scoring, t1, f"A{n}.csv") for n in (1, 2, 3)]
    b = [enqueue(scoring, t2, f"B{n}.csv") for n in (1, 2)]
    # "N ahead of you" counts the other workspace's runs that go first: A1, B1, A2, B2, A3
    with in_workspace(t1):
        assert [scoring.position(r) for r in a] == [0, 2, 4]
    with in_workspace(t2):
        assert [scoring.position(r) for r in b] == [1, 3]
        assert [r.filename for r in scoring.waiting()] == ["B1.csv", "B2.csv"]  # its own runs only

    # the scheduler serves the second workspace first each round: still, the one that waited longest goes first
    drive([(t2, scoring), (t1, scoring)], shared,
          lambda: states(scoring, t1, a) + states(scoring, t2, b) == ["complete"] * 5)

    assert [u["filename"] for u in pluto.uploads] == ["A1.csv", "B1.csv", "A2.csv", "B2.csv", "A3.csv"]
    assert pluto.calls["POST /api/pluto/upload"] == 5  # never refused as busy: no upload met another's run
    server = a[0].base_url
    assert shared_rows(shared, TURNS, server) == [] and shared_rows(shared, LINE, server) == []  # all given back


def test_positions_follow_the_other_workspace_and_say_nothing_else(shared, teams, pluto, tmp_path):
    t1, t2 = teams
    pluto.configure(extract_seconds=30)  # A1 stays on the server
    scoring = scoring_on(pluto, shared, tmp_path)
    first = enqueue(scoring, t1, "A1.csv")
    with in_workspace(t1):
        scoring.tick()
        assert scoring.run(first.id).state == "running"
    b1 = enqueue(scoring, t2, "B1.csv")
    b2 = enqueue(scoring, t2, "B2.csv")
    a2 = enqueue(scoring, t1, "A2.csv")
    with in_workspace(t2):
        updates = {u.run.filename: u.position for u in scoring.tick()}
    assert updates == {"B1.csv": 1, "B2.csv": 3}  # A1 on the server; A2 goes between B1 and B2
    with in_workspace(t1):
        assert scoring.position(scoring.run(a2.id)) == 2
        assert [(r.filename, pos) for r, pos in scoring.active_runs()] == [("A1.csv", 0), ("A2.csv", 2)]
    with in_workspace(t2):
        scoring.cancel(b1.id, "U1")
        assert scoring.position(scoring.run(b2.id)) == 1  # only A1 is ahead now, and B2 goes before A2
    with in_workspace(t1):
        assert scoring.position(scoring.run(a2.id)) == 2
    # what the workspaces share is a server, workspace keys, run ids, times and counts: nothing of a run
    shared_values = {str(v) for table in (TURNS, LINE) for row in shared_rows(shared, table, first.base_url)
                     for v in row.values()}
    assert shared_values and not shared_values & {"B1.csv", "B2.csv", "A2.csv", "C1", "U1", "1.1"}


def test_workspaces_on_different_servers_never_wait_for_each_other(shared, teams, tmp_path):
    t1, t2 = teams
    with simulator(extract_seconds=30) as one, simulator(extract_seconds=30) as two:
        first, second = scoring_on(one, shared, tmp_path), scoring_on(two, shared, tmp_path)
        a = enqueue(first, t1, "A1.csv")
        b = enqueue(second, t2, "B1.csv")
        with in_workspace(t1):
            first.tick()
        with in_workspace(t2):
            second.tick()
        assert states(first, t1, [a]) == states(second, t2, [b]) == ["running"]
        assert [u["filename"] for u in one.uploads] == ["A1.csv"] and [u["filename"] for u in two.uploads] == ["B1.csv"]
        assert [t["workspace"] for t in shared_rows(shared, TURNS, a.base_url)] == [t1]
        assert [t["workspace"] for t in shared_rows(shared, TURNS, b.base_url)] == [t2]


def test_exactly_one_replica_wins_a_free_server(database, shared, teams):
    replicas = [ServerQueue(shared)] + [ServerQueue(Store(database)) for _ in range(2)]
    server = f"http://pluto-{teams[0].lower()}/api"
    start, won = threading.Barrier(6), []

    def contend(queue, team, run_id):
        start.wait()
        if queue.take(server, team, run_id, queued_after=0):
            won.append(run_id)

    threads = [threading.Thread(target=contend, args=(replicas[i % 3], teams[i % 2], f"r{i}")) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for queue in replicas[1:]:
        queue.store.close()
    assert len(won) == 1 and shared.shared.get(TURNS, server)["run_id"] == won[0]


def test_a_turn_whose_holder_is_gone_is_reclaimed(shared, teams, pluto, tmp_path):
    t1, t2 = teams
    pluto.configure(extract_seconds=30)
    scoring = scoring_on(pluto, shared, tmp_path)
    a = enqueue(scoring, t1, "A1.csv")
    b = enqueue(scoring, t2, "B1.csv")
    with in_workspace(t1):
        scoring.tick()
        # the bot died after the run ended on its side but before it gave the turn back
        shared.update("scoring_runs", a.id, {"state": "failed"})
    pluto.reset()
    with in_workspace(t2):
        scoring.tick()
        assert scoring.run(b.id).state == "queued"  # the turn still looks held
    with in_workspace(t1):
        scoring.tick()  # its next tick gives back the turn its run no longer needs
    with in_workspace(t2):
        scoring.tick()
        assert scoring.run(b.id).state == "running"
    # a holder that stops renewing (its jobs stopped) loses the turn after the lease
    shared.shared.update(TURNS, b.base_url, {"renewed_at": time.time() - 3600})
    c = enqueue(scoring, t1, "A2.csv")
    pluto.reset()
    with in_workspace(t1):
        scoring.tick()
        assert scoring.run(c.id).state == "running"


def test_an_uninstalled_workspace_never_holds_a_server(shared, teams, pluto, tmp_path):
    t1, t2 = teams
    pluto.configure(extract_seconds=30)
    scoring = scoring_on(pluto, shared, tmp_path)
    enqueue(scoring, t1, "A1.csv")
    enqueue(scoring, t1, "A2.csv")
    b = enqueue(scoring, t2, "B1.csv")
    with in_workspace(t1):
        scoring.tick()
    Workspaces(shared, enabled=True).uninstalled(t1)  # its jobs stop; its turn and its place are passed over
    pluto.reset()
    with in_workspace(t2):
        assert scoring.position(scoring.run(b.id)) == 0
        scoring.tick()
        assert scoring.run(b.id).state == "running"
    assert [r["workspace"] for r in shared_rows(shared, TURNS, b.base_url) + shared_rows(shared, LINE, b.base_url)] \
        == [t2]  # nothing of the workspace that left stays in what the workspaces share


def test_after_a_restart_each_workspace_reconciles_its_own_interrupted_upload(shared, teams, pluto, tmp_path):
    """The first tick of every workspace, not only of the first one served, reconciles its uploads a crash
    interrupted: Pluto is idle, so nothing landed, and the run is sent again."""
    t1, t2 = teams
    b = enqueue(scoring_on(pluto, shared, tmp_path), t2, "B1.csv")
    with in_workspace(t2):
        shared.update("scoring_runs", b.id, {"state": "uploading"})
    restarted = scoring_on(pluto, shared, tmp_path)
    for team in teams:  # t1 is served first and has nothing interrupted
        with in_workspace(team):
            restarted.tick()
    assert states(restarted, t2, [b]) == ["running"] and [u["filename"] for u in pluto.uploads] == ["B1.csv"]


def test_a_run_whose_server_turn_went_to_another_never_reads_that_run(shared, teams, pluto, tmp_path):
    """B1 was on the server before a long outage; its turn lapsed and A1 took the server. Pluto now holds A1's
    run: B1 goes back to the queue instead of reading A1's progress and results as its own."""
    t1, t2 = teams
    pluto.configure(extract_seconds=0.05, score_seconds=0.05)
    scoring = scoring_on(pluto, shared, tmp_path)
    a = enqueue(scoring, t1, "A1.csv")
    b = enqueue(scoring, t2, "B1.csv")
    with in_workspace(t1):
        scoring.tick()
    with in_workspace(t2):
        shared.update("scoring_runs", b.id, {"state": "running", "started_at": time.time()})
    time.sleep(0.3)  # A1 is complete on Pluto
    with in_workspace(t2):
        updates = scoring.tick()
        assert scoring.run(b.id).state == "queued" and scoring.run(b.id).results == []
        assert [(u.kind, u.position) for u in updates] == [("queued", 1)]
    assert pluto.calls["GET /api/pluto/results"] == 0
    assert scoring.queue_lengths()[pluto.url.split("//")[1]] == 2  # /metrics: A1 on the server, B1 waiting
    with in_workspace(t1):
        scoring.tick()
        assert scoring.run(a.id).state == "complete"


def test_a_lone_workspace_never_touches_the_shared_turns(pluto, store, tmp_path):
    """Single-workspace mode queues exactly as before: nothing is written to the shared tables."""
    scoring = scoring_on(pluto, store, tmp_path)
    runs = [scoring.enqueue(scoring.intake(CSV, f"{n}.csv", user="U1", channel="C1"), channel="C1",
                            thread_ts="1.1", user="U1") for n in "ab"]
    assert [scoring.position(r) for r in runs] == [0, 1]
    scoring.tick()
    assert scoring.run(runs[0].id).state in ON_SERVER
    assert store.rows(TURNS) == [] and store.rows(LINE) == []
