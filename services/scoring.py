"""Scoring runs started from Slack, without Slack: intake → queue → progress → results.

:meth:`ScoringService.tick` is the plain function the scheduler calls. It drives every
active run through the per-server queue and returns :class:`RunUpdate` objects that the
Slack layer renders (progress, queued, complete, failed, stalled). A run that makes no
progress for ``pluto_stall_seconds`` is reported as stalled.
"""

from __future__ import annotations

import difflib
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config import Settings
from services.intake import IntakeReport, run_intake
from services.pluto import Candidate, PlutoClient, PlutoError, ProgressSnapshot
from services.pluto_queue import PlutoQueue
from services.privacy import escape_csv_bytes, write_csv
from services.store import Store, now

TABLE = "scoring_runs"
ACTIVE_STATES = ("queued", "running")
EXPORT_COLUMNS = ("rank", "name", "email", "final_score", "ai_score", "algo_score", "tier", "job_title",
                  "current_company", "one_line_summary")


@dataclass
class RunUpdate:
    run: dict[str, Any]
    kind: str  # queued | progress | complete | failed | stalled
    snapshot: ProgressSnapshot | None = None
    position: int = 0
    candidates: list[Candidate] = field(default_factory=list)


class ScoringService:
    def __init__(self, store: Store, settings: Settings, client_for: Callable[[str], PlutoClient]) -> None:
        self.store = store
        self.settings = settings
        self.client_for = client_for
        self.queue = PlutoQueue(store)
        self._tick_lock = threading.Lock()
        self._recovered = False

    @property
    def base_url(self) -> str:
        return self.settings.pluto_api_base_url.rstrip("/")

    @property
    def work_dir(self) -> Path:
        return Path(self.settings.database_path).resolve().parent / "uploads"

    # -- starting ---------------------------------------------------------------------
    def intake(self, data: bytes, filename: str, *, user: str, channel: str) -> tuple[str, IntakeReport, Path]:
        result = run_intake(self.store, data, filename, work_dir=self.work_dir,
                            source={"user": user, "channel": channel, "source": "slack"})
        return result.id, result.report, result.csv_path

    def enqueue(self, intake_id: str, csv_path: Path, filename: str, *, channel: str, thread_ts: str, user: str,
                job_description: str = "", top_n: int = 10) -> dict[str, Any]:
        queued = self.queue.enqueue(self.base_url, str(csv_path), filename, job_description,
                                    owner={"channel": channel, "thread_ts": thread_ts})
        run = {"id": uuid.uuid4().hex[:12], "queue_id": queued.id, "intake_id": intake_id, "channel": channel,
               "thread_ts": thread_ts, "progress_ts": None, "user": user, "filename": filename,
               "job_description": job_description, "top_n": top_n, "state": "queued", "error": None,
               "fingerprint": None, "last_change_at": now(), "last_render_at": 0.0, "results_json": None,
               "export_file_id": None, "created_at": now(), "finished_at": None}
        self.store.insert(TABLE, run)
        return run

    def position(self, run: dict[str, Any]) -> int:
        return self.queue.get(run["queue_id"]).position

    def set_progress_message(self, run_id: str, ts: str) -> None:
        self.store.update(TABLE, run_id, {"progress_ts": ts})

    def mark_rendered(self, run_id: str) -> None:
        self.store.update(TABLE, run_id, {"last_render_at": now()})

    def get(self, run_id: str) -> dict[str, Any] | None:
        return self.store.get(TABLE, run_id)

    def retry(self, run_id: str) -> dict[str, Any]:
        run = self.store.get(TABLE, run_id)
        if run is None:
            raise KeyError(run_id)
        if run["state"] in ACTIVE_STATES:
            return run
        self.queue.requeue(run["queue_id"])
        self.store.update(TABLE, run_id, {"state": "queued", "error": None, "last_change_at": now(),
                                          "fingerprint": None, "finished_at": None})
        return self.store.get(TABLE, run_id)

    # -- driving ------------------------------------------------------------------------
    def tick(self) -> list[RunUpdate]:
        """Advance every active run once; return what changed for the Slack layer to show."""
        if not self._tick_lock.acquire(blocking=False):
            return []
        try:
            if not self._recovered:  # first tick after a start: reconcile uploads a restart interrupted
                self.queue.recover(self.client_for)
                self._recovered = True
            updates = []
            for run in self.store.rows(TABLE, "state in ('queued', 'running')", order_by="created_at"):
                update = self._tick_run(run)
                if update is not None:
                    updates.append(update)
            return updates
        finally:
            self._tick_lock.release()

    def _tick_run(self, run: dict[str, Any]) -> RunUpdate | None:
        client = self.client_for(self.base_url)
        queued = self.queue.get(run["queue_id"])
        if queued.state == "queued":
            ready = self.queue.next_ready(self.base_url)
            if ready is not None and ready.id == queued.id:
                try:
                    queued = self.queue.start(queued.id, client)
                except PlutoError as exc:
                    return self._fail(run, exc.user_message)
            if queued.state == "failed":
                return self._fail(run, queued.error or "Pluto refused the file.")
            if queued.state == "queued":
                return self._changed(run, "queued", None, queued.position)
        if queued.state == "uploading":
            return None
        if queued.state in ("done", "running"):
            try:
                snapshot = self.queue.advance(queued.id, client) if queued.state == "running" else client.progress()
            except PlutoError as exc:
                if exc.status is not None and exc.status < 500:
                    return self._fail(run, exc.user_message)
                return self._stall_check(run, None)  # Pluto unreachable for now: try again next tick
            queued = self.queue.get(run["queue_id"])
            if queued.state == "done":
                return self._complete(run, client)
            if queued.state == "failed":
                return self._fail(run, queued.error or "Pluto reported an error.")
            return self._changed(run, "progress", snapshot, 0)  # checks for a stall when nothing moved
        if queued.state in ("failed", "cancelled"):
            return self._fail(run, queued.error or "The run was cancelled.")
        return None

    def _changed(self, run: dict[str, Any], kind: str, snapshot: ProgressSnapshot | None,
                 position: int) -> RunUpdate | None:
        fingerprint = repr((kind, position, snapshot.fingerprint if snapshot else None))
        state = "running" if kind == "progress" else "queued"
        if fingerprint != run["fingerprint"]:
            self.store.update(TABLE, run["id"], {"fingerprint": fingerprint, "last_change_at": now(), "state": state})
            run = {**run, "fingerprint": fingerprint, "state": state}
            return RunUpdate(run, kind, snapshot, position)
        if kind == "progress":
            return self._stall_check(run, snapshot)
        return None

    def _stall_check(self, run: dict[str, Any], snapshot: ProgressSnapshot | None) -> RunUpdate | None:
        if now() - (run["last_change_at"] or now()) < self.settings.pluto_stall_seconds:
            return None
        minutes = self.settings.pluto_stall_seconds / 60
        message = f"Pluto has made no progress for {minutes:.0f} minute(s); the run looks stuck."
        if minutes < 1:
            message = f"Pluto has made no progress for {self.settings.pluto_stall_seconds:.0f} seconds; " \
                      "the run looks stuck."
        self.queue.finish(run["queue_id"], False, message)
        self.store.update(TABLE, run["id"], {"state": "stalled", "error": message, "finished_at": now()})
        return RunUpdate({**run, "state": "stalled", "error": message}, "stalled", snapshot)

    def _fail(self, run: dict[str, Any], message: str) -> RunUpdate:
        self.store.update(TABLE, run["id"], {"state": "failed", "error": message, "finished_at": now()})
        return RunUpdate({**run, "state": "failed", "error": message}, "failed")

    def _complete(self, run: dict[str, Any], client: PlutoClient) -> RunUpdate:
        try:
            candidates = client.results()
        except PlutoError as exc:
            return self._fail(run, exc.user_message)
        self.store.update(TABLE, run["id"], {"state": "complete", "results_json": [c.raw for c in candidates],
                                             "finished_at": now()})
        return RunUpdate({**run, "state": "complete"}, "complete", None, 0, candidates)

    # -- results -------------------------------------------------------------------------
    def latest(self, channel: str | None = None, state: str = "complete") -> dict[str, Any] | None:
        where, params = "state = ?", [state]
        if channel:
            where += " and channel = ?"
            params.append(channel)
        rows = self.store.rows(TABLE, where, params, order_by="created_at desc", limit=1)
        return rows[0] if rows else None

    def undelivered(self) -> list[dict[str, Any]]:
        """Complete runs whose results (shortlist, then export) are not yet confirmed in Slack (outbox)."""
        return self.store.rows(
            TABLE, "state = 'complete' and not exists (select 1 from slack_posts p where "
                   "(p.key = 'pluto_export:' || scoring_runs.id and p.state != 'posting') or "
                   "(p.key = 'pluto_scoring_completed:' || scoring_runs.id and p.state like 'undeliverable%'))",
            order_by="finished_at")

    def active_runs(self) -> list[tuple[dict[str, Any], int]]:
        runs = self.store.rows(TABLE, "state in ('queued', 'running')", order_by="created_at")
        return [(run, self.position(run)) for run in runs]

    @staticmethod
    def candidates(run: dict[str, Any]) -> list[Candidate]:
        return [Candidate.from_api(c) for c in (run.get("results_json") or [])]

    def find(self, run: dict[str, Any], query: str) -> list[Candidate]:
        """An exact id, else names containing the query, else close fuzzy matches (best first)."""
        pool = self.candidates(run)
        query = query.strip()
        exact = [c for c in pool if c.id == query]
        if exact:
            return exact
        lowered = query.lower()
        contains = [c for c in pool if lowered in c.name.lower()]
        if contains:
            return contains
        names = {c.name.lower(): c for c in pool}
        return [names[n] for n in difflib.get_close_matches(lowered, list(names), n=5, cutoff=0.6)]

    def export_csv(self, run: dict[str, Any]) -> bytes:
        """Pluto's own export when it has this run, else one built from the results; cells escaped."""
        latest = self.latest()
        if latest is not None and latest["id"] == run["id"]:
            try:
                return escape_csv_bytes(self.client_for(self.base_url).results_csv())
            except PlutoError:
                pass
        rows = [[c.rank, c.name, c.email, c.final_score, c.ai_score, c.algo_score, c.tier, c.job_title,
                 c.current_company, c.one_line_summary] for c in self.candidates(run)]
        return write_csv(EXPORT_COLUMNS, rows)
