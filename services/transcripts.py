"""One reading of each "any JSON" field Nimrobo returns for a session: the transcript
(:func:`transcript_text`), the evaluation answers (:func:`evaluation_answers`, below) and the
summary (:func:`summary_parts`, :func:`summary_text`), whatever shape the API gave them.

Nimrobo documents the transcript as "any JSON". Seen in practice: a list of turns with the
speaker under ``role`` or ``speaker`` and the words under ``text``, ``content`` (the common
chat shape, sometimes a list of ``{"type": "text", "text": ...}`` parts) or ``message``,
optionally with a timestamp; the same list inside ``{"messages": [...]}`` (or ``turns``,
``conversation`` ...); or plain text. :func:`transcript_text` turns each of these into
``Interviewer: ...`` / ``Candidate: ...`` lines, with ``[mm:ss]`` or ``[hh:mm:ss]`` in front
where a turn has a time. Anything it does not recognise is shown as formatted JSON, never
as empty lines. It is the one function behind the transcript file, any excerpt of it, and the
text sent for analysis.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

SPEAKER_KEYS = ("role", "speaker", "from", "author", "participant")
TEXT_KEYS = ("content", "text", "message", "transcript", "utterance", "words")
TIME_KEYS = ("timestamp", "time", "start", "startTime", "start_time", "offset", "createdAt", "created_at", "ts")
CONTAINER_KEYS = ("messages", "turns", "transcript", "conversation", "items", "entries", "utterances")
INTERVIEWER_ROLES = ("agent", "assistant", "interviewer", "ai", "bot", "system")
CANDIDATE_ROLES = ("user", "candidate", "human", "participant", "interviewee")


def _words(value: Any) -> str:
    """The words of a turn's text field: a string, or a list of content parts."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        parts = [_words(part.get("text") if isinstance(part, Mapping) else part) for part in value]
        return " ".join(p for p in parts if p)
    if isinstance(value, Mapping):
        return _words(value.get("text"))
    return ""


def _speaker(turn: Mapping[str, Any]) -> str:
    raw = next((turn[k] for k in SPEAKER_KEYS if isinstance(turn.get(k), str) and turn[k].strip()), "")
    role = raw.strip().lower()
    if role in INTERVIEWER_ROLES:
        return "Interviewer"
    if role in CANDIDATE_ROLES:
        return "Candidate"
    return raw.strip()[:1].upper() + raw.strip()[1:] if raw else "Speaker"


def _clock(seconds: float) -> str:
    seconds = int(max(0, seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


def _when(turn: Mapping[str, Any]) -> str:
    """``[mm:ss]`` for an offset in seconds, ``[hh:mm:ss]`` (UTC) for a point in time, "" for none."""
    value = next((turn[k] for k in TIME_KEYS if turn.get(k) not in (None, "")), None)
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, (int, float)):
        if value > 1e11:  # epoch milliseconds
            value = value / 1000
        if value > 1e8:  # epoch seconds
            return f"[{datetime.fromtimestamp(value, UTC).strftime('%H:%M:%S')}]"
        return f"[{_clock(value)}]"
    text = str(value).strip()
    try:
        return f"[{datetime.fromisoformat(text.replace('Z', '+00:00')).strftime('%H:%M:%S')}]"
    except ValueError:
        return f"[{text[:20]}]"


def _turn_line(turn: Any) -> str:
    if turn is None:
        return ""
    if isinstance(turn, str):
        return turn.strip()
    if not isinstance(turn, Mapping):
        return json.dumps(turn, ensure_ascii=False, default=str)
    words = next((w for w in (_words(turn.get(k)) for k in TEXT_KEYS if k in turn) if w), "")
    if not words:
        rest = {k: v for k, v in turn.items() if k not in SPEAKER_KEYS and k not in TIME_KEYS}
        # a turn with a speaker and no words is an empty turn; anything else we do not know is shown as it is
        return json.dumps(dict(turn), ensure_ascii=False, default=str) if rest else ""
    when = _when(turn)
    return f"{when + ' ' if when else ''}{_speaker(turn)}: {words}"


def _turns(transcript: Any) -> Sequence[Any] | None:
    """The list of turns inside ``transcript``, or None when it has no shape we know."""
    if isinstance(transcript, Mapping):
        for key in CONTAINER_KEYS:
            inner = transcript.get(key)
            if isinstance(inner, (list, tuple)):
                return inner
            if isinstance(inner, Mapping):
                return _turns(inner)
        return None
    if isinstance(transcript, (list, tuple)):
        return transcript
    return None


def transcript_text(transcript: Any, *, max_lines: int | None = None) -> str:
    """The transcript as readable lines (see the module); "" only when it is empty.

    ``max_lines`` makes an excerpt: the first lines, then "…" when more were left out.
    """
    if transcript is None:
        return ""
    if isinstance(transcript, str):
        lines = [line for line in transcript.strip().splitlines()]
    else:
        turns = _turns(transcript)
        lines = [line for line in (_turn_line(t) for t in turns) if line] if turns is not None else []
        if not lines and (turns is None or any(t not in (None, "") for t in turns)):
            if not transcript:
                return ""
            lines = json.dumps(transcript, ensure_ascii=False, indent=2, default=str).splitlines()
    if max_lines is not None and len(lines) > max_lines:
        lines = lines[:max_lines] + ["…"]
    return "\n".join(lines).strip()


# -- evaluation answers ------------------------------------------------------------------------------
# Nimrobo documents ``evaluationResults`` as "any". The shapes seen, each read by :func:`evaluation_answers`:
#   {id: value}
#   {id: {label?, type?, value | answer | score}}
#   [{id | question | label, value | answer | score}, ...]
#   {"answers": [...]} or {"results": [...]} (or the same key holding a dict) wrapping either of those.
# Numbers also come as strings: "4", "4/5" (read on the 0-10 scale the evaluator is asked for: 8),
# "80%" (8). Anything else is shown as readable text and never counted as a number.

VALUE_KEYS = ("value", "answer", "score", "result", "rating", "response")
LABEL_KEYS = ("label", "question", "title", "prompt", "name")
ID_KEYS = ("id", "questionId", "question_id", "key")
WRAPPER_KEYS = ("answers", "results", "evaluationResults", "evaluation", "items", "questions")
ANSWER_SCALE = 10.0  # the evaluator is asked for 0-10 number answers; fractions and percents are read on it

_PLAIN = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")
_FRACTION = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*(?:/|out of|of)\s*((?:\d+(?:\.\d*)?|\.\d+))$", re.I)
_PERCENT = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*%$")


@dataclass(frozen=True)
class Answer:
    """One evaluator answer, whatever shape it came in.

    ``label`` is the question as people read it (the results' own label, else the evaluator's
    question with that id, else the id); ``text`` the answer as readable text (never a Python
    repr); ``number`` the answer as a number when it is one ("4", "4/5" → 8, "80%" → 8), else
    None; ``type`` the question's type when the results or the evaluator say it ("number" | "text").
    """

    id: str
    label: str
    text: str
    number: float | None
    type: str = ""
    value: Any = None  # as Nimrobo sent it (a JSON value)

    @property
    def counted(self) -> bool:
        """Counts towards the evaluation score: a number, unless the question is a text question."""
        return self.number is not None and self.type != "text"

    def as_json(self) -> dict[str, Any]:
        """What the bot stores (read back by :func:`evaluation_answers`, unchanged)."""
        return {"id": self.id, "label": self.label, "type": self.type, "value": self.value}


def readable(value: Any) -> str:
    """Any JSON value as text a person reads: ``a: 1; b: yes`` for an object, ``x, y`` for a list."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (int, str)):
        return str(value).strip()
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {readable(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(readable(v) for v in value)
    return json.dumps(value, ensure_ascii=False, default=str)


def answer_number(value: Any) -> float | None:
    """A number answer as a float ("4" → 4, "4/5" → 8, "80%" → 8 on the 0-10 scale), else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value) if value == value else None  # NaN is not a number answer
    if not isinstance(value, str):
        return None
    text = value.strip()
    if _PLAIN.match(text):
        return float(text)
    fraction = _FRACTION.match(text)
    if fraction:
        top, bottom = float(fraction.group(1)), float(fraction.group(2))
        return round(top / bottom * ANSWER_SCALE, 2) if bottom else None
    percent = _PERCENT.match(text)
    if percent:
        return round(float(percent.group(1)) / 100 * ANSWER_SCALE, 2)
    return None


QuestionsLike = Mapping[str, Any] | Sequence[Mapping[str, Any]] | None


def _question_index(questions: QuestionsLike) -> dict[str, tuple[str, str]]:
    """{question id: (label, type)} from an evaluator's questions, or a plain {id: label}."""
    out: dict[str, tuple[str, str]] = {}
    if isinstance(questions, Mapping):
        for key, value in questions.items():
            if isinstance(value, Mapping):
                out[str(key)] = (str(value.get("label") or key), str(value.get("type") or ""))
            else:
                out[str(key)] = (str(value or key), "")
    elif questions:
        for q in questions:
            if isinstance(q, Mapping) and q.get("id") is not None:
                out[str(q["id"])] = (str(q.get("label") or q["id"]), str(q.get("type") or ""))
    return out


def _first(item: Mapping[str, Any], keys: Sequence[str]) -> Any:
    return next((item[k] for k in keys if k in item and item[k] not in (None, "")), None)


def _answer(ident: str, label: str, kind: str, value: Any, known: dict[str, tuple[str, str]]) -> Answer:
    q_label, q_type = known.get(ident, ("", "")) if ident else ("", "")
    if not q_type and label:  # the results name the question by its label: its type from the evaluator
        q_type = next((t for lab, t in known.values() if lab.casefold() == label.casefold()), "")
    label = label or q_label or ident
    kind = (kind or q_type).strip().lower()
    # an answer in a shape we do not know (an object, a list) is text, never a number
    number = answer_number(value) if not isinstance(value, (Mapping, list, tuple)) else None
    return Answer(ident, label, readable(value), number, kind if kind in ("number", "text") else "", value)


def _from_object(ident: str, obj: Mapping[str, Any], known: dict[str, tuple[str, str]], position: int) -> Answer:
    ident = str(_first(obj, ID_KEYS) or ident or "")
    label = _first(obj, LABEL_KEYS)
    label = str(label) if isinstance(label, (str, int, float)) else ""
    kind = str(obj.get("type") or "")
    if any(k in obj for k in VALUE_KEYS):
        value = next(obj[k] for k in VALUE_KEYS if k in obj)
    else:  # no answer field: show what there is, as text
        value = {k: v for k, v in obj.items() if k not in (*ID_KEYS, *LABEL_KEYS, "type")} or dict(obj)
        kind = "text"
    answer = _answer(ident, label, kind, value, known)
    return answer if answer.label else Answer(answer.id, f"Answer {position}", answer.text, answer.number,
                                              answer.type, answer.value)


def _from_mapping(results: Mapping[str, Any], questions: QuestionsLike,
                  known: dict[str, tuple[str, str]]) -> list[Answer]:
    for key in WRAPPER_KEYS:
        inner = results.get(key)
        if isinstance(inner, (list, tuple)) or (isinstance(inner, Mapping) and inner):
            # a wrapper's own fields (evaluatedAt, a version...) are left out unless they answer a question
            extra = [_answer(str(k), "", "", v, known) for k, v in results.items()
                     if k != key and str(k) in known]
            return evaluation_answers(inner, questions) + extra
    return [_from_object(str(key), value, known, i) if isinstance(value, Mapping)
            else _answer(str(key), "", "", value, known) for i, (key, value) in enumerate(results.items(), 1)]


def evaluation_answers(results: Any, questions: QuestionsLike = None) -> list[Answer]:
    """Every answer in ``evaluationResults`` (see the shapes above), in order; [] for none.

    ``questions``: the evaluator's questions (``[{id, label, type}]``) or ``{id: label}``, for labels
    and types the results lack. Also reads back what :meth:`Answer.as_json` stored, and the older
    ``[[label, value], ...]`` rows.
    """
    known = _question_index(questions)
    if results is None or results == "" or results == {} or results == []:
        return []
    if isinstance(results, str):
        try:
            parsed = json.loads(results)
        except ValueError:
            return [Answer("", "Evaluation", results.strip(), None, "text", results)]
        return evaluation_answers(parsed, questions) if isinstance(parsed, (dict, list)) else \
            [_answer("", "Evaluation", "", parsed, known)]
    if isinstance(results, Mapping):
        return _from_mapping(results, questions, known)
    if isinstance(results, (list, tuple)):
        out = []
        for i, item in enumerate(results, 1):
            if isinstance(item, Mapping):
                out.append(_from_object("", item, known, i))
            elif isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[0], str):
                out.append(_answer(item[0] if item[0] in known else "", item[0] if item[0] not in known else "",
                                   "", item[1], known))
            else:
                out.append(_answer("", f"Answer {i}", "", item, known))
        return out
    return [_answer("", "Evaluation", "", results, known)]


def number_answers(answers: Sequence[Answer]) -> list[tuple[str, float]]:
    """(label, number) of the answers that count towards the evaluation score."""
    return [(a.label, a.number) for a in answers if a.counted and a.number is not None]


OVERVIEW_KEYS = ("overview", "summary", "text", "content")
POINTS_KEYS = ("keyPoints", "key_points", "points", "highlights")


@dataclass(frozen=True)
class SummaryParts:
    """Nimrobo's summary read once: the overview, its key points and the recommendation ("" when none)."""

    overview: str
    points: tuple[str, ...] = ()
    recommendation: str = ""


def summary_parts(summary: Any) -> SummaryParts:
    """The one reading of a session's summary, in every shape seen: a string; an object with the overview
    under ``overview`` (or ``summary`` / ``text`` / ``content``, itself possibly such an object) and the
    points under ``keyPoints`` (or ``key_points`` ...: a list, or one string), with a ``recommendation``."""
    if not isinstance(summary, Mapping):
        return SummaryParts(str(summary or "").strip())
    overview: Any = next((summary[k] for k in OVERVIEW_KEYS if summary.get(k)), "")
    inner = summary_parts(overview) if isinstance(overview, Mapping) else SummaryParts(str(overview).strip())
    raw_points: Any = next((summary[k] for k in POINTS_KEYS if summary.get(k)), None)
    points = raw_points if isinstance(raw_points, list) else [raw_points] if raw_points else []
    recommendation = str(summary.get("recommendation") or "").strip() or inner.recommendation
    return SummaryParts(inner.overview, inner.points + tuple(str(p).strip() for p in points if str(p).strip()),
                        recommendation)


def summary_text(summary: Any) -> str:
    """Nimrobo's summary as text: the overview, then a bullet per key point."""
    parts = summary_parts(summary)
    return "\n".join([parts.overview, *(f"• {p}" for p in parts.points)]).strip()
