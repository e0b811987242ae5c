"""Acks under load: the real bot (``python -m bot`` in HTTP mode, its own process) against the Slack
test bed and the Nimrobo and Pluto simulators answering in 2,000 ms.

For 50, then 200, concurrent mixed requests (``/pluto help``, ``/pluto status``,
``/voicelink list``, ``/voicelink projects`` and Project button presses, each from its own
user) it prints the count of non-200 answers, ack p50/p99/max, and the time until every user
had their answer. Beside them: the single-request ack time measured in the same run, the
serial floor (N x that time / cores) and the expected answer time (latency x
ceil(N / WORK_POOL_SIZE)). Goals: 0 non-200 at 200; ack p99 within 2x the serial floor and
under 250 ms at 50; every answer within about the expected time.

Beside the client's figures, the bot's own: p50/p99 and the mean from ``pluto_bot_ack_seconds`` on
``GET /metrics`` for the same round (the histogram's buckets interpolated as Prometheus'
``histogram_quantile`` does), so an operator sees how the dashboard's figure relates to what Slack
measures (the client side adds the HTTP round trip and uvicorn's queueing).

Both modes run, one bot process each, and print side by side: single-workspace (``SLACK_BOT_TOKEN``, the
baseline) and OAuth mode (installed in the test bed's workspace through ``/slack/install``, rotating tokens),
with the count of ``auth.test`` calls the OAuth bot made for all the requests (goal: one, Bolt's authorize cache).
(In OAuth mode the Project button is answered "not found": the bench's project was made with the shared key outside
the workspace, and the shared account's projects are filtered to the workspace's own. It is still one request.)

    .venv/bin/python bench/bench_acks.py [--latency 2.0] [--sizes 50,200] [--mode both|single|oauth]
"""

import argparse
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox.nimrobo_sim import ALL_SCOPES, NimroboSimulator  # noqa: E402
from sandbox.pluto_sim import PlutoSimulator  # noqa: E402
from sandbox.signer import SlackSigner  # noqa: E402
from sandbox.slack_api import SlackStandIn  # noqa: E402
from services.nimrobo import NimroboClient  # noqa: E402

PROMPT = "## Goal\ng\n\n## Role\nr\n\n## Guidelines\ng\n\n## Constraints\nc"
POOL = 8


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ack_histogram(url: str) -> tuple[dict[float, float], float, float]:
    """(cumulative bucket counts by upper bound, sum, count) of pluto_bot_ack_seconds over every kind."""
    from prometheus_client.parser import text_string_to_metric_families

    buckets: dict[float, float] = {}
    total = count = 0.0
    text = httpx.get(url + "/metrics", timeout=10).text
    for family in text_string_to_metric_families(text):
        if family.name != "pluto_bot_ack_seconds":
            continue
        for sample in family.samples:
            if sample.name.endswith("_bucket"):
                bound = float(sample.labels["le"])
                buckets[bound] = buckets.get(bound, 0.0) + sample.value
            elif sample.name.endswith("_sum"):
                total += sample.value
            elif sample.name.endswith("_count"):
                count += sample.value
    return buckets, total, count


def histogram_quantile(q: float, buckets: dict[float, float]) -> float:
    """Prometheus' histogram_quantile over cumulative ``buckets`` (seconds)."""
    bounds = sorted(buckets)
    if not bounds or buckets[bounds[-1]] == 0:
        return float("nan")
    rank = q * buckets[bounds[-1]]
    lower, below = 0.0, 0.0
    for bound in bounds:
        if buckets[bound] >= rank:
            if bound == float("inf"):
                return lower
            inside = buckets[bound] - below
            return lower + (bound - lower) * ((rank - below) / inside if inside else 0.0)
        lower, below = bound, buckets[bound]
    return lower


def server_side(before: tuple[dict[float, float], float, float], after: tuple[dict[float, float], float, float]
                ) -> tuple[float, float, float]:
    """(p50 ms, p99 ms, mean ms) of the acks between two scrapes."""
    delta = {b: after[0][b] - before[0].get(b, 0.0) for b in after[0]}
    count = after[2] - before[2]
    mean = (after[1] - before[1]) / count * 1000 if count else float("nan")
    return histogram_quantile(0.5, delta) * 1000, histogram_quantile(0.99, delta) * 1000, mean


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def fire(signer: SlackSigner, slack: SlackStandIn, n: int, round_id: str, project_id: str,
         latency: float) -> dict[str, float]:
    kinds = ["help", "status", "list", "projects", "press"]
    users = [f"U_{round_id}_{i}" for i in range(n)]

    def one(i: int) -> tuple[int, float, bool]:
        user, kind = users[i], kinds[i % len(kinds)]
        started = time.perf_counter()
        try:
            if kind == "help":
                response = signer.command("/pluto", "help", user=user)
            elif kind == "status":
                response = signer.command("/pluto", "status", user=user)
            elif kind == "list":
                response = signer.command("/voicelink", "list", user=user)
            elif kind == "projects":
                response = signer.command("/voicelink", "projects", user=user)
            else:
                response = signer.block_action("voicelink_project", project_id, user=user)
            status = response.status_code
        except httpx.HTTPError:
            status = 0
        return status, (time.perf_counter() - started) * 1000, kind == "help"

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=n) as pool:
        results = list(pool.map(one, range(n)))
    answered_in_ack = {users[i] for i, r in enumerate(results) if r[2] and r[0] == 200}

    def everyone_answered() -> bool:
        done = {r["user"] for r in slack.responses() if r.get("user", "").startswith(f"U_{round_id}_")
                and "queued" not in (r.get("text") or "")}
        return len(done | answered_in_ack) >= n

    deadline = time.perf_counter() + latency * (n / POOL + 2) * 3 + 30
    while not everyone_answered() and time.perf_counter() < deadline:
        time.sleep(0.05)
    all_answered = time.perf_counter() - started
    acks = [r[1] for r in results]
    non200 = sum(1 for r in results if r[0] != 200)
    return {"non200": non200, "p50": statistics.median(acks), "p99": percentile(acks, 0.99), "max": max(acks),
            "answered": all_answered, "everyone": float(everyone_answered()), "expected": latency * -(-n // POOL)}


def run(args: argparse.Namespace, *, oauth: bool) -> tuple[float, list[dict[str, float]]]:
    """One bot process: single-workspace (``SLACK_BOT_TOKEN``) or OAuth mode (installed through ``/slack/install``,
    tokens rotating as Slack issues them); its single-request ack (ms) and one row of figures per size."""
    bot_token, secret, key = "xoxb-bench-" + secrets.token_hex(6), secrets.token_hex(16), "api_bench_key"
    with SlackStandIn(bot_token="" if oauth else bot_token, token_rotation_enabled=oauth) as slack, \
            NimroboSimulator(keys={key: ALL_SCOPES}) as nimrobo, PlutoSimulator() as pluto, \
            tempfile.TemporaryDirectory() as tmp:
        with NimroboClient(nimrobo.url + "/api", key) as client:
            project = client.create_project("Bench Role", PROMPT)
            client.create_links(project.id, ["Ada", "Alan"], "1_week")
        port = free_port()
        env = {**os.environ, "SLACK_BOT_TOKEN": bot_token, "SLACK_SIGNING_SECRET": secret, "SLACK_APP_TOKEN": "",
               "SLACK_API_URL": slack.url + "/api/", "NIMROBO_API_BASE_URL": nimrobo.url + "/api",
               "NIMROBO_API_KEY": key, "PLUTO_API_BASE_URL": pluto.url + "/api", "OPENAI_API_KEY": "",
               "DATABASE_PATH": str(Path(tmp) / "bot.db"), "PORT": str(port), "WORK_POOL_SIZE": str(POOL),
               "LOG_LEVEL": "WARNING", "POLL_INTERVAL_SECONDS": "3600"}
        if oauth:
            from cryptography.fernet import Fernet

            env.update(SLACK_BOT_TOKEN="", SLACK_CLIENT_ID=slack.client_id, SLACK_CLIENT_SECRET=slack.client_secret,
                       SLACK_STATE_SECRET=secrets.token_hex(16), ENCRYPTION_KEY=Fernet.generate_key().decode())
        bot = subprocess.Popen([sys.executable, "-m", "bot"], cwd=ROOT, env=env)
        try:
            url = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    if httpx.get(url + "/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            if oauth:
                slack.app.redirect_urls = [url + "/slack/oauth_redirect"]
                installed = slack.install_via_browser(url + "/slack/install", slack.team_id)
                if installed.status_code != 200:
                    raise SystemExit(f"the install did not finish: HTTP {installed.status_code}")
            signer = SlackSigner(url, secret, slack)
            signer.http = httpx.Client(timeout=30, limits=httpx.Limits(max_connections=400))
            nimrobo.faults.latency = pluto.faults.latency = args.latency
            auth_tests = len(slack.api_calls("auth.test"))
            singles = []
            for _ in range(5):
                started = time.perf_counter()
                signer.command("/pluto", "help", user="U_SINGLE")
                singles.append((time.perf_counter() - started) * 1000)
            rows = []
            for i, n in enumerate(int(x) for x in args.sizes.split(",")):
                before = ack_histogram(url)
                row = fire(signer, slack, n, f"R{i}", project.id, args.latency)
                row["bot_p50"], row["bot_p99"], row["bot_mean"] = server_side(before, ack_histogram(url))
                rows.append(row)
            rows[-1]["auth_tests"] = len(slack.api_calls("auth.test")) - auth_tests
            return statistics.median(singles), rows
        finally:
            bot.terminate()
            bot.wait(15)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=2.0)
    parser.add_argument("--sizes", default="50,200")
    parser.add_argument("--mode", choices=("both", "single", "oauth"), default="both",
                        help="single-workspace (the baseline), OAuth mode (one installed workspace), or both")
    args = parser.parse_args()
    modes = [m for m in ("single", "oauth") if args.mode in (m, "both")]
    results = {mode: run(args, oauth=mode == "oauth") for mode in modes}
    cores = os.cpu_count() or 1
    print(f"bot over HTTP (uvicorn), backends at {args.latency * 1000:.0f} ms, WORK_POOL_SIZE={POOL}, {cores} cores; "
          + "; ".join(f"{mode}: single-request ack {single:.1f} ms" for mode, (single, _) in results.items()))
    print(f"{'mode':>6} {'N':>5} {'non-200':>8} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9} {'all answered':>13}"
          f" {'expected s':>12} {'serial floor ms':>16} | {'bot p50 ms':>10} {'bot p99 ms':>10} {'bot mean ms':>11}")
    sizes = [int(x) for x in args.sizes.split(",")]
    for i, n in enumerate(sizes):  # the modes side by side, size by size
        for mode, (single, rows) in results.items():
            r = rows[i]
            print(f"{mode:>6} {n:>5} {r['non200']:>8.0f} {r['p50']:>9.0f} {r['p99']:>9.0f} {r['max']:>9.0f}"
                  f" {r['answered']:>13.1f}{'' if r['everyone'] else '*'} {r['expected']:>12.1f}"
                  f" {n * single / cores:>16.0f} | {r['bot_p50']:>10.1f} {r['bot_p99']:>10.1f} {r['bot_mean']:>11.1f}")
    if "oauth" in results:
        total = sum(sizes) + 5
        print(f"OAuth mode: {results['oauth'][1][-1]['auth_tests']} auth.test call(s) for {total} requests "
              "from the one workspace (Bolt's authorize cache: one per token)")
    print("left of |: measured by the client (Slack's view); right: the bot's pluto_bot_ack_seconds "
          "histogram from GET /metrics (bucket-interpolated, as histogram_quantile)")
    print("(* = not everyone was answered before the deadline)")


if __name__ == "__main__":
    main()
