"""Workflow Builder steps end to end: the real bot over HTTP, the Slack test bed's function executions
(``function_executed`` with the execution's own ``xwfp-`` token, ``functions.completeSuccess`` /
``completeError``), the Pluto and Nimrobo simulators.

One stack for the module; the restart test stops and starts the bot on it.
"""

import httpx
import pytest

from sandbox.stack import Stack, StackOptions
from tests.conftest import eventually

USER, OUTSIDER, CHANNEL = "U_ALICE", "U_MALLORY", "C_HIRING"
PROMPT = "## Goal\nHear the candidate.\n## Role\nInterviewer.\n## Guidelines\nBe kind.\n## Constraints\nTen minutes."
CSV = (
    b"name,email,current_title,years_experience,skills\n"
    b"Ada Lovelace,ada@example.com,Data Engineer,9,Python|SQL\n"
    b"Alan Turing,alan@example.com,Data Engineer,12,Python|SQL\n"
    b"Grace Hopper,grace@example.com,Data Engineer,20,SQL|COBOL\n"
)


@pytest.fixture(scope="module")
def stack():
    options = StackOptions(pluto={"extract_seconds": 0.3, "score_seconds": 0.6},
                           nimrobo={"evaluation_delay": 0, "summary_delay": 0},
                           settings={"step_stale_seconds": 0.5})
    with Stack(options) as s:
        s.slack.members[CHANNEL] = {USER, s.slack.bot_user_id}  # the outsider is not in the channel
        s.services.nimrobo_shared.create_project("Backend Engineer", PROMPT)
        yield s


def run_step(stack, callback_id, inputs, timeout=20):
    """Start a step as Workflow Builder does; the execution once Slack has its outcome."""
    execution, ack = stack.signer.function_executed(callback_id, inputs)
    assert ack.status_code == 200  # acknowledged at once; the work runs after the ack
    return eventually(lambda: (e := stack.slack.execution(execution["id"]))["state"] != "running" and e,
                      timeout=timeout)


def score_step(stack, user=USER, channel=CHANNEL, name="engineers.csv"):
    file = stack.slack.add_file(name, CSV, user=user)
    return run_step(stack, "score_candidates", {"user_id": user, "file_id": file["id"], "channel_id": channel,
                                                "job_description": "Title: Data Engineer\n- Python and SQL"})


def test_create_voice_link_outputs_the_url_and_posts_nothing(stack):
    before = len(stack.slack.timeline)
    done = run_step(stack, "create_voice_link", {"user_id": USER, "candidate_name": "Ada Lovelace",
                                                 "project": "backend engineer", "expiry": "1_day"})
    assert done["state"] == "completed" and done["completed_by"] == "function"  # with the execution's own token
    link = stack.nimrobo.links[done["outputs"]["link_id"]]
    assert link["label"] == "Ada Lovelace" and link["expiryPreset"] == "1_day"
    url = done["outputs"]["link_url"]
    assert url.endswith(link["token"]) or link["token"] in url
    # the URL leaves only through the outputs: the bot posted nothing anywhere
    assert [e["kind"] for e in stack.slack.timeline[before:]] == ["function_completed"]
    # the execution's token is dead once the step completed, as in Slack
    answer = httpx.post(stack.slack.url + "/api/chat.postMessage", data={"channel": CHANNEL, "text": "hi"},
                        headers={"Authorization": f"Bearer {done['token']}"}).json()
    assert answer == {"ok": False, "error": "token_revoked"}


def test_a_redelivered_event_runs_the_step_once(stack):
    execution = stack.slack.start_function("create_voice_link", {"user_id": USER, "candidate_name": "Once",
                                                                 "project": "Backend Engineer"})
    event = {"type": "function_executed", "function": execution["function"], "inputs": execution["inputs"],
             "function_execution_id": execution["id"], "bot_access_token": execution["token"]}
    stack.signer.event(event)
    stack.signer.event(event)  # Slack retries with a new event id
    eventually(lambda: stack.slack.execution(execution["id"])["state"] == "completed")
    assert [link["label"] for link in stack.nimrobo.links.values()].count("Once") == 1


@pytest.mark.parametrize("inputs, says", [
    ({"candidate_name": "Ada", "project": "No Such Role"}, "Project not found"),
    ({"candidate_name": "Ada", "project": "Backend Engineer", "expiry": "2_years"}, "use 1_day, 1_week or 1_month"),
    ({"user_id": "", "candidate_name": "Ada", "project": "Backend Engineer"}, "Person who used this workflow"),
])
def test_a_step_that_cannot_work_fails_with_a_sentence_the_author_can_act_on(stack, inputs, says):
    before = len(stack.nimrobo.links)
    done = run_step(stack, "create_voice_link", {"user_id": USER, **inputs})
    assert done["state"] == "failed" and says in done["error"]
    assert "*" not in done["error"] and "`" not in done["error"]  # plain text for Workflow Builder
    assert len(stack.nimrobo.links) == before


def test_score_step_completes_when_the_shortlist_is_posted_queue_included(stack):
    first_file = stack.slack.add_file("first.csv", CSV, user=USER)
    first, _ = stack.signer.function_executed("score_candidates", {
        "user_id": USER, "file_id": first_file["id"], "channel_id": CHANNEL, "job_description": "Data Engineer"})
    eventually(lambda: (e := stack.services.steps.get(first["id"])) and e.state != "working")  # its run is queued
    done = score_step(stack, name="second.csv")  # queued behind the first: Pluto runs one at a time
    assert done["state"] == "completed" and done["completed_by"] == "bot"  # finished later, by the job
    runs = {r.filename: r for r in stack.services.scoring.list_runs()}
    run = runs["second.csv"]
    assert run.started_at >= runs["first.csv"].finished_at  # it waited its turn in the queue
    ranked = sorted(run.candidates, key=lambda c: c.rank)
    outputs = done["outputs"]
    assert outputs == {"run_id": run.id, "run_permalink": outputs["run_permalink"],
                       "top_candidate": ranked[0].name, "count": 3}
    assert outputs["run_permalink"].endswith("/archives/C_HIRING/p" + run.thread_ts.replace(".", ""))
    shortlist = next(m for m in stack.slack.messages(CHANNEL, thread_ts=run.thread_ts)
                     if (m.get("metadata") or {}).get("event_type") == "pluto_scoring_completed")
    completed = next(e for e in stack.slack.timeline if e["kind"] == "function_completed"
                     and e["execution_id"] == done["id"])
    assert completed["seq"] > next(e["seq"] for e in stack.slack.timeline if e.get("ts") == shortlist["ts"])
    eventually(lambda: stack.slack.execution(first["id"])["state"] == "completed")


def test_score_step_refuses_a_channel_the_person_is_not_in_and_a_file_slack_does_not_have(stack):
    done = score_step(stack, user=OUTSIDER)
    assert done["state"] == "failed" and "not a member of" in done["error"]
    assert not [r for r in stack.services.scoring.list_runs() if r.user == OUTSIDER]
    gone = run_step(stack, "score_candidates", {"user_id": USER, "file_id": "F_GONE", "channel_id": CHANNEL,
                                                "job_description": "Data Engineer"})
    assert gone["state"] == "failed" and "would not give Pluto Bot the file (file_not_found)" in gone["error"]


def test_voice_screen_step_outputs_the_board_and_link_ids_as_the_runner(stack):
    scored = score_step(stack, name="screen-me.csv")
    run_link = scored["outputs"]["run_permalink"]
    denied = run_step(stack, "voice_screen_top", {"user_id": OUTSIDER, "run": run_link, "top_n": 2})
    assert denied["state"] == "failed" and "can't show you that shortlist" in denied["error"]

    done = run_step(stack, "voice_screen_top", {"user_id": USER, "run": run_link, "top_n": 2})
    assert done["state"] == "completed", done["error"]
    run = stack.services.scoring.get(scored["outputs"]["run_id"])
    board = stack.services.screening.board_for_run(run.id)
    assert done["outputs"]["board_permalink"].endswith("p" + board.message_ts.replace(".", ""))
    ids = done["outputs"]["link_ids"]
    assert len(ids) == 2 and {stack.nimrobo.links[i]["label"] for i in ids} == {c.name for c in
                                                                               sorted(run.candidates,
                                                                                      key=lambda c: c.rank)[:2]}
    urls = [stack.nimrobo.links[i]["token"] for i in ids]
    assert all(any(u in str(m["blocks"]) for m in stack.slack.dms(USER)) for u in urls)  # to the runner, by DM
    assert not any(u in str(m) for u in urls for m in stack.slack.messages(CHANNEL))  # never in the channel
    again = run_step(stack, "voice_screen_top", {"user_id": USER, "run": run.id, "top_n": 2})
    assert sorted(again["outputs"]["link_ids"]) == sorted(ids)  # already screened: no second links


def test_steps_cut_short_by_a_restart_are_resumed_or_failed_with_the_reason(stack):
    # a scoring step waiting on its run when the bot stops
    file = stack.slack.add_file("restart.csv", CSV, user=USER)
    waiting, _ = stack.signer.function_executed("score_candidates", {
        "user_id": USER, "file_id": file["id"], "channel_id": CHANNEL, "job_description": "Data Engineer"})
    eventually(lambda: (stack.services.steps.get(waiting["id"]) or 0) and
               stack.services.steps.get(waiting["id"]).state == "waiting")
    # a link step that was asking Nimrobo when the bot died: nothing can tell whether the link exists
    cut = stack.slack.start_function("create_voice_link", {"user_id": USER, "candidate_name": "Cut",
                                                           "project": "Backend Engineer"})
    stack.services.steps.begin(cut["id"], "create_voice_link", USER, cut["inputs"])
    stack.services.steps.note(cut["id"], "batch:deadbeef0000")
    stack.stop_bot()
    assert stack.slack.execution(waiting["id"])["state"] == "running"
    stack.start_bot()

    resumed = eventually(lambda: (e := stack.slack.execution(waiting["id"]))["state"] != "running" and e, timeout=20)
    assert resumed["state"] == "completed" and resumed["outputs"]["count"] == 3
    failed = eventually(lambda: (e := stack.slack.execution(cut["id"]))["state"] != "running" and e)
    assert failed["state"] == "failed" and "restarted while asking Nimrobo" in failed["error"]
    assert "/voicelink list" in failed["error"]


def test_steps_and_the_pane_work_over_socket_mode_too():
    """Most teams run Socket Mode: a step and a question in the pane arrive as events_api envelopes."""
    with Stack(StackOptions(mode="socket", pluto={"extract_seconds": 0.2, "score_seconds": 0.3})) as s:
        s.services.nimrobo_shared.create_project("Backend Engineer", PROMPT)
        execution, ack = s.signer.function_executed("create_voice_link", {
            "user_id": USER, "candidate_name": "Sock Et", "project": "Backend Engineer"})
        assert ack.status_code == 200
        done = eventually(lambda: (e := s.slack.execution(execution["id"]))["state"] != "running" and e)
        assert done["state"] == "completed" and done["outputs"]["link_id"] in s.nimrobo.links
        thread, ack = s.signer.assistant_thread_started(USER)
        eventually(lambda: s.slack.assistant_thread(thread["channel_id"], thread["thread_ts"])["prompts"])
        s.signer.assistant_message(thread, "How are my voice links doing?")
        eventually(lambda: [m for m in s.slack.messages(thread["channel_id"], thread_ts=thread["thread_ts"])
                            if m.get("bot_id") and "Sock Et (Backend Engineer): active" in m["text"]])


def test_a_link_url_is_never_stored_and_is_read_back_when_a_restart_lost_it(stack):
    from bot.flows import steps as steps_flow

    stack.slack.rate_limit("functions.completeSuccess", burst=0, retry_after=1, window=3600)  # Slack won't take it
    execution, _ = stack.signer.function_executed("create_voice_link", {
        "user_id": USER, "candidate_name": "Kept Secret", "project": "Backend Engineer"})
    eventually(lambda: (e := stack.services.steps.get(execution["id"])) and e.state == "finishing")
    link = next(link for link in stack.nimrobo.links.values() if link["label"] == "Kept Secret")
    stored = stack.services.steps.get(execution["id"])
    assert stored.outputs == {"link_id": link["id"], "link_url": ""}  # the URL is a bearer secret: never stored
    assert link["token"] not in str(stack.services.store.rows("function_executions"))

    stack.stop_bot()
    steps_flow._SECRETS.clear()  # what the process held in memory is gone with it
    stack.slack.clear_rate_limits()
    stack.start_bot()
    done = eventually(lambda: (e := stack.slack.execution(execution["id"]))["state"] != "running" and e, timeout=20)
    assert done["state"] == "completed" and done["completed_by"] == "bot"
    assert link["token"] in done["outputs"]["link_url"]  # read back from Nimrobo as its creator
