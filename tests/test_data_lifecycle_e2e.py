"""Candidate data has a lifetime, end to end: the real bot over HTTP against the Slack test bed and the
Pluto and Nimrobo simulators, on SQLite and on PostgreSQL.

* retention: a run older than ``DATA_RETENTION_DAYS`` is purged by the scheduled job (rows gone, the
  bot's uploaded files deleted, the shortlist replaced by a note, a later click answered politely);
* erasure: ``/pluto forget`` finds a person across two runs, a screening board and a voice link,
  asks, erases, and neither the database (nor, on SQLite, its file and WAL) keeps their e-mail;
  a non-admin is refused;
* audit: every personal-data read writes one audit row, and ``/pluto audit`` sends them as a CSV;
* subject access: ``/pluto export-person`` sends one zip with everything about them and nobody else.
"""

import csv
import io
import json
import re
import time
import zipfile
from pathlib import Path

import pytest

from bot.blocks.lifecycle import FORGET_CONFIRM
from sandbox.stack import Stack, StackOptions
from services.records import CandidateRef, SessionRef
from tests.conftest import db_options
from tests.test_screening_e2e import CSV, block, form_values, open_screen_form, score
from tests.test_voicelink_e2e import SECTIONS, form, open_modal

USER, OUTSIDER, ADMIN, WS_ADMIN, CHANNEL = "U_ALICE", "U_MALLORY", "U_BOSS", "U_OWNER", "C_HIRING"
DAY = 86400.0


@pytest.fixture()
def stack(database):
    options = StackOptions(pluto={"extract_seconds": 0.2, "score_seconds": 0.3},
                           nimrobo={"evaluation_delay": 0, "summary_delay": 0}, openai=False,
                           settings={"admin_user_ids": (ADMIN,), "retention_check_seconds": 1.0},
                           **db_options(database))
    with Stack(options) as s:
        s.slack.members[CHANNEL] = {USER, s.slack.bot_user_id}
        s.slack.add_user(WS_ADMIN, "Olive Owner", is_owner=True)
        yield s


def responses(stack, user, text):
    return [r for r in stack.slack.responses(user) if text in r["text"] + str(r.get("blocks"))]


def run_of(shortlist):
    return shortlist["metadata"]["event_payload"]["run_id"]


def shortlists(stack):
    return [m for m in stack.slack.messages(CHANNEL)
            if (m.get("metadata") or {}).get("event_type") == "pluto_scoring_completed"]


def score_again(stack):
    """Another run of the same file; its shortlist once posted."""
    before = len(shortlists(stack))
    score(stack)
    return stack.slack.wait_for(lambda: len(shortlists(stack)) > before and shortlists(stack), timeout=20)[-1]


def every_row(stack):
    """Every row of every table of the bot's database, as one string."""
    store = stack.services.store
    tables = [r["name"] for r in store.execute(
        "select tablename as name from pg_tables where schemaname = 'public'" if store.is_postgres
        else "select name from sqlite_master where type = 'table'")]
    return "\n".join(str(store.rows(t)) for t in tables)


# -- retention -------------------------------------------------------------------------------------
def raw_database_holds(database, text):
    """SQLite: whether the database file or its WAL holds ``text`` anywhere, deleted pages included."""
    found = False
    for suffix in ("", "-wal") if not database.startswith("postgresql") else ():
        try:
            with open(database + suffix, "rb") as handle:
                found = found or text.encode() in handle.read()
        except FileNotFoundError:
            pass
    return found


def test_a_run_older_than_the_retention_is_purged_with_its_files_and_listings(stack, database):
    shortlist = score(stack)
    run_id = run_of(shortlist)
    dm = stack.slack.dm_channel(USER)
    exports = stack.slack.wait_for(lambda: [u for u in stack.slack.uploads() if u["channel"] in (CHANNEL, dm)]
                                   if len([u for u in stack.slack.uploads() if u["channel"] in (CHANNEL, dm)]) == 2
                                   else None)
    candidate = stack.services.scoring.run(run_id).candidates[0]
    assert stack.services.store.count("intakes") == 1 and stack.services.store.count("files") == 1
    # a screening board in the thread, and its export by DM (a file of the bot's, for that run)
    _, view = open_screen_form(stack, shortlist, 2)
    stack.signer.view_submission(view, form_values(view), user=USER)
    board = stack.slack.wait_for(lambda: [m for m in stack.slack.messages(CHANNEL)
                                          if (m.get("metadata") or {}).get("event_type") == "screening_board"])[0]
    board_id = block(board, "board_tools|")["block_id"].split("|", 1)[1]
    stack.signer.block_action("board_export", board_id, user=USER, channel=CHANNEL, message=board)
    exports += stack.slack.wait_for(lambda: [u for u in stack.slack.uploads() if u["filename"].endswith("-screening.csv")])

    # 200 days pass for this run
    old = time.time() - 200 * DAY
    store = stack.services.store
    normalised = Path(store.get("scoring_runs", run_id)["csv_path"])
    assert normalised.exists()
    store.execute("update scoring_runs set created_at = ?, finished_at = ?", [old, old])
    store.execute("update intakes set created_at = ?", [old])

    stack.slack.wait_for(lambda: store.get("scoring_runs", run_id) is None and store.get("removed_records", run_id)
                         and not normalised.exists(), timeout=30)  # the rows go first, then the files on disk
    assert store.count("intakes") == 0 and store.count("files") == 0
    assert store.count("screening_boards") == 0 and store.count("screening_links") == 0
    assert store.count("voice_links") == 2  # made today: the links' own lifetime starts today
    assert candidate.email not in every_row(stack) and not raw_database_holds(database, candidate.email)
    # the bot's files for that run are deleted in Slack, the shortlist replaced by a short note
    deleted = stack.slack.wait_for(lambda: set(stack.slack.deleted_files()) >= {u["id"] for u in exports}
                                   and stack.slack.deleted_files())
    assert {u["id"] for u in exports} <= set(deleted)
    now = stack.slack.wait_for(lambda: (m := stack.slack.message(CHANNEL, shortlist["ts"])) and
                               "removed after 180 days" in m["text"] and m)
    assert candidate.name not in str(now["blocks"]) and "pluto_details" not in str(now["blocks"])
    # aggregates without personal data stay
    aggregates = store.get("removed_records", run_id)["aggregates_json"]
    assert aggregates["candidates"] == len(CSV.splitlines()) - 1 and "@" not in json.dumps(aggregates)

    gone_board = stack.slack.wait_for(lambda: (m := stack.slack.message(CHANNEL, board["ts"])) and
                                      "removed after 180 days" in m["text"] and m)
    assert candidate.name not in str(gone_board["blocks"])

    # a later press on the old shortlist's or board's buttons is answered politely
    stack.signer.block_action("pluto_details", CandidateRef(run_id, candidate.id).to_value(), user=USER,
                              channel=CHANNEL)
    view = stack.slack.wait_for(lambda: [v for v in stack.slack.views(user=USER) if "removed after 180 days"
                                         in str(v["blocks"])])[-1]
    assert "went wrong" not in str(view["blocks"])
    stack.signer.block_action("pluto_questions", CandidateRef(run_id, candidate.id).to_value(), user=USER,
                              channel=CHANNEL)
    stack.slack.wait_for(lambda: [e for e in stack.slack.ephemerals(USER) if "removed after 180 days" in e["text"]]
                         or responses(stack, USER, "removed after 180 days"))
    before = len([e for e in stack.slack.ephemerals(USER) if "screening board was removed" in e["text"]])
    stack.signer.block_action("board_export", board_id, user=USER, channel=CHANNEL, message=board)
    stack.slack.wait_for(lambda: len([e for e in stack.slack.ephemerals(USER)
                                      if "screening board was removed after 180 days" in e["text"]]) > before)
    assert not [e for e in stack.slack.ephemerals(USER) if "went wrong" in e["text"]]


# -- erasure ---------------------------------------------------------------------------------------
def test_forget_finds_a_person_everywhere_asks_erases_and_leaves_no_trace(stack, database):
    first = score(stack)
    ranked = stack.services.scoring.run(run_of(first)).candidates
    person = ranked[0]  # screened on the board below
    other = next(c for c in ranked if c.email and c.id != person.id)
    # the board: "Voice-screen top 2" makes a link for the person (and the next), tied to them
    run_id, view = open_screen_form(stack, first, 2)
    response = stack.signer.view_submission(view, form_values(view), user=USER)
    assert response.status_code == 200 and not response.content, response.content
    stack.slack.wait_for(lambda: stack.services.store.count("screening_links") == 2)
    second = score_again(stack)
    assert run_of(second) != run_of(first)
    # a voice link labelled with their name, made with /voicelink create
    before = len(stack.slack.dms(USER))
    modal = open_modal(stack)
    stack.signer.view_submission(modal, form(modal, name="Backend Engineer", labels=person.name, **SECTIONS),
                                 user=USER)
    stack.slack.wait_for(lambda: len(stack.slack.dms(USER)) > before and
                         stack.services.store.count("voice_links", "label = ?", [person.name]) == 2)
    assert person.email in every_row(stack)
    # both runs' exports are out (in the channel, masked, and by DM): the sender delivers them after the shortlist
    stack.slack.wait_for(lambda: len([u for u in stack.slack.uploads() if u["filename"].endswith("-ranked.csv")]) == 4)

    # a non-admin is refused, privately, and nothing changes
    stack.signer.command("/pluto", f"forget {person.email}", user=OUTSIDER, channel=CHANNEL)
    refusal = stack.slack.wait_for(lambda: responses(stack, OUTSIDER, "Only workspace admins"))[-1]
    assert refusal["response_type"] == "ephemeral" and person.name not in str(refusal)
    # a workspace owner (users.info) may ask: the private question lists what was found
    stack.signer.command("/pluto", f"forget {person.email}", user=WS_ADMIN, channel=CHANNEL)
    question = stack.slack.wait_for(lambda: responses(stack, WS_ADMIN, "Erase"))[-1]
    text = str(question["blocks"])
    assert question["response_type"] == "ephemeral"
    assert "2 scoring runs" in text and "1 screening board rows" in text and "2 voice links" in text
    assert stack.services.store.count("erasures") == 0 and person.email in every_row(stack)

    stack.signer.block_action(FORGET_CONFIRM, person.email, user=ADMIN, channel=CHANNEL)
    summary = stack.slack.wait_for(lambda: responses(stack, ADMIN, "Erased"))[-1]
    summary_text = str(summary["blocks"])
    assert person.id in summary_text  # Pluto: the ids to erase there
    for link in stack.services.store.rows("voice_links"):
        assert link["label"] != person.name
    assert "Nimrobo" in summary_text and re.search(r"voice links: `", summary_text)

    # the database holds no trace of the e-mail; the other candidates stay
    everything = every_row(stack)
    assert person.email not in everything and person.name not in everything
    assert other.email in everything
    assert not raw_database_holds(database, person.email)  # SQLite: the file and its WAL, as for keys
    for run in stack.services.store.rows("scoring_runs"):  # the normalised CSVs kept on disk for Pluto
        assert person.email not in Path(run["csv_path"]).read_text() and other.email in Path(run["csv_path"]).read_text()
    # the erasure is recorded without the person's data
    [erasure] = stack.services.store.rows("erasures")
    assert erasure["requested_by"] == ADMIN and erasure["records"] >= 5 and person.email not in str(erasure)
    # the shortlists are shown again without them; the exports that listed them are deleted
    for shortlist in (first, second):  # shown again through the outbox: shortly after the summary
        now = stack.slack.wait_for(lambda ts=shortlist["ts"]: (m := stack.slack.message(CHANNEL, ts))
                                   and person.name not in str(m["blocks"]) and m)
        assert other.name in str(now["blocks"])
    exports = [u["id"] for u in stack.slack.uploads() if u["filename"].endswith("-ranked.csv")]
    assert len(exports) == 4 and set(exports) <= set(stack.slack.deleted_files())
    board = next(m for m in stack.slack.messages(CHANNEL)
                 if (m.get("metadata") or {}).get("event_type") == "screening_board")
    stack.slack.wait_for(lambda: person.name not in str(stack.slack.message(CHANNEL, board["ts"])["blocks"]))
    # no message of the bot in the channel names them any more (voice link cards shown again without them)
    def naming():  # the updates go through the outbox: they land shortly after the summary
        return [m["text"] for m in stack.slack.messages(CHANNEL) if person.name in m["text"] + str(m["blocks"])]

    try:
        stack.slack.wait_for(lambda: naming() == [])
    except AssertionError:
        raise AssertionError(f"still naming them: {naming()}") from None
    # the new export, asked for again, leaves them out
    stack.signer.command("/pluto", "export", user=USER, channel=CHANNEL)
    fresh = stack.slack.wait_for(lambda: [u for u in stack.slack.uploads() if u["channel"] == stack.slack.dm_channel(USER)
                                          and u["id"] not in exports and u["filename"].endswith("-ranked.csv")])[-1]
    assert person.email not in fresh["content"].decode() and other.email in fresh["content"].decode()


# -- audit and subject access ---------------------------------------------------------------------------
def test_every_personal_data_read_is_audited_and_the_subject_export_holds_only_them(stack):
    shortlist = score(stack)
    run_id = run_of(shortlist)
    ranked = stack.services.scoring.run(run_id).candidates
    person, other = ranked[0], ranked[1]
    store = stack.services.store
    # a public channel: the full ranking went to the run's starter by DM, and that is a read too
    stack.slack.wait_for(lambda: store.count("audit_log", "action = 'export_full_dm'") == 1)
    base = start = store.count("audit_log")
    ref = CandidateRef(run_id, person.id).to_value()

    def one_more(action_count):
        try:
            stack.slack.wait_for(lambda: store.count("audit_log") == action_count, timeout=30)
        except AssertionError:
            raise AssertionError(f"audit: {[e['action'] for e in store.rows('audit_log', order_by='at')]}, "
                                 f"expected {action_count}") from None

    stack.signer.block_action("pluto_details", ref, user=USER, channel=CHANNEL)
    one_more(base + 1)
    stack.signer.block_action("pluto_prebrief", ref, user=USER, channel=CHANNEL)
    one_more(base + 2)
    stack.signer.command("/pluto", f"candidate {person.name}", user=USER, channel=CHANNEL)
    one_more(base + 3)
    stack.signer.command("/pluto", "export", user=USER, channel=CHANNEL)
    one_more(base + 4)
    stack.signer.command("/pluto", "results", user=USER, channel=CHANNEL)
    one_more(base + 5)
    base += 1  # the steps below count from here
    # the board: its export and a screened candidate's details
    _, view = open_screen_form(stack, shortlist, 2)
    stack.signer.view_submission(view, form_values(view), user=USER)
    board = stack.slack.wait_for(lambda: [m for m in stack.slack.messages(CHANNEL)
                                          if (m.get("metadata") or {}).get("event_type") == "screening_board"])[0]
    board_id = block(board, "board_tools|")["block_id"].split("|", 1)[1]
    stack.signer.block_action("board_export", board_id, user=USER, channel=CHANNEL, message=board)
    one_more(base + 5)
    # a completed interview: transcript, evaluation, summary, audio link
    link = next(x for x in stack.nimrobo.links.values() if x["label"] == person.name)
    session = stack.nimrobo.start_session(link["id"])
    stack.nimrobo.complete_session(session)
    session_ref = SessionRef("project", link["projectId"], session, person.name).to_value()
    for n, action in enumerate(("voicelink_transcript", "voicelink_evaluation", "voicelink_summary",
                                "voicelink_audio"), start=6):
        stack.signer.block_action(action, session_ref, user=USER, channel=CHANNEL)
        one_more(base + n)
    # the board's own ways in: a screened candidate's details and their transcript, once the board has it
    stack.slack.wait_for(lambda: (row := store.get("screening_links", link["id"])) and row.get("outcome"))
    pair = f"{board_id}|{person.id}"
    stack.signer.block_action("board_details", pair, user=USER, channel=CHANNEL, message=board)
    one_more(base + 10)
    stack.signer.block_action("board_transcript", pair, user=USER, channel=CHANNEL, message=board)
    one_more(base + 11)
    entries = store.rows("audit_log", order_by="at")
    actions = [e["action"] for e in entries[start:]]
    assert actions == ["candidate_details", "candidate_brief", "candidate_details", "export_full_dm", "shortlist",
                       "board_export", "transcript", "evaluation", "summary", "audio_link", "board_details",
                       "transcript"]
    assert entries[-1]["session_id"] == session and entries[-1]["file_id"] and entries[-1]["board_id"] == board_id
    assert all(e["user_id"] == USER for e in entries[start:])
    assert [e["candidate_id"] for e in entries[start:start + 3]] == [person.id] * 3
    # the audit never holds the data itself
    audit_text = str(entries)
    assert person.name not in audit_text and (person.email or "@") not in audit_text

    # /pluto audit: admins only; the CSV matches the table
    stack.signer.command("/pluto", "audit", user=OUTSIDER, channel=CHANNEL)
    stack.slack.wait_for(lambda: responses(stack, OUTSIDER, "Only workspace admins"))
    stack.signer.command("/pluto", f"audit <@{USER}> 30", user=ADMIN, channel=CHANNEL)
    upload = stack.slack.wait_for(lambda: [u for u in stack.slack.uploads() if u["filename"] == "pluto-audit.csv"])[-1]
    assert upload["channel"] == stack.slack.dm_channel(ADMIN)
    rows = list(csv.DictReader(io.StringIO(upload["content"].decode())))
    mine = [e for e in entries if e["user_id"] == USER]
    assert sorted(r["action"] for r in rows) == sorted(e["action"] for e in mine)
    assert {r["file_id"] for r in rows if r["file_id"]} == {e["file_id"] for e in mine if e["file_id"]}
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r.values() if cell)
    # by candidate (their e-mail): only the reads about them
    stack.signer.command("/pluto", f"audit {person.email}", user=ADMIN, channel=CHANNEL)
    about = stack.slack.wait_for(lambda: len([u for u in stack.slack.uploads()
                                              if u["filename"] == "pluto-audit.csv"]) == 2
                                 and [u for u in stack.slack.uploads() if u["filename"] == "pluto-audit.csv"])[-1]
    about_rows = list(csv.DictReader(io.StringIO(about["content"].decode())))
    assert about_rows and {r["candidate_id"] for r in about_rows} == {person.id}

    # /pluto export-person: one zip, privately, with everything about them and nothing about anyone else
    stack.signer.command("/pluto", f"export-person {person.email}", user=ADMIN, channel=CHANNEL)
    archive = stack.slack.wait_for(lambda: [u for u in stack.slack.uploads() if u["filename"].endswith(".zip")])[-1]
    assert archive["channel"] == stack.slack.dm_channel(ADMIN)
    with zipfile.ZipFile(io.BytesIO(archive["content"])) as z:
        content = {name: z.read(name).decode() for name in z.namelist()}
    everything = "\n".join(content.values())
    assert person.email in content["scoring_results.json"] and person.email in content["uploaded_csv_rows.json"]
    assert person.name in content["screening.json"] and person.id in content["audit.json"]
    for someone in ranked[1:]:
        assert someone.name not in everything and (someone.email or someone.name) not in everything
    assert other.id not in everything
    stack.slack.wait_for(lambda: store.count("audit_log", "action = 'person_export'") == 1)  # after the upload
