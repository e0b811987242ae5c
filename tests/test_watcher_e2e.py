"""Completed interviews are posted once to the channel that asked, even across restarts."""

import pytest

from sandbox.stack import Stack, StackOptions
from tests.conftest import db_options
from tests.test_voicelink_e2e import CHANNEL, USER, make_links


@pytest.fixture()
def stack(database):  # each test runs on SQLite and on PostgreSQL
    with Stack(StackOptions(nimrobo={"evaluation_delay": 0.3, "summary_delay": 0.3}, **db_options(database))) as s:
        yield s


def completed_posts(stack, channel=CHANNEL):
    return [m for m in stack.slack.messages(channel)
            if (m.get("metadata") or {}).get("event_type") == "voice_session_completed"]


def test_completed_interview_is_posted_once_with_summary_and_evaluation_even_after_restart(stack):
    link, later = make_links(stack, labels="Ada\nBea")
    stack.nimrobo.projects[link["projectId"]]["evaluator"] = {
        "prompt": "Rate", "questions": [{"id": "communication", "label": "Communication", "type": "number"}]}
    session = stack.nimrobo.start_session(link["id"])
    stack.nimrobo.complete_session(session)
    post = stack.slack.wait_for(lambda: completed_posts(stack), timeout=20)[0]
    assert post["metadata"]["event_payload"]["session_id"] == session
    text = str(post["blocks"])
    assert "billing migration" in text and "*Communication*\\n7" in text and "Ada" in text
    stack.stop_bot()
    stack.start_bot()
    # Another interview completes after the restart; once it is posted, the restarted watcher has polled.
    stack.nimrobo.complete_session(stack.nimrobo.start_session(later["id"]))
    stack.slack.wait_for(lambda: len(completed_posts(stack)) >= 2, timeout=20)
    assert [p["metadata"]["event_payload"]["session_id"] for p in completed_posts(stack)].count(session) == 1


def test_watch_and_subscribe_commands(stack):
    link, later = make_links(stack, labels="Grace\nHopper")
    project_id = link["projectId"]
    stack.signer.command("/voicelink", f"subscribe {project_id}", user=USER, channel="C_UPDATES")
    stack.slack.wait_for(lambda: [r for r in stack.slack.responses(USER) if "will be posted here" in r["text"]])
    stack.signer.command("/voicelink", "subscriptions", user=USER, channel="C_UPDATES")
    stack.slack.wait_for(lambda: [r for r in stack.slack.responses(USER)
                                  if r["text"].startswith("*This channel follows:*") and project_id in r["text"]])
    session = stack.nimrobo.start_session(link["id"])
    stack.signer.command("/voicelink", f"watch {session}", user=USER, channel="C_WATCH")
    stack.slack.wait_for(lambda: [r for r in stack.slack.responses(USER) if "when the interview completes" in r["text"]])
    stack.nimrobo.complete_session(session)
    for channel in (CHANNEL, "C_UPDATES", "C_WATCH"):
        stack.slack.wait_for(lambda c=channel: completed_posts(stack, c), timeout=20)
    # A later interview of the project reaches the link's channel and the subscribed one (not the watch):
    # once it is posted, the watcher has polled again without posting the first one twice.
    stack.nimrobo.complete_session(stack.nimrobo.start_session(later["id"]))
    for channel in (CHANNEL, "C_UPDATES"):
        stack.slack.wait_for(lambda c=channel: len(completed_posts(stack, c)) == 2, timeout=20)
    assert [len(completed_posts(stack, c)) for c in (CHANNEL, "C_UPDATES", "C_WATCH")] == [2, 2, 1]
    for channel in (CHANNEL, "C_UPDATES", "C_WATCH"):
        sessions = [p["metadata"]["event_payload"]["session_id"] for p in completed_posts(stack, channel)]
        assert sessions.count(session) == 1
    stack.signer.command("/voicelink", f"unsubscribe {project_id}", user=USER, channel="C_UPDATES")
    stack.slack.wait_for(lambda: [r for r in stack.slack.responses(USER) if "no longer follows" in r["text"]])
    stack.signer.command("/voicelink", f"unsubscribe {project_id}", user=USER, channel="C_UPDATES")
    stack.slack.wait_for(lambda: [r for r in stack.slack.responses(USER) if "was not subscribed" in r["text"]])


def test_unknown_session_or_project_gets_a_clear_private_error(stack):
    stack.signer.command("/voicelink", "watch sess_nope", user=USER, channel=CHANNEL)
    # the same polite refusal as for someone else's session: it never says whether the session exists
    stack.slack.wait_for(lambda: [r for r in stack.slack.responses(USER) if "can't show you that interview"
                                  in r["text"] and "sess_nope" not in r["text"]])
    stack.signer.command("/voicelink", "subscribe proj_nope", user=USER, channel=CHANNEL)
    stack.slack.wait_for(lambda: [r for r in stack.slack.responses(USER) if "Project not found" in r["text"]])


def test_participant_contacts_are_masked_in_the_channel_but_not_in_the_creators_dm(stack):
    link = make_links(stack, labels="Ada ada@example.com")[0]
    dm = str(stack.slack.dms(USER)[-1]["blocks"])
    assert "Ada ada@example.com" in dm  # the creator's own links, privately
    card = stack.slack.wait_for(lambda: [m for m in stack.slack.messages(CHANNEL) if "Voice links" in m["text"]])[0]
    assert "Ada a•••@example.com" in str(card["blocks"]) and "ada@example.com" not in str(card)
    stack.nimrobo.fail_session(stack.nimrobo.start_session(link["id"]))
    post = stack.slack.wait_for(lambda: completed_posts(stack), timeout=20)[0]
    assert "a•••@example.com" in post["text"] and "ada@example.com" not in str(post)


def test_a_failed_interview_is_reported_once(stack):
    link = make_links(stack, labels="Linus")[0]
    session = stack.nimrobo.start_session(link["id"])
    stack.nimrobo.fail_session(session)
    post = stack.slack.wait_for(lambda: completed_posts(stack), timeout=20)[0]
    assert "failed" in post["text"]
