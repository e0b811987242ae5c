"""The Screening board, its create modal and the App Home dashboard stay inside Slack's limits for any
size, page where needed, and mask personal data."""

import json

import pytest

from bot.blocks.board import (
    PER_PAGE,
    analytics_problem_message,
    board_message,
    details_view,
    home_dashboard,
    screen_modal,
    screen_top_block,
)
from bot.doctor import Check
from sandbox.slack_api import validate_blocks, validate_view
from services.home import Dashboard, FinishedInterview, Follow, ProjectSummary, RunSummary
from services.prompts import template
from services.screening import (
    FORMULA,
    AnalyticsOutcome,
    BoardRow,
    BoardSummary,
    BoardView,
    Decision,
    ScreenCandidate,
    ScreeningBoard,
    ScreenPrefill,
    sort_rows,
)

EMAIL = "jane.doe+jobs@example.com"
PHONE = "+1 415 555 0199"


def board(n_rows=0):
    return ScreeningBoard(id="b1", run_id="r1", channel="C1", thread_ts="1.2", created_by="U1",
                          project_name="Senior Data Engineer " + "x" * 200)


def row(i, *, evaluation=True, decision=None):
    numbers = [(f"Question {q} " + "q" * 80, float((i + q) % 11)) for q in range(8)] if evaluation else []
    score = sum(v for _, v in numbers) / len(numbers) * 10 if numbers else None
    pluto = float(100 - i % 100)
    return BoardRow(
        candidate_id=f"c{i}", name=f"Candidate {i} " + "N" * 150, email=f"c{i}@example.com", rank=i + 1,
        pluto_score=pluto, tier="Strong", voice_state="completed" if evaluation else "invited", link_id=f"l{i}",
        session_id=f"s{i}" if evaluation else None, kind="project", project_id="p1", creator="U1",
        answers=numbers + [("Red flags", f"Call me at {PHONE}")], numbers=numbers,
        evaluation_state="ready" if evaluation else "", evaluation_score=score,
        combined=(pluto + score) / 2 if score is not None else pluto, pluto_only=score is None,
        recommendation=f"advance — write to {EMAIL} " + "r" * 3000 if evaluation else "",
        summary="s" * 5000, decision=decision, analytics_state="failed" if i == 1 else "saved", analytics_error="")


def view_of(rows, sort="combined"):
    rows = sort_rows(rows, sort)
    return BoardView(board(), "candidates.csv", rows, sort, FORMULA, [label for label, _ in rows[0].numbers]
                     if rows and rows[0].numbers else [], {"completed": len(rows), "advanced": 1, "screened": len(rows)})


@pytest.mark.parametrize("n", [0, 1, PER_PAGE, PER_PAGE + 1, 60, 250])
def test_every_page_of_the_board_fits_slack_limits(n):
    rows = [row(i, evaluation=i % 3 != 0, decision=Decision("advance", "U2", 1.7e9) if i % 4 == 0 else None)
            for i in range(n)]
    view = view_of(rows)
    pages = max(1, -(-n // PER_PAGE))
    shown = []
    for page in range(1, pages + 1):
        message = board_message(view, page=page).kwargs()
        assert len(message["blocks"]) <= 50 and validate_blocks(message["blocks"]) == []
        assert message["metadata"]["event_payload"] == {"board_id": "b1", "run_id": "r1", "sort": "combined",
                                                        "page": page}
        shown += [b["block_id"].split("|")[1] for b in message["blocks"] if b.get("block_id", "").startswith(
            "board_row|")]
    assert shown == [r.candidate_id for r in view.rows]  # every candidate on exactly one page, in order


def test_the_board_shows_both_signals_the_formula_sort_and_decisions():
    rows = [row(1), row(2, evaluation=False), row(3, decision=Decision("reject", "U9", 1.7e9))]
    message = board_message(view_of(rows), public=False).kwargs()
    text = json.dumps(message["blocks"], ensure_ascii=False)
    assert "Pluto *99* (Strong)" in text and "Evaluation *" in text and "Combined *98†*" in text
    assert FORMULA in text
    assert "*Rejected* by <@U9>" in text and "<!date^1700000000^" in text
    tools = next(b for b in message["blocks"] if b.get("block_id") == "board_tools|b1")
    select = tools["elements"][0]
    assert [o["value"] for o in select["options"]] == ["b1|pluto", "b1|evaluation", "b1|combined"]
    assert select["initial_option"]["value"] == "b1|combined"
    labels = {b["block_id"]: [e["text"]["text"] for e in b["elements"]] for b in message["blocks"]
              if b.get("block_id", "").startswith("board_row|")}
    assert labels["board_row|c3"] == ["Details", "Transcript (private)", "Advance", "Undo"]
    assert labels["board_row|c2"] == ["Details", "Advance", "Reject"]  # no transcript before the interview


def test_a_public_board_masks_contact_details():
    rows = [row(1)]
    public = json.dumps(board_message(view_of(rows), public=True).kwargs(), ensure_ascii=False)
    assert EMAIL not in public and "j•••@example.com" in public
    private = json.dumps(board_message(view_of(rows), public=False).kwargs(), ensure_ascii=False)
    assert EMAIL in private


def test_details_and_analytics_problem_fit_and_offer_retry():
    view = view_of([row(1)])
    details = details_view(view, view.rows[0]).to_dict()
    assert validate_view(details) == [] and "Red flags" in json.dumps(details)
    problem = analytics_problem_message(AnalyticsOutcome("l1", "b1", "c1", f"Jane {EMAIL}", "unknown",
                                                         "Pluto error: no answer")).kwargs()
    assert validate_blocks(problem["blocks"]) == [] and EMAIL not in json.dumps(problem, ensure_ascii=False)
    button = problem["blocks"][-1]["elements"][0]
    assert (button["action_id"], button["value"]) == ("board_analytics_retry", "l1")


def test_the_create_modal_is_the_voicelink_modal_prefilled():
    sections = template("interview", "Data Engineer")
    prefill = ScreenPrefill(
        run_id="r1", role="Data Engineer", role_source="job description", sections=sections,
        draft_source="template", draft_note="", eval_prompt="Score 0-10",
        eval_questions=["Relevant experience | number", "Red flags | text"],
        candidates=[ScreenCandidate(f"c{i}", f"Name {i}", f"Name {i}", i, 80.0, "Strong") for i in range(25)],
        profile="Shortlisted candidates: 25.", brief="JD " * 2000)
    view = screen_modal(prefill, "C1", "1.2").to_dict()
    assert validate_view(view) == []
    assert view["callback_id"] == "voicelink_create" and view["title"]["text"] == "Voice-screen top 25"
    assert json.loads(view["private_metadata"]) == {"channel": "C1", "pattern": "interview", "v": 1,
                                                    "run_id": "r1", "thread_ts": "1.2"}
    initial = {b["block_id"].split("~")[0]: b["element"].get("initial_value") for b in view["blocks"]
               if b["type"] == "input"}
    assert initial["name"] == "Data Engineer" and initial["labels"].splitlines()[0] == "Name 0"
    assert initial["goal"] == sections.goal and initial["eval_questions"].startswith("Relevant experience | number")
    assert len(initial["brief"]) <= 3000
    top = screen_top_block("r1").to_dict()
    assert top["elements"][0]["value"] == "r1|5" and validate_blocks([top]) == []


def dashboard(n):
    runs = [RunSummary(f"r{i}", f"file {i} {EMAIL}.csv", ["complete", "failed", "running"][i % 3], "C1", "1.2",
                       1.7e9, 40, "boom" if i % 3 == 1 else "", "b1" if i % 2 == 0 else None) for i in range(n)]
    boards = [BoardSummary(board(), f"file {i}.csv", 5, 2, 1) for i in range(n)]
    projects = [ProjectSummary(f"p{i}", f"Role {i}", {"active": 2, "used": 1, "expired": 1}) for i in range(n)]
    finished = [FinishedInterview(f"s{i}", f"Label {i} {PHONE}", "Role", "C1", 1.7e9, "completed") for i in range(n)]
    follows = [Follow("project", f"p{i}", "C2", f"Role {i}") for i in range(n)]
    return Dashboard("U1", runs, boards, projects, finished, follows, last_seen=1.69e9)


@pytest.mark.parametrize("n", [1, 5, 6, 40, 500])
def test_home_fits_100_blocks_pages_every_list_and_masks(n):
    checks = [Check(f"Check {i}", i % 2 == 0, "detail " * 100, fix="do this") for i in range(30)]
    data = dashboard(n)
    view = home_dashboard(data, checks=checks, board_urls={"b1": "https://slack.example/archives/C1/p1"},
                          help_text="/pluto help · /voicelink help").to_dict()
    assert len(view["blocks"]) <= 100 and validate_view(view) == []
    text = json.dumps(view, ensure_ascii=False)
    assert EMAIL not in text and "555 0199" not in text and "Health checks" in text
    pagers = [e["action_id"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]
              if e["action_id"].startswith("home_page_next_")]
    assert pagers == ([] if n <= 5 else ["home_page_next_runs", "home_page_next_boards", "home_page_next_projects"]
                      + (["home_page_next_finished", "home_page_next_follows"] if n > 10 else []))
    last = home_dashboard(data, pages={"runs": 10**6}).to_dict()
    assert validate_view(last) == [] and f"Page {-(-n // 5)} of {-(-n // 5)}" in json.dumps(last) or n <= 5


def test_home_for_a_new_user_explains_where_to_start():
    view = home_dashboard(Dashboard("U_NEW")).to_dict()
    assert validate_view(view) == [] and len(view["blocks"]) < 10
    text = json.dumps(view)
    assert "Nothing here yet" in text and "Voice-screen top 5" in text and "Health checks" not in text
