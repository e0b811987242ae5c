"""Scoring runs started from Slack, without Slack: intake → queue → upload → progress → results.

One run, one row (``scoring_runs``), one state machine::

    queued ──upload──▶ uploading ──accepted──▶ running ──Pluto complete──▶ complete
       ▲                  │ 409 busy / the upload never landed   │ Pluto error or idle ──▶ failed
       └──────────────────┘                                      │ no progress for a while ──▶ stalled
    failed | stalled ──Retry──▶ queued (at the back)
    queued ──Cancel──▶ cancelled (final)

* Pluto runs one pipeline per server, so runs queue per base URL in arrival order (``seq``).
  A run uploads only when no other run of that server is ``uploading`` or ``running``
  (checked and claimed in one transaction), so two uploads never overlap.
* Several workspaces: each workspace's runs are in its own store, so a run also needs its server's
  turn, shared by every workspace (services/server_queue.py): workspaces on one server take turns
  fairly (the one that waited longest goes next), positions count the runs ahead in every workspace
  (a number only), and workspaces on different servers never wait for each other.
* An upload whose answer was lost is never re-sent blindly: ``/pluto/status`` decides. If the
  server is busy the upload landed and the run is ``running``; if it is idle, nothing landed
  and the run goes back to ``queued``. After a restart, runs caught ``uploading`` are
  reconciled the same way on the first tick; ``queued`` runs keep their order.
* At ``waiting_confirmation`` the run confirms scoring itself.
* A run can be cancelled only while it is ``queued``: not yet sent to Pluto, whether it waits
  behind others or is next. Pluto has no cancel call, so a run it has (``uploading``,
  ``running``) can't be stopped; :meth:`ScoringService.cancel` says so. The change is a
  compare-and-set on the state, so a cancel and the upload that would start the run never both win.

:meth:`ScoringService.tick` is the plain function the scheduler calls. It returns
:class:`~services.records.RunUpdate` records that the Slack layer renders.
"""

from __future__ import annotations

import difflib
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from config import Settings
from services import metrics
from services.access import AccessService
from services.errors import Ambiguous, NotAllowed, NotFoundHere, Refusal
from services.intake import IntakeReport, download_slack_file, inspect_csv, run_intake
from services.lifecycle import removed_note
from services.matching import match_one, unquote
from services.pluto import (
    RUNNING,
    Candidate,
    PlutoClient,
    PlutoError,
    PreBrief,
    ProgressSnapshot,
    Question,
    on_server,
)
from services.privacy import escape_csv_bytes, write_csv
from services.records import CandidateRef, Intake, RunUpdate, ScoringRun
from services.server_queue import ServerQueue
from services.store import Store, current_workspace, now

TABLE = "scoring_runs"
CHART_WINDOW_SECONDS = 3600.0  # a score chart not queued this long after its run finished is left out
WAITING = ("queued", "uploading", "running")  # holds a place in its server's queue (uploading, running: on it)
ON_SERVER = ("uploading", "running")  # holds its server's turn
EXPORT_COLUMNS = ("rank", "name", "email", "final_score", "ai_score", "algo_score", "tier", "job_title",
                  "current_company", "one_line_summary")
NO_RESULTS = "There is no finished scoring run here yet. Start one with `/pluto score`."
GONE = "That shortlist is no longer available; run `/pluto results` for the latest one."


class ScoringService:
    def __init__(self, store: Store, settings: Settings, client: PlutoClient,
                 access: AccessService | None = None) -> None:
        self.store = store
        self.settings = settings
        self.client = client
        self.access = access
        self._tick_lock = threading.Lock()
        self._recovered: set[str | None] = set()  # the workspaces whose interrupted uploads were reconciled
        self._idle: set[str] = set()  # workspaces with no run waiting whose shared turns and line are settled
        #: each server's turn across workspaces (used inside a workspace; a lone workspace queues as before)
        self.servers = ServerQueue(store, lease_seconds=max(60.0, settings.pluto_stall_seconds))
        #: the bot token that downloads a file shared in Slack (several workspaces: the current one's)
        self.slack_token: Callable[[], str] = lambda: settings.slack_bot_token.reveal()
        #: the current workspace's own Pluto server (several workspaces), None for the environment's
        self.server_here: Callable[[], str | None] = lambda: None

    @property
    def base_url(self) -> str:
        """The Pluto server new runs are queued on: the workspace's own, else ``PLUTO_API_BASE_URL``."""
        return (self.server_here() or self.settings.pluto_api_base_url).rstrip("/")

    @property
    def work_dir(self) -> Path:
        return Path(self.settings.database_path).resolve().parent / "uploads"

    # -- starting ---------------------------------------------------------------------
    def check_file(self, file: dict[str, Any], *, user: str, channel: str) -> Intake:
        """Download a file shared in Slack (its ``files.info`` record) and check it."""
        return self.intake(self._download(file), file.get("name") or "candidates.csv", user=user, channel=channel)

    def inspect_file(self, file: dict[str, Any]) -> IntakeReport:
        """What :meth:`check_file` would find in a shared file (the same download, the same checks), for a
        form to show before it asks for more; nothing is kept. Raises the same ``IntakeError``."""
        return inspect_csv(self._download(file), file.get("name") or "candidates.csv")[0]

    def _download(self, file: dict[str, Any]) -> bytes:
        settings = self.settings
        return download_slack_file(file, token=self.slack_token(),
                                   slack_api_url=settings.slack_api_url, max_bytes=settings.max_csv_bytes)

    def intake(self, data: bytes, filename: str, *, user: str, channel: str) -> Intake:
        result = run_intake(self.store, data, filename, work_dir=self.work_dir,
                            source={"user": user, "channel": channel, "source": "slack"})
        return Intake(result.id, result.report, result.csv_path, filename)

    def enqueue(self, intake: Intake, *, channel: str, thread_ts: str, user: str, job_description: str = "",
                top_n: int = 10) -> ScoringRun:
        run_id = uuid.uuid4().hex[:12]
        with self.store.transaction():
            self.store.insert(TABLE, {
                "id": run_id, "seq": self._next_seq(), "base_url": self.base_url, "csv_path": str(intake.csv_path),
                "intake_id": intake.id, "channel": channel, "thread_ts": thread_ts, "progress_ts": None,
                "user": user, "filename": intake.filename, "job_description": job_description, "top_n": top_n,
                "state": "queued", "error": None, "total": None, "fingerprint": None, "last_change_at": now(),
                "last_render_at": 0.0, "results_json": None, "created_at": now(), "started_at": None,
                "finished_at": None})
        self._line_up()
        return self.run(run_id)

    def set_progress_message(self, run_id: str, ts: str) -> None:
        self.store.update(TABLE, run_id, {"progress_ts": ts})

    def mark_rendered(self, run_id: str) -> None:
        self.store.update(TABLE, run_id, {"last_render_at": now()})

    def retry(self, run_id: str) -> ScoringRun:
        """Put a failed or stalled run at the back of its queue again (a waiting run stays as it is)."""
        run = self.run(run_id)
        if run.state in WAITING or run.state in ("complete", "cancelled"):
            return run
        with self.store.transaction():
            self._set(run_id, state="queued", seq=self._next_seq(), error=None, fingerprint=None,
                      last_change_at=now(), started_at=None, finished_at=None)
        self._line_up()
        return self.run(run_id)

    def cancel(self, run_id: str, user: str) -> ScoringRun:
        """Take a run out of the queue before Pluto has it: ``queued`` → ``cancelled``, for ``user``.

        :class:`NotAllowed` says why not, as :meth:`cancellable` does. The change is a compare-and-set on
        the state, so the upload that would start the run and the cancel never both win.
        """
        self.cancellable(self.run(run_id), user)
        cancelled = self.store.update_where(TABLE, {"state": "cancelled", "cancelled_by": user, "finished_at": now(),
                                                    "fingerprint": None, "last_change_at": now()},
                                            "id = ? and state = 'queued'", [run_id])
        if cancelled:
            self._line_up()
        run = self.run(run_id)
        return run if cancelled else self.cancellable(run, user)

    def cancellable(self, run: ScoringRun, user: str) -> ScoringRun:
        """``run`` when ``user`` may cancel it now; else :class:`NotAllowed` says why.

        Who: the person who started it, members of its channel and admins (the run's access rules,
        services/access.py). When: only while it is ``queued``; Pluto has no cancel call, so a run it
        has can't be stopped.
        """
        if self.access is not None and not self.access.may_see_run(user, run.id).allowed:
            raise NotAllowed("Only the person who started this run, a member of its channel or an admin can "
                             "cancel it.")
        if run.state == "queued":
            return run
        if run.state in ("uploading", "running"):
            raise NotAllowed(f"*{run.filename}* is already with Pluto, and Pluto has no way to stop a run once it "
                             "has started, so it can't be cancelled now. Its shortlist will be posted in its thread "
                             "when it finishes.")
        if run.state == "cancelled":
            raise NotAllowed(f"*{run.filename}* was already cancelled.")
        raise NotAllowed(f"*{run.filename}* is no longer waiting (it is {run.state}), so there is nothing to cancel.")

    def waiting_run(self, query: str, channel: str) -> ScoringRun:
        """The unfinished run of ``channel`` that ``query`` names (its id, or its file name by the one
        matching rule); with no query, the channel's only one. Several raise :class:`Ambiguous`."""
        runs = self.waiting(channel)
        if not runs:
            raise NotFoundHere("No scoring run is waiting or running in this channel.",
                               hint="`/pluto status` shows every run and the queue.")
        if not unquote(query) and len(runs) == 1:
            return runs[0]
        if not unquote(query):
            raise Ambiguous("run", "", [(_describe(run, self.position(run)), run.id) for run in runs],
                            hint="Name the file: `/pluto cancel <file>`.")
        return match_one(runs, query, ident=lambda run: run.id, name=lambda run: run.filename, what="run",
                         missing=f"No scoring run of a file like “{unquote(query)}” is waiting in this channel.",
                         hint="`/pluto status` shows every run and the queue.",
                         describe=lambda run: _describe(run, self.position(run)))

    def waiting(self, channel: str | None = None) -> list[ScoringRun]:
        """Runs not finished yet (queued, uploading, running), in queue order; only ``channel``'s when given."""
        where, params = "state in ('queued', 'uploading', 'running')", []
        if channel:
            where += " and channel = ?"
            params.append(channel)
        return [ScoringRun.from_row(r) for r in self.store.rows(TABLE, where, params, order_by="seq")]

    # -- reading ------------------------------------------------------------------------
    def get(self, run_id: str) -> ScoringRun | None:
        row = self.store.get(TABLE, run_id)
        return ScoringRun.from_row(row) if row else None

    def run(self, run_id: str) -> ScoringRun:
        run = self.get(run_id)
        if run is None:
            raise NotFoundHere(removed_note(self.store, run_id) or GONE)
        return run

    def list_runs(self, where: str | None = None, params: list[Any] | None = None,
                  limit: int | None = 200) -> list[ScoringRun]:
        """Runs matching ``where`` (columns of the run), newest first. Callers check access on each."""
        rows = self.store.rows(TABLE, where, params or [], order_by="created_at desc", limit=limit)
        return [ScoringRun.from_row(r) for r in rows]

    def run_at(self, thread_ts: str) -> ScoringRun | None:
        """The run whose thread starts at ``thread_ts`` (a permalink to the run names it)."""
        rows = self.store.rows(TABLE, "thread_ts = ? or progress_ts = ?", [thread_ts, thread_ts], limit=1)
        return ScoringRun.from_row(rows[0]) if rows else None

    def position(self, run: ScoringRun) -> int:
        """Runs ahead of this one on the same server (0: running, or next). With several workspaces the
        other workspaces' runs that go first count too (services/server_queue.py), as a number only."""
        if run.state != "queued":
            return 0
        workspace = current_workspace()
        if workspace is None:
            return self.store.count(TABLE, "base_url = ? and state in ('queued', 'uploading', 'running') and seq < ?",
                                    [run.base_url, run.seq])
        counts = self.store.execute(f"select count(*) as here, coalesce(sum(case when state = 'queued' then 1 else 0 "
                                    f"end), 0) as mine from {TABLE} where base_url = ? and state in ('queued', "
                                    "'uploading', 'running') and seq < ?", [run.base_url, run.seq])[0]
        return int(counts["here"]) + self.servers.ahead(run.base_url, workspace, int(counts["mine"]))

    def latest(self, channel: str | None = None, state: str = "complete") -> ScoringRun | None:
        where, params = "state = ?", [state]
        if channel:
            where += " and channel = ?"
            params.append(channel)
        rows = self.store.rows(TABLE, where, params, order_by="created_at desc", limit=1)
        return ScoringRun.from_row(rows[0]) if rows else None

    def visible(self, user: str, channel: str | None = None) -> Iterator[ScoringRun]:
        """Finished runs ``user`` may see (services/access.py), ``channel``'s first, newest first."""
        if self.access is None:  # no access rules wired (unit tests of this service alone): every run
            rows = self.store.rows(TABLE, "state = 'complete'", order_by="created_at desc", limit=200)
            ids = [r["id"] for r in rows if r.get("channel") == channel] + \
                [r["id"] for r in rows if r.get("channel") != channel]
        else:
            ids = list(self.access.visible_runs(user, channel=channel))
        for run_id in ids:
            run = self.get(run_id)
            if run is not None:
                yield run

    def latest_for(self, channel: str, user: str) -> ScoringRun:
        """This channel's latest finished run, else the latest anywhere, of those ``user`` may see. Someone
        who may see none is told there is none, exactly as where there is none."""
        run = next(self.visible(user, channel), None)
        if run is None:
            raise NotFoundHere(NO_RESULTS)
        return run

    def find_visible(self, query: str, *, user: str, channel: str, runs: int = 20
                     ) -> tuple[ScoringRun | None, list[Candidate]]:
        """Candidates matching ``query`` (see :meth:`find`) in the newest run ``user`` may see that has any
        (``channel``'s first; at most ``runs`` looked at): (that run, matches), or (None, []) for no match,
        the same whether the name exists in a run they may not see or nowhere."""
        for i, run in enumerate(self.visible(user, channel)):
            if i >= runs:
                break
            matches = self.find(run, query)
            if matches:
                return run, matches
        return None, []

    def undelivered(self, chart_window: float = CHART_WINDOW_SECONDS) -> list[ScoringRun]:
        """Complete runs whose results (shortlist, then export; and for a run finished within
        ``chart_window`` seconds, its score chart) are not yet in the outbox. A chart is worth posting
        only with its shortlist, so an older run (one from before charts, say) never gets one late."""
        queued = "select 1 from outbox p where p.key = {key} || scoring_runs.id"
        rows = self.store.rows(
            TABLE, f"state = 'complete' and (not exists ({queued.format(key=repr('pluto_export:'))}) or "
                   f"(finished_at > ? and not exists ({queued.format(key=repr('pluto_score_chart:'))})))",
            [now() - chart_window], order_by="finished_at")
        return [ScoringRun.from_row(r) for r in rows]

    def active_runs(self) -> list[tuple[ScoringRun, int]]:
        runs = [ScoringRun.from_row(r) for r in self.store.rows(TABLE, "state in ('queued', 'uploading', 'running')",
                                                                  order_by="seq")]
        return [(run, self.position(run)) for run in runs]

    def active_runs_for(self, user: str) -> tuple[list[tuple[ScoringRun, int]], int]:
        """(the runs in progress ``user`` may see with their queue positions, how many others there are)."""
        active = self.active_runs()
        if self.access is None:
            return active, 0
        shown = [(run, pos) for run, pos in active if self.access.may_see_run(user, run.id).allowed]
        return shown, len(active) - len(shown)

    def find(self, run: ScoringRun, query: str) -> list[Candidate]:
        """An exact id, else names containing the query, else close fuzzy matches (best first)."""
        pool = run.candidates
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

    def export_csv(self, run: ScoringRun, *, masked: bool = False) -> bytes:
        """Pluto's own export when it has this run, else one built from the results; cells escaped.

        ``masked``: emails, phones and addresses masked in every cell, for a public conversation.
        """
        latest = self.latest()
        if latest is not None and latest.id == run.id and not run.redacted_at:
            try:
                exported = self.client.results_csv()
            except PlutoError:
                exported = None
            # Pluto exports the server's latest run: another workspace's (or another bot's) when the server
            # scored something for them since; only this run's own candidates are shared.
            if exported is not None and _names_in_csv(exported) == sorted(c.name for c in run.candidates):
                return escape_csv_bytes(exported, masked=masked)
        rows = [[c.rank, c.name, c.email, c.final_score, c.ai_score, c.algo_score, c.tier, c.job_title,
                 c.current_company, c.one_line_summary] for c in run.candidates]
        return escape_csv_bytes(write_csv(EXPORT_COLUMNS, rows), masked=masked) if masked else \
            write_csv(EXPORT_COLUMNS, rows)

    # -- one candidate ----------------------------------------------------------------------
    def allowed_run(self, run_id: str, user: str) -> ScoringRun:
        """The run, for someone who may see it (services/access.py); the same refusal whether or not it exists
        (a run the retention purge removed says so)."""
        note = removed_note(self.store, run_id) if self.get(run_id) is None else None
        if note:
            raise NotFoundHere(note)
        if self.access is not None:
            decision = self.access.may_see_run(user, run_id)
            if not decision.allowed:
                raise NotAllowed(decision.refusal("that shortlist"))
        return self.run(run_id)

    def _stored(self, run: ScoringRun, candidate_id: str) -> Candidate:
        found = next((c for c in run.candidates if c.id == candidate_id), None)
        if found is None:
            raise NotFoundHere("That candidate is not in this shortlist.", hint="Run /pluto results.")
        return found

    def _replaced(self, run: ScoringRun) -> bool:
        """Pluto keeps one run's state: a newer run there means this one's live data is gone."""
        latest = self.latest(run.channel, state="complete")
        newest = self.latest(None, state="complete")
        return bool(newest and newest.id != run.id) or bool(latest and latest.id != run.id)

    def allowed_candidate(self, ref: CandidateRef, *, user: str) -> tuple[ScoringRun, Candidate]:
        """The run and its stored candidate, for someone who may see the run. A candidate id that is not in the
        run's shortlist is "not found" before Pluto is asked: Pluto's candidate ids are the server's, and a
        server may serve other workspaces too, so an id copied from elsewhere must never read their candidate."""
        run = self.allowed_run(ref.run_id, user)
        return run, self._stored(run, ref.candidate_id)

    def candidate_name(self, ref: CandidateRef, *, user: str) -> str:
        return self.allowed_candidate(ref, user=user)[1].name

    def candidate(self, ref: CandidateRef, *, user: str) -> Candidate:
        """Live from Pluto; from the stored results (marked) when a newer run replaced Pluto's state."""
        run, _ = self.allowed_candidate(ref, user=user)
        if run.redacted_at:  # an erasure changed the stored results: they decide, not Pluto's copy
            return self._stored(run, ref.candidate_id)
        try:
            return self.client.candidate(ref.candidate_id)
        except PlutoError as exc:
            if exc.status != 404:
                raise
        stored = self._stored(run, ref.candidate_id)
        stored.raw = {**stored.raw, "_stored_note": "From the stored shortlist: Pluto now holds a newer run, so "
                                                    "live details are unavailable."}
        return stored

    def _live(self, run: ScoringRun, ref: CandidateRef, what: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except PlutoError as exc:
            if exc.status != 404:
                raise
            raise Refusal(f"{what} needs live data, and Pluto now holds a newer run than this shortlist.",
                          hint="Details still work from the stored results; rescore the file for the rest.") from exc

    def questions(self, ref: CandidateRef, *, user: str) -> list[Question]:
        run, stored = self.allowed_candidate(ref, user=user)
        try:
            return self.client.questions(ref.candidate_id)
        except PlutoError as exc:
            kept = (stored.raw.get("interview_questions") if stored else None) or []
            if exc.status != 404 or not kept:
                return self._live(run, ref, "Interview questions", lambda: self.client.questions(ref.candidate_id))
            return [Question(str(q.get("question", q)) if isinstance(q, dict) else str(q),
                             str(q.get("purpose", "")) if isinstance(q, dict) else "") for q in kept]

    def prebrief(self, ref: CandidateRef, *, user: str) -> PreBrief:
        run, _ = self.allowed_candidate(ref, user=user)  # an erased candidate is not in this shortlist any more
        return self._live(run, ref, "The pre-interview brief", lambda: self.client.prebrief(ref.candidate_id))

    # -- driving ------------------------------------------------------------------------
    def tick(self) -> list[RunUpdate]:
        """Advance every waiting run once; return what changed for the Slack layer to show."""
        if not self._tick_lock.acquire(blocking=False):
            return []
        try:
            workspace = current_workspace()
            waiting = "state in ('queued', 'uploading', 'running')"
            rows = self.store.rows(TABLE, waiting, order_by="seq")
            if workspace is not None and (rows or workspace not in self._idle):
                # first: a run on a server that lost the server's turn goes back to the queue, before anything
                # below reads Pluto's state for it (an idle workspace is settled once, not on every tick)
                if self._settle_turns(workspace, rows):
                    rows = self.store.rows(TABLE, waiting, order_by="seq")
            if workspace is not None:
                (self._idle.discard if rows else self._idle.add)(workspace)
            if workspace not in self._recovered:  # first tick after a start: reconcile uploads a restart interrupted
                interrupted = [(row["id"], row.get("base_url")) for row in rows if row["state"] == "uploading"]
                for run_id, server in interrupted:
                    with on_server(server):  # a run talks to the server it was queued on
                        self._reconcile(run_id)
                self._recovered.add(workspace)
                if interrupted:
                    rows = self.store.rows(TABLE, waiting, order_by="seq")
            updates = []
            for row in rows:
                with on_server(row.get("base_url")):  # a run talks to the server it was queued on
                    update = self._tick_run(ScoringRun.from_row(row))
                if update is not None:
                    updates.append(update)
            if workspace is not None and rows:  # give back the turns of runs that ended or went back to the queue
                after = self.store.rows(TABLE, waiting)
                if {(r["id"], r["state"]) for r in after} != {(r["id"], r["state"]) for r in rows}:
                    self._settle_turns(workspace, after)
            return updates
        finally:
            self._tick_lock.release()

    def _settle_turns(self, workspace: str, rows: list[dict[str, Any]]) -> bool:
        """Bring the servers' shared turns and line in step with this workspace's runs (``rows``: its runs
        waiting or on a server): runs on a server hold its turn, turns of runs no longer there go back,
        and the workspace waits in each server's line where it has runs queued.

        A run on a server whose turn another run holds now (its own was reclaimed: the bot was down past
        the lease, or its upload's fate is unknown) goes back to the queue: Pluto keeps one run's state,
        and it may be the other run's, which this one must never read. True when one did."""
        on_server = {row["id"]: row for row in rows if row["state"] in ON_SERVER}
        fresh = set()  # turns renewed lately: not rewritten on every tick
        for turn in self.servers.held_by(workspace):
            if turn.run_id not in on_server:
                self.servers.release(turn.base_url, workspace, turn.run_id)
            elif turn.renewed_at >= now() - self.servers.refresh_seconds:
                fresh.add(turn.run_id)
        requeued = False
        for row in on_server.values():
            if row["id"] not in fresh and not self.servers.hold(row["base_url"], workspace, row["id"]):
                requeued |= bool(self.store.update_where(
                    TABLE, {"state": "queued", "started_at": None, "fingerprint": None, "last_change_at": now()},
                    "id = ? and state in ('uploading', 'running')", [row["id"]]))
        self._line_up(self.store.rows(TABLE, "state = 'queued'") if requeued else rows)
        return requeued

    def _line_up(self, rows: list[dict[str, Any]] | None = None) -> None:
        """This workspace waits in each server's line where it has runs queued (none: it leaves)."""
        workspace = current_workspace()
        if workspace is None:
            return
        if rows is None:
            rows = self.store.rows(TABLE, "state = 'queued'")
        queued: dict[str, int] = {}
        for row in rows:
            if row["state"] == "queued":
                queued[row["base_url"]] = queued.get(row["base_url"], 0) + 1
        self.servers.line_up(workspace, queued)

    def _tick_run(self, run: ScoringRun) -> RunUpdate | None:
        if run.state == "queued":
            run = self._start(run)
            if run.state == "failed":
                return RunUpdate(run, "failed")
            if run.state == "queued":
                return self._changed(run, "queued", None, self.position(run))
        if run.state == "running":
            return self._poll(run)
        return None  # uploading: its answer is outstanding or being reconciled

    def _start(self, run: ScoringRun) -> ScoringRun:
        """Upload ``run`` if it is next on its server and the server is free; the run in its new state.

        Several workspaces: the run must also take its server's turn, shared by every workspace
        (services/server_queue.py); it gets it when no run of any workspace is on the server and its
        workspace has waited longest."""
        workspace = current_workspace()
        with self.store.transaction():
            ahead = self.store.count(TABLE, "base_url = ? and id != ? and (state in ('uploading', 'running') "
                                            "or (state = 'queued' and seq < ?))", [run.base_url, run.id, run.seq])
            if ahead:
                return run
            if workspace is None and not self._claim(run):
                return self.run(run.id)
        if workspace is not None:
            others = self.store.count(TABLE, "base_url = ? and id != ? and state = 'queued'", [run.base_url, run.id])
            if not self.servers.take(run.base_url, workspace, run.id, queued_after=others):
                return run
            if not self._claim(run):  # cancelled meanwhile: the turn goes back at once
                self.servers.release(run.base_url, workspace, run.id)
                return self.run(run.id)
        try:
            result = self.client.upload(run.csv_path, run.filename, run.job_description or None)
        except PlutoError as exc:
            if exc.busy:  # the server runs something we did not send: wait our turn
                self._set(run.id, state="queued", started_at=None)
            elif exc.outcome_unknown:
                self._reconcile(run.id)
            else:
                return self._fail(run, exc.user_message).run
            return self.run(run.id)
        self._set(run.id, state="running", total=result.total_candidates)
        return self.run(run.id)

    def _claim(self, run: ScoringRun) -> bool:
        """queued → uploading, a compare-and-set: a run cancelled since it was read stays cancelled and is
        never sent."""
        return bool(self.store.update_where(TABLE, {"state": "uploading", "started_at": now()},
                                            "id = ? and state = 'queued'", [run.id]))

    def _reconcile(self, run_id: str) -> None:
        """An upload whose answer was lost: Pluto busy means it landed; idle means it did not."""
        try:
            snapshot = self.client.progress()
        except PlutoError:
            return  # still unknown: stay "uploading"; the next start of the bot tries again
        if snapshot.status in RUNNING:
            self._set(run_id, state="running", total=snapshot.total or None)
        else:
            self._set(run_id, state="queued", started_at=None)

    def _poll(self, run: ScoringRun) -> RunUpdate | None:
        try:
            snapshot = self.client.progress()
            if snapshot.status == "waiting_confirmation":
                self._confirm()
        except PlutoError as exc:
            if exc.status is not None and exc.status < 500:
                return self._fail(run, exc.user_message)
            return self._stall_check(run, None)  # Pluto unreachable for now: try again next tick
        if snapshot.total:
            self._set(run.id, total=snapshot.total)
        if snapshot.status == "complete":
            return self._complete(run)
        if snapshot.status == "error":
            return self._fail(run, snapshot.error or "Pluto reported an error.")
        if snapshot.status == "idle":
            return self._fail(run, "Pluto lost the run (it is idle); it may have restarted.")
        return self._changed(run, "progress", snapshot, 0)  # checks for a stall when nothing moved

    def _confirm(self) -> None:
        try:
            self.client.confirm_scoring()
        except PlutoError as exc:
            if exc.status not in (400, 409):  # 409: already scoring; 400: not ready yet
                raise

    def _changed(self, run: ScoringRun, kind: str, snapshot: ProgressSnapshot | None,
                 position: int) -> RunUpdate | None:
        fingerprint = repr((kind, position, snapshot.fingerprint if snapshot else None))
        if fingerprint != run.fingerprint:
            self._set(run.id, fingerprint=fingerprint, last_change_at=now())
            return RunUpdate(self.run(run.id), kind, snapshot, position)
        if kind == "progress":
            return self._stall_check(run, snapshot)
        return None

    def _stall_check(self, run: ScoringRun, snapshot: ProgressSnapshot | None) -> RunUpdate | None:
        stall = self.settings.pluto_stall_seconds
        if now() - (run.last_change_at or now()) < stall:
            return None
        message = f"Pluto has made no progress for {stall / 60:.0f} minute(s); the run looks stuck."
        if stall < 60:
            message = f"Pluto has made no progress for {stall:.0f} seconds; the run looks stuck."
        self._set(run.id, state="stalled", error=message, finished_at=now())
        self._ended(run, "stalled")
        return RunUpdate(self.run(run.id), "stalled", snapshot)

    def _fail(self, run: ScoringRun, message: str) -> RunUpdate:
        self._set(run.id, state="failed", error=message, finished_at=now())
        self._ended(run, "failed")
        return RunUpdate(self.run(run.id), "failed")

    @staticmethod
    def _ended(run: ScoringRun, outcome: str) -> None:
        started = run.started_at
        metrics.scoring_run_finished(outcome, now() - started if started else None)

    def queue_lengths(self) -> dict[str, int]:
        """Runs waiting or running per Pluto server (its host, as a metrics label); with several workspaces,
        every workspace's (from the servers' shared line and turns: asked outside any workspace)."""
        out: dict[str, int] = {metrics.server_label(self.base_url): 0}
        counts = [(row["base_url"], int(row["n"])) for row in self.store.execute(
            f"select base_url, count(*) as n from {TABLE} where state in ('queued', 'uploading', 'running') "
            "group by base_url")]
        if current_workspace() is None:  # a scrape: every workspace's runs, from the shared line and turns
            counts += list(self.servers.lengths().items())
        for base_url, n in counts:
            label = metrics.server_label(base_url or "")
            out[label] = out.get(label, 0) + n
        return out

    def _complete(self, run: ScoringRun) -> RunUpdate:
        try:
            candidates = self.client.results()
        except PlutoError as exc:
            return self._fail(run, exc.user_message)
        self._set(run.id, state="complete", results_json=[c.raw for c in candidates], finished_at=now())
        self._ended(run, "complete")
        return RunUpdate(self.run(run.id), "complete", None, 0, candidates)

    # -- rows -----------------------------------------------------------------------------
    def _set(self, run_id: str, **values: Any) -> None:
        self.store.update(TABLE, run_id, values)

    def _next_seq(self) -> int:
        return (self.store.execute(f"select max(seq) as m from {TABLE}")[0]["m"] or 0) + 1



def _describe(run: ScoringRun, position: int) -> str:
    where = "running" if run.state != "queued" else "next" if position == 0 else f"position {position}"
    return f"{run.filename} · {where}"


def _names_in_csv(data: bytes) -> list[str] | None:
    """The ``name`` column of a CSV export, sorted; None when it has none (or cannot be read)."""
    import csv
    import io

    try:
        rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    except (UnicodeDecodeError, csv.Error):
        return None
    if not rows or "name" not in rows[0]:
        return None
    return sorted((row.get("name") or "").strip() for row in rows)
