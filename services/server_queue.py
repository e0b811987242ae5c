"""Pluto's one pipeline per server, shared fairly by every workspace that scores on it.

Pluto runs one job at a time per server, so scoring runs queue per server (services/scoring.py). With
several workspaces each workspace's runs sit in its own store, where no query sees another's, so two
workspaces on one server would each think the server is free. The server's side of the queue lives in
the main store (:attr:`Store.shared`) and holds no more than it must: which workspace's run has each
server now, and for each workspace waiting for a server, since when and how many runs. No file names,
channels, people or candidates.

* The turn (``pluto_server_turns``, one row per server): a run uploads only while it holds its
  server's turn. Taking it is a compare-and-set (an insert exactly one caller wins, on SQLite and on
  PostgreSQL, across replicas). The holder renews it on every tick while its run is uploading or
  running and gives it back when the run ends (complete, failed, stalled, back in the queue). A turn
  nobody renewed for ``lease_seconds`` (its workspace's jobs stopped, the bot crashed), or held by an
  uninstalled workspace, is reclaimed.
* Fairness (``pluto_server_line``): when a server is free the turn goes to the workspace that has
  waited longest; one that takes the turn with more runs queued goes to the back of the line. So two
  workspaces on one server alternate (A1, B1, A2, B2 …) however many runs each queued; within a
  workspace its own order (``seq``) holds. Every row is per server: workspaces on different servers
  never wait for each other.
* Positions (:meth:`ServerQueue.ahead`): the runs of other workspaces that go before a run under this
  order, from the counts in the line: a number, nothing else about them.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.store import Store, now

TURNS, LINE = "pluto_server_turns", "pluto_server_line"
GONE = "select key from workspaces where uninstalled_at is not null"  # workspaces that left: never wait on them


@dataclass(frozen=True)
class Turn:
    base_url: str
    workspace: str
    run_id: str
    since: float
    renewed_at: float


@dataclass(frozen=True)
class Waiting:
    base_url: str
    workspace: str
    since: float
    queued: int


class ServerQueue:
    """Each Pluto server's turn and its line of workspaces, in the main store."""

    def __init__(self, store: Store, *, lease_seconds: float = 300.0) -> None:
        self.store = store
        self.lease_seconds = lease_seconds
        #: how often a holder renews its turn and a waiting workspace its place (unchanged rows are not rewritten)
        self.refresh_seconds = lease_seconds / 4

    @property
    def _db(self) -> Store:
        return self.store.shared

    # -- the turn ----------------------------------------------------------------------------------
    def take(self, base_url: str, workspace: str, run_id: str, *, queued_after: int) -> bool:
        """Give ``run_id`` of ``workspace`` the server's turn if the server is free and the workspace is
        first in its line (or not in it while nobody waits); True when the run holds it now.

        ``queued_after``: the workspace's runs still queued for this server besides this one; with any,
        it goes to the back of the line, else it leaves it."""
        db, at = self._db, now()
        held = self.holder(base_url)  # read first: a busy server or another's turn costs no write
        if held is not None:
            return held.workspace == workspace and held.run_id == run_id
        first = next(iter(self.line(base_url)), None)
        if first is not None and first.workspace != workspace:
            return False
        with db.transaction():
            self._reclaim(base_url, at)
            if not db.insert_if_absent(TURNS, {"base_url": base_url, "workspace": workspace, "run_id": run_id,
                                               "since": at, "renewed_at": at}):
                return False
            if queued_after > 0:
                db.upsert(LINE, {"base_url": base_url, "workspace": workspace, "since": at, "queued": queued_after,
                                 "seen_at": at}, pk=("base_url", "workspace"))
            else:
                db.delete(LINE, (base_url, workspace))
        return True

    def hold(self, base_url: str, workspace: str, run_id: str) -> bool:
        """Renew the turn of a run that is uploading or running (taking it back if it was reclaimed and the
        server's turn is free); False when another run holds it."""
        db, at = self._db, now()
        if db.update_where(TURNS, {"renewed_at": at}, "base_url = ? and workspace = ? and run_id = ?",
                           [base_url, workspace, run_id]):
            return True
        with db.transaction():
            self._reclaim(base_url, at)
            return db.insert_if_absent(TURNS, {"base_url": base_url, "workspace": workspace, "run_id": run_id,
                                               "since": at, "renewed_at": at})

    def release(self, base_url: str, workspace: str, run_id: str) -> None:
        """The run's turn ends (it finished, failed, stalled or went back to the queue)."""
        self._db.execute(f"delete from {TURNS} where base_url = ? and workspace = ? and run_id = ?",
                         [base_url, workspace, run_id])

    def holder(self, base_url: str) -> Turn | None:
        """The live turn on ``base_url`` (a stale one counts as free)."""
        rows = self._db.execute(f"select * from {TURNS} where base_url = ? and renewed_at >= ? and workspace not in "
                                f"({GONE})", [base_url, now() - self.lease_seconds])
        if not rows:
            return None
        row = rows[0]
        return Turn(row["base_url"], row["workspace"], row["run_id"], row["since"], row["renewed_at"])

    def held_by(self, workspace: str) -> list[Turn]:
        return [Turn(r["base_url"], r["workspace"], r["run_id"], r["since"], r["renewed_at"])
                for r in self._db.rows(TURNS, "workspace = ?", [workspace])]

    def _reclaim(self, base_url: str, at: float) -> None:
        """Take back a lapsed turn; an uninstalled workspace's turn and place in line go (nothing of it stays)."""
        self._db.execute(f"delete from {TURNS} where base_url = ? and (renewed_at < ? or workspace in ({GONE}))",
                         [base_url, at - self.lease_seconds])
        self._db.execute(f"delete from {LINE} where base_url = ? and workspace in ({GONE})", [base_url])

    # -- the line --------------------------------------------------------------------------------
    def line_up(self, workspace: str, queued: dict[str, int]) -> None:
        """``workspace`` has ``queued[server]`` runs waiting for each server (every server it has any for):
        it joins a server's line at the back, keeps its place while it waits, and leaves where it has none."""
        db, at = self._db, now()
        mine = {r["base_url"]: r for r in db.rows(LINE, "workspace = ?", [workspace])}
        for base_url, count in queued.items():
            if count <= 0:
                continue
            if base_url in mine:
                row = mine[base_url]
                if row["queued"] != count or (row["seen_at"] or 0) < at - self.refresh_seconds:
                    db.update(LINE, (base_url, workspace), {"queued": count, "seen_at": at})
            else:
                db.insert_if_absent(LINE, {"base_url": base_url, "workspace": workspace, "since": at,
                                           "queued": count, "seen_at": at})
        for base_url in mine:
            if queued.get(base_url, 0) <= 0:
                db.delete(LINE, (base_url, workspace))

    def line(self, base_url: str) -> list[Waiting]:
        """The workspaces waiting for ``base_url``, longest-waiting first (those not seen for the lease, or
        uninstalled, are passed over)."""
        rows = self._db.rows(LINE, f"base_url = ? and queued > 0 and seen_at >= ? and workspace not in ({GONE})",
                             [base_url, now() - self.lease_seconds], order_by="since, workspace")
        return [Waiting(r["base_url"], r["workspace"], r["since"], int(r["queued"])) for r in rows]

    def lengths(self) -> dict[str, int]:
        """Runs waiting for or on each server, every workspace's (live rows only): for ``/metrics``."""
        db, since = self._db, now() - self.lease_seconds
        out: dict[str, int] = {}
        for row in db.execute(f"select base_url, sum(queued) as n from {LINE} where seen_at >= ? and workspace not in "
                              f"({GONE}) group by base_url", [since]):
            out[row["base_url"]] = int(row["n"] or 0)
        for row in db.execute(f"select base_url from {TURNS} where renewed_at >= ? and workspace not in ({GONE})",
                              [since]):
            out[row["base_url"]] = out.get(row["base_url"], 0) + 1
        return out

    def ahead(self, base_url: str, workspace: str, mine: int) -> int:
        """How many runs of other workspaces go before a queued run of ``workspace`` that has ``mine`` of its
        own workspace's queued runs ahead of it: the one on the server now (if another's), and from each
        other waiting workspace as many as get a turn first (one per round; a round more for a workspace
        ahead in the line)."""
        held = self.holder(base_url)
        count = 1 if held is not None and held.workspace != workspace else 0
        line = self.line(base_url)
        place = next((i for i, w in enumerate(line) if w.workspace == workspace), len(line))
        for i, waiting in enumerate(line):
            if waiting.workspace != workspace:
                count += min(waiting.queued, mine + 1 if i < place else mine)
        return count
