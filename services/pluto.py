"""The Pluto scoring API client (``../shared/specs/pluto-api.md`` plus FIELD-NOTES).

Accepts both the reference's shapes and the real server's: results as a bare list or
``{"candidates": [...]}``, uploads with or without ``total_candidates``, the
``waiting_confirmation`` step, 409 when busy, FastAPI ``{"detail": ...}`` errors.
One error type, :class:`PlutoError`. GETs retry with backoff; an upload streams the
file from disk and is never re-sent blindly (``outcome_unknown`` tells the caller to
look at ``/pluto/status`` first).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from services.http import DEFAULT_TIMEOUT, RetryPolicy, ServiceError, send

STATUSES = ("idle", "extracting", "waiting_confirmation", "scoring", "complete", "error")
RUNNING = ("extracting", "waiting_confirmation", "scoring")


class PlutoError(ServiceError):
    service = "Pluto"

    @property
    def busy(self) -> bool:
        return self.status == 409


def _list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [part.strip() for part in str(value).split("|") if part.strip()]


def _num(value: Any) -> float | None:
    try:
        return None if value is None or value == "" else float(value)
    except (TypeError, ValueError):
        return None


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
            data_completeness=_num(data.get("data_completeness", data.get("completeness"))), raw=data)

    def get(self, key: str, default: Any = None) -> Any:
        """Any field the server sent, known or not."""
        return self.raw.get(key, default)


@dataclass
class Question:
    question: str
    purpose: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class PreBrief:
    candidate_name: str
    current_role: str = ""
    years_experience: Any = None
    overall_fit_score: float | None = None
    fit_summary: str = ""
    score_breakdown: dict[str, Any] = field(default_factory=dict)
    skill_matches: list[Any] = field(default_factory=list)
    experience_highlights: list[Any] = field(default_factory=list)
    strengths: list[Any] = field(default_factory=list)
    concerns: list[Any] = field(default_factory=list)
    suggested_questions: list[dict[str, Any]] = field(default_factory=list)
    topics_to_avoid: list[Any] = field(default_factory=list)
    tldr: str = ""
    key_things_to_remember: list[Any] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_api(cls, d: dict[str, Any]) -> PreBrief:
        return cls(candidate_name=d.get("candidate_name", ""), current_role=d.get("current_role") or "",
                   years_experience=d.get("years_experience"), overall_fit_score=_num(d.get("overall_fit_score")),
                   fit_summary=d.get("fit_summary") or "", score_breakdown=d.get("score_breakdown") or {},
                   skill_matches=d.get("skill_matches") or [], experience_highlights=d.get("experience_highlights") or [],
                   strengths=d.get("strengths") or [], concerns=d.get("concerns") or [],
                   suggested_questions=d.get("suggested_questions") or [], topics_to_avoid=d.get("topics_to_avoid") or [],
                   tldr=d.get("tldr") or "", key_things_to_remember=d.get("key_things_to_remember") or [], raw=d)


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
    def _request(self, method: str, path: str, *, raw: bool = False, **kwargs: Any) -> Any:
        endpoint = f"{method} {path}"
        try:
            response = send(self._http, method, path, policy=self.retry, **kwargs)
        except httpx.TransportError as exc:
            maybe_sent = getattr(exc, "request_maybe_sent", True)
            raise PlutoError(f"Pluto is not reachable at {self.base_url}.", endpoint=endpoint,
                             hint="Is it running? Try again in a minute.",
                             outcome_unknown=maybe_sent and method != "GET") from exc
        if response.status_code >= 400:
            raise self._error(response, endpoint, method)
        if raw:
            return response.content
        try:
            return response.json()
        except ValueError:
            raise PlutoError("Pluto sent an answer that is not JSON.", status=response.status_code,
                             endpoint=endpoint) from None

    @staticmethod
    def _error(response: httpx.Response, endpoint: str, method: str) -> PlutoError:
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
        return PlutoError(message, status=status, endpoint=endpoint, hint=hint,
                          outcome_unknown=status >= 500 and method != "GET")

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
        return PreBrief.from_api(self._request("GET", f"/pluto/candidates/{candidate_id}/prebrief"))

    def generate_prebrief(self, room_name: str, job_description: str, resume: str,
                          company_context: str | None = None) -> PreBrief:
        body = {"job_description": job_description, "resume": resume, "company_context": company_context}
        return PreBrief.from_api(self._request("POST", f"/prebrief/{room_name}", json=body))

    def start_interview(self, candidate_id: str, interviewer_name: str, use_prebrief: bool = True) -> dict[str, Any]:
        return self._request("POST", f"/pluto/candidates/{candidate_id}/interview",
                             json={"interviewer_name": interviewer_name, "use_prebrief": use_prebrief})

    def create_room(self, interviewer_name: str, candidate_name: str | None = None) -> dict[str, Any]:
        return self._request("POST", "/rooms", json={"interviewer_name": interviewer_name,
                                                     "candidate_name": candidate_name})

    def join_room(self, room_name: str, participant_name: str, participant_type: str = "interviewer") -> dict[str, Any]:
        return self._request("POST", f"/rooms/{room_name}/join",
                             json={"participant_name": participant_name, "participant_type": participant_type})

    def realtime_session(self, candidate_name: str, role: str, resume: str = "",
                         job_description: str = "") -> dict[str, Any]:
        return self._request("POST", "/realtime/session", json={"candidate_name": candidate_name, "role": role,
                                                                "resume": resume, "job_description": job_description})

    def analytics(self, room_name: str, transcript: str, job_description: str | None = None,
                  resume: str | None = None) -> dict[str, Any]:
        return self._request("POST", f"/analytics/{room_name}", json={"transcript": transcript,
                                                                     "job_description": job_description,
                                                                     "resume": resume})

    def save_analytics(self, candidate_id: str, interview_id: str, analytics: dict[str, Any]) -> dict[str, Any]:
        return self._request("POST", f"/pluto/candidates/{candidate_id}/analytics",
                             json={"interview_id": interview_id, "analytics": analytics})

    def intake_link(self, candidate_id: str) -> dict[str, Any]:
        return self._request("POST", f"/pluto/candidates/{candidate_id}/intake-link")

    def validate_intake(self, candidate_id: str, token: str) -> dict[str, Any]:
        return self._request("GET", f"/intake/{candidate_id}/validate", params={"token": token})

    def livekit_token(self, candidate_id: str) -> dict[str, Any]:
        return self._request("POST", "/livekit/token", json={"candidate_id": candidate_id})

    def chat(self, room_name: str, message: str, context: str | None = None,
             history: list[dict[str, str]] | None = None) -> str:
        data = self._request("POST", f"/rooms/{room_name}/chat",
                             json={"message": message, "context": context, "history": history or []})
        return str(data.get("response", ""))
