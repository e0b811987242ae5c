"""Buttons on scoring messages, each listener called alone."""

import inspect
from unittest.mock import call

from config import Secret
from handlers import inject
from handlers.actions.pluto_actions import on_details, on_intake, on_page, on_questions, on_start_interview
from services.errors import NotAllowed, NotFoundHere
from services.interviews import IntakeCheck, InterviewRoom, StartedInterview
from services.pluto import Candidate, IntakeLink, IntakeValidation, PlutoError, Question, RoomAccess
from services.records import CandidateRef, ScoringRun
from services.scoring import GONE

VALUE = CandidateRef("run1", "c1").to_value()


def click(action_id="pluto_details", value=VALUE, ephemeral=False):
    body = {"type": "block_actions", "trigger_id": "trig-1", "user": {"id": "U_ALICE", "name": "alice"},
            "channel": {"id": "C_HIRING"}, "container": {"is_ephemeral": ephemeral},
            "message": {"ts": "1.5", "thread_ts": "1.0"}}
    return body, {"action_id": action_id, "value": value}


def test_details_acks_first_opens_a_loading_modal_then_fills_it(slack, services):
    services.scoring.candidate.return_value = Candidate.from_api({"id": "c1", "name": "Ada", "final_score": 91})
    body, action = click()
    on_details(ack=slack.ack, body=body, action=action, client=slack.client, services=services)
    assert slack.mock_calls[0] == call.ack()
    assert slack.mock_calls[1].args == () and slack.mock_calls[1][0] == "client.views_open"
    assert slack.client.views_open.call_args.kwargs["trigger_id"] == "trig-1"
    assert "Loading the candidate" in str(slack.client.views_open.call_args.kwargs["view"])
    filled = str(slack.client.views_update.call_args.kwargs["view"])
    assert "*Final*" in filled and "Ada" in filled
    services.scoring.candidate.assert_called_once_with(CandidateRef("run1", "c1"), user="U_ALICE")  # checked for access


def test_a_shortlist_that_is_gone_is_said_in_the_modal_not_reported_as_a_crash(slack, services):
    services.scoring.candidate.side_effect = NotFoundHere(GONE)
    body, action = click()
    on_details(ack=slack.ack, body=body, action=action, client=slack.client, services=services)
    shown = str(slack.client.views_update.call_args.kwargs["view"])
    assert "no longer available" in shown and "didn't work" not in shown
    slack.client.chat_postEphemeral.assert_not_called()  # nothing crashed, so no "something went wrong"


RUN = ScoringRun("run1", "C_HIRING", "1.0", "U_ALICE", "c.csv", "complete",
                 results=[{"id": "c1", "name": "Ada", "rank": 1}])


def test_the_intake_link_is_checked_and_goes_only_to_the_person_who_clicked(slack, services):
    services.scoring.candidate_name.return_value = "Ada"
    services.interviews.intake_link.return_value = IntakeCheck(
        IntakeLink("c1", Secret("https://pluto/intake/c1?token=s3cret")), IntakeValidation(True, "Ada", ["phone"]))
    body, action = click("pluto_intake")
    on_intake(ack=slack.ack, body=body, action=action, client=slack.client, services=services)
    slack.ack.assert_called_once_with()
    services.scoring.candidate_name.assert_called_once_with(CandidateRef("run1", "c1"), user="U_ALICE")
    sent = slack.client.chat_postEphemeral.call_args.kwargs
    assert sent["user"] == "U_ALICE" and sent["channel"] == "C_HIRING" and "token=s3cret" in str(sent["blocks"])
    assert "will ask about:* phone" in str(sent["blocks"])
    slack.client.chat_postMessage.assert_not_called()


def test_someone_who_cannot_see_the_run_gets_no_intake_link(slack, services):
    services.scoring.candidate_name.side_effect = NotAllowed(":lock: I can't show you that shortlist.")
    body, action = click("pluto_intake")
    on_intake(ack=slack.ack, body=body, action=action, client=slack.client, services=services)
    services.interviews.intake_link.assert_not_called()
    assert "I can't show you that shortlist" in slack.client.chat_postEphemeral.call_args.kwargs["text"]


def room_record(**changes):
    values = dict(id="r1", room_name="interview-7", kind="candidate", run_id="run1", candidate_id="c1",
                  candidate_name="Ada", interviewer="U_ALICE", interviewer_name="Alice", interviewers=("U_ALICE",),
                  channel="C_HIRING", thread_ts="1.0", card_ts=None, expires_at=2e9, expiry_estimated=False,
                  state="live")
    return InterviewRoom(**{**values, **changes})


def test_start_interview_posts_a_card_without_secrets_and_the_token_privately(slack, services):
    services.scoring.allowed_run.return_value = RUN
    services.scoring.candidate_name.return_value = "Ada"
    services.interviews.clock.return_value = 1e9
    access = RoomAccess("interview-7", Secret("https://rooms/interview-7"), Secret("tok-s3cret"))
    services.interviews.start.return_value = StartedInterview(room_record(), access)
    services.interviews.set_card.return_value = room_record(card_ts="2.0")
    slack.client.users_info.return_value = {"user": {"profile": {"real_name": "Alice Smith"}}}
    body, action = click("pluto_interview")
    on_start_interview(ack=slack.ack, body=body, action=action, client=slack.client, services=services)
    assert slack.mock_calls[0] == call.ack()
    assert services.interviews.start.call_args.kwargs["interviewer_name"] == "Alice Smith"
    working = slack.client.chat_postMessage.call_args.kwargs
    assert working["thread_ts"] == "1.0" and "Starting an interview room for Ada" in working["text"]
    card = slack.client.chat_update.call_args.kwargs
    assert card["ts"] == "2.0" and "interview-7" in str(card["blocks"]) and "Invite candidate" in str(card["blocks"])
    assert "s3cret" not in str(working) + str(card) and "https://rooms" not in str(card)
    private = slack.client.chat_postEphemeral.call_args.kwargs
    assert private["user"] == "U_ALICE" and "https://rooms/interview-7?t=tok-s3cret" in str(private["blocks"])


def test_questions_replace_the_spinner_and_a_pluto_error_says_why(slack, services):
    services.scoring.candidate_name.return_value = "Ada"
    services.scoring.questions.return_value = [Question("Why Rust?", "motivation")]
    body, action = click("pluto_questions")
    on_questions(ack=slack.ack, body=body, action=action, client=slack.client, services=services)
    spinner = slack.client.chat_postMessage.call_args.kwargs
    assert spinner["thread_ts"] == "1.0" and "Generating interview questions for Ada" in spinner["text"]
    assert "Why Rust?" in str(slack.client.chat_update.call_args.kwargs["blocks"])

    services.scoring.questions.side_effect = PlutoError("the model is down", status=503, hint="Try later.")
    on_questions(ack=slack.ack, body=body, action=action, client=slack.client, services=services)
    assert "the model is down" in slack.client.chat_update.call_args.kwargs["text"]


def test_a_page_of_a_channel_shortlist_changes_in_place_and_a_private_one_is_sent_again(slack, services):
    run = ScoringRun("run1", "C_HIRING", "1.0", "U_ALICE", "c.csv", "complete", top_n=20,
                     results=[{"id": f"c{i}", "name": f"Cand {i}", "rank": i} for i in range(1, 21)])
    services.scoring.allowed_run.return_value = run
    services.interviews.interviewed.return_value = {}
    body, action = click("pluto_page_next", "run1|2")
    on_page(ack=slack.ack, body=body, action=action, client=slack.client, services=services)
    update = slack.client.chat_update.call_args.kwargs
    assert update["ts"] == "1.5" and "Cand 11" in str(update["blocks"]) and "Cand 1 " not in update["text"]
    body, action = click("pluto_page_prev", "run1|1", ephemeral=True)
    on_page(ack=slack.ack, body=body, action=action, client=slack.client, services=services)
    private = slack.client.chat_postEphemeral.call_args.kwargs
    assert "Cand 1" in private["text"] and "metadata" not in private


def test_bolt_sees_every_argument_but_services_and_the_listener_gets_them_all(slack, services):
    bound = inject(on_details, services)
    assert list(inspect.signature(bound).parameters) == ["ack", "body", "action", "client"]
    services.scoring.candidate.return_value = Candidate.from_api({"id": "c1", "name": "Ada"})
    body, action = click()
    bound(ack=slack.ack, body=body, action=action, client=slack.client)
    services.scoring.candidate.assert_called_once()
