"""Two bot processes on one PostgreSQL behind the Slack test bed; the leader is killed mid-run.

Signed Slack requests alternate between the replicas (a modal opened through one is submitted
through the other). Every completed interview and every scoring result is posted exactly
once, and the scheduled jobs resume on the survivor.
"""

import pytest

from sandbox.replicas import Replicas
from services.nimrobo import NimroboClient
from services.store import Store
from tests.conftest import score_with_form
from tests.test_scoring_e2e import CSV

USER = "U_ALICE"
CHANNELS = ("C_REPLICA_A", "C_REPLICA_B")
LABELS = [f"Candidate {i}" for i in range(1, 9)]


@pytest.fixture()
def replicas(pg_url):
    with Replicas(pg_url, count=2, poll_interval=1.0, claim_timeout=2.0) as r:
        yield r


def by_metadata(slack, event_type, channel=None):
    return [m for m in slack.messages(channel) if (m.get("metadata") or {}).get("event_type") == event_type]


def start_scoring(replicas, channel, name):
    file = replicas.slack.add_file(name, CSV, user=USER)
    # the command and the file's check on one replica; the other replica takes the form's second step
    form = score_with_form(replicas.signer(), file, jd="Engineer", top_n=3, user=USER, channel=channel,
                           then=replicas.signer())
    assert form.submitted.status_code == 200


@pytest.mark.timeout(400)  # two real bot processes on PostgreSQL and two scoring runs, on a 2-core machine
def test_two_replicas_kill_the_leader_every_post_exactly_once(replicas, pg_url):
    slack = replicas.slack
    leader = slack.wait_for(replicas.leader, timeout=20)
    assert len(replicas.leaders()) == 1  # the other replica serves Slack but runs no jobs
    # Slack re-sends an event; the two deliveries reach different replicas: handled once.
    event = {"type": "app_home_opened", "user": "U_BOB", "channel": "D2", "tab": "home"}
    for _ in range(2):
        assert replicas.signer().event(event, event_id="EvREPLICATED1").status_code == 200
    slack.wait_for(lambda: slack.home("U_BOB"))
    nimrobo = NimroboClient(replicas.nimrobo.url + "/api", replicas.nimrobo_key)
    project = nimrobo.create_project("Replica test", "## Goal\nTalk")
    links = nimrobo.create_links(project.id, LABELS, "1_week")
    for channel in CHANNELS:  # each subscription through a different replica
        replicas.signer().command("/voicelink", f"subscribe {project.id}", user=USER, channel=channel)
    slack.wait_for(lambda: len([r for r in slack.responses(USER) if "will be posted here" in r["text"]]) == 2)
    start_scoring(replicas, CHANNELS[0], "first.csv")
    sessions = [replicas.nimrobo.start_session(link.id) for link in links]
    for session in sessions[:4]:
        replicas.nimrobo.complete_session(session)
    slack.wait_for(lambda: by_metadata(slack, "voice_session_completed"), timeout=30)  # the leader is at work

    leader.kill()  # mid-run: some interviews posted, others not yet; a scoring run under way
    for session in sessions[4:]:
        replicas.nimrobo.complete_session(session)
    start_scoring(replicas, CHANNELS[1], "second.csv")  # requests now reach the survivor only
    [survivor] = replicas.live
    slack.wait_for(lambda: survivor.is_leader, timeout=20)

    expected = {(s, c) for s in sessions for c in CHANNELS}
    store = Store(pg_url)
    try:
        def all_settled():
            rows = store.rows("session_notifications")
            done = {(r["session_id"], r["channel"]) for r in rows if r["state"] == "posted"}
            posts = store.rows("outbox", "state = 'sent' and (key like 'pluto_scoring_completed:%' or "
                                         "key like 'pluto_export%')")
            return done >= expected and len(posts) == 6  # 2 runs x (shortlist, masked export, full export by DM)
        try:
            slack.wait_for(all_settled, timeout=240)  # the survivor finishes both runs one after the other
        except AssertionError as exc:
            rows = store.rows("outbox", "key like 'pluto%'")
            runs = store.rows("scoring_runs")
            notes = {(r["session_id"], r["channel"]): r["state"] for r in store.rows("session_notifications")}
            missing = {pair: notes.get(pair) for pair in expected if notes.get(pair) != "posted"}
            posts = [(r["key"], r["state"], r.get("error")) for r in store.rows("outbox", "key like 'voice%'")]
            raise AssertionError(f"{exc}\noutbox: {[(r['key'], r['state']) for r in rows]}\n"
                                 f"runs: {[(r['filename'], r['state'], r.get('error')) for r in runs]}\n"
                                 f"not posted: {missing}\nvoice posts: {posts}") from None
        posted = [(m["metadata"]["event_payload"]["session_id"], m["channel"])
                  for m in by_metadata(slack, "voice_session_completed")]
        assert sorted(posted) == sorted(expected)  # each exactly once: nothing lost, nothing twice
        shortlists = by_metadata(slack, "pluto_scoring_completed")
        assert sorted(m["metadata"]["event_payload"]["filename"] for m in shortlists) == ["first.csv", "second.csv"]
        in_channels = [u for u in slack.uploads() if not u["channel"].startswith("D") and u["filename"].endswith(".csv")]
        assert sorted(u["filename"] for u in in_channels) == ["first-ranked.csv", "second-ranked.csv"]
        charts = lambda: [u["filename"] for u in slack.uploads() if u["filename"].endswith(".png")]  # noqa: E731
        slack.wait_for(lambda: len(charts()) >= 2, timeout=30)  # each run's score chart, once across replicas
        assert sorted(charts()) == ["first-score-distribution.png", "second-score-distribution.png"]
        by_dm = [u for u in slack.uploads() if u["channel"].startswith("D")]
        assert sorted(u["filename"] for u in by_dm) == ["first-ranked.csv", "second-ranked.csv"]
        recorded = {r["message_ts"] for r in store.rows("session_notifications")}
        assert recorded == {m["ts"] for m in by_metadata(slack, "voice_session_completed")}
    finally:
        store.close()
    assert "now runs the scheduled jobs" in survivor.log()
    assert len([c for c in slack.api_calls("views.publish") if c["params"].get("user_id") == "U_BOB"]) == 1
