"""Exactly once with no loss window, end to end on SQLite and PostgreSQL.

Slack stores a post but its answer is lost; or the bot dies between claiming a post and
making it. Either way the notification appears exactly once: the bot finds the first one by
its metadata (conversations.history / conversations.replies with include_all_metadata) and
records it, or posts it when it is not there.
"""

import pytest

from sandbox.stack import Stack, StackOptions
from services.outbox import Outbox
from services.store import now
from tests.conftest import db_options
from tests.test_scoring_e2e import CHANNEL as SCORING_CHANNEL
from tests.test_scoring_e2e import submit_modal
from tests.test_voicelink_e2e import CHANNEL, make_links

CLAIM_TIMEOUT = 1.5


@pytest.fixture()
def stack(database):
    options = StackOptions(nimrobo={"evaluation_delay": 0.2, "summary_delay": 0.2},
                           pluto={"extract_seconds": 0.3, "score_seconds": 0.6},
                           settings={"claim_timeout_seconds": CLAIM_TIMEOUT}, **db_options(database))
    with Stack(options) as s:
        yield s


def completed_posts(stack, channel=CHANNEL):
    return [m for m in stack.slack.messages(channel)
            if (m.get("metadata") or {}).get("event_type") == "voice_session_completed"]


def history_lookups(stack):
    return [c for c in stack.slack.api_calls() if c["method"] in ("conversations.history", "conversations.replies")
            and str(c["params"].get("include_all_metadata")).lower() in ("1", "true")]


def notification(stack, session):
    return stack.services.store.get("session_notifications", (session, CHANNEL))


def test_a_completed_interview_whose_answer_was_lost_is_found_not_posted_again(stack):
    link = make_links(stack, labels="Ada")[0]
    stack.slack.lose_answer("chat.postMessage",
                            when=lambda p: (p.get("metadata") or {}).get("event_type") == "voice_session_completed")
    session = stack.nimrobo.start_session(link["id"])
    stack.nimrobo.complete_session(session)
    [post] = stack.slack.wait_for(lambda: completed_posts(stack), timeout=20)
    # Slack stored it, the bot never heard back: after the claim timeout it looks and finds it.
    row = stack.slack.wait_for(lambda: (notification(stack, session) or {}).get("state") == "posted"
                               and notification(stack, session), timeout=20)
    assert row["message_ts"] == post["ts"]
    assert history_lookups(stack)
    assert len(completed_posts(stack)) == 1
    posts = [c for c in stack.slack.api_calls("chat.postMessage")
             if (c["params"].get("metadata") or {}).get("event_type") == "voice_session_completed"]
    assert len(posts) == 1  # never re-sent on the dropped connection


def test_a_claim_left_by_a_bot_killed_before_posting_is_posted_once(stack):
    link = make_links(stack, labels="Bea")[0]
    session = stack.nimrobo.start_session(link["id"])
    stack.services.voicelinks.refresh_statuses()  # the link's session id, as the card job records it
    thread_ts = stack.services.store.rows("voice_links", "session_id = ?", [session])[0]["thread_ts"]
    # The bot claimed the notification, then died before chat.postMessage went out.
    assert stack.services.sessions.claim(session, CHANNEL, thread_ts)
    stack.stop_bot()
    stack.nimrobo.complete_session(session)
    stack.start_bot()
    [post] = stack.slack.wait_for(lambda: completed_posts(stack), timeout=20)
    assert post["metadata"]["event_payload"]["session_id"] == session
    row = stack.slack.wait_for(lambda: (notification(stack, session) or {}).get("state") == "posted"
                               and notification(stack, session), timeout=20)
    assert row["message_ts"] == post["ts"]
    assert history_lookups(stack)  # it looked first, and found nothing
    assert len(completed_posts(stack)) == 1


def shortlists(stack):
    return [m for m in stack.slack.messages(SCORING_CHANNEL)
            if (m.get("metadata") or {}).get("event_type") == "pluto_scoring_completed"]


def outbox_row(stack, key):
    return Outbox(stack.services.store).get(key) or {}


def test_scoring_results_whose_answers_were_lost_are_found_not_posted_again(stack):
    stack.slack.lose_answer("chat.postMessage",
                            when=lambda p: (p.get("metadata") or {}).get("event_type") == "pluto_scoring_completed")
    stack.slack.lose_answer("files.completeUploadExternal", when=lambda p: "Full ranking" in str(p.get("files")))
    submit_modal(stack)
    [shortlist] = stack.slack.wait_for(lambda: shortlists(stack), timeout=20)
    run_id = shortlist["metadata"]["event_payload"]["run_id"]
    posted = stack.slack.wait_for(lambda: outbox_row(stack, f"pluto_scoring_completed:{run_id}").get("state")
                                  == "posted" and outbox_row(stack, f"pluto_scoring_completed:{run_id}"), timeout=20)
    assert posted["message_ts"] == shortlist["ts"]
    # then the export, whose answer was lost too, is found in the thread by its file name
    export = stack.slack.wait_for(lambda: outbox_row(stack, f"pluto_export:{run_id}").get("state") == "posted"
                                  and outbox_row(stack, f"pluto_export:{run_id}"), timeout=20)
    assert export["message_ts"]
    # a public channel: the masked export in the thread, then the full one by DM, each exactly once
    stack.slack.wait_for(lambda: outbox_row(stack, f"pluto_export_dm:{run_id}").get("state") == "posted", timeout=20)
    uploads = [u for u in stack.slack.uploads() if u["filename"].endswith(".csv")]  # not the score chart
    assert len([u for u in uploads if u["channel"] == SCORING_CHANNEL]) == 1
    assert len([u for u in uploads if u["channel"] != SCORING_CHANNEL]) == 1
    assert len(shortlists(stack)) == 1
    assert len([c for c in stack.slack.api_calls("files.completeUploadExternal")
                if "Full ranking" in str(c["params"].get("files"))]) == 2


def test_a_scoring_result_claimed_by_a_bot_that_died_is_posted_once(stack):
    submit_modal(stack)
    run = stack.slack.wait_for(lambda: stack.services.store.rows("scoring_runs"), timeout=20)[0]
    # A replica claimed the shortlist and died before posting it.
    assert Outbox(stack.services.store).claim(f"pluto_scoring_completed:{run['id']}", run["channel"],
                        run["thread_ts"])
    [shortlist] = stack.slack.wait_for(lambda: shortlists(stack), timeout=20)
    assert shortlist["metadata"]["event_payload"]["run_id"] == run["id"]
    key = f"pluto_scoring_completed:{run['id']}"
    row = stack.slack.wait_for(lambda: outbox_row(stack, key).get("state") == "posted" and outbox_row(stack, key),
                               timeout=20)
    assert row["message_ts"] == shortlist["ts"]
    assert row["attempts"] == 2 and row["posted_at"] - row["claimed_at"] < 60 and row["claimed_at"] <= now()
    stack.slack.wait_for(lambda: stack.slack.uploads(), timeout=20)
    assert len(shortlists(stack)) == 1
