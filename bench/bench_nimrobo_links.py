"""Create links for 1,000 labels through the client; print the requests made and the elapsed time.

Three runs against a local simulator: a clean one, one whose create response is lost (the
client must list and match instead of creating a second set), and one against a server with
an 8 KB body limit (the labels go in parts, never more than 10 create requests).

    .venv/bin/python bench/bench_nimrobo_links.py
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sandbox.nimrobo_sim import ALL_SCOPES, NimroboSimulator  # noqa: E402
from services.nimrobo import NimroboClient  # noqa: E402

PROMPT = "## Goal\ng\n\n## Role\nr\n\n## Guidelines\ng\n\n## Constraints\nc"
LABELS = [f"Candidate {i:04d}" for i in range(1000)]


def run(sim: NimroboSimulator, client: NimroboClient, title: str, fault: str | None,
        body_limit: int | None = None) -> None:
    project = client.create_project(title, PROMPT)
    sim.reset_calls()
    sim.max_body_bytes = body_limit
    if fault:
        sim.faults.script("POST /api/v1/projects/{project_id}/links", fault)
    started = time.perf_counter()
    links = client.create_links(project.id, LABELS, "1_week")
    elapsed = time.perf_counter() - started
    calls = dict(sim.calls)
    on_server = len(client.list_links(project.id))
    sim.max_body_bytes = None
    requests = sum(calls.values())
    creates = calls.get("POST /api/v1/projects/{project_id}/links", 0)
    print(f"{title}: labels {len(LABELS)}, links returned {len(links)}, links on the server {on_server}")
    print(f"  requests: {requests} ({creates} create) {calls}  elapsed: {elapsed:.3f} s")


def main() -> None:
    with NimroboSimulator(keys={"api_bench": ALL_SCOPES}) as sim, \
            NimroboClient(sim.url + "/api", "api_bench") as client:
        run(sim, client, "clean create", None)
        run(sim, client, "create whose response is lost", "drop_response")
        run(sim, client, "server with an 8 KB body limit", None, body_limit=8000)


if __name__ == "__main__":
    main()
