"""The Slack Web API stand-in rejects what Slack rejects, through slack_sdk over real HTTP."""

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier

from sandbox.signer import sign
from sandbox.slack_api import SlackStandIn

TOKEN = "xoxb-standin"


@pytest.fixture(scope="module")
def slack():
    with SlackStandIn(bot_token=TOKEN) as s:
        yield s


def client(slack, token=TOKEN):
    return WebClient(token=token, base_url=slack.url + "/api/")


def error_of(call):
    with pytest.raises(SlackApiError) as err:
        call()
    return err.value.response["error"]


def test_bad_or_missing_token_and_unknown_method(slack):
    assert error_of(lambda: client(slack, "xoxb-wrong").auth_test()) == "invalid_auth"
    assert error_of(lambda: client(slack, None).chat_postMessage(channel="C1", text="x")) == "not_authed"
    assert error_of(lambda: client(slack).api_call("chat.frobnicate")) == "unknown_method"


def test_block_kit_limits(slack):
    c = client(slack)
    too_many = [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}] * 51
    assert error_of(lambda: c.chat_postMessage(channel="C1", text="t", blocks=too_many)) == "invalid_blocks"
    too_long = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
    assert error_of(lambda: c.chat_postMessage(channel="C1", text="t", blocks=too_long)) == "invalid_blocks"
    assert error_of(lambda: c.chat_postMessage(channel="C1")) == "no_text"
    assert error_of(lambda: c.chat_update(channel="C1", ts="1.0", text="x")) == "message_not_found"
    ok = c.chat_postMessage(channel="C1", text="hello", metadata={"event_type": "e", "event_payload": {"a": 1}})
    c.chat_update(channel="C1", ts=ok["ts"], text="edited")
    stored = slack.message("C1", ok["ts"])
    assert stored["text"] == "edited" and stored["updates"] == 1 and stored["metadata"]["event_type"] == "e"


def test_views_need_a_fresh_trigger_id(slack):
    c = client(slack)
    view = {"type": "modal", "title": {"type": "plain_text", "text": "T"}, "blocks": []}
    assert error_of(lambda: c.views_open(trigger_id="made-up", view=view)) == "invalid_trigger_id"
    trigger = slack.issue_trigger_id("U1")
    assert c.views_open(trigger_id=trigger, view=view)["view"]["id"]
    assert error_of(lambda: c.views_open(trigger_id=trigger, view=view)) == "invalid_trigger_id"  # used once


def test_files_download_only_with_the_bot_token_and_upload_v2(slack):
    file = slack.add_file("c.csv", b"name\nAda\n")
    url = file["url_private_download"]
    assert httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"}).content == b"name\nAda\n"
    assert "Sign in" in httpx.get(url).text
    client(slack).files_upload_v2(channel="C1", content=b"a,b\n1,2\n", filename="r.csv", title="Ranking")
    upload = slack.uploads()[-1]
    assert upload["content"] == b"a,b\n1,2\n" and upload["channel"] == "C1"


def test_response_url_posts_are_recorded_and_checked(slack):
    url = slack.new_response_url("U1", "C1")
    assert httpx.post(url, json={"text": "only you"}).status_code == 200
    assert slack.responses("U1")[-1]["text"] == "only you"
    big = [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}] * 51
    assert httpx.post(url, json={"text": "x", "blocks": big}).status_code == 400


def test_signatures_match_slack_sdk():
    body = "token=x&command=%2Fpluto"
    verifier = SignatureVerifier("secret")
    ts = int(__import__("time").time())
    assert verifier.is_valid(body, str(ts), sign("secret", ts, body))
    assert not verifier.is_valid(body, str(ts), sign("other", ts, body))
