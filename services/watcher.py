"""The interview watcher: finds finished sessions and says what to post, exactly once per channel.

A session is watched for a channel when the bot created its link there (``voice_links``,
kept current by :meth:`services.voicelinks.VoiceLinkService.refresh_statuses`), when
someone ran ``/voicelink watch <session>`` there, or when the channel subscribed to the
session's project. :func:`poll` is the plain function the scheduler calls; it asks
Nimrobo about each unfinished session once per poll, however many channels follow it.

Waiting for the extras. Nimrobo writes the summary and the evaluation some time after an
interview ends. A completed session is held back while the summary answers 202 or while
an evaluator is configured and ``evaluationResults`` is still null (``hasError`` false),
but never longer than ``wait_seconds`` after the watcher first saw it completed; then it
is posted with what exists and says what is missing. Without an evaluator there is
nothing to wait for. A failed session is posted at once, as a short note.

Exactly once. The caller :func:`claim`\\ s the (session, channel) row (one INSERT that
does nothing when the row exists, so two replicas or a restarted bot can't both win)
before posting, and :func:`mark_posted` records the message ts after. When the post
definitely did not happen (Slack answered with an error), :func:`release` drops the
claim and the next poll tries again. When the outcome is unknown (no answer, or the
process died between claim and post), the claim stays "claimed"; after the claim timeout
:func:`stale_claims` hands it to the reconciler (bot/jobs/watcher.py), which looks for the
message's ``voice_session_completed`` metadata in Slack and either records its ts or
releases the claim so the next poll posts it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from services.concurrency import Backoff, bounded_map
from services.nimrobo import NimroboClient, NimroboError
from services.store import Store, now

log = logging.getLogger(__name__)

FINISHED_KEY = "watcher:finished:"


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


@dataclass
class Notification:
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


def targets(store: Store, nimrobo: NimroboClient, *, workers: int = 1,
            backoff: Backoff | None = None) -> list[Target]:
    """Every (session, channel) the bot should report on and has not claimed yet.

    Subscribed projects are listed ``workers`` at a time; a project whose listing fails is
    skipped (``backoff``) until its next try is due, and never stalls the others.
    """
    found: dict[tuple[str, str], Target] = {}
    for row in store.rows("voice_links", "session_id is not null and session_id != ''"):
        found[(row["session_id"], row["channel"])] = Target(
            row["session_id"], row["channel"], row["thread_ts"], row["kind"], row["project_id"], row["label"] or "",
            row["id"])
    for row in store.rows("session_watches"):
        found.setdefault((row["session_id"], row["channel"]), Target(
            row["session_id"], row["channel"], row["thread_ts"], row["kind"] or "project", row["project_id"],
            row.get("label") or ""))
    subscribed = _subscribed(store)
    due = [p for p in subscribed if backoff is None or backoff.due("project:" + p)]
    for project_id, links in bounded_map(nimrobo.list_links, due, workers):
        if isinstance(links, Exception):
            delay = backoff.failed("project:" + project_id) if backoff else 0
            log.warning("watcher: listing links of subscribed project %s failed (next try in %.0fs): %s",
                        project_id, delay, links)
            continue
        if backoff:
            backoff.succeeded("project:" + project_id)
        for link in links:
            if link.session_id:
                for channel in subscribed[project_id]:
                    found.setdefault((link.session_id, channel), Target(
                        link.session_id, channel, None, "project", project_id, link.label, link.id))
    done = {(r["session_id"], r["channel"]) for r in store.rows("session_notifications")}
    return [t for key, t in found.items() if key not in done]


def _subscribed(store: Store) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for sub in store.rows("project_subscriptions", order_by="created_at"):
        out.setdefault(sub["project_id"], []).append(sub["channel"])
    return out


def poll(store: Store, nimrobo: NimroboClient, *, wait_seconds: float = 120.0,
         clock: Callable[[], float] = time.time, workers: int = 1,
         backoff: Backoff | None = None) -> list[Notification]:
    """Notifications ready to post now (not yet claimed).

    Calls Nimrobo once per unfinished session (however many channels follow it), with at
    most ``workers`` requests in flight.
    """
    evaluators = _EvaluatorLookup(nimrobo)
    pending = targets(store, nimrobo, workers=workers, backoff=backoff)
    first: dict[str, Target] = {}
    for target in pending:
        first.setdefault(target.session_id, target)
    checked = dict(bounded_map(lambda sid: _check(store, nimrobo, first[sid], evaluators, wait_seconds, clock),
                               first, workers))
    ready: list[Notification] = []
    for target in pending:
        note = checked[target.session_id]
        if isinstance(note, Exception):
            log.warning("watcher: checking session %s failed: %s", target.session_id, note)
        elif note is not None:
            ready.append(_for_channel(note, target))
    return ready


def _for_channel(note: Notification, target: Target) -> Notification:
    return Notification(**{**note.__dict__, "channel": target.channel, "thread_ts": target.thread_ts,
                           "label": target.label or note.label})


def _check(store: Store, nimrobo: NimroboClient, t: Target, evaluators: _EvaluatorLookup, wait_seconds: float,
           clock: Callable[[], float]) -> Notification | None:
    try:
        status = nimrobo.session_status(t.session_id, t.kind, t.project_id)  # type: ignore[arg-type]
    except NimroboError as exc:
        log.warning("watcher: status of session %s failed: %s", t.session_id, exc)
        return None
    if not status.is_finished:
        return None
    note = Notification(t.session_id, t.channel, t.thread_ts, t.kind, t.project_id or status.project_id,
                        t.label, status.status, completed_at=status.completed_at, created_at=status.created_at)
    if status.status != "completed":
        return note
    first_seen = store.kv_get(FINISHED_KEY + t.session_id)
    if first_seen is None:
        first_seen = clock()
        store.kv_set(FINISHED_KEY + t.session_id, first_seen)
    waited_out = clock() - first_seen >= wait_seconds
    try:
        evaluator, note.project_name = evaluators.find(t)
        summary = nimrobo.session_summary(t.session_id, project_id=t.project_id, instant=t.kind == "instant")
        evaluation = nimrobo.session_evaluation(t.session_id, t.kind, t.project_id)  # type: ignore[arg-type]
    except NimroboError as exc:
        log.warning("watcher: summary or evaluation of session %s failed: %s", t.session_id, exc)
        return None
    evaluation_pending = not evaluation.ready and not evaluation.has_error and evaluator is not None
    if (summary.generating or evaluation_pending) and not waited_out:
        return None
    note.summary, note.summary_pending = summary.summary, summary.generating
    note.evaluation = evaluation.results
    note.questions = {str(q.get("id")): str(q.get("label") or q.get("id"))
                      for q in (evaluator or {}).get("questions") or [] if isinstance(q, dict)}
    if evaluation.ready:
        note.evaluation_note = ""
    elif evaluation.has_error:
        note.evaluation_note = "error"
    else:
        note.evaluation_note = "pending" if evaluator is not None else "none"
    return note


class _EvaluatorLookup:
    """The evaluator (and project name) behind a session, each looked up at most once per poll."""

    def __init__(self, nimrobo: NimroboClient) -> None:
        self.nimrobo = nimrobo
        self.projects: dict[str, tuple[dict[str, Any] | None, str]] = {}
        self.instant: dict[str, dict[str, Any] | None] | None = None
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def find(self, t: Target) -> tuple[dict[str, Any] | None, str]:
        """Concurrent checks of one project's sessions share one lookup (a lock per project)."""
        key = "instant" if t.kind == "instant" else t.project_id or ""
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            return self._find(t)

    def _find(self, t: Target) -> tuple[dict[str, Any] | None, str]:
        if t.kind == "instant":
            if self.instant is None:
                links = self.nimrobo.list_instant_links()
                self.instant = {link.id: link.raw.get("evaluator") for link in links}
                self.instant.update({link.session_id: link.raw.get("evaluator") for link in links if link.session_id})
            return self.instant.get(t.link_id or "") or self.instant.get(t.session_id), "Instant link"
        if not t.project_id:
            return None, ""
        if t.project_id not in self.projects:
            project = self.nimrobo.get_project(t.project_id)
            self.projects[t.project_id] = (project.evaluator or None, project.name)
        return self.projects[t.project_id]


# -- exactly once -------------------------------------------------------------------------
def claim(store: Store, session_id: str, channel: str, thread_ts: str | None = None) -> bool:
    """Take the right to post (session, channel); False when it was already taken."""
    return store.insert_if_absent("session_notifications", {"session_id": session_id, "channel": channel,
                                                             "thread_ts": thread_ts, "state": "claimed",
                                                             "message_ts": None, "claimed_at": now(),
                                                             "posted_at": None})


def stale_claims(store: Store, timeout: float) -> list[dict[str, Any]]:
    """Claims whose post has had no confirmed outcome for ``timeout`` seconds (oldest first)."""
    return store.rows("session_notifications", "state = 'claimed' and claimed_at < ?", [now() - timeout],
                      order_by="claimed_at")


def retake(store: Store, row: dict[str, Any]) -> bool:
    """Take over a stale claim for reconciling (compare-and-set); False when another replica did."""
    return store.update_where("session_notifications", {"claimed_at": now()},
                              "session_id = ? and channel = ? and state = 'claimed' and claimed_at = ?",
                              [row["session_id"], row["channel"], row["claimed_at"]]) == 1


def mark_posted(store: Store, session_id: str, channel: str, ts: str) -> None:
    store.update("session_notifications", (session_id, channel), {"state": "posted", "message_ts": ts,
                                                                  "posted_at": now()})


def release(store: Store, session_id: str, channel: str) -> None:
    """Drop a claim whose post definitely failed, so the next poll tries again."""
    row = store.get("session_notifications", (session_id, channel))
    if row is not None and row["state"] == "claimed":
        store.delete("session_notifications", (session_id, channel))


def give_up(store: Store, session_id: str, channel: str, reason: str) -> None:
    """Keep the claim but record that the channel can't be posted to (e.g. the bot was removed)."""
    store.update("session_notifications", (session_id, channel), {"state": f"undeliverable: {reason}"[:200]})


# -- what channels follow -------------------------------------------------------------------
def watch(store: Store, session_id: str, channel: str, user: str, kind: str, project_id: str | None,
          label: str = "") -> bool:
    """Follow one session in ``channel``; False when this channel already followed it."""
    existed = store.get("session_watches", (session_id, channel)) is not None
    store.upsert("session_watches", {"session_id": session_id, "channel": channel, "thread_ts": None, "kind": kind,
                                     "project_id": project_id, "requested_by": user, "created_at": now(),
                                     "label": label},
                 pk=("session_id", "channel"))
    return not existed


def already_posted(store: Store, session_id: str, channel: str) -> bool:
    return store.get("session_notifications", (session_id, channel)) is not None


def subscribe(store: Store, project_id: str, channel: str, user: str) -> bool:
    """Follow every session of a project in ``channel``; False when it already did."""
    return store.insert_if_absent("project_subscriptions", {"project_id": project_id, "channel": channel,
                                                            "created_by": user, "created_at": now()})


def unsubscribe(store: Store, project_id: str, channel: str) -> bool:
    """Stop following a project; False when the channel did not follow it."""
    if store.get("project_subscriptions", (project_id, channel)) is None:
        return False
    store.delete("project_subscriptions", (project_id, channel))
    return True


def subscriptions(store: Store, channel: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(project subscriptions, session watches) of ``channel``, oldest first."""
    return (store.rows("project_subscriptions", "channel = ?", [channel], order_by="created_at"),
            store.rows("session_watches", "channel = ?", [channel], order_by="created_at"))
