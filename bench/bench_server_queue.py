"""What the Pluto queue across workspaces costs a scoring tick (services/server_queue.py).

One Pluto server (an httpx MockTransport: the upload is accepted, the run then stays "scoring", so
every tick polls it and renders nothing new). Baseline: one workspace (single-workspace mode), one run
on the server and 3 queued behind it. Then several workspaces in multi-workspace mode on one SQLite
database: the first with the same 4 runs, every other with 3 runs queued for the same server, each
tick reading (and now and then renewing) the server's shared turn and line. Printed side by side, in
milliseconds: the mean tick of the workspace with a run on the server (as the baseline's), of one with
3 runs waiting for another workspace's, and of one with nothing queued.

    .venv/bin/python bench/bench_server_queue.py [--workspaces 2,20] [--rounds 100]
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from config import Settings  # noqa: E402
from services.pluto import PlutoClient  # noqa: E402
from services.scoring import ScoringService  # noqa: E402
from services.store import Store, in_workspace  # noqa: E402
from services.workspaces import Workspaces  # noqa: E402

SERVER = "http://pluto.bench/api"
CSV = b"name,years_experience\nAda,9\nAlan,12\n"


def pluto(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("/pluto/upload"):
        return httpx.Response(200, json={"message": "Processing started", "total_candidates": 2})
    return httpx.Response(200, json={"status": "scoring", "phase": "ai_scoring", "progress": 50,
                                     "candidates_total": 2, "candidates_extracted": 2, "candidates_scored": 1})


def service(store: Store, folder: Path) -> ScoringService:
    settings = Settings().replace(pluto_api_base_url=SERVER, database_path=str(folder / "bot.db"))
    return ScoringService(store, settings, PlutoClient(SERVER, transport=httpx.MockTransport(pluto)))


def queue(scoring: ScoringService, runs: int) -> None:
    for i in range(runs):
        intake = scoring.intake(CSV, f"{i}.csv", user="U1", channel="C1")
        scoring.enqueue(intake, channel="C1", thread_ts="1.1", user="U1")


def timed(scoring: ScoringService, team: str | None, rounds: int) -> float:
    """Mean milliseconds of one tick of ``team`` (None: single-workspace mode)."""
    times = []
    for _ in range(rounds):
        with in_workspace(team):
            start = time.perf_counter()
            scoring.tick()
            times.append((time.perf_counter() - start) * 1000)
    return statistics.mean(times)


def single(rounds: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bot.db")
        scoring = service(store, Path(tmp))
        idle = timed(scoring, None, rounds)
        queue(scoring, 4)
        scoring.tick()  # the first run goes to the server
        busy = timed(scoring, None, rounds)
        store.close()
    return busy, idle


def several(count: int, rounds: int) -> tuple[float, float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bot.db")
        registry = Workspaces(store, enabled=True)
        teams = [f"T{i:04d}" for i in range(count)]
        for team in [*teams, "TIDLE"]:
            registry.installed(team_id=team, enterprise_id=None, is_enterprise_install=False)
        scoring = service(store, Path(tmp))
        for i, team in enumerate(teams):
            with in_workspace(team):
                queue(scoring, 4 if i == 0 else 3)
                scoring.tick()  # the first workspace's first run goes to the server
        for team in teams:  # warm up: each workspace's store opens on its first use
            timed(scoring, team, 2)
        on_server = timed(scoring, teams[0], rounds)
        waiting = statistics.mean(timed(scoring, team, max(5, rounds // count)) for team in teams[1:])
        idle = timed(scoring, "TIDLE", rounds)  # a workspace with nothing queued, beside the busy ones
        store.close()
    return on_server, waiting, idle


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workspaces", default="2,20")
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args()
    busy, idle = single(args.rounds)
    print(f"{'mode':<30}{'on the server':>15}{'waiting':>10}{'idle':>8}   (tick, ms)")
    print(f"{'one workspace (baseline)':<30}{busy:>15.2f}{'-':>10}{idle:>8.2f}")
    for count in (int(n) for n in args.workspaces.split(",")):
        on_server, waiting, idle_n = several(count, args.rounds)
        print(f"{f'{count} workspaces, one server':<30}{on_server:>15.2f}{waiting:>10.2f}{idle_n:>8.2f}"
              f"   ({on_server / busy:.1f}x and {idle_n / max(idle, 1e-6):.1f}x the baseline)")


if __name__ == "__main__":
    main()
