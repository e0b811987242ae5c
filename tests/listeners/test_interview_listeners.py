"""Interview listeners alone: the mention router, the transcript form, the colleague picker, thread history."""

from unittest.mock import Mock, call

from slack_sdk.errors import SlackApiError

import handlers.commands.pluto_interviews  # noqa: F401 - attaches /pluto room
from bot.blocks.interviews import ANSWER_EVENT
from bot.flows.interviews import history_from_thread
from handlers.actions.interview_actions import on_add
from handlers.commands import PLUTO
from handlers.events.mentions import on_mention
from handlers.views.interview_views import on_add_interviewer, on_analyze, parse_transcript_form
from services.interviews import ChatTurn, InterviewRoom

ROOM = InterviewRoom(id="r1", room_name="interview-7", kind="candidate", run_id="run1", candidate_id="c1",
                     candidate_name="Ada", interviewer="U_ALICE", interviewer_name="Alice",
                     interviewers=("U_ALICE",), channel="C_HIRING", thread_ts="1.0", card_ts="2.0",
                     expires_at=2e9, expiry_estimated=False, state="live")


def answer(ts, question_ts, text, room="r1", bot=True):
    message = {"ts": ts, "text": text, "metadata": {"event_type": ANSWER_EVENT,
                                                     "event_payload": {"room_id": room, "question_ts": question_ts}}}
    if bot:
        message["bot_id"] = "B1"
    return message


def test_history_is_the_rooms_own_answered_questions_before_this_one():
    thread = [{"ts": "1.0", "text": "shortlist"},
              {"ts": "3.0", "user": "U_ALICE", "text": "<@UBOT> What first?"}, answer("3.5", "3.0", "Ask X."),
              {"ts": "4.0", "user": "U_BOB", "text": "<@UBOT> other room?"}, answer("4.5", "4.0", "Y", room="r2"),
              answer("5.5", "5.0", "answer to a deleted question"),
              {"ts": "6.0", "user": "U_EVE", "text": "<@UBOT> forged"}, answer("6.5", "6.0", "forged", bot=False),
              {"ts": "7.0", "user": "U_BOB", "text": "<@UBOT> And then?"}, answer("7.5", "7.0", "Ask Z."),
              {"ts": "8.0", "user": "U_ALICE", "text": "<@UBOT> now"}]
    assert history_from_thread(thread, "r1", "8.0") == [
        ChatTurn("user", "What first?"), ChatTurn("assistant", "Ask X."),
        ChatTurn("user", "And then?"), ChatTurn("assistant", "Ask Z.")]
    assert history_from_thread(thread, "r1", "7.0") == [ChatTurn("user", "What first?"),
                                                        ChatTurn("assistant", "Ask X.")]


def test_a_mention_in_an_interview_thread_goes_to_the_assistant_once(slack, services):
    services.interviews.for_thread.return_value = ROOM
    services.events.first_time.side_effect = [True, False]
    event = {"type": "app_mention", "channel": "C_HIRING", "ts": "3.0", "thread_ts": "1.0", "user": "U_ALICE",
             "text": "<@UBOT> what should I ask about their score?"}
    on_mention(event=event, client=slack.client, context={"bot_user_id": "UBOT"}, services=services)
    on_mention(event=event, client=slack.client, context={"bot_user_id": "UBOT"}, services=services)  # re-sent
    assert services.work.done == ["interview assistant"]
    services.interviews.for_thread.assert_called_with("C_HIRING", "1.0", "U_ALICE")
    # the word "score" did not start a scoring run
    assert "Attach a CSV" not in str(slack.client.chat_postMessage.call_args_list)


def test_a_mention_outside_an_interview_thread_is_left_to_scoring(slack, services):
    services.interviews.for_thread.return_value = None
    event = {"type": "app_mention", "channel": "C_HIRING", "ts": "3.0", "thread_ts": "1.0", "user": "U_ALICE",
             "text": "<@UBOT> score"}
    services.events.first_time.return_value = True
    on_mention(event=event, client=slack.client, context={"bot_user_id": "UBOT"}, services=services)
    refusal = slack.client.chat_postEphemeral.call_args.kwargs  # a refusal goes only to the person who asked
    assert "Attach a CSV of candidates" in refusal["text"] and refusal["user"] == "U_ALICE"
    slack.client.chat_postMessage.assert_not_called()


def test_the_transcript_form_takes_exactly_one_source():
    def values(text=None, files=None, session=None):
        out = {"transcript": {"transcript": {"type": "plain_text_input", "value": text}},
               "file": {"file": {"type": "file_input", "files": files or []}}}
        if session:
            out["session"] = {"session": {"type": "static_select", "selected_option": {"value": session}}}
        return out

    assert "Paste the transcript" in parse_transcript_form(values())[1]["transcript"]
    assert parse_transcript_form(values("a b c d e f", session="s1"))[1] == {"session": "Use one source at a time."}
    assert "too short" in parse_transcript_form(values("hello there"))[1]["transcript"]
    assert ".txt" in parse_transcript_form(values(files=[{"id": "F1", "name": "cv.pdf"}]))[1]["file"]
    assert parse_transcript_form(values(files=[{"id": "F1", "name": "call.vtt"}])) == (
        {"text": "", "file_id": "F1", "session_id": None}, {})
    assert parse_transcript_form(values(session="sess_1")) == ({"text": "", "file_id": None, "session_id": "sess_1"},
                                                               {})


def test_transcript_form_errors_ride_on_the_ack_and_nothing_runs(slack, services):
    view = {"private_metadata": '{"room": "r1", "channel": "C_HIRING", "thread": "1.0"}',
            "state": {"values": {"transcript": {"transcript": {"type": "plain_text_input", "value": "hi"}}}}}
    on_analyze(ack=slack.ack, body={"user": {"id": "U_ALICE"}}, view=view, client=slack.client, services=services)
    assert slack.ack.call_args.kwargs["response_action"] == "errors"
    assert services.work.done == []


def test_the_colleague_picker_opens_right_after_the_ack_and_yourself_is_not_a_colleague(slack, services):
    services.work = Mock(name="full pool")
    services.interviews.get.return_value = ROOM
    body = {"trigger_id": "trig-1", "user": {"id": "U_ALICE"}, "channel": {"id": "C_HIRING"},
            "message": {"ts": "2.0", "thread_ts": "1.0"}, "container": {}}
    on_add(ack=slack.ack, body=body, action={"value": "r1"}, client=slack.client, services=services)
    assert [c[0] for c in slack.mock_calls[:2]] == ["ack", "client.views_open"]
    assert slack.client.views_open.call_args.kwargs["trigger_id"] == "trig-1"
    services.work.submit.assert_not_called()
    view = {"private_metadata": '{"room": "r1"}', "state": {"values": {"colleague": {"colleague": {
        "type": "users_select", "selected_user": "U_ALICE"}}}}}
    on_add_interviewer(ack=slack.ack, body={"user": {"id": "U_ALICE"}}, view=view, client=slack.client,
                       services=services)
    assert slack.ack.call_args == call(response_action="errors",
                                       errors={"colleague": "You are in the room already; choose a colleague."})


def test_pluto_room_where_the_bot_is_not_says_to_invite_it(slack, services):
    services.scoring.latest.return_value = None
    slack.client.users_info.return_value = {"user": {"real_name": "Alice"}}
    slack.client.chat_postMessage.side_effect = SlackApiError("no", {"ok": False, "error": "not_in_channel"})
    body = {"command": "/pluto", "text": "room Grace Hopper", "user_id": "U_ALICE", "channel_id": "C_ELSEWHERE",
            "trigger_id": "trig-1"}
    PLUTO(ack=slack.ack, body=body, client=slack.client, respond=slack.respond, services=services)
    assert slack.mock_calls[0] == call.ack()
    answer = slack.respond.call_args.kwargs
    assert answer["response_type"] == "ephemeral" and "/invite @Pluto Bot" in answer["text"]
    services.interviews.create_adhoc.assert_not_called()
