"""What a person reads in the bot's forms: labels said once, errors in words, never a field's internal id."""

import re

import pytest

from bot.blocks.pluto import score_details_modal, score_modal
from bot.blocks.voice import create_modal, edit_instant_modal, edit_project_modal
from handlers.views.pluto_score import parse_details, parse_file
from sandbox.render import render_view
from services.intake import IntakeReport
from services.nimrobo import Project, VoiceLink
from services.voice.forms import validate_edit_form, validate_voice_form

PROJECT = Project.from_api({"id": "p1", "name": "QA Lead", "prompt": "## Goal\ng", "timeLimitMinutes": 10})
LINK = VoiceLink.from_api({"id": "l1", "label": "Walk-in", "status": "active", "prompt": "## Goal\ng"}, "instant",
                          "http://x/api")
REPORT = IntakeReport("people.csv", "utf-8", ",", ["name", "email"], "name", rows=6)
MODALS = [create_modal("C1", pattern) for pattern in ("interview", "research", "instant")] + [
    score_modal("C1"), score_details_modal("C1", "F1", REPORT), edit_project_modal(PROJECT, {}),
    edit_instant_modal(LINK, {})]


def inputs(view):
    return [b for b in view.to_dict()["blocks"] if b["type"] == "input"]


def ids_of(view):
    """Every internal name in a modal: block ids (without the version) and action ids."""
    found = set()
    for block in inputs(view):
        found |= {block["block_id"].split("~")[0], block["element"]["action_id"]}
    return found


@pytest.mark.parametrize("view", MODALS, ids=lambda v: f"{v.callback_id}-{v.to_dict()['blocks'][1].get('type')}")
def test_each_label_is_said_once_and_slack_adds_optional_itself(view):
    labels = [b["label"]["text"] for b in inputs(view)]
    assert not [label for label in labels if "optional" in label.lower()], labels  # Slack shows "(optional)"
    assert len(labels) == len(set(labels)), f"two fields share a label: {labels}"
    rendered = render_view(view.to_dict())
    assert "(optional) (optional)" not in rendered


def test_the_create_modal_says_job_title_and_keeps_role_for_the_prompt_section():
    labels = [b["label"]["text"] for b in inputs(create_modal("C1", "interview"))]
    assert labels.count("Role") == 1 and "Job title" in labels


def test_voice_form_errors_are_sentences_without_field_ids():
    values = {"name": "", "labels": "Ada\n-\nada", "goal": "", "role": "r", "guidelines": "g", "constraints": "c",
              "time_limit": "90", "eval_questions": "Communication | boolean", "count": "x"}
    _, errors = validate_voice_form("interview", values)
    _, research = validate_voice_form("research", {**values, "labels": "A", "count": "x"})
    _, edit_link = validate_edit_form({"label": "", "time_limit": "0"}, "label")
    _, edit_project = validate_edit_form({"name": "", "time_limit": "5"}, "name")
    ids = set().union(*(ids_of(v) for v in MODALS))
    underscored = {i for i in ids if "_" in i}  # top_n, time_limit, eval_prompt ...: never a word a person reads
    messages = [*errors.values(), *research.values(), *edit_link.values(), *edit_project.values()]
    assert len(messages) >= 10
    for message in messages:
        assert not [i for i in underscored if i in message], message
        assert not re.match(r"^\w+: ", message), message  # not "field: problem"
        assert message[0].isupper() and message.rstrip("`").endswith((".", ")")), message
    assert edit_link["label"] == "Give the link a label (the participant's name)."
    assert edit_project["name"] == "Give the project a name."


def test_score_form_errors_are_keyed_by_its_blocks_and_read_without_ids():
    step1 = score_modal("C1").to_dict()
    _, errors = parse_file({"file": {"file": {"files": [{"name": "list.xlsx"}]}}})
    assert errors == {"file": "That is not a .csv file. Export the sheet as CSV first."}
    assert set(errors) <= {b["block_id"] for b in step1["blocks"] if b["type"] == "input"}
    step2 = score_details_modal("C1", "F1", REPORT).to_dict()
    blocks = {b["block_id"] for b in step2["blocks"] if b["type"] == "input"}
    for typed, said in (("ten", "Enter a whole number."), ("7", "Choose between 1 and 6: the file has 6 candidates.")):
        _, errors = parse_details({"top_n": {"top_n": {"value": typed}}}, REPORT.rows)
        assert set(errors) <= blocks and errors == {"top_n": said} and "top_n" not in said
        shown = render_view({**step2, "errors": errors})
        assert "Top N to show" in shown and f"! {said}" in shown and "top_n" not in shown
