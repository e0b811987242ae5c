"""Two replicas on one PostgreSQL, 500 completed interviews, the leader killed at random, Slack faults on.

Prints how many completed interviews were posted, duplicated and lost, and how long each
failover took (kill -> a survivor leads), in poll intervals. Slack answers with random 5xx,
429s, dropped connections and lost answers (post stored, answer dropped) throughout.

    .venv/bin/python bench/bench_replicas.py [--completions 500] [--kills 5] [--seed 1]

Needs Debian's postgresql package (a throwaway cluster is started in a temp folder).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sandbox.postgres import TempPostgres  # noqa: E402
from sandbox.replicas import Replicas  # noqa: E402
from services.nimrobo import NimroboClient  # noqa: E402
from services.store import Store  # noqa: E402

CHANNEL = "C_BENCH"
POLL = 1.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--completions", type=int, default=500)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--deadline", type=float, default=300.0, help="seconds to wait for everything to settle")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    n = args.completions
    with TempPostgres() as pg:
        url = pg.create_database("bench")
        settings = {"SLACK_POSTS_PER_SECOND": "200", "API_CONCURRENCY": "16", "LOG_LEVEL": "WARNING"}
        with Replicas(url, count=2, poll_interval=POLL, claim_timeout=3.0, settings=settings) as replicas:
            slack = replicas.slack
            slack.wait_for(replicas.leader, timeout=30)
            nimrobo = NimroboClient(replicas.nimrobo.url + "/api", replicas.nimrobo_key)
            project = nimrobo.create_project("Bench", "## Goal\nTalk")
            links = nimrobo.create_links(project.id, [f"P{i}" for i in range(n)], "1_week")
            replicas.signer().command("/voicelink", f"subscribe {project.id}", user="U_ALICE", channel=CHANNEL)
            slack.wait_for(lambda: [r for r in slack.responses("U_ALICE") if "will be posted here" in r["text"]])
            sessions = [replicas.nimrobo.start_session(link.id) for link in links]
            slack.faults.configure(error_rate=0.02, rate_limit_rate=0.02, drop_rate=0.02, drop_response_rate=0.03,
                                   retry_after=1.0)
            started = time.monotonic()
            batches = [sessions[i:i + max(1, n // 40)] for i in range(0, n, max(1, n // 40))]
            kill_at = sorted(rng.sample(range(2, len(batches)), min(args.kills, len(batches) - 2)))
            failovers: list[float] = []
            for index, batch in enumerate(batches):
                for session in batch:
                    replicas.nimrobo.complete_session(session)
                if index in kill_at:
                    leader = replicas.leader()
                    if leader is not None:
                        time.sleep(rng.uniform(0, POLL))  # somewhere inside a poll
                        leader.kill()
                        killed = time.monotonic()
                        while not any(r.is_leader for r in replicas.live):
                            time.sleep(0.05)
                        failovers.append((time.monotonic() - killed) / POLL)
                        replicas.add()  # the orchestrator brings a replacement up
                time.sleep(0.5)
            slack.faults.reset()  # let the tail settle
            store = Store(url)
            deadline = time.monotonic() + args.deadline
            while time.monotonic() < deadline:
                if store.count("session_notifications", "state = 'posted'") >= n:
                    break
                time.sleep(0.5)
            elapsed = time.monotonic() - started
            store.close()
            counts = Counter(m["metadata"]["event_payload"]["session_id"] for m in slack.messages(CHANNEL)
                             if (m.get("metadata") or {}).get("event_type") == "voice_session_completed")
            posted = sum(1 for s in sessions if counts[s] >= 1)
            duplicates = sum(c - 1 for c in counts.values() if c > 1)
            lost = n - posted
            lookups = len(slack.api_calls("conversations.history")) + len(slack.api_calls("conversations.replies"))
            print(f"completions: {n}, leader kills: {len(failovers)}, Slack faults: 2% 5xx, 2% 429, 2% dropped, "
                  f"3% lost answers")
            print(f"posted: {posted}  duplicates: {duplicates}  lost: {lost}  (history lookups: {lookups}, "
                  f"{elapsed:.0f}s)")
            if failovers:
                print(f"failover (kill -> a survivor leads), in poll intervals: max {max(failovers):.2f}, "
                      f"median {statistics.median(failovers):.2f}")
            return 0 if duplicates == 0 and lost == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
