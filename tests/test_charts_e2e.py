"""Charts end to end: the real bot over HTTP, the Slack test bed, the Pluto and Nimrobo simulators.

A scoring run's shortlist gets its score distribution in the thread (a PNG with alt text, no names, the
cut-off where the run's scores put it, posted once). The Screening board's Chart button draws the
board: in a public channel, in the thread, numbered as on the board; in a private one, with names, to
the asker's DM only.
"""

import io

import pytest
from PIL import Image

from bot.charts import CUTOFF_COLOUR, ScoredPoint, cutoff_score, screening_scatter
from sandbox.stack import Stack, StackOptions
from tests.test_charts import assert_png, columns_of, expected_x, plot_rows
from tests.test_screening_e2e import (
    CHANNEL,
    CSV,
    USER,
    act,
    block,
    board_message,
    current_board,
    form_values,
    open_screen_form,
    row_text,
    score,
)

NAMES = [line.split(b",")[0].decode() for line in CSV.splitlines()[1:]]


@pytest.fixture(scope="module")
def stack():
    options = StackOptions(pluto={"extract_seconds": 0.2, "score_seconds": 0.3},
                           nimrobo={"evaluation_delay": 0, "summary_delay": 0})
    with Stack(options) as s:
        s.slack.members[CHANNEL] = {USER, s.slack.bot_user_id}
        yield s


def charts(stack, suffix):
    return [u for u in stack.slack.uploads() if u["filename"].endswith(suffix)]


def no_names(*texts):
    return not any(name in str(text) for text in texts for name in NAMES)


def test_the_shortlist_comes_with_its_score_distribution_once(stack):
    shortlist = score(stack)
    run = stack.services.scoring.latest(CHANNEL)
    [chart] = stack.slack.wait_for(lambda: charts(stack, "-score-distribution.png"), timeout=20)
    assert chart["channel"] == CHANNEL and chart["thread_ts"] == shortlist["thread_ts"]
    assert chart["mimetype"] == "image/png"
    assert_png(chart["content"])
    assert "Histogram of the final scores of 5 candidates" in chart["alt_txt"]
    assert no_names(chart["alt_txt"], chart["title"], chart["initial_comment"], chart["content"])
    assert "cut-off" in chart["initial_comment"]

    # the red line sits where the run's scores put the cut-off (the 5th best of 5 here)
    scores = [c.final_score for c in run.candidates]
    cutoff = cutoff_score(scores, run.top_n)
    assert f"cut-off at {cutoff:g}" in chart["alt_txt"]
    png = chart["content"]
    xs = columns_of(png, CUTOFF_COLOUR, plot_rows(png))
    assert xs and abs((min(xs) + max(xs)) / 2 - expected_x(png, cutoff)) <= 2.5

    # once: claimed and confirmed in the outbox, so the scheduler's later passes post no second chart
    stack.slack.wait_for(lambda: [u for u in stack.slack.uploads() if u["filename"].endswith("-ranked.csv")])
    stack.slack.wait_for(lambda: (stack.services.outbox.get(f"pluto_score_chart:{run.id}") or {}).get("state") == "sent")
    assert len(charts(stack, "-score-distribution.png")) == 1


def board_points(stack, board_id):
    view = stack.services.screening.board_view(board_id)
    points = [ScoredPoint(r.position, r.name, r.pluto_score, r.evaluation_score,
                          r.decision.decision if r.decision else None)
              for r in view.rows if r.evaluation_score is not None]
    return points, len(view.rows) - len(points)


def test_the_board_chart_is_numbered_in_public_and_named_only_privately(stack):
    shortlist = next(m for m in stack.slack.messages(CHANNEL)
                     if (m.get("metadata") or {}).get("event_type") == "pluto_scoring_completed")
    ranked = stack.services.scoring.latest(CHANNEL).candidates
    _, view = open_screen_form(stack, shortlist, 3)
    stack.signer.view_submission(view, form_values(view), user=USER)
    board = stack.slack.wait_for(lambda: board_message(stack))[0]
    project = next(iter(stack.nimrobo.projects.values()))
    numbers = [q["id"] for q in project["evaluator"]["questions"] if q["type"] == "number"]
    links = {link["label"]: link for link in stack.nimrobo.links.values()}
    top3 = [c.name for c in ranked[:3]]
    for name, answer in zip(top3[:2], (9, 4), strict=True):
        session = stack.nimrobo.start_session(links[name]["id"])
        stack.nimrobo.complete_session(session, evaluation=dict.fromkeys(numbers, answer))
    stack.slack.wait_for(lambda: all("Evaluation *" in row_text(current_board(stack), n) for n in top3[:2]),
                         timeout=30)
    tools = block(current_board(stack), "board_tools|")
    board_id = tools["block_id"].split("|", 1)[1]
    act(stack, current_board(stack), "board_advance", f"{board_id}|{ranked[0].id}")
    stack.slack.wait_for(lambda: "*Advanced*" in row_text(current_board(stack), top3[0]))
    chart_button = next(e for e in tools["elements"] if e.get("action_id") == "board_chart")
    assert chart_button["text"]["text"] == "Chart"

    # a public channel: the thread gets the chart, numbered as on the board
    act(stack, current_board(stack), "board_chart", board_id)
    [public] = stack.slack.wait_for(lambda: charts(stack, "-screening-chart.png"), timeout=20)
    assert public["channel"] == CHANNEL and public["thread_ts"] == board["thread_ts"]
    assert_png(public["content"])
    assert no_names(public["alt_txt"], public["title"], public["initial_comment"], public["content"])
    assert "2 screened candidates" in public["alt_txt"] and "1 advanced" in public["alt_txt"]
    points, waiting = board_points(stack, board_id)
    assert waiting == 1
    assert public["content"] == screening_scatter(points, names=False, waiting=waiting).png
    assert public["content"] != screening_scatter(points, names=True, waiting=waiting).png
    stack.slack.wait_for(lambda: [e for e in stack.slack.ephemerals(USER) if "numbered as on the board" in e["text"]])
    Image.open(io.BytesIO(public["content"])).verify()

    # the same channel made private (Slack's conversations.info says so): names, to the asker's DM only
    stack.slack.private_channels.add(CHANNEL)
    stack.services.directory._public.clear()
    try:
        act(stack, current_board(stack), "board_chart", board_id)
        named = stack.slack.wait_for(lambda: charts(stack, "-screening-chart.png")[1:], timeout=20)[0]
    finally:
        stack.slack.private_channels.discard(CHANNEL)
        stack.services.directory._public.clear()
    assert named["channel"] == stack.slack.dm_channel(USER)
    assert top3[0] in named["alt_txt"]
    assert named["content"] == screening_scatter(points, names=True, waiting=waiting).png
    assert len([u for u in charts(stack, "-screening-chart.png") if u["channel"] == CHANNEL]) == 1
