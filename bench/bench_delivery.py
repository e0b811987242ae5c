"""How fast the outbox delivers at Slack's own pace, and what a leader kill costs.

1. Drain: 200 posts enqueued at once over 1, 4 and 16 channels; seconds until the last is in
   Slack (the test bed enforcing Slack's tiers: 1 post a second per channel with short bursts),
   side by side with Slack's floor (posts per channel at 1 a second) and the 429s Slack sent.
2. Leader kill: two bot processes on one PostgreSQL; posts keep being enqueued in 4 channels;
   the leader is killed (SIGKILL) at a random moment, right after claiming a post it will never
   send. The worst delay of any post enqueued from one poll interval before the kill to two after
   (enqueue -> in Slack), and of the claimed one (kill -> in Slack), against the poll interval.

    .venv/bin/python bench/bench_delivery.py [--posts 200] [--scale 1] [--kills 3] [--skip-kill] [--skip-drain]

``--scale`` runs Slack's tiers and the bot's pace that many times faster (the floor too), for a
quick look; the README's figures are at scale 1. Needs Debian's postgresql for part 2.
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.blocks import info_message  # noqa: E402
from bot.delivery import Deliveries, with_key  # noqa: E402
from bot.slack_out import SlackOut  # noqa: E402
from sandbox.stack import Stack, StackOptions  # noqa: E402
from services.leader import EPOCH_KEY  # noqa: E402
from services.outbox import Outbox  # noqa: E402
from services.store import Store  # noqa: E402

POLL = 1.0
FEED_EVERY = 1.25  # seconds between two posts in each fed channel (Slack takes one a second)


def drain(posts: int, channels: int, scale: float) -> tuple[float, float, int]:
    """(seconds to drain, Slack's floor, 429s) for ``posts`` posts over ``channels`` channels."""
    options = StackOptions(openai=False, settings={"slack_posts_per_second": scale,
                                                   "slack_updates_per_minute": 50 * scale})
    with Stack(options) as stack:
        stack.slack.real_tiers(scale=scale)
        deliveries = Deliveries(stack.services, SlackOut(stack.runtime.client))
        names = [f"C_BENCH_{c}" for c in range(channels)]
        for name in names:  # the channel's privacy is looked up (and cached) before the clock starts
            deliveries.out.is_public(name)
        started = time.monotonic()
        for i in range(posts):
            deliveries.post(f"bench:{channels}:{i}", names[i % channels], info_message(f"post {i}"))
        target = posts
        while len([m for m in stack.slack.messages() if m["channel"].startswith("C_BENCH_")]) < target:
            time.sleep(0.02)
        elapsed = time.monotonic() - started
        per_channel = -(-posts // channels)
        return elapsed, per_channel / scale, len(stack.slack.tier_refusals)


def kill_costs(kills: int, seed: int) -> tuple[list[float], list[float]]:
    """Worst delay of posts around each kill, and the delay of the post claimed by the killed leader."""
    from sandbox.postgres import TempPostgres
    from sandbox.replicas import Replicas

    rng = random.Random(seed)
    around: list[float] = []
    claimed: list[float] = []
    with TempPostgres() as pg:
        url = pg.create_database("bench_delivery")
        settings = {"LOG_LEVEL": "WARNING", "CLAIM_TIMEOUT_SECONDS": "3600"}
        with Replicas(url, count=2, poll_interval=POLL, settings=settings) as replicas:
            slack = replicas.slack
            slack.real_tiers()
            slack.wait_for(replicas.leader, timeout=30)
            store = Store(url)
            outbox = Outbox(store)
            stop = threading.Event()
            seq = iter(range(10**9))

            def enqueue(key: str, channel: str) -> None:
                payload = with_key({"text": key}, key)
                outbox.enqueue(key, channel, "post", payload)

            def feed() -> None:  # one post every 1.25 s in each of 4 channels: below Slack's pace
                while not stop.is_set():
                    n = next(seq)
                    for c in range(4):
                        enqueue(f"feed:{n}:{c}", f"C_KILL_{c}")
                    stop.wait(FEED_EVERY)

            feeder = threading.Thread(target=feed, daemon=True)
            feeder.start()
            try:
                for k in range(kills):
                    time.sleep(2 + rng.uniform(0, POLL))
                    leader = replicas.leader()
                    if leader is None:
                        continue
                    epoch = int(store.kv_get(EPOCH_KEY))
                    leader.kill()
                    killed = time.time()
                    key = f"claimed:{k}"  # what it held: claimed under its epoch, never sent
                    enqueue(key, "C_KILL_CLAIMED")
                    outbox.claim(outbox.get(key), epoch)
                    slack.wait_for(lambda key=key: (outbox.get(key) or {}).get("state") == "sent", timeout=60)
                    claimed.append(_posted_at(slack, key) - killed)
                    time.sleep(2 * POLL)  # the posts enqueued up to two intervals after the kill ...
                    window = "key like 'feed:%' and created_at between ? and ?"
                    span = [killed - POLL, killed + 2 * POLL]
                    slack.wait_for(lambda w=window, s=span: store.count("outbox", w + " and state != 'sent'", s) == 0,
                                   timeout=60)  # ... all in Slack
                    rows = store.rows("outbox", window, span)
                    delays = [(_posted_at(slack, r["key"]) - r["created_at"], r["created_at"] - killed, r["key"])
                              for r in rows if r["state"] == "sent"]
                    worst = max(delays) if delays else (float("nan"), 0.0, "")
                    print(f"  kill {k + 1}: worst {worst[0]:.2f}s ({worst[2]}, enqueued {worst[1]:+.2f}s from the "
                          f"kill); claimed post in Slack {claimed[-1]:.2f}s after the kill", flush=True)
                    around.append(worst[0])
                    replicas.add()  # the orchestrator brings a replacement up
            finally:
                stop.set()
                feeder.join()
                store.close()
    return around, claimed


def _posted_at(slack, key: str) -> float:
    for call in slack.api_calls("chat.postMessage"):
        if ((call["params"].get("metadata") or {}).get("event_payload") or {}).get("outbox_key") == key:
            return float(call["time"])
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-kill", action="store_true")
    parser.add_argument("--skip-drain", action="store_true")
    args = parser.parse_args()
    ok = True
    if not args.skip_drain:
        print(f"drain {args.posts} posts (Slack's tiers enforced by the test bed, pace x{args.scale:g})")
        print(f"{'channels':>8} {'seconds':>8} {'floor':>7} {'x floor':>8} {'429s':>5}")
    for channels in () if args.skip_drain else (1, 4, 16):
        elapsed, floor, refused = drain(args.posts, channels, args.scale)
        ok &= elapsed <= 1.3 * floor and refused == 0
        print(f"{channels:>8} {elapsed:>8.1f} {floor:>7.1f} {elapsed / floor:>8.2f} {refused:>5}", flush=True)
    if not args.skip_kill:
        around, claimed = kill_costs(args.kills, args.seed)
        print(f"leader kills: {len(claimed)}; poll interval {POLL:g} s")
        print(f"{'':>34} {'worst':>7} {'x poll':>7}")
        if around:
            worst = max(around)
            print(f"{'posts enqueued around the kill':>34} {worst:>6.2f}s {worst / POLL:>7.2f}")
        if claimed:
            worst_claimed = max(claimed)
            ok &= worst_claimed <= 2 * POLL
            print(f"{'the post the dead leader claimed':>34} {worst_claimed:>6.2f}s {worst_claimed / POLL:>7.2f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
