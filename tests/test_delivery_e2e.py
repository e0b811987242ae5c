"""One delivery engine for every post the bot owes (services/outbox.py, bot/delivery.py), end to end.

The bot runs against the Slack test bed, which enforces Slack's own rate tiers where a test asks
(:meth:`sandbox.slack_api.SlackStandIn.real_tiers`, rates scaled up so the tests stay short;
the bot's pace is scaled by the same factor) and counts every 429 they cause.

* 200 completed interviews over 4 channels: each posted once, channels served side by side,
  never past Slack's per-channel pace.
* Posts into one thread keep their order; twenty updates of one message coalesce into fewer
  calls, ending in the newest state; nothing past a tier (this fails with the write limiter off).
* Two replicas with leader election switched off race for the same posts: each posted once
  (this fails with the claim off: both would send every waiting row).
* The leader killed between claim and post: the next leader posts it without waiting for the
  claim timeout (set to an hour here).
"""

import httpx
import pytest

from bot.blocks import Message, info_message
from bot.delivery import Deliveries
from bot.slack_out import SlackOut
from sandbox.replicas import Replicas
from sandbox.stack import Stack, StackOptions
from services.leader import EPOCH_KEY
from services.nimrobo import NimroboClient
from services.outbox import Outbox
from services.store import Store

USER = "U_ALICE"
SCALE = 20.0  # Slack's tiers and the bot's pace, 20 times faster: the same shape in a twentieth of the time


def completed(slack, channel=None):
    return [m for m in slack.messages(channel)
            if (m.get("metadata") or {}).get("event_type") == "voice_session_completed"]


def health(stack):
    """What GET /health says about the outbox."""
    return httpx.get(stack.bot_url + "/health", timeout=5).json()["outbox"]


def make_projects(nimrobo_url, key, count, per_project):
    nimrobo = NimroboClient(nimrobo_url + "/api", key)
    out = []
    for p in range(count):
        project = nimrobo.create_project(f"Delivery {p}", "## Goal\nTalk")
        out.append((project.id, nimrobo.create_links(project.id, [f"P{p}-{i}" for i in range(per_project)],
                                                     "1_week")))
    return out


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    options = StackOptions(nimrobo={"evaluation_delay": 0.05, "summary_delay": 0.05},
                           database_path=str(tmp_path_factory.mktemp("delivery") / "bot.db"),
                           settings={"slack_posts_per_second": SCALE, "slack_updates_per_minute": 50 * SCALE,
                                     "api_concurrency": 16, "claim_timeout_seconds": 3600.0})
    with Stack(options) as s:
        s.slack.real_tiers(scale=SCALE)
        yield s


def test_200_completions_over_4_channels_are_each_posted_once_within_slacks_pace(stack):
    channels = [f"C_DELIVERY_{i}" for i in range(4)]
    projects = make_projects(stack.nimrobo.url, stack.nimrobo_key, 4, 50)
    for (project_id, _), channel in zip(projects, channels, strict=True):
        stack.signer.command("/voicelink", f"subscribe {project_id}", user=USER, channel=channel)
    stack.slack.wait_for(lambda: len([r for r in stack.slack.responses(USER)
                                      if "will be posted here" in r["text"]]) == 4, timeout=20)
    sessions = {}
    for (_, links), channel in zip(projects, channels, strict=True):
        for link in links:
            sessions[stack.nimrobo.start_session(link.id)] = channel
    for session in sessions:
        stack.nimrobo.complete_session(session)
    stack.slack.wait_for(lambda: len(completed(stack.slack)) >= 200, timeout=120)
    stack.slack.wait_for(lambda: health(stack)["waiting"] == 0, timeout=30)
    posted = [(m["metadata"]["event_payload"]["session_id"], m["channel"]) for m in completed(stack.slack)]
    assert sorted(posted) == sorted(sessions.items())  # each once, in its own channel
    assert stack.slack.tier_refusals == []  # never past Slack's per-channel pace
    assert health(stack) == {"waiting": 0, "oldest_age_seconds": 0.0, "channels_waiting": 0, "channels_paced": []}


def test_thread_order_kept_updates_coalesced_and_no_tier_exceeded(stack):
    services, slack = stack.services, stack.slack
    out = SlackOut(stack.runtime.client)
    deliveries = Deliveries(services, out)
    channel = "C_PACED"
    parent = out.post(channel, info_message("Thread parent"))
    board = out.post(channel, info_message("Board v0"))
    refused_before = len(slack.tier_refusals)
    # 30 posts into one thread and 20 states of one board, decided faster than Slack takes them
    for i in range(30):
        deliveries.post(f"test_thread:{i}", channel, info_message(f"reply {i}"), parent)
        if i < 20:
            deliveries.update(channel, board, Message(f"Board v{i + 1}"))
    # /health shows them waiting, and the channel being paced
    seen = slack.wait_for(lambda: (h := health(stack))["waiting"] and channel in h["channels_paced"] and h,
                          timeout=10)
    assert seen["oldest_age_seconds"] >= 0 and seen["channels_waiting"] >= 1
    slack.wait_for(lambda: len(slack.messages(channel, thread_ts=parent)) >= 30, timeout=30)
    slack.wait_for(lambda: slack.message(channel, board)["text"] == "Board v20", timeout=30)
    replies = [m["text"] for m in slack.messages(channel, thread_ts=parent)]
    assert replies == [f"reply {i}" for i in range(30)]  # in the order decided, each once
    updates = [c for c in slack.api_calls("chat.update") if c["params"].get("ts") == board]
    assert 1 <= len(updates) < 20  # coalesced: twenty states, fewer calls, the newest shown
    assert slack.tier_refusals[refused_before:] == []  # the write limiter kept every call within its tier
    assert Outbox(services.store).get(f"update:{channel}:{board}")["state"] == "sent"


# -- replicas (real bot processes) on PostgreSQL ------------------------------------------------------------
def subscribe(replicas, projects, channels):
    slack = replicas.slack
    for (project_id, _), channel in zip(projects, channels, strict=True):
        replicas.signer().command("/voicelink", f"subscribe {project_id}", user=USER, channel=channel)
    slack.wait_for(lambda: len([r for r in slack.responses(USER) if "will be posted here" in r["text"]])
                   == len(channels), timeout=30)


def test_two_replicas_without_leader_election_race_for_the_same_posts_each_posted_once(pg_url):
    channels = ("C_RACE_A", "C_RACE_B")
    # Both replicas run the watcher and the sender; the posts wait in their channels' queues (10 a second
    # each) where both senders see them: only the claim keeps one of them from sending.
    settings = {"LEADER_ELECTION": "false", "SLACK_POSTS_PER_SECOND": "10", "OUTBOX_POLL_SECONDS": "0.05",
                "CLAIM_TIMEOUT_SECONDS": "3600"}
    with Replicas(pg_url, count=2, poll_interval=1.0, settings=settings) as replicas:
        slack = replicas.slack
        slack.wait_for(lambda: len(replicas.leaders()) == 2, timeout=20)  # no election: both run the jobs
        projects = make_projects(replicas.nimrobo.url, replicas.nimrobo_key, 2, 20)
        subscribe(replicas, projects, channels)
        sessions = {}
        for (_, links), channel in zip(projects, channels, strict=True):
            for link in links:
                sessions[replicas.nimrobo.start_session(link.id)] = channel
        for session in sessions:
            replicas.nimrobo.complete_session(session)
        slack.wait_for(lambda: len(completed(slack)) >= 40, timeout=60)
        store = Store(pg_url)
        try:
            slack.wait_for(lambda: Outbox(store).stats().waiting == 0, timeout=30)
        finally:
            store.close()
        posted = [(m["metadata"]["event_payload"]["session_id"], m["channel"]) for m in completed(slack)]
        assert sorted(posted) == sorted(sessions.items())  # each exactly once


def test_leader_killed_between_claim_and_post_the_next_leader_posts_it_without_a_timeout(pg_url):
    channel = "C_TAKEOVER"
    with Replicas(pg_url, count=2, poll_interval=1.0, claim_timeout=3600.0) as replicas:
        slack = replicas.slack
        leader = slack.wait_for(replicas.leader, timeout=20)
        store = Store(pg_url)
        try:
            epoch = int(store.kv_get(EPOCH_KEY))
            leader.kill()
            # What the leader left: a post queued and claimed under its epoch, never sent (the live flow
            # after a kill is tests/test_replicas_e2e.py's).
            outbox, key = Outbox(store), f"voice_session_completed:sess_killed:{channel}"
            payload = {"text": "P0-1 finished", "metadata": {"event_type": "voice_session_completed",
                                                             "event_payload": {"session_id": "sess_killed",
                                                                               "outbox_key": key}}}
            assert outbox.enqueue(key, channel, "post", payload)
            assert outbox.claim(outbox.get(key), epoch)
            [survivor] = replicas.live
            row = slack.wait_for(lambda: (outbox.get(key) or {}).get("state") == "sent" and outbox.get(key),
                                 timeout=30)  # far inside the hour the claim timeout would take
        finally:
            store.close()
        assert row["epoch"] > epoch  # settled by the survivor's new epoch
        [post] = completed(slack, channel)
        assert post["ts"] == row["message_ts"] and post["metadata"]["event_payload"]["session_id"] == "sess_killed"
        assert [c for c in slack.api_calls("conversations.history") if c["params"].get("channel") == channel]
        assert "leader epoch" in survivor.log()
