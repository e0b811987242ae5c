"""Exactly once with no loss window, end to end on SQLite and PostgreSQL, through the outbox.

Slack stores a post but its answer is lost; or the bot dies between claiming a post and
making it. Either way the post appears exactly once: the bot finds the first one by its
metadata (conversations.history / conversations.replies with include_all_metadata) and
records it, or posts it when it is not there. The claim timeout is set far beyond the tests'
waits: an unclear outcome is looked up after the short grace, and a dead leader's claim at
once by the next leader epoch, never by the timeout.
"""

import pytest

from sandbox.stack import Stack, StackOptions
from services.leader import EPOCH_KEY
from services.outbox import Outbox
from services.store import Store
from tests.conftest import db_options
from tests.test_scoring_e2e import CHANNEL as SCORING_CHANNEL
from tests.test_scoring_e2e import submit_modal
from tests.test_voicelink_e2e import CHANNEL, make_links

NEVER = 3600.0  # the claim timeout: no test here may wait for it


@pytest.fixture()
def stack(database):
    options = StackOptions(nimrobo={"evaluation_delay": 0.2, "summary_delay": 0.2},
                           pluto={"extract_seconds": 0.3, "score_seconds": 0.6},
                           settings={"claim_timeout_seconds": NEVER, "outbox_grace_seconds": 0.3},
                           **db_options(database))
    with Stack(options) as s:
        yield s


def completed_posts(stack, channel=CHANNEL):
    return [m for m in stack.slack.messages(channel)
            if (m.get("metadata") or {}).get("event_type") == "voice_session_completed"]


def history_lookups(stack):
    return [c for c in stack.slack.api_calls() if c["method"] in ("conversations.history", "conversations.replies")
            and str(c["params"].get("include_all_metadata")).lower() in ("1", "true")]


def outbox_row(stack, key):
    return Outbox(stack.services.store).get(key) or {}


def sent(stack, key):
    row = outbox_row(stack, key)
    return row if row.get("state") == "sent" else None


def test_a_completed_interview_whose_answer_was_lost_is_found_not_posted_again(stack):
    link = make_links(stack, labels="Ada")[0]
    stack.slack.lose_answer("chat.postMessage",
                            when=lambda p: (p.get("metadata") or {}).get("event_type") == "voice_session_completed")
    session = stack.nimrobo.start_session(link["id"])
    stack.nimrobo.complete_session(session)
    [post] = stack.slack.wait_for(lambda: completed_posts(stack), timeout=20)
    # Slack stored it, the bot never heard back: after the grace it looks and finds it.
    key = f"voice_session_completed:{session}:{CHANNEL}"
    row = stack.slack.wait_for(lambda: sent(stack, key), timeout=20)
    assert row["message_ts"] == post["ts"]
    assert history_lookups(stack)
    assert len(completed_posts(stack)) == 1
    posts = [c for c in stack.slack.api_calls("chat.postMessage")
             if (c["params"].get("metadata") or {}).get("event_type") == "voice_session_completed"]
    assert len(posts) == 1  # never re-sent on the dropped connection
    # the watcher's own record has the ts too (the Home tab lists it)
    note = stack.slack.wait_for(lambda: (stack.services.store.get("session_notifications", (session, CHANNEL))
                                         or {}).get("message_ts"), timeout=30)
    assert note == post["ts"]


def test_a_claim_left_by_a_leader_killed_before_posting_is_posted_once_at_once(stack):
    link = make_links(stack, labels="Bea")[0]
    session = stack.nimrobo.start_session(link["id"])
    stack.services.voicelinks.refresh_statuses()  # the link's session id, as the card job records it
    thread_ts = stack.services.store.rows("voice_links", "session_id = ?", [session])[0]["thread_ts"]
    stack.stop_bot()
    # The leader had queued and claimed the post under its epoch, then died before chat.postMessage.
    store = Store(stack.settings.database_target)
    try:
        old_epoch = int(store.kv_get(EPOCH_KEY))
        outbox, key = Outbox(store), f"voice_session_completed:{session}:{CHANNEL}"
        payload = {"text": "Bea finished the interview",
                   "metadata": {"event_type": "voice_session_completed",
                                "event_payload": {"session_id": session, "outbox_key": key}}}
        assert outbox.enqueue(key, CHANNEL, "post", payload, thread_ts=thread_ts)
        assert outbox.claim(outbox.get(key), old_epoch)
    finally:
        store.close()
    stack.nimrobo.complete_session(session)
    stack.start_bot()
    [post] = stack.slack.wait_for(lambda: completed_posts(stack), timeout=20)
    assert post["metadata"]["event_payload"]["session_id"] == session
    row = stack.slack.wait_for(lambda: sent(stack, key), timeout=20)
    assert row["message_ts"] == post["ts"]
    assert row["epoch"] > old_epoch  # settled by the new leader's epoch, not by a timeout
    assert history_lookups(stack)  # it looked first, and found nothing
    assert len(completed_posts(stack)) == 1


def shortlists(stack):
    return [m for m in stack.slack.messages(SCORING_CHANNEL)
            if (m.get("metadata") or {}).get("event_type") == "pluto_scoring_completed"]


def test_scoring_results_whose_answers_were_lost_are_found_not_posted_again(stack):
    stack.slack.lose_answer("chat.postMessage",
                            when=lambda p: (p.get("metadata") or {}).get("event_type") == "pluto_scoring_completed")
    stack.slack.lose_answer("files.completeUploadExternal", when=lambda p: "Full ranking" in str(p.get("files")))
    submit_modal(stack)
    [shortlist] = stack.slack.wait_for(lambda: shortlists(stack), timeout=20)
    run_id = shortlist["metadata"]["event_payload"]["run_id"]
    posted = stack.slack.wait_for(lambda: sent(stack, f"pluto_scoring_completed:{run_id}"), timeout=20)
    assert posted["message_ts"] == shortlist["ts"]
    # then the export, whose answer was lost too, is found in the thread by its file name
    export = stack.slack.wait_for(lambda: sent(stack, f"pluto_export:{run_id}"), timeout=20)
    assert export["message_ts"]
    # a public channel: the masked export in the thread, then the full one by DM, each exactly once
    stack.slack.wait_for(lambda: sent(stack, f"pluto_export_dm:{run_id}"), timeout=20)
    stack.slack.wait_for(lambda: sent(stack, f"pluto_score_chart:{run_id}"), timeout=20)  # the chart, once too
    uploads = [u for u in stack.slack.uploads() if u["filename"].endswith(".csv")]
    assert len([u for u in uploads if u["channel"] == SCORING_CHANNEL]) == 1
    assert len([u for u in uploads if u["channel"] != SCORING_CHANNEL]) == 1
    assert len([u for u in stack.slack.uploads() if u["filename"].endswith(".png")]) == 1
    assert len(shortlists(stack)) == 1
    assert len([c for c in stack.slack.api_calls("files.completeUploadExternal")
                if "Full ranking" in str(c["params"].get("files"))]) == 2
    health = stack.runtime.health()["outbox"]
    assert health["waiting"] == 0 and health["oldest_age_seconds"] == 0.0
