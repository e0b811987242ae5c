"""The leader's heartbeat in the database: who leads, since which epoch, and how fresh that is.

The leadership itself is a lock (services/leader.py); a lock says nothing to the other replicas about
*whether* someone holds it. So the leader also writes one row every poll interval, and followers read
it: ``GET /ready`` on a follower answers 503 when no leader has beaten for a while, and ``/metrics``
exports the age (the "leader missing" alert) and the epoch.

Only the leader writes the row (it holds the lock), so the read-then-write here never races.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.store import Store, now

TABLE = "leader_heartbeat"


@dataclass
class LeaderBeat:
    replica: str
    epoch: int
    beat_at: float
    released: bool

    @property
    def age(self) -> float:
        return max(0.0, now() - self.beat_at)


class Heartbeat:
    def __init__(self, store: Store, replica: str, stale_after: float) -> None:
        self.store = store
        self.replica = replica
        self.stale_after = stale_after
        self.epoch = 0  # the last epoch this replica saw (its own while it leads)

    def beat(self, leads: bool, epoch: int | None = None) -> None:
        """Called every poll interval: the leader refreshes the row with its leadership ``epoch`` (the one
        services/leader.py takes at each takeover; without one, +1 when another replica took over)."""
        current = self.read()
        if not leads:
            return
        if epoch is None:
            if current is None:
                epoch = 1
            elif current.replica != self.replica or current.released or current.age > self.stale_after:
                epoch = current.epoch + 1
            else:
                epoch = current.epoch
        self.epoch = epoch
        self.store.upsert(TABLE, {"name": "leader", "replica": self.replica, "epoch": epoch, "beat_at": now(),
                                  "released": 0}, pk="name")

    def release(self) -> None:
        """On shutdown: the leader says it handed over (followers take over within a poll interval)."""
        self.store.update_where(TABLE, {"released": 1}, "name = 'leader' and replica = ?", [self.replica])

    def read(self) -> LeaderBeat | None:
        row = self.store.get(TABLE, "leader")
        if row is None:
            return None
        beat = LeaderBeat(row["replica"] or "", int(row["epoch"] or 0), float(row["beat_at"] or 0),
                          bool(row["released"]))
        self.epoch = max(self.epoch, beat.epoch)
        return beat

    def fresh(self) -> bool:
        """Whether a leader is alive: a beat within ``stale_after`` seconds that was not a hand-over."""
        beat = self.read()
        return beat is not None and not beat.released and beat.age <= self.stale_after
