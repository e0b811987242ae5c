"""The one reader of evaluation answers (services/transcripts.py): every common shape of ``evaluationResults``."""

import pytest

from bot.blocks.voice import evaluation_message
from bot.blocks.watcher import evaluation_fields
from sandbox.nimrobo_sim import EVALUATION_SHAPES, evaluation_shaped
from services.nimrobo import Evaluation
from services.transcripts import answer_number, evaluation_answers, number_answers, readable

QUESTIONS = [{"id": "discovery", "label": "Discovery and qualification", "type": "number"},
             {"id": "comms", "label": "Communication", "type": "number"},
             {"id": "red_flags", "label": "Red flags", "type": "text"}]
ANSWERS = {"discovery": 4, "comms": "8", "red_flags": "none"}


def read(results, questions=QUESTIONS):
    return [(a.label, a.text, a.number if a.counted else None) for a in evaluation_answers(results, questions)]


EXPECTED = [("Discovery and qualification", "4", 4.0), ("Communication", "8", 8.0), ("Red flags", "none", None)]


@pytest.mark.parametrize("shape", EVALUATION_SHAPES)
def test_every_shape_the_simulator_sends_reads_the_same(shape):
    assert read(evaluation_shaped(ANSWERS, QUESTIONS, shape)) == EXPECTED


def test_the_shape_from_the_issue_keyed_by_id_with_an_object_per_answer_and_no_questions_known():
    results = {"discovery": {"label": "Discovery and qualification", "type": "number", "value": 4},
               "red_flags": {"label": "Red flags", "type": "text", "value": "none"}}
    assert read(results, None) == [("Discovery and qualification", "4", 4.0), ("Red flags", "none", None)]


def test_list_items_name_their_question_by_id_question_or_label_and_their_answer_by_value_answer_or_score():
    results = [{"id": "discovery", "value": 5}, {"question": "Communication", "answer": "7"},
               {"label": "Red flags", "score": "none"}]
    assert read(results) == [("Discovery and qualification", "5", 5.0), ("Communication", "7", 7.0),
                             ("Red flags", "none", None)]
    assert read({"answers": results}) == read(results) == read({"results": results})


@pytest.mark.parametrize("given, number", [("4", 4.0), (" 4.5 ", 4.5), ("4/5", 8.0), ("3 out of 10", 3.0),
                                           ("80%", 8.0), (7, 7.0), (True, None), ("four", None), ("", None),
                                           ("4/0", None), (None, None)])
def test_numbers_also_come_as_strings(given, number):
    assert answer_number(given) == number


def test_a_text_question_is_never_counted_even_when_its_answer_looks_like_a_number():
    [years] = evaluation_answers({"yrs": "5"}, [{"id": "yrs", "label": "Years", "type": "text"}])
    assert years.number == 5 and not years.counted and number_answers([years]) == []


def test_unknown_shapes_are_readable_text_never_a_python_repr_and_never_a_number():
    results = {"discovery": {"notes": ["good", "fast"], "flag": True}, "comms": [1, 2], "odd": {"x": {"y": 3}}}
    answers = evaluation_answers(results, QUESTIONS)
    assert [(a.label, a.text) for a in answers] == [("Discovery and qualification", "notes: good, fast; flag: yes"),
                                                    ("Communication", "1, 2"), ("odd", "x: y: 3")]
    assert number_answers(answers) == []
    assert not any("{" in a.text or "[" in a.text or "'" in a.text for a in answers)
    assert read("The candidate was strong.") == [("Evaluation", "The candidate was strong.", None)]
    assert readable({"a": None, "b": 1.50}) == "a: —; b: 1.5"


def test_what_the_bot_stores_reads_back_the_same_and_old_rows_still_read():
    answers = evaluation_answers(evaluation_shaped(ANSWERS, QUESTIONS, "objects"), QUESTIONS)
    stored = [a.as_json() for a in answers]
    assert evaluation_answers(stored, QUESTIONS) == answers
    assert read([["Communication", 6], ["Red flags", "none"]]) == [("Communication", "6", 6.0),
                                                                   ("Red flags", "none", None)]


def test_the_completed_post_and_the_evaluation_button_show_labels_and_readable_answers():
    results = evaluation_shaped({"discovery": "4/5", "red_flags": {"kind": "none"}}, QUESTIONS, "list_ids")
    fields = evaluation_fields(results, QUESTIONS)
    assert fields == ["*Discovery and qualification*\n4/5", "*Red flags*\nkind: none"]
    message = evaluation_message(Evaluation("s1", results, "2026-01-01T00:00:00Z", False, questions=QUESTIONS))
    text = str([b.to_dict() for b in message.blocks])
    assert "Discovery and qualification" in text and "'discovery'" not in text and "{'kind'" not in text
