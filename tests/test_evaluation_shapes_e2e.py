"""Evaluation answers in every common shape, end to end: the real bot over HTTP, the Slack test bed and the
Pluto and Nimrobo simulators. Five screened candidates, each interview's ``evaluationResults`` in another
shape, numbers as "9", "4/5", "60%", 5 and "3/10": the board shows the numbers and sorts by them, the
completed-interview posts and App Home show labels, the export has them in number columns and the
analytics saved to Pluto carry them."""

import csv
import io

import pytest

from sandbox.stack import Stack, StackOptions
from tests.test_screening_e2e import (
    CHANNEL,
    USER,
    act,
    block,
    current_board,
    form_values,
    names,
    open_screen_form,
    row_text,
    score,
)
from tests.test_screening_e2e import board_message as boards

# shape of evaluationResults → the number answers given (read on 0-10) and that number
PLAN = [("objects", "9", 9), ("list", "4/5", 8), ("list_ids", "60%", 6), ("answers", 5, 5), ("results", "3/10", 3)]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    options = StackOptions(pluto={"extract_seconds": 0.1, "score_seconds": 0.1},
                           nimrobo={"evaluation_delay": 0, "summary_delay": 0},
                           database_path=str(tmp_path_factory.mktemp("db") / "bot.db"))
    with Stack(options) as s:
        s.slack.members[CHANNEL] = {USER, s.slack.bot_user_id}
        yield s


def test_every_shape_reaches_the_board_its_sorting_the_export_the_pluto_save_and_app_home(stack):
    shortlist = score(stack)
    ranked = stack.services.scoring.latest(CHANNEL).candidates
    _, view = open_screen_form(stack, shortlist, 5)
    stack.signer.view_submission(view, form_values(view), user=USER)
    stack.slack.wait_for(lambda: boards(stack))
    [project] = stack.nimrobo.projects.values()
    questions = project["evaluator"]["questions"]
    numbers = [q["id"] for q in questions if q["type"] == "number"]
    red_flags = next(q["id"] for q in questions if q["label"] == "Red flags")
    links = stack.slack.wait_for(lambda: len(stack.services.store.rows("screening_links")) == 5
                                 and {r["label"]: r["link_id"] for r in stack.services.store.rows("screening_links")})

    # the best by Pluto gets the lowest evaluation, so sorting by evaluation reverses the Pluto order
    by_pluto = [c.name for c in ranked[:5]]
    given = dict(zip(reversed(by_pluto), PLAN, strict=True))
    for name, (shape, answer, _) in given.items():
        session = stack.nimrobo.start_session(links[name])
        stack.nimrobo.complete_session(session, evaluation_shape=shape, evaluation={
            **dict.fromkeys(numbers, answer), red_flags: {"severity": "low", "notes": ["late once"]}})

    stack.slack.wait_for(lambda: all(f"Relevant experience {n:g}" in row_text(current_board(stack), name)
                                     for name, (_, _, n) in given.items()), timeout=30)
    board = current_board(stack)
    for name, (_, _, n) in given.items():
        assert f"Evaluation *{n * 10:g}*" in row_text(board, name) and "†" not in row_text(board, name)

    # sorted by evaluation: the numbers decide the order
    tools = block(board, "board_tools|")["block_id"]
    board_id = tools.split("|", 1)[1]
    act(stack, board, "board_sort", None, block_id=tools, action_type="static_select",
        selected_option={"value": f"{board_id}|evaluation"})
    board = stack.slack.wait_for(lambda: "sorted by *Evaluation*" in str(current_board(stack)["blocks"])
                                 and current_board(stack))
    assert names(board) == list(given)  # 90, 80, 60, 50, 30

    # the export: numbers in the number columns, the unknown shape as readable text
    act(stack, board, "board_export", board_id)
    upload = stack.slack.wait_for(lambda: [u for u in stack.slack.uploads() if u["filename"].endswith(
        "-screening.csv")])[-1]
    table = {r["name"].removeprefix("'"): r for r in csv.DictReader(io.StringIO(upload["content"].decode()))}
    for name, (_, _, n) in given.items():
        row = table[name]
        assert row["eval: Relevant experience"] == f"{n:g}" and row["eval: Communication"] == f"{n:g}"
        assert row["evaluation_score"] == f"{n * 10:g}"
        assert row["eval: Red flags"] == "severity: low; notes: late once"

    # each save to Pluto carries the numbers and the score
    ids = {c.name: c.id for c in ranked}
    for name, (_, _, n) in given.items():
        [saved] = stack.slack.wait_for(lambda name=name: stack.pluto.saved_analytics.get(ids[name]))
        analytics = saved["analytics"]
        assert analytics["evaluation"]["Relevant experience"] == n and analytics["evaluation_score"] == n * 10
        assert analytics["evaluation"]["Red flags"] == "severity: low; notes: late once"

    # the completed-interview posts name the questions, never ids or Python text
    def completed_posts():  # the outbox sends them at Slack's pace in the channel: wait for all five
        return [m for m in stack.slack.messages(CHANNEL, thread_ts=shortlist["thread_ts"])
                if (m.get("metadata") or {}).get("event_type") == "voice_session_completed"]

    posted = stack.slack.wait_for(lambda: len(completed_posts()) >= 5 and completed_posts(), timeout=30)
    assert len(posted) == 5
    for message in posted:
        text = "\n".join(f["text"] for b in message["blocks"] for f in b.get("fields") or [])
        assert "*Relevant experience*" in text and "*Red flags*\nseverity: low; notes: late once" in text
        assert not any(f"*{q}*" in text for q in numbers) and "{" not in text

    # App Home: each finished interview with its evaluation
    stack.signer.event({"type": "app_home_opened", "user": USER, "channel": "D1", "tab": "home"})
    home = str(stack.slack.wait_for(lambda: stack.slack.home(USER))["blocks"])
    for name, (_, _, n) in given.items():
        assert f"*{name}*" not in home or f"Evaluation {n * 10:g} — Python and SQL in production {n:g}" in home
    assert "Evaluation 90 — " in home and "Evaluation 30 — " in home
