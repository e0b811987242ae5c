"""The data lifecycle in Slack: the daily purge (files deleted, listing messages replaced), erasure of one
person (``/pluto forget``), the audit CSV (``/pluto audit``), the subject-access zip
(``/pluto export-person``) and the workspace's whole export (``/pluto admin export``). The rules and the
records are ``services/lifecycle.py``, ``services/audit.py`` and ``services/workspace_export.py``; this
module only tells Slack.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.blocks import Message, info_message
from bot.blocks.lifecycle import ambiguous_message, erasure_summary, redacted_message, removed_message
from bot.blocks.lifecycle import forget_question as question_message
from bot.blocks.pluto import shortlist_message
from bot.blocks.voice import card_message
from bot.context import Services
from bot.delivery import Deliveries, after_sent
from bot.flows.screening import show_board
from bot.slack_out import SlackOut
from services.audit import audit_csv
from services.errors import NotAllowed, NotFoundHere
from services.lifecycle import Artifact, PurgeResult
from services.workspace_export import export_workspace as export_workspace_zip
from services.workspaces import current_workspace

log = logging.getLogger(__name__)

ADMINS_ONLY = ("Only workspace admins and the bot's admins (`ADMIN_USER_IDS`) can {what}: it reaches personal "
               "data of people outside this workspace.")


def require_admin(services: Services, user: str, what: str) -> None:
    if not services.access.is_admin(user):
        raise NotAllowed(ADMINS_ONLY.format(what=what))


# -- the daily purge ------------------------------------------------------------------------------
def purge(services: Services, client: Any) -> PurgeResult:
    """Remove what outlived ``DATA_RETENTION_DAYS``: rows first, then the bot's files (``files.delete``)
    and the messages that listed candidates (replaced by a short note); old audit entries too."""
    days = int(services.settings.data_retention_days)
    result = services.lifecycle.purge(days)
    out = SlackOut(client)
    done: list[Artifact] = []
    for file in result.files:
        if delete_file(client, file.file_id):
            done.append(file)
    note = removed_message(days)
    deliveries = Deliveries(services, out)
    for message in result.messages:
        try:  # through the outbox: an update of the same message still waiting there is replaced by the note
            deliveries.update(_conversation(out, message), message.ts, note)
            done.append(message)
        except SlackApiError as exc:  # the DM could not be opened: tried again next time
            log.warning("retention: could not replace %s (%s)", message.id, _error(exc))
    services.lifecycle.drop_artifacts(done)
    audit_gone = services.audit.purge(services.settings.audit_retention_days)
    if not result.empty or audit_gone:
        log.info("retention: removed %d runs, %d boards, %d rooms, %d links, %d intakes; %d files deleted, "
                 "%d messages replaced; %d audit entries", len(result.runs), len(result.boards), len(result.rooms),
                 result.links, result.intakes, len([d for d in done if d.kind == "file"]),
                 len([d for d in done if d.kind == "message"]), audit_gone)
    return result


def delete_file(client: Any, file_id: str) -> bool:
    """``files.delete`` one of the bot's files; True when it is gone (or already was)."""
    try:
        client.files_delete(file=file_id)
        return True
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else str(exc)
        if error in ("file_not_found", "file_deleted"):
            return True
        log.warning("could not delete file %s (%s)", file_id, error)
        return False


# -- erasure ------------------------------------------------------------------------------------
def forget_question(services: Services, user: str, query: str) -> Message:
    """``/pluto forget <e-mail or name>``: privately, what would be erased, with Erase / Cancel."""
    require_admin(services, user, "erase a person's data")
    return question_message(services.lifecycle.find(query))


def forget(services: Services, client: Any, user: str, query: str) -> Message:
    """Erase the person ``query`` names (after the admin confirmed): the database, then the bot's own files and
    messages that name them; the private summary says what was done and what could not be."""
    require_admin(services, user, "erase a person's data")
    found = services.lifecycle.find(query)
    if found.empty:
        return info_message(f"I hold nothing (any more) about *{query}*.")
    if found.ambiguous:
        return ambiguous_message(found, "forget")
    result = services.lifecycle.erase(found, requested_by=user)
    out = SlackOut(client)
    done: list[str] = []
    not_done: list[str] = []
    _delete_files(services, client, result.files, done, not_done)
    _show_again(services, out, result.runs, result.boards, done, not_done)
    redacted = 0
    deliveries = Deliveries(services, out)
    for message in result.messages:
        try:
            if message.what == "voice_card":  # the batch's card again, without their line
                batch, lines = services.voicelinks.card(message.id.removeprefix("batch:"))
                deliveries.update(message.channel, message.ts, card_message(batch, lines))
            else:
                deliveries.update(_conversation(out, message), message.ts, redacted_message())
            redacted += 1
        except SlackApiError as exc:
            not_done.append(f"a message in <#{message.channel}> could not be redacted ({_error(exc)})")
    if result.messages:
        done.append(f"{redacted} of my messages naming them redacted or shown again without them (interview "
                    "posts and DMs, Interview cards, voice link cards)")
    done.append("Messages I sent privately (ephemeral answers, modals) are not kept by Slack and can't be reached")
    return erasure_summary(result, done, not_done)


def _delete_files(services: Services, client: Any, files: list[Artifact], done: list[str],
                  not_done: list[str]) -> None:
    deleted = []
    for file in files:
        if delete_file(client, file.file_id):
            deleted.append(file)
        else:
            not_done.append(f"file `{file.file_id}` in <#{file.channel}> could not be deleted; delete it by hand")
    services.lifecycle.drop_artifacts(deleted)
    if files:
        done.append(f"{len(deleted)} of my files that listed them deleted (exports, transcripts); "
                    "`/pluto export` makes a new export without them")


def _show_again(services: Services, out: SlackOut, runs: list[str], boards: list[str], done: list[str],
                not_done: list[str]) -> None:
    """The shortlists and boards that listed the person, shown again without them."""
    for run_id in runs:
        run = services.scoring.get(run_id)
        listings = [a for a in services.lifecycle.artifacts(runs=[run_id]) if a.what == "shortlist"]
        for listing in listings:
            if run is not None:
                Deliveries(services, out).update(listing.channel, listing.ts, shortlist_message(run))
    if runs:
        done.append(f"{len(runs)} shortlists shown again without them")
    for board_id in boards:
        try:
            show_board(services, out, board_id)
        except Exception as exc:  # the board message may be gone; the rows are
            not_done.append(f"screening board `{board_id}` could not be updated ({exc})")
    if boards:
        done.append(f"{len(boards)} screening boards shown again without them")


def _conversation(out: SlackOut, message: Artifact) -> str:
    """Where ``message`` is: a DM the outbox sent names the person, whose DM channel it opens."""
    return out.dm_channel(message.channel) if message.what == "outbox_dm" else message.channel


def _error(exc: SlackApiError) -> str:
    return str(exc.response.get("error")) if exc.response is not None else str(exc)


# -- audit and subject access ---------------------------------------------------------------------
USER_RE = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$|^([UW][A-Z0-9]{5,})$")


def parse_audit_args(args: str) -> tuple[str, float | None]:
    """``[candidate or user] [days]``: the subject (may be empty) and the days (None: all)."""
    words = args.split()
    days = None
    if words and re.fullmatch(r"\d+(?:\.\d+)?", words[-1]):
        days = float(words.pop())
    return " ".join(words), days


def audit(services: Services, client: Any, user: str, channel: str, args: str) -> Message:
    """``/pluto audit [candidate or user] [days]``: the entries as a CSV, privately (the admin's DM)."""
    require_admin(services, user, "read the audit trail")
    subject, days = parse_audit_args(args)
    match = USER_RE.match(subject)
    if match:
        entries = services.audit.entries(match.group(1) or match.group(2), days)
    elif subject:
        found = services.lifecycle.find(subject) if not re.fullmatch(r"[\w-]{6,}", subject) else None
        ids = tuple(found.candidate_ids) if found is not None else ()
        entries = services.audit.entries("" if ids else subject, days, candidate_ids=ids)
    else:
        entries = services.audit.entries("", days)
    what = f" about *{subject}*" if subject else ""
    span = f" in the last {days:g} days" if days else ""
    out = SlackOut(client)
    file_id = out.upload_privately(user, audit_csv(entries), "pluto-audit.csv", "Audit trail",
                                   comment=f"{len(entries)} audit entries{what}{span}. Only you can see this file.")
    services.audit.record(user, "audit_export", channel=channel, delivery="dm", file_id=file_id)
    return info_message(f":ledger: {len(entries)} audit entries{what}{span} were sent to you by DM as a CSV.")


def export_person(services: Services, client: Any, user: str, channel: str, query: str) -> Message:
    """``/pluto export-person <e-mail>``: one zip of everything held about that person, privately."""
    require_admin(services, user, "export a person's data")
    found = services.lifecycle.find(query)
    if found.empty:
        raise NotFoundHere(f"I hold nothing about *{query}* (exact e-mail or full name).")
    if found.ambiguous:
        return ambiguous_message(found, "export-person")
    ids = tuple(found.candidate_ids)
    audit_rows = [{"at": e.at, "user_id": e.user_id, "action": e.action, "run_id": e.run_id,
                   "candidate_id": e.candidate_id, "session_id": e.session_id, "file_id": e.file_id,
                   "channel": e.channel, "delivery": e.delivery}
                  for e in (services.audit.entries("", None, candidate_ids=ids) if ids else [])]
    data = services.lifecycle.export_zip(found, audit_rows)
    safe = re.sub(r"[^\w.@-]+", "_", found.query)[:60] or "person"
    file_id = SlackOut(client).upload_privately(user, data, f"subject-access-{safe}.zip",
                                                "Subject access export",
                                                comment=f"Everything I hold about {found.query} "
                                                        f"({found.total} records). Only you can see this file.")
    services.audit.record(user, "person_export", channel=channel, delivery="dm", file_id=file_id,
                          candidate_id=" ".join(ids)[:500])
    return info_message(f":package: Everything I hold about *{found.query}* ({found.total} records) was sent to "
                        "you by DM as one zip.")


# -- the workspace's data, before the bot leaves ------------------------------------------------------
WORKSPACE_EXPORT = "workspace_export"  # outbox keys: workspace_export:<user>:<time>


def export_workspace(services: Services, client: Any, user: str, channel: str) -> Message:
    """``/pluto admin export``: every table of this workspace's store as a zip of CSVs, to the admin's DM
    through the outbox (never a channel); the zip leaves the outbox once Slack has it."""
    if not services.access.is_admin(user):
        raise NotAllowed("Only workspace admins and owners, and the bot's admins (`ADMIN_USER_IDS`), can export this "
                         "workspace's data: it holds every candidate, interview and decision made here.")
    key = current_workspace()
    workspace = services.workspaces.get(key) if key else None
    at = services.clock.now()
    export = export_workspace_zip(services.workspaces.data_store(key), key,
                                  name=workspace.name if workspace else "", at=at)
    with services.outbox.transaction():  # the zip and its audit entry, or neither; the sender hears of it after
        Deliveries(services, SlackOut(client)).upload_dm(
            f"{WORKSPACE_EXPORT}:{user}:{int(at)}", user, export.data, export.filename,
            "Workspace data export", comment=f"Everything I hold for this workspace: {len(export.tables)} tables, "
                                             f"{export.rows} rows, one CSV each (README.txt says what each is). "
                                             "Only you can see this file.")
        services.audit.record(user, "workspace_export", channel=channel, delivery="dm")
    return info_message(f":package: This workspace's data ({len(export.tables)} tables, {export.rows} rows) is on its "
                        "way to you by DM as one zip of CSVs. Only you can see it.")


@after_sent(WORKSPACE_EXPORT)
def _export_delivered(services: Services, out: SlackOut, row: dict[str, Any], ts: str | None) -> None:
    """Slack has the zip: its copy in the outbox goes (the row stays, so it is never sent twice)."""
    services.outbox.drop_file_content(row["key"])
