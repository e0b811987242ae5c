"""Voice-link buttons and modal submissions, each listener called alone."""

from unittest.mock import Mock

from handlers.actions.voicelink_actions import on_audio, on_cancel, on_summary
from handlers.views.voicelink_views import on_create, on_edit
from services.errors import NotAllowed
from services.nimrobo import Summary, VoiceLink
from services.records import SessionRef

REF = SessionRef("project", "proj_1", "sess_1")


def click(action_id, value):
    return {"type": "block_actions", "user": {"id": "U_ALICE"}, "channel": {"id": "C_HIRING"}}, \
        {"action_id": action_id, "value": value}


def test_a_cancel_the_rules_forbid_is_explained_privately_and_nothing_is_cancelled(slack, services):
    services.voicelinks.cancel.side_effect = NotAllowed("Only the person who created this link may cancel it.")
    body, action = click("voicelink_cancel", "proj_1|lnk_1")
    on_cancel(ack=slack.ack, body=body, action=action, client=slack.client, respond=slack.respond, services=services)
    slack.ack.assert_called_once_with()
    services.voicelinks.cancel.assert_called_once()
    assert services.voicelinks.cancel.call_args.args[:2] == ("lnk_1", "U_ALICE")
    answer = slack.respond.call_args.kwargs
    assert answer["response_type"] == "ephemeral" and "Only the person who created" in answer["text"]
    slack.client.chat_update.assert_not_called()


def test_a_cancelled_link_refreshes_its_card_and_says_so(slack, services):
    services.voicelinks.cancel.return_value = (VoiceLink("lnk_1", "Ada", "cancelled"), "batch1")
    services.voicelinks.card.return_value = (Mock(card_ts="9.9", channel="C_HIRING", project_name="QA",
                                                  pattern="interview", expiry_preset="1_week", state="created",
                                                  creator="U_ALICE", error=None, id="batch1"), [])
    body, action = click("voicelink_cancel", "proj_1|lnk_1")
    on_cancel(ack=slack.ack, body=body, action=action, client=slack.client, respond=slack.respond, services=services)
    assert slack.client.chat_update.call_args.kwargs["ts"] == "9.9"
    assert "is cancelled" in slack.respond.call_args.kwargs["text"]


def test_the_audio_link_goes_only_to_the_person_who_clicked(slack, services):
    services.sessions.audio_url.return_value = "https://nimrobo/audio/sess_1.wav?sig=abc"
    body, action = click("voicelink_audio", REF.to_value())
    on_audio(ack=slack.ack, body=body, action=action, respond=slack.respond, services=services)
    services.sessions.audio_url.assert_called_once_with(REF, user=body["user"]["id"])  # checked for access
    answer = slack.respond.call_args.kwargs
    assert answer["response_type"] == "ephemeral" and "sig=abc" in answer["text"]


def test_regenerate_asks_for_a_new_summary_and_summary_does_not(slack, services):
    services.sessions.summary.return_value = Summary("sess_1", generating=True)
    for action_id, regenerate in (("voicelink_summary", False), ("voicelink_regenerate", True)):
        body, action = click(action_id, REF.to_value())
        on_summary(ack=slack.ack, body=body, action=action, respond=slack.respond, services=services)
        assert services.sessions.summary.call_args.kwargs == {"user": body["user"]["id"], "regenerate": regenerate}
        assert "being generated" in slack.respond.call_args.kwargs["text"]


def submission(callback_id, values, metadata):
    view = {"callback_id": callback_id, "private_metadata": metadata, "state": {"values": values}}
    return {"type": "view_submission", "user": {"id": "U_ALICE"}, "view": view}, view


def text(value):
    return {"x": {"type": "plain_text_input", "value": value}}


def test_create_errors_ride_on_the_ack_under_the_modal_version_and_nothing_is_created(slack, services):
    body, view = submission("voicelink_create", {"name~3": text(""), "labels~3": text("Ada")},
                            '{"channel": "C_HIRING", "pattern": "interview", "v": 3}')
    on_create(ack=slack.ack, body=body, view=view, client=slack.client, services=services)
    errors = slack.ack.call_args.kwargs["errors"]
    assert slack.ack.call_args.kwargs["response_action"] == "errors"
    assert errors["name~3"] == "Name the role." and errors["goal~3"] == "The Goal section is required."
    assert services.work.done == [] and not services.voicelinks.create.called


def test_an_edit_is_saved_and_confirmed_by_dm(slack, services):
    values = {f"{k}~1": text(v) for k, v in {"name": "QA Lead", "goal": "g", "role": "r", "guidelines": "gl",
                                             "constraints": "c", "time_limit": "12"}.items()}
    body, view = submission("voicelink_edit_project", values, "proj_1")
    project = Mock(name="project")
    project.name = "QA Lead"
    services.voicelinks.update_project.return_value = (project, ["time limit", "evaluator (removed)"])
    on_edit(ack=slack.ack, body=body, view=view, client=slack.client, services=services)
    slack.ack.assert_called_once_with()
    project_id, fields = services.voicelinks.update_project.call_args.args
    assert project_id == "proj_1" and fields["name"] == "QA Lead" and fields["time_limit_minutes"] == 12
    assert fields["prompt"].index("## Goal") < fields["prompt"].index("## Constraints")
    assert fields["evaluator"] is None and fields["description"] == ""  # both evaluator fields empty: removed
    said = slack.client.chat_postMessage.call_args.kwargs["text"]
    assert "Project QA Lead saved. Changed: time limit, evaluator (removed)." in said
