"""Voice interview sessions, without Slack: find them, read them, follow them, report them once.

Finding. :meth:`SessionService.locate` turns a session id into a
:class:`~services.records.SessionRef` (kind, project, label): from the links the bot created,
else from every link Nimrobo lists. Reading. Status, transcript, audio, evaluation and summary
are read one way, with the ref's parameters, for the commands, the buttons and the watcher.

Following. A session is reported to a channel when the bot created its link there, when
someone ran ``/voicelink watch <session>`` there, or when the channel subscribed to the
session's project (``/voicelink subscribe``). :meth:`SessionService.poll` is the plain
function the scheduler calls; it asks Nimrobo about each unfinished session once per poll,
however many channels follow it, with at most ``workers`` requests in flight; a subscribed
project whose listing fails waits (``backoff``) without stalling the others.

Waiting for the extras. Nimrobo writes the summary and the evaluation some time after an
interview ends. A completed session is held back while the summary answers 202 or while
an evaluator is configured and ``evaluationResults`` is still null (``hasError`` false),
but never longer than ``wait_seconds`` after the watcher first saw it completed; then it
is posted with what exists and says what is missing. Without an evaluator there is
nothing to wait for. A failed session is posted at once, as a short note.

Exactly once. A ready notification is written to the outbox (services/outbox.py) under the
key ``voice_session_completed:<session>:<channel>`` together with this service's record
(:meth:`~SessionService.note_reported`), in one transaction (bot/jobs/voice_watcher.py); the
outbox's sender posts it once, and :meth:`~SessionService.mark_posted` records the ts.
:meth:`~SessionService.targets` leaves out every pair already in the outbox.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from services.access import AccessService
from services.concurrency import Backoff, bounded_map
from services.errors import Ambiguous, NotAllowed, NotFoundHere
from services.keys import acting_as
from services.matching import match_one, unquote
from services.nimrobo import (
    Evaluation,
    NimroboClient,
    NimroboError,
    Project,
    SessionStatus,
    Summary,
    VoiceLink,
)
from services.outbox import Outbox
from services.records import (
    ChannelFollows,
    Notification,
    SessionRef,
    Subscription,
    Target,
    Watch,
    WatchOutcome,
)
from services.store import Store, now
from services.transcripts import transcript_text
from services.voice.links import VoiceLinkService

log = logging.getLogger(__name__)

FINISHED_KEY = "watcher:finished:"
REGENERATED_KEY = "summary:regenerated:"
REGENERATE_COOLDOWN = 120.0  # seconds between two regenerations of one session's summary
WATCHES, SUBSCRIPTIONS, NOTIFICATIONS = "session_watches", "project_subscriptions", "session_notifications"
COMPLETED = "voice_session_completed"  # the completed-interview post: its outbox key's prefix, its metadata's event


def completed_key(session_id: str, channel: str) -> str:
    """The outbox key of a completed-interview post: one per (session, channel), whoever decides it."""
    return f"{COMPLETED}:{session_id}:{channel}"


def completed_of(key: str) -> tuple[str, str]:
    """(session, channel) of a :func:`completed_key` (a channel id has no colon; a session id may)."""
    session_id, _, channel = key.removeprefix(COMPLETED + ":").rpartition(":")
    return session_id, channel


class SessionService:
    def __init__(self, store: Store, nimrobo: NimroboClient, voicelinks: VoiceLinkService, *, workers: int = 1,
                 backoff: Backoff | None = None, access: AccessService | None = None,
                 outbox: Outbox | None = None) -> None:
        self.store = store
        self.outbox = outbox or Outbox(store)  # what was decided already: read through the outbox, never its table
        self.nimrobo = nimrobo
        self.voicelinks = voicelinks
        self.workers = workers
        self.backoff = backoff
        self.access = access
        self._regenerating = threading.Lock()
        self.followed = 0  # unfinished sessions the last poll followed

    # -- who may read a session ------------------------------------------------------------------
    def authorize(self, user: str, session_id: str, project_id: str | None = None) -> None:
        """Raise :class:`NotAllowed` unless ``user`` may see this session (services/access.py).

        The refusal is the same whether or not the session exists. A session whose link the
        bot did not make belongs to the channels subscribed to its project: that project is
        found among the subscribed ones (one listing each) only when it isn't known already.
        """
        if self.access is None:
            return
        decision = self.access.may_see_session(user, session_id, project_id)
        if not decision.allowed and self.voicelinks.session_row(session_id) is None:
            # Not recorded yet: the bot's own link may carry it, or a subscribed project's.
            if self.voicelinks.learn_session(session_id) is not None:
                decision = self.access.may_see_session(user, session_id, project_id)
            elif project_id is None and (found := self._subscribed_project_of(session_id)):
                decision = self.access.may_see_session(user, session_id, found)
        if not decision.allowed:
            log.info("refused %s access to session %s (%s)", user, session_id, decision.why)
            raise NotAllowed(decision.refusal())

    def _subscribed_project_of(self, session_id: str) -> str | None:
        for project_id in self._subscribed():
            try:
                if any(link.session_id == session_id for link in self.nimrobo.list_links(project_id)):
                    return project_id
            except NimroboError:
                continue
        return None

    # -- finding and reading ------------------------------------------------------------------
    def locate(self, query: str, *, user: str) -> SessionRef:
        """The session ``query`` names, for someone allowed to see it (else :class:`NotAllowed`).

        ``query`` is a session id, or the participant's label, whole and quoted or not (``Alan Turing``),
        by the one matching rule (services/matching.py). Several sessions of that name that ``user``
        may see raise :class:`~services.errors.Ambiguous` to pick from; those they may not see are never
        offered. An id is found among the links the bot created, else the links of a subscribed
        project, else (for admins) any link Nimrobo lists; an unknown one gets the same refusal as
        someone else's.
        """
        query = unquote(query)
        if self.voicelinks.session_row(query) is None:
            named = self._named(query, user)
            if named is not None:
                return named
        self.authorize(user, query)
        row = self.voicelinks.session_row(query)
        if row:
            return SessionRef(row.kind, row.project_id, query, row.label)
        raise NotFoundHere(f"Sorry, no session `{query}` was found among your links.",
                           hint="Give a session id or the participant's name, as `/voicelink list` shows them "
                                "once a participant opens a link.")

    def _named(self, query: str, user: str, *, fresh: bool = False) -> SessionRef | None:
        """The session Nimrobo lists under that id or label (see :meth:`locate`), or None when none matches.
        The listings come from the short cache first; a miss looks once more, fresh (a session just opened)."""
        links, projects = self.voicelinks.listing(fresh=fresh)
        opened = [link for link in links if link.session_id]
        find = partial(match_one, query=query, ident=lambda link: link.session_id or "",
                       name=lambda link: link.label, what="session", missing="-",
                       describe=lambda link: f"{link.label} · {projects.get(link.project_id or '', 'instant link')}")
        try:
            link = find(opened)
        except NotFoundHere:
            return None if fresh else self._named(query, user, fresh=True)
        except Ambiguous as several:  # offer only the sessions this person may see
            ids = {ident for _, ident in several.candidates}
            visible = [link for link in opened if link.session_id in ids and self._may_see(user, link)]
            if not visible:
                self.authorize(user, several.candidates[0][1])  # the usual refusal
            link = find(visible)
        self.authorize(user, link.session_id or "", link.project_id)
        return SessionRef(link.kind, link.project_id, link.session_id or query, link.label)

    def _may_see(self, user: str, link: VoiceLink) -> bool:
        try:
            self.authorize(user, link.session_id or "", link.project_id)
        except NotAllowed:
            return False
        return True

    def origin(self, session_id: str) -> tuple[str | None, str | None]:
        """(channel, thread) where the bot created this session's link, or (None, None)."""
        row = self.voicelinks.session_row(session_id)
        return (row.channel, row.thread_ts) if row else (None, None)

    def status(self, ref: SessionRef, *, user: str) -> SessionStatus:
        self.authorize(user, ref.session_id, ref.project_id)
        return self.nimrobo.session_status(ref.session_id, ref.kind, ref.project_id)

    def transcript(self, ref: SessionRef, *, user: str, fmt: str = "text", max_lines: int | None = None) -> str:
        """The transcript as readable text, one ``Speaker: words`` line a turn, whatever shape Nimrobo gave it
        (services/transcripts.py; ``max_lines`` for an excerpt; "" when it is empty), or with ``fmt="json"``
        as Nimrobo returns it (pretty-printed JSON, with the session id and the participant's label)."""
        self.authorize(user, ref.session_id, ref.project_id)
        transcript = self.nimrobo.session_transcript(ref.session_id, ref.kind, ref.project_id)
        if fmt != "json":
            return transcript_text(transcript, max_lines=max_lines)
        label = ref.label or self.voicelinks.session_label(ref.session_id, ref.project_id, ref.kind)
        return json.dumps({"sessionId": ref.session_id, "label": label, "transcript": transcript}, indent=2,
                          ensure_ascii=False) + "\n"

    def audio_url(self, ref: SessionRef, *, user: str) -> str:
        """A fresh signed URL (about an hour); never stored."""
        self.authorize(user, ref.session_id, ref.project_id)
        return self.nimrobo.session_audio_url(ref.session_id, ref.kind, ref.project_id)

    def evaluation(self, ref: SessionRef, *, user: str) -> Evaluation:
        """The evaluation, with the evaluator's questions (for labels the results lack) when it is ready."""
        self.authorize(user, ref.session_id, ref.project_id)
        evaluation = self.nimrobo.session_evaluation(ref.session_id, ref.kind, ref.project_id)
        if evaluation.ready:
            evaluation.questions = self.evaluator_questions(ref)
        return evaluation

    def evaluator_questions(self, ref: SessionRef) -> list[dict[str, Any]]:
        """The questions of the evaluator behind a session (its project's, or its instant link's); [] when
        there is none or Nimrobo can't say (the answers are then labelled by what they carry)."""
        try:
            if ref.kind == "instant":
                links = self.nimrobo.list_instant_links()
                evaluator = next((link.raw.get("evaluator") for link in links if link.session_id == ref.session_id),
                                 None)
            else:
                evaluator = self.nimrobo.get_project(ref.project_id or "").evaluator if ref.project_id else None
        except NimroboError as exc:
            log.info("evaluator of session %s unreadable: %s", ref.session_id, exc)
            return []
        return [q for q in (evaluator or {}).get("questions") or [] if isinstance(q, dict)]

    def project_of(self, ref: SessionRef) -> tuple[str, dict[str, str]]:
        """(project name, evaluator question labels by id) behind a session, so answers read "Platform depth"
        as on the completed-interview post; ("Instant link", …) for an instant link, ("", {}) if unknown.
        Call it after one of the methods above has checked the person's access."""
        try:
            if ref.instant:
                return "Instant link", {}
            if not ref.project_id:
                return "", {}
            project = self.nimrobo.get_project(ref.project_id)
        except NimroboError as exc:
            log.info("project of session %s not read: %s", ref.session_id, exc)
            return "", {}
        questions = {str(q.get("id")): str(q.get("label") or q.get("id"))
                     for q in (project.evaluator or {}).get("questions") or [] if isinstance(q, dict)}
        return project.name, questions

    def summary(self, ref: SessionRef, *, user: str, regenerate: bool = False) -> Summary:
        """The summary (202 while it is written). ``regenerate`` asks Nimrobo to write it again, at most once per
        session every :data:`REGENERATE_COOLDOWN` seconds, however often it is pressed: a repeat within that
        time answers ``raw["asked_at"]`` (when it was asked) and calls nothing. Nothing calls it in a loop."""
        self.authorize(user, ref.session_id, ref.project_id)
        if not regenerate:
            return self.nimrobo.session_summary(ref.session_id, project_id=ref.project_id, instant=ref.instant)
        key = f"{REGENERATED_KEY}{ref.session_id}"
        with self._regenerating:
            asked = self.store.kv_get(key)
            if asked is not None and now() - float(asked) < REGENERATE_COOLDOWN:
                return Summary(ref.session_id, generating=True, raw={"asked_at": float(asked), "repeat": True})
            self.store.kv_set(key, now())
        try:
            summary = self.nimrobo.regenerate_summary(ref.session_id, project_id=ref.project_id,
                                                      instant=ref.instant)
        except NimroboError:
            self.store.kv_set(key, 0)  # it was not asked for: the next press may ask
            raise
        summary.raw["asked_at"] = now()
        return summary

    # -- following ----------------------------------------------------------------------------
    def watch(self, query: str, channel: str, user: str) -> WatchOutcome:
        """Post this session's results in ``channel`` when it completes (only for someone who may see it);
        ``query`` as :meth:`locate` takes it."""
        ref = self.locate(query, user=user)
        session_id = ref.session_id
        if self.already_posted(session_id, channel):
            return WatchOutcome(ref, "already_posted")
        existed = self.store.get(WATCHES, (session_id, channel)) is not None
        self.store.upsert(WATCHES, {"session_id": session_id, "channel": channel, "thread_ts": None,
                                    "kind": ref.kind, "project_id": ref.project_id, "requested_by": user,
                                    "created_at": now(), "label": ref.label}, pk=("session_id", "channel"))
        return WatchOutcome(ref, "already_watching" if existed else "watching")

    def subscribe(self, query: str, channel: str, user: str) -> tuple[Project, bool]:
        """Follow every session of the project ``query`` names; (project, False when it already did).

        A subscription lets the channel see the project's sessions, so only someone who may see the links the bot
        made in it (services/access.py) may subscribe a channel to it; a project the bot made no link in (made in
        Nimrobo directly) is open to the team."""
        project = self.voicelinks.project(query)
        made = self.store.rows("voice_links", "project_id = ?", [project.id], limit=200)
        if self.access is not None and made:
            decisions = [self.access.may_see_link(user, row["id"]) for row in made]
            if not any(d.allowed for d in decisions):
                log.info("refused %s a subscription to project %s", user, project.id)
                raise NotAllowed(decisions[0].refusal("that project's interviews"))
        added = self.store.insert_if_absent(SUBSCRIPTIONS, {"project_id": project.id, "channel": channel,
                                                            "created_by": user, "created_at": now()})
        return project, added

    def unsubscribe(self, query: str, channel: str) -> tuple[str, bool]:
        """Stop following a project, named by id or as :meth:`subscribe` finds it; (project id, removed)."""
        project_id = query.strip()
        if self.store.get(SUBSCRIPTIONS, (project_id, channel)) is None:
            try:  # a name: look its id up, but only an id this channel follows can be removed
                project_id = self.voicelinks.project(project_id).id
            except (NotFoundHere, NimroboError):
                pass
        if self.store.get(SUBSCRIPTIONS, (project_id, channel)) is None:
            return project_id, False
        self.store.delete(SUBSCRIPTIONS, (project_id, channel))
        return project_id, True

    def follows(self, channel: str) -> ChannelFollows:
        """Subscriptions and watches of ``channel`` (oldest first) and how many links were made there."""
        subs = [Subscription(r["project_id"], r["channel"], r["created_by"])
                for r in self.store.rows(SUBSCRIPTIONS, "channel = ?", [channel], order_by="created_at")]
        watches = [Watch(r["session_id"], r["channel"], r["requested_by"], r.get("label") or "")
                   for r in self.store.rows(WATCHES, "channel = ?", [channel], order_by="created_at")]
        return ChannelFollows(subs, watches, self.voicelinks.count_in(channel))

    # -- reporting once -----------------------------------------------------------------------
    # The post itself goes through the outbox (services/outbox.py), under the key
    # completed_key(session, channel); session_notifications is this service's
    # record of it (written in the same transaction as the outbox row), for the Home tab.
    def note_reported(self, session_id: str, channel: str, thread_ts: str | None = None) -> None:
        """Record that (session, channel) was decided and queued; call it in the outbox row's transaction."""
        self.store.upsert(NOTIFICATIONS, {"session_id": session_id, "channel": channel, "thread_ts": thread_ts,
                                          "state": "queued", "message_ts": None, "claimed_at": now(),
                                          "posted_at": None}, pk=("session_id", "channel"))

    def mark_posted(self, session_id: str, channel: str, ts: str, thread_ts: str | None = None) -> None:
        """The post is in Slack (its ts)."""
        self.store.upsert(NOTIFICATIONS, {"session_id": session_id, "channel": channel, "thread_ts": thread_ts,
                                          "state": "posted", "message_ts": ts, "posted_at": now()},
                          pk=("session_id", "channel"))

    def _reported(self) -> set[tuple[str, str]]:
        """(session, channel) pairs already in the outbox, whatever their state."""
        return {completed_of(key) for key in self.outbox.keys(COMPLETED + ":")}

    def already_posted(self, session_id: str, channel: str) -> bool:
        return self.outbox.get(completed_key(session_id, channel)) is not None

    def targets(self) -> list[Target]:
        """Every (session, channel) the bot should report on and has not claimed yet."""
        found: dict[tuple[str, str], Target] = {}
        for row in self.voicelinks.rows_with_sessions():
            found[(row.session_id or "", row.channel)] = Target(
                row.session_id or "", row.channel, row.thread_ts, row.kind, row.project_id, row.label or "", row.id,
                owner=row.creator or "")
        for watch in self.store.rows(WATCHES):
            found.setdefault((watch["session_id"], watch["channel"]), Target(
                watch["session_id"], watch["channel"], watch["thread_ts"], watch["kind"] or "project",
                watch["project_id"], watch.get("label") or "", owner=watch.get("requested_by") or ""))
        subscribed = self._subscribed()
        owners = {r["project_id"]: r.get("created_by") or "" for r in self.store.rows(SUBSCRIPTIONS)}
        backoff = self.backoff
        due = [p for p in subscribed if backoff is None or backoff.due("project:" + p)]

        def list_links(project_id: str) -> list[Any]:
            with acting_as(owners.get(project_id)):  # the subscriber's own key, when they have one
                return self.nimrobo.list_links(project_id)

        for project_id, links in bounded_map(list_links, due, self.workers):
            if isinstance(links, Exception):
                delay = backoff.failed("project:" + project_id) if backoff else 0
                log.warning("watcher: listing links of subscribed project %s failed (next try in %.0fs): %s",
                            project_id, delay, links)
                continue
            if backoff:
                backoff.succeeded("project:" + project_id)
            for link in (link for link in links if link.session_id):
                for channel in subscribed[project_id]:
                    found.setdefault((link.session_id or "", channel), Target(
                        link.session_id or "", channel, None, "project", project_id, link.label, link.id,
                        owner=owners.get(project_id, "")))
        done = self._reported()
        return [t for key, t in found.items() if key not in done]

    def _subscribed(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for sub in self.store.rows(SUBSCRIPTIONS, order_by="created_at"):
            out.setdefault(sub["project_id"], []).append(sub["channel"])
        return out

    def poll(self, *, wait_seconds: float = 120.0, clock: Callable[[], float] = time.time) -> list[Notification]:
        """Notifications ready to post now (not yet claimed).

        Calls Nimrobo once per unfinished session (however many channels follow it), with at
        most ``workers`` requests in flight.
        """
        evaluators = _EvaluatorLookup(self.nimrobo)
        pending = self.targets()
        first: dict[str, Target] = {}
        for target in pending:
            first.setdefault(target.session_id, target)
        self.followed = len(first)  # for /metrics: sessions followed until they are posted
        # None: not finished, or still waiting for the extras
        checked = dict(bounded_map(lambda sid: self._check(first[sid], evaluators, wait_seconds, clock),
                                   first, self.workers))
        ready: list[Notification] = []
        for target in pending:
            note = checked[target.session_id]
            if isinstance(note, Exception):
                log.warning("watcher: checking session %s failed: %s", target.session_id, note)
            elif note is not None:
                ready.append(Notification(**{**note.__dict__, "channel": target.channel,
                                             "thread_ts": target.thread_ts, "label": target.label or note.label}))
        return ready

    def _check(self, t: Target, evaluators: _EvaluatorLookup, wait_seconds: float,
               clock: Callable[[], float]) -> Notification | None:
        """One session, read with its owner's Nimrobo key (the link's creator, or who followed it)."""
        with acting_as(t.owner):
            return self._check_as_owner(t, evaluators, wait_seconds, clock)

    def _check_as_owner(self, t: Target, evaluators: _EvaluatorLookup, wait_seconds: float,
                        clock: Callable[[], float]) -> Notification | None:
        ref, nimrobo = t.ref, self.nimrobo
        try:
            status = nimrobo.session_status(ref.session_id, ref.kind, ref.project_id)
        except NimroboError as exc:
            log.warning("watcher: status of session %s failed: %s", t.session_id, exc)
            return None
        if not status.is_finished:
            return None
        note = Notification(t.session_id, t.channel, t.thread_ts, t.kind, t.project_id or status.project_id,
                            t.label, status.status, completed_at=status.completed_at, created_at=status.created_at)
        if status.status != "completed":
            return note
        waited_out = clock() - self._first_seen(t.session_id, clock) >= wait_seconds
        try:
            evaluator, note.project_name = evaluators.find(t)
            summary = nimrobo.session_summary(ref.session_id, project_id=ref.project_id, instant=ref.instant)
            evaluation = nimrobo.session_evaluation(ref.session_id, ref.kind, ref.project_id)
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

    def _first_seen(self, session_id: str, clock: Callable[[], float]) -> float:
        """When the watcher first saw this session completed (kept across restarts)."""
        first_seen = self.store.kv_get(FINISHED_KEY + session_id)
        if first_seen is None:
            first_seen = clock()
            self.store.kv_set(FINISHED_KEY + session_id, first_seen)
        return first_seen


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

