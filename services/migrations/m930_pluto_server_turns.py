"""Each Pluto server's turn and line, shared by every workspace (services/server_queue.py).

Global tables (the main store only): Pluto runs one pipeline per server, and with several workspaces
the runs waiting for one server sit in different workspaces' stores, so the server's turn and the
order in which workspaces get it live here. They hold no candidate data: a server, a workspace key, a
run id, times and a count.
"""

from services.store import Schema

GLOBAL = True  # only in the shared database, not in each workspace's store


def up(db: Schema) -> None:
    db["pluto_server_turns"].create(
        {
            "base_url": str,  # the Pluto server (its API base URL)
            "workspace": str,  # the workspace whose run has the server now
            "run_id": str,  # that run (uploading or running)
            "since": float,  # when it took the turn
            "renewed_at": float,  # the holder's last tick; a turn not renewed for the lease is reclaimed
        },
        pk="base_url",
    )
    db["pluto_server_line"].create(
        {
            "base_url": str,
            "workspace": str,  # a workspace with runs queued for this server
            "since": float,  # when it began waiting for its next turn (the oldest goes next)
            "queued": int,  # how many of its runs wait for this server (positions count them)
            "seen_at": float,  # the workspace's last tick; a row not seen for the lease is passed over
        },
        pk=("base_url", "workspace"),
    )
