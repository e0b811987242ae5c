"""Validation of the /voicelink create form, before anything is created.

Errors are keyed by stable field names (which the Slack layer uses as block ids), each a
short sentence shown under its field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from services.prompts import FIELDS, PromptSections, assemble_prompt

EXPIRY_PRESETS = {"1_day": "1 day", "1_week": "1 week", "1_month": "1 month"}
MAX_LABELS = 500


def parse_labels(text: str) -> tuple[list[str], list[str]]:
    """One label a line. Blank lines are skipped; punctuation-only lines and duplicates are problems."""
    labels, problems, seen = [], [], {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        label = line.strip()
        if not label:
            continue
        if not re.search(r"\w", label):
            problems.append(f"line {number} is an empty label")
            continue
        key = label.casefold()
        if key in seen:
            problems.append(f"“{label}” is listed twice (lines {seen[key]} and {number})")
            continue
        seen[key] = number
        labels.append(label)
    if len(labels) > MAX_LABELS:
        problems.append(f"at most {MAX_LABELS} labels at a time")
    return labels, problems


def labels_from_count(count: int, prefix: str = "Interview") -> list[str]:
    return [f"{prefix} {i}" for i in range(1, count + 1)]


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.casefold()).strip("_")[:40] or "question"


def parse_evaluator_questions(text: str) -> tuple[list[dict[str, str]], list[str]]:
    """``label | number`` or ``label | text`` a line (type defaults to text); ids derived and unique."""
    questions, problems, ids = [], [], set()
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        label, _, kind = line.partition("|")
        label, kind = label.strip(), (kind.strip().lower() or "text")
        if not label:
            problems.append(f"line {number} has no question")
            continue
        if kind not in ("text", "number"):
            problems.append(f"line {number}: type must be text or number, not “{kind}”")
            continue
        base = qid = slug(label)
        n = 2
        while qid in ids:
            qid, n = f"{base}_{n}", n + 1
        ids.add(qid)
        questions.append({"id": qid, "label": label, "type": kind})
    return questions, problems


@dataclass
class VoiceForm:
    pattern: str  # interview | research | instant
    name: str  # the role or the study (project name); "" for instant
    labels: list[str]
    prompt: str
    expiry_preset: str
    time_limit_minutes: int = 5
    landing_page_title: str = ""
    landing_page_info: str = ""
    evaluator: dict[str, Any] | None = None
    sections: PromptSections = field(default_factory=PromptSections)


def _sections(values: dict[str, str], errors: dict[str, str]) -> PromptSections:
    """The four prompt sections from the form; each missing one is an error on its field."""
    sections = PromptSections(**{k: (values.get(k) or "").strip() for k in FIELDS})
    for key in FIELDS:
        if not getattr(sections, key):
            errors[key] = f"The {key.capitalize()} section is required."
    return sections


def _minutes(text: str, errors: dict[str, str]) -> int:
    """The time limit (1 to 60 minutes); 5 and an error on ``time_limit`` when it is not."""
    if not text.isdigit() or not 1 <= int(text) <= 60:
        errors["time_limit"] = "Choose 1 to 60 minutes."
        return 5
    return int(text)


def _sentence(problems: list[str], limit: int = 150) -> str:
    """Problems as one sentence a person reads under the field: capitalised, ending with a full stop."""
    text = "; ".join(problems).strip().rstrip(".")
    text = text[:1].upper() + text[1:] + "."
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _labels(pattern: str, values: dict[str, str], errors: dict[str, str]) -> list[str]:
    """The labels typed one a line, or (research) made from a count."""
    labels, problems = parse_labels(values.get("labels") or "")
    count_text = (values.get("count") or "").strip()
    if problems:
        errors["labels"] = _sentence(problems)
    if count_text and pattern == "research":
        if labels:
            errors["count"] = "Give labels or a count, not both."
        elif not count_text.isdigit() or not 1 <= int(count_text) <= MAX_LABELS:
            errors["count"] = f"Enter a whole number from 1 to {MAX_LABELS}."
        else:
            labels = labels_from_count(int(count_text))
    if not labels and "labels" not in errors and "count" not in errors:
        errors["labels"] = {"interview": "List the candidates, one name a line.",
                            "research": "List the interviews, or give a count."}.get(pattern, "Give at least one label.")
    return labels


def _evaluator(values: dict[str, str], errors: dict[str, str]) -> dict[str, Any] | None:
    eval_prompt, eval_text = (values.get("eval_prompt") or "").strip(), (values.get("eval_questions") or "").strip()
    if not (eval_prompt or eval_text):
        return None
    questions, q_problems = parse_evaluator_questions(eval_text)
    if q_problems:
        errors["eval_questions"] = _sentence(q_problems)
    elif not questions:
        errors["eval_questions"] = "Add at least one question, e.g. `Communication | number`."
    if not eval_prompt:
        errors["eval_prompt"] = "The evaluator needs a prompt too."
    return {"prompt": eval_prompt, "questions": questions}


def validate_voice_form(pattern: str, values: dict[str, str]) -> tuple[VoiceForm | None, dict[str, str]]:
    """``values`` holds raw strings by field name; returns the form or errors by field name."""
    errors: dict[str, str] = {}
    get = lambda key: (values.get(key) or "").strip()  # noqa: E731
    if pattern not in ("interview", "research", "instant"):
        return None, {"pattern": "Choose a pattern."}
    name = get("name")
    if pattern in ("interview", "research") and not name:
        errors["name"] = "Name the role." if pattern == "interview" else "Name the study."
    labels = _labels(pattern, values, errors)
    sections = _sections(values, errors)
    minutes = _minutes(get("time_limit") or "5", errors)
    expiry = get("expiry") or "1_week"
    if expiry not in EXPIRY_PRESETS:
        errors["expiry"] = "Choose 1 day, 1 week or 1 month."
    evaluator = _evaluator(values, errors)
    if errors:
        return None, errors
    return VoiceForm(pattern=pattern, name=name, labels=labels, prompt=assemble_prompt(sections),
                     expiry_preset=expiry, time_limit_minutes=minutes, landing_page_title=get("landing_title"),
                     landing_page_info=get("landing_info"), evaluator=evaluator, sections=sections), {}


EMPTY_NAME = {"label": "Give the link a label (the participant's name).", "name": "Give the project a name."}


def validate_edit_form(values: dict[str, str], name_key: str) -> tuple[dict[str, Any], dict[str, str]]:
    """What both edit modals share: a name (``name_key``), the four sections, landing page and time limit.

    Returns the fields as the update calls take them, or errors by field name.
    """
    errors: dict[str, str] = {}
    sections = _sections(values, errors)
    name = (values.get(name_key) or "").strip()
    if not name:
        errors[name_key] = EMPTY_NAME.get(name_key, "This can't be empty.")
    minutes = _minutes((values.get("time_limit") or "").strip(), errors)
    if errors:
        return {}, errors
    return {name_key: name, "prompt": assemble_prompt(sections), "time_limit_minutes": minutes,
            "landing_page_title": values.get("landing_title", ""),
            "landing_page_info": values.get("landing_info", "")}, {}
