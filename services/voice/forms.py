"""Validation of the /voicelink forms (create, new project, edits), before anything is created,
and the names read from a file of labels.

Errors are keyed by stable field names (which the Slack layer uses as block ids), each a
short sentence shown under its field.

A file of labels (:func:`read_label_file`) is a CSV (the column that names the person: ``name``,
``full_name``, ``candidate``, ``label`` ..., or ``first_name`` + ``last_name``; else the first
column) or a text file (one label a line). It is decoded as the candidate CSVs are (UTF-8 with
or without BOM, else Windows-1252). Duplicates (ignoring case and spacing) and empty labels are
left out and reported, with their lines, before anything is created.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any

from services.errors import BadInput
from services.intake import IntakeError, _name_column, _sniff, decode
from services.prompts import FIELDS, PromptSections, assemble_prompt

EXPIRY_PRESETS = {"1_day": "1 day", "1_week": "1 week", "1_month": "1 month"}
MAX_LABELS = 1000
LABEL_HEADERS = ("name", "names", "full_name", "candidate", "candidates", "candidate_name", "label", "labels",
                 "participant", "participants", "interview", "interviews")


def parse_labels(text: str) -> tuple[list[str], list[str]]:
    """One label a line. Blank lines are skipped; punctuation-only lines and duplicates are problems."""
    labels: list[str] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
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


class LabelFileError(BadInput):
    service = "Label file"


@dataclass
class LabelFile:
    """The labels read from a file, and what was left out (before anything is created)."""

    name: str
    labels: list[str]
    source: str  # what was read: "each line", "the `name` column", "the first column (`Email`)"
    duplicates: list[tuple[str, list[int]]] = field(default_factory=list)  # (label, its lines; the first is kept)
    empty: list[int] = field(default_factory=list)  # lines whose label is empty

    @property
    def left_out(self) -> int:
        return sum(len(lines) - 1 for _, lines in self.duplicates) + len(self.empty)

    @property
    def too_many(self) -> bool:
        return len(self.labels) > MAX_LABELS

    @property
    def problem(self) -> str:
        """Why no link can be made from this file, or ""."""
        if not self.labels:
            return f"{self.name} has no names in {self.source}."
        if self.too_many:
            return (f"{self.name} has {len(self.labels):,} names; at most {MAX_LABELS:,} links are made at a time. "
                    "Split the file.")
        return ""


def _label_key(label: str) -> str:
    return " ".join(label.split()).casefold()


def _rows(text: str, filename: str) -> tuple[list[tuple[int, str]], str]:
    """(line number, label) for every non-blank row, and what was read."""
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    delimiter, body = _sniff(text)
    if filename.lower().endswith(".txt") or delimiter not in first:
        has_header = _label_key(first.strip().strip('"')).replace(" ", "_") in LABEL_HEADERS
        rows = [(n, line.strip().strip('"').strip()) for n, line in enumerate(lines, start=1) if line.strip()]
        return (rows[1:] if has_header else rows), "each line"
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=delimiter)
    table = [(reader.line_num, row) for row in reader]
    table = [(n, row) for n, row in table if any(cell.strip() for cell in row)]
    if not table:
        return [], "the file"
    header = [h.strip() for h in table[0][1]]
    column = _name_column(header) or next((h for h in header if _label_key(h).replace(" ", "_") in LABEL_HEADERS),
                                          None)
    lowered = {h.casefold().replace(" ", "_"): i for i, h in enumerate(header)}
    if column == "first_name + last_name":
        first_i = lowered.get("first_name", lowered.get("firstname", 0))
        last_i = lowered.get("last_name", lowered.get("lastname", 0))
        pick = lambda row: " ".join(x for x in (_cell(row, first_i), _cell(row, last_i)) if x)  # noqa: E731
        source = "the `first_name` and `last_name` columns"
    else:
        index = header.index(column) if column else 0
        pick = lambda row: _cell(row, index)  # noqa: E731
        source = f"the `{column}` column" if column else f"the first column (`{header[0]}`)"
    return [(n, pick(row)) for n, row in table[1:]], source


def _cell(row: list[str], index: int) -> str:
    return row[index].strip() if index < len(row) else ""


def read_label_file(data: bytes, filename: str) -> LabelFile:
    """The labels in a CSV or text file; duplicates and empty labels left out and listed with their lines."""
    try:
        text, _ = decode(data)
    except IntakeError as exc:
        raise LabelFileError(f"I can't read {filename}: {exc.message}",
                             hint="Share a CSV or a text file with one name a line.") from None
    rows, source = _rows(text, filename)
    labels: list[str] = []
    seen: dict[str, tuple[str, list[int]]] = {}
    empty: list[int] = []
    for number, label in rows:
        if not re.search(r"\w", label):
            empty.append(number)
            continue
        key = _label_key(label)
        if key in seen:
            seen[key][1].append(number)
            continue
        seen[key] = (label, [number])
        labels.append(label)
    duplicates = [(label, lines) for label, lines in seen.values() if len(lines) > 1]
    return LabelFile(filename, labels, source, duplicates, empty)


def labels_from_count(count: int, prefix: str = "Interview") -> list[str]:
    return [f"{prefix} {i}" for i in range(1, count + 1)]


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.casefold()).strip("_")[:40] or "question"


def parse_evaluator_questions(text: str, keep: list[dict[str, Any]] | None = None,
                              ) -> tuple[list[dict[str, str]], list[str]]:
    """``label | number`` or ``label | text`` a line (type defaults to text); ids derived and unique.

    ``keep``: the questions as they were (an edit); a question whose label is unchanged keeps its id,
    so evaluations already written still name the right question.
    """
    questions, problems, ids = [], [], set()
    kept = {str(q.get("label", "")).strip().casefold(): str(q.get("id")) for q in keep or []
            if isinstance(q, dict) and q.get("id")}
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
        base = qid = kept.get(label.casefold()) or slug(label)
        n = 2
        while qid in ids:
            qid, n = f"{base}_{n}", n + 1
        ids.add(qid)
        questions.append({"id": qid, "label": label, "type": kind})
    return questions, problems


def keep_question_ids(new: dict[str, Any] | None, old: dict[str, Any] | None) -> dict[str, Any] | None:
    """``new`` with each question whose label ``old`` has (ignoring case) keeping ``old``'s id, so evaluations
    already written still name the right question; other ids stay unique."""
    if not new or not old:
        return new
    questions, _ = parse_evaluator_questions(evaluator_questions_text(new), old.get("questions"))
    return {**new, "questions": questions}


def evaluator_questions_text(evaluator: dict[str, Any] | None) -> str:
    """An evaluator's questions as the form takes them: ``label | type`` a line."""
    return "\n".join(f"{q.get('label', '')} | {q.get('type', 'text')}" for q in (evaluator or {}).get("questions") or []
                     if isinstance(q, dict))


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
    project_id: str = ""  # links go to this existing project (a chosen study), as it is
    labels_file: str = ""  # a Slack file of labels, read after the form is closed


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
    """The labels typed one a line, or (research) made from a count; none yet when a file is attached."""
    labels, problems = parse_labels(values.get("labels") or "")
    count_text = (values.get("count") or "").strip()
    if problems:
        errors["labels"] = _sentence(problems)
    if (values.get("labels_file") or "").strip():
        if labels or count_text:
            errors["labels_file"] = "Attach a file or type the names (or a count), not both."
        return []
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


def _evaluator(values: dict[str, str], errors: dict[str, str],
               keep: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The evaluator from its two fields; None when both are empty (no evaluator, or remove it)."""
    eval_prompt, eval_text = (values.get("eval_prompt") or "").strip(), (values.get("eval_questions") or "").strip()
    if not (eval_prompt or eval_text):
        return None
    questions, q_problems = parse_evaluator_questions(eval_text, (keep or {}).get("questions"))
    if q_problems:
        errors["eval_questions"] = _sentence(q_problems)
    elif not questions:
        errors["eval_questions"] = "Add at least one question, e.g. `Communication | number`."
    if not eval_prompt:
        errors["eval_prompt"] = "The evaluator needs a prompt too."
    return {"prompt": eval_prompt, "questions": questions}


def validate_voice_form(pattern: str, values: dict[str, str], *, existing: tuple[str, str] | None = None,
                        ) -> tuple[VoiceForm | None, dict[str, str]]:
    """``values`` holds raw strings by field name; returns the form or errors by field name.

    ``existing`` (id, name): the links go to that project as it is (a study picked in the research
    form), so only the labels and the expiry are asked for.
    """
    errors: dict[str, str] = {}
    get = lambda key: (values.get(key) or "").strip()  # noqa: E731
    if pattern not in ("interview", "research", "instant"):
        return None, {"pattern": "Choose a pattern."}
    labels = _labels(pattern, values, errors)
    expiry = get("expiry") or "1_week"
    if expiry not in EXPIRY_PRESETS:
        errors["expiry"] = "Choose 1 day, 1 week or 1 month."
    if existing is not None:
        if errors:
            return None, errors
        return VoiceForm(pattern=pattern, name=existing[1], labels=labels, prompt="", expiry_preset=expiry,
                         project_id=existing[0], labels_file=get("labels_file")), {}
    name = get("name")
    if pattern in ("interview", "research") and not name:
        errors["name"] = "Name the role." if pattern == "interview" else "Name the study."
    sections = _sections(values, errors)
    minutes = _minutes(get("time_limit") or "5", errors)
    evaluator = _evaluator(values, errors)
    if errors:
        return None, errors
    return VoiceForm(pattern=pattern, name=name, labels=labels, prompt=assemble_prompt(sections),
                     expiry_preset=expiry, time_limit_minutes=minutes, landing_page_title=get("landing_title"),
                     landing_page_info=get("landing_info"), evaluator=evaluator, sections=sections,
                     labels_file=get("labels_file")), {}


EMPTY_NAME = {"label": "Give the link a label (the participant's name).", "name": "Give the project a name."}


def validate_edit_form(values: dict[str, str], name_key: str, *, evaluator: dict[str, Any] | None = None,
                       ) -> tuple[dict[str, Any], dict[str, str]]:
    """What the project forms (new and edit) and the instant-link edit share: a name (``name_key``: ``name``
    or ``label``), the four sections, landing page, time limit and the evaluator; a project's description;
    an instant link's expiry (``keep``, or a new preset counted from now).

    ``evaluator``: the one there is now (an edit), whose question ids are kept. Both evaluator fields
    empty give ``evaluator: None``, which the update calls send as ``null``: the evaluator is removed.
    Returns the fields as the create and update calls take them, or errors by field name.
    """
    errors: dict[str, str] = {}
    sections = _sections(values, errors)
    name = (values.get(name_key) or "").strip()
    if not name:
        errors[name_key] = EMPTY_NAME.get(name_key, "This can't be empty.")
    minutes = _minutes((values.get("time_limit") or "").strip(), errors)
    new_evaluator = _evaluator(values, errors, keep=evaluator)
    expiry = (values.get("expiry") or "keep").strip()
    if name_key == "label" and expiry != "keep" and expiry not in EXPIRY_PRESETS:
        errors["expiry"] = "Choose 1 day, 1 week or 1 month, or keep the expiry."
    if errors:
        return {}, errors
    fields: dict[str, Any] = {name_key: name, "prompt": assemble_prompt(sections), "time_limit_minutes": minutes,
                              "landing_page_title": (values.get("landing_title") or "").strip(),
                              "landing_page_info": (values.get("landing_info") or "").strip(),
                              "evaluator": new_evaluator}
    if name_key == "name":
        fields["description"] = (values.get("description") or "").strip()
    elif expiry != "keep":
        fields["expiry_preset"] = expiry
    return fields, {}
