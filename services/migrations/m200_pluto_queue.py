"""The Pluto client's queue: one row per run, per Pluto base URL, in arrival order."""

from services.store import Schema


def up(db: Schema) -> None:
    db["pluto_queue"].create(
        {
            "id": str,
            "seq": int,  # arrival order across restarts
            "base_url": str,
            "state": str,  # queued | uploading | running | done | failed | cancelled
            "csv_path": str,  # the normalised CSV on disk (owned by the caller)
            "filename": str,
            "job_description": str,
            "owner_json": str,  # the caller's data (e.g. where to report)
            "total": int,
            "error": str,
            "created_at": float,
            "started_at": float,
            "finished_at": float,
        },
        pk="id",
    )
    db["pluto_queue"].create_index(["base_url", "state"])
