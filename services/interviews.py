"""Live interviews, without Slack: rooms, join links, briefs, the assistant, analytics, intake.

Everything here takes plain inputs (Slack user ids, text, the ids buttons carry) and
returns the records below; anything a user should read is a :class:`services.errors.BotError`:
a refusal (``NotFoundHere``, ``NotAllowed``, :class:`RoomExpiredError`), bad input
(:class:`TranscriptError`) or an API error (:class:`services.pluto.PlutoError`, :class:`IntakeLinkError`).

* **Secrets.** A room's URL and tokens, join links, realtime client secrets, intake
  links and LiveKit tokens come back as :class:`config.Secret` for private delivery
  (ephemeral message or DM) and are never stored: ``interview_rooms`` keeps the run,
  candidate, interviewer, room name, expiry and state, plus the brief and analytics.
* **Who may.** A room belongs to the people let in as its interviewers, anyone in ``members``
  (Slack user ids the caller vouches for: the card channel's members) and whoever may see its
  scoring run. Every one of these checks is :class:`services.access.AccessService`'s
  (``may_use_room``, ``may_see_run``); without an ``access`` service given, one that knows no
  channel members is used, so only interviewers, vouched members and the run's starter may act.
* **Creates are not retried.** Starting a room, joining, realtime sessions and saving
  analytics are never re-sent blindly (see :mod:`services.pluto`). A save whose outcome
  is unknown is checked against the candidate before anyone is told it failed.
* **Slow calls.** Briefs, chat, analytics and realtime sessions call an AI and take
  seconds: call them after the Slack ack.
* **Transcript files.** :meth:`InterviewService.analyze_file` reads a transcript shared as a
  file (text, WebVTT/SRT subtitles, or a JSON turn list) through the ``download`` callable
  the caller gives (the Slack layer's, with its bot token); the service itself knows no Slack.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from services.access import AccessService
from services.errors import BadInput, BotError, NotAllowed, NotFoundHere, Refusal, ServiceError
from services.lifecycle import removed_note
from services.pluto import (
    Candidate,
    ChatTurn,
    IntakeLink,
    IntakeValidation,
    InterviewAnalytics,
    LiveKitToken,
    PlutoClient,
    PlutoError,
    PreBrief,
    RealtimeSession,
    Room,
    RoomAccess,
    RoomGoneError,
    SavedAnalytics,
)
from services.store import Store, now
from services.transcripts import transcript_text

log = logging.getLogger(__name__)

TABLE = "interview_rooms"
CANDIDATE_ROOM_TTL = 3600.0  # the real server's candidate rooms last an hour when it does not say
ADHOC_ROOM_TTL = 2 * 3600.0  # and its ad-hoc rooms two
MAX_HISTORY_TURNS = 20
MAX_TURN_CHARS = 4000
MAX_TRANSCRIPT_CHARS = 200_000
MAX_TRANSCRIPT_FILE_BYTES = 5 * 1024 * 1024
TRANSCRIPT_FILE_TYPES = ("txt", "text", "vtt", "srt", "md", "markdown", "json", "log")


# -- errors ------------------------------------------------------------------------------------
# Rooms, runs and candidates the bot does not know raise services.errors.NotFoundHere; people who may not
# use a room or shortlist, NotAllowed (the one error tree: services/errors.py).
class RoomExpiredError(Refusal):
    """The room has closed."""


class NoCandidateError(Refusal):
    """The action needs a candidate and the room has none (an ad-hoc room)."""


class TranscriptError(BadInput):
    """The transcript given (pasted, a file, a voice session) can't be analyzed."""


class IntakeLinkError(PlutoError):
    """Pluto answered an intake-link request with something unusable: an API error like any of Pluto's
    (services/errors.py's tree), so the person reads "Pluto error: ..." and whether trying again helps."""


# -- records -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class InterviewRoom:
    """One room as the bot recorded it. Holds no secret."""

    id: str
    room_name: str
    kind: str  # candidate | adhoc
    run_id: str | None
    candidate_id: str | None
    candidate_name: str
    interviewer: str
    interviewer_name: str
    interviewers: tuple[str, ...]
    channel: str | None
    thread_ts: str | None
    card_ts: str | None
    expires_at: float | None
    expiry_estimated: bool
    state: str  # live | analyzed
    score: float | None = None
    recommendation: str = ""
    save_state: str = ""
    brief_source: str = ""
    analyzed_at: float | None = None
    created_at: float = 0.0

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> InterviewRoom:
        return cls(id=row["id"], room_name=row["room_name"], kind=row["kind"], run_id=row.get("run_id"),
                   candidate_id=row.get("candidate_id"), candidate_name=row.get("candidate_name") or "",
                   interviewer=row["interviewer"], interviewer_name=row.get("interviewer_name") or "",
                   interviewers=tuple(row.get("interviewers_json") or [row["interviewer"]]),
                   channel=row.get("channel"), thread_ts=row.get("thread_ts"), card_ts=row.get("card_ts"),
                   expires_at=row.get("expires_at"), expiry_estimated=bool(row.get("expiry_estimated")),
                   state=row.get("state") or "live", score=row.get("score"),
                   recommendation=row.get("recommendation") or "", save_state=row.get("save_state") or "",
                   brief_source=row.get("brief_source") or "", analyzed_at=row.get("analyzed_at"),
                   created_at=row.get("created_at") or 0.0)

    def status(self, at: float) -> str:
        """``live``, ``expired`` or ``analyzed``: what the Interview card shows."""
        if self.state == "analyzed":
            return "analyzed"
        return "expired" if self.expires_at is not None and at >= self.expires_at else "live"

    def is_live(self, at: float) -> bool:
        return self.expires_at is None or at < self.expires_at

    def to_value(self) -> str:
        """What a button carries; :meth:`InterviewService.get` reads it back."""
        return self.id


@dataclass
class StartedInterview:
    room: InterviewRoom
    access: RoomAccess  # the interviewer's room link and token: deliver privately
    realtime: RealtimeSession | None = None  # when Pluto made one with the room: deliver privately
    fallback: bool = False  # Pluto no longer had the candidate; an ad-hoc room was made instead


@dataclass
class Invitation:
    room: InterviewRoom
    access: RoomAccess  # ``access.join_url``: for the invited person only
    invited_by: str
    for_user: str | None = None  # the colleague's Slack id (add interviewer): DM it to them


@dataclass
class Brief:
    room: InterviewRoom
    brief: PreBrief
    source: str  # cached (the candidate's own) | generated (for this room)


@dataclass
class AssistantReply:
    room: InterviewRoom
    text: str
    history_sent: int
    context_sent: bool


@dataclass
class AnalysisResult:
    room: InterviewRoom
    analytics: InterviewAnalytics
    source: str  # pasted | file | nimrobo
    saved: SavedAnalytics | None = None
    candidate: Candidate | None = None  # as Pluto shows it after the save (interviewed, with the score)
    save_error: BotError | None = None  # the analysis worked; saving it did not (or may not have)

    @property
    def save_state(self) -> str:
        return self.room.save_state


@dataclass
class IntakeCheck:
    link: IntakeLink  # a bearer secret: deliver privately
    validation: IntakeValidation

    @property
    def gaps(self) -> list[str]:
        return self.validation.gaps


@dataclass
class VoiceSessionRef:
    """A Nimrobo voice session of the room's candidate, whose transcript can be analyzed."""

    session_id: str
    kind: str  # project | instant
    project_id: str | None
    label: str
    status: str


@dataclass
class RunContext:
    run_id: str
    channel: str | None
    thread_ts: str | None
    job_description: str
    candidates: list[Candidate] = field(default_factory=list)
    user: str = ""  # who started the run

    def candidate(self, candidate_id: str) -> Candidate | None:
        return next((c for c in self.candidates if c.id == candidate_id), None)


# -- helpers -----------------------------------------------------------------------------------
_CUE_TIME = re.compile(r"^\s*(\d{1,2}:)?\d{1,2}:\d{2}[.,]\d{1,3}\s*-->", re.MULTILINE)


def subtitle_text(text: str) -> str:
    """A WebVTT or SRT transcript as plain lines: the header, cue numbers and timings dropped."""
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped == "WEBVTT" or stripped.startswith(("NOTE", "WEBVTT ")) or \
                stripped.isdigit() or _CUE_TIME.match(stripped):
            continue
        lines.append(re.sub(r"^<v\s+([^>]+)>(.*?)(</v>)?$", r"\1: \2", stripped))
    return "\n".join(lines)


def file_transcript(name: str, data: bytes) -> str:
    """The transcript in a shared file's bytes, by its kind: JSON turns, subtitles, or plain text."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    kind = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if kind == "json" or text.lstrip().startswith(("[", "{")):
        try:
            return transcript_text(json.loads(text))
        except ValueError:
            if kind == "json":
                raise TranscriptError(f"{name} is not valid JSON.",
                                      hint="Upload the transcript as plain text instead.") from None
    if kind in ("vtt", "srt") or text.lstrip().startswith("WEBVTT") or _CUE_TIME.search(text[:2000]):
        return subtitle_text(text)
    return text.strip()


def _role_from(job_description: str, candidate: Candidate | None) -> str:
    first = next((line.strip() for line in job_description.splitlines() if line.strip()), "")
    return (first[:80] if first else "") or (candidate.job_title if candidate else "") or "the role"


class _NoDirectory:
    """Knows no channel members and no admins (an InterviewService built without the Slack layer's)."""

    def members(self, channel: str) -> set[str]:
        return set()

    def is_admin(self, user: str) -> bool:
        return False


# -- the service -------------------------------------------------------------------------------
class InterviewService:
    """Live interviews. ``scoring`` finds runs (``get(run_id)`` and ``candidates(run)``); ``nimrobo``
    returns the Nimrobo client, for transcripts of the candidate's voice sessions."""

    def __init__(self, store: Store, pluto: PlutoClient, scoring: Any = None,
                 nimrobo: Callable[[], Any] | None = None, *, access: AccessService | None = None,
                 clock: Callable[[], float] = time.time,
                 download: Callable[[dict[str, Any]], bytes] | None = None) -> None:
        self.store = store
        self.pluto = pluto
        self.scoring = scoring
        self._nimrobo = nimrobo
        self.access = access if access is not None else AccessService(store, _NoDirectory())
        self.clock = clock
        self.download = download  # fetches a shared file's bytes (the Slack layer's, with its token)

    # -- reading -------------------------------------------------------------------------------
    def get(self, room_id: str) -> InterviewRoom:
        row = self.store.get(TABLE, room_id)
        if row is None:
            note = removed_note(self.store, room_id)
            if note:
                raise NotFoundHere(note)
            raise NotFoundHere("That interview room is not known here.",
                                         hint="Start a new interview from the candidate card.")
        return InterviewRoom.from_row(row)

    def by_room_name(self, room_name: str) -> InterviewRoom | None:
        rows = self.store.rows(TABLE, "room_name = ?", [room_name], order_by="created_at desc", limit=1)
        return InterviewRoom.from_row(rows[0]) if rows else None

    def for_thread(self, channel: str, thread_ts: str, user: str | None = None) -> InterviewRoom | None:
        """The room whose Interview card starts (or sits in) this thread: where the assistant answers.
        A run's thread can hold several cards: then ``user``'s own open room, else the newest open
        one, else the newest."""
        rows = self.store.rows(TABLE, "channel = ? and (card_ts = ? or thread_ts = ?)", [channel, thread_ts,
                                                                                         thread_ts],
                               order_by="created_at desc", limit=50)
        rooms = [InterviewRoom.from_row(r) for r in rows]
        at = self.clock()
        live = [r for r in rooms if r.state == "live" and r.is_live(at)]
        mine = [r for r in live if user and user in r.interviewers]
        return next(iter(mine + live + rooms), None)

    def for_candidate(self, candidate_id: str) -> list[InterviewRoom]:
        rows = self.store.rows(TABLE, "candidate_id = ?", [candidate_id], order_by="created_at desc")
        return [InterviewRoom.from_row(r) for r in rows]

    def latest_analysis(self, candidate_id: str) -> InterviewRoom | None:
        """The candidate's most recent analyzed interview: the card shows "interviewed" and its score."""
        return next((r for r in self.for_candidate(candidate_id) if r.state == "analyzed"), None)

    def analytics_of(self, room_id: str) -> InterviewAnalytics | None:
        row = self.store.get(TABLE, room_id)
        data = (row or {}).get("analytics_json")
        return InterviewAnalytics.from_api(data) if isinstance(data, dict) else None

    def interviewed(self, candidate_ids: Collection[str]) -> dict[str, InterviewRoom]:
        """The latest analyzed interview of each of these candidates that has one (for candidate cards)."""
        ids = sorted({c for c in candidate_ids if c})
        if not ids:
            return {}
        rows = self.store.rows(TABLE, f"state = 'analyzed' and candidate_id in ({', '.join('?' * len(ids))})",
                               ids, order_by="analyzed_at desc")
        found: dict[str, InterviewRoom] = {}
        for row in rows:
            found.setdefault(row["candidate_id"], InterviewRoom.from_row(row))
        return found

    def allowed(self, room_id: str, *, user: str, members: Collection[str] | None = None,
                live: bool = False, what: str = "use this interview") -> InterviewRoom:
        """The room, when ``user`` may act on it (and it is still open, with ``live``); else the
        refusal the action itself would give. Lets the Slack layer refuse before it says "working…"."""
        if live:
            return self._usable(room_id, user, members, what)
        return self._allowed(self.get(room_id), user, members, what)

    def cards_to_close(self, limit: int = 50) -> list[InterviewRoom]:
        """Rooms that closed by themselves (their expiry passed) while their card still says live."""
        rows = self.store.rows(TABLE, "card_ts is not null and state = 'live' and expires_at < ? and "
                               "(card_state is null or card_state = 'live')", [self.clock()],
                               order_by="expires_at", limit=limit)
        return [InterviewRoom.from_row(r) for r in rows]

    def card_shown(self, room_id: str, status: str) -> None:
        """Remember the state the room's card shows now (see :meth:`cards_to_close`)."""
        self.store.update(TABLE, room_id, {"card_state": status})

    def set_card(self, room_id: str, channel: str, ts: str) -> InterviewRoom:
        """Remember the Interview card (its thread is where the assistant works)."""
        self.get(room_id)
        return self._update(room_id, channel=channel, card_ts=ts)

    # -- starting ------------------------------------------------------------------------------
    def start(self, run_id: str, candidate_id: str, *, interviewer: str, interviewer_name: str,
              channel: str | None = None, thread_ts: str | None = None, use_prebrief: bool = True,
              members: Collection[str] | None = None) -> StartedInterview:
        """``POST /pluto/candidates/{id}/interview``; when Pluto no longer has the candidate (a newer run
        replaced it) an ad-hoc room named for them is made instead, and the brief comes from the run.
        Only someone who may see the run may start one: who started it, anyone in ``members``, or
        whoever :meth:`AccessService.may_see_run` lets in."""
        run = self._run(run_id)
        if not self.access.may_see_run(interviewer, run.run_id, members).allowed:
            raise NotAllowed("Only people who can see this shortlist can start an interview from it.",
                                  hint="Ask someone in the shortlist's channel to add you.")
        candidate = run.candidate(candidate_id)
        if candidate is None:
            raise NotFoundHere("That candidate is not in this shortlist any more.",
                                         hint="Run /pluto results for the latest one.")
        fallback = False
        try:
            room = self.pluto.start_interview(candidate_id, interviewer_name, use_prebrief=use_prebrief)
        except PlutoError as exc:
            if exc.status != 404:
                raise
            room, fallback = self.pluto.create_room(interviewer_name, candidate.name), True
        record = self._record(room, "candidate", interviewer, interviewer_name, CANDIDATE_ROOM_TTL,
                              run_id=run_id, candidate_id=candidate_id, candidate_name=candidate.name,
                              channel=channel or run.channel, thread_ts=thread_ts or run.thread_ts)
        return StartedInterview(record, room.access(interviewer_name), room.realtime, fallback)

    def create_adhoc(self, *, interviewer: str, interviewer_name: str, candidate_name: str | None = None,
                     channel: str | None = None, thread_ts: str | None = None, run_id: str | None = None,
                     candidate_id: str | None = None) -> StartedInterview:
        """``POST /rooms`` for an interview outside a scoring run (``/pluto room [candidate name]``).
        Pass ``run_id``/``candidate_id`` when the name matched a shortlisted candidate."""
        if candidate_id and run_id:
            found = self._run(run_id).candidate(candidate_id)
            if found is None:
                raise NotFoundHere("That candidate is not in this shortlist any more.")
            candidate_name = candidate_name or found.name
        room = self.pluto.create_room(interviewer_name, candidate_name or None)
        record = self._record(room, "adhoc", interviewer, interviewer_name, ADHOC_ROOM_TTL, run_id=run_id,
                              candidate_id=candidate_id, candidate_name=candidate_name or "",
                              channel=channel, thread_ts=thread_ts)
        return StartedInterview(record, room.access(interviewer_name), room.realtime)

    def _record(self, room: Room, kind: str, interviewer: str, interviewer_name: str, ttl: float, *,
                run_id: str | None, candidate_id: str | None, candidate_name: str, channel: str | None,
                thread_ts: str | None) -> InterviewRoom:
        if not room.room_name:
            raise PlutoError("Pluto made a room but did not say its name.", hint="Try again in a minute.")
        expires, estimated = room.expires_at, False
        if expires is None:  # the candidate route does not say; the room itself does
            try:
                expires = self.pluto.room_info(room.room_name).expires_at
            except PlutoError:
                expires = None
        if expires is None:
            expires, estimated = self.clock() + ttl, True
        row = {"id": uuid.uuid4().hex[:12], "room_name": room.room_name, "kind": kind, "run_id": run_id,
               "candidate_id": candidate_id, "candidate_name": candidate_name, "interviewer": interviewer,
               "interviewer_name": interviewer_name, "interviewers_json": [interviewer], "channel": channel,
               "thread_ts": thread_ts, "card_ts": None, "expires_at": expires, "expiry_estimated": estimated,
               "state": "live", "brief_json": None, "brief_source": None, "interview_id": None,
               "analytics_json": None, "score": None, "recommendation": None, "save_state": None,
               "analyzed_at": None, "created_at": now(), "updated_at": now()}
        self.store.insert(TABLE, row)
        log.info("interview room %s (%s) recorded for run %s", room.room_name, kind, run_id)
        return InterviewRoom.from_row(row)

    # -- people --------------------------------------------------------------------------------
    def invite_candidate(self, room_id: str, *, user: str, members: Collection[str] | None = None) -> Invitation:
        """A candidate join link (``participant_type=candidate``), for ``user`` to send on."""
        room = self._usable(room_id, user, members, "invite the candidate")
        name = room.candidate_name or "Candidate"
        access = self._join(room, name, "candidate")
        return Invitation(room, access, invited_by=user)

    def add_interviewer(self, room_id: str, *, user: str, colleague: str, colleague_name: str,
                        members: Collection[str] | None) -> Invitation:
        """A join link for a colleague, who must be allowed to see the run (be in ``members``)."""
        room = self._usable(room_id, user, members, "add an interviewer")
        if not self._may(room, colleague, members):
            raise NotAllowed(f"{colleague_name or 'That person'} can't see this shortlist, so I can't "
                                  "let them into its interview.", hint="Invite them to the channel first.")
        access = self._join(room, colleague_name or colleague, "interviewer")
        if colleague not in room.interviewers:
            room = self._update(room.id, interviewers_json=[*room.interviewers, colleague])
        return Invitation(room, access, invited_by=user, for_user=colleague)

    def _join(self, room: InterviewRoom, name: str, participant_type: str) -> RoomAccess:
        try:
            return self.pluto.join_room(room.room_name, name, participant_type)
        except RoomGoneError as exc:
            raise RoomExpiredError(f"The room for {room.candidate_name or 'this interview'} has closed.",
                                   status=exc.status, hint="Start a new interview.") from exc

    # -- during ---------------------------------------------------------------------------------
    def brief(self, room_id: str, *, user: str, members: Collection[str] | None = None,
              refresh: bool = False) -> Brief:
        """The candidate's cached pre-brief, else one generated for this room from the run's job
        description and the candidate's resume fields. Kept with the room for the assistant."""
        room = self._allowed(self.get(room_id), user, members, "read this brief")
        return self._brief(room, refresh)

    def _brief(self, room: InterviewRoom, refresh: bool = False) -> Brief:
        row = self.store.get(TABLE, room.id) or {}
        if not refresh and isinstance(row.get("brief_json"), dict):
            return Brief(room, PreBrief.from_api(row["brief_json"]), row.get("brief_source") or "cached")
        brief, source = None, "cached"
        if room.candidate_id:
            try:
                brief = self.pluto.prebrief(room.candidate_id)
            except PlutoError as exc:
                if exc.status not in (400, 404, 409, 422):  # 5xx or unreachable: say so, don't guess
                    raise
                log.info("no cached brief for %s (%s); generating one", room.candidate_id, exc.status)
        if brief is None:
            run = self._run(room.run_id) if room.run_id else None
            candidate = self._candidate(room, run)
            if candidate is None:
                raise NoCandidateError("This room has no candidate, so there is nothing to brief on.",
                                       hint="Start the interview from a candidate card to get a brief.")
            brief = self.pluto.generate_prebrief(room.room_name, run.job_description if run else "",
                                                 candidate.resume_text())
            source = "generated"
        room = self._update(room.id, brief_json=brief.raw, brief_source=source)
        return Brief(room, brief, source)

    def chat(self, room_id: str, *, user: str, message: str, history: Sequence[ChatTurn] = (),
             members: Collection[str] | None = None) -> AssistantReply:
        """One assistant turn: ``message``, the thread's earlier turns as history, the brief as context."""
        room = self._usable(room_id, user, members, "ask the assistant")
        message = message.strip()
        if not message:
            raise BadInput("Ask the assistant something after mentioning me.")
        turns = [ChatTurn(t.role if t.role in ("user", "assistant") else "user", t.content[:MAX_TURN_CHARS])
                 for t in history if t.content.strip()][-MAX_HISTORY_TURNS:]
        context = None
        try:
            context = self._brief(room).brief.as_context()
        except BotError as exc:  # the assistant still helps without a brief
            log.info("assistant for %s runs without a brief: %s", room.room_name, exc)
        try:
            reply = self.pluto.chat(room.room_name, message[:MAX_TURN_CHARS], context, turns)
        except RoomGoneError as exc:
            raise RoomExpiredError("This interview room has closed.", status=exc.status) from exc
        return AssistantReply(self.get(room.id), reply.text or "(the assistant had nothing to say)",
                              len(turns), bool(context))

    def voice_assistant(self, room_id: str, *, user: str, members: Collection[str] | None = None) -> RealtimeSession:
        """An ephemeral realtime session for ``user``. Its client secret is returned, never stored."""
        room = self._usable(room_id, user, members, "start an AI voice session")
        run = self._run(room.run_id) if room.run_id else None
        candidate = self._candidate(room, run)
        jd = run.job_description if run else ""
        session = self.pluto.realtime_session(room.candidate_name or "the candidate", _role_from(jd, candidate),
                                              candidate.resume_text() if candidate else "", jd)
        if not session.client_secret:
            raise PlutoError("Pluto made a realtime session without a client secret.", hint="Try again.")
        return session

    # -- after ------------------------------------------------------------------------------------
    def analyze(self, room_id: str, transcript: str, *, user: str, members: Collection[str] | None = None,
                source: str = "pasted") -> AnalysisResult:
        """``POST /analytics/{room}`` with the job description and resume; then saved to the candidate."""
        room = self._allowed(self.get(room_id), user, members, "analyze this interview")
        text = transcript_text(transcript)
        if len(text.split()) < 5:
            raise TranscriptError("That transcript is empty or too short to analyze.",
                                  hint="Paste the whole conversation, or upload it as a text file.")
        text = text[:MAX_TRANSCRIPT_CHARS]
        run = self._run(room.run_id) if room.run_id else None
        candidate = self._candidate(room, run)
        analytics = self.pluto.analytics(room.room_name, text, (run.job_description if run else None) or None,
                                         candidate.resume_text() if candidate else None)
        interview_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"pluto-bot:{room.id}:{room.room_name}"))
        values: dict[str, Any] = {"state": "analyzed", "analytics_json": analytics.raw, "analyzed_at": now(),
                                  "score": analytics.overall_score, "recommendation": analytics.recommendation,
                                  "interview_id": interview_id}
        if not room.candidate_id:
            room = self._update(room.id, save_state="none", **values)
            return AnalysisResult(room, analytics, source)
        saved, shown, error, state = None, None, None, "saved"
        try:
            saved = self.pluto.save_analytics(room.candidate_id, interview_id, analytics, transcript=text)
        except PlutoError as exc:
            error, state = exc, "unknown" if exc.outcome_unknown else "failed"
            if exc.outcome_unknown:  # it may have landed: look before anyone retries
                shown = self._candidate_now(room.candidate_id)
                if shown is not None and shown.interviewed and shown.interview_score == analytics.overall_score:
                    error, state = None, "saved"
        if state == "saved" and shown is None:
            shown = self._candidate_now(room.candidate_id)
        room = self._update(room.id, save_state=state, **values)
        return AnalysisResult(room, analytics, source, saved, shown, error)

    def voice_sessions(self, room_id: str) -> list[VoiceSessionRef]:
        """Completed Nimrobo voice sessions of the room's candidate (links labelled with their name)."""
        room = self.get(room_id)
        if not room.candidate_name:
            return []
        name = room.candidate_name.strip().casefold()
        rows = [r for r in self.store.rows("voice_links", "session_id is not null", order_by="updated_at desc")
                if (r.get("label") or "").strip().casefold() == name]  # read-only: the voice-link service's table
        nimrobo = self._nimrobo_client()
        found = []
        for row in rows:
            try:
                status = nimrobo.session_status(row["session_id"], row["kind"], row["project_id"]).status
            except ServiceError as exc:
                log.info("voice session %s unreadable: %s", row["session_id"], exc)
                continue
            if status == "completed":
                found.append(VoiceSessionRef(row["session_id"], row["kind"], row["project_id"], row["label"], status))
        return found

    def analyze_voice_session(self, room_id: str, session_id: str, *, user: str,
                              members: Collection[str] | None = None) -> AnalysisResult:
        """Analyze the transcript of a completed Nimrobo voice session of the same candidate."""
        room = self._allowed(self.get(room_id), user, members, "analyze this interview")
        ref = next((s for s in self.voice_sessions(room.id) if s.session_id == session_id), None)
        if ref is None:
            raise TranscriptError(f"I found no completed voice interview of {room.candidate_name or 'this candidate'} "
                                  "with that session.", hint="Paste the transcript instead.")
        transcript = self._nimrobo_client().session_transcript(ref.session_id, ref.kind, ref.project_id)
        return self.analyze(room.id, transcript_text(transcript), user=user, members=members, source="nimrobo")

    def analyze_file(self, room_id: str, file: Mapping[str, Any], *, user: str,
                     members: Collection[str] | None = None) -> AnalysisResult:
        """Analyze a transcript shared as a file (``file``: the file's record, e.g. Slack's ``files.info``)."""
        room = self._allowed(self.get(room_id), user, members, "analyze this interview")
        name = str(file.get("name") or "the file")
        kind = name.rsplit(".", 1)[-1].lower() if "." in name else str(file.get("filetype") or "")
        if kind not in TRANSCRIPT_FILE_TYPES and not str(file.get("mimetype") or "").startswith("text/"):
            raise TranscriptError(f"{name} is not a text transcript.",
                                  hint="Upload a .txt, .vtt, .srt or .json transcript, or paste it.")
        if int(file.get("size") or 0) > MAX_TRANSCRIPT_FILE_BYTES:
            raise TranscriptError(f"{name} is larger than {MAX_TRANSCRIPT_FILE_BYTES // (1024 * 1024)} MB.",
                                  hint="Upload the transcript alone, as text.")
        if self.download is None:
            raise TranscriptError("I can't read shared files here.", hint="Paste the transcript instead.")
        try:
            data = self.download(dict(file))
        except ServiceError as exc:
            raise TranscriptError(f"I couldn't fetch {name}: {exc.message}", status=exc.status,
                                  hint=exc.hint) from exc
        return self.analyze(room.id, file_transcript(name, data), user=user, members=members, source="file")

    # -- intake ----------------------------------------------------------------------------------
    def intake_link(self, candidate_id: str) -> IntakeCheck:
        """A new intake link, checked with ``GET /intake/{id}/validate`` before anyone sees it."""
        link = self.pluto.intake_link(candidate_id)
        if not link.token:
            raise IntakeLinkError("the intake link it sent has no token.", hint="Try again in a minute.")
        validation = self.pluto.validate_intake(candidate_id, link.token)
        if not validation.valid:
            why = f" ({validation.reason})" if validation.reason else ""
            raise IntakeLinkError(f"it issued an intake link it does not accept{why}.",
                                  hint="Try again; if it keeps failing, Pluto's intake is misconfigured.")
        return IntakeCheck(link, validation)

    def voice_intake(self, candidate_id: str) -> LiveKitToken:
        """A LiveKit voice intake session: the room and the questions it will ask. The token is a secret."""
        token = self.pluto.livekit_token(candidate_id)
        if not token.token:
            raise IntakeLinkError("no voice intake token came back.", hint="Try again in a minute.")
        return token

    # -- internals -------------------------------------------------------------------------------
    def _update(self, room_id: str, **values: Any) -> InterviewRoom:
        values["updated_at"] = now()
        self.store.update(TABLE, room_id, values)
        return self.get(room_id)

    def _may(self, room: InterviewRoom, user: str, members: Collection[str] | None) -> bool:
        return self.access.may_use_room(user, room.id, members).allowed

    def _allowed(self, room: InterviewRoom, user: str, members: Collection[str] | None, what: str) -> InterviewRoom:
        if not self._may(room, user, members):
            raise NotAllowed(f"Only the interviewers, or people who can see this shortlist, can {what}.")
        return room

    def _usable(self, room_id: str, user: str, members: Collection[str] | None, what: str) -> InterviewRoom:
        room = self._allowed(self.get(room_id), user, members, what)
        if not room.is_live(self.clock()):
            raise RoomExpiredError(f"The room for {room.candidate_name or 'this interview'} has closed.",
                                   hint="Start a new interview, or analyze the transcript.")
        return room

    def _run(self, run_id: str | None) -> RunContext:
        run = self.scoring.get(run_id) if self.scoring is not None and run_id else None
        if run is None:
            raise NotFoundHere("That shortlist is no longer available.", hint="Run /pluto results.")

        return RunContext(run.id, run.channel, run.thread_ts, run.job_description or "", list(run.candidates),
                          getattr(run, "user", "") or "")

    def _candidate(self, room: InterviewRoom, run: RunContext | None) -> Candidate | None:
        """The candidate's fields: from the run as scored, else from Pluto, else none."""
        if not room.candidate_id:
            return None
        found = run.candidate(room.candidate_id) if run else None
        return found or self._candidate_now(room.candidate_id)

    def _candidate_now(self, candidate_id: str) -> Candidate | None:
        try:
            return self.pluto.candidate(candidate_id)
        except PlutoError:
            return None

    def _nimrobo_client(self) -> Any:
        if self._nimrobo is None:
            raise TranscriptError("Voice interviews are not set up here.", hint="Paste the transcript instead.")
        return self._nimrobo()
