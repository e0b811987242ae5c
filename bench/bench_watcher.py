"""One watcher cycle at scale: 10,000 links in 100 projects, 50 live sessions, Nimrobo at 50 ms.

A cycle is what the two scheduled jobs ask Nimrobo every ``POLL_INTERVAL_SECONDS``: the card
refresher lists each project's links (P calls, plus 1 for instant links when there are
any) and the watcher asks each live session's status (S calls). Printed side by side, in
the same run:

* the bot's cycle, ``API_CONCURRENCY`` requests in flight (default 12);
* the same calls made one after another (the watcher before it fanned out);
* a naive per-link poller that reads each link's status on its own (10,000 + S calls), given
  the same concurrency so it finishes in reasonable time.

Goal: at most P + 1 + S = 151 calls and 2 s or less per cycle.

    .venv/bin/python bench/bench_watcher.py [--naive-sample N]
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from config import Settings  # noqa: E402
from services.concurrency import Backoff, bounded_map  # noqa: E402
from services.http import RetryPolicy  # noqa: E402
from services.nimrobo import NimroboClient  # noqa: E402
from services.store import Store  # noqa: E402
from services.voice.links import VoiceLinkService  # noqa: E402
from services.voice.sessions import SessionService  # noqa: E402

PROMPT = "## Goal\ng\n\n## Role\nr\n\n## Guidelines\ng\n\n## Constraints\nc"
PROJECTS, PER_PROJECT, LIVE, LATENCY, WORKERS = 100, 100, 50, 0.05, 12
ROOT = Path(__file__).resolve().parents[1]
KEY = "api_bench"


class RemoteSim:
    """The Nimrobo simulator in its own process (as a real server is), driven over its control routes."""

    def __init__(self) -> None:
        code = ("import sys,time; sys.path.insert(0, sys.argv[1]);"
                "from sandbox.nimrobo_sim import ALL_SCOPES, NimroboSimulator;"
                f"s=NimroboSimulator(keys={{'{KEY}': ALL_SCOPES}}, pending_seconds=0).start();"
                "print(s.url, flush=True); time.sleep(3600)")
        self.process = subprocess.Popen([sys.executable, "-c", code, str(ROOT)], stdout=subprocess.PIPE, text=True)
        self.url = self.process.stdout.readline().strip()
        self.http = httpx.Client(base_url=self.url, timeout=60)

    def control(self, path: str, **body: object) -> dict:
        return self.http.post(path, json=body).json()

    def start_session(self, link_id: str) -> str:
        return self.control("/_control/nimrobo/start_session", link_id=link_id)["result"]

    def set_latency(self, seconds: float) -> None:
        self.control("/_control/faults", latency=seconds)

    def reset_calls(self) -> None:
        self.control("/_control/reset_calls")

    def total_calls(self) -> int:
        return sum(self.http.get("/_control/calls").json().values())

    def close(self) -> None:
        self.http.close()
        self.process.kill()


def setup(sim: RemoteSim, client: NimroboClient, store: Store) -> list[dict]:
    rows = []
    for p in range(PROJECTS):
        project = client.create_project(f"Role {p:03d}", PROMPT)
        for link in client.create_links(project.id, [f"Candidate {p:03d}-{i:03d}" for i in range(PER_PROJECT)],
                                        "1_week"):
            rows.append({"id": link.id, "batch_id": f"b{p}", "kind": "project", "project_id": project.id,
                         "label": link.label, "status": "active", "session_id": None, "channel": "C_BENCH",
                         "thread_ts": None, "creator": "U1", "created_at": 0.0, "updated_at": 0.0})
    for row in rows[:: len(rows) // LIVE][:LIVE]:
        row["session_id"], row["status"] = sim.start_session(row["id"]), "used"
    with store.transaction():
        for row in rows:
            store.insert("voice_links", row)
    return rows


def cycle(sim: RemoteSim, client: NimroboClient, store: Store, workers: int) -> tuple[int, float]:
    service = VoiceLinkService(store, client, Settings(), workers=workers, backoff=Backoff())
    sessions = SessionService(store, client, service, workers=workers, backoff=Backoff())
    sim.reset_calls()
    started = time.perf_counter()
    service.refresh_statuses()
    sessions.poll()
    elapsed = time.perf_counter() - started
    return sim.total_calls(), elapsed


def naive(sim: RemoteSim, client: NimroboClient, rows: list[dict], workers: int) -> tuple[int, float]:
    """Each link read on its own (its project's listing, as the API has no single-link read), then each session."""
    sim.reset_calls()
    started = time.perf_counter()
    bounded_map(lambda row: client.list_links(row["project_id"]), rows, workers)
    bounded_map(lambda row: client.session_status(row["session_id"]), [r for r in rows if r["session_id"]], workers)
    elapsed = time.perf_counter() - started
    return sim.total_calls(), elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--naive-sample", type=int, default=0,
                        help="run the naive poller on this many links only and scale up (0: all links)")
    args = parser.parse_args()
    sim = RemoteSim()
    try:
        run(sim, args.naive_sample)
    finally:
        sim.close()


def run(sim: RemoteSim, naive_sample: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, \
            NimroboClient(sim.url + "/api", KEY, retry=RetryPolicy(base_delay=0.05)) as client:
        store = Store(Path(tmp) / "bench.db")
        rows = setup(sim, client, store)
        sim.set_latency(LATENCY)
        print(f"{len(rows):,} links in {PROJECTS} projects, {LIVE} live sessions, Nimrobo latency "
              f"{LATENCY * 1000:.0f} ms; goal <= {PROJECTS + 1 + LIVE} calls and <= 2.0 s per cycle")
        print(f"{'poller':<44} {'calls/cycle':>12} {'cycle time':>12}")
        calls, seconds = cycle(sim, client, store, WORKERS)
        print(f"{f'bot, {WORKERS} in flight (API_CONCURRENCY)':<44} {calls:>12,} {seconds:>10.2f} s")
        calls, seconds = cycle(sim, client, store, 1)
        print(f"{'bot, one call at a time (before)':<44} {calls:>12,} {seconds:>10.2f} s")
        sample = rows if not naive_sample else rows[:naive_sample]
        calls, seconds = naive(sim, client, sample, WORKERS)
        scale = len(rows) / len(sample)
        label = f"naive per-link, {WORKERS} in flight" + (f" (x{scale:.0f} from {len(sample)})" if scale > 1 else "")
        print(f"{label:<44} {int(calls * scale):>12,} {seconds * scale:>10.2f} s")
        store.close()


if __name__ == "__main__":
    main()
