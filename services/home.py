"""What a person's App Home shows, without Slack: their runs, boards, voice projects, finished
interviews since they last looked, and what they follow.

Everything here is theirs by the access rules (``services.access``): runs they started, boards
they made, links they created, subscriptions and watches they asked for. It is read from the
bot's own tables only, so the Home tab renders at once, whatever the APIs are doing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.access import AccessService
from services.screening import BoardSummary, ScreeningService
from services.store import Store, now

SEEN_KEY = "home:seen:"
RUN_LIMIT = 20
BOARD_LIMIT = 20
PROJECT_LIMIT = 30
COMPLETED_LIMIT = 50
INSTANT = "Instant links"


@dataclass
class RunSummary:
    id: str
    filename: str
    state: str
    channel: str
    thread_ts: str | None
    created_at: float | None
    candidates: int
    error: str = ""
    board_id: str | None = None


@dataclass
class ProjectSummary:
    key: str  # project id, or "instant"
    name: str
    counts: dict[str, int]  # by link status: active | used | expired | cancelled | ...
    channel: str = ""
    last_at: float = 0.0

    @property
    def active(self) -> bool:
        return bool(self.counts.get("active") or self.counts.get("used"))


@dataclass
class FinishedInterview:
    session_id: str
    label: str
    project: str
    channel: str
    at: float
    status: str  # completed | failed | finished (not known)
    board_id: str | None = None
    evaluation: str = ""  # "Evaluation 80 — Discovery 8 · Red flags: none" for a screened interview


@dataclass
class Follow:
    kind: str  # project | session
    id: str
    channel: str
    label: str = ""


@dataclass
class Dashboard:
    user: str
    runs: list[RunSummary] = field(default_factory=list)
    boards: list[BoardSummary] = field(default_factory=list)
    projects: list[ProjectSummary] = field(default_factory=list)
    finished: list[FinishedInterview] = field(default_factory=list)
    follows: list[Follow] = field(default_factory=list)
    last_seen: float | None = None

    @property
    def empty(self) -> bool:
        return not (self.runs or self.boards or self.projects or self.finished or self.follows)


class HomeService:
    def __init__(self, store: Store, screening: ScreeningService, access: AccessService | None = None) -> None:
        self.store = store
        self.screening = screening
        self.access = access

    def _may_see_run(self, user: str, run_id: str) -> bool:
        """Theirs is not enough: a run (and its board) in a channel they have left is no longer shown."""
        return self.access is None or self.access.may_see_run(user, run_id).allowed

    def _looks(self, user: str) -> dict[str, float | None]:
        looks = self.store.kv_get(SEEN_KEY + user)
        return looks if isinstance(looks, dict) else {"current": None, "previous": None}

    def last_seen(self, user: str) -> float | None:
        """When the person last looked before the look now in progress (None: never)."""
        return self._looks(user).get("previous")

    def has_looked(self, user: str) -> bool:
        return self._looks(user).get("current") is not None

    def mark_seen(self, user: str) -> float | None:
        """The person opened their Home tab now. "Since I last looked" is counted from the look before
        this one until they open it again (paging or a refresh keeps it). Returns that time."""
        looks = self._looks(user)
        self.store.kv_set(SEEN_KEY + user, {"current": now(), "previous": looks.get("current")})
        return looks.get("current")

    def dashboard(self, user: str, since: float | None = None) -> Dashboard:
        """``since``: finished interviews after this time count as new (default: the look before this one)."""
        since = self.last_seen(user) if since is None else since
        boards = [b for b in self.screening.summaries(user, BOARD_LIMIT) if self._may_see_run(user, b.board.run_id)]
        return Dashboard(user, self._runs(user), boards, self._projects(user),
                         self._finished(user, since), self._follows(user), since)

    def _runs(self, user: str) -> list[RunSummary]:
        rows = self.store.rows("scoring_runs", '"user" = ?', [user], order_by="created_at desc", limit=RUN_LIMIT)
        rows = [r for r in rows if self._may_see_run(user, r["id"])]
        boards = {}
        for row in rows:
            board = self.screening.board_for_run(row["id"])
            if board is not None:
                boards[row["id"]] = board.id
        return [RunSummary(r["id"], r.get("filename") or "", r.get("state") or "", r.get("channel") or "",
                           r.get("thread_ts"), r.get("created_at"), len(r.get("results_json") or []),
                           r.get("error") or "", boards.get(r["id"])) for r in rows]

    def _projects(self, user: str) -> list[ProjectSummary]:
        rows = self.store.execute(
            "select v.kind as kind, v.project_id as project_id, v.status as status, count(*) as n, "
            "max(v.created_at) as last_at, max(b.project_name) as name, max(v.channel) as channel "
            "from voice_links v left join voice_batches b on b.id = v.batch_id where v.creator = ? "
            "group by v.kind, v.project_id, v.status", [user])
        projects: dict[str, ProjectSummary] = {}
        for row in rows:
            key = row["project_id"] if row["kind"] == "project" and row["project_id"] else "instant"
            name = (row["name"] or key) if key != "instant" else INSTANT
            summary = projects.setdefault(key, ProjectSummary(key, name, {}, row["channel"] or "", 0.0))
            summary.counts[row["status"] or "unknown"] = summary.counts.get(row["status"] or "unknown", 0) + row["n"]
            summary.last_at = max(summary.last_at, row["last_at"] or 0.0)
        ordered = sorted(projects.values(), key=lambda p: (not p.active, -p.last_at))
        return ordered[:PROJECT_LIMIT]

    def _finished(self, user: str, since: float | None) -> list[FinishedInterview]:
        rows = self.store.execute(
            "select n.session_id as session_id, max(n.posted_at) as at, max(v.label) as label, "
            "max(v.channel) as channel, max(b.project_name) as project from session_notifications n "
            "join voice_links v on v.session_id = n.session_id left join voice_batches b on b.id = v.batch_id "
            "where v.creator = ? and n.state = ? and n.posted_at > ? group by n.session_id "
            "order by max(n.posted_at) desc limit ?", [user, "posted", since or 0.0, COMPLETED_LIMIT])
        out = []
        for row in rows:
            screened = self.store.rows("screening_links", "session_id = ?", [row["session_id"]], limit=1)
            if screened and not self._may_see_run(user, screened[0]["run_id"]):
                screened = []  # the interview is theirs; the run's scores and evaluation are not shown
            if screened and screened[0].get("outcome"):
                status = screened[0]["outcome"]
            else:  # the watcher remembers when it first saw a session completed; failed ones are not noted
                status = "completed" if self.store.kv_get("watcher:finished:" + row["session_id"]) else "finished"
            out.append(FinishedInterview(row["session_id"], row["label"] or "", row["project"] or "",
                                         row["channel"] or "", row["at"] or 0.0, status,
                                         screened[0]["board_id"] if screened else None,
                                         self._evaluation(screened[0]) if screened else ""))
        return out

    def _evaluation(self, link: dict[str, Any]) -> str:
        """A screened interview's evaluation in one line, from the one reader (services/transcripts.py)."""
        if not link.get("evaluation_json"):
            return ""
        answers, score = self.screening.link_evaluation(link)
        shown = " · ".join(f"{a.label} {a.number:g}" if a.counted and a.number is not None else f"{a.label}: {a.text}"
                           for a in answers[:4])
        head = f"Evaluation {score:g}" if score is not None else "Evaluation"
        return f"{head} — {shown}" if shown else head

    def _follows(self, user: str) -> list[Follow]:
        subs = self.store.rows("project_subscriptions", "created_by = ?", [user], order_by="created_at desc")
        watches = self.store.rows("session_watches", "requested_by = ?", [user], order_by="created_at desc")
        names: dict[str, str] = {}
        for row in self.store.rows("voice_batches", "project_id is not null"):
            names.setdefault(row["project_id"], row.get("project_name") or "")
        return ([Follow("project", s["project_id"], s["channel"], names.get(s["project_id"], "")) for s in subs]
                + [Follow("session", w["session_id"], w["channel"], w.get("label") or "") for w in watches])

