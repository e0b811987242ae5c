"""One scoring run, one state machine: the Pluto queue's columns move into ``scoring_runs``.

Until now a run lived in two rows kept in step (``pluto_queue`` for the upload and the server's
queue, ``scoring_runs`` for Slack). Each run takes its queue row's order, server, file and
state; ``pluto_queue`` is dropped. Unfinished runs keep their place: ``queued``, ``uploading``
and ``running`` stay as they were, a queue row that was ``done`` before its results were
fetched becomes ``running`` (the next tick fetches them), and one the queue had failed or
cancelled becomes ``failed`` with its reason.
"""

from services.store import Schema, now

NEW_COLUMNS = {"seq": int, "base_url": str, "csv_path": str, "total": int, "started_at": float}
STATE_FROM_QUEUE = {"queued": "queued", "uploading": "uploading", "running": "running", "done": "running"}


def up(db: Schema) -> None:
    runs = db["scoring_runs"]
    for name, kind in NEW_COLUMNS.items():
        runs.add_column(name, kind)
    queue = {row["id"]: row for row in db["pluto_queue"].rows} if db["pluto_queue"].exists() else {}
    seq = max([row["seq"] or 0 for row in queue.values()], default=0)
    for row in list(runs.rows_where(order_by="created_at")):
        queued = queue.get(row["queue_id"])
        if queued is None:
            seq += 1
            values = {"seq": seq}
            if row["state"] in ("queued", "running"):  # no queue row: nothing left to upload
                values.update(state="failed", error="This run could not be carried over; start it again with "
                              "`/pluto score`.", finished_at=now())
            runs.update(row["id"], values)
            continue
        values = {"seq": queued["seq"], "base_url": queued["base_url"], "csv_path": queued["csv_path"],
                  "total": queued["total"], "started_at": queued["started_at"]}
        if row["state"] in ("queued", "running"):
            state = STATE_FROM_QUEUE.get(queued["state"], "failed")
            values["state"] = state
            if state == "failed":
                values.update(error=queued["error"] or row["error"] or "The run was cancelled.",
                              finished_at=queued["finished_at"] or now())
        runs.update(row["id"], values)
    runs.create_index(["base_url", "state"])
    if db["pluto_queue"].exists():
        db["pluto_queue"].drop()
