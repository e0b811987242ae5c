"""One pipeline per Pluto server: a queue per base URL, persisted in SQLite.

State machine of a run::

    queued ──start()──▶ uploading ──accepted──▶ running ──advance()──▶ done | failed
       ▲                    │ 409 busy / upload never landed
       └────────────────────┘

* ``start`` uploads only when no other run of that base URL is ``uploading`` or
  ``running`` (checked and claimed in one transaction), so two uploads never overlap.
* An upload whose answer was lost is not re-sent blindly: ``/pluto/status`` decides.
  If the server is busy, the upload landed and the run is ``running``; if it is idle,
  nothing landed and the run goes back to ``queued``.
* ``advance`` polls status, confirms scoring at ``waiting_confirmation``, and finishes
  the run at ``complete`` or ``error``.
* Nothing lives only in memory: after a restart, ``queued`` runs keep their order,
  ``running`` ones are polled again, and ``uploading`` ones are reconciled as above.

The queue has no thread of its own; a scheduler job drives it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from services.pluto import RUNNING, PlutoClient, PlutoError, ProgressSnapshot
from services.store import Store, now

ACTIVE = ("uploading", "running")
WAITING = ("queued", "uploading", "running")
TABLE = "pluto_queue"


@dataclass
class QueuedRun:
    id: str
    base_url: str
    state: str
    position: int  # runs ahead of this one on the same server (0 = running or next)
    filename: str
    owner: dict[str, Any]
    error: str | None = None
    total: int | None = None


class PlutoQueue:
    def __init__(self, store: Store) -> None:
        self.store = store

    # -- reading ------------------------------------------------------------------
    def _row(self, run_id: str) -> dict[str, Any]:
        row = self.store.get(TABLE, run_id)
        if row is None:
            raise KeyError(run_id)
        return row

    def _as_run(self, row: dict[str, Any]) -> QueuedRun:
        return QueuedRun(row["id"], row["base_url"], row["state"], self._position(row), row["filename"],
                         row.get("owner_json") or {}, row.get("error"), row.get("total"))

    def _position(self, row: dict[str, Any]) -> int:
        if row["state"] not in WAITING:
            return 0
        if row["state"] in ACTIVE:
            return 0
        return self.store.count(TABLE, "base_url = ? and state in ('queued', 'uploading', 'running') and seq < ?",
                                [row["base_url"], row["seq"]])

    def get(self, run_id: str) -> QueuedRun:
        return self._as_run(self._row(run_id))

    def runs(self, base_url: str, states: tuple[str, ...] = WAITING) -> list[QueuedRun]:
        marks = ",".join("?" for _ in states)
        rows = self.store.rows(TABLE, f"base_url = ? and state in ({marks})", [base_url, *states], order_by="seq")
        return [self._as_run(r) for r in rows]

    def csv_path(self, run_id: str) -> str:
        return self._row(run_id)["csv_path"]

    # -- writing --------------------------------------------------------------------
    def enqueue(self, base_url: str, csv_path: str, filename: str, job_description: str = "",
                owner: dict[str, Any] | None = None) -> QueuedRun:
        run_id = uuid.uuid4().hex
        with self.store.transaction():
            seq = (self.store.execute(f"select max(seq) as m from {TABLE}")[0]["m"] or 0) + 1
            self.store.insert(TABLE, {"id": run_id, "seq": seq, "base_url": base_url.rstrip("/"), "state": "queued",
                                      "csv_path": str(csv_path), "filename": filename,
                                      "job_description": job_description or "", "owner_json": owner or {},
                                      "total": None, "error": None, "created_at": now(), "started_at": None,
                                      "finished_at": None})
        return self.get(run_id)

    def _set(self, run_id: str, **values: Any) -> None:
        self.store.update(TABLE, run_id, values)

    def finish(self, run_id: str, ok: bool, error: str | None = None) -> None:
        self._set(run_id, state="done" if ok else "failed", error=error, finished_at=now())

    def cancel(self, run_id: str) -> None:
        self._set(run_id, state="cancelled", finished_at=now())

    def requeue(self, run_id: str) -> QueuedRun:
        """Put a finished (e.g. failed) run at the back of the queue again."""
        with self.store.transaction():
            seq = (self.store.execute(f"select max(seq) as m from {TABLE}")[0]["m"] or 0) + 1
            self._set(run_id, state="queued", error=None, seq=seq, started_at=None, finished_at=None)
        return self.get(run_id)

    # -- driving -----------------------------------------------------------------------
    def next_ready(self, base_url: str) -> QueuedRun | None:
        """The run to upload next, or None while one is active on that server."""
        runs = self.runs(base_url.rstrip("/"))
        if any(r.state in ACTIVE for r in runs):
            return None
        return runs[0] if runs else None

    def start(self, run_id: str, client: PlutoClient) -> QueuedRun:
        """Upload ``run_id`` if its server is free. Returns the run in its new state."""
        row = self._row(run_id)
        with self.store.transaction():
            busy = self.store.count(TABLE, "base_url = ? and state in ('uploading', 'running') and id != ?",
                                    [row["base_url"], run_id])
            if busy or row["state"] != "queued":
                return self.get(run_id)
            self._set(run_id, state="uploading", started_at=now())
        try:
            result = client.upload(row["csv_path"], row["filename"], row["job_description"] or None)
        except PlutoError as exc:
            if exc.busy:  # the server runs something we did not send: wait our turn
                self._set(run_id, state="queued", started_at=None)
            elif exc.outcome_unknown:
                self._reconcile(run_id, client)
            else:
                self.finish(run_id, False, exc.user_message)
            return self.get(run_id)
        self._set(run_id, state="running", total=result.total_candidates)
        return self.get(run_id)

    def _reconcile(self, run_id: str, client: PlutoClient) -> None:
        try:
            snapshot = client.progress()
        except PlutoError:
            return  # still unknown: stay "uploading"; recover() or the next tick tries again
        if snapshot.status in RUNNING:
            self._set(run_id, state="running", total=snapshot.total or None)
        else:
            self._set(run_id, state="queued", started_at=None)

    def advance(self, run_id: str, client: PlutoClient) -> ProgressSnapshot:
        """Poll a running run; confirm scoring when asked; finish it at complete/error."""
        snapshot = client.progress()
        if snapshot.status == "waiting_confirmation":
            try:
                client.confirm_scoring()
            except PlutoError as exc:
                if exc.status not in (400, 409):  # 409: already scoring; 400: not ready yet
                    raise
        elif snapshot.status == "complete":
            self.finish(run_id, True)
        elif snapshot.status == "error":
            self.finish(run_id, False, snapshot.error)
        elif snapshot.status == "idle":
            self.finish(run_id, False, "Pluto lost the run (it is idle); it may have restarted.")
        if snapshot.total:
            self._set(run_id, total=snapshot.total)
        return snapshot

    def recover(self, client_for: Any) -> list[str]:
        """After a restart: reconcile runs caught mid-upload. ``client_for(base_url)`` gives a client."""
        fixed = []
        for row in self.store.rows(TABLE, "state = 'uploading'"):
            self._reconcile(row["id"], client_for(row["base_url"]))
            fixed.append(row["id"])
        return fixed
