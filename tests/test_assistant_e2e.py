""""Ask Pluto" end to end: the real bot over HTTP, the Slack test bed's assistant threads
(``assistant_thread_started``, ``assistant_thread_context_changed``, questions as ``message.im`` in the
thread; ``assistant.threads.setStatus`` / ``setSuggestedPrompts`` / ``setTitle``), the OpenAI stand-in's
scripted tool calls, and the Pluto and Nimrobo simulators.

One stack with OpenAI for the module, and one without it for the plain matcher.
"""

import json

import pytest

from sandbox.stack import Stack, StackOptions
from tests.conftest import eventually

USER, OUTSIDER, HIRING, SALES = "U_ALICE", "U_MALLORY", "C_HIRING", "C_SALES"
CSV = (
    b"name,email,current_title,years_experience,skills\n"
    b"Ada Lovelace,ada@example.com,Data Engineer,9,Python|SQL\n"
    b"Alan Turing,alan@example.com,Data Engineer,12,Python|SQL\n"
    b"Grace Hopper,grace@example.com,Data Engineer,20,SQL|COBOL\n"
)
SALES_CSV = (
    b"name,email,current_title,years_experience,skills\n"
    b"Mary Seller,mary@example.com,Account Executive,7,Negotiation\n"
    b"Tom Closer,tom@example.com,Account Executive,3,Prospecting\n"
)
OPTIONS = dict(pluto={"extract_seconds": 0.2, "score_seconds": 0.3}, nimrobo={"evaluation_delay": 0,
                                                                              "summary_delay": 0})


def setup_stack(s):
    for channel in (HIRING, SALES):
        s.slack.members[channel] = {USER, s.slack.bot_user_id}  # the outsider is in neither
    runs = {channel: score(s, channel, data) for channel, data in ((HIRING, CSV), (SALES, SALES_CSV))}
    return runs


def score(s, channel, data):
    """A finished run in ``channel`` (through the scoring step: the shortest way in)."""
    file = s.slack.add_file(f"{channel.lower()}.csv", data, user=USER)
    execution, _ = s.signer.function_executed("score_candidates", {
        "user_id": USER, "file_id": file["id"], "channel_id": channel, "job_description": "Title: Engineer"})
    done = eventually(lambda: (e := s.slack.execution(execution["id"]))["state"] != "running" and e, timeout=20)
    assert done["state"] == "completed", done["error"]
    return s.services.scoring.get(done["outputs"]["run_id"])


@pytest.fixture(scope="module")
def stack():
    with Stack(StackOptions(**OPTIONS)) as s:
        s.runs = setup_stack(s)
        yield s


def top(run, n=1):
    return [c.name for c in sorted(run.candidates, key=lambda c: c.rank)[:n]]


def open_pane(s, user=USER, beside=None):
    thread, ack = s.signer.assistant_thread_started(user, beside)
    assert ack.status_code == 200
    eventually(lambda: s.slack.assistant_thread(thread["channel_id"], thread["thread_ts"])["prompts"])
    return thread


def ask(s, thread, text):
    """Ask in the pane; the bot's answer (the next message it posts in the thread)."""
    def answers():
        return [m for m in s.slack.messages(thread["channel_id"], thread_ts=thread["thread_ts"])
                if m.get("bot_id") and m.get("user") == s.slack.bot_user_id and m["ts"] != thread["thread_ts"]]
    before = len(answers())
    posted, ack = s.signer.assistant_message(thread, text)
    assert ack.status_code == 200
    return eventually(lambda: answers()[before:], timeout=15)[0]


def test_opening_the_pane_titles_it_and_suggests_prompts_fitted_to_the_person(stack):
    mine = stack.slack.assistant_thread(**_key(open_pane(stack, USER)))
    assert mine["title"] == "Ask Pluto"
    titles = [p["title"] for p in mine["prompts"]]
    assert len(titles) == 4 and any(stack.runs[SALES].filename in t for t in titles)  # their last run, by name
    assert "Top candidates of my last run" in [p["message"] for p in mine["prompts"]]
    theirs = stack.slack.assistant_thread(**_key(open_pane(stack, OUTSIDER)))
    assert "How do I score candidates?" in [p["title"] for p in theirs["prompts"]]
    assert not any(".csv" in p["title"] for p in theirs["prompts"])  # nothing of runs they may not see


def test_a_question_is_answered_through_tools_with_a_status_and_its_sources(stack):
    run = stack.runs[HIRING]
    thread = open_pane(stack, USER, beside=HIRING)
    calls, requests, seq = len(stack.openai.tool_calls), len(stack.openai.requests), len(stack.slack.timeline)
    answer = ask(stack, thread, "Top candidates of my last run")

    # the tools the model asked for, with what arguments; the pane's channel decided the run
    assert stack.openai.tool_calls[calls:] == [("list_runs", {"limit": 1}),
                                               ("run_candidates", {"run_id": run.id, "limit": 5})]
    sent_back = [m for body in stack.openai.requests[requests:] for m in body["messages"] if m["role"] == "tool"]
    assert top(run)[0] in json.loads(sent_back[-1]["content"])["summary"]
    assert {t["function"]["name"] for t in stack.openai.requests[requests]["tools"]} >= {
        "list_runs", "run_candidates", "list_boards", "board_candidates", "pending_decisions", "interviews",
        "interview_details", "propose_voice_links", "propose_decision"}

    # a status while working, the answer with the shortlist's permalink, the status cleared by the reply
    kinds = [e["kind"] for e in stack.slack.timeline[seq:]]
    assert "assistant_status" in kinds and kinds.index("assistant_status") < kinds.index("message")
    assert [e["status"] for e in stack.slack.timeline[seq:] if e["kind"] == "assistant_status"][0]
    assert top(run)[0] in answer["text"]
    sources = str(answer["blocks"][-1])
    assert "Sources" in sources and f"/archives/{HIRING}/p{run.thread_ts.replace('.', '')}" in sources
    assert stack.slack.assistant_thread(**_key(thread))["status"] == ""


def test_a_pane_moved_to_another_channel_starts_from_that_channels_runs(stack):
    thread = open_pane(stack, USER, beside=HIRING)
    assert top(stack.runs[HIRING])[0] in ask(stack, thread, "Top candidates of my last run")["text"]
    stack.signer.assistant_context_changed(thread, SALES)
    eventually(lambda: (stack.services.assistant.context(thread["channel_id"], thread["thread_ts"]) or {})
               .get("channel_id") == SALES)
    calls = len(stack.openai.tool_calls)
    answer = ask(stack, thread, "Top candidates of my last run")
    assert stack.openai.tool_calls[calls + 1] == ("run_candidates", {"run_id": stack.runs[SALES].id, "limit": 5})
    assert top(stack.runs[SALES])[0] in answer["text"] and top(stack.runs[HIRING])[0] not in answer["text"]


def test_an_outsiders_question_never_reaches_data_they_may_not_see(stack):
    run = stack.runs[HIRING]
    names = [c.name for c in run.candidates]
    thread = open_pane(stack, OUTSIDER, beside=HIRING)
    requests, calls = len(stack.openai.requests), len(stack.openai.tool_calls)
    first = ask(stack, thread, "Top candidates of my last run")
    forged = ask(stack, thread, f"Show me the candidates of run {run.id}")  # an id they learned somehow

    assert ("run_candidates", {"run_id": run.id, "limit": 5}) in stack.openai.tool_calls[calls:]
    seen_by_openai = json.dumps(stack.openai.requests[requests:])
    assert not any(name in seen_by_openai for name in names)  # no tool ever returned them
    assert not any(name in first["text"] + forged["text"] for name in names)
    assert "can't show you that shortlist" in forged["text"]
    assert "No scoring runs" in first["text"] or "no finished scoring run" in first["text"]
    assert "Sources" not in str(first["blocks"]) + str(forged["blocks"])  # no links to their threads either


def test_voice_sessions_are_listed_only_to_those_who_may_see_them(stack):
    stack.services.nimrobo_shared.create_project("Support Lead", "## Goal\nx\n## Role\nx\n## Guidelines\nx\n"
                                                                 "## Constraints\nx")
    execution, _ = stack.signer.function_executed("create_voice_link", {
        "user_id": USER, "candidate_name": "Vera Voice", "project": "Support Lead"})
    eventually(lambda: stack.slack.execution(execution["id"])["state"] == "completed")
    calls = len(stack.openai.tool_calls)
    assert "Vera Voice (Support Lead): active" in ask(stack, open_pane(stack, USER), "How are my voice links doing?")["text"]
    assert stack.openai.tool_calls[calls:] == [("voice_sessions", {"since_hours": 168})]
    assert "Vera Voice" not in ask(stack, open_pane(stack, OUTSIDER), "How are my voice links doing?")["text"]


def test_actions_are_proposed_with_a_button_and_done_only_when_pressed(stack):
    run = stack.runs[HIRING]
    thread = open_pane(stack, USER, beside=HIRING)
    links = len(stack.nimrobo.links)
    answer = ask(stack, thread, "Create voice links for the top 2 of my last run")
    buttons = [e for b in answer["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [b["text"]["text"] for b in buttons] == ["Create 2 voice links"]
    assert len(stack.nimrobo.links) == links  # proposed, nothing created

    stack.signer.block_action(buttons[0]["action_id"], buttons[0]["value"], block_id="assistant_actions",
                              user=USER, channel=thread["channel_id"], message=answer)
    done = eventually(lambda: [m for m in stack.slack.messages(thread["channel_id"], thread_ts=thread["thread_ts"])
                               if "Created 2 voice links" in m["text"]])
    closed = stack.slack.message(thread["channel_id"], answer["ts"])
    assert "actions" not in [b["type"] for b in closed["blocks"]] and "Created 2 voice links" in str(closed["blocks"])
    made = [link for link in stack.nimrobo.links.values() if link["label"] in top(run, 2)]
    assert len(stack.nimrobo.links) == links + 2 and len(made) == 2
    assert all(any(link["token"] in str(m["blocks"]) for m in stack.slack.dms(USER)) for link in made)
    assert not any(link["token"] in str(done) for link in made)  # the reply links the board, not the links
    board = stack.services.screening.board_for_run(run.id)
    assert board.message_ts and board.thread_ts == run.thread_ts

    # an interview completes; the decision waiting for it is proposed, then recorded on the press
    first = next(link for link in made if link["label"] == top(run)[0])
    session = stack.nimrobo.start_session(first["id"])
    stack.nimrobo.complete_session(session)
    eventually(lambda: any(r.voice_state == "completed" for r in stack.services.screening.board_view(board.id).rows),
               timeout=20)
    waiting = ask(stack, thread, "What is waiting for my decision?")
    assert top(run)[0] in waiting["text"]
    proposal = ask(stack, thread, f"Advance {top(run)[0]}")
    [press] = [e for b in proposal["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert press["text"]["text"] == f"Advance {top(run)[0]}"
    candidate = next(c.id for c in run.candidates if c.name == top(run)[0])
    assert stack.services.screening.decision(board.id, candidate) is None
    stack.signer.block_action(press["action_id"], press["value"], block_id="assistant_actions", user=USER,
                              channel=thread["channel_id"], message=proposal)
    decided = eventually(lambda: stack.services.screening.decision(board.id, candidate))
    assert decided.decision == "advance" and decided.user == USER


# -- without OpenAI ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def plain():
    with Stack(StackOptions(openai=False, **OPTIONS)) as s:
        s.runs = {HIRING: (s.slack.members.update({HIRING: {USER, s.slack.bot_user_id}}), score(s, HIRING, CSV))[1]}
        yield s


def test_without_openai_the_suggested_prompts_still_work_and_anything_else_gets_help(plain):
    assert plain.openai is None
    thread = open_pane(plain, USER, beside=HIRING)
    prompts = plain.slack.assistant_thread(**_key(thread))["prompts"]
    answers = {p["message"]: ask(plain, thread, p["message"])["text"] for p in prompts}
    assert top(plain.runs[HIRING])[0] in answers["Top candidates of my last run"]
    assert answers["What is waiting for my decision?"] == "Nothing is waiting for your decision."
    assert "Voice links for the top 3" in answers["Create voice links for the top 3 of my last run"]
    help_answer = ask(plain, thread, "Write me a poem about hiring")["text"]
    assert "Try “Top candidates of my last run”" in help_answer and len(help_answer) < 600


def _key(thread):
    return {"channel": thread["channel_id"], "thread_ts": thread["thread_ts"]}
