"""Create links for 1,000 labels through the client; print the requests made and the elapsed time.

    .venv/bin/python bench/bench_nimrobo_links.py
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sandbox.nimrobo_sim import ALL_SCOPES, NimroboSimulator  # noqa: E402
from services.nimrobo import NimroboClient  # noqa: E402

PROMPT = "## Goal\ng\n\n## Role\nr\n\n## Guidelines\ng\n\n## Constraints\nc"


def main() -> None:
    with NimroboSimulator(keys={"api_bench": ALL_SCOPES}) as sim, \
            NimroboClient(sim.url + "/api", "api_bench") as client:
        project = client.create_project("Bench role", PROMPT)
        sim.reset_calls()
        labels = [f"Candidate {i:04d}" for i in range(1000)]
        started = time.perf_counter()
        links = client.create_links(project.id, labels, "1_week")
        elapsed = time.perf_counter() - started
        requests = sum(sim.calls.values())
        print(f"labels: {len(labels)}  links created: {len(links)}")
        print(f"requests: {requests} ({dict(sim.calls)})")
        print(f"elapsed: {elapsed:.3f} s")


if __name__ == "__main__":
    main()
