"""The teams of an org-wide Enterprise Grid install that lost the app (``team_access_revoked``).

An org-wide install is one workspace (keyed by its enterprise id) for every team of the org an admin added the
app to. When an admin removes the app from some of those teams, Slack sends ``team_access_revoked`` with their
``team_ids``: the bot keeps them here and serves no request from them until ``team_access_granted`` names them
again. A global table, beside ``workspaces``.
"""

from services.store import Schema

GLOBAL = True  # only in the shared database, not in each workspace's store


def up(db: Schema) -> None:
    db["team_access_revoked"].create(
        {
            "key": str,  # the org-wide install's workspace key (its enterprise id)
            "team_id": str,  # a team of the org the app was removed from
            "revoked_at": float,
        },
        pk=("key", "team_id"),
    )
