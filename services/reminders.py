"""What is due to whom, and when: feedback reminders, decision nudges, expiry warnings, daily digests,
and each person's notification settings. Nothing here knows Slack.

What is due is computed from the rooms, boards and links themselves each time the ``reminders``
job looks (every ``REMINDER_CHECK_SECONDS`` on a cron trigger, on the leader). ``reminder_state``
only records what was already done about each reminder (how many sent, when, snoozed until), so
a restart or a new leader neither repeats nor loses one. Times are local to the person (their
Slack time zone) or to the channel's digest (the setter's time zone): nothing is sent in quiet
hours (``QUIET_HOURS``, default 20:00 to 08:00) or on weekends; those wait for the next morning.

The rules:

* **Feedback.** A live interview room closes (its expiry, when Pluto gave one) or, without a close
  time, ``REMINDER_FIRST_AFTER_SECONDS`` after it started: each interviewer is reminded, then again
  every ``REMINDER_REPEAT_SECONDS`` (skipping weekends), at most ``REMINDER_MAX`` times, until the
  interview is analyzed or a decision is recorded for the candidate (on the room or its board).
* **Decisions waiting.** A board's owner hears of its completed, undecided candidates once the
  oldest has waited ``DECISION_NUDGE_AFTER_SECONDS``; one message lists them all; it repeats like
  feedback while any still wait.
* **Links about to expire unused.** ``EXPIRY_WARNING_SECONDS`` before a link with no session
  expires, its creator hears of it once (grouped with their other such links).
* **Digest.** ``/pluto digest 09:00`` posts yesterday's news in the channel at 09:00 (the setter's
  time zone) on business days; an empty day posts nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from config import Settings
from services.clock import Clock
from services.errors import NotAllowed, NotFoundHere, Refusal
from services.store import Store

PREFS, STATE, DIGESTS = "notification_prefs", "reminder_state", "channel_digests"
COMPLETIONS = {"mine": "Mine", "following": "All I follow", "off": "Off"}
DAY = 86400.0
_TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$", re.IGNORECASE)


# -- time: quiet hours, weekends, time zones -----------------------------------------------------
def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@dataclass(frozen=True)
class QuietHours:
    """No reminder from ``start``:00 to ``end``:00 local time (wrapping midnight), nor on weekends."""

    start: int | None = 20  # None: no quiet hours (weekends still wait)
    end: int = 8

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        text = (text or "").strip().lower()
        if text in ("off", "none", ""):
            return cls(None, 8)
        start, _, end = text.partition("-")
        return cls(int(start) % 24, int(end) % 24)

    def describe(self) -> str:
        if self.start is None:
            return "none (weekends still wait)"
        return f"{self.start:02d}:00–{self.end:02d}:00 and weekends"

    def quiet(self, hour: int) -> bool:
        if self.start is None or self.start == self.end:
            return False
        if self.start > self.end:
            return hour >= self.start or hour < self.end
        return self.start <= hour < self.end

    def next_allowed(self, at: float, tz: str | None) -> float:
        """``at`` itself when a reminder may go out then, else the first moment after it that may."""
        place = zone(tz)
        local = datetime.fromtimestamp(at, place)
        if local.weekday() < 5 and not self.quiet(local.hour):
            return at  # exactly: a round trip through datetime may move it by a microsecond
        morning = self.end if self.start is not None else 0
        for _ in range(10):
            if local.weekday() >= 5:  # Saturday or Sunday: Monday morning
                local = (local + timedelta(days=7 - local.weekday())).replace(hour=morning, minute=0, second=0,
                                                                             microsecond=0)
                continue
            if self.quiet(local.hour):
                start = self.start if self.start is not None else 0
                next_day = local.hour >= start and start > self.end
                base = local + timedelta(days=1) if next_day else local
                local = base.replace(hour=self.end, minute=0, second=0, microsecond=0)
                continue
            break
        return local.timestamp()


def parse_time_of_day(text: str) -> str:
    """``"9"``, ``"09:00"``, ``"9am"``, ``"5:30 pm"`` → ``"HH:MM"``; :class:`Refusal` otherwise."""
    match = _TIME.match((text or "").strip())
    if not match:
        raise Refusal(f"`{text}` is not a time of day. Try `/pluto digest 09:00` (or `/pluto digest off`).")
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), (match.group(3) or "").lower()
    if half == "pm" and hour < 12:
        hour += 12
    if half == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        raise Refusal(f"`{text}` is not a time of day. Try `/pluto digest 09:00`.")
    return f"{hour:02d}:{minute:02d}"


def _iso_ts(value: Any) -> float | None:
    if value in (None, ""):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


# -- records ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Prefs:
    """One person's notification settings; the defaults suit someone who set nothing."""

    user: str
    completions: str = "mine"  # completed interviews by DM: mine | following | off
    reminders: bool = True
    quiet_hours: str = ""  # "": the workspace's QUIET_HOURS
    digest_dm: bool = False  # the channel digest also by DM

    @classmethod
    def from_row(cls, user: str, row: dict[str, Any] | None) -> Prefs:
        if not row:
            return cls(user)
        return cls(user, completions=row.get("completions") or "mine", reminders=bool(row.get("reminders", 1)),
                   quiet_hours=row.get("quiet_hours") or "", digest_dm=bool(row.get("digest_dm")))


@dataclass(frozen=True)
class WaitingCandidate:
    board_id: str
    candidate_id: str
    name: str
    headline: str
    since: float


@dataclass(frozen=True)
class ExpiringLink:
    link_id: str
    label: str
    kind: str  # project | instant
    project_name: str
    expires_at: float
    channel: str
    creator: str = ""


@dataclass(frozen=True)
class Reminder:
    """One reminder due now: ``n`` were sent before it."""

    key: str
    kind: str  # feedback | decision | expiry
    user: str
    n: int
    due_at: float
    subject: str = ""  # room id | board id
    candidate: str = ""
    role: str = ""
    since: float = 0.0  # when the interview ended / the oldest waited since
    waiting: tuple[WaitingCandidate, ...] = ()
    links: tuple[ExpiringLink, ...] = ()

    @property
    def occurrence(self) -> str:
        """The idempotency key of this one delivery."""
        return f"reminder:{self.key}:{self.n}"


@dataclass(frozen=True)
class DigestSetting:
    channel: str
    at_time: str
    tz: str
    set_by: str
    enabled: bool
    updated_at: float = 0.0

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> DigestSetting:
        return cls(row["channel"], row["at_time"], row.get("tz") or "UTC", row.get("set_by") or "",
                   bool(row.get("enabled")), row.get("updated_at") or 0.0)


@dataclass(frozen=True)
class DigestDue:
    setting: DigestSetting
    day: str  # the local date it is for, YYYY-MM-DD
    since: float
    until: float

    @property
    def key(self) -> str:
        return f"digest:{self.setting.channel}:{self.day}"


@dataclass
class Digest:
    channel: str
    day: str
    completed: list[tuple[str, str]] = field(default_factory=list)  # (candidate, evaluation headline)
    runs: list[tuple[str, int]] = field(default_factory=list)  # (role, candidates ranked)
    decisions: list[tuple[str, str, str]] = field(default_factory=list)  # (candidate, decision, who)
    waiting: list[WaitingCandidate] = field(default_factory=list)
    expiring: list[ExpiringLink] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.completed or self.runs or self.decisions or self.waiting or self.expiring)


# -- the service -------------------------------------------------------------------------------------
class ReminderService:
    """Due reminders and digests from stored state; what was sent is recorded here."""

    def __init__(self, store: Store, settings: Settings, clock: Clock, tz_of: Callable[[str], str | None]) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.tz_of = tz_of

    # -- personal settings ---------------------------------------------------------------------------
    def prefs(self, user: str) -> Prefs:
        return Prefs.from_row(user, self.store.get(PREFS, user))

    def set_prefs(self, user: str, **changes: Any) -> Prefs:
        prefs = replace(self.prefs(user), **changes)
        if prefs.completions not in COMPLETIONS:
            raise Refusal("Completions by DM are mine, all I follow, or off.")
        if prefs.quiet_hours:
            QuietHours.parse(prefs.quiet_hours)
        self.store.upsert(PREFS, {"user_id": user, "completions": prefs.completions,
                                  "reminders": int(prefs.reminders), "quiet_hours": prefs.quiet_hours,
                                  "digest_dm": int(prefs.digest_dm), "updated_at": self.clock.now()}, pk="user_id")
        return prefs

    def quiet_hours_of(self, user: str) -> QuietHours:
        return QuietHours.parse(self.prefs(user).quiet_hours or self.settings.quiet_hours)

    def allowed_at(self, user: str, at: float) -> float:
        return self.quiet_hours_of(user).next_allowed(at, self.tz_of(user))

    def completion_dm_targets(self, session_id: str) -> list[str]:
        """Who gets this completed interview by DM, from what the bot knows of its link, board and follows."""
        links = self.store.rows("voice_links", "session_id = ?", [session_id], limit=1)
        link = links[0] if links else {}
        creator = link.get("creator") or None
        choice: dict[str, bool] = {}
        # by the link, not the session: the board records the session only after this runs (the watcher)
        screened = (self.store.rows("screening_links", "link_id = ?", [link["id"]], limit=1) if link else
                    self.store.rows("screening_links", "session_id = ?", [session_id], limit=1))
        if screened and screened[0].get("creator"):
            row = self.store.get("screening_dm", f"{screened[0]['board_id']}|{screened[0]['creator']}")
            creator = creator or screened[0]["creator"]
            if row is not None:
                choice[screened[0]["creator"]] = bool(row.get("enabled"))
        followers = [r["requested_by"] for r in self.store.rows("session_watches", "session_id = ?", [session_id])
                     if r.get("requested_by")]
        if link.get("project_id"):
            followers += [r["created_by"] for r in self.store.rows("project_subscriptions", "project_id = ?",
                                                                   [link["project_id"]]) if r.get("created_by")]
        return self.completion_recipients(creator, choice, followers)

    def completion_recipients(self, creator: str | None, board_choice: dict[str, bool],
                              followers: Iterable[str] = ()) -> list[str]:
        """Who gets a completed interview by DM: the link's creator ("mine", the default), the people who
        watch the session or subscribed its project ("all I follow"); a choice made on a board wins."""
        out: list[str] = []
        for user in [u for u in [creator, *followers] if u]:
            if user in out:
                continue
            if user in board_choice:
                if board_choice[user]:
                    out.append(user)
                continue
            wanted = self.prefs(user).completions
            if wanted == "following" or (wanted == "mine" and user == creator):
                out.append(user)
        return out

    # -- what was done ----------------------------------------------------------------------------
    def _state(self, key: str) -> dict[str, Any]:
        return self.store.get(STATE, key) or {"key": key, "sent_count": 0, "last_sent_at": None,
                                              "snoozed_until": None}

    def mark_sent(self, reminder: Reminder) -> None:
        """Record that ``reminder`` went out (idempotent: the occurrence number only moves forward)."""
        for key in self._keys(reminder):
            row = self._state(key)
            if (row.get("sent_count") or 0) > reminder.n:
                continue
            self.store.upsert(STATE, {"key": key, "kind": reminder.kind, "user_id": reminder.user,
                                      "subject": reminder.subject or key.split("|")[1],
                                      "sent_count": reminder.n + 1, "last_sent_at": self.clock.now(),
                                      "snoozed_until": row.get("snoozed_until"),
                                      "created_at": row.get("created_at") or self.clock.now()}, pk="key")

    @staticmethod
    def _keys(reminder: Reminder) -> list[str]:
        if reminder.kind == "expiry":
            return [f"expiry|{link.link_id}" for link in reminder.links]
        return [reminder.key]

    def snooze(self, key: str, user: str, seconds: float = DAY) -> float:
        """Hold ``key``'s next reminder a day longer than it would wait; when it comes now. Only the
        person reminded may."""
        row = self.store.get(STATE, key)
        if row is None:
            raise NotFoundHere("That reminder is no longer open.")
        if row.get("user_id") != user:
            raise NotAllowed("Only the person reminded can snooze it.")
        now = self.clock.now()
        regular = float(row["last_sent_at"]) + self.settings.reminder_repeat_seconds if row.get("last_sent_at") else now
        until = max(now, regular, float(row.get("snoozed_until") or 0)) + seconds  # a day later than it would come
        self.store.update(STATE, key, {"snoozed_until": until})
        return self.allowed_at(user, until)

    # -- due ----------------------------------------------------------------------------------------
    def due(self, at: float | None = None) -> list[Reminder]:
        at = self.clock.now() if at is None else at
        return [*self.feedback_due(at), *self.decisions_due(at), *self.expiry_due(at)]

    def _next(self, key: str, user: str, first: float, at: float, limit: int) -> tuple[int, float] | None:
        """(occurrence, due time) when ``key`` is due at ``at``; None when not (yet)."""
        if not self.prefs(user).reminders:
            return None
        row = self._state(key)
        n = int(row.get("sent_count") or 0)
        if n >= limit:
            return None
        when = first if n == 0 else float(row["last_sent_at"]) + self.settings.reminder_repeat_seconds
        when = max(when, float(row.get("snoozed_until") or 0))
        when = self.allowed_at(user, when)
        if at < when or self.allowed_at(user, at) > at:  # not yet, or now is quiet for them (the job was away)
            return None
        return n, when

    def feedback_due(self, at: float) -> list[Reminder]:
        settings = self.settings
        horizon = settings.reminder_first_after_seconds + settings.reminder_repeat_seconds * (
            settings.reminder_max + 4) * 2 + 14 * DAY
        rooms = self.store.rows("interview_rooms", "state != ? and (decision is null or decision = ?) and "
                                "created_at > ?", ["analyzed", "", at - horizon], order_by="created_at")
        decided = self._decided_candidates([r["candidate_id"] for r in rooms if r.get("candidate_id")])
        out = []
        for room in rooms:
            if room.get("candidate_id") and room["candidate_id"] in decided:
                continue
            closes = room.get("expires_at") if not room.get("expiry_estimated") else None
            first = float(closes) if closes else float(room["created_at"]) + settings.reminder_first_after_seconds
            if at < first:
                continue
            interviewers = room.get("interviewers_json") or [room["interviewer"]]
            if isinstance(interviewers, str):
                interviewers = json.loads(interviewers)
            for user in dict.fromkeys([room["interviewer"], *interviewers]):
                key = f"feedback|{room['id']}|{user}"
                due = self._next(key, user, first, at, settings.reminder_max)
                if due:
                    out.append(Reminder(key, "feedback", user, due[0], due[1], subject=room["id"],
                                        candidate=room.get("candidate_name") or "the candidate",
                                        role=self._role(room.get("run_id")), since=first))
        return out

    def _role(self, run_id: str | None) -> str:
        if not run_id:
            return ""
        from services.screening import role_from

        run = self.store.get("scoring_runs", run_id)
        return role_from(run.get("job_description") or "", run.get("filename") or "")[0] if run else ""

    def _decided_candidates(self, candidate_ids: list[str]) -> set[str]:
        if not candidate_ids:
            return set()
        marks = ",".join("?" * len(candidate_ids))
        rows = self.store.execute(f"select distinct candidate_id from screening_decisions where undone_at is null "
                                  f"and candidate_id in ({marks})", list(candidate_ids))
        return {r["candidate_id"] for r in rows}

    def waiting(self, board_id: str, at: float | None = None) -> list[WaitingCandidate]:
        """A board's completed interviews with no decision yet, longest waiting first."""
        links = self.store.rows("screening_links", "board_id = ? and outcome = ?", [board_id, "completed"],
                                order_by="finished_seen_at")
        decided = {r["candidate_id"] for r in self.store.rows("screening_decisions",
                                                               "board_id = ? and undone_at is null", [board_id])}
        out, seen = [], set()
        for link in links:
            if link["candidate_id"] in decided or link["candidate_id"] in seen:
                continue
            seen.add(link["candidate_id"])
            since = link.get("finished_seen_at") or _iso_ts(link.get("completed_at")) or link.get("updated_at") or 0
            out.append(WaitingCandidate(board_id, link["candidate_id"], link.get("candidate_name") or link["label"],
                                        headline_of(link), float(since)))
        return out

    def decisions_due(self, at: float) -> list[Reminder]:
        settings = self.settings
        boards = self.store.execute("select distinct b.id, b.created_by from screening_boards b join screening_links l "
                                    "on l.board_id = b.id where l.outcome = ?", ["completed"])
        out = []
        for board in boards:
            waiting = self.waiting(board["id"], at)
            if not waiting or not board.get("created_by"):
                continue
            first = min(w.since for w in waiting) + settings.decision_nudge_after_seconds
            if at < first:
                continue
            user = board["created_by"]
            key = f"decision|{board['id']}|{user}"
            due = self._next(key, user, first, at, settings.reminder_max)
            if due:
                out.append(Reminder(key, "decision", user, due[0], due[1], subject=board["id"],
                                    since=min(w.since for w in waiting), waiting=tuple(waiting)))
        return out

    def expiring_links(self, at: float, channel: str | None = None) -> list[ExpiringLink]:
        """Links with no session yet that expire within ``EXPIRY_WARNING_SECONDS`` of ``at``."""
        where = "(l.session_id is null or l.session_id = ?) and l.expires_at is not null and " \
                "(l.status is null or l.status in (?, ?))"
        params: list[Any] = ["", "active", ""]
        if channel:
            where += " and l.channel = ?"
            params.append(channel)
        rows = self.store.execute("select l.id, l.label, l.kind, l.expires_at, l.channel, l.creator, b.project_name "
                                  "from voice_links l left join voice_batches b on b.id = l.batch_id where " + where,
                                  params)
        out = []
        for row in rows:
            expires = _iso_ts(row["expires_at"])
            if expires is None or not at < expires <= at + self.settings.expiry_warning_seconds:
                continue
            out.append(ExpiringLink(row["id"], row.get("label") or row["id"], row.get("kind") or "project",
                                    row.get("project_name") or ("Instant links" if row.get("kind") == "instant"
                                                                else "Voice links"), expires,
                                    row.get("channel") or "", row.get("creator") or ""))
        return sorted(out, key=lambda link: (link.project_name, link.expires_at))

    def expiry_due(self, at: float) -> list[Reminder]:
        by_creator: dict[str, list[ExpiringLink]] = {}
        for link in self.expiring_links(at):
            creator = link.creator
            if not creator or self.store.get(STATE, f"expiry|{link.link_id}"):
                continue
            if not self.prefs(creator).reminders:
                continue
            when = self.allowed_at(creator, at)
            if when > at:
                continue
            by_creator.setdefault(creator, []).append(link)
        return [Reminder(f"expiry|{min(link.link_id for link in links)}|{user}", "expiry", user, 0, at,
                         links=tuple(links)) for user, links in by_creator.items()]

    # -- decisions from a reminder --------------------------------------------------------------------
    def decide_room(self, room_id: str, decision: str, user: str) -> dict[str, Any]:
        """Record a decision on a room (from its feedback reminder); the room's row."""
        room = self.store.get("interview_rooms", room_id)
        if room is None:
            raise NotFoundHere("That interview is no longer known here.")
        if user not in (room.get("interviewers_json") or []) and user != room.get("interviewer"):
            raise NotAllowed("Only the room's interviewers can decide from this reminder.")
        self.store.update("interview_rooms", room_id, {"decision": decision, "decided_by": user,
                                                       "decided_at": self.clock.now()})
        return {**room, "decision": decision}

    # -- the digest ---------------------------------------------------------------------------------
    def set_digest(self, channel: str, at_text: str, user: str) -> DigestSetting:
        at_time = parse_time_of_day(at_text)
        row = {"channel": channel, "at_time": at_time, "tz": self.tz_of(user) or "UTC", "set_by": user,
               "enabled": 1, "updated_at": self.clock.now()}
        self.store.upsert(DIGESTS, row, pk="channel")
        return DigestSetting.from_row(row)

    def digest_off(self, channel: str) -> DigestSetting | None:
        row = self.store.get(DIGESTS, channel)
        if row is None or not row.get("enabled"):
            return None
        self.store.update(DIGESTS, channel, {"enabled": 0, "updated_at": self.clock.now()})
        return DigestSetting.from_row({**row, "enabled": 0})

    def digest_setting(self, channel: str) -> DigestSetting | None:
        row = self.store.get(DIGESTS, channel)
        return DigestSetting.from_row(row) if row and row.get("enabled") else None

    def digests_due(self, posted: Callable[[str], bool], at: float | None = None) -> list[DigestDue]:
        """Channels whose digest time has come today (a business day, local time) and whose digest for
        today is not out yet (``posted(key)``)."""
        at = self.clock.now() if at is None else at
        out = []
        for row in self.store.rows(DIGESTS, "enabled = ?", [1]):
            setting = DigestSetting.from_row(row)
            place = zone(setting.tz)
            local = datetime.fromtimestamp(at, place)
            if local.weekday() >= 5:
                continue
            hour, minute = (int(x) for x in setting.at_time.split(":"))
            today = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
            if local < today or setting.updated_at > today.timestamp():
                continue
            due = DigestDue(setting, today.date().isoformat(), _previous_business_day(today).timestamp(),
                            today.timestamp())
            if not posted(due.key):
                out.append(due)
        return out

    def digest(self, due: DigestDue) -> Digest:
        """What happened in the channel between the last business day's digest time and today's."""
        channel, since, until = due.setting.channel, due.since, due.until
        digest = Digest(channel, due.day)
        for row in self.store.execute(
                "select n.session_id, l.label, s.recommendation, s.summary, s.evaluation_json, s.candidate_name "
                "from session_notifications n left join voice_links l on l.session_id = n.session_id "
                "left join screening_links s on s.session_id = n.session_id "
                "where n.channel = ? and n.posted_at >= ? and n.posted_at < ?", [channel, since, until]):
            digest.completed.append((row.get("candidate_name") or row.get("label") or row["session_id"],
                                     headline_of(row)))
        for row in self.store.rows("scoring_runs", "channel = ? and state = ? and finished_at >= ? and finished_at < ?",
                                   [channel, "complete", since, until], order_by="finished_at"):
            from services.screening import role_from

            results = row.get("results_json") or []
            digest.runs.append((role_from(row.get("job_description") or "", row.get("filename") or "")[0],
                                len(results) if isinstance(results, list) else 0))
        names = {}
        for row in self.store.execute("select l.candidate_id, l.candidate_name from screening_links l join "
                                      "screening_boards b on b.id = l.board_id where b.channel = ?", [channel]):
            names[row["candidate_id"]] = row.get("candidate_name") or row["candidate_id"]
        for row in self.store.execute("select d.candidate_id, d.decision, d.decided_by from screening_decisions d "
                                      "join screening_boards b on b.id = d.board_id where b.channel = ? and "
                                      "d.undone_at is null and d.decided_at >= ? and d.decided_at < ? "
                                      "order by d.decided_at", [channel, since, until]):
            digest.decisions.append((names.get(row["candidate_id"], row["candidate_id"]), row["decision"],
                                     row["decided_by"]))
        for board in self.store.rows("screening_boards", "channel = ?", [channel]):
            digest.waiting += self.waiting(board["id"], until)
        digest.expiring = self.expiring_links(self.clock.now(), channel)
        return digest

    def digest_dm_recipients(self, members: Iterable[str]) -> list[str]:
        """Members of the channel who asked for the digest by DM too."""
        members = list(members)
        if not members:
            return []
        marks = ",".join("?" * len(members))
        return [r["user_id"] for r in self.store.execute(
            f"select user_id from {PREFS} where digest_dm = 1 and user_id in ({marks})", members)]


def _previous_business_day(local: datetime) -> datetime:
    day = local - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def headline_of(row: dict[str, Any]) -> str:
    """One line on how an interview went: its recommendation, else the summary's first sentence."""
    recommendation = (row.get("recommendation") or "").strip()
    if recommendation:
        return recommendation
    summary = row.get("summary")
    if isinstance(summary, str) and summary.strip():
        first = re.split(r"(?<=[.!?])\s", summary.strip(), maxsplit=1)[0]
        return first[:140]
    return "completed"

