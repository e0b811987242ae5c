"""Candidate data has a lifetime (number range 950-979: data protection).

* ``audit_log``: append-only; one row per read or export of personal data through the bot:
  who, when, what (run, candidate id, session, file) and where (channel, and how it was
  delivered). Never the data itself.
* ``bot_artifacts``: the Slack files and messages the bot made that hold candidate data, tied to
  the run, board, room or session they came from, so retention and erasure can delete the files
  (``files.delete``) and replace or redact the messages (``chat.update``).
* ``removed_records``: what the retention purge removed (a run, board or room id, when, after how
  many days, and aggregates without personal data), so a later click is answered politely.
* ``scoring_runs.redacted_at``: an erasure took a person out of the run's stored results, so
  the run's export and candidate details come from the stored results only, never Pluto's copy.
* ``erasures``: who asked to erase a person, when, and how many records; never who the person was.
"""

from services.store import Schema


def up(db: Schema) -> None:
    db["audit_log"].create(
        {
            "id": str,
            "at": float,
            "user_id": str,  # who (Slack user id)
            "action": str,  # what kind of read: candidate_details, export_full_dm, transcript, ...
            "run_id": str,
            "candidate_id": str,
            "session_id": str,
            "board_id": str,
            "room_id": str,
            "file_id": str,  # the Slack file the data went out in
            "channel": str,  # where the request came from / the data went
            "delivery": str,  # dm | modal | ephemeral | channel
        },
        pk="id",
    )
    db["audit_log"].create_index(["at"])
    db["audit_log"].create_index(["candidate_id"])
    db["audit_log"].create_index(["user_id"])
    db["bot_artifacts"].create(
        {
            "id": str,  # file:<file id> | msg:<channel>:<ts>
            "kind": str,  # file | message
            "what": str,  # shortlist | export | export_dm | board | board_export | transcript | card | ...
            "channel": str,
            "ts": str,
            "file_id": str,
            "run_id": str,
            "board_id": str,
            "room_id": str,
            "session_id": str,
            "candidate_id": str,
            "created_at": float,
        },
        pk="id",
    )
    db["bot_artifacts"].create_index(["run_id"])
    db["bot_artifacts"].create_index(["session_id"])
    db["removed_records"].create(
        {"id": str, "kind": str, "reason": str, "days": int, "removed_at": float, "aggregates_json": str},
        pk="id",
    )
    # a run whose stored results lost a person to an erasure: Pluto's own copy is no longer used for it
    db["scoring_runs"].add_column("redacted_at", float)
    db["erasures"].create(
        {"id": str, "requested_by": str, "at": float, "records": int, "counts_json": str},
        pk="id",
    )
