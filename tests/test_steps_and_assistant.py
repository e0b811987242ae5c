"""Unit tests: the Workflow Builder steps' state machine (services/steps.py) and the assistant's tools
(services/assistant.py) refusing alike whether or not a run exists."""

import time

import pytest

from config import Settings
from services.access import AccessService
from services.assistant import AssistantService
from services.scoring import ScoringService
from services.steps import StepService, plain
from services.store import Store


class Members:
    def __init__(self, members):
        self._members = members

    def members(self, channel):
        return self._members.get(channel, set())

    def is_admin(self, user):
        return False


def test_an_execution_is_taken_once_decided_once_and_sent_once(database):  # SQLite, then PostgreSQL
    store = Store(database)
    steps = StepService(store, stale_seconds=1.0)  # also how long a decided outcome rests before a resend
    assert steps.begin("Fx1", "score_candidates", "U1", {"user_id": "U1"})
    assert not steps.begin("Fx1", "score_candidates", "U1", {})  # the event again
    steps.wait_for("Fx1", "run:abc")
    assert [e.id for e in steps.waiting_rows()] == ["Fx1"] and steps.get("Fx1").waiting_on == ("run", "abc")
    assert steps.succeed("Fx1", {"count": 3})
    assert not steps.fail("Fx1", "too late")  # the first outcome stands
    assert steps.to_send() == []  # the replica that decided it is sending it now
    time.sleep(1.05)
    assert [e.outputs for e in steps.to_send()] == [{"count": 3}]
    steps.sent("Fx1")
    done = steps.get("Fx1")
    assert done.state == "completed" and not steps.to_send() and not steps.any_open()
    assert done.inputs == {} and done.outputs is None  # names and job descriptions are not kept past the end
    store.close()


def test_only_a_step_left_working_past_the_stale_time_counts_as_interrupted(store):
    steps = StepService(store, stale_seconds=0.2)
    steps.begin("Fx2", "create_voice_link", "U1", {})
    assert steps.interrupted() == []
    time.sleep(0.25)
    assert [e.id for e in steps.interrupted()] == ["Fx2"]
    steps.fail("Fx2", "restarted")
    steps.sent("Fx2")
    assert steps.get("Fx2").state == "failed" and steps.interrupted() == []


def test_errors_for_workflow_builder_are_plain_sentences():
    assert plain(":lock: I can't show you *that* shortlist. Try `/pluto results`.") == \
        "I can't show you that shortlist. Try /pluto results."
    assert plain("use 1_day or 1_week") == "use 1_day or 1_week"
    assert len(plain("x" * 2000)) == 500


@pytest.fixture()
def tools(store):
    settings = Settings()
    access = AccessService(store, Members({"C_HIRING": {"U_ALICE"}}))
    scoring = ScoringService(store, settings, client=None, access=access)
    store.insert("scoring_runs", {"id": "run000000001", "seq": 1, "base_url": "x", "channel": "C_HIRING",
                                  "thread_ts": "1.0", "user": "U_ALICE", "filename": "secret.csv", "state": "complete",
                                  "results_json": [{"id": "c1", "name": "Ada Secret", "rank": 1, "final_score": 90}],
                                  "created_at": time.time()})
    service = AssistantService(store, scoring, screening=None, access=access, settings=settings)  # type: ignore[arg-type]  # the parts this test does not use
    return lambda user: service.tools(user)


def test_a_tool_refuses_the_same_way_whether_or_not_the_run_exists(tools):
    outsider = tools("U_MALLORY")
    real = outsider.call("run_candidates", {"run_id": "run000000001"})
    made_up = outsider.call("run_candidates", {"run_id": "run999999999"})
    assert real == made_up and "can't show you that shortlist" in real["error"]
    assert "Ada Secret" not in str(outsider.call("list_runs", {})) and outsider.cites == []
    member = tools("U_ALICE")
    assert "Ada Secret" in member.call("run_candidates", {"run_id": "run000000001"})["summary"]
    assert [c.label for c in member.cites] == ["Shortlist · secret.csv"]


def test_an_unknown_tool_or_bad_arguments_are_an_error_result_not_a_crash(tools):
    member = tools("U_ALICE")
    assert "no tool called" in member.call("drop_tables", {})["error"]
    assert "Wrong arguments" in member.call("run_candidates", {"sql": "select *"})["error"]


def test_an_assistant_threads_context_is_kept_and_replaced(database):  # SQLite, then PostgreSQL
    store = Store(database)
    service = AssistantService(store, scoring=None, screening=None, access=None, settings=Settings())  # type: ignore[arg-type]  # the parts this test does not use
    assert service.context("D1", "1.0") is None
    service.save_context("D1", "1.0", "U1", {"channel_id": "C1"})
    service.save_context("D1", "1.0", "", {"channel_id": "C2"})  # the person moved
    assert service.context("D1", "1.0") == {"channel_id": "C2"}
    store.close()
