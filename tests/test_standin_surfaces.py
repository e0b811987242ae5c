"""The Slack test bed's newest surfaces, driven by slack_sdk over real HTTP: function executions with their
own token (scoped as Slack scopes it), outputs checked against the manifest, assistant threads."""

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox.slack_api import SlackStandIn
from sandbox.stack import manifest_functions

TOKEN = "xoxb-standin"


@pytest.fixture(scope="module")
def standin():
    with SlackStandIn(bot_token=TOKEN, functions=manifest_functions()) as s:
        yield s


def client(standin, token=TOKEN):
    return WebClient(token=token, base_url=standin.url + "/api/")


def error_of(call):
    with pytest.raises(SlackApiError) as caught:
        call()
    return caught.value.response["error"], caught.value.response.get("errors")


def test_a_function_token_acts_for_its_execution_only_and_only_until_it_completes(standin):
    first = standin.start_function("create_voice_link", {"user_id": "U1"})
    second = standin.start_function("create_voice_link", {"user_id": "U1"})
    mine = client(standin, first["token"])
    assert mine.chat_postMessage(channel="C1", text="as the bot")["ok"]  # the app's bot scopes, while running
    assert error_of(lambda: mine.functions_completeSuccess(function_execution_id=second["id"], outputs={
        "link_id": "l", "link_url": "u"}))[0] == "access_denied"
    assert error_of(lambda: mine.functions_completeSuccess(function_execution_id=first["id"], outputs={
        "link_id": "l"}))[1] == ["missing required output 'link_url'"]
    assert mine.functions_completeSuccess(function_execution_id=first["id"], outputs={"link_id": "l",
                                                                                      "link_url": "u"})["ok"]
    assert error_of(lambda: mine.chat_postMessage(channel="C1", text="later"))[0] == "token_revoked"
    bot = client(standin)  # the bot token completes any of the app's executions, once
    assert error_of(lambda: bot.functions_completeError(function_execution_id=first["id"], error="x"))[0] == \
        "function_execution_already_completed"
    assert error_of(lambda: bot.functions_completeError(function_execution_id="Fx404", error="x"))[0] == \
        "function_execution_not_found"
    assert bot.functions_completeError(function_execution_id=second["id"], error="Why, in one sentence.")["ok"]
    assert standin.execution(second["id"])["completed_by"] == "bot"


def test_outputs_are_checked_against_the_functions_declared_types(standin):
    execution = standin.start_function("voice_screen_top", {"user_id": "U1", "run": "r", "top_n": 2})
    bot = client(standin)
    assert error_of(lambda: bot.functions_completeSuccess(function_execution_id=execution["id"], outputs={
        "board_permalink": "p", "link_ids": "l1,l2", "extra": 1}))[1] == [
        "output 'link_ids' must be of type array", "output 'extra' is not declared by the function"]
    assert bot.functions_completeSuccess(function_execution_id=execution["id"], outputs={
        "board_permalink": "p", "link_ids": ["l1", "l2"]})["ok"]


def test_assistant_thread_methods_are_checked_and_a_reply_clears_the_status(standin):
    thread = standin.open_assistant_thread("U1", "C1")
    bot = client(standin)
    where = {"channel_id": thread["channel_id"], "thread_ts": thread["thread_ts"]}
    assert bot.assistant_threads_setStatus(**where, status="is thinking…")["ok"]
    assert standin.assistant_thread(thread["channel_id"], thread["thread_ts"])["status"] == "is thinking…"
    bot.chat_postMessage(channel=thread["channel_id"], thread_ts=thread["thread_ts"], text="Here you are")
    assert standin.assistant_thread(thread["channel_id"], thread["thread_ts"])["status"] == ""
    five = [{"title": f"p{i}", "message": "m"} for i in range(5)]
    assert error_of(lambda: bot.assistant_threads_setSuggestedPrompts(**where, prompts=five))[1] == [
        "no more than 4 prompts allowed"]
    assert error_of(lambda: bot.assistant_threads_setSuggestedPrompts(**where, prompts=[{"title": "t"}]))[1] == [
        "prompts/0 needs a title and a message"]
    assert error_of(lambda: bot.assistant_threads_setStatus(channel_id=thread["channel_id"], thread_ts="1.0",
                                                            status="x"))[0] == "thread_not_found"
    assert bot.assistant_threads_setTitle(**where, title="Ask Pluto")["ok"]
