"""The workspaces the bot is installed in (multi-workspace mode, README "Install it in several workspaces").

A global table: it lives in the shared database (PostgreSQL: the ``public`` schema), never in a
workspace's own store. ``key`` names the workspace's store: its team id, or the enterprise id of an
org-wide install. The workspace's own backend settings (a Nimrobo key, encrypted like the personal
keys, and a Pluto server) sit beside it.
"""

from services.store import Schema

GLOBAL = True  # only in the shared database, not in each workspace's store


def up(db: Schema) -> None:
    db["workspaces"].create(
        {
            "key": str,  # the team id (or the enterprise id of an org-wide install)
            "team_id": str,
            "enterprise_id": str,
            "is_enterprise_install": int,
            "name": str,
            "installed_by": str,  # the user who installed (or re-installed) the app
            "installed_at": float,
            "uninstalled_at": float,  # set by app_uninstalled / tokens_revoked; null while installed
            "purge_after": float,  # when its data goes (uninstalled_at + WORKSPACE_RETENTION_DAYS)
            "nimrobo_key_enc": str,  # the workspace's Nimrobo key (Fernet), set by an admin in App Home
            "pluto_api_base_url": str,  # the workspace's Pluto server
            "updated_at": float,
        },
        pk="key",
    )
