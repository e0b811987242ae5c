"""Workflow Builder steps (Slack custom functions), without Slack: each execution's state, stored.

A ``function_executed`` event starts an execution. The bot records it (:meth:`StepService.begin`,
once per execution id, so a re-delivered event does nothing), acts as the person who ran the
workflow, and ends it with an outcome: outputs (``functions.completeSuccess``) or one sentence a
workflow author can act on (``functions.completeError``).

States::

    working ──▶ finishing ──Slack confirmed──▶ completed | failed
       │            ▲
       └─▶ waiting ─┘   (a scoring run: the outcome is known when its shortlist is posted)

* ``working``: the bot is acting on it in memory. A replica that died here leaves the row
  behind; once it is older than ``STEP_STALE_SECONDS`` it is resumed from what was stored
  (links a batch already made are reported) or failed with the reason.
* ``waiting``: the outcome depends on stored state (a scoring run), so any replica, after any
  restart, finishes it (:meth:`waiting_rows`).
* ``finishing``: the outcome is decided and stored, Slack may not have it yet; it is sent again
  until Slack confirms (or says the execution is gone).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from services.records import ScoringRun
from services.store import Store, now

TABLE = "function_executions"
WORKING, WAITING, FINISHING, COMPLETED, FAILED = "working", "waiting", "finishing", "completed", "failed"
MAX_ERROR = 500  # Slack shows the error to the workflow's author; keep it one readable sentence or two
_MARKUP = re.compile(r"[*`]|:[a-z0-9_+-]+:\s?")


@dataclass
class Execution:
    id: str
    callback_id: str
    user: str
    inputs: dict[str, Any] = field(default_factory=dict)
    state: str = WORKING
    waiting_for: str = ""
    outputs: dict[str, Any] | None = None
    error: str = ""
    attempts: int = 0
    created_at: float = 0.0
    updated_at: float = 0.0

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Execution:
        return cls(id=row["id"], callback_id=row.get("callback_id") or "", user=row.get("user") or "",
                   inputs=row.get("inputs_json") or {}, state=row.get("state") or WORKING,
                   waiting_for=row.get("waiting_for") or "", outputs=row.get("outputs_json"),
                   error=row.get("error") or "", attempts=int(row.get("attempts") or 0),
                   created_at=row.get("created_at") or 0.0, updated_at=row.get("updated_at") or 0.0)

    @property
    def waiting_on(self) -> tuple[str, str]:
        """(kind, id) this execution waits on, e.g. ("run", "ab12...") or ("batch", "...")."""
        kind, _, ident = self.waiting_for.partition(":")
        return kind, ident


def plain(sentence: str) -> str:
    """A message for Workflow Builder: no Slack markup (bold, code, emoji), one paragraph."""
    text = " ".join(_MARKUP.sub("", sentence or "").split())
    return text[:MAX_ERROR] or "The step failed."


class StepService:
    def __init__(self, store: Store, stale_seconds: float = 300.0) -> None:
        self.store = store
        self.stale_seconds = stale_seconds

    def begin(self, execution_id: str, callback_id: str, user: str, inputs: dict[str, Any]) -> bool:
        """Record a new execution; False when it is known already (Slack delivered the event again)."""
        return self.store.insert_if_absent(TABLE, {
            "id": execution_id, "callback_id": callback_id, "user": user, "inputs_json": inputs, "state": WORKING,
            "waiting_for": "", "outputs_json": None, "error": "", "attempts": 0, "created_at": now(),
            "updated_at": now()})

    def get(self, execution_id: str) -> Execution | None:
        row = self.store.get(TABLE, execution_id)
        return Execution.from_row(row) if row else None

    def note(self, execution_id: str, waiting_for: str) -> None:
        """Remember what this execution is making (``batch:<id>``) before the call that makes it."""
        self.store.update_where(TABLE, {"waiting_for": waiting_for, "updated_at": now()}, "id = ? and state = ?",
                                [execution_id, WORKING])

    def wait_for(self, execution_id: str, waiting_for: str) -> None:
        """The outcome depends on stored state now (``run:<id>``); any replica finishes it from here."""
        self.store.update_where(TABLE, {"state": WAITING, "waiting_for": waiting_for, "updated_at": now()},
                                "id = ? and state = ?", [execution_id, WORKING])

    def succeed(self, execution_id: str, outputs: dict[str, Any]) -> bool:
        """Decide the outcome: success with ``outputs``. False when it was decided already."""
        return self._decide(execution_id, {"outputs_json": outputs, "error": ""})

    def fail(self, execution_id: str, error: str) -> bool:
        """Decide the outcome: failure, with a sentence the workflow's author can act on."""
        return self._decide(execution_id, {"outputs_json": None, "error": plain(error)})

    def _decide(self, execution_id: str, values: dict[str, Any]) -> bool:
        return self.store.update_where(TABLE, {**values, "state": FINISHING, "updated_at": now()},
                                       "id = ? and state in (?, ?)", [execution_id, WORKING, WAITING]) == 1

    def outputs_refused(self, execution_id: str, error: str) -> None:
        """Slack refused the outputs of a decided success: it ends as a failure saying so."""
        self.store.update_where(TABLE, {"outputs_json": None, "error": plain(error), "updated_at": now()},
                                "id = ? and state = ?", [execution_id, FINISHING])

    def sent(self, execution_id: str) -> None:
        """Slack has the outcome (or the execution is gone there): nothing more to send. The inputs and
        outputs (names, job descriptions) are not kept past this: Slack's workflow history has them."""
        row = self.get(execution_id)
        if row is None or row.state != FINISHING:
            return
        self.store.update_where(TABLE, {"state": FAILED if row.error else COMPLETED, "inputs_json": {},
                                        "outputs_json": None, "updated_at": now()},
                                "id = ? and state = ?", [execution_id, FINISHING])

    def attempted(self, execution_id: str) -> None:
        row = self.get(execution_id)
        if row is not None:
            self.store.update(TABLE, execution_id, {"attempts": row.attempts + 1, "updated_at": now()})

    # -- what the ``workflow_steps`` job looks at ---------------------------------------------------
    def any_open(self) -> bool:
        """Whether any execution is not finished (one indexed query: the job's quick way out)."""
        return self.store.count(TABLE, "state in (?, ?, ?)", [WORKING, WAITING, FINISHING]) > 0

    def to_send(self) -> list[Execution]:
        """Decided outcomes Slack has not confirmed, untouched for a moment (the replica that decided one sends
        it at once; this is for when that did not work)."""
        settle = min(5.0, self.stale_seconds)
        return [Execution.from_row(r) for r in self.store.rows(TABLE, "state = ? and updated_at < ?",
                                                               [FINISHING, now() - settle], order_by="updated_at")]

    def waiting_rows(self) -> list[Execution]:
        return [Execution.from_row(r) for r in self.store.rows(TABLE, "state = ?", [WAITING], order_by="created_at")]

    def interrupted(self) -> list[Execution]:
        """Executions left ``working`` longer than ``stale_seconds``: their replica died or restarted."""
        return [Execution.from_row(r) for r in self.store.rows(TABLE, "state = ? and updated_at < ?",
                                                               [WORKING, now() - self.stale_seconds],
                                                               order_by="created_at")]

    @staticmethod
    def run_outcome(run: ScoringRun | None) -> str | None:
        """Why a scoring step can never succeed now (its run failed, stalled, was cancelled or is gone); None
        while the run may still finish."""
        if run is None:
            return "The scoring run this step started is no longer known to Pluto Bot; run the workflow again."
        if run.state == "cancelled":
            who = f" by <@{run.cancelled_by}>" if run.cancelled_by else ""
            return f"The scoring run of {run.filename} was cancelled{who} before Pluto started it; run the " \
                   "workflow again to score the file."
        if run.state in ("failed", "stalled"):
            return f"Scoring {run.filename} {run.state}: {run.error or 'Pluto gave no reason'}. Fix the cause, " \
                   "then run the workflow again."
        return None
