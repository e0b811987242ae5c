"""Voice-link buttons and modal submissions, each listener called alone."""

import json
from unittest.mock import Mock

from handlers.actions.voicelink_actions import on_audio, on_cancel, on_summary
from handlers.views.voicelink_views import on_create, on_edit
from services.errors import NotAllowed
from services.nimrobo import Summary, VoiceLink
from services.prompts import PromptSections
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
    assert errors["name~3"] == "Name the role." and "goal~3" not in errors  # four empty sections get drafted
    assert services.work.done == [] and not services.voicelinks.create.called
    body, view = submission("voicelink_create", {"name~3": text(""), "labels~3": text("Ada"), "goal~3": text("g")},
                            '{"channel": "C_HIRING", "pattern": "interview", "v": 3}')
    on_create(ack=slack.ack, body=body, view=view, client=slack.client, services=services)
    errors = slack.ack.call_args.kwargs["errors"]  # some typed, some empty: each empty one is asked for
    assert errors["role~3"] == "The Role section is required." and "goal~3" not in errors


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


def test_project_options_answer_on_the_ack_from_the_typists_list_within_slacks_limits(slack, services):
    from handlers.actions.voicelink_actions import on_project_options
    from services.nimrobo import Project

    services.voicelinks.search_projects.return_value = [Project(id=f"p{i}", name="N" * 90) for i in range(150)]
    payload = {"type": "block_suggestion", "action_id": "voicelink_study", "value": "nn", "user": {"id": "U_ALICE"}}
    on_project_options(ack=slack.ack, payload=payload, services=services)
    assert services.voicelinks.search_projects.call_args.kwargs["user"] == "U_ALICE"
    assert services.voicelinks.search_projects.call_args.kwargs["wait"] <= 2.5
    options = slack.ack.call_args.kwargs["options"]
    assert len(options) == 100 and options[0]["value"] == "new"  # "New study" first in the research select
    assert all(len(o["text"]["text"]) <= 75 and o["text"]["type"] == "plain_text" for o in options)


def test_a_project_list_that_fails_is_one_option_saying_why(slack, services):
    from handlers.actions.voicelink_actions import on_project_options
    from services.voice.projects import StillLoading

    services.voicelinks.search_projects.side_effect = StillLoading("Your projects are still loading; type again.")
    payload = {"action_id": "voicelink_use_pick", "value": "", "user": {"id": "U_ALICE"}}
    on_project_options(ack=slack.ack, payload=payload, services=services)
    (only,) = slack.ack.call_args.kwargs["options"]
    assert only["value"].startswith("-") and "still loading" in only["text"]["text"]


def test_a_create_form_to_review_closes_then_opens_its_own_form_before_any_work(slack, services):
    values = {f"{k}~1": text(v) for k, v in {"name": "QA Lead", "labels": "Ada", "goal": "g", "role": "r",
                                             "guidelines": "x", "constraints": "c", "time_limit": "10"}.items()}
    body, view = submission("voicelink_create", values, '{"channel": "C_HIRING", "pattern": "interview", "v": 1}')
    body["trigger_id"] = "t.1"
    services.work = Mock()
    on_create(ack=slack.ack, body=body, view=view, client=slack.client, services=services)
    calls = [c[0] for c in slack.mock_calls]
    assert calls[:2] == ["ack", "client.views_open"] and slack.ack.call_args == ((), {})
    assert slack.client.views_open.call_args.kwargs["trigger_id"] == "t.1"
    assert "Looking for a project for QA Lead" in str(slack.client.views_open.call_args.kwargs["view"])
    services.work.submit.assert_called_once()  # the look-up runs on the work pool, not here
    services.voicelinks.prepare.assert_not_called()


def test_a_voice_screen_form_sent_with_empty_sections_is_reopened_with_its_run_then_drafted(slack, services):
    """Item 21 in the Voice-screen form too: the form the bot reopens keeps its run, title and submit label."""
    values = {"name~2": text("Data Engineer"), "labels~2": text("Ada Lovelace"), "brief~2": text("Python, SQL")}
    body, view = submission("voicelink_create", values,
                            '{"channel": "C_HIRING", "pattern": "interview", "v": 2, "run_id": "run_1"}')
    body["trigger_id"], view["id"] = "1.trigger", "V_FORM"
    view.update(title={"type": "plain_text", "text": "Voice-screen top 3"},
                submit={"type": "plain_text", "text": "Screen"})
    services.voicelinks.ai_drafting = True
    services.voicelinks.draft.return_value = (PromptSections("g", "r", "gl", "c"), "ai")
    on_create(ack=slack.ack, body=body, view=view, client=slack.client, services=services)
    slack.ack.assert_called_once_with()  # the form closes without errors under the empty sections
    assert not services.screening.check_labels.called and not services.voicelinks.create.called
    opened = slack.client.views_open.call_args.kwargs
    updated = slack.client.views_update.call_args.kwargs
    assert opened["trigger_id"] == "1.trigger" and updated["view_id"] == "V1"  # the form the bot opened
    for shown, v in ((opened["view"], 3), (updated["view"], 4)):
        meta = json.loads(shown["private_metadata"])
        assert meta["run_id"] == "run_1" and meta["v"] == v and shown["title"]["text"] == "Voice-screen top 3"
        assert shown["submit"]["text"] == "Screen" and "Data Engineer" in str(shown["blocks"])
    assert "Drafting the four sections with AI" in str(opened["view"]["blocks"])
    assert services.voicelinks.draft.call_args.args == ("interview", "Python, SQL", "Data Engineer")
    goal = next(b for b in updated["view"]["blocks"] if b.get("block_id") == "goal~4")
    assert goal["element"]["initial_value"] == "g" and "review before creating" in str(updated["view"]["blocks"])
