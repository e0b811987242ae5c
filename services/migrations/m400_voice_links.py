"""Voice link batches and links created from Slack.

A link's URL and token are bearer secrets: they are delivered to the creator and never
stored here. ``voice_links`` keeps what the watcher and the channel card need.
"""

from services.store import Schema


def up(db: Schema) -> None:
    db["voice_batches"].create(
        {
            "id": str,  # our id for one /voicelink create submission
            "pattern": str,  # interview | research | instant
            "project_id": str,  # None for instant links
            "project_name": str,
            "channel": str,
            "thread_ts": str,
            "card_ts": str,  # the channel card message
            "creator": str,  # Slack user id
            "expiry_preset": str,
            "labels_json": str,  # every label asked for, in order
            "request_json": str,  # what is needed to retry (prompt, settings, evaluator)
            "state": str,  # creating | created | partial | failed
            "error": str,
            "created_at": float,
            "updated_at": float,
        },
        pk="id",
    )
    db["voice_links"].create(
        {
            "id": str,  # Nimrobo link id
            "batch_id": str,
            "kind": str,  # project | instant
            "project_id": str,
            "label": str,
            "status": str,  # last status seen: active | used | expired | cancelled | other
            "session_id": str,
            "expires_at": str,
            "channel": str,
            "thread_ts": str,
            "creator": str,
            "created_at": float,
            "updated_at": float,
        },
        pk="id",
    )
    db["voice_links"].create_index(["batch_id"])
    db["voice_links"].create_index(["session_id"])
