"""The hiring loop end to end: the real bot over HTTP, the Slack test bed, the Pluto and Nimrobo simulators.

CSV → shortlist → "Voice-screen top 3" (the modal prefilled, then submitted) → two interviews completed
(one with a late evaluation) and one failed → the Screening board shows both signals, sorts three
ways, records Advance / Reject, exports a matching CSV; each completed interview is saved to Pluto;
the App Home shows it all.
"""

import csv
import io
import re

import pytest

from sandbox.slack_api import validate_blocks, validate_view
from sandbox.stack import Stack, StackOptions
from tests.conftest import db_options, score_with_form

USER, OUTSIDER, NEWCOMER, CHANNEL = "U_ALICE", "U_MALLORY", "U_NEW", "C_HIRING"
JD = """Title: Data Engineer

Requirements:
- Python and SQL in production
- Clear written communication
"""
CSV = (
    b"name,email,current_title,years_experience,skills\n"
    b"Ada Lovelace,ada@example.com,Data Engineer,9,Python|SQL\n"
    b"Alan Turing,alan@example.com,Data Engineer,12,Python|SQL\n"
    b"Grace Hopper,grace@example.com,Data Engineer,20,SQL|COBOL\n"
    b"Joan Clarke,joan@example.com,Analyst,4,SQL\n"
    b"=HYPERLINK(\"http://evil\"),evil@example.com,Hacker,1,Python\n"
)


@pytest.fixture()
def stack(database):  # each test runs on SQLite and on PostgreSQL
    options = StackOptions(pluto={"extract_seconds": 0.2, "score_seconds": 0.3},
                           nimrobo={"evaluation_delay": 0, "summary_delay": 0}, **db_options(database))
    with Stack(options) as s:
        s.slack.members[CHANNEL] = {USER, s.slack.bot_user_id}  # the outsider is not in the channel
        yield s


# -- helpers ---------------------------------------------------------------------------------------
def score(stack):
    """/pluto score with the CSV and the job description; the shortlist message once it is posted."""
    file = stack.slack.add_file("data-engineers.csv", CSV, user=USER)
    score_with_form(stack.signer, file, jd=JD, top_n=5, user=USER, channel=CHANNEL)
    return stack.slack.wait_for(lambda: [m for m in stack.slack.messages(CHANNEL) if (m.get("metadata") or {})
                                         .get("event_type") == "pluto_scoring_completed"], timeout=20)[-1]


def block(message, prefix):
    return next(b for b in message["blocks"] if (b.get("block_id") or "").startswith(prefix))


def form_values(view, **changes):
    values = {}
    for b in view["blocks"]:
        if b["type"] != "input":
            continue
        key, element = b["block_id"].split("~")[0], b["element"]
        if element["type"] == "static_select":
            values[b["block_id"]] = {element["action_id"]: {"type": "static_select", "selected_option": {
                "value": changes.get(key) or element["initial_option"]["value"]}}}
        else:
            values[b["block_id"]] = {element["action_id"]: {"type": "plain_text_input",
                                                            "value": changes.get(key, element.get("initial_value"))}}
    return values


def inputs(view):
    return {b["block_id"].split("~")[0]: b["element"].get("initial_value") for b in view["blocks"]
            if b["type"] == "input"}


def board_message(stack):
    boards = [m for m in stack.slack.messages(CHANNEL) if (m.get("metadata") or {}).get("event_type") ==
              "screening_board"]
    return boards


def current_board(stack):
    return stack.slack.message(CHANNEL, board_message(stack)[0]["ts"])


def rows(message):
    """(position, name, text) of each candidate section on the board, in order."""
    found = []
    for b in message["blocks"]:
        text = (b.get("text") or {}).get("text", "") if b["type"] == "section" else ""
        match = re.match(r"\*(\d+)\. (.+?)\* · Pluto", text)
        if match:
            found.append((int(match.group(1)), match.group(2), text))
    return found


def names(message):
    return [name for _, name, _ in rows(message)]


def row_text(message, name):
    return next(text for _, n, text in rows(message) if n == name)


def act(stack, message, action_id, value, user=USER, **kw):
    return stack.signer.block_action(action_id, value, block_id=kw.pop("block_id", "b"), user=user,
                                     channel=CHANNEL, message=message, **kw)


def open_screen_form(stack, shortlist, n):
    """Pick "Top n" in the shortlist's Voice-screen select; the filled modal (after its loading view)."""
    tools = block(shortlist, "screen_top|")
    run_id = tools["block_id"].split("|", 1)[1]
    act(stack, shortlist, "screen_top_pick", None, block_id=tools["block_id"], action_type="static_select",
        selected_option={"value": f"{run_id}|{n}"})
    title = f"Voice-screen top {n}"
    return run_id, stack.slack.wait_for(lambda: [v for v in stack.slack.views(user=USER)
                                                 if v["title"]["text"] == title and v.get("submit")])[-1]


# -- the whole loop -------------------------------------------------------------------------------
def test_the_whole_loop_from_csv_to_a_ranked_screened_shortlist(stack):
    shortlist = score(stack)
    ranked = stack.services.scoring.latest(CHANNEL).candidates
    top3 = [c.name for c in ranked[:3]]
    assert block(shortlist, "screen_top|")["elements"][0]["text"]["text"] == "Voice-screen top 5"

    # "Voice-screen top 3" opens the /voicelink create modal, Interview pattern, prefilled; nothing exists yet
    run_id, view = open_screen_form(stack, shortlist, 3)
    assert validate_view(view) == [] and view["callback_id"] == "voicelink_create"
    prefilled = inputs(view)
    assert prefilled["name"] == "Data Engineer" and prefilled["labels"].splitlines() == top3
    assert "Relevant experience | number" in prefilled["eval_questions"]
    assert "Python and SQL in production | number" in prefilled["eval_questions"]
    assert all(prefilled[k] for k in ("goal", "role", "guidelines", "constraints"))
    assert "Data Engineer" in prefilled["role"]
    assert stack.nimrobo.projects == {} and stack.nimrobo.links == {}

    response = stack.signer.view_submission(view, form_values(view), user=USER)
    assert response.status_code == 200 and not response.content  # closes at once; links made after the ack

    # the links, privately; the board, in the run's thread
    dm = stack.slack.wait_for(lambda: [m for m in stack.slack.dms(USER)
                                       if re.match(r"Your \d+ voice links for ", m["text"])])[-1]
    urls = re.findall(r"<(http[^>|]+/link/[^>|]+)>", str(dm["blocks"]))
    assert len(urls) == 3
    board = stack.slack.wait_for(lambda: board_message(stack))[0]
    assert board["thread_ts"] == shortlist["thread_ts"] and validate_blocks(board["blocks"]) == []
    assert not any(u in str(board) for u in urls)
    assert sorted(names(board)) == sorted(top3) and "voice: :envelope: invited" in str(board["blocks"])
    [project] = stack.nimrobo.projects.values()
    assert project["name"] == "Data Engineer" and len(project["evaluator"]["questions"]) == 6
    links = {link["label"]: link for link in stack.nimrobo.links.values()}
    tied = {r["label"]: r["candidate_id"] for r in stack.services.store.rows("screening_links")}
    assert tied == {c.name: c.id for c in ranked[:3]}

    # the DM choice is per board and per person
    act(stack, board, "board_dm", block(board, "board_tools|")["elements"][2]["value"])
    stack.slack.wait_for(lambda: [e for e in stack.slack.ephemerals(USER) if "DM when an interview" in e["text"]])

    # interviews: the best one completes with its evaluation, the second's evaluation comes late, the third fails
    first, second, third = top3
    questions = {q["label"]: q["id"] for q in project["evaluator"]["questions"]}
    numbers = [q["id"] for q in project["evaluator"]["questions"] if q["type"] == "number"]
    sessions = {name: stack.nimrobo.start_session(links[name]["id"]) for name in top3}
    stack.nimrobo.complete_session(sessions[first], evaluation={
        **dict.fromkeys(numbers, 9), questions["Recommendation (advance, hold or reject)"]: "Advance — strong SQL"})
    stack.nimrobo.complete_session(sessions[second], evaluation_delay=3600, evaluation={
        **dict.fromkeys(numbers, 3), questions["Communication"]: 2})
    stack.nimrobo.fail_session(sessions[third])

    stack.slack.wait_for(lambda: "completed" in row_text(current_board(stack), first)
                         and "failed" in row_text(current_board(stack), third))
    stack.slack.wait_for(lambda: "Evaluation not written yet" in row_text(current_board(stack), second), timeout=20)
    now = current_board(stack)
    assert "Recommendation: *advance*" in row_text(now, first) and "Relevant experience 9" in row_text(now, first)
    assert "†" in row_text(now, second)  # no evaluation yet: Pluto alone, marked
    ada_saved = stack.slack.wait_for(lambda: stack.pluto.saved_analytics.get(ranked[0].id))
    assert ada_saved[0]["analytics"]["evaluation"]["Relevant experience"] == 9
    assert ranked[1].id not in stack.pluto.saved_analytics and ranked[2].id not in stack.pluto.saved_analytics

    stack.nimrobo.evaluate_session(sessions[second])  # the late evaluation arrives
    stack.slack.wait_for(lambda: "Communication 2" in row_text(current_board(stack), second))
    saved = stack.slack.wait_for(lambda: stack.pluto.saved_analytics.get(ranked[1].id))
    assert saved[0]["analytics"]["evaluation"]["Communication"] == 2 and len(saved) == 1
    assert len(stack.pluto.saved_analytics[ranked[0].id]) == 1

    # one board message, updated in place; each completion also went to the thread and, as chosen, by DM
    assert len(board_message(stack)) == 1 and current_board(stack)["updates"] >= 3
    thread = stack.slack.messages(CHANNEL, thread_ts=shortlist["thread_ts"])
    posted = [m for m in thread if (m.get("metadata") or {}).get("event_type") == "voice_session_completed"]
    assert len(posted) == 3
    completed_dms = [m for m in stack.slack.dms(USER) if m["text"].startswith("Interview completed")]
    assert sorted(m["text"] for m in completed_dms) == sorted(f"Interview completed: {n}" for n in (first, second))

    # three ways to sort
    board = current_board(stack)
    tools = block(board, "board_tools|")["block_id"]
    board_id = tools.split("|", 1)[1]
    by = {}
    for sort in ("pluto", "evaluation", "combined"):
        act(stack, board, "board_sort", None, block_id=tools, action_type="static_select",
            selected_option={"value": f"{board_id}|{sort}"})
        shown = f"sorted by *{ {'pluto': 'Pluto score', 'evaluation': 'Evaluation', 'combined': 'Combined'}[sort]}*"
        board = stack.slack.wait_for(lambda shown=shown: shown in str(current_board(stack)["blocks"])
                                     and current_board(stack))
        by[sort] = names(board)
    assert by["pluto"] == top3
    assert by["evaluation"] == [first, second, third]  # 90 > 27.5 > none
    scores = {c.name: c.final_score for c in ranked}
    combined = {first: (scores[first] + 90) / 2, second: (scores[second] + 27.5) / 2, third: scores[third]}
    # the interviewed by combined score, then the not-interviewed-yet group (third) under its own heading
    assert by["combined"] == sorted([first, second], key=lambda n: -combined[n]) + [third]
    assert "mean of the Pluto final score" in str(board["blocks"]) and "*Not interviewed yet*" in str(board["blocks"])

    # Advance / Reject, with who and when; undo
    ids = {c.name: c.id for c in ranked}
    act(stack, board, "board_advance", f"{board_id}|{ids[first]}")
    act(stack, board, "board_reject", f"{board_id}|{ids[third]}")
    stack.slack.wait_for(lambda: "*Advanced* by <@U_ALICE>" in row_text(current_board(stack), first)
                         and "*Rejected* by <@U_ALICE>" in row_text(current_board(stack), third))
    act(stack, current_board(stack), "board_undo", f"{board_id}|{ids[third]}")
    stack.slack.wait_for(lambda: "Rejected" not in row_text(current_board(stack), third))
    act(stack, current_board(stack), "board_reject", f"{board_id}|{ids[third]}")
    stack.slack.wait_for(lambda: "*Rejected*" in row_text(current_board(stack), third))

    # details in a modal only the presser sees; the transcript to their DM, never the channel
    act(stack, current_board(stack), "board_details", f"{board_id}|{ids[first]}")
    details = stack.slack.wait_for(lambda: [v for v in stack.slack.views(user=USER)
                                            if v["title"]["text"] == "Screened candidate" and "Evaluation answers"
                                            in str(v["blocks"])])[-1]
    assert "Red flags" in str(details["blocks"]) and "saved to the candidate in Pluto" in str(details["blocks"])
    act(stack, current_board(stack), "board_transcript", f"{board_id}|{ids[first]}")
    transcript = stack.slack.wait_for(lambda: [u for u in stack.slack.uploads()
                                               if u["filename"] == f"transcript-{sessions[first]}.txt"])[-1]
    assert transcript["channel"] == stack.slack.dm_channel(USER) and b"Interviewer: Hi " in transcript["content"]

    # someone outside the channel may neither decide nor export
    act(stack, current_board(stack), "board_advance", f"{board_id}|{ids[third]}", user=OUTSIDER)
    refusal = stack.slack.wait_for(lambda: [m for m in stack.slack.dms(OUTSIDER) + stack.slack.ephemerals(OUTSIDER)
                                            if "can't show you" in m["text"]])
    assert refusal and "*Rejected*" in row_text(current_board(stack), third)
    uploads = len(stack.slack.uploads())
    act(stack, current_board(stack), "board_export", board_id, user=OUTSIDER)
    stack.slack.wait_for(lambda: len([m for m in stack.slack.dms(OUTSIDER) + stack.slack.ephemerals(OUTSIDER)
                                      if "can't show you" in m["text"]]) == 2)
    assert len(stack.slack.uploads()) == uploads

    # the export: by DM, in the board's order, both signals and the decisions, formula-safe
    act(stack, current_board(stack), "board_export", board_id)
    upload = stack.slack.wait_for(lambda: [u for u in stack.slack.uploads() if u["filename"].endswith(
        "-screening.csv")])[-1]
    assert upload["channel"] == stack.slack.dm_channel(USER)
    table = list(csv.DictReader(io.StringIO(upload["content"].decode())))
    safe = ["'" + n if n.startswith("=") else n for n in names(current_board(stack))]  # formula cells escaped
    assert [r["name"] for r in table] == safe
    exported = {r["name"].removeprefix("'"): r for r in table}
    assert exported[first]["decision"] == "advanced" and exported[first]["evaluation_score"] == "90"
    assert exported[second]["evaluation_score"] == "27.5" and exported[second]["eval: Communication"] == "2"
    assert exported[first]["email"] == ranked[0].email and exported[first]["voice_state"] == "completed"
    assert exported[third]["decision"] == "rejected" and exported[third]["voice_state"] == "failed"
    assert exported[second]["pluto_final_score"] == f"{scores[second]:g}"
    assert exported[second]["ranked_by_pluto_only"] == "no" and exported[third]["ranked_by_pluto_only"] == "yes"
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in table for cell in r.values() if cell)

    # App Home for the recruiter: runs, the board with its counts, projects, interviews since the last look
    stack.signer.event({"type": "app_home_opened", "user": USER, "channel": "D1", "tab": "home"})
    home = stack.slack.wait_for(lambda: stack.slack.home(USER))
    assert validate_view(home) == [] and len(home["blocks"]) <= 100
    text = str(home["blocks"])
    assert "data-engineers.csv" in text and "3 invited · 2 completed · 1 advanced" in text
    assert "Active voice projects" in text or "Data Engineer" in text
    assert "Interviews finished since you last looked" in text and first in text
    assert "ada@example.com" not in text
    assert any(e.get("url") for b in home["blocks"] for e in [b.get("accessory") or {}])  # Open board


def test_one_candidate_at_a_time_a_failed_save_to_pluto_and_app_home_for_a_newcomer(stack):
    shortlist = score(stack)
    ranked = stack.services.scoring.latest(CHANNEL).candidates
    run_id = block(shortlist, "screen_top|")["block_id"].split("|", 1)[1]
    # no board yet: the card's Voice-screen opens the form for that one candidate
    act(stack, shortlist, "screen_one", f"{run_id}|{ranked[1].id}")
    view = stack.slack.wait_for(lambda: [v for v in stack.slack.views(user=USER)
                                         if v["title"]["text"] == "Voice-screen" and v.get("submit")])[-1]
    assert inputs(view)["labels"] == ranked[1].name
    # a label that is not a candidate of the run is refused under its field, and nothing is created
    refused = stack.signer.view_submission(view, form_values(view, labels="Somebody Else"), user=USER).json()
    assert refused["response_action"] == "errors" and "not a candidate of this run" in str(refused["errors"])
    assert stack.nimrobo.links == {}
    stack.signer.view_submission(view, form_values(view), user=USER)
    board = stack.slack.wait_for(lambda: board_message(stack))[0]
    assert names(board) == [ranked[1].name]
    # with a board, the next one goes straight onto the run's screening project
    act(stack, shortlist, "screen_one", f"{run_id}|{ranked[3].id}")
    stack.slack.wait_for(lambda: len(rows(current_board(stack))) == 2)
    assert len(stack.nimrobo.projects) == 1 and len(stack.nimrobo.links) == 2
    dms = [m for m in stack.slack.dms(USER) if "voice links" in m["text"]]
    assert len(dms) == 2 and ranked[3].name in str(dms[-1]["blocks"])
    # asking again for someone already invited is refused
    act(stack, shortlist, "screen_one", f"{run_id}|{ranked[3].id}")
    stack.slack.wait_for(lambda: [e for e in stack.slack.ephemerals(USER) if "Already invited" in e["text"]])
    assert len(stack.nimrobo.links) == 2

    # a save to Pluto that fails is told in the thread, never dropped, and can be retried
    stack.pluto.faults.script("POST /api/pluto/candidates/{cid}/analytics", "error_500")
    link = next(link for link in stack.nimrobo.links.values() if link["label"] == ranked[1].name)
    stack.nimrobo.complete_session(stack.nimrobo.start_session(link["id"]))
    problem = stack.slack.wait_for(lambda: [m for m in stack.slack.messages(CHANNEL, thread_ts=shortlist["thread_ts"])
                                            if "reached Pluto" in m["text"]])[-1]
    assert ranked[1].id not in stack.pluto.saved_analytics
    assert "Not saved to Pluto yet" in str(current_board(stack)["blocks"])
    act(stack, problem, "board_analytics_retry", problem["blocks"][-1]["elements"][0]["value"])
    stack.slack.wait_for(lambda: stack.pluto.saved_analytics.get(ranked[1].id))
    stack.slack.wait_for(lambda: "Not saved to Pluto yet" not in str(current_board(stack)["blocks"]))
    stack.slack.wait_for(lambda: [e for e in stack.slack.ephemerals(USER) if "is saved in Pluto" in e["text"]])

    # the outsider cannot open the form either
    act(stack, shortlist, "screen_top", f"{run_id}|5", user=OUTSIDER)
    stack.slack.wait_for(lambda: [v for v in stack.slack.views(user=OUTSIDER) if "can't show you" in str(v)])

    # App Home for someone new: where to start, within limits
    stack.signer.event({"type": "app_home_opened", "user": NEWCOMER, "channel": "D2", "tab": "home"})
    home = stack.slack.wait_for(lambda: stack.slack.home(NEWCOMER))
    assert validate_view(home) == [] and "Nothing here yet" in str(home["blocks"])
    assert "Your screening boards" not in str(home["blocks"]) and "Health checks" not in str(home["blocks"])
    # a workspace admin also sees the doctor's checks, each backend with its status
    stack.slack.add_user("U_BOSS", is_admin=True)
    stack.signer.event({"type": "app_home_opened", "user": "U_BOSS", "channel": "D3", "tab": "home"})
    home = stack.slack.wait_for(lambda: stack.slack.home("U_BOSS"))
    checks = next(b["text"]["text"] for b in home["blocks"] if "Health checks" in str(b))
    assert validate_view(home) == [] and all(f"*{name}*" in checks for name in ("Slack", "Nimrobo", "Pluto"))
    assert ":white_check_mark: *Pluto*" in checks
