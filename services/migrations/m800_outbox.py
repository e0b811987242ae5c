"""One outbox for every post the bot makes on its own initiative (services/outbox.py).

Moves what the two earlier exactly-once tables knew: ``slack_posts`` (scoring results) and the
claims in ``session_notifications`` (completed interviews). Confirmed posts become ``sent`` rows
(so they are never made again); claims whose outcome was never confirmed become ``sending``
rows of epoch 0 without a payload: the first leader settles them at once by a history lookup
(found: recorded; not found: the row is dropped and the deciding job enqueues it again).
``session_notifications`` stays as the watcher's record of what was reported where.
"""

import json

from services.store import Schema


def up(db: Schema) -> None:
    db["outbox"].create(
        {
            "key": str,  # the idempotency key, e.g. "voice_session_completed:<session>:<channel>"
            "channel": str,  # the conversation (a user id for a DM: opened when it is sent)
            "thread_ts": str,
            "kind": str,  # post | update | upload | dm | upload_dm
            "payload_json": str,  # what to send (a message's kwargs, or a file)
            "match_json": str,  # how to find it in Slack after an unclear outcome
            "state": str,  # waiting | sending | unclear | sent | undeliverable
            "epoch": int,  # the leader epoch the current claim was taken under
            "seq": int,  # enqueue order (a channel's posts go out in this order)
            "version": int,  # an update's newest state (coalescing); bumped at every enqueue
            "sent_version": int,
            "created_at": float,
            "due_at": float,  # a waiting row is not sent before (a back-off after Slack refused it)
            "claimed_at": float,
            "sent_at": float,
            "attempts": int,
            "message_ts": str,
            "error": str,
        },
        pk="key",
    )
    db["outbox"].create_index(["state", "channel", "seq"])
    seq = 0
    if db["slack_posts"].exists():
        for row in db["slack_posts"].rows_where(order_by="claimed_at"):
            seq += 1
            state = str(row.get("state") or "")
            kind = "post" if str(row["key"]).startswith("pluto_scoring_completed:") else "upload"
            new = "sent" if state == "posted" else "sending" if state == "posting" else state
            _insert(db, key=row["key"], channel=row["channel"], thread_ts=row["thread_ts"], kind=kind, state=new,
                    seq=seq, at=row.get("claimed_at"), sent_at=row.get("posted_at"), ts=row.get("message_ts"),
                    attempts=row.get("attempts") or 1,
                    match=_match_for(db, str(row["key"])))
        db["slack_posts"].drop()
    if db["session_notifications"].exists():
        for row in db["session_notifications"].rows_where(order_by="claimed_at"):
            seq += 1
            state = str(row.get("state") or "")
            new = "sent" if state == "posted" else "sending" if state == "claimed" else state
            key = f"voice_session_completed:{row['session_id']}:{row['channel']}"
            _insert(db, key=key, channel=row["channel"], thread_ts=row.get("thread_ts"), kind="post", state=new,
                    seq=seq, at=row.get("claimed_at"), sent_at=row.get("posted_at"), ts=row.get("message_ts"),
                    attempts=1, match=json.dumps({"event_type": "voice_session_completed",
                                                 "payload": {"session_id": row["session_id"]}}))


def _match_for(db: Schema, key: str) -> str:
    kind, _, run_id = key.partition(":")
    if kind == "pluto_scoring_completed":
        return json.dumps({"event_type": kind, "payload": {"run_id": run_id}})
    runs = db["scoring_runs"].rows_where("id = ?", [run_id]) if db["scoring_runs"].exists() else []
    stem = str((runs[0].get("filename") if runs else "") or "").rsplit(".", 1)[0] or "candidates"
    return json.dumps({"file_name": f"{stem}-ranked.csv"})


def _insert(db: Schema, *, key: str, channel: str, thread_ts: str | None, kind: str, state: str, seq: int,
            at: float | None, sent_at: float | None, ts: str | None, attempts: int, match: str) -> None:
    db.execute("insert into outbox (key, channel, thread_ts, kind, payload_json, match_json, state, epoch, seq, "
               "version, sent_version, created_at, due_at, claimed_at, sent_at, attempts, message_ts, error) values "
               "(?, ?, ?, ?, null, ?, ?, 0, ?, 1, ?, ?, ?, ?, ?, ?, ?, '')",
               [key, channel, thread_ts, kind, match, state, seq, 1 if state == "sent" else 0, at or 0.0,
                at or 0.0, at or 0.0, sent_at, attempts, ts])
