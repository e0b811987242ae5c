"""The first hour, round two (issue 23), the bot's side: the real bot over HTTP against the stand-ins.

The completed-interview post carries Transcript, Evaluation and Audio buttons that answer privately and
check access; /voicelink status names the project and shows answers under their question labels."""

import pytest

from sandbox.stack import Stack, StackOptions
from tests.test_voicelink_e2e import CHANNEL, USER, form, make_links, open_modal

OUTSIDER = "U_MALLORY"
EVALUATOR = {"prompt": "Rate", "questions": [{"id": "communication", "label": "Communication", "type": "number"},
                                             {"id": "platform_depth", "label": "Platform depth", "type": "number"}]}


@pytest.fixture(scope="module")
def stack():
    with Stack(StackOptions(openai=False, nimrobo={"evaluation_delay": 0.2, "summary_delay": 0.2})) as s:
        yield s


def completed_posts(stack, channel=CHANNEL):
    return [m for m in stack.slack.messages(channel)
            if (m.get("metadata") or {}).get("event_type") == "voice_session_completed"]


def private_answers(stack, user, text):
    return [r for r in stack.slack.responses(user) + stack.slack.ephemerals(user) if text in str(r)]


@pytest.fixture(scope="module")
def completed(stack):
    [link] = make_links(stack, labels="Ada Lovelace", name="Platform Engineer")
    stack.nimrobo.projects[link["projectId"]]["evaluator"] = EVALUATOR
    session = stack.nimrobo.start_session(link["id"])
    stack.nimrobo.complete_session(session, evaluation={"platform_depth": 8})
    post = stack.slack.wait_for(lambda: completed_posts(stack), timeout=20)[0]
    stack.slack.members[CHANNEL] = {USER, stack.slack.bot_user_id}  # the outsider is not in the channel
    return link, session, post


def test_the_completed_post_has_transcript_evaluation_and_audio_buttons_that_answer_privately(stack, completed):
    link, session, post = completed
    labels = [e["text"]["text"] for b in post["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert labels == ["Transcript", "Evaluation", "Audio"]
    before = len(stack.slack.messages(CHANNEL))
    for label in ("Evaluation", "Audio", "Transcript"):
        stack.signer.press(label, user=USER, in_channel=CHANNEL)
    stack.slack.wait_for(lambda: private_answers(stack, USER, "Platform depth")
                         and private_answers(stack, USER, "conversation.wav")
                         and [u for u in stack.slack.uploads() if u["filename"] == f"transcript-{session}.txt"])
    [evaluation] = [r for r in private_answers(stack, USER, "Platform depth")]
    assert "platform_depth" not in str(evaluation)
    upload = next(u for u in stack.slack.uploads() if u["filename"] == f"transcript-{session}.txt")
    assert upload["channel"] == stack.slack.dm_channel(USER)  # by DM, never in the channel
    assert len(stack.slack.messages(CHANNEL)) == before  # nothing was posted in the channel


def test_an_outsider_pressing_the_posts_buttons_is_refused(stack, completed):
    _, session, post = completed
    for action in ("voicelink_evaluation", "voicelink_audio", "voicelink_transcript"):
        button = next(e for b in post["blocks"] if b["type"] == "actions" for e in b["elements"]
                      if e["action_id"] == action)
        stack.signer.block_action(action, button["value"], user=OUTSIDER, channel="C_ELSEWHERE")
    refusals = stack.slack.wait_for(lambda: len(private_answers(stack, OUTSIDER, "can't show you")) == 3
                                    and private_answers(stack, OUTSIDER, "can't show you"))
    seen = str(refusals) + str(stack.slack.dms(OUTSIDER))
    assert "Platform depth" not in seen and "conversation.wav" not in seen and "agent:" not in seen


def test_voicelink_status_names_the_project_and_labels_the_answers(stack, completed):
    _, session, _ = completed
    stack.signer.command("/voicelink", f"status {session}", user=USER, channel=CHANNEL)
    status = stack.slack.wait_for(lambda: private_answers(stack, USER, f"*Session* `{session}`"))[-1]
    text = str(status["blocks"])
    assert "project *Platform Engineer*" in text and "· project\\n" not in text and "· project'" not in text
    before = stack.slack.responses(USER) + stack.slack.ephemerals(USER)
    stack.signer.activate(*next((surface, block, button) for surface, block, button
                                in stack.signer._clickable(USER, CHANNEL)
                                if button["action_id"] == "voicelink_evaluation"
                                and surface["record"].get("blocks") == status["blocks"]), user=USER)
    [evaluation] = stack.slack.wait_for(lambda: [r for r in stack.slack.responses(USER) + stack.slack.ephemerals(USER)
                                                 if r not in before and "Platform depth" in str(r)])
    assert "*Platform depth*\\n8" in str(evaluation) and "platform_depth" not in str(evaluation)  # label, not key


# -- 21. the four sections left empty are drafted, in the real modal too ------------------------------------
def drafted_sections(view):
    inputs = {b["block_id"].split("~")[0]: b for b in view["blocks"] if b["type"] == "input"}
    return {key: inputs[key]["element"].get("initial_value") for key in ("goal", "role", "guidelines", "constraints")}


def submit_to_draft(stack, view, values):
    """Submit with the four sections empty: the form opens again as typed, saying it drafts them, then shows them."""
    calls = len(stack.slack.api_calls())
    response = stack.signer.view_submission(view, values, user=USER)
    assert response.status_code == 200 and not response.content  # no error under the (optional) sections
    drafted = stack.slack.wait_for(lambda: [v for v in stack.slack.open_views(USER)
                                            if "Filled from a template" in str(v["blocks"])])[-1]
    [opened] = [c["params"]["view"] for c in stack.slack.api_calls()[calls:] if c["method"] == "views.open"
                and "Filling in the four sections from a template" in str(c["params"])]
    assert drafted["callback_id"] == opened["callback_id"] == view["callback_id"]
    return drafted


def test_the_create_form_submitted_with_the_four_sections_empty_drafts_them_to_review(stack):
    view = open_modal(stack)
    assert all(b.get("optional") for b in view["blocks"] if b.get("block_id", "").split("~")[0] == "goal")
    drafted = submit_to_draft(stack, view, form(view, name="Site Reliability Engineer", labels="Grace Hopper",
                                                brief="SRE: Kubernetes, on-call."))
    assert all(drafted_sections(drafted).values())
    assert "Site Reliability Engineer" in str(drafted["blocks"]) and "Grace Hopper" in str(drafted["blocks"])
    assert not [p for p in stack.nimrobo.projects.values() if p["name"] == "Site Reliability Engineer"]  # review first


def test_project_new_submitted_with_the_four_sections_empty_drafts_them_then_creates(stack):
    stack.signer.command("/voicelink", "project new", user=USER, channel=CHANNEL)
    view = stack.slack.wait_for(lambda: [v for v in stack.slack.views(user=USER)
                                         if "New voice project" in str(v["title"])])[-1]
    drafted = submit_to_draft(stack, view, form(view, name="Payments Analyst"))
    assert all(drafted_sections(drafted).values())
    assert not [p for p in stack.nimrobo.projects.values() if p["name"] == "Payments Analyst"]
    stack.signer.view_submission(drafted, form(drafted), user=USER)
    [project] = stack.slack.wait_for(lambda: [p for p in stack.nimrobo.projects.values()
                                              if p["name"] == "Payments Analyst"])
    assert project["prompt"].index("Goal") < project["prompt"].index("Constraints")


# -- 17. a letter saved as .csv ----------------------------------------------------------------------
LETTER = (b"Dear hiring team,\n\nI am writing to recommend three engineers for the platform role, each with "
          b"years of experience.\nKind regards, Ada\n")


def test_a_letter_saved_as_csv_is_told_it_looks_like_text_not_a_table(stack):
    file = stack.slack.add_file("letter.csv", LETTER, user=USER)
    stack.signer.app_mention(f"<@{stack.slack.bot_user_id}> score", files=[file], user=USER, channel="C_LETTERS")
    message = stack.slack.wait_for(lambda: [e for e in stack.slack.ephemerals(user=USER)
                                            if "can't score" in e["text"] and e["channel"] == "C_LETTERS"])[0]
    assert "this looks like text, not a table of candidates" in message["text"]
    assert "“Dear hiring team”" in message["text"] and "has no name" not in message["text"]


def test_a_mention_with_nothing_to_do_gets_a_private_hint(stack):
    stack.signer.app_mention(f"<@{stack.slack.bot_user_id}>", user=USER, channel="C_HELLO")
    hint = stack.slack.wait_for(lambda: [e for e in stack.slack.ephemerals(user=USER) if e["channel"] == "C_HELLO"])
    assert len(hint) == 1 and "Mention me with *score*" in hint[0]["text"]
    assert not stack.slack.messages("C_HELLO")  # nothing public
