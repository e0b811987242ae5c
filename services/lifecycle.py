"""Candidate data has a lifetime: retention, erasure on request, a subject-access export. No Slack here.

* **Artifacts.** The Slack files and messages the bot made that hold candidate data are recorded
  (``bot_artifacts``) with the run, board, room or session they came from. Board messages,
  Interview cards, voice cards and completed-interview posts are already kept by their own
  tables; they are read from there.
* **Retention** (:meth:`Lifecycle.purge`). Everything older than ``DATA_RETENTION_DAYS`` goes:
  runs (results, the uploaded CSV and its normalised copy on disk, the intake), screening boards
  with their rows and decisions, interview rooms (brief, analytics), voice links and batches,
  watches with their labels, and the outbox rows of those runs. What stays is a tombstone per run,
  board and room (``removed_records``: when, after how many days, counts and a score
  distribution, no personal data), so a later click is answered "removed", never an error. The
  :class:`PurgeResult` lists the Slack files to delete and the messages to replace.
* **Erasure** (:meth:`Lifecycle.find` then :meth:`Lifecycle.erase`). One person, by e-mail or
  full name, across every run, board, room, voice link label, watch and stored CSV. Erasure
  records only who asked, when and how many records (``erasures``).
* **Subject access** (:meth:`Lifecycle.export_zip`): one zip of everything held about a person.

On SQLite, deleted content is overwritten (``PRAGMA secure_delete``) and the WAL is
checkpointed and truncated after a purge or an erasure, so the database file and its WAL keep
no trace of what was removed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import uuid
import zipfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.store import Store, now

DAY = 86400.0
ARTIFACTS, REMOVED, ERASURES = "bot_artifacts", "removed_records", "erasures"
ERASED = "[erased]"
#: what lists a whole run or board: a file is deleted whole, a message shown again without the person
LISTINGS = frozenset({"shortlist", "export", "export_dm", "board_export"})
OUTBOX = "outbox"
#: the outbox keys of a run's shortlist and exports (bot/flows/scoring.py): kind and what
OUTBOX_RUN_KEYS = {"pluto_scoring_completed": ("message", "shortlist"), "pluto_export": ("file", "export"),
                   "pluto_export_dm": ("file", "export_dm")}
#: outbox keys of messages that list many candidates: shown again without the person, never redacted whole
LISTING_KEYS = frozenset({"pluto_scoring_completed", "screening_board"})
KIND_WORDS = {"run": "shortlist", "board": "screening board", "room": "interview room"}


def removed_note(store: Store, record_id: str) -> str | None:
    """The polite answer for a run, board or room the retention purge removed (None: never purged)."""
    row = store.get(REMOVED, record_id) if record_id else None
    if row is None:
        return None
    what = KIND_WORDS.get(row.get("kind") or "", "record")
    return (f":wastebasket: The candidate data of this {what} was removed after {row.get('days')} days, under the "
            "team's data retention rule. Nothing more can be shown; start a new run with `/pluto score`.")


@dataclass(frozen=True)
class Artifact:
    id: str
    kind: str  # file | message
    what: str
    channel: str = ""
    ts: str = ""
    file_id: str = ""
    run_id: str = ""
    board_id: str = ""
    room_id: str = ""
    session_id: str = ""
    candidate_id: str = ""

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Artifact:
        return cls(**{k: (row.get(k) or "") for k in ("id", "kind", "what", "channel", "ts", "file_id", "run_id",
                                                      "board_id", "room_id", "session_id", "candidate_id")})


@dataclass
class PurgeResult:
    days: int
    runs: list[str] = field(default_factory=list)
    boards: list[str] = field(default_factory=list)
    rooms: list[str] = field(default_factory=list)
    links: int = 0
    intakes: int = 0
    files: list[Artifact] = field(default_factory=list)  # Slack files to delete
    messages: list[Artifact] = field(default_factory=list)  # Slack messages to replace with the note

    @property
    def empty(self) -> bool:
        return not (self.runs or self.boards or self.rooms or self.links or self.intakes or self.files
                    or self.messages)


@dataclass
class PersonRecords:
    """Every record of one person: what :meth:`Lifecycle.find` found."""

    query: str
    names: set[str] = field(default_factory=set)  # casefolded
    emails: set[str] = field(default_factory=set)  # casefolded
    candidates: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (run id, candidate as stored)
    board_links: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    voice_links: list[dict[str, Any]] = field(default_factory=list)
    batches: list[dict[str, Any]] = field(default_factory=list)
    watches: list[dict[str, Any]] = field(default_factory=list)
    rooms: list[dict[str, Any]] = field(default_factory=list)
    intakes: list[dict[str, Any]] = field(default_factory=list)  # intakes whose stored CSV holds them
    csv_rows: list[dict[str, Any]] = field(default_factory=list)  # their rows of those CSVs

    @property
    def run_ids(self) -> list[str]:
        return list(dict.fromkeys(run for run, _ in self.candidates))

    @property
    def candidate_ids(self) -> list[str]:
        ids = [str(c.get("id")) for _, c in self.candidates if c.get("id")]
        ids += [r["candidate_id"] for r in self.board_links + self.rooms if r.get("candidate_id")]
        return list(dict.fromkeys(ids))

    @property
    def board_ids(self) -> list[str]:
        return list(dict.fromkeys(r["board_id"] for r in self.board_links))

    @property
    def session_ids(self) -> list[str]:
        ids = [r.get("session_id") for r in self.board_links + self.voice_links + self.watches]
        return list(dict.fromkeys(i for i in ids if i))

    @property
    def link_ids(self) -> list[str]:
        ids = [r["link_id"] for r in self.board_links] + [r["id"] for r in self.voice_links]
        return list(dict.fromkeys(ids))

    @property
    def counts(self) -> dict[str, int]:
        return {"scoring runs": len(self.run_ids), "screening board rows": len(self.board_links),
                "decisions": len(self.decisions), "voice links": len(self.link_ids),
                "voice batches": len(self.batches), "watched sessions": len(self.watches),
                "interview rooms": len(self.rooms), "uploaded CSV files": len(self.intakes)}

    @property
    def total(self) -> int:
        return len(self.candidates) + len(self.board_links) + len(self.decisions) + len(self.voice_links) + \
            len(self.batches) + len(self.watches) + len(self.rooms) + len(self.intakes)

    @property
    def empty(self) -> bool:
        return self.total == 0

    @property
    def by_name(self) -> bool:
        return "@" not in self.query

    @property
    def strict_matcher(self) -> Matcher:
        """For rows that carry an e-mail (CSV rows): asked by e-mail, only that e-mail is them (another
        person may share the name)."""
        return Matcher(self.names if self.by_name else (), self.emails)

    @property
    def ambiguous(self) -> bool:
        """A name shared by people with different e-mails: erasing or exporting them all would be wrong."""
        return self.by_name and len(self.emails) > 1


@dataclass
class ErasureResult:
    erasure_id: str
    records: int
    counts: dict[str, int]
    runs: list[str]  # shortlists to show again without the person
    boards: list[str]  # boards to show again without the person
    files: list[Artifact]  # Slack files naming them (the whole file is deleted)
    messages: list[Artifact]  # Slack messages naming them, to redact
    pluto_candidates: list[str]  # ids to erase in Pluto (no delete endpoint)
    nimrobo_links: list[str]  # ids to erase in Nimrobo (no delete endpoint)
    nimrobo_sessions: list[str]
    not_done: list[str] = field(default_factory=list)


def _norm(text: Any) -> str:
    return re.sub(r"\s+", " ", str(text or "")).strip().casefold()


class Lifecycle:
    def __init__(self, store: Store) -> None:
        self.store = store

    # -- artifacts ------------------------------------------------------------------------------
    def record_file(self, file_id: str | None, channel: str, what: str, **about: str | None) -> None:
        """A file the bot uploaded (``files_upload_v2``) that holds candidate data."""
        if file_id:
            self._artifact(f"file:{file_id}", "file", what, channel=channel, file_id=file_id, **about)

    def record_message(self, channel: str, ts: str | None, what: str, **about: str | None) -> None:
        """A message the bot posted that names candidates (a shortlist, interview questions ...)."""
        if ts:
            self._artifact(f"msg:{channel}:{ts}", "message", what, channel=channel, ts=ts, **about)

    def _artifact(self, artifact_id: str, kind: str, what: str, **values: str | None) -> None:
        row = {"id": artifact_id, "kind": kind, "what": what, "created_at": now(),
               **{k: v or None for k, v in values.items()}}
        self.store.upsert(ARTIFACTS, row, pk="id")

    def artifacts(self, *, runs: Iterable[str] = (), boards: Iterable[str] = (), rooms: Iterable[str] = (),
                  sessions: Iterable[str] = (), candidates: Iterable[str] = ()) -> list[Artifact]:
        found: dict[str, Artifact] = {}
        for column, values in (("run_id", runs), ("board_id", boards), ("room_id", rooms),
                               ("session_id", sessions), ("candidate_id", candidates)):
            values = [v for v in dict.fromkeys(values) if v]
            for chunk in _chunks(values):
                for row in self.store.rows(ARTIFACTS, f"{column} in ({', '.join('?' for _ in chunk)})", chunk):
                    found[row["id"]] = Artifact.from_row(row)
        for artifact in self._outbox_of_runs(runs):
            found.setdefault(artifact.id, artifact)
        return list(found.values())

    def _outbox_of_runs(self, runs: Iterable[str]) -> list[Artifact]:
        """A run's shortlist and exports, as the outbox sent them (their ts and file ids)."""
        if self.store.table(OUTBOX) is None:
            return []
        found = []
        for run_id in dict.fromkeys(runs):
            for prefix, (kind, what) in OUTBOX_RUN_KEYS.items():
                row = self.store.get(OUTBOX, f"{prefix}:{run_id}")
                if not row or row.get("state") != "sent" or not row.get("message_ts"):
                    continue
                ts = str(row["message_ts"])
                found.append(Artifact(f"outbox:{row['key']}", kind, what, row["channel"] or "",
                                      ts if kind == "message" else "", ts if kind == "file" else "", run_id=run_id))
        return found

    def _outbox_mentions(self, match: Matcher, listings: set[tuple[str, str]]) -> tuple[list[Artifact],
                                                                                       list[Artifact]]:
        """The outbox rows whose payload names the person: the sent files and messages (not the listings,
        which are shown again) for Slack, and the payloads themselves dropped (sent) or redacted (not yet)."""
        files, messages = [], []
        for row in self.store.rows(OUTBOX, "payload_json is not null"):
            payload = row.get("payload_json")
            if isinstance(payload, str):
                try:
                    payload = json.loads(payload)
                except ValueError:
                    pass
            if not match.mentions(payload):
                continue
            sent = row.get("state") == "sent"
            self.store.update(OUTBOX, row["key"], {"payload_json": None if sent or row.get("state") == "undeliverable"
                                                   else match.scrub(payload)})
            if not sent or not row.get("message_ts"):
                continue
            kind, key, channel, ts = row.get("kind"), row["key"], row.get("channel") or "", str(row["message_ts"])
            if kind in ("upload", "upload_dm"):
                files.append(Artifact(f"outbox:{key}", "file", "outbox_file", channel, file_id=ts))
            elif key.split(":", 1)[0] in LISTING_KEYS:
                continue
            elif kind in ("post", "dm", "update"):
                if kind == "update" and isinstance(payload, dict):
                    ts = str(payload.get("ts") or ts)
                if (channel, ts) not in listings:
                    messages.append(Artifact(f"outbox:{key}", "message", "outbox_dm" if kind == "dm" else "outbox_post",
                                             channel, ts))
        return files, messages

    def drop_artifacts(self, artifacts: Iterable[Artifact]) -> None:
        """Forget artifacts once Slack has been told (deleted or replaced)."""
        for artifact in artifacts:
            self.store.delete(ARTIFACTS, artifact.id)

    # -- retention ------------------------------------------------------------------------------
    def purge(self, days: int) -> PurgeResult:
        """Remove every candidate record older than ``days``; the Slack files and messages to deal with."""
        cutoff = now() - float(days) * DAY
        store = self.store
        result = PurgeResult(days)
        runs = store.rows("scoring_runs", "state not in ('uploading', 'running') and "
                          "coalesce(finished_at, created_at) < ?", [cutoff])
        result.runs = [r["id"] for r in runs]
        boards = [b for b in store.rows("screening_boards") if b["run_id"] in set(result.runs)
                  or (b.get("created_at") or 0) < cutoff]
        result.boards = [b["id"] for b in boards]
        rooms = [r for r in store.rows("interview_rooms") if (r.get("created_at") or 0) < cutoff
                 or (r.get("run_id") and r["run_id"] in set(result.runs))]
        result.rooms = [r["id"] for r in rooms]
        links = store.rows("voice_links", "created_at < ?", [cutoff])
        batches = store.rows("voice_batches", "created_at < ?", [cutoff])
        board_links = [row for chunk in _chunks(result.boards) for row in
                       store.rows("screening_links", f"board_id in ({', '.join('?' for _ in chunk)})", chunk)]
        sessions = {r["session_id"] for r in links + board_links if r.get("session_id")}
        sessions |= {r["session_id"] for r in store.rows("session_watches", "created_at < ?", [cutoff])}
        notes = [n for n in store.rows("session_notifications", "coalesce(posted_at, claimed_at) < ? and "
                                       "message_ts is not null", [cutoff])
                 if store.get(REMOVED, f"post:{n['channel']}:{n['message_ts']}") is None]
        kept_intakes = {r.get("intake_id") for r in store.rows("scoring_runs")} - {r.get("intake_id") for r in runs}
        intakes = [i for i in store.rows("intakes", "created_at < ?", [cutoff]) if i["id"] not in kept_intakes]

        artifacts = self.artifacts(runs=result.runs, boards=result.boards, rooms=result.rooms, sessions=sessions)
        artifacts += [a for a in self._leftovers() if a.id not in {b.id for b in artifacts}]
        result.files = [a for a in artifacts if a.kind == "file"]
        result.messages = [a for a in artifacts if a.kind == "message"]
        known = {a.id for a in artifacts}
        fresh = [Artifact(f"board:{b['id']}", "message", "board", b["channel"], b["message_ts"],
                          board_id=b["id"]) for b in boards if b.get("message_ts")]
        fresh += [Artifact(f"room:{r['id']}", "message", "card", r["channel"], r["card_ts"], room_id=r["id"])
                  for r in rooms if r.get("card_ts")]
        fresh += [Artifact(f"batch:{b['id']}", "message", "voice_card", b["channel"], b["card_ts"])
                  for b in batches if b.get("card_ts") and b.get("channel")]
        fresh += [Artifact(f"post:{n['channel']}:{n['message_ts']}", "message", "interview_post", n["channel"],
                           n["message_ts"], session_id=n["session_id"]) for n in notes]
        if store.table(OUTBOX) is not None:  # the completion DMs the outbox sent about those interviews
            fresh += [Artifact(f"outbox:{r['key']}", "message", "outbox_dm", r["channel"], str(r["message_ts"]),
                               session_id=sid)
                      for sid in sorted(sessions) for r in store.rows(
                          OUTBOX, "key like ? and state = 'sent' and message_ts is not null", [f"interview_dm:{sid}:%"])
                      if store.get(REMOVED, f"outbox:{r['key']}") is None]
        fresh = [a for a in fresh if a.id not in known]
        result.messages += fresh
        result.links = len(links) + len(board_links)
        result.intakes = len(intakes)
        if result.empty:
            return result

        paths = [r.get("csv_path") for r in runs] + [i.get("normalized_path") for i in intakes]
        # asked before the transaction: looking up a missing table re-reads the schema, which must not run inside it
        outboxes = [t for t in ("slack_posts", OUTBOX) if store.table(t) is not None]
        with store.transaction():
            for run in runs:
                self._tombstone(run["id"], "run", days, _aggregates(run.get("results_json")))
            for board in boards:
                self._tombstone(board["id"], "board", days, {})
            for room in rooms:
                self._tombstone(room["id"], "room", days, {})
            for note in notes:
                self._tombstone(f"post:{note['channel']}:{note['message_ts']}", "post", days, {})
            for batch in batches:
                self._tombstone(f"batch:{batch['id']}", "batch", days, {})
            for artifact in fresh:  # kept until Slack has them replaced: a failed update is tried again next time
                if artifact.what == "outbox_dm":
                    self._tombstone(artifact.id, "post", days, {})
                self._artifact(artifact.id, artifact.kind, artifact.what, channel=artifact.channel, ts=artifact.ts,
                               board_id=artifact.board_id, room_id=artifact.room_id, session_id=artifact.session_id)
            self._purge_rows(result, links, batches, intakes, artifacts, cutoff, outboxes)
        for path in paths:
            _unlink(path)
        self.compact()
        return result

    def _purge_rows(self, result: PurgeResult, links: list[dict[str, Any]], batches: list[dict[str, Any]],
                    intakes: list[dict[str, Any]], artifacts: list[Artifact], cutoff: float,
                    outboxes: list[str]) -> None:
        """The database part of a purge (inside its transaction)."""
        store = self.store
        self._delete_in("screening_links", "board_id", result.boards)
        self._delete_in("screening_decisions", "board_id", result.boards)
        self._delete_in("screening_dm", "board_id", result.boards)
        self._delete_in("screening_boards", "id", result.boards)
        self._delete_in("interview_rooms", "id", result.rooms)
        self._delete_in("voice_links", "id", [r["id"] for r in links])
        self._delete_in("voice_batches", "id", [b["id"] for b in batches])
        store.execute("delete from session_watches where created_at < ?", [cutoff])
        self._delete_in("scoring_runs", "id", result.runs)
        for artifact in artifacts:  # the outbox's own record of them goes next; keep them until Slack is told
            if artifact.id.startswith("outbox:"):
                self._artifact(artifact.id, artifact.kind, artifact.what, channel=artifact.channel, ts=artifact.ts,
                               file_id=artifact.file_id, run_id=artifact.run_id)
        for table in outboxes:
            for run_id in result.runs:
                store.execute(f"delete from {table} where key like ?", [f"%:{run_id}"])  # outbox rows of the run
        if OUTBOX in outboxes:  # what was sent long ago keeps its key (once-only), not its content
            store.execute(f"update {OUTBOX} set payload_json = null where state in ('sent', 'undeliverable') "
                          "and coalesce(sent_at, created_at) < ?", [cutoff])
        self._delete_in("files", "id", [i.get("file_id") for i in intakes])
        self._delete_in("intakes", "id", [i["id"] for i in intakes])

    def _leftovers(self) -> list[Artifact]:
        """Files and messages of what an earlier purge removed that Slack has not confirmed yet."""
        tombstones = f"(select id from {REMOVED})"
        rows = self.store.rows(ARTIFACTS, f"id in {tombstones} or run_id in {tombstones} or board_id in {tombstones} "
                                          f"or room_id in {tombstones}")
        return [Artifact.from_row(r) for r in rows]

    def _tombstone(self, record_id: str, kind: str, days: int, aggregates: dict[str, Any]) -> None:
        self.store.upsert(REMOVED, {"id": record_id, "kind": kind, "reason": "retention", "days": int(days),
                                    "removed_at": now(), "aggregates_json": aggregates}, pk="id")

    def _delete_in(self, table: str, column: str, values: Iterable[Any]) -> int:
        values = [v for v in dict.fromkeys(values) if v]
        for chunk in _chunks(values):
            self.store.execute(f"delete from {table} where {column} in ({', '.join('?' for _ in chunk)})", chunk)
        return len(values)

    def compact(self) -> None:
        """SQLite: push the WAL into the database file and truncate it (deleted pages are zeroed by
        ``secure_delete``), so removed data lingers in neither file."""
        try:
            self.store.checkpoint()
        except Exception:  # another process is reading; the next checkpoint does it
            pass

    # -- one person ---------------------------------------------------------------------------
    def find(self, query: str) -> PersonRecords:
        """Every record of the person ``query`` names: an e-mail (exact), or a full name (exact, any case).
        The runs come first: an e-mail gives the person's names there, a name gives their e-mails, and
        both are then looked for in labels, rooms and uploaded files."""
        query = query.strip().strip("<>").removeprefix("mailto:").split("|")[0].strip()
        found = PersonRecords(query)
        key = _norm(query)
        if not key:
            return found
        (found.emails if "@" in key else found.names).add(key)
        store = self.store
        for run in store.rows("scoring_runs", "results_json is not null"):
            for candidate in run.get("results_json") or []:
                if isinstance(candidate, dict) and (_norm(candidate.get("email")) in found.emails
                                                    or _norm(candidate.get("name")) in found.names):
                    found.candidates.append((run["id"], candidate))
        for _, candidate in found.candidates:
            if candidate.get("name"):
                found.names.add(_norm(candidate["name"]))
            if candidate.get("email"):
                found.emails.add(_norm(candidate["email"]))
        match = Matcher(found.names, found.emails)
        ids = {str(c.get("id")) for _, c in found.candidates if c.get("id")}
        runs_hit = {run for run, _ in found.candidates}
        # rows tied to a candidate id are theirs by the id; by the name only when the name was asked for
        found.board_links = [r for r in store.rows("screening_links")
                             if (r.get("candidate_id") in ids and r.get("run_id") in runs_hit)
                             or (found.by_name and match.names(r.get("candidate_name"), r.get("label")))]
        boards = {r["board_id"] for r in found.board_links}
        hit_ids = {r["candidate_id"] for r in found.board_links}
        found.decisions = [d for d in store.rows("screening_decisions")
                           if d.get("board_id") in boards and d.get("candidate_id") in hit_ids]
        found.voice_links = [r for r in store.rows("voice_links") if match.names(r.get("label"))]
        found.batches = [b for b in store.rows("voice_batches")
                         if any(match.names(label) for label in (b.get("labels_json") or []))]
        found.watches = [w for w in store.rows("session_watches") if match.names(w.get("label"))]
        found.rooms = [r for r in store.rows("interview_rooms")
                       if (r.get("candidate_id") in ids) or ((found.by_name or not r.get("candidate_id"))
                                                             and match.names(r.get("candidate_name")))]
        strict = found.strict_matcher
        for intake in store.rows("intakes"):
            stored = store.load_file(intake["file_id"]) if intake.get("file_id") else None
            rows = strict.csv_rows(stored["content"]) if stored else []
            if rows or any(match.names(n) for n in ((intake.get("report_json") or {}).get("preview") or [])):
                found.intakes.append(intake)
                found.csv_rows += rows
        return found

    def erase(self, found: PersonRecords, *, requested_by: str) -> ErasureResult:
        """Delete or redact every record in ``found``; record the erasure without the person's data."""
        match = Matcher(found.names, found.emails)
        ids = set(found.candidate_ids)
        files, messages = self._slack_of(found, ids)
        listings = {(a.channel, a.ts) for a in self.artifacts(runs=found.run_ids) if a.what in LISTINGS}
        listings |= {(b["channel"], b["message_ts"]) for b in self.store.rows("screening_boards")
                     if b["id"] in set(found.board_ids) and b.get("message_ts")}
        has_outbox = self.store.table(OUTBOX) is not None  # asked outside the transaction (see purge)
        with self.store.transaction():
            outbox_files, outbox_messages = self._outbox_mentions(match, listings) if has_outbox else ([], [])
            known = {a.file_id for a in files}
            files += [a for a in outbox_files if a.file_id not in known]
            known = {(a.channel, a.ts) for a in messages}
            messages += [a for a in outbox_messages if (a.channel, a.ts) not in known]
            paths = self._erase_rows(found, match)
            self._delete_in(ARTIFACTS, "id", [a.id for a in messages if a.id.startswith("msg:")])
            erasure_id = uuid.uuid4().hex[:12]
            self.store.insert(ERASURES, {"id": erasure_id, "requested_by": requested_by, "at": now(),
                                         "records": found.total, "counts_json": found.counts})
        for path in dict.fromkeys(p for p in paths if p):
            try:
                Path(path).write_bytes(found.strict_matcher.without_person(Path(path).read_bytes()))
            except OSError:
                pass
        self.compact()
        return ErasureResult(erasure_id, found.total, found.counts, found.run_ids, found.board_ids, files, messages,
                             pluto_candidates=sorted(ids), nimrobo_links=found.link_ids,
                             nimrobo_sessions=found.session_ids)

    def _slack_of(self, found: PersonRecords, ids: set[str]) -> tuple[list[Artifact], list[Artifact]]:
        """The bot's files that list the person (deleted whole) and its messages that name them (redacted).
        Shortlists and boards are not here: they are shown again without the person."""
        rooms = {r["id"] for r in found.rooms}
        artifacts = self.artifacts(runs=found.run_ids, boards=found.board_ids, sessions=found.session_ids,
                                   candidates=ids, rooms=rooms)
        theirs = [a for a in artifacts if a.what in LISTINGS or a.candidate_id in ids
                  or a.session_id in found.session_ids or a.room_id in rooms]  # not another candidate's transcript
        files = [a for a in theirs if a.kind == "file"]
        messages = [a for a in theirs if a.kind == "message" and a.what not in LISTINGS]
        messages += [Artifact(f"room:{r['id']}", "message", "card", r["channel"], r["card_ts"], room_id=r["id"])
                     for r in found.rooms if r.get("card_ts") and r.get("channel")]
        messages += [Artifact(f"batch:{b['id']}", "message", "voice_card", b["channel"], b["card_ts"])
                     for b in found.batches if b.get("card_ts") and b.get("channel")]
        for session in found.session_ids:
            for note in self.store.rows("session_notifications", "session_id = ? and message_ts is not null",
                                        [session]):
                messages.append(Artifact(f"post:{note['channel']}:{note['message_ts']}", "message", "interview_post",
                                         note["channel"], note["message_ts"], session_id=session))
        return files, messages

    def _erase_rows(self, found: PersonRecords, match: Matcher) -> list[str]:
        """The database part of an erasure (inside its transaction); the CSV files on disk to rewrite."""
        store = self.store
        paths: list[str] = []
        theirs = {(run, str(c.get("id"))) for run, c in found.candidates}
        for run_id in found.run_ids:
            row = store.get("scoring_runs", run_id)
            if row is not None:
                kept = [c for c in row.get("results_json") or []
                        if not (isinstance(c, dict) and (run_id, str(c.get("id"))) in theirs)]
                store.update("scoring_runs", run_id, {"results_json": kept, "redacted_at": now()})
                paths.append(row.get("csv_path") or "")
        for link in found.board_links:
            store.delete("screening_links", link["link_id"])
        for decision in found.decisions:
            store.delete("screening_decisions", decision["id"])
        for link in found.voice_links:
            store.delete("voice_links", link["id"])
        for batch in found.batches:
            store.update("voice_batches", batch["id"], {
                "labels_json": [lbl for lbl in batch.get("labels_json") or [] if not match.names(lbl)],
                "request_json": match.scrub(batch.get("request_json"))})
        for watch in found.watches:
            store.delete("session_watches", (watch["session_id"], watch["channel"]))
        for room in found.rooms:
            store.delete("interview_rooms", room["id"])
        for intake in found.intakes:
            self._erase_from_intake(intake, match, found.strict_matcher)
            paths.append(intake.get("normalized_path") or "")
        return paths

    def _erase_from_intake(self, intake: dict[str, Any], match: Matcher, strict: Matcher) -> None:
        stored = self.store.load_file(intake["file_id"]) if intake.get("file_id") else None
        if stored:
            content = strict.without_person(stored["content"])
            self.store.update("files", stored["id"], {"content": content, "size": len(content),
                                                      "sha256": hashlib.sha256(content).hexdigest()})
        report = intake.get("report_json")
        if isinstance(report, dict):
            self.store.update("intakes", intake["id"], {"report_json": {
                **report, "preview": [n for n in report.get("preview") or [] if not match.names(n)]}})

    def erasures(self) -> list[dict[str, Any]]:
        return self.store.rows(ERASURES, order_by="at desc")

    # -- subject access -------------------------------------------------------------------------
    def export_zip(self, found: PersonRecords, audit_rows: list[dict[str, Any]]) -> bytes:
        """One zip of everything held about the person ``found`` describes (JSON, one file per kind)."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("README.txt", (
                "Everything Pluto Bot holds about one person, as found by an exact match on their e-mail "
                "or full name. Ids refer to Pluto candidates, Nimrobo voice links and sessions, and the bot's own "
                "records; those services hold their own copies.\n"))
            sections: dict[str, Any] = {
                "scoring_results.json": [{"run_id": run, "candidate": c} for run, c in found.candidates],
                "uploaded_csv_rows.json": found.csv_rows,
                "screening.json": [_public(r) for r in found.board_links],
                "decisions.json": [_public(d) for d in found.decisions],
                "voice_links.json": [_public(r) for r in found.voice_links],
                "watched_sessions.json": [_public(w) for w in found.watches],
                "interview_rooms.json": [_public(r) for r in found.rooms],
                "audit.json": audit_rows,
            }
            for name, data in sections.items():
                archive.writestr(name, json.dumps(data, indent=2, default=str, ensure_ascii=False))
        return buffer.getvalue()


class Matcher:
    """Whether a text, a CSV row or a JSON value names one person (full names and e-mails, casefolded)."""

    def __init__(self, names: Iterable[str], emails: Iterable[str]) -> None:
        self.names_ = {n for n in names if n}
        self.emails = {e for e in emails if e}

    def names(self, *texts: Any) -> bool:
        """A label or name is this person: their full name or e-mail, alone or with other words
        (``Ada Lovelace (backend)``)."""
        for text in texts:
            value = _norm(text)
            if not value:
                continue
            if value in self.names_ or any(e in value for e in self.emails):
                return True
            if any(re.search(rf"(?<!\w){re.escape(n)}(?!\w)", value) for n in self.names_):
                return True
        return False

    def mentions(self, value: Any) -> bool:
        """Whether any text inside ``value`` (JSON: a message payload, a file's content) names the person."""
        if isinstance(value, dict):
            return any(self.mentions(v) for v in value.values())
        if isinstance(value, list):
            return any(self.mentions(v) for v in value)
        if isinstance(value, str):
            text = _norm(value)
            return any(e in text for e in self.emails) or \
                any(re.search(rf"(?<!\w){re.escape(n)}(?!\w)", text) for n in self.names_)
        return False

    def row(self, row: list[str]) -> bool:
        cells = {_norm(c) for c in row}
        return bool(cells & self.emails) or bool(cells & self.names_)

    def csv_rows(self, data: bytes) -> list[dict[str, Any]]:
        header, rows = _read_csv(data)
        return [dict(zip(header, row, strict=False)) for row in rows if self.row(row)]

    def without_person(self, data: bytes) -> bytes:
        header, rows = _read_csv(data)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(row for row in rows if not self.row(row))
        return buffer.getvalue().encode("utf-8")

    def scrub(self, value: Any) -> Any:
        """``value`` (JSON) without this person: list items naming them dropped, texts naming them redacted."""
        if isinstance(value, list):
            return [self.scrub(v) for v in value if not (isinstance(v, str) and self.names(v))]
        if isinstance(value, dict):
            return {k: self.scrub(v) for k, v in value.items()}
        if isinstance(value, str):
            for needle in self.emails | self.names_:
                value = re.sub(re.escape(needle), ERASED, value, flags=re.IGNORECASE)
        return value


def _public(row: dict[str, Any]) -> dict[str, Any]:
    """A row for the subject's export: its own fields (no other person is in a per-person row)."""
    return {k: v for k, v in row.items() if v not in (None, "")}


def _aggregates(results: Any) -> dict[str, Any]:
    """What may stay after a purge: how many candidates, tiers, and scores in bands of 10 (no person)."""
    rows = [c for c in results or [] if isinstance(c, dict)]
    bands: Counter[str] = Counter()
    for c in rows:
        score = c.get("final_score", c.get("combined_score"))
        if isinstance(score, int | float):
            low = min(90, int(score // 10 * 10))
            bands[f"{low}-{low + 10}"] += 1
    return {"candidates": len(rows), "tiers": dict(Counter(str(c.get("tier") or "") for c in rows)),
            "score_bands": dict(bands)}


def _read_csv(data: bytes) -> tuple[list[str], list[list[str]]]:
    text = data.decode("utf-8-sig", errors="replace")
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    return (rows[0], rows[1:]) if rows else ([], [])


def _unlink(path: str | None) -> None:
    if path:
        try:
            Path(path).unlink(missing_ok=True)
        except OSError:
            pass


def _chunks(values: list[Any], size: int = 500) -> Iterable[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


