"""Listeners of the hiring loop, each called alone: ack first, the rules asked before anything changes."""

from unittest.mock import Mock, call

import pytest

from handlers.actions.screening_actions import on_decide, on_screen_one, on_screen_top, on_sort
from services.access import Decision
from services.screening import ScreeningBoard


@pytest.fixture()
def services(services):
    """The shared mock ``Services`` plus the loop's services and the access rules."""
    services.screening = Mock(name="screening")
    services.home = Mock(name="home")
    services.home.has_looked.return_value = False
    services.access = Mock(name="access")
    services.screening.board.return_value = ScreeningBoard("b1", "run1", "C_HIRING", "1.0", "U_ALICE", "Role")
    return services


def click(action_id, value, user="U_ALICE", **action):
    body = {"type": "block_actions", "trigger_id": "trig-1", "user": {"id": user, "name": user.lower()},
            "channel": {"id": "C_HIRING"}, "container": {"is_ephemeral": False},
            "message": {"ts": "1.5", "thread_ts": "1.0"}}
    return body, {"action_id": action_id, "value": value, **action}


def allow(services, allowed=True):
    services.access.may_see_run.return_value = Decision(allowed, "test")
    services.access.may_see_session.return_value = Decision(allowed, "test")


def test_voice_screen_top_n_acks_then_opens_a_loading_modal_and_creates_nothing(slack, services):
    allow(services)
    body, action = click("screen_top_pick", None, selected_option={"value": "run1|10"})
    on_screen_top(ack=slack.ack, body=body, action=action, client=slack.client, services=services)
    assert slack.mock_calls[0] == call.ack()
    assert slack.mock_calls[1][0] == "client.views_open"
    services.screening.prefill.assert_called_once_with("run1", 10, None)
    services.screening.screen.assert_not_called()


def test_a_stranger_gets_a_refusal_in_the_modal_and_no_prefill(slack, services):
    allow(services, False)
    body, action = click("screen_top", "run1|5", user="U_MALLORY")
    on_screen_top(ack=slack.ack, body=body, action=action, client=slack.client, services=services)
    assert "can't show you" in str(slack.client.views_update.call_args.kwargs["view"])
    services.screening.prefill.assert_not_called()


def test_one_candidate_without_a_board_opens_the_form_for_them(slack, services):
    allow(services)
    services.screening.board_for_run.return_value = None
    body, action = click("screen_one", "run1|c7")
    on_screen_one(ack=slack.ack, body=body, action=action, client=slack.client, services=services)
    assert slack.mock_calls[0] == call.ack()
    services.screening.prefill.assert_called_once_with("run1", 5, ["c7"])
    services.screening.screen_one.assert_not_called()


def test_decisions_are_refused_to_strangers_and_recorded_for_members(slack, services):
    allow(services, False)
    body, action = click("board_advance", "b1|c1", user="U_MALLORY")
    on_decide(ack=slack.ack, body=body, action=action, client=slack.client, services=services)
    slack.ack.assert_called_once_with()
    services.screening.decide.assert_not_called()
    assert "can't show you" in slack.client.chat_postEphemeral.call_args.kwargs["text"]
    allow(services)
    body, action = click("board_reject", "b1|c1")
    on_decide(ack=slack.ack, body=body, action=action, client=slack.client, services=services)
    services.screening.decide.assert_called_once_with("b1", "c1", "reject", "U_ALICE")


def test_a_forged_sort_value_is_a_polite_refusal(slack, services):
    allow(services)
    body, action = click("board_sort", None, selected_option={"value": "no-separator"})
    on_sort(ack=slack.ack, body=body, action=action, client=slack.client, services=services)
    assert slack.mock_calls[0] == call.ack()  # acked before anything was parsed
    assert "older message" in slack.client.chat_postEphemeral.call_args.kwargs["text"]
    services.screening.set_sort.assert_not_called()
