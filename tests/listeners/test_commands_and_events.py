"""Slash commands, the score modal and message events, each listener called alone."""

from unittest.mock import Mock

from slack_sdk.errors import SlackApiError

import handlers.commands.pluto_scoring  # noqa: F401 - attaches the /pluto subcommands
import handlers.commands.voicelink_manage  # noqa: F401 - attaches the /voicelink subcommands
from handlers.commands import PLUTO, VOICELINK
from handlers.events.pluto_files import on_message
from handlers.views.pluto_score import on_details, on_file
from services.errors import NotFoundHere
from services.intake import IntakeReport

REPORT = IntakeReport("people.csv", "utf-8", ",", ["name", "email"], "name", rows=4)


def command(text, command="/voicelink"):
    return {"command": command, "text": text, "user_id": "U_ALICE", "channel_id": "C_HIRING",
            "trigger_id": "trig-1"}


def test_an_unknown_subcommand_is_answered_with_help_in_the_ack_and_nothing_runs(slack, services):
    PLUTO(ack=slack.ack, body=command("frobnicate", "/pluto"), client=slack.client, respond=slack.respond,
          services=services)
    answer = slack.ack.call_args.kwargs
    assert answer["response_type"] == "ephemeral" and "I don't know `/pluto frobnicate`" in answer["text"]
    assert services.work.done == []


def test_a_subcommand_acks_at_once_and_a_refusal_reaches_the_person_privately(slack, services):
    services.sessions.locate.side_effect = NotFoundHere("Sorry, no session `sess_x` was found among your links.")
    VOICELINK(ack=slack.ack, body=command("status sess_x"), client=slack.client, respond=slack.respond,
              services=services)
    assert slack.mock_calls[0].args == () and slack.mock_calls[0][0] == "ack"
    assert services.work.done == ["/voicelink status"]
    answer = slack.respond.call_args.kwargs
    assert answer["response_type"] == "ephemeral" and "no session `sess_x`" in answer["text"]
    assert "Something went wrong" not in answer["text"]


def test_a_form_opens_right_after_the_ack_with_its_trigger_even_when_the_work_pool_is_full(slack, services):
    services.work = Mock(name="full pool")  # nothing submitted to it would run now
    PLUTO(ack=slack.ack, body=command("score", "/pluto"), client=slack.client, respond=slack.respond,
          services=services)
    assert [c[0] for c in slack.mock_calls[:2]] == ["ack", "client.views_open"]
    assert slack.client.views_open.call_args.kwargs["trigger_id"] == "trig-1"
    assert "pluto_score_modal" in str(slack.client.views_open.call_args.kwargs["view"])
    services.work.submit.assert_not_called()


def test_the_score_forms_errors_ride_on_the_ack_and_nothing_is_checked_or_scored(slack, services):
    view = {"id": "V1", "private_metadata": '{"channel": "C_HIRING"}', "state": {"values": {
        "file": {"file": {"type": "file_input", "files": [{"id": "F1", "name": "people.xlsx"}]}}}}}
    on_file(ack=slack.ack, body={"user": {"id": "U_ALICE"}}, view=view, client=slack.client, services=services)
    assert slack.ack.call_args.kwargs == {"response_action": "errors", "errors": {
        "file": "That is not a .csv file. Export the sheet as CSV first."}}
    details = {"id": "V1", "private_metadata": '{"channel": "C_HIRING", "file": "F1", "rows": 4}', "state": {
        "values": {"top_n": {"top_n": {"type": "number_input", "value": "5"}}}}}
    on_details(ack=slack.ack, body={"user": {"id": "U_ALICE"}}, view=details, client=slack.client, services=services)
    assert slack.ack.call_args.kwargs == {"response_action": "errors", "errors": {
        "top_n": "Choose between 1 and 4: the file has 4 candidates."}}
    assert services.work.done == [] and not services.scoring.mock_calls


def test_the_score_form_says_checking_on_the_ack_then_checks_the_file_after_it(slack, services):
    view = {"id": "V1", "hash": "h0", "private_metadata": '{"channel": "C_HIRING"}', "state": {"values": {
        "file": {"file": {"type": "file_input", "files": [{"id": "F1", "name": "people.csv"}]}}}}}
    slack.client.files_info.return_value = {"file": {"id": "F1", "name": "people.csv"}}
    services.scoring.inspect_file.side_effect = lambda file: (slack.check(file), REPORT)[1]
    on_file(ack=slack.ack, body={"user": {"id": "U_ALICE"}}, view=view, client=slack.client, services=services)
    first = slack.mock_calls[0]
    assert first[0] == "ack" and first.kwargs["response_action"] == "update"
    assert "Checking people.csv…" in str(first.kwargs["view"])
    assert [c[0] for c in slack.mock_calls[1:3]] == ["client.files_info", "check"]  # after the ack, on the pool
    assert services.work.done == ["/pluto score"]
    # the outcome replaces the ack's "Checking…" by that view's own external id (never by the form's id)
    [shown] = [c.kwargs for c in slack.client.views_update.call_args_list]
    assert shown["external_id"] == first.kwargs["view"]["external_id"] and "view_id" not in shown
    assert "4 candidates" in str(shown["view"])


def test_a_shared_csv_without_the_mention_is_left_alone(slack, services):
    event = {"type": "message", "channel": "C_HIRING", "ts": "5.0", "user": "U_ALICE", "text": "score this",
             "files": [{"id": "F1", "name": "c.csv"}]}
    on_message(event=event, client=slack.client, context={"bot_user_id": "U_BOT"}, services=services)
    assert services.work.done == [] and not slack.client.mock_calls and not services.events.first_time.called


def test_a_check_quicker_than_slack_waits_for_the_acks_checking_and_each_check_has_its_own_id(
        slack, services, monkeypatch):
    """Slack applies the ack when it gets it; a check that reaches Slack first would be covered by "Checking…"."""
    monkeypatch.setattr("bot.slack_out.time", FakeClock())
    view = {"id": "V1", "hash": "h0", "private_metadata": '{"channel": "C_HIRING"}', "state": {"values": {
        "file": {"file": {"type": "file_input", "files": [{"id": "F1", "name": "people.csv"}]}}}}}
    slack.client.files_info.return_value = {"file": {"id": "F1", "name": "people.csv"}}
    services.scoring.inspect_file.return_value = REPORT
    slack.client.views_update.side_effect = [not_found(), {"ok": True}]  # the ack's view is not there yet
    on_file(ack=slack.ack, body={"user": {"id": "U_ALICE"}}, view=view, client=slack.client, services=services)
    ids = [c.kwargs["external_id"] for c in slack.client.views_update.call_args_list]
    assert ids == [slack.ack.call_args.kwargs["view"]["external_id"]] * 2
    slack.client.views_update.side_effect = None
    on_file(ack=slack.ack, body={"user": {"id": "U_ALICE"}}, view=view, client=slack.client, services=services)
    assert slack.ack.call_args.kwargs["view"]["external_id"] != ids[0]  # a late outcome never lands on a newer check


def test_a_file_slack_cant_give_or_a_crash_in_the_check_is_said_in_the_form_and_the_bot_stays_up(slack, services):
    view = {"id": "V1", "hash": "h0", "private_metadata": '{"channel": "C_HIRING"}', "state": {"values": {
        "file": {"file": {"type": "file_input", "files": [{"id": "F1", "name": "people.csv"}]}}}}}
    slack.client.files_info.side_effect = SlackApiError("gone", {"ok": False, "error": "file_not_found"})
    on_file(ack=slack.ack, body={"user": {"id": "U_ALICE"}}, view=view, client=slack.client, services=services)
    fetched = str(slack.client.views_update.call_args.kwargs["view"])
    assert "I couldn't fetch that file from Slack (file_not_found)" in fetched and "Choose another file" in fetched
    slack.client.files_info.side_effect = None
    slack.client.files_info.return_value = {"file": {"id": "F1", "name": "people.csv"}}
    services.scoring.inspect_file.side_effect = RuntimeError("boom")
    on_file(ack=slack.ack, body={"user": {"id": "U_ALICE"}}, view=view, client=slack.client, services=services)
    crashed = str(slack.client.views_update.call_args.kwargs["view"])
    assert "Something went wrong on our side while checking the file" in crashed and "Reference: " in crashed
    assert "boom" not in crashed


class FakeClock:
    """``time`` for bot.slack_out: sleeping moves the clock on at once."""

    def __init__(self):
        self.now = 0.0

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def login_submission(key="api_key_1"):
    view = {"id": "V_LOGIN", "state": {"values": {"nimrobo_key": {"key": {"type": "plain_text_input", "value": key}}}}}
    return {"user": {"id": "U_ALICE"}}, view


def not_found():
    from slack_sdk.errors import SlackApiError

    return SlackApiError("not_found", {"ok": False, "error": "not_found"})


def test_the_key_check_outcome_waits_for_the_acks_checking_view_and_replaces_it_by_its_external_id(
        slack, services, monkeypatch):
    from handlers.views.voicelink_login import on_login

    monkeypatch.setattr("bot.slack_out.time", FakeClock())
    services.keys.login.return_value = Mock(account="Alice's team", missing_scopes=[])
    slack.client.views_update.side_effect = [not_found(), not_found(), {"ok": True}]  # Slack has not applied the ack
    body, view = login_submission()
    on_login(ack=slack.ack, body=body, view=view, client=slack.client, services=services)
    checking = slack.ack.call_args.kwargs
    assert checking["response_action"] == "update" and "Checking" in str(checking["view"])
    calls = slack.client.views_update.call_args_list
    assert len(calls) == 3 and {c.kwargs["external_id"] for c in calls} == {checking["view"]["external_id"]}
    assert all("view_id" not in c.kwargs for c in calls)  # by id it could land before the ack's view
    assert "Saved" in str(calls[-1].kwargs["view"])
    slack.client.chat_postMessage.assert_not_called()


def test_a_key_check_whose_modal_was_closed_is_answered_by_dm(slack, services, monkeypatch):
    from handlers.views.voicelink_login import on_login
    from services.errors import BadInput

    monkeypatch.setattr("bot.slack_out.time", FakeClock())
    services.keys.login.side_effect = BadInput("Nimrobo refused the key: Invalid API token.")
    slack.client.views_update.side_effect = not_found()
    body, view = login_submission()
    on_login(ack=slack.ack, body=body, view=view, client=slack.client, services=services)
    said = slack.client.chat_postMessage.call_args.kwargs
    assert said["channel"] == "D_ALICE" and "not saved" in said["text"] and "Invalid API token" in str(said["blocks"])
