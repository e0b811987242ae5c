"""The Voice-screen form asks about the role's existing voice project the way ``/voicelink create`` asks (as it
is / update first, with the diff / a new project), end to end: the real bot over HTTP, the Slack test bed, the
Pluto and Nimrobo simulators."""

import pytest

from sandbox.stack import Stack, StackOptions
from tests.conftest import score_with_form
from tests.test_screening_e2e import CHANNEL, CSV, JD, USER, act, block, board_message, names
from tests.test_voicelink_e2e import form, submit_for

OLD_PROMPT = "## Goal\nScreen data engineers the old way\n\n## Role\nInterviewer\n\n## Guidelines\nBe kind\n\n" \
             "## Constraints\nTen minutes"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    options = StackOptions(openai=False, pluto={"extract_seconds": 0.1, "score_seconds": 0.1},
                           database_path=str(tmp_path_factory.mktemp("db") / "bot.db"))
    with Stack(options) as s:
        s.slack.members[CHANNEL] = {USER, s.slack.bot_user_id}
        yield s


def score_again(stack, count):
    """/pluto score with the CSV; the ``count``-th shortlist of the channel once it is posted."""
    file = stack.slack.add_file(f"data-engineers-{count}.csv", CSV, user=USER)
    score_with_form(stack.signer, file, jd=JD, top_n=5, user=USER, channel=CHANNEL)
    done = stack.slack.wait_for(lambda: len(found := [m for m in stack.slack.messages(CHANNEL) if (
        m.get("metadata") or {}).get("event_type") == "pluto_scoring_completed"]) >= count and found, timeout=30)
    return done[count - 1]


def open_screen_form(stack, shortlist, n):
    """Pick "Top n" in the shortlist's Voice-screen select; the new filled modal (never an older closed one)."""
    tools = block(shortlist, "screen_top|")
    run_id = tools["block_id"].split("|", 1)[1]
    act(stack, shortlist, "screen_top_pick", None, block_id=tools["block_id"], action_type="static_select",
        selected_option={"value": f"{run_id}|{n}"})
    return run_id, stack.slack.wait_for(lambda: [v for v in stack.slack.views(user=USER) if v.get("submit")
                                                 and v["title"]["text"] == f"Voice-screen top {n}"
                                                 and not v.get("closed")])[-1]


def projects(stack, name="Data Engineer"):
    return [p for p in stack.nimrobo.projects.values() if p["name"] == name]


def test_voice_screen_asks_about_the_roles_existing_project_then_updates_it_or_makes_a_new_one(stack):
    existing = stack.services.nimrobo.create_project("Data Engineer", OLD_PROMPT)

    # 1. the first run: the form asks, with the diff; nothing is made before the choice; "update first"
    _, view = open_screen_form(stack, score_again(stack, 1), 2)
    review = submit_for(stack, view, form(view), "already exists")
    text = str(review["blocks"])
    radio = next(b for b in review["blocks"] if b["type"] == "input")["element"]
    assert [o["value"] for o in radio["options"]] == ["reuse", "update", "new"]
    assert f"(`{existing.id}`)" in text and "- Screen data engineers the old way" in text and "*Evaluator*" in text
    assert stack.nimrobo.links == {} and board_message(stack) == []
    submit_for(stack, review, form(review, project_choice="update"), "are in your DMs")
    [project] = projects(stack)
    assert project["id"] == existing.id and "old way" not in project["prompt"] and project["evaluator"]["questions"]
    assert {link["projectId"] for link in stack.nimrobo.links.values()} == {existing.id}
    board = stack.slack.wait_for(lambda: board_message(stack))[0]
    assert len(names(board)) == 2
    assert stack.services.store.rows("screening_boards")[0]["project_id"] == existing.id

    # 2. a second run of the same role: asked again; "a new project" leaves the existing one as it is
    _, view = open_screen_form(stack, score_again(stack, 2), 2)
    review = submit_for(stack, view, form(view), "already exists")
    submit_for(stack, review, form(review, project_choice="new"), "are in your DMs")
    both = projects(stack)
    assert len(both) == 2 and len(stack.nimrobo.links) == 4
    new = next(p for p in both if p["id"] != existing.id)
    boards = stack.slack.wait_for(lambda: len(board_message(stack)) == 2 and board_message(stack))
    assert {r["project_id"] for r in stack.services.store.rows("screening_boards")} == {existing.id, new["id"]}
    assert all(len(names(b)) == 2 for b in boards)
