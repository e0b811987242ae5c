"""App Home, "Ask Pluto" and ``/pluto forget`` buttons, each called alone with a mock ack: ack first, then the
answer where that surface answers (the Home tab: a DM; an assistant thread: the thread; the forget question:
in its place)."""

from unittest.mock import ANY, Mock, call, patch

import pytest

from bot.blocks import info_message
from handlers.actions import assistant_actions, home_actions, lifecycle_actions
from services.access import Decision
from services.errors import NotAllowed


@pytest.fixture()
def services(services):
    services.access = Mock(name="access")
    services.backends = Mock(name="backends")
    return services


def home_click(action_id, value=None):
    body = {"type": "block_actions", "trigger_id": "trig-1", "user": {"id": "U_ALICE"},
            "container": {"type": "view", "view_id": "V_HOME"},
            "view": {"type": "home", "private_metadata": '{"pages": {"runs": 2}}'}}
    return body, {"action_id": action_id, "value": value}


def thread_click(action_id, value):
    body = {"type": "block_actions", "trigger_id": "trig-1", "user": {"id": "U_ALICE"},
            "channel": {"id": "D_APP"}, "container": {"channel_id": "D_APP", "thread_ts": "9.0"},
            "message": {"ts": "9.5", "thread_ts": "9.0"}}
    return body, {"action_id": action_id, "value": value}


def dm_text(slack) -> str:
    """What the DM (conversations.open, then chat.postMessage) said."""
    slack.client.conversations_open.assert_called_with(users="U_ALICE")
    return slack.client.chat_postMessage.call_args.kwargs["text"]


def test_a_home_page_button_acks_then_publishes_that_page_keeping_the_others(slack, services):
    body, action = home_click("home_page_next_boards", "boards|3")
    with patch.object(home_actions, "publish_home") as publish:
        home_actions.on_page(ack=slack.ack, body=body, action=action, client=slack.client, services=services)
    assert slack.mock_calls[0] == call.ack()
    publish.assert_called_once_with(services, slack.client, "U_ALICE", pages={"runs": 2, "boards": 3})


def test_the_doctor_button_asks_for_fresh_checks_and_a_failure_reaches_the_person_by_dm(slack, services):
    body, action = home_click("home_doctor")
    with patch.object(home_actions, "publish_home", side_effect=NotAllowed("Only admins.")) as publish:
        home_actions.on_refresh(ack=slack.ack, body=body, action=action, client=slack.client, services=services)
    assert publish.call_args.kwargs["fresh_checks"] is True
    assert "Only admins." in dm_text(slack)
    slack.client.chat_postEphemeral.assert_not_called()


def test_show_board_is_refused_by_dm_to_someone_who_may_not_see_its_run(slack, services):
    services.access.may_see_board.return_value = Decision(False, "no rule")
    body, action = home_click("home_show_board", "b1")
    home_actions.on_show_board(ack=slack.ack, body=body, action=action, client=slack.client, services=services)
    assert slack.mock_calls[0] == call.ack()
    services.access.may_see_board.assert_called_once_with("U_ALICE", "b1")
    assert "can't show you that screening board" in dm_text(slack)
    services.screening.board_view.assert_not_called()


def test_a_forged_backend_form_click_opens_no_form_and_is_refused_by_dm(slack, services):
    services.backends.admin_here.side_effect = NotAllowed("Only a workspace admin can set the key.")
    body, action = home_click("home_ws_nimrobo_set", "set")
    home_actions.on_backend_form(ack=slack.ack, body=body, action=action, client=slack.client, services=services)
    assert slack.mock_calls[0] == call.ack()
    slack.client.views_open.assert_not_called()
    assert "Only a workspace admin" in dm_text(slack)


def test_new_links_from_home_opens_the_create_form_at_once_for_the_dm(slack, services):
    services.voicelinks.ai_drafting = False
    body, action = home_click("home_voicelink_create", "home")
    home_actions.on_new_links(ack=slack.ack, body=body, action=action, client=slack.client, services=services)
    assert [c[0] for c in slack.mock_calls[:3]] == ["ack", "client.conversations_open", "client.views_open"]
    assert "D_ALICE" in slack.client.views_open.call_args.kwargs["view"]["private_metadata"]


def test_an_assistant_proposal_is_done_then_answered_in_its_thread(slack, services):
    done = info_message("Made 3 voice links.")
    body, action = thread_click("assistant_create_links", "run1|3")
    with patch.object(assistant_actions.flow, "create_links", return_value=done) as create, \
            patch.object(assistant_actions.flow, "close_proposal") as close:
        assistant_actions.on_create_links(ack=slack.ack, body=body, action=action, client=slack.client,
                                          services=services)
    assert slack.mock_calls[0] == call.ack()
    create.assert_called_once_with(services, slack.client, user="U_ALICE", run_id="run1", top_n=3)
    close.assert_called_once_with(slack.client, "D_APP", body["message"], "Made 3 voice links.")
    slack.client.chat_postMessage.assert_called_once_with(channel="D_APP", thread_ts="9.0", text=ANY, blocks=ANY)
    slack.client.chat_postEphemeral.assert_not_called()


@pytest.mark.parametrize("value", ["b1|c1|promote", "b1|c1", "run1"])
def test_an_old_or_forged_assistant_decision_is_answered_in_the_thread_and_decides_nothing(slack, services, value):
    body, action = thread_click("assistant_decide", value)
    with patch.object(assistant_actions.flow, "decide") as decide:
        assistant_actions.on_decide(ack=slack.ack, body=body, action=action, client=slack.client, services=services)
    decide.assert_not_called()
    assert slack.mock_calls[0] == call.ack()
    assert "older message" in slack.client.chat_postMessage.call_args.kwargs["text"]
    assert slack.client.chat_postMessage.call_args.kwargs["thread_ts"] == "9.0"


def test_erase_confirmed_replaces_the_question_with_the_summary(slack, services):
    body, action = thread_click("pluto_forget_confirm", "ada@example.com")
    with patch.object(lifecycle_actions.lifecycle, "forget", return_value=info_message("Erased.")) as forget:
        lifecycle_actions.on_forget_confirm(ack=slack.ack, body=body, action=action, client=slack.client,
                                            respond=slack.respond, services=services)
    assert slack.mock_calls[0] == call.ack()
    forget.assert_called_once_with(services, slack.client, "U_ALICE", "ada@example.com")
    sent = slack.respond.call_args.kwargs
    assert (sent["text"], sent["replace_original"], sent["response_type"]) == ("Erased.", True, "ephemeral")


def test_a_refused_erasure_replaces_the_question_with_the_refusal(slack, services):
    body, action = thread_click("pluto_forget_confirm", "ada@example.com")
    with patch.object(lifecycle_actions.lifecycle, "forget", side_effect=NotAllowed("Only admins can erase.")):
        lifecycle_actions.on_forget_confirm(ack=slack.ack, body=body, action=action, client=slack.client,
                                            respond=slack.respond, services=services)
    assert "Only admins can erase." in slack.respond.call_args.kwargs["text"]
    assert slack.respond.call_args.kwargs["replace_original"] is True


def test_cancel_replaces_the_question(slack, services):
    body, action = thread_click("pluto_forget_cancel", "ada@example.com")
    lifecycle_actions.on_forget_cancel(ack=slack.ack, body=body, action=action, client=slack.client,
                                       respond=slack.respond, services=services)
    assert slack.mock_calls[0] == call.ack()
    assert slack.respond.call_args.kwargs["replace_original"] is True
    assert "Nothing was erased" in slack.respond.call_args.kwargs["text"]
