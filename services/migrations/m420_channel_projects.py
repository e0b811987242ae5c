"""A channel's default voice project (``/voicelink use <project>``), like the CLI's ``projects use``."""

from services.store import Schema


def up(db: Schema) -> None:
    db["channel_projects"].create(
        {
            "channel": str,
            "project_id": str,
            "project_name": str,  # as it was when set, for the answer when Nimrobo can't be asked
            "set_by": str,  # Slack user id
            "set_at": float,
        },
        pk="channel",
    )
