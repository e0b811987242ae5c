"""The data lifecycle's rules without Slack: what the purge takes and leaves, who an erasure matches,
the audit's escaping and retention, and the polite answers for what was purged. The end-to-end
journeys are tests/test_data_lifecycle_e2e.py."""

import csv
import io
import time

import pytest

from bot.flows.lifecycle import parse_audit_args
from config import Settings
from handlers.commands import PLUTO
from services.audit import AuditLog, audit_csv
from services.errors import NotFoundHere
from services.lifecycle import Lifecycle, Matcher
from services.store import Store

DAY = 86400.0
ADA = {"id": "c1", "name": "Ada Lovelace", "email": "ada@example.com", "final_score": 81, "tier": "A"}
ADAM = {"id": "c2", "name": "Adam Lovelace", "email": "adam@example.com", "final_score": 55, "tier": "B"}


@pytest.fixture()
def db(database):
    s = Store(database)
    yield s
    s.close()


def add_run(store, run_id, *, age_days=0.0, state="complete", results=(ADA, ADAM)):
    at = time.time() - age_days * DAY
    store.insert("scoring_runs", {"id": run_id, "channel": "C1", "thread_ts": "1.0", "user": "U1",
                                  "filename": "c.csv", "state": state, "results_json": list(results),
                                  "created_at": at, "finished_at": at if state == "complete" else None})


def add_room(store, room_id, *, run_id=None, age_days=0.0, name="Ada Lovelace", candidate_id="c1"):
    at = time.time() - age_days * DAY
    store.insert("interview_rooms", {"id": room_id, "room_name": "r-" + room_id, "kind": "candidate", "run_id": run_id,
                                     "candidate_id": candidate_id, "candidate_name": name, "channel": "C1",
                                     "card_ts": f"{room_id}.5", "brief_json": {"tldr": f"{name} is strong"},
                                     "created_at": at, "expires_at": at + 3600})


def add_link(store, link_id, label, *, age_days=0.0, session_id=None):
    at = time.time() - age_days * DAY
    store.insert("voice_links", {"id": link_id, "label": label, "channel": "C1", "creator": "U1",
                                 "session_id": session_id, "created_at": at})


def test_the_purge_takes_what_expired_and_leaves_what_is_young_or_still_running(db):
    add_run(db, "old", age_days=200)
    add_run(db, "young", age_days=10)
    add_run(db, "running", age_days=200, state="running")
    add_room(db, "room_old", age_days=200)
    add_room(db, "room_young", age_days=1)
    add_link(db, "link_old", "Ada Lovelace", age_days=200, session_id="s_link")
    from services.outbox import Outbox
    Outbox(db).enqueue("interview_dm:s_link:U1", "U1", "dm", {"text": "Interview completed: Ada Lovelace"})
    db.update("outbox", "interview_dm:s_link:U1", {"state": "sent", "message_ts": "8.8"})
    add_link(db, "link_young", "Ada Lovelace", age_days=1)
    db.insert("screening_boards", {"id": "b_old", "run_id": "old", "channel": "C1", "message_ts": "9.9",
                                   "created_at": time.time()})
    db.insert("screening_links", {"link_id": "sl", "board_id": "b_old", "run_id": "old", "candidate_id": "c1",
                                  "candidate_name": "Ada Lovelace"})
    db.insert("session_notifications", {"session_id": "s_old", "channel": "C1", "state": "posted",
                                        "message_ts": "7.7", "posted_at": time.time() - 200 * DAY})
    life = Lifecycle(db)
    life.record_file("F1", "C1", "export", run_id="old")
    life.record_message("C1", "3.3", "shortlist", run_id="old")
    life.record_file("F2", "C1", "export", run_id="young")

    result = life.purge(180)
    assert result.runs == ["old"] and result.boards == ["b_old"] and result.rooms == ["room_old"]
    assert {r["id"] for r in db.rows("scoring_runs")} == {"young", "running"}
    assert {r["id"] for r in db.rows("interview_rooms")} == {"room_young"}
    assert {r["id"] for r in db.rows("voice_links")} == {"link_young"}
    assert db.rows("screening_links") == [] and db.rows("screening_boards") == []
    assert [f.file_id for f in result.files] == ["F1"]  # the young run's file stays
    assert {(m.what, m.ts) for m in result.messages} == {("shortlist", "3.3"), ("board", "9.9"),
                                                         ("card", "room_old.5"), ("interview_post", "7.7"),
                                                         ("outbox_dm", "8.8")}
    # tombstones with aggregates and no person
    tomb = db.get("removed_records", "old")
    assert tomb["days"] == 180 and tomb["aggregates_json"]["candidates"] == 2
    assert tomb["aggregates_json"]["score_bands"] == {"80-90": 1, "50-60": 1} and "Ada" not in str(tomb)
    # what Slack has not confirmed yet is offered again the next day; once done, nothing is (the post included)
    again = life.purge(180)
    assert {a.id for a in again.files + again.messages} == {a.id for a in result.files + result.messages}
    assert again.runs == [] and again.boards == []
    life.drop_artifacts(again.files + again.messages)
    assert life.purge(180).empty


def test_what_was_purged_answers_politely_in_every_service(db):
    from bot.context import Services

    add_run(db, "old", age_days=200)
    db.insert("screening_boards", {"id": "b_old", "run_id": "old", "channel": "C1", "created_at": time.time()})
    add_room(db, "room_old", age_days=200)
    Lifecycle(db).purge(180)
    services = Services(Settings(database_path=str(db.target)), store=db)
    for ask in (lambda: services.scoring.run("old"), lambda: services.scoring.allowed_run("old", "U_ANYONE"),
                lambda: services.screening.board("b_old"), lambda: services.interviews.get("room_old")):
        with pytest.raises(Exception) as caught:
            ask()
        assert "removed after 180 days" in caught.value.user_message
    with pytest.raises(NotFoundHere) as never:
        services.scoring.run("never-existed")
    assert "removed" not in never.value.user_message


def test_an_erasure_takes_the_person_and_nobody_with_a_similar_name(db):
    add_run(db, "r1")
    add_room(db, "room_ada")
    add_room(db, "room_adam", name="Adam Lovelace", candidate_id="c2")
    add_link(db, "l1", "Ada Lovelace (backend)")
    add_link(db, "l2", "Adam Lovelace")
    life = Lifecycle(db)
    found = life.find("ADA@example.com")
    assert found.run_ids == ["r1"] and [r["id"] for r in found.rooms] == ["room_ada"]
    assert [r["id"] for r in found.voice_links] == ["l1"]
    by_name = life.find("  ada   lovelace ")
    assert by_name.link_ids == found.link_ids and by_name.candidate_ids == ["c1"]
    result = life.erase(found, requested_by="U_ADMIN")
    assert result.pluto_candidates == ["c1"] and result.nimrobo_links == ["l1"]
    [run] = db.rows("scoring_runs")
    assert [c["name"] for c in run["results_json"]] == ["Adam Lovelace"] and run["redacted_at"]
    assert {r["id"] for r in db.rows("interview_rooms")} == {"room_adam"}
    assert {r["id"] for r in db.rows("voice_links")} == {"l2"}
    [erasure] = db.rows("erasures")
    assert erasure["requested_by"] == "U_ADMIN" and "ada" not in str(erasure).lower()
    assert life.find("ada@example.com").empty


def test_a_name_two_people_share_is_not_erased_and_asks_for_the_email(db):
    from bot.blocks.lifecycle import forget_question

    add_run(db, "r1")
    add_run(db, "r2", results=({**ADA, "id": "c9", "email": "ada.l@other.org"},))
    found = Lifecycle(db).find("Ada Lovelace")
    assert found.ambiguous and not Lifecycle(db).find("ada@example.com").ambiguous
    message = forget_question(found)
    assert "a•••@example.com" in message.text and "a•••@other.org" in message.text
    assert "pluto_forget_confirm" not in str(message.kwargs())
    # by e-mail, only that Ada goes; the other keeps her row
    Lifecycle(db).erase(Lifecycle(db).find("ada@example.com"), requested_by="U_ADMIN")
    assert [c["email"] for c in db.get("scoring_runs", "r2")["results_json"]] == ["ada.l@other.org"]
    assert [c["name"] for c in db.get("scoring_runs", "r1")["results_json"]] == ["Adam Lovelace"]


def test_the_matcher_is_exact_on_names_and_emails():
    match = Matcher({"ada lovelace"}, {"ada@example.com"})
    assert match.names("Ada Lovelace") and match.names("ADA LOVELACE (#2)") and match.names("x ada@example.com")
    assert not match.names("Adam Lovelace") and not match.names("Nada Lovelace") and not match.names("Ada")
    assert not match.names("")
    data = b"name,email\nAda Lovelace,ada@example.com\nAdam Lovelace,adam@example.com\n"
    assert match.without_person(data) == b"name,email\nAdam Lovelace,adam@example.com\n"
    assert match.scrub({"labels": ["Ada Lovelace", "Adam Lovelace"], "note": "mail ada@example.com"}) == \
        {"labels": ["Adam Lovelace"], "note": "mail [erased]"}


def test_the_audit_is_escaped_filtered_and_kept_only_as_long_as_set(store):
    audit = AuditLog(store)
    audit.record("U1", "candidate_details", channel="=cmd", run_id="r1", candidate_id="+c1")
    audit.record("U2", "transcript", session_id="s1", file_id="F1", delivery="dm")
    old = audit.record("U1", "board_export", board_id="b1")
    store.update("audit_log", old.id, {"at": time.time() - 400 * DAY})
    with pytest.raises(ValueError):
        audit.record("U1", "not an action")
    rows = list(csv.reader(io.StringIO(audit_csv(audit.entries()).decode())))
    cells = [c for row in rows for c in row]
    assert "'=cmd" in cells and "'+c1" in cells and not any(c.startswith(("=", "+", "-", "@")) for c in cells)
    assert [e.action for e in audit.entries("<@U1|alice>")] == ["candidate_details", "board_export"]
    assert [e.action for e in audit.entries("U1", 30)] == ["candidate_details"]
    assert [e.action for e in audit.entries("", None, candidate_ids=("+c1",))] == ["candidate_details"]
    assert audit.purge(365) == 1 and len(audit.entries()) == 2


def test_audit_arguments_and_help():
    assert parse_audit_args("<@U1> 30") == ("<@U1>", 30.0)
    assert parse_audit_args("Ada Lovelace") == ("Ada Lovelace", None)
    assert parse_audit_args("") == ("", None)
    text = PLUTO.help_message().text
    assert "/pluto forget <e-mail or name>" in text and "/pluto audit [candidate or user] [days]" in text
    assert "/pluto export-person <e-mail>" in text


def test_sqlite_overwrites_what_it_deletes_and_the_wal_keeps_nothing(tmp_path):
    store = Store(tmp_path / "bot.db")
    marker = "grace.hopper.erase.me@example.com"
    store.insert("kv", {"key": "keep", "value": "x" * 2000})
    store.insert("kv", {"key": "gone", "value": marker * 20})
    store.insert("kv", {"key": "after", "value": "y" * 2000})
    assert store.checkpoint()
    store.delete("kv", "gone")
    assert store.checkpoint()
    for suffix in ("", "-wal"):
        path = tmp_path / f"bot.db{suffix}"
        assert not path.exists() or marker.encode() not in path.read_bytes(), suffix or "db"
    store.close()


def test_an_erasure_empties_the_outbox_of_the_person_and_names_the_messages_to_redact(db):
    from services.outbox import Outbox

    add_run(db, "r1")
    outbox = Outbox(db)
    outbox.enqueue("interview_dm:s1:U1", "U1", "dm", {"text": "Interview completed: Ada Lovelace", "blocks": []})
    outbox.enqueue("reminder:x:dm:U1", "U1", "dm", {"text": "Feedback due for Ada Lovelace (ada@example.com)"})
    outbox.enqueue("other:1", "C1", "post", {"text": "Interview completed: Adam Lovelace"})
    outbox.enqueue("pluto_scoring_completed:r1", "C1", "post", {"text": "Shortlist: Ada Lovelace, Adam Lovelace"})
    for key, ts in (("interview_dm:s1:U1", "5.5"), ("other:1", "6.6"), ("pluto_scoring_completed:r1", "7.7")):
        db.update("outbox", key, {"state": "sent", "message_ts": ts})
    life = Lifecycle(db)
    result = life.erase(life.find("ada@example.com"), requested_by="U_ADMIN")
    redact = {(m.what, m.channel, m.ts) for m in result.messages}
    assert ("outbox_dm", "U1", "5.5") in redact  # their completion DM, in the recruiter's DM
    assert not any(ts in ("6.6", "7.7") for _, _, ts in redact)  # Adam's post; the shortlist is shown again
    rows = {r["key"]: r for r in db.rows("outbox")}
    assert rows["interview_dm:s1:U1"]["payload_json"] is None  # sent: its content is not needed any more
    waiting = str(rows["reminder:x:dm:U1"]["payload_json"])  # not sent yet: it goes without them
    assert "ada@example.com" not in waiting and "Ada Lovelace" not in waiting and "[erased]" in waiting
    assert rows["other:1"]["payload_json"] == {"text": "Interview completed: Adam Lovelace"}
    assert "ada" not in str(rows["pluto_scoring_completed:r1"]["payload_json"]).lower().replace("adam", "")
