"""The leader's heartbeat: one row the replica running the scheduled jobs refreshes every poll interval.

Followers read it for ``GET /ready`` (a follower is ready only while some leader is alive) and every
replica exports its age and the leadership epoch in ``/metrics`` (services/heartbeat.py).
"""

from services.store import Schema


def up(db: Schema) -> None:
    db["leader_heartbeat"].create(
        {
            "name": str,  # always "leader"
            "replica": str,  # host:pid of the leader
            "epoch": int,  # +1 each time another replica (or the same one after a gap) takes over
            "beat_at": float,
            "released": int,  # 1 after the leader handed over on shutdown
        },
        pk="name",
    )
