"""The screening board's records, constants and the refusals a recruiter reads (services/screening)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from services.errors import NotAllowed, NotFoundHere, Refusal
from services.nimrobo import VoiceLink
from services.prompts import PromptSections, as_dict
from services.records import VoiceBatch

SORTS = {"pluto": "Pluto score", "evaluation": "Evaluation", "combined": "Combined"}
DEFAULT_SORT = "combined"
DEFAULT_TOP_N = 5
MAX_TOP_N = 25
DECISION_NAMES = {"advance": "Advanced", "reject": "Rejected"}
FORMULA = ("Combined = mean of the Pluto final score (0–100) and the evaluation score (the number answers' "
           "mean on 0–10, × 10). Interviewed candidates come first, by combined score; those not interviewed "
           "yet (†) follow in their own group, by Pluto score, so one signal never outranks two.")
VOICE_STATES = ("invited", "started", "completed", "failed", "expired", "cancelled", "not sent")
DEFAULT_QUESTIONS = ("Relevant experience | number", "Communication | number", "Red flags | text",
                     "Recommendation (advance, hold or reject) | text")
MAX_CRITERIA = 3
EVALUATION_WAIT_SECONDS = 30 * 60  # after this, a missing evaluation is saved without one
SAVING_STUCK_SECONDS = 10 * 60  # a save the process never finished (crash) is reported as unknown
RECOMMENDATIONS = ("advance", "hold", "reject")


# -- errors a recruiter reads --------------------------------------------------------------------
class RunNotReady(NotFoundHere):
    """The run is unknown here or has no ranked candidates yet."""


class LabelsNotInRun(Refusal):
    """Some labels of the form are not candidates of the run; ``problems`` has one line each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("Each label must be a candidate of this run: " + "; ".join(problems),
                         hint="Use the names as prefilled (a repeated name carries its rank, e.g. “Ana Li (#4)”).")


class NoBoardYet(Refusal):
    """A single candidate can only be added to a board that has a voice project."""


class AlreadyScreened(NotAllowed):
    """The candidate has a voice link that is still usable or was used."""


class BoardNotFound(NotFoundHere):
    """A board id (from an old or forged button) the bot does not know."""


class NothingToUndo(Refusal):
    pass


# -- records --------------------------------------------------------------------------------------
@dataclass
class ScreenCandidate:
    """A candidate of the run offered for screening, with the label the link will carry."""

    candidate_id: str
    name: str
    label: str
    rank: int | None
    final_score: float | None
    tier: str


@dataclass
class ScreenPrefill:
    """Everything the create modal needs for "Voice-screen top N"; nothing has been created."""

    run_id: str
    role: str
    role_source: str  # "job description" | "file name"
    sections: PromptSections
    draft_source: str  # "ai" | "template"
    draft_note: str  # why the template was used when AI was configured, else ""
    eval_prompt: str
    eval_questions: list[str]  # "Label | number" lines
    candidates: list[ScreenCandidate]
    profile: str  # the shortlist's common profile
    brief: str  # what the draft was made from: the job description and the profile
    time_limit: int = 10
    expiry: str = "1_week"

    @property
    def labels(self) -> list[str]:
        return [c.label for c in self.candidates]

    def form_values(self) -> dict[str, str]:
        """The create modal's values by field name (``bot.blocks.voice.create_modal``)."""
        return {"name": self.role, "labels": "\n".join(self.labels), "brief": self.brief[:3000],
                **as_dict(self.sections),
                "time_limit": str(self.time_limit), "expiry": self.expiry, "eval_prompt": self.eval_prompt,
                "eval_questions": "\n".join(self.eval_questions)}


@dataclass
class ScreeningBoard:
    id: str
    run_id: str
    channel: str
    thread_ts: str | None
    created_by: str
    project_name: str
    sort: str = DEFAULT_SORT
    page: int = 1
    message_ts: str | None = None
    project_id: str | None = None
    request: dict[str, Any] = field(default_factory=dict, repr=False)
    batch_ids: list[str] = field(default_factory=list)
    created_at: float | None = None
    updated_at: float | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ScreeningBoard:
        return cls(id=row["id"], run_id=row["run_id"], channel=row["channel"], thread_ts=row.get("thread_ts"),
                   created_by=row.get("created_by") or "", project_name=row.get("project_name") or "",
                   sort=row.get("sort") or DEFAULT_SORT, page=int(row.get("page") or 1),
                   message_ts=row.get("message_ts"), project_id=row.get("project_id"),
                   request=row.get("request_json") or {}, batch_ids=list(row.get("batch_ids_json") or []),
                   created_at=row.get("created_at"), updated_at=row.get("updated_at"))

    @property
    def questions(self) -> list[dict[str, str]]:
        evaluator = self.request.get("evaluator") or {}
        return [q for q in evaluator.get("questions") or [] if isinstance(q, dict)]


@dataclass
class Decision:
    decision: str  # advance | reject
    user: str
    at: float


@dataclass
class BoardRow:
    """One candidate on the board: both signals, the voice state and the decision."""

    candidate_id: str
    name: str
    email: str | None
    rank: int | None
    pluto_score: float | None
    tier: str
    voice_state: str
    link_id: str | None
    session_id: str | None
    kind: str  # project | instant
    project_id: str | None
    creator: str
    answers: list[tuple[str, str]]  # (question label, answer as readable text), in the evaluator's order
    numbers: list[tuple[str, float]]  # the number answers
    evaluation_state: str  # "" | pending | ready | error | none | missing
    evaluation_score: float | None  # 0-100
    combined: float | None  # 0-100
    pluto_only: bool  # no evaluation: ranked by the Pluto score alone
    recommendation: str
    summary: str
    decision: Decision | None
    analytics_state: str
    analytics_error: str
    position: int = 0

    @property
    def text_answers(self) -> list[tuple[str, Any]]:
        numbers = {label for label, _ in self.numbers}
        return [(label, value) for label, value in self.answers if label not in numbers]


@dataclass
class BoardView:
    board: ScreeningBoard
    filename: str
    rows: list[BoardRow]  # sorted by ``sort``; ``position`` is 1-based
    sort: str
    formula: str
    number_questions: list[str]
    counts: dict[str, int]  # by voice state, plus advanced / rejected / screened

    @property
    def sort_label(self) -> str:
        return SORTS[self.sort]


@dataclass
class ScreenResult:
    """What a submission made: the board, the batch (as the voice-link service returns it), the links
    with their URLs (for the creator only, privately), and which candidate each link belongs to."""

    board: ScreeningBoard
    batch: VoiceBatch
    links: list[VoiceLink]
    tied: list[tuple[str, str]]  # (label, candidate id)
    error: Exception | None = None
    new_board: bool = False


@dataclass
class AnalyticsOutcome:
    link_id: str
    board_id: str
    candidate_id: str
    candidate_name: str
    state: str  # saved | failed | unknown
    error: str = ""


@dataclass
class ScreeningChange:
    """A board that changed (re-render its message) and, when a save was tried, how it went."""

    board_id: str
    link_id: str
    candidate_name: str
    analytics: AnalyticsOutcome | None = None
    finished_now: bool = False  # the interview's outcome was new (DMs go out once, on this)
    creator: str = ""


@dataclass
class BoardSummary:
    board: ScreeningBoard
    filename: str
    invited: int
    completed: int
    advanced: int


class SessionOutcome(Protocol):
    """What the watcher knows about a finished interview (a :class:`~services.records.Notification`)."""

    session_id: str
    status: str
    summary: Any
    evaluation: Any
    evaluation_note: str
    questions: dict[str, str]
    completed_at: str | None
