"""Scoring runs started from Slack: where they report, and how far they got."""

from services.store import Schema


def up(db: Schema) -> None:
    db["scoring_runs"].create(
        {
            "id": str,
            "queue_id": str,  # pluto_queue row
            "intake_id": str,
            "channel": str,
            "thread_ts": str,
            "progress_ts": str,  # the one progress message, updated in place
            "user": str,
            "filename": str,
            "job_description": str,
            "top_n": int,
            "state": str,  # queued | running | complete | failed | stalled
            "error": str,
            "fingerprint": str,  # last progress seen
            "last_change_at": float,  # when progress last moved (stall detection)
            "last_render_at": float,  # when the progress message was last updated
            "results_json": str,  # the ranked candidates at completion
            "export_file_id": str,
            "created_at": float,
            "finished_at": float,
        },
        pk="id",
    )
    db["scoring_runs"].create_index(["channel", "created_at"])
