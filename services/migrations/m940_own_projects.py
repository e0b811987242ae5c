"""Voice projects the bot made on their own (``/voicelink project new``), without links.

With several workspaces sharing one Nimrobo account, a workspace sees only the projects its own store knows
(services/voice/links.py ``known_project_ids``): those it made links in, and these.
"""

from services.store import Schema


def up(db: Schema) -> None:
    db["own_projects"].create(
        {
            "project_id": str,
            "name": str,
            "created_by": str,  # Slack user id ("" when unknown)
            "created_at": float,
        },
        pk="project_id",
    )
