"""The audit trail: who read or exported which personal data through the bot, when, and where.

One append-only table (``audit_log``): :meth:`AuditLog.record` is the only writer and nothing
updates a row; rows leave only when they are older than ``AUDIT_RETENTION_DAYS``
(:meth:`AuditLog.purge`). An entry names the thing read (run, candidate id, session, board,
room, file) and never holds the data itself: no names, e-mails, transcripts or scores.

:meth:`AuditLog.entries` answers ``/pluto audit [candidate or user] [days]``; :func:`audit_csv`
writes them as a CSV with every cell escaped (``= + - @``).
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, fields
from typing import Any

from services.privacy import write_csv
from services.store import Store, now

TABLE = "audit_log"
DAY = 86400.0

#: what a person can read through the bot, as the audit names it
ACTIONS = {
    "export_full_dm": "the full ranking with contact details, by DM",
    "export_channel": "the full ranking shared in a private conversation",
    "shortlist": "a shortlist with contact details, shown privately (/pluto results)",
    "candidate_details": "a candidate's details",
    "candidate_brief": "a candidate's pre-interview brief",
    "room_brief": "an interview room's brief",
    "transcript": "an interview transcript",
    "evaluation": "an interview evaluation",
    "summary": "an interview summary",
    "audio_link": "an interview recording's audio link",
    "board_export": "a screening board export, by DM",
    "board_details": "a screened candidate's details",
    "person_export": "everything held about one person (subject access export)",
    "audit_export": "the audit trail",
    "workspace_export": "everything the bot holds for the workspace (/pluto admin export or the operator's CLI)",
}


@dataclass(frozen=True)
class AuditEntry:
    id: str
    at: float
    user_id: str
    action: str
    run_id: str = ""
    candidate_id: str = ""
    session_id: str = ""
    board_id: str = ""
    room_id: str = ""
    file_id: str = ""
    channel: str = ""
    delivery: str = ""

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> AuditEntry:
        names = {f.name for f in fields(cls)}
        values: dict[str, Any] = {k: ("" if v is None else v) for k, v in row.items() if k in names}
        return cls(**values)


COLUMNS = ("at_utc", "user_id", "action", "run_id", "candidate_id", "session_id", "board_id", "room_id", "file_id",
           "channel", "delivery")


class AuditLog:
    def __init__(self, store: Store) -> None:
        self.store = store

    def record(self, user: str, action: str, *, channel: str = "", delivery: str = "", run_id: str = "",
               candidate_id: str = "", session_id: str = "", board_id: str = "", room_id: str = "",
               file_id: str | None = "") -> AuditEntry:
        """Append one entry. ``action`` is one of :data:`ACTIONS`."""
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        entry = AuditEntry(uuid.uuid4().hex, now(), user, action, run_id or "", candidate_id or "",
                           session_id or "", board_id or "", room_id or "", file_id or "", channel or "",
                           delivery or "")
        self.store.insert(TABLE, asdict(entry))
        return entry

    def entries(self, subject: str = "", days: float | None = None, *,
                candidate_ids: tuple[str, ...] = ()) -> list[AuditEntry]:
        """Entries newest first; ``subject`` a Slack user id (``U…`` or ``<@U…>``), a candidate, run or
        session id; ``candidate_ids``: entries about any of them (a person found by name or e-mail)."""
        where: list[str] = ["1 = 1"]
        params: list[Any] = []
        if days:
            where.append("at >= ?")
            params.append(now() - float(days) * DAY)
        subject = subject.strip().removeprefix("<@").split("|")[0].rstrip(">")
        ors: list[str] = []
        if subject:
            ors.append("user_id = ? or candidate_id = ? or run_id = ? or session_id = ? or board_id = ?"
                       " or room_id = ?")
            params += [subject] * 6
        if candidate_ids:
            ors.append("candidate_id in (" + ", ".join("?" for _ in candidate_ids) + ")")
            params += list(candidate_ids)
        if ors:
            where.append("(" + " or ".join(ors) + ")")
        return [AuditEntry.from_row(r) for r in self.store.rows(TABLE, " and ".join(where), params,
                                                                 order_by="at desc")]

    def purge(self, days: float) -> int:
        """Forget entries older than ``days``; how many went."""
        cutoff = now() - float(days) * DAY
        with self.store.transaction():
            gone = self.store.count(TABLE, "at < ?", [cutoff])
            self.store.execute(f"delete from {TABLE} where at < ?", [cutoff])
        return gone


def audit_csv(entries: list[AuditEntry]) -> bytes:
    """The entries as a CSV (UTC times, every cell escaped)."""
    import datetime as dt

    def when(at: float) -> str:
        return dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")

    return write_csv(COLUMNS, [[when(e.at), e.user_id, e.action, e.run_id, e.candidate_id, e.session_id, e.board_id,
                                e.room_id, e.file_id, e.channel, e.delivery] for e in entries])
