"""The Slack test bed, through real HTTP: the Web API stand-in driven by slack_sdk, the signer
checked by slack_sdk's SignatureVerifier on a tiny bot, press(), and the Block Kit renderer."""

import json
import time
from urllib.parse import parse_qs

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier

from sandbox.httpserver import Request, Response, SimServer, json_response
from sandbox.render import render_blocks, render_view
from sandbox.signer import SlackSigner, sign
from sandbox.slack_api import SlackStandIn, validate_blocks

TOKEN = "xoxb-standin"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def section(text="x", **extra):
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def button(label, action_id="act", value="v", **extra):
    return {"type": "button", "text": {"type": "plain_text", "text": label}, "action_id": action_id, "value": value,
            **extra}


def modal(title="Score", blocks=None, **extra):
    return {"type": "modal", "title": {"type": "plain_text", "text": title},
            "submit": {"type": "plain_text", "text": "Go"}, "blocks": blocks or [], **extra}


class TinyBot(SimServer):
    """A stand-in for the bot's Request URL: verifies signatures with slack_sdk, records payloads."""

    name = "tiny-bot"

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.verifier = SignatureVerifier(secret)
        self.received: list[dict] = []
        self.rejected = 0
        self.ack = lambda payload: Response(200)
        self.route("POST", "/slack/events")(self._events)

    def _events(self, request: Request) -> Response:
        if not self.verifier.is_valid_request(request.body, request.headers):
            self.rejected += 1
            return json_response({"error": "invalid signature"}, 401)
        if "json" in request.headers.get("content-type", ""):
            payload = request.json()
        else:
            form = {k: v[-1] for k, v in parse_qs(request.body.decode(), keep_blank_values=True).items()}
            payload = json.loads(form["payload"]) if "payload" in form else form
        self.received.append(payload)
        return self.ack(payload)


@pytest.fixture(scope="module")
def slack():
    with SlackStandIn(bot_token=TOKEN) as s:
        yield s


@pytest.fixture()
def bed():
    """A fresh stand-in, a tiny bot and a signer between them."""
    with SlackStandIn(bot_token=TOKEN) as standin, TinyBot(SECRET) as bot:
        signer = SlackSigner(bot.url, SECRET, standin)
        yield standin, bot, signer, client(standin)
        signer.close()


def client(slack, token=TOKEN, **kw):
    return WebClient(token=token, base_url=slack.url + "/api/", **kw)


def error_of(call):
    with pytest.raises(SlackApiError) as err:
        call()
    return err.value.response["error"]


# -- the Web API -----------------------------------------------------------------------------
def test_bad_or_missing_token_unknown_and_retired_methods(slack):
    assert error_of(lambda: client(slack, "xoxb-wrong").auth_test()) == "invalid_auth"
    assert error_of(lambda: client(slack, None).chat_postMessage(channel="C1", text="x")) == "not_authed"
    assert error_of(lambda: client(slack).api_call("chat.frobnicate")) == "unknown_method"
    assert error_of(lambda: client(slack).api_call("files.upload", data={"content": "x"})) == "method_deprecated"
    me = client(slack).auth_test()
    assert me["user_id"] == "UBOT" and me["team_id"] == "T0SANDBOX" and me["bot_id"]
    assert slack.api_calls("auth.test")[-1]["params"] == {}  # the token is not kept with the call


def test_post_update_delete_with_history_metadata_and_threads(slack):
    c = client(slack)
    with pytest.warns(UserWarning, match="top-level `text` argument is missing"):
        assert error_of(lambda: c.chat_postMessage(channel="C1")) == "no_text"
    assert error_of(lambda: c.chat_postMessage(channel="C1", text="x", metadata={"event_type": "e"})) \
        == "invalid_metadata"
    assert error_of(lambda: c.chat_postMessage(channel="C1", text="x" * 40_001)) == "msg_too_long"
    assert error_of(lambda: c.chat_update(channel="C1", ts="1.0", text="x")) == "message_not_found"
    root = c.chat_postMessage(channel="C1", text="hello", metadata={"event_type": "e", "event_payload": {"a": 1}})
    assert root["message"]["text"] == "hello" and root["message"]["metadata"]["event_type"] == "e"
    reply = c.chat_postMessage(channel="C1", text="in thread", thread_ts=root["ts"])
    c.chat_update(channel="C1", ts=root["ts"], text="edited", blocks=[section("*edited*")])
    stored = slack.message("C1", root["ts"])
    assert stored["text"] == "edited" and stored["updates"] == 1 and stored["metadata"]["event_payload"] == {"a": 1}
    assert stored["history"][0]["text"] == "hello" and stored["blocks"][0]["text"]["text"] == "*edited*"
    assert [m["text"] for m in slack.messages("C1", thread_ts=root["ts"])] == ["in thread"]
    c.reactions_add(channel="C1", timestamp=reply["ts"], name="eyes")
    assert error_of(lambda: c.reactions_add(channel="C1", timestamp=reply["ts"], name="eyes")) == "already_reacted"
    assert c.chat_getPermalink(channel="C1", message_ts=reply["ts"])["permalink"].startswith(slack.url)
    c.chat_delete(channel="C1", ts=reply["ts"])
    assert slack.message("C1", reply["ts"]) is None
    dm = c.conversations_open(users="U_DANA")["channel"]["id"]
    c.chat_postMessage(channel=dm, text="just for you")
    assert [m["text"] for m in slack.dms("U_DANA")] == ["just for you"]
    kinds = [e["kind"] for e in slack.timeline_since(0)]
    assert kinds[-5:] == ["message", "message", "update", "delete", "message"]


LIMITS = [
    ("51 blocks", [section()] * 51, "/blocks"),
    ("section text of 3001", [section("x" * 3001)], "/blocks/0/text/text"),
    ("empty section text", [section("")], "/blocks/0/text/text"),
    ("11 fields", [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}], "/blocks/0/fields"),
    ("field of 2001", [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}],
     "/blocks/0/fields/0/text"),
    ("text type markdown", [{"type": "section", "text": {"type": "markdown", "text": "x"}}], "/blocks/0/text/type"),
    ("header of 151", [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}], "/blocks/0/text/text"),
    ("mrkdwn header", [{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}], "/blocks/0/text/type"),
    ("button text of 76", [{"type": "actions", "elements": [button("b" * 76)]}], "/blocks/0/elements/0/text/text"),
    ("button value of 2001", [{"type": "actions", "elements": [button("b", value="v" * 2001)]}],
     "/blocks/0/elements/0/value"),
    ("action_id of 256", [{"type": "actions", "elements": [button("b", action_id="a" * 256)]}],
     "/blocks/0/elements/0/action_id"),
    ("block_id of 256", [section(block_id="b" * 256)], "/blocks/0/block_id"),
    ("26 actions", [{"type": "actions", "elements": [button(f"b{i}", f"a{i}") for i in range(26)]}],
     "/blocks/0/elements"),
    ("11 context elements", [{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}],
     "/blocks/0/elements"),
    ("101 options", [section(accessory={"type": "static_select", "action_id": "s", "options": [
        {"text": {"type": "plain_text", "text": f"o{i}"}, "value": str(i)} for i in range(101)]})],
     "/blocks/0/accessory/options"),
    ("option text of 76", [section(accessory={"type": "static_select", "action_id": "s", "options": [
        {"text": {"type": "plain_text", "text": "o" * 76}, "value": "1"}]})], "/blocks/0/accessory/options/0/text/text"),
    ("input in a message", [{"type": "input", "label": {"type": "plain_text", "text": "L"},
                             "element": {"type": "plain_text_input", "action_id": "a"}}], "/blocks/0"),
    ("unknown block type", [{"type": "carousel"}], "/blocks/0/type"),
]


@pytest.mark.parametrize("name,blocks,pointer", LIMITS, ids=[case[0] for case in LIMITS])
def test_block_kit_limits_are_refused_like_slack(slack, name, blocks, pointer):
    with pytest.raises(SlackApiError) as err:
        client(slack).chat_postMessage(channel="C1", text="t", blocks=blocks)
    body = err.value.response.data
    assert body["error"] == "invalid_blocks"
    assert any(f"[json-pointer:{pointer}]" in e for e in body["errors"]), body["errors"]
    assert body["response_metadata"]["messages"][0].startswith("[ERROR]")


def test_blocks_right_at_the_limits_are_accepted(slack):
    at_limits = [
        {"type": "header", "text": {"type": "plain_text", "text": "h" * 150}},
        section("x" * 3000, accessory=button("b" * 75, value="v" * 2000)),
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2000}] * 10},
        {"type": "actions", "elements": [button(f"b{i}", f"a{i}") for i in range(25)]},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 10},
        section("s", accessory={"type": "static_select", "action_id": "s", "options": [
            {"text": {"type": "plain_text", "text": "o" * 75}, "value": str(i)} for i in range(100)]}),
    ]
    blocks = at_limits + [{"type": "divider"}] * (50 - len(at_limits))
    assert validate_blocks(blocks) == []
    assert client(slack).chat_postMessage(channel="C1", text="t", blocks=blocks)["ok"]


def test_views_need_a_fresh_trigger_and_respect_modal_limits(slack):
    c = client(slack)
    assert error_of(lambda: c.views_open(trigger_id="made-up", view=modal())) == "invalid_trigger_id"
    long_title = modal(title="t" * 25)
    assert error_of(lambda: c.views_open(trigger_id=slack.issue_trigger_id("U1"), view=long_title)) \
        == "invalid_arguments"
    assert error_of(lambda: c.views_open(trigger_id=slack.issue_trigger_id("U1"),
                                         view=modal(private_metadata="m" * 3001))) == "invalid_arguments"
    input_block = {"type": "input", "block_id": "jd", "label": {"type": "plain_text", "text": "JD"},
                   "element": {"type": "plain_text_input", "action_id": "jd"}}
    no_submit = {**modal(blocks=[input_block]), "submit": None}
    assert error_of(lambda: c.views_open(trigger_id=slack.issue_trigger_id("U1"), view=no_submit)) \
        == "invalid_arguments"
    assert error_of(lambda: c.views_open(trigger_id=slack.issue_trigger_id("U1"),
                                         view=modal(blocks=[section()] * 101))) == "invalid_arguments"
    trigger = slack.issue_trigger_id("U1")
    opened = c.views_open(trigger_id=trigger, view=modal(blocks=[section()] * 100))["view"]
    assert opened["id"] and opened["hash"] and opened["state"] == {"values": {}}
    assert error_of(lambda: c.views_open(trigger_id=trigger, view=modal())) == "invalid_trigger_id"  # used once
    assert error_of(lambda: c.views_update(view_id=opened["id"], hash="stale", view=modal("Two"))) == "hash_conflict"
    updated = c.views_update(view_id=opened["id"], hash=opened["hash"], view=modal("Two"))["view"]
    assert updated["id"] == opened["id"] and updated["hash"] != opened["hash"]
    assert slack.view(opened["id"])["title"]["text"] == "Two"
    for n in (2, 3):
        c.views_push(trigger_id=slack.issue_trigger_id("U1"), view=modal(f"Level {n}"))
    assert [v["title"]["text"] for v in slack.open_views("U1")] == ["Two", "Level 2", "Level 3"]
    assert error_of(lambda: c.views_push(trigger_id=slack.issue_trigger_id("U1"), view=modal("4"))) \
        == "push_limit_reached"
    assert error_of(lambda: c.views_update(view_id="V404", view=modal())) == "not_found"
    home = {"type": "home", "blocks": [section("Welcome")]}
    c.views_publish(user_id="U1", view=home)
    assert slack.home("U1")["blocks"][0]["text"]["text"] == "Welcome"


def test_a_trigger_id_expires_like_slacks():
    with SlackStandIn(bot_token=TOKEN, trigger_ttl=0.05) as standin:
        trigger = standin.issue_trigger_id("U1")
        time.sleep(0.1)
        assert error_of(lambda: client(standin).views_open(trigger_id=trigger, view=modal())) == "expired_trigger_id"


def test_files_download_only_with_the_bot_token(slack):
    file = slack.add_file("c.csv", b"name\nAda\n", user="U_ALICE")
    assert file["id"].startswith("F") and file["size"] == 9 and file["mimetype"] == "text/csv"
    url = file["url_private_download"]
    assert url.startswith(slack.url + "/files-pri/T0SANDBOX-")
    with_token = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"})
    assert with_token.status_code == 200 and with_token.content == b"name\nAda\n"
    assert httpx.get(file["url_private"], headers={"Authorization": f"Bearer {TOKEN}"}).content == b"name\nAda\n"
    for headers in ({}, {"Authorization": "Bearer xoxb-wrong"}):
        assert httpx.get(url, headers=headers).status_code == 302
        followed = httpx.get(url, headers=headers, follow_redirects=True)
        assert "text/html" in followed.headers["content-type"] and "Sign in" in followed.text
    assert client(slack).files_info(file=file["id"])["file"]["name"] == "c.csv"
    assert error_of(lambda: client(slack).files_info(file="F404")) == "file_not_found"


def test_files_upload_v2_end_to_end(slack):
    c = client(slack)
    root = c.chat_postMessage(channel="C9", text="run")
    c.files_upload_v2(channel="C9", thread_ts=root["ts"], content=b"a,b\n1,2\n", filename="r.csv", title="Ranking",
                      initial_comment="The ranking")
    upload = slack.uploads()[-1]
    assert upload["content"] == b"a,b\n1,2\n" and upload["filename"] == "r.csv" and upload["title"] == "Ranking"
    assert upload["channel"] == "C9" and upload["thread_ts"] == root["ts"]
    shared = slack.messages("C9", thread_ts=root["ts"])
    assert [m["text"] for m in shared] == ["The ranking"] and shared[0]["files"][0]["id"] == upload["id"]
    info = c.files_info(file=upload["id"])["file"]
    download = httpx.get(info["url_private_download"], headers={"Authorization": f"Bearer {TOKEN}"})
    assert download.content == b"a,b\n1,2\n"
    assert slack.timeline_since(0)[-1]["kind"] == "upload"


def test_an_image_upload_keeps_its_alt_text_and_type(slack):
    c = client(slack)
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    c.files_upload_v2(channel="C9", content=png, filename="chart.png", title="Chart", alt_txt="A histogram of scores")
    upload = slack.uploads()[-1]
    assert upload["alt_txt"] == "A histogram of scores" and upload["mimetype"] == "image/png"
    assert c.files_info(file=upload["id"])["file"]["alt_txt"] == "A histogram of scores"
    assert error_of(lambda: c.files_upload_v2(channel="C9", content=png, filename="x.png", alt_txt="x" * 1001)) \
        == "invalid_arguments"  # Slack's limit: 1,000 characters

def test_files_delete_removes_only_the_bots_own_files(slack):
    c = client(slack)
    c.files_upload_v2(channel="C_DEL", content=b"a\n1\n", filename="r.csv", title="Ranking")
    upload = slack.uploads()[-1]
    theirs = slack.add_file("c.csv", b"name\nAda\n", user="U_ALICE")
    assert error_of(lambda: c.files_delete(file=theirs["id"])) == "cant_delete_file"
    c.files_delete(file=upload["id"])
    assert slack.deleted_files()[-1] == upload["id"] and slack.uploads()[-1]["deleted"]
    assert error_of(lambda: c.files_info(file=upload["id"])) == "file_not_found"
    assert error_of(lambda: c.files_delete(file=upload["id"])) == "file_not_found"
    [shared] = slack.messages("C_DEL")
    assert shared["files"] == [{"id": upload["id"], "mode": "tombstone"}]  # as Slack shows a deleted file
    assert c.files_info(file=theirs["id"])["file"]["name"] == "c.csv"


def test_response_url_posts_are_recorded_checked_and_limited(slack):
    url = slack.new_response_url("U1", "C1")
    assert httpx.post(url, json={"text": "only you"}).status_code == 200
    assert slack.responses("U1")[-1]["text"] == "only you"
    assert slack.responses("U1")[-1]["channel"] == "C1"
    big = [section()] * 51
    refused = httpx.post(url, json={"text": "x", "blocks": big})
    assert refused.status_code == 400 and refused.text == "invalid_blocks"
    assert httpx.post(url, json={}).text == "no_text"
    assert httpx.post(url, json={"text": "everyone", "response_type": "in_channel"}).status_code == 200
    assert slack.messages("C1")[-1]["text"] == "everyone"
    for n in range(3):
        assert httpx.post(url, json={"text": f"again {n}"}).status_code == 200
    used = httpx.post(url, json={"text": "sixth"})  # Slack allows five posts per response_url
    assert used.status_code == 404 and used.text == "used_url"


def test_response_url_replace_original_edits_the_clicked_message(slack):
    posted = client(slack).chat_postMessage(channel="C2", text="card", blocks=[section("card v1")])
    url = slack.new_response_url("U1", "C2", message_ts=posted["ts"])
    httpx.post(url, json={"replace_original": True, "text": "card v2", "blocks": [section("card v2")]})
    card = slack.message("C2", posted["ts"])
    assert card["text"] == "card v2" and card["updates"] == 1
    httpx.post(url, json={"delete_original": True})
    assert slack.message("C2", posted["ts"]) is None


def test_rate_limited_method_answers_429_and_slack_sdk_retries(slack):
    slack.rate_limit("chat.update", burst=1, retry_after=1, window=1.0)
    try:
        c = client(slack)
        ts = c.chat_postMessage(channel="C3", text="progress 0")["ts"]
        c.chat_update(channel="C3", ts=ts, text="progress 1")
        raw = httpx.post(slack.url + "/api/chat.update", headers={"Authorization": f"Bearer {TOKEN}"},
                         data={"channel": "C3", "ts": ts, "text": "progress 2"})
        assert raw.status_code == 429 and raw.headers["Retry-After"] == "1"
        assert raw.json() == {"ok": False, "error": "ratelimited"}
        assert error_of(lambda: c.chat_update(channel="C3", ts=ts, text="progress 2")) == "ratelimited"
        patient = client(slack, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)])
        before = len(slack.api_calls("chat.update"))
        patient.chat_update(channel="C3", ts=ts, text="progress 3")
        assert slack.message("C3", ts)["text"] == "progress 3"
        assert len(slack.api_calls("chat.update")) - before >= 2  # refused first, then retried
    finally:
        slack.clear_rate_limits()


def test_membership_users_and_ephemerals(slack):
    c = client(slack)
    slack.issue_trigger_id("U_ZOE")  # a user seen in a command is a member of every channel by default
    assert {"U_ALICE", "U_ZOE", "UBOT"} <= set(c.conversations_members(channel="C_ANY")["members"])
    first = c.conversations_members(channel="C_ANY", limit=2)
    assert len(first["members"]) == 2 and first["response_metadata"]["next_cursor"]
    slack.members["C_PRIVATE"] = {"U_ALICE"}
    assert c.conversations_members(channel="C_PRIVATE")["members"] == ["U_ALICE"]
    assert error_of(lambda: c.chat_postEphemeral(channel="C_PRIVATE", user="U_BOB", text="psst")) \
        == "user_not_in_channel"
    ts = c.chat_postEphemeral(channel="C_PRIVATE", user="U_ALICE", text="psst")["message_ts"]
    assert [(e["user"], e["ts"]) for e in slack.ephemerals(channel="C_PRIVATE")] == [("U_ALICE", ts)]
    slack.add_user("U_KIM", "Kim Lee", tz="Asia/Seoul", tz_offset=32400, email="kim@example.com")
    kim = c.users_info(user="U_KIM")["user"]
    assert kim["tz"] == "Asia/Seoul" and kim["profile"]["email"] == "kim@example.com"
    assert c.users_info(user="U_ALICE")["user"]["profile"]["real_name"] == "Alice"
    assert c.conversations_info(channel="C_GENERAL")["channel"]["name"] == "general"


# -- the signer ------------------------------------------------------------------------------------
def test_signed_requests_verify_with_slack_sdk_and_forgeries_do_not(bed):
    standin, bot, signer, c = bed
    assert signer.command("/pluto", "help", user="U_ALICE", channel="C_GENERAL").status_code == 200
    form = bot.received[-1]
    assert form["command"] == "/pluto" and form["text"] == "help" and form["channel_name"] == "general"
    assert form["user_id"] == "U_ALICE" and form["team_id"] == "T0SANDBOX" and form["api_app_id"]
    assert c.views_open(trigger_id=form["trigger_id"], view=modal())["ok"]  # the trigger works on the stand-in
    httpx.post(form["response_url"], json={"text": "help text"})
    assert standin.responses("U_ALICE", "C_GENERAL")[-1]["text"] == "help text"

    assert signer.event({"type": "app_home_opened", "user": "U_ALICE", "tab": "home"}).status_code == 200
    envelope = bot.received[-1]
    assert envelope["type"] == "event_callback" and envelope["event"]["type"] == "app_home_opened"
    assert envelope["authorizations"][0]["user_id"] == "UBOT"
    signer.app_mention("score this")
    mention = bot.received[-1]
    assert mention["event"]["text"] == "<@UBOT> score this" and mention["event_id"] != envelope["event_id"]

    assert signer.command("/pluto", "help", secret="not-the-secret").status_code == 401
    assert signer.command("/pluto", "help", timestamp=int(time.time()) - 6 * 60).status_code == 401
    assert signer.event({"type": "x"}, signature="v0=deadbeef").status_code == 401
    assert bot.rejected == 3
    body, ts = "token=x&command=%2Fpluto", int(time.time())
    assert SignatureVerifier(SECRET).is_valid(body, str(ts), sign(SECRET, ts, body))


def test_press_clicks_the_newest_visible_button_with_the_right_payload(bed):
    standin, bot, signer, c = bed
    old = c.chat_postMessage(channel="C_GENERAL", text="old", blocks=[
        section("old"), {"type": "actions", "block_id": "old_b", "elements": [button("Retry", "retry", "run-1")]}])
    new = c.chat_postMessage(channel="C_GENERAL", text="new", blocks=[
        section("new", block_id="new_b", accessory=button("Retry", "retry", "run-2"))])
    c.chat_postEphemeral(channel="C_GENERAL", user="U_BOB", text="bob only",
                         blocks=[{"type": "actions", "elements": [button("Secret", "secret")]}])
    dm = c.conversations_open(users="U_BOB")["channel"]["id"]
    c.chat_postMessage(channel=dm, text="dm", blocks=[{"type": "actions", "elements": [button("Bob DM", "dm")]}])

    signer.press("retry", user="U_ALICE")
    payload = bot.received[-1]
    assert payload["type"] == "block_actions"
    assert payload["actions"][0]["action_id"] == "retry" and payload["actions"][0]["value"] == "run-2"
    assert payload["actions"][0]["block_id"] == "new_b" and payload["message"]["ts"] == new["ts"]
    assert payload["container"] == {"type": "message", "message_ts": new["ts"], "channel_id": "C_GENERAL",
                                    "is_ephemeral": False}
    assert payload["channel"]["id"] == "C_GENERAL" and payload["user"]["id"] == "U_ALICE"
    with pytest.raises(LookupError) as missing:
        signer.press("Secret", user="U_ALICE")
    assert "[Retry]" in str(missing.value) and "Secret" not in str(missing.value).split("visible")[1]
    assert "Bob DM" not in signer.buttons("U_ALICE") and "Bob DM" in signer.buttons("U_BOB")

    signer.press("Secret", user="U_BOB")
    ephemeral = bot.received[-1]
    assert ephemeral["container"]["is_ephemeral"] and "message" not in ephemeral

    # The bot answers the click on the old card by replacing it through the response_url.
    c.chat_update(channel="C_GENERAL", ts=old["ts"], text="old, refreshed", blocks=[
        {"type": "actions", "block_id": "old_b", "elements": [button("Retry", "retry", "run-1b")]}])
    signer.press("Retry", user="U_ALICE")  # the refreshed card is now the newest
    click = bot.received[-1]
    assert click["actions"][0]["value"] == "run-1b"
    httpx.post(click["response_url"], json={"replace_original": True, "text": "retrying", "blocks": [section("…")]})
    assert standin.message("C_GENERAL", old["ts"])["text"] == "retrying"


def test_buttons_in_open_modals_and_submission_outcomes(bed):
    standin, bot, signer, c = bed
    jd = {"type": "input", "block_id": "jd", "label": {"type": "plain_text", "text": "Job description"},
          "element": {"type": "plain_text_input", "action_id": "jd", "initial_value": "Engineer"}}
    top = {"type": "input", "block_id": "top", "label": {"type": "plain_text", "text": "Top N"},
           "element": {"type": "static_select", "action_id": "top", "options": [
               {"text": {"type": "plain_text", "text": n}, "value": n} for n in ("5", "10")]}}
    draft = {"type": "actions", "block_id": "tools", "elements": [button("Draft with AI", "draft", "d")]}
    signer.command("/pluto", "score", user="U_ALICE")
    view = c.views_open(trigger_id=bot.received[-1]["trigger_id"], view=modal(blocks=[jd, top, draft]))["view"]

    signer.press("Draft with AI", user="U_ALICE")
    click = bot.received[-1]
    assert click["container"] == {"type": "view", "view_id": view["id"]} and click["view"]["id"] == view["id"]
    assert "user" not in click["view"] and "response_url" not in click

    with pytest.raises(ValueError, match="not an input block"):
        signer.view_submission(view, {"jdd": {"jd": signer.input_value("x")}}, user="U_ALICE")
    bot.ack = lambda p: json_response({"response_action": "errors", "errors": {"top": "Pick one."}})
    answer = signer.view_submission(view, {"top": {"top": {"type": "static_select", "selected_option": None}}},
                                    user="U_ALICE")
    submitted = bot.received[-1]["view"]
    assert submitted["state"]["values"]["jd"]["jd"] == {"type": "plain_text_input", "value": "Engineer"}  # untouched
    assert answer.ack == {"response_action": "errors", "errors": {"top": "Pick one."}}
    assert standin.view(view["id"])["errors"] == {"top": "Pick one."} and standin.open_views("U_ALICE")

    updated = modal("Queued", blocks=[section("You're number 2")])
    bot.ack = lambda p: json_response({"response_action": "update", "view": updated})
    signer.view_submission(view, {"top": {"top": signer.selected("5")}}, user="U_ALICE")
    assert standin.views("U_ALICE")[-1]["title"]["text"] == "Queued"
    assert "Draft with AI" not in signer.buttons("U_ALICE")  # that modal content is gone

    bot.ack = lambda p: Response(200)
    outcome = signer.view_submission(standin.view(view["id"]), {}, user="U_ALICE").view_outcome
    assert outcome["outcome"] == "closed" and standin.open_views("U_ALICE") == []
    assert standin.view(view["id"])["closed"]
    assert error_of(lambda: c.views_update(view_id=view["id"], view=modal())) == "not_found"
    with pytest.raises(ValueError, match="closed"):
        signer.view_submission(view, {}, user="U_ALICE")


def test_wait_for_returns_the_match_or_explains_what_was_posted(slack):
    c = client(slack)
    c.chat_postMessage(channel="C7", text="fallback", blocks=[{"type": "actions", "elements": [button("Go", "go")]}])
    found = slack.wait_for(lambda: [m for m in slack.messages("C7")], timeout=1)
    assert found[0]["text"] == "fallback"
    with pytest.raises(AssertionError) as err:
        slack.wait_for(lambda: [m for m in slack.messages("C7") if m["text"] == "never"], timeout=0.2)
    assert "message C7" in str(err.value) and "[Go]" in str(err.value)


# -- the renderer ------------------------------------------------------------------------------------
def test_render_blocks_reads_like_the_message():
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Shortlist"}},
        section("*Ada Lovelace* — <https://example.com/c/1|profile> for <@U_ALICE>",
                accessory=button("Details", "details")),
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "*Score*\n92"},
                                       {"type": "mrkdwn", "text": "*Tier*\nTop Tier"}]},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "run 7 &amp; counting"}]},
        {"type": "divider"},
        {"type": "image", "image_url": "https://x/y.png", "alt_text": "chart"},
        {"type": "actions", "elements": [
            button("Next page", "next"), button("Open", "open", url="https://example.com"),
            {"type": "static_select", "action_id": "s", "placeholder": {"type": "plain_text", "text": "Sort by"},
             "options": [{"text": {"type": "plain_text", "text": "Score"}, "value": "s"}]}]},
    ]
    lines = render_blocks(blocks, "fallback").splitlines()
    assert lines[0] == "SHORTLIST" and set(lines[1]) == {"═"}
    assert lines[2] == "*Ada Lovelace* — profile (https://example.com/c/1) for @U_ALICE"
    assert lines[3] == "  [Details]"
    assert lines[4:6] == ["  Score: 92", "  Tier: Top Tier"]
    assert lines[6] == "  · run 7 & counting"
    assert lines[8] == "[image: chart]"
    assert lines[9] == "[Next page]  [Open ↗ https://example.com]  [Sort by ▾]"
    assert render_blocks([], "just text") == "just text"


def test_render_view_shows_inputs_errors_and_its_buttons():
    view = modal("Score candidates", blocks=[
        {"type": "input", "block_id": "jd", "label": {"type": "plain_text", "text": "Job description"},
         "element": {"type": "plain_text_input", "action_id": "jd"}},
        {"type": "input", "block_id": "n", "optional": True, "label": {"type": "plain_text", "text": "Top N"},
         "element": {"type": "static_select", "action_id": "n", "initial_option": {
             "text": {"type": "plain_text", "text": "10"}, "value": "10"}, "options": []}},
    ], close={"type": "plain_text", "text": "Cancel"}, errors={"jd": "Required."})
    assert render_view(view).splitlines() == [  # an error sits under its field, as Slack shows it
        "┌ Score candidates ┐", "Job description: ____", "  ! Required.", "Top N (optional): [10 ▾]",
        "<Go>  <Cancel>"]


# -- history with metadata, and answers lost after a post was stored ---------------------------------
def test_history_and_replies_show_metadata_only_when_asked():
    with SlackStandIn(bot_token=TOKEN) as standin:
        client = WebClient(token=TOKEN, base_url=standin.url + "/api/")
        meta = {"event_type": "voice_session_completed", "event_payload": {"session_id": "s1"}}
        root = client.chat_postMessage(channel="C_H", text="root")["ts"]
        first = client.chat_postMessage(channel="C_H", text="done", metadata=meta)["ts"]
        reply = client.chat_postMessage(channel="C_H", text="in thread", thread_ts=root, metadata=meta)["ts"]
        history = client.conversations_history(channel="C_H", include_all_metadata=True)["messages"]
        assert [m["ts"] for m in history] == [first, root]  # newest first; thread replies are not listed
        assert history[0]["metadata"] == meta
        assert "metadata" not in client.conversations_history(channel="C_H")["messages"][0]
        assert client.conversations_history(channel="C_H", oldest=root)["messages"][0]["ts"] == first
        page = client.conversations_history(channel="C_H", limit=1)
        assert len(page["messages"]) == 1 and page["response_metadata"]["next_cursor"]
        replies = client.conversations_replies(channel="C_H", ts=root, include_all_metadata=True)["messages"]
        assert [m["ts"] for m in replies] == [root, reply] and replies[1]["metadata"] == meta
        with pytest.raises(SlackApiError) as missing:
            client.conversations_replies(channel="C_H", ts="1.000001")
        assert missing.value.response["error"] == "thread_not_found"
        standin.members["C_OUT"] = {"U_ALICE"}
        with pytest.raises(SlackApiError) as outside:
            client.conversations_history(channel="C_OUT")
        assert outside.value.response["error"] == "not_in_channel"


def test_a_lost_answer_still_stores_the_post_and_touches_only_that_method():
    with SlackStandIn(bot_token=TOKEN) as standin:
        client = WebClient(token=TOKEN, base_url=standin.url + "/api/", retry_handlers=[])
        standin.lose_answer("chat.postMessage")
        client.auth_test()  # other methods answer as usual
        with pytest.raises(Exception) as lost:
            client.chat_postMessage(channel="C_L", text="stored, but you won't hear back")
        assert not isinstance(lost.value, SlackApiError)  # no answer at all
        assert [m["text"] for m in standin.messages("C_L")] == ["stored, but you won't hear back"]
        assert client.chat_postMessage(channel="C_L", text="next")["ok"]  # one-off
