"""SIGTERM loses nothing: two bot processes on one database; the leader is stopped mid-scoring-run and
mid-voice-batch, with a grace period too short for the batch to finish.

The stopped replica hands the leadership over and records the batch as interrupted; the survivor
takes over, finishes the scoring run (its shortlist posted once) and resumes the batch: what Nimrobo
already made is adopted, only what is missing is created, every link reaches its creator privately,
and no label gets two links. The replicas log JSON, one object a line.
"""

import json

import pytest

from sandbox.replicas import Replicas
from sandbox.signer import SlackSigner
from services.store import Store
from tests.conftest import score_with_form
from tests.test_scoring_e2e import CSV
from tests.test_voicelink_e2e import SECTIONS, form

USER, CHANNEL = "U_ALICE", "C_HIRING"
LABELS = ["Ada", "Alan", "Grace"]


@pytest.fixture()
def replicas(tmp_path):
    with Replicas(str(tmp_path / "bot.db"), count=2, poll_interval=1.0, claim_timeout=2.0,
                  pluto={"extract_seconds": 0.3, "score_seconds": 4.0},
                  settings={"SHUTDOWN_GRACE_SECONDS": "1", "LOG_FORMAT": "json"}) as r:
        yield r


def json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def shortlists(slack):
    return [m for m in slack.messages(CHANNEL) if (m.get("metadata") or {}).get("event_type") ==
            "pluto_scoring_completed"]


def test_sigterm_mid_scoring_run_and_mid_voice_batch_loses_nothing(replicas, tmp_path):
    slack, nimrobo = replicas.slack, replicas.nimrobo
    leader = slack.wait_for(replicas.leader, timeout=20)
    to_leader = SlackSigner(leader.url, replicas.signing_secret, slack)
    store = Store(str(tmp_path / "bot.db"))
    try:
        # A scoring run the leader drives ...
        file = slack.add_file("candidates.csv", CSV, user=USER)
        scored = score_with_form(to_leader, file, jd="Engineer", top_n=3, user=USER, channel=CHANNEL)
        assert scored.submitted.status_code == 200
        slack.wait_for(lambda: store.rows("scoring_runs", "state = 'running'"), timeout=20)
        # ... and a voice batch it is creating on its work pool, with Nimrobo slow.
        before = len(slack.views(user=USER))
        to_leader.command("/voicelink", "create", user=USER, channel=CHANNEL)
        view = slack.wait_for(lambda: slack.views(user=USER)[before:])[-1]
        nimrobo.faults.configure(latency=2.0)
        to_leader.view_submission(view, form(view, name="QA Lead", labels="\n".join(LABELS), **SECTIONS), user=USER)
        slack.wait_for(lambda: store.rows("voice_batches", "state = 'creating'"), timeout=20)

        leader.stop()  # SIGTERM, and wait for the process to end
        assert leader.proc.returncode == 0
        nimrobo.faults.configure(latency=0.0)
        log = json_lines(leader.log())  # JSON logs: every line one object
        messages = [line["message"] for line in log]
        assert any("hands the leadership over" in m for m in messages)
        assert any("unfinished voice batch" in m for m in messages)

        [survivor] = replicas.live
        slack.wait_for(lambda: survivor.is_leader, timeout=20)
        # The scoring run finishes on the survivor: its shortlist posted once.
        slack.wait_for(lambda: shortlists(slack), timeout=40)
        # The batch is resumed: every label has exactly one link, all delivered to their creator.
        batch = slack.wait_for(lambda: store.rows("voice_batches", "state = 'created'"), timeout=40)[0]
        made = [link for link in nimrobo.links.values()]
        assert sorted(link["label"] for link in made) == sorted(LABELS)
        assert len(nimrobo.projects) == 1  # a project the stopped replica had asked for is adopted, not made twice
        slack.wait_for(lambda: all(link["url"] in "\n".join(str(m["blocks"]) for m in slack.dms(USER))
                                   for link in made), timeout=20)  # every link reached its creator privately
        assert len(store.rows("voice_links", "batch_id = ?", [batch["id"]])) == len(LABELS)
        survivor_log = json_lines(survivor.log())
        assert any("resumed voice batch" in line["message"] for line in survivor_log)
        assert len(shortlists(slack)) == 1
        assert len(store.rows("scoring_runs", "state = 'complete'")) == 1
    finally:
        store.close()
        to_leader.close()
