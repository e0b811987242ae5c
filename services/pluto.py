"""The Pluto scoring API client (``../shared/specs/pluto-api.md`` plus FIELD-NOTES).

Accepts both the reference's shapes and the real server's: results as a bare list or
``{"candidates": [...]}``, uploads with or without ``total_candidates``, the
``waiting_confirmation`` step, 409 when busy, FastAPI ``{"detail": ...}`` errors.
One error type, :class:`PlutoError` (:class:`RoomGoneError` for a room that is unknown
or expired). GETs retry with backoff; an upload streams the file from disk and is never
re-sent blindly (``outcome_unknown`` tells the caller to look at ``/pluto/status`` first).

Live interviews: every answer comes back as a dataclass that reads each shape seen
(reference and real server; an unknown field is ignored, a missing one is empty). Room
URLs, room and join tokens, realtime client secrets, intake links and LiveKit tokens are
:class:`config.Secret` values: they print as ``***`` and are dropped from ``raw``, so a
log line or a stored ``raw`` can't carry one. Only :meth:`Secret.reveal` gives the value.
Creates (rooms, joins, sessions, tokens, analytics saves) are never retried once they may
have reached Pluto; the chat and pre-brief generation only read, so they retry like GETs.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from config import Secret
from services.http import DEFAULT_TIMEOUT, RetryPolicy, ServiceError, send
from services.store import current_workspace

# AI-backed routes (briefs, chat, analytics, realtime) take seconds; give them room.
AI_TIMEOUT = httpx.Timeout(120.0, connect=5.0)
PARTICIPANT_TYPES = ("interviewer", "candidate")
# Keys whose values are bearer secrets: never kept in a record's ``raw``.
SECRET_KEYS = frozenset({"token", "interviewer_token", "room_url", "url", "client_secret", "intake_url",
                         "join_url", "livekit_token", "value"})

STATUSES = ("idle", "extracting", "waiting_confirmation", "scoring", "complete", "error")
RUNNING = ("extracting", "waiting_confirmation", "scoring")


class PlutoError(ServiceError):
    service = "Pluto"

    @property
    def busy(self) -> bool:
        return self.status == 409


class RoomGoneError(PlutoError):
    """Pluto does not know the room (404) or it has expired (410)."""

    @property
    def expired(self) -> bool:
        return self.status == 410


def _list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [part.strip() for part in str(value).split("|") if part.strip()]


def _num(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return None if value is None or value == "" else float(value)
    except (TypeError, ValueError):
        return None


def _score(value: Any) -> float | int | None:
    """A score as a number (an int when whole), from a number, a numeric string or ``{"score": n}``."""
    if isinstance(value, Mapping):
        value = value.get("score", value.get("value"))
    number = _num(value)
    if number is None:
        return None
    return int(number) if number.is_integer() else number


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _texts(value: Any, *keys: str) -> list[str]:
    """Lines from a list of strings or of objects (the first of ``keys`` present), or a ``|``-joined string."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return _list(value)
    if isinstance(value, Mapping):
        value = [value]
    out = []
    for item in value if isinstance(value, Iterable) else [value]:
        if isinstance(item, Mapping):
            text = next((_text(item[k]) for k in keys if _text(item.get(k))), "")
            if not text:
                text = next((_text(v) for v in item.values() if isinstance(v, str) and v.strip()), "")
        else:
            text = _text(item)
        if text:
            out.append(text)
    return out


def parse_time(value: Any) -> float | None:
    """Epoch seconds from ISO 8601 (``Z``, an offset, or none: UTC), epoch seconds or milliseconds."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) / 1000 if value > 1e11 else float(value)
    text = str(value).strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return parse_time(float(text))
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def _secret(value: Any) -> Secret:
    if isinstance(value, Mapping):  # OpenAI's {"value": ..., "expires_at": ...}
        value = value.get("value")
    return Secret(value if isinstance(value, str) else "")


def _scrub(data: Any) -> dict[str, Any]:
    """``data`` without any bearer secret, at any depth: safe to keep, log or store."""
    if not isinstance(data, Mapping):
        return {}

    def clean(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: clean(v) for k, v in value.items() if k not in SECRET_KEYS}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    return clean(data)


@dataclass
class Candidate:
    id: str
    name: str
    rank: int | None = None
    email: str | None = None
    job_title: str = ""
    current_company: str = ""
    final_score: float | None = None
    ai_score: float | None = None
    algo_score: float | None = None
    tier: str = ""
    one_line_summary: str = ""
    skills: list[str] = field(default_factory=list)
    data_completeness: float | None = None
    interview_status: str = ""  # not_started | briefing | in_progress | interviewed | completed | ...
    interview_score: float | None = None
    recommendation: str = ""
    room_name: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Candidate:
        final = data.get("final_score", data.get("combined_score"))
        rank = data.get("rank")
        return cls(
            id=str(data.get("id", "")), name=str(data.get("name") or "Unnamed"),
            rank=int(rank) if isinstance(rank, int | float) or (isinstance(rank, str) and rank.isdigit()) else None,
            email=data.get("email"), job_title=data.get("job_title") or "",
            current_company=data.get("current_company") or "", final_score=_num(final),
            ai_score=_num(data.get("ai_score")), algo_score=_num(data.get("algo_score")), tier=data.get("tier") or "",
            one_line_summary=data.get("one_line_summary") or "", skills=_list(data.get("skills")),
            data_completeness=_num(data.get("data_completeness", data.get("completeness"))),
            interview_status=_text(data.get("interview_status")), interview_score=_num(data.get("interview_score")),
            recommendation=_text(data.get("recommendation")), room_name=_text(data.get("room_name")), raw=data)

    def get(self, key: str, default: Any = None) -> Any:
        """Any field the server sent, known or not."""
        return self.raw.get(key, default)

    @property
    def interviewed(self) -> bool:
        """Analytics were saved (``interviewed`` here, ``completed`` on the real server)."""
        return self.interview_status in ("interviewed", "completed")

    def resume_text(self) -> str:
        """The candidate's resume fields as text, as Pluto itself sends them to a pre-brief."""
        where = ", ".join(p for p in (_text(self.get("location_city")), _text(self.get("location_state"))) if p)
        lines = [f"Name: {self.name}",
                 f"Current Role: {self.job_title or 'N/A'} at {self.current_company or 'N/A'}",
                 f"Location: {where or 'N/A'}",
                 f"Years of Experience: {_text(self.get('years_experience')) or 'Unknown'}",
                 "", "Summary:", _text(self.get("bio_summary")) or self.one_line_summary or "No summary available",
                 "", f"Skills: {', '.join(self.skills) or 'N/A'}",
                 f"Industries: {', '.join(_list(self.get('industries'))) or 'N/A'}"]
        for key, label in (("pros", "Strengths"), ("cons", "Concerns")):
            items = _texts(self.get(key))
            if items:
                lines.append(f"{label}: {'; '.join(items)}")
        return "\n".join(lines)


@dataclass
class Question:
    question: str
    purpose: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class SuggestedQuestion:
    question: str
    category: str = ""
    purpose: str = ""
    follow_up: str = ""


@dataclass
class PreBrief:
    """A ``PreInterviewBrief``. Lists keep what the server sent (strings or the real server's
    objects); the ``*_lines`` properties and :attr:`questions` read either as text."""

    candidate_name: str
    current_role: str = ""
    years_experience: Any = None
    overall_fit_score: float | None = None
    fit_summary: str = ""
    score_breakdown: dict[str, Any] = field(default_factory=dict)  # name -> number (or None)
    skill_matches: list[Any] = field(default_factory=list)
    experience_highlights: list[Any] = field(default_factory=list)
    strengths: list[Any] = field(default_factory=list)
    concerns: list[Any] = field(default_factory=list)
    suggested_questions: list[dict[str, Any]] = field(default_factory=list)
    topics_to_avoid: list[Any] = field(default_factory=list)
    tldr: str = ""
    key_things_to_remember: list[Any] = field(default_factory=list)
    cached: bool | None = None  # the real server says whether it came from its cache
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_api(cls, d: Any) -> PreBrief:
        d = _dict(d)
        cached = d.get("cached") if isinstance(d.get("cached"), bool) else None
        if isinstance(d.get("prebrief"), dict):  # the real server: {"prebrief": {...}, "cached": bool}
            d = d["prebrief"]
        breakdown = {str(k): _score(v) for k, v in _dict(d.get("score_breakdown")).items()}
        questions = []
        for q in d.get("suggested_questions") or []:
            if isinstance(q, dict):
                questions.append(q)
            elif _text(q):
                questions.append({"question": _text(q)})

        def items(key: str) -> list[Any]:
            value = d.get(key)
            if isinstance(value, str):
                return _list(value)
            return list(value) if isinstance(value, list) else []

        return cls(candidate_name=_text(d.get("candidate_name")), current_role=_text(d.get("current_role")),
                   years_experience=d.get("years_experience"), overall_fit_score=_num(d.get("overall_fit_score")),
                   fit_summary=_text(d.get("fit_summary")), score_breakdown=breakdown,
                   skill_matches=items("skill_matches"), experience_highlights=items("experience_highlights"),
                   strengths=items("strengths"), concerns=items("concerns"), suggested_questions=questions,
                   topics_to_avoid=items("topics_to_avoid"), tldr=_text(d.get("tldr")),
                   key_things_to_remember=items("key_things_to_remember"), cached=cached, raw=d)

    @property
    def strength_lines(self) -> list[str]:
        return _texts(self.strengths, "strength", "text", "description")

    @property
    def concern_lines(self) -> list[str]:
        return _texts(self.concerns, "concern", "text", "description")

    @property
    def topics_to_avoid_lines(self) -> list[str]:
        return _texts(self.topics_to_avoid, "topic", "text")

    @property
    def questions(self) -> list[SuggestedQuestion]:
        return [SuggestedQuestion(_text(q.get("question")), _text(q.get("category")), _text(q.get("purpose")),
                                  _text(q.get("follow_up"))) for q in self.suggested_questions
                if _text(q.get("question"))]

    def as_context(self, limit: int = 6000) -> str:
        """The brief as plain text: the ``context`` the in-interview assistant gets."""
        parts = [f"Candidate: {self.candidate_name or 'unknown'}"
                 + (f", {self.current_role}" if self.current_role else "")
                 + (f", {self.years_experience} years" if self.years_experience not in (None, "") else "")]
        if self.overall_fit_score is not None:
            parts.append(f"Fit score: {_score(self.overall_fit_score)}/100. {self.fit_summary}".strip())
        if self.tldr:
            parts.append(f"TL;DR: {self.tldr}")
        for label, lines in (("Strengths", self.strength_lines), ("Concerns", self.concern_lines),
                             ("Topics to avoid", self.topics_to_avoid_lines),
                             ("Suggested questions", [q.question for q in self.questions]),
                             ("Remember", _texts(self.key_things_to_remember))):
            if lines:
                parts.append(f"{label}: " + "; ".join(lines))
        return "\n".join(parts)[:limit]


@dataclass
class UploadResult:
    message: str
    total_candidates: int | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class ProgressSnapshot:
    """What a progress message needs, from one ``/pluto/status`` payload."""

    status: str
    phase: str
    percent: int
    done: int
    total: int
    label: str
    error: str | None = None
    top_preview: list[tuple[str, float | None]] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return self.status in RUNNING

    @property
    def finished(self) -> bool:
        return self.status in ("complete", "error")

    @property
    def fingerprint(self) -> tuple[Any, ...]:
        """Changes whenever the run moves; used to detect a stall."""
        return (self.status, self.percent, self.done, self.total)


def read_progress(payload: dict[str, Any]) -> ProgressSnapshot:
    status = str(payload.get("status") or "idle")
    if status not in STATUSES:
        status = "scoring" if payload.get("candidates_scored") else "extracting"
    total = int(payload.get("candidates_total") or 0)
    if status == "scoring" or status == "complete":
        done = int(payload.get("candidates_scored") or (total if status == "complete" else 0))
        verb = "scoring"
    else:
        done = int(payload.get("candidates_extracted") or 0)
        verb = "extracting"
    percent = int(payload.get("progress") or (100 if status == "complete" else 0))
    label = {"idle": "waiting to start", "complete": f"scored {total} of {total}",
             "error": "failed", "waiting_confirmation": f"extracted {done} of {total}; starting AI scoring"
             }.get(status, f"{verb} {done} of {total}")
    preview = []
    for c in (payload.get("scored_candidates") or [])[:5]:
        if isinstance(c, dict):
            preview.append((str(c.get("name", "?")), _num(c.get("final_score", c.get("combined_score")))))
    preview.sort(key=lambda p: -(p[1] or 0))
    error = payload.get("error") if status == "error" else None
    if status == "error" and not error:
        error = payload.get("message") or "Pluto reported an error"
    return ProgressSnapshot(status, str(payload.get("phase") or status), max(0, min(100, percent)), done, total,
                            label, error, preview)


# -- live interviews ----------------------------------------------------------------------
@dataclass
class RoomAccess:
    """What lets one person into a room. Both values are bearer secrets: deliver privately."""

    room_name: str
    room_url: Secret
    token: Secret
    participant_name: str = ""
    participant_type: str = "interviewer"

    @property
    def join_url(self) -> Secret:
        """The room link with the token in it (Daily's ``?t=``), ready to click."""
        if not self.room_url:
            return Secret("")
        if not self.token:
            return Secret(self.room_url.reveal())
        joiner = "&" if "?" in self.room_url.reveal() else "?"
        return Secret(f"{self.room_url.reveal()}{joiner}t={self.token.reveal()}")


@dataclass
class RealtimeSession:
    """An ephemeral OpenAI Realtime session. The client secret is for one person, briefly."""

    session_id: str
    client_secret: Secret
    expires_at: float | None = None
    model: str = ""
    modalities: list[str] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_api(cls, data: Any) -> RealtimeSession:
        d = _dict(data)
        nested = _dict(d.get("client_secret"))  # OpenAI: {"value": ..., "expires_at": ...}
        expires = parse_time(nested.get("expires_at", d.get("expires_at")))
        return cls(session_id=_text(d.get("session_id") or d.get("id")), client_secret=_secret(d.get("client_secret")),
                   expires_at=expires, model=_text(d.get("model")), modalities=_texts(d.get("modalities")),
                   raw=_scrub(d))


@dataclass
class Room:
    """A room Pluto made (``POST /rooms`` or ``POST /pluto/candidates/{id}/interview``)."""

    room_name: str
    room_url: Secret
    interviewer_token: Secret
    expires_at: float | None = None
    realtime: RealtimeSession | None = None
    candidate: Candidate | None = None  # the real server returns the candidate with a started interview
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_api(cls, data: Any) -> Room:
        d = _dict(data)
        session = d.get("realtime_session")
        candidate = d.get("candidate")
        return cls(room_name=_text(d.get("room_name") or d.get("name")),
                   room_url=_secret(d.get("room_url") or d.get("url")),
                   interviewer_token=_secret(d.get("interviewer_token") or d.get("token")),
                   expires_at=parse_time(d.get("expires_at")),
                   realtime=RealtimeSession.from_api(session) if isinstance(session, dict) and session else None,
                   candidate=Candidate.from_api(candidate) if isinstance(candidate, dict) else None, raw=_scrub(d))

    def access(self, interviewer_name: str = "") -> RoomAccess:
        return RoomAccess(self.room_name, self.room_url, self.interviewer_token, interviewer_name, "interviewer")


@dataclass
class RoomInfo:
    room_name: str
    expires_at: float | None = None
    created_by: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class ChatTurn:
    role: str  # user | assistant
    content: str

    def to_api(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass
class ChatReply:
    text: str
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class CompetencyScore:
    name: str
    score: float | None  # 0-100
    evidence: list[str] = field(default_factory=list)
    notes: str = ""


_RECOMMENDATIONS = {"strong_hire": "Strong Hire", "hire": "Hire", "maybe": "Maybe", "no_hire": "No Hire",
                    "leaning_hire": "Leaning Hire", "leaning_no_hire": "Leaning No Hire"}


def _recommendation(value: Any) -> str:
    text = _text(value)
    return _RECOMMENDATIONS.get(text.lower().replace(" ", "_"), text) if text else ""


@dataclass
class InterviewAnalytics:
    """``InterviewAnalytics``, read from the nested form (``overall``/``highlights``/``qa_pairs``), the
    flat one (``overall_score``, ``competency_scores``, ``strengths``...) or a debrief (``improvements``)."""

    overall_score: float | None
    competencies: list[CompetencyScore] = field(default_factory=list)
    highlights: list[str] = field(default_factory=list)
    concerns: list[str] = field(default_factory=list)
    recommendation: str = ""
    recommendation_reasoning: str = ""
    next_round_questions: list[str] = field(default_factory=list)
    summary: str = ""
    confidence: float | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)  # as received: what is saved back

    @classmethod
    def from_api(cls, data: Any) -> InterviewAnalytics:
        d = _dict(data)
        if isinstance(d.get("analytics"), dict):  # a save answer: {"status": "saved", "analytics": {...}}
            d = d["analytics"]
        overall = _dict(d.get("overall"))
        top = _dict(d.get("highlights"))  # nested form: an object; flat form: a list
        flat_highlights = d.get("highlights") if isinstance(d.get("highlights"), list) else []
        competencies = []
        scores = d.get("competency_scores")
        if isinstance(scores, dict):
            scores = [{"name": k, "score": v} for k, v in scores.items()]
        for item in scores if isinstance(scores, list) else []:
            if isinstance(item, dict) and _text(item.get("name") or item.get("competency")):
                competencies.append(CompetencyScore(_text(item.get("name") or item.get("competency")),
                                                    _score(item.get("score")), _texts(item.get("evidence")),
                                                    _text(item.get("notes"))))
        for key, label in (("communication_score", "Communication"), ("technical_score", "Technical"),
                           ("cultural_fit_score", "Cultural fit")):
            value = _num(overall.get(key))
            if value is not None:  # 0-10 in the nested form
                competencies.append(CompetencyScore(label, _score(value * 10 if value <= 10 else value)))
        highlights = _texts(overall.get("highlights")) + _texts(flat_highlights) + _texts(d.get("strengths"))
        best = _dict(top.get("best_answer"))
        if _text(best.get("quote")):
            highlights.append(f"Best answer: “{_text(best['quote'])}”"
                              + (f" ({_text(best.get('context'))})" if _text(best.get("context")) else ""))
        for moment in top.get("standout_moments") or []:
            if isinstance(moment, dict) and _text(moment.get("quote")):
                highlights.append(f"“{_text(moment['quote'])}” — {_text(moment.get('why'))}".rstrip(" —"))
        concerns = (_texts(overall.get("red_flags")) + _texts(d.get("concerns")) + _texts(d.get("improvements"))
                    + _texts(d.get("red_flags_detected")) + _texts(d.get("red_flags"), "flag"))
        red = _dict(top.get("red_flag"))
        if _text(red.get("quote")):
            concerns.append(f"Red flag: “{_text(red['quote'])}” {_text(red.get('context'))}".strip())
        questions = (_texts(top.get("areas_to_probe")) + _texts(d.get("next_round_questions"), "question")
                     + _texts(d.get("follow_up_questions"), "question") + _texts(d.get("areas_to_probe")))
        return cls(overall_score=_num(overall.get("overall_score", d.get("overall_score", d.get("score")))),
                   competencies=competencies, highlights=_dedupe(highlights), concerns=_dedupe(concerns),
                   recommendation=_recommendation(overall.get("recommendation", d.get("recommendation"))),
                   recommendation_reasoning=_text(overall.get("recommendation_reasoning",
                                                              d.get("recommendation_reasoning"))),
                   next_round_questions=_dedupe(questions), summary=_text(d.get("summary")),
                   confidence=_num(overall.get("confidence", d.get("confidence"))), raw=d)


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


@dataclass
class SavedAnalytics:
    candidate_id: str
    interview_id: str
    status: str = "saved"
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class IntakeLink:
    """A candidate's intake link. The URL carries a token: a bearer secret."""

    candidate_id: str
    url: Secret
    expires_at: float | None = None

    @property
    def token(self) -> Secret:
        values = parse_qs(urlsplit(self.url.reveal()).query).get("token") or [""]
        return Secret(values[0])


@dataclass
class IntakeValidation:
    valid: bool
    candidate_name: str = ""
    gaps: list[str] = field(default_factory=list)  # what the intake will ask about
    reason: str = ""  # why not valid, when Pluto said


@dataclass
class LiveKitToken:
    """A voice intake session: the token is a bearer secret."""

    candidate_id: str
    token: Secret
    room_name: str
    livekit_url: str
    questions: list[str] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


class PlutoClient:
    def __init__(self, base_url: str, *, api_key: str | None = None, transport: httpx.BaseTransport | None = None,
                 timeout: httpx.Timeout | float = DEFAULT_TIMEOUT, retry: RetryPolicy | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"Authorization": "Bearer " + api_key} if api_key else {}
        self.retry = retry or RetryPolicy()
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport, headers=headers)

    def __repr__(self) -> str:
        return f"PlutoClient(base_url={self.base_url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PlutoClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport ---------------------------------------------------------------------
    def _request(self, method: str, path: str, *, raw: bool = False, safe: bool | None = None,
                 **kwargs: Any) -> Any:
        endpoint = f"{method} {path}"
        safe = method == "GET" if safe is None else safe
        try:
            response = send(self._http, method, path, policy=self.retry, api="pluto", safe=safe, **kwargs)
        except httpx.TransportError as exc:
            maybe_sent = getattr(exc, "request_maybe_sent", True)
            raise PlutoError(f"Pluto is not reachable at {self.base_url}.", endpoint=endpoint,
                             hint="Is it running? Try again in a minute.",
                             outcome_unknown=maybe_sent and not safe) from exc
        if response.status_code >= 400:
            raise self._error(response, endpoint, method, safe)
        if raw:
            return response.content
        try:
            return response.json()
        except ValueError:
            raise PlutoError("Pluto sent an answer that is not JSON.", status=response.status_code,
                             endpoint=endpoint) from None

    @staticmethod
    def _error(response: httpx.Response, endpoint: str, method: str, safe: bool = False) -> PlutoError:
        try:
            detail = response.json().get("detail")
        except (ValueError, AttributeError):
            detail = None
        if isinstance(detail, list):  # FastAPI validation errors
            detail = "; ".join(f"{'.'.join(str(x) for x in d.get('loc', [])[1:])}: {d.get('msg')}"
                               for d in detail if isinstance(d, dict)) or "invalid request"
        message = str(detail or response.reason_phrase or f"HTTP {response.status_code}")
        status = response.status_code
        hints = {409: "Pluto is busy with another file; your run waits in the queue.",
                 404: "It may be from an older run; run /pluto results for the latest shortlist.",
                 429: "Pluto is rate limiting us; try again in a minute."}
        hint = hints.get(status, "Pluto had a problem on its side; try again in a minute." if status >= 500 else "")
        if status in (404, 410) and " /rooms/" in endpoint:
            gone = "has expired" if status == 410 else "is not known to Pluto"
            return RoomGoneError(message, status=status, endpoint=endpoint,
                                 hint=f"The interview room {gone}; start a new one.")
        return PlutoError(message, status=status, endpoint=endpoint, hint=hint,
                          outcome_unknown=status >= 500 and not safe)

    # -- scoring pipeline ------------------------------------------------------------------
    def upload(self, path: str | Path, filename: str | None = None, job_description: str | None = None) -> UploadResult:
        """Stream the CSV at ``path`` to ``POST /pluto/upload`` (multipart field ``file``)."""
        path = Path(path)
        name = filename or path.name
        if not name.lower().endswith(".csv"):
            name += ".csv"
        data = {"job_description": job_description} if job_description else None
        with path.open("rb") as handle:
            result = self._request("POST", "/pluto/upload", files={"file": (name, handle, "text/csv")}, data=data)
        total = result.get("total_candidates") if isinstance(result, dict) else None
        return UploadResult(str(result.get("message", "")), int(total) if total is not None else None, result)

    def status(self) -> dict[str, Any]:
        return self._request("GET", "/pluto/status")

    def progress(self) -> ProgressSnapshot:
        return read_progress(self.status())

    def confirm_scoring(self) -> dict[str, Any]:
        """From ``waiting_confirmation``: start AI scoring (``POST /pluto/score``)."""
        return self._request("POST", "/pluto/score")

    def results(self) -> list[Candidate]:
        data = self._request("GET", "/pluto/results")
        items = data if isinstance(data, list) else (data or {}).get("candidates", [])
        candidates = [Candidate.from_api(c) for c in items if isinstance(c, dict)]
        candidates.sort(key=lambda c: (c.rank if c.rank is not None else 10**9, -(c.final_score or 0)))
        for index, c in enumerate(candidates, start=1):
            if c.rank is None:
                c.rank = index
        return candidates

    def results_csv(self) -> bytes:
        return self._request("GET", "/pluto/results/csv", raw=True)

    # -- candidates --------------------------------------------------------------------------
    def candidate(self, candidate_id: str) -> Candidate:
        return Candidate.from_api(self._request("GET", f"/pluto/candidates/{candidate_id}"))

    def questions(self, candidate_id: str) -> list[Question]:
        data = self._request("GET", f"/pluto/candidates/{candidate_id}/questions")
        items = data.get("questions", []) if isinstance(data, dict) else data
        return [Question(str(q.get("question", "")), str(q.get("purpose", "")), q) if isinstance(q, dict)
                else Question(str(q)) for q in items]

    def prebrief(self, candidate_id: str) -> PreBrief:
        """The candidate's cached pre-brief (the server may generate it first: slow)."""
        return PreBrief.from_api(self._request("GET", f"/pluto/candidates/{candidate_id}/prebrief",
                                               timeout=AI_TIMEOUT))

    def generate_prebrief(self, room_name: str, job_description: str, resume: str,
                          company_context: str | None = None) -> PreBrief:
        """``POST /prebrief/{room}``: generation only reads, so it retries like a GET."""
        body = {"job_description": job_description, "resume": resume, "company_context": company_context}
        return PreBrief.from_api(self._request("POST", f"/prebrief/{room_name}", json=body, safe=True,
                                               timeout=AI_TIMEOUT))

    # -- rooms -------------------------------------------------------------------------------
    def start_interview(self, candidate_id: str, interviewer_name: str, use_prebrief: bool = True) -> Room:
        """A room with the candidate's context loaded. Creates: never retried once sent."""
        return Room.from_api(self._request("POST", f"/pluto/candidates/{candidate_id}/interview",
                                           json={"interviewer_name": interviewer_name, "use_prebrief": use_prebrief},
                                           timeout=AI_TIMEOUT))

    def create_room(self, interviewer_name: str, candidate_name: str | None = None) -> Room:
        """An ad-hoc room. Creates: never retried once sent."""
        return Room.from_api(self._request("POST", "/rooms", json={"interviewer_name": interviewer_name,
                                                                   "candidate_name": candidate_name}))

    def room_info(self, room_name: str) -> RoomInfo:
        data = _dict(self._request("GET", f"/rooms/{room_name}"))
        return RoomInfo(_text(data.get("room_name")) or room_name, parse_time(data.get("expires_at")),
                        _text(data.get("created_by")), _scrub(data))

    def join_room(self, room_name: str, participant_name: str, participant_type: str = "interviewer") -> RoomAccess:
        """A join token for one more person. Creates: never retried once sent."""
        if participant_type not in PARTICIPANT_TYPES:
            raise ValueError(f"participant_type must be one of {PARTICIPANT_TYPES}")
        data = _dict(self._request("POST", f"/rooms/{room_name}/join",
                                   json={"participant_name": participant_name, "participant_type": participant_type}))
        return RoomAccess(room_name, _secret(data.get("room_url") or data.get("url")), _secret(data.get("token")),
                          participant_name, participant_type)

    def realtime_session(self, candidate_name: str, role: str, resume: str = "",
                         job_description: str = "") -> RealtimeSession:
        """An ephemeral OpenAI Realtime session. Creates: never retried once sent."""
        return RealtimeSession.from_api(self._request(
            "POST", "/realtime/session", json={"candidate_name": candidate_name, "role": role, "resume": resume,
                                               "job_description": job_description}, timeout=AI_TIMEOUT))

    def chat(self, room_name: str, message: str, context: str | None = None,
             history: Iterable[ChatTurn | Mapping[str, str]] = ()) -> ChatReply:
        """One assistant turn. Nothing is created, so it retries like a GET."""
        turns = [t.to_api() if isinstance(t, ChatTurn) else {"role": str(t["role"]), "content": str(t["content"])}
                 for t in history]
        data = self._request("POST", f"/rooms/{room_name}/chat", safe=True, timeout=AI_TIMEOUT,
                             json={"message": message, "context": context, "history": turns})
        d = _dict(data)
        return ChatReply(_text(d.get("response") or d.get("message") or d.get("content")), d)

    # -- analytics -----------------------------------------------------------------------------
    def analytics(self, room_name: str, transcript: str, job_description: str | None = None,
                  resume: str | None = None) -> InterviewAnalytics:
        return InterviewAnalytics.from_api(self._request(
            "POST", f"/analytics/{room_name}", timeout=AI_TIMEOUT,
            json={"transcript": transcript, "job_description": job_description, "resume": resume}))

    def save_analytics(self, candidate_id: str, interview_id: str, analytics: InterviewAnalytics | dict[str, Any],
                       transcript: str | None = None) -> SavedAnalytics:
        """Save to the candidate. Sends both shapes seen: the reference's ``interview_id`` and the real
        server's ``transcript``. Creates: never retried once sent."""
        raw = analytics.raw if isinstance(analytics, InterviewAnalytics) else analytics
        body: dict[str, Any] = {"interview_id": interview_id, "analytics": raw}
        if transcript:
            body["transcript"] = transcript
        data = _dict(self._request("POST", f"/pluto/candidates/{candidate_id}/analytics", json=body,
                                   timeout=AI_TIMEOUT))
        return SavedAnalytics(candidate_id, _text(data.get("interview_id")) or interview_id,
                              _text(data.get("status")) or "saved", _scrub(data))

    # -- intake --------------------------------------------------------------------------------
    def intake_link(self, candidate_id: str) -> IntakeLink:
        data = _dict(self._request("POST", f"/pluto/candidates/{candidate_id}/intake-link"))
        return IntakeLink(candidate_id, _secret(data.get("intake_url") or data.get("url")),
                          parse_time(data.get("expires_at")))

    def validate_intake(self, candidate_id: str, token: str) -> IntakeValidation:
        """``valid: false`` and a refusal (401/403/410, as some builds answer) both mean not valid."""
        try:
            data = _dict(self._request("GET", f"/intake/{candidate_id}/validate",
                                       params={"token": Secret(token).reveal()}))
        except PlutoError as exc:
            if exc.status in (401, 403, 410):
                return IntakeValidation(False, reason=exc.message)
            raise
        valid = data.get("valid")
        return IntakeValidation(valid is True or _text(valid).lower() == "true",
                                _text(data.get("candidate_name")), _texts(data.get("gaps"), "field", "name"),
                                _text(data.get("reason") or data.get("detail")))

    def livekit_token(self, candidate_id: str) -> LiveKitToken:
        """A voice intake session. Creates: never retried once sent."""
        data = _dict(self._request("POST", "/livekit/token", json={"candidate_id": candidate_id}))
        return LiveKitToken(candidate_id, _secret(data.get("token")), _text(data.get("room_name")),
                            _text(data.get("livekit_url") or data.get("url") or data.get("ws_url")),
                            _texts(data.get("questions"), "question", "text"), _scrub(data))


# -- which Pluto server a call goes to ---------------------------------------------------------
_pinned: ContextVar[str] = ContextVar("pluto_server", default="")


@contextmanager
def on_server(url: str | None) -> Iterator[None]:
    """Calls through :class:`PlutoServers` inside the block go to ``url`` (a run queued on a server keeps
    talking to it, even if its workspace's admin has since named another); None or "" changes nothing."""
    token = _pinned.set((url or "").rstrip("/") or _pinned.get())
    try:
        yield
    finally:
        _pinned.reset(token)


class PlutoServers:
    """The Pluto client of the workspace being served: its own server when its admin set one
    (``server_here()``), else the environment's ``PLUTO_API_BASE_URL``.

    Clients are kept per (workspace, server), so one workspace's client is never handed to another;
    :attr:`routed` behaves like a :class:`PlutoClient` and picks the client per call.
    """

    def __init__(self, default_url: str, server_here: Callable[[], str | None],
                 make_client: Callable[[str], PlutoClient]) -> None:
        self.default_url = default_url.rstrip("/")
        self.server_here = server_here
        self.make_client = make_client
        self._clients: dict[tuple[str, str], PlutoClient] = {}
        self._lock = threading.Lock()
        self.routed = RoutedPluto(self)

    def url_here(self) -> str:
        """The server calls made now go to (a pinned run's server, else the workspace's, else the default)."""
        return _pinned.get() or (self.server_here() or self.default_url).rstrip("/")

    def client(self, url: str | None = None) -> PlutoClient:
        url = (url or self.url_here()).rstrip("/")
        slot = ("" if url == self.default_url else current_workspace() or "", url)
        with self._lock:
            client = self._clients.get(slot)
            if client is None:
                client = self._clients[slot] = self.make_client(url)
            return client

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()


class RoutedPluto:
    """A :class:`PlutoClient` look-alike whose every call goes to :meth:`PlutoServers.client`."""

    def __init__(self, servers: PlutoServers) -> None:
        self._servers = servers

    def __repr__(self) -> str:
        return f"RoutedPluto(default={self._servers.default_url!r})"

    @property
    def base_url(self) -> str:
        return self._servers.url_here()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._servers.client(), name)
