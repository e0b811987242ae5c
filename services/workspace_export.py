"""A workspace's data as a zip of CSVs: ``/pluto admin export`` and ``python -m bot export-workspace``.

One CSV per table of the workspace's store (several workspaces: its own store; one workspace: the
main store), every row and column, with a ``README.txt`` saying what each file holds. Left out:

* the deployment's own tables (the leader's heartbeat, the migrations, Slack's installations and
  OAuth states, the registry of workspaces), which are not the workspace's data;
* secrets, even encrypted: the recruiters' Nimrobo keys (``user_keys.ciphertext``) and any column
  named like a key, token or secret (:func:`secret_column`);
* the content of files waiting in or sent through the outbox (an earlier export would otherwise be
  inside the next one); the file's name and size stay.

Cells that begin with ``= + - @`` are escaped (:func:`services.privacy.escape_csv_cell`), so a
spreadsheet never runs them; binary columns (the uploaded CSVs kept as evidence) are base64.
No Slack here: the caller delivers the bytes.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import time
import zipfile
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from services.outbox import without_file_content
from services.privacy import escape_csv_cell
from services.store import Store

#: the deployment's own tables: how the bot runs, not what a workspace put in it
DEPLOYMENT_TABLES = frozenset({
    "schema_migrations", "leader_heartbeat", "workspaces",
    "slack_installations", "slack_bots", "slack_oauth_states",  # slack_sdk's installation and state stores
})
SECRET_COLUMN = re.compile(r"(^ciphertext$|_enc$|_encrypted$|token|secret|password|api_key)", re.IGNORECASE)

#: what each table holds, for the README inside the zip
TABLES: dict[str, str] = {
    "assistant_threads": "Ask Pluto (assistant pane) conversations: the thread and what it was about",
    "audit_log": "who read or exported personal data through the bot, when and where",
    "bot_artifacts": "the Slack files and messages the bot made that list candidates",
    "channel_digests": "channels' daily digest settings",
    "channel_projects": "the Nimrobo voice project each channel uses",
    "erasures": "erasure requests (/pluto forget): who asked, when, how many records",
    "files": "uploaded files kept as evidence (the CSVs scored); content is base64",
    "function_executions": "Workflow Builder step runs",
    "intakes": "uploaded candidate CSVs as checked before scoring",
    "interview_rooms": "live interview rooms: candidate, interviewers, brief, analytics, decision",
    "kv": "small settings and markers the bot keeps (JSON values)",
    "notification_prefs": "people's notification preferences",
    "outbox": "messages and files the bot sent or will send (file contents left out)",
    "pluto_queue": "scoring jobs queued for the Pluto server",
    "project_subscriptions": "channels subscribed to a voice project's completed interviews",
    "reminder_state": "feedback reminders and nudges sent",
    "removed_records": "tombstones of runs, boards and rooms removed by the retention period",
    "scoring_runs": "candidate scoring runs: who, where, the job description and the ranked results",
    "screening_boards": "screening boards (the loop: score, voice-screen, decide)",
    "screening_decisions": "decisions taken on a screening board",
    "screening_dm": "who asked for direct messages about a screening board",
    "screening_links": "candidates on a screening board with their voice interview's outcome",
    "session_notifications": "completed-interview posts (sent once per channel)",
    "session_watches": "voice sessions watched for completion, and where to post",
    "slack_events_seen": "Slack event ids already handled (duplicate deliveries are ignored)",
    "slack_posts": "the bot's posts recorded so they are sent once",
    "user_keys": "recruiters' personal Nimrobo logins (the keys themselves are left out)",
    "voice_batches": "voice link requests (/voicelink create) and their cards",
    "voice_links": "voice interview links made: label, project, status, session (the links themselves are not kept)",
}


def secret_column(name: str) -> bool:
    """A column that holds a secret, even encrypted: never exported."""
    return bool(SECRET_COLUMN.search(name))


@dataclass(frozen=True)
class TableExport:
    name: str
    filename: str
    rows: int
    columns: list[str]
    binary: list[str] = field(default_factory=list)  # columns written as base64
    left_out: list[str] = field(default_factory=list)  # secret columns not exported


@dataclass(frozen=True)
class WorkspaceExport:
    """The zip (``data``) and what is in it."""

    data: bytes
    filename: str
    workspace: str | None
    tables: list[TableExport]

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


def export_workspace(store: Store, workspace: str | None = None, *, name: str = "",
                     at: float | None = None) -> WorkspaceExport:
    """Every table of ``store`` as seen from here (call it inside ``in_workspace(workspace)``, or pass a
    workspace's own store) in one zip of CSVs with a README.txt."""
    at = time.time() if at is None else at
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(at))
    buffer = io.BytesIO()
    tables: list[TableExport] = []
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for table in store.table_names():
            if table in DEPLOYMENT_TABLES:
                continue
            tables.append(_write_table(store, table, archive, _entry(f"{table}.csv", at)))
        archive.writestr(_entry("README.txt", at), readme(tables, workspace, name, at))
    filename = f"pluto-workspace-{workspace or 'data'}-{stamp}.zip"
    return WorkspaceExport(buffer.getvalue(), filename, workspace, tables)


def _entry(filename: str, at: float) -> zipfile.ZipInfo:
    """A file of the zip, dated when the export was made."""
    entry = zipfile.ZipInfo(filename, date_time=time.gmtime(max(at, 315532800.0))[:6])  # zip dates start in 1980
    entry.compress_type = zipfile.ZIP_DEFLATED
    return entry


def _write_table(store: Store, table: str, archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> TableExport:
    described = store.table(table)
    columns = [c.name for c in described.columns] if described is not None else []
    binary = [c.name for c in described.columns if isinstance(c.type, sa.LargeBinary)] if described is not None else []
    kept = [c for c in columns if not secret_column(c)]
    left_out = [c for c in columns if secret_column(c)]
    order = " order by 1" if columns else ""
    rows = store.execute(f'select * from "{table}"{order}')  # raw: JSON stays as stored text
    with archive.open(entry, "w") as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as text:
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow([escape_csv_cell(c) for c in kept])
        for row in rows:
            if table == "outbox":
                row = _without_file_content(row)
            writer.writerow([_cell(row.get(c)) for c in kept])
    return TableExport(table, entry.filename, len(rows), kept, [c for c in binary if c in kept], left_out)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bytes | bytearray | memoryview):  # base64 may begin with "+": escaped like any cell
        value = base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False)
    return escape_csv_cell(value)


def _without_file_content(row: dict[str, Any]) -> dict[str, Any]:
    """An outbox row whose payload is a file: its name and size, not its content."""
    try:
        payload = json.loads(row.get("payload_json") or "{}")
    except (TypeError, ValueError):
        return row
    shown = without_file_content(payload) if isinstance(payload, dict) else payload
    return row if shown is payload else {**row, "payload_json": json.dumps(shown, ensure_ascii=False)}


def readme(tables: list[TableExport], workspace: str | None, name: str, at: float) -> str:
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(at))
    whose = f"workspace {name} ({workspace})" if name and workspace else f"workspace {workspace or name}" \
        if workspace or name else "this Slack workspace"
    lines = [
        f"Pluto Bot: everything it holds for {whose}, exported {when}.",
        "",
        "One CSV file per table of the bot's database, every row (UTF-8, comma-separated, first line the",
        "column names). Times are UNIX seconds (UTC). Columns ending in _json hold JSON. A cell that began",
        "with = + - or @ starts with an apostrophe, so a spreadsheet shows it as text instead of running it.",
        "Binary columns are base64. Ids refer to Slack (users U..., channels C.../D...), Pluto candidates",
        "and runs, and Nimrobo voice projects, links and sessions; those services keep their own copies.",
        "",
        "Left out: secrets, even encrypted (personal Nimrobo keys, tokens), the content of files the bot",
        "sent (their name and size stay in outbox.csv), and the deployment's own tables (Slack tokens,",
        "migrations, the leader's heartbeat).",
        "",
        "Files:",
    ]
    for table in tables:
        about = TABLES.get(table.name, f"the bot's {table.name.replace('_', ' ')} records")
        notes = []
        if table.binary:
            notes.append("base64: " + ", ".join(table.binary))
        if table.left_out:
            notes.append("left out: " + ", ".join(table.left_out))
        extra = f" [{'; '.join(notes)}]" if notes else ""
        lines.append(f"- {table.filename} ({table.rows} rows): {about}{extra}")
    lines.append("- README.txt: this file")
    return "\n".join(lines) + "\n"
