"""Four-section prompts and the /voicelink form's parsers."""

import re

import pytest

from sandbox.openai_stub import OpenAIStub
from services.prompts import (
    PromptError,
    PromptSections,
    assemble_prompt,
    draft_sections,
    parse_prompt,
    template,
)
from services.voice.forms import (
    labels_from_count,
    parse_evaluator_questions,
    parse_labels,
    validate_voice_form,
)

ORDER = ["Goal", "Role", "Guidelines", "Constraints"]


def headings(prompt):
    return re.findall(r"^## (\w+)$", prompt, re.M)


@pytest.mark.parametrize("pattern", ["interview", "research", "instant"])
def test_every_template_assembles_with_the_four_headings_in_order(pattern):
    prompt = assemble_prompt(template(pattern, "Backend Engineer"))
    assert headings(prompt) == ORDER


def test_a_prompt_missing_a_section_is_never_assembled():
    with pytest.raises(PromptError) as err:
        assemble_prompt(PromptSections(goal="g", role="r", guidelines="  ", constraints=""))
    assert "Guidelines, Constraints" in err.value.user_message


def test_parse_round_trip_and_tolerant_headings():
    sections = PromptSections("Find fit", "Recruiter", "Be kind", "No salary talk")
    assert parse_prompt(assemble_prompt(sections)) == sections
    assert parse_prompt("Goal:\nA\nRole:\nB\nGuidelines:\nC\nConstraints:\nD") == PromptSections("A", "B", "C", "D")
    assert parse_prompt("Just talk to them") == PromptSections(goal="Just talk to them")


def test_no_key_means_a_template_and_no_request():
    with OpenAIStub() as stub:
        sections, source = draft_sections("research", "brief", "Onboarding", api_key="", base_url=stub.url + "/v1")
        assert source == "template" and stub.requests == [] and "Onboarding" in sections.goal


@pytest.mark.parametrize(
    ("text", "labels", "problem"),
    [
        ("Ada\nAlan\n", ["Ada", "Alan"], None),
        ("Ada\n\n  Alan  \n\n", ["Ada", "Alan"], None),
        ("Ada\nada", ["Ada"], "“ada” is listed twice (lines 1 and 2)"),
        ("Ada\n--\nAlan", ["Ada", "Alan"], "line 2 is an empty label"),
        ("", [], None),
    ],
)
def test_labels(text, labels, problem):
    parsed, problems = parse_labels(text)
    assert parsed == labels
    assert (problem in problems) if problem else problems == []


def test_count_labels():
    assert labels_from_count(3) == ["Interview 1", "Interview 2", "Interview 3"]


@pytest.mark.parametrize(
    ("text", "ids", "problem"),
    [
        ("Communication | number\nNotes | text", ["communication", "notes"], None),
        ("Team fit|number\nTeam fit|text\nTeam-fit", ["team_fit", "team_fit_2", "team_fit_3"], None),
        ("Score | percent", [], "line 1: type must be text or number"),
        (" | number", [], "line 1 has no question"),
    ],
)
def test_evaluator_questions(text, ids, problem):
    questions, problems = parse_evaluator_questions(text)
    assert [q["id"] for q in questions] == ids
    assert (problem in problems[0]) if problem else problems == []


def test_research_needs_labels_or_a_count_not_both():
    base = {"name": "Study", "goal": "g", "role": "r", "guidelines": "g", "constraints": "c"}
    form, errors = validate_voice_form("research", {**base, "labels": "A", "count": "3"})
    assert errors == {"count": "Give labels or a count, not both."}
    form, errors = validate_voice_form("research", {**base, "count": "2"})
    assert not errors and form.labels == ["Interview 1", "Interview 2"] and headings(form.prompt) == ORDER
