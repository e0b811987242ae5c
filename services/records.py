"""The domain's typed records: what services return and what the Block Kit builders take.

Rows never leave a service as dicts. Each record that travels in a button value encodes and
parses itself (``to_value()`` / ``parse()``), so no caller splits ``"a|b|c"`` by hand; a value
that does not parse (an old or forged button) is a :class:`~services.errors.NotFoundHere`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from services.errors import NotFoundHere
from services.intake import IntakeReport
from services.nimrobo import Project, VoiceLink
from services.pluto import Candidate, ProgressSnapshot
from services.voice.forms import LabelFile

SEP = "|"  # between the parts of a button value, for every feature (handlers/clicks.py, bot/blocks)
STALE = "That button belongs to an older message; run the command again."


def _row_values(cls: type, row: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in row.items() if k in names}


# -- button values -----------------------------------------------------------------------------
@dataclass(frozen=True)
class CandidateRef:
    """One candidate of one scoring run (the value of every candidate button)."""

    run_id: str
    candidate_id: str

    def to_value(self) -> str:
        return f"{self.run_id}{SEP}{self.candidate_id}"

    @classmethod
    def parse(cls, value: str) -> CandidateRef:
        run_id, sep, candidate_id = (value or "").partition(SEP)
        if not sep or not run_id or not candidate_id:
            raise NotFoundHere(STALE)
        return cls(run_id, candidate_id)


@dataclass(frozen=True)
class PageRef:
    """Page ``number`` of a paged list identified by ``key`` (a run id, a project query)."""

    key: str
    number: int

    def to_value(self) -> str:
        return f"{self.key}{SEP}{self.number}"

    @classmethod
    def parse(cls, value: str) -> PageRef:
        key, sep, number = (value or "").rpartition(SEP)
        if not sep or not number.isdigit():
            raise NotFoundHere(STALE)
        return cls(key, int(number))


@dataclass(frozen=True)
class LinkRef:
    """A project link (the value of a Cancel button)."""

    project_id: str
    link_id: str

    def to_value(self) -> str:
        return f"{self.project_id}{SEP}{self.link_id}"

    @classmethod
    def parse(cls, value: str) -> LinkRef:
        project_id, sep, link_id = (value or "").partition(SEP)
        if not sep or not link_id:
            raise NotFoundHere(STALE)
        return cls(project_id, link_id)


@dataclass(frozen=True)
class SessionRef:
    """Where a voice session lives: what Nimrobo needs to read it. ``label`` is the participant's."""

    kind: str  # project | instant
    project_id: str | None
    session_id: str
    label: str = field(default="", compare=False)

    @property
    def instant(self) -> bool:
        return self.kind == "instant"

    def to_value(self) -> str:
        return SEP.join((self.kind, self.project_id or "", self.session_id))

    @classmethod
    def parse(cls, value: str) -> SessionRef:
        parts = (value or "").split(SEP)
        if len(parts) != 3 or parts[0] not in ("project", "instant") or not parts[2]:
            raise NotFoundHere(STALE)
        return cls(parts[0], parts[1] or None, parts[2])


# -- scoring -------------------------------------------------------------------------------------
@dataclass
class Intake:
    """A checked candidate file, normalised on disk and ready to queue."""

    id: str
    report: IntakeReport
    csv_path: Path
    filename: str


@dataclass
class ScoringRun:
    """One scoring run, from the queue to the shortlist (table ``scoring_runs``).

    States: ``queued`` → ``uploading`` → ``running`` → ``complete`` | ``failed`` | ``stalled``;
    a failed or stalled run goes back to ``queued`` on Retry; a ``queued`` run can be ``cancelled``
    (by ``cancelled_by``), which is final.
    """

    id: str
    channel: str
    thread_ts: str
    user: str
    filename: str
    state: str
    top_n: int = 10
    job_description: str = ""
    progress_ts: str | None = None
    error: str | None = None
    intake_id: str | None = None
    base_url: str = ""
    csv_path: str = ""
    seq: int = 0
    total: int | None = None
    fingerprint: str | None = None
    last_change_at: float | None = None
    last_render_at: float | None = None
    created_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    cancelled_by: str | None = None
    redacted_at: float | None = None  # a person was erased from the results: Pluto's copy is not used
    results: list[dict[str, Any]] = field(default_factory=list, repr=False)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ScoringRun:
        values = _row_values(cls, row)
        values["results"] = row.get("results_json") or []
        values["top_n"] = row.get("top_n") or 10
        values["job_description"] = row.get("job_description") or ""
        return cls(**values)

    @property
    def candidates(self) -> list[Candidate]:
        """The ranked candidates (empty until the run is complete)."""
        return [Candidate.from_api(c) for c in self.results]

    @property
    def export_name(self) -> str:
        stem = self.filename.rsplit(".", 1)[0] or "candidates"
        return f"{stem}-ranked.csv"


@dataclass
class RunUpdate:
    """What changed in a run during one tick, for the Slack layer to show."""

    run: ScoringRun
    kind: str  # queued | progress | complete | failed | stalled
    snapshot: ProgressSnapshot | None = None
    position: int = 0
    candidates: list[Candidate] = field(default_factory=list)


# -- voice links ---------------------------------------------------------------------------------
@dataclass
class VoiceBatch:
    """One /voicelink create submission (table ``voice_batches``)."""

    id: str
    pattern: str  # interview | research | instant
    project_name: str
    channel: str
    creator: str
    expiry_preset: str
    labels: list[str]
    request: dict[str, Any]
    state: str  # review | creating | created | partial | failed | interrupted (a shutdown; resumed by the leader)
    project_id: str | None = None
    thread_ts: str | None = None
    card_ts: str | None = None
    error: str | None = None
    created_at: float | None = None
    updated_at: float | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> VoiceBatch:
        values = _row_values(cls, row)
        values["labels"] = row.get("labels_json") or []
        values["request"] = row.get("request_json") or {}
        return cls(**values)

    def to_row(self) -> dict[str, Any]:
        row = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("labels", "request")}
        return {**row, "labels_json": self.labels, "request_json": self.request}


@dataclass
class VoiceLinkRow:
    """A link the bot created, as it keeps it (table ``voice_links``; never the URL or token)."""

    id: str
    batch_id: str
    kind: str  # project | instant
    label: str
    status: str
    channel: str
    creator: str
    project_id: str | None = None
    session_id: str | None = None
    expires_at: str | None = None
    thread_ts: str | None = None
    created_at: float | None = None
    updated_at: float | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> VoiceLinkRow:
        return cls(**_row_values(cls, row))


@dataclass
class ChannelProject:
    """A channel's default voice project (``/voicelink use``), table ``channel_projects``."""

    channel: str
    project_id: str
    project_name: str
    set_by: str
    set_at: float | None = None


@dataclass
class FieldDiff:
    """One field of a project as it is and as the form has it (a section, the evaluator, ...)."""

    title: str
    old: str
    new: str

    @property
    def changed(self) -> bool:
        return self.old.strip() != self.new.strip()


@dataclass
class ProjectChoice:
    """An interview form named a role whose project exists: which project, and what updating it changes."""

    project: Project
    link_count: int
    diff: list[FieldDiff] = field(default_factory=list)  # Goal, Role, Guidelines, Constraints, Evaluator, ...

    @property
    def same(self) -> bool:
        return not any(d.changed for d in self.diff)


@dataclass
class BatchReview:
    """A create form waiting for its creator: the file's report and/or the existing project's choice."""

    batch: VoiceBatch
    file: LabelFile | None = None
    existing: ProjectChoice | None = None

    @property
    def problem(self) -> str:
        """Why nothing can be created (e.g. too many names), or ""."""
        return self.file.problem if self.file else ""

    @property
    def needs_answer(self) -> bool:
        """Whether to ask before creating: a choice to make, or names the file left out."""
        return bool(self.existing or self.problem or (self.file and self.file.left_out))


@dataclass
class CardLine:
    """One line of a batch's channel card."""

    label: str
    status: str
    session_id: str | None = None
    expires_at: str | None = None


@dataclass
class BatchResult:
    batch: VoiceBatch
    links: list[VoiceLink] = field(default_factory=list)  # with URLs, for the creator only
    error: Exception | None = None


# -- sessions and the watcher ------------------------------------------------------------------
@dataclass
class Target:
    """One (session, channel) the bot should report to."""

    session_id: str
    channel: str
    thread_ts: str | None
    kind: str  # project | instant
    project_id: str | None
    label: str
    link_id: str | None = None
    owner: str = ""  # whose Nimrobo key reads it: the link's creator, or who watched or subscribed

    @property
    def ref(self) -> SessionRef:
        return SessionRef(self.kind, self.project_id, self.session_id, self.label)


@dataclass
class Notification:
    """A finished interview, ready to post to one channel."""

    session_id: str
    channel: str
    thread_ts: str | None
    kind: str
    project_id: str | None
    label: str
    status: str  # completed | failed
    summary: Any = None
    summary_pending: bool = False  # still generating when the wait ran out
    evaluation: Any = None  # evaluationResults, or None
    evaluation_note: str = ""  # why there is no evaluation: "none" | "pending" | "error" | ""
    questions: dict[str, str] = field(default_factory=dict)  # evaluator question id -> label
    project_name: str = ""
    completed_at: str | None = None
    created_at: str | None = None


@dataclass
class Subscription:
    project_id: str
    channel: str
    created_by: str


@dataclass
class Watch:
    session_id: str
    channel: str
    requested_by: str
    label: str = ""


@dataclass
class ChannelFollows:
    """What a channel gets posted: subscribed projects, watched sessions, and links created there."""

    subscriptions: list[Subscription]
    watches: list[Watch]
    links_here: int


@dataclass
class WatchOutcome:
    ref: SessionRef
    state: str  # watching | already_watching | already_posted
