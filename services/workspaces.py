"""The workspaces the bot is installed in, and what each may set for itself.

Single-workspace mode (``SLACK_BOT_TOKEN``): there is one workspace and it has no record here;
:meth:`Workspaces.serving` is ``[None]``, so every job runs once, on the main store, as it always did.

Several workspaces (``SLACK_CLIENT_ID``/``SLACK_CLIENT_SECRET``/``SLACK_STATE_SECRET``): each install
through "Add to Slack" records its workspace here (the installation itself, tokens included, is kept
by slack_sdk's SQLAlchemy installation store). A workspace's records live in its own store
(services/store.py: a PostgreSQL schema or a SQLite file named by its team id), reached inside
:func:`services.store.in_workspace`. Jobs run once per installed workspace (:meth:`serving`).
Uninstalling (``app_uninstalled``, ``tokens_revoked``) stops its jobs at once, forgets its own Nimrobo key at
once (a credential, like its tokens) and schedules its data for deletion after ``WORKSPACE_RETENTION_DAYS``
(:meth:`due_for_purge`, :meth:`purge`). An org-wide Enterprise Grid install that loses some of the org's teams
(``team_access_revoked``) serves nothing from them until access is granted again (:meth:`team_revoked`).

A workspace's admin may set the workspace's own Nimrobo key (encrypted at rest with
``ENCRYPTION_KEY``, like the personal keys) and Pluto server; where unset, the environment's apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from config import Secret
from services.crypto import Cipher
from services.errors import BadInput, NotFoundHere, Refusal
from services.store import Store, current_workspace, in_workspace, now

__all__ = ["Workspace", "Workspaces", "current_workspace", "in_workspace", "workspace_key"]

DAY = 86400.0


def workspace_key(team_id: str | None, enterprise_id: str | None = None,
                  is_enterprise_install: bool = False) -> str | None:
    """The key of the store a request or an installation belongs to: the team, or for an org-wide
    Enterprise Grid install, the enterprise (one installation, one token and one admin for all its
    teams, so one store)."""
    if is_enterprise_install and enterprise_id:
        return enterprise_id
    return team_id or enterprise_id or None


class WorkspaceKeyUnreadable(Refusal):
    """The workspace's own Nimrobo key is stored but can't be decrypted (``ENCRYPTION_KEY`` changed or unset).
    Its calls are refused: falling back to the environment's key would put the workspace on an account other
    workspaces share, and silently."""

    service = "Workspace backends"

    def __init__(self) -> None:
        super().__init__("This workspace's Nimrobo key can't be read; an admin must enter it again in App Home.",
                         hint="(Workspace backends). A personal key (`/voicelink login`) still works meanwhile.")


@dataclass(frozen=True)
class Workspace:
    key: str
    team_id: str | None
    enterprise_id: str | None
    is_enterprise_install: bool
    name: str
    installed_by: str
    installed_at: float
    uninstalled_at: float | None
    purge_after: float | None
    has_nimrobo_key: bool
    pluto_api_base_url: str | None

    @property
    def installed(self) -> bool:
        return self.uninstalled_at is None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Workspace:
        return cls(row["key"], row.get("team_id") or None, row.get("enterprise_id") or None,
                   bool(row.get("is_enterprise_install")), row.get("name") or row["key"],
                   row.get("installed_by") or "", float(row.get("installed_at") or 0),
                   row.get("uninstalled_at"), row.get("purge_after"), bool(row.get("nimrobo_key_enc")),
                   row.get("pluto_api_base_url") or None)


class Workspaces:
    """The registry of installed workspaces (a table of the main store) and their own settings."""

    def __init__(self, store: Store, *, enabled: bool, encryption_key: str | Secret = "",
                 retention_days: float = 30.0) -> None:
        self.store = store
        self.enabled = enabled
        self._cipher = Cipher.from_setting(encryption_key)
        self.retention_days = retention_days
        if enabled:
            store.enable_workspaces()

    @property
    def _shared(self) -> Store:
        return self.store.shared

    # -- installing and leaving -------------------------------------------------------------
    def installed(self, *, team_id: str | None, enterprise_id: str | None, is_enterprise_install: bool,
                  name: str = "", installed_by: str = "") -> Workspace:
        """Record an install (or a re-install, which cancels a pending deletion) and prepare its store."""
        key = workspace_key(team_id, enterprise_id, is_enterprise_install)
        if key is None:
            raise BadInput("An installation names neither a team nor an enterprise.")
        stamp = now()
        with self._shared.transaction():
            before = self._shared.get("workspaces", key)
            self._shared.upsert("workspaces", {
                "key": key, "team_id": team_id, "enterprise_id": enterprise_id,
                "is_enterprise_install": int(is_enterprise_install), "name": name or (before or {}).get("name") or key,
                "installed_by": installed_by, "installed_at": stamp if before is None or before.get("uninstalled_at")
                else before.get("installed_at"), "uninstalled_at": None, "purge_after": None, "updated_at": stamp,
            }, pk="key")
        self.store.workspace(key)  # its store, migrated now rather than on its first request
        return self.get(key)  # type: ignore[return-value]  # just written

    def uninstalled(self, key: str, at: float | None = None) -> Workspace | None:
        """The app left workspace ``key`` (at ``at``, the bot's clock; default now): its jobs stop now; its
        data goes after the retention period. Leaving again (``tokens_revoked`` after ``app_uninstalled``)
        keeps the first date."""
        row = self._shared.get("workspaces", key)
        if row is None:
            return None
        changes: dict[str, Any] = {}
        if not row.get("uninstalled_at"):
            stamp = now() if at is None else at
            changes.update(uninstalled_at=stamp, purge_after=stamp + self.retention_days * DAY)
        if row.get("nimrobo_key_enc"):  # a credential, like the tokens: it goes now (the data waits for the purge)
            changes["nimrobo_key_enc"] = None
        if changes:  # one write: nobody sees the workspace gone with its key still kept
            self._shared.update("workspaces", key, {**changes, "updated_at": now()})
        return self.get(key)

    # -- the teams of an org-wide install -------------------------------------------------------
    def teams_revoked(self, key: str, team_ids: list[str], at: float | None = None) -> list[str]:
        """``team_access_revoked``: the org-wide install ``key`` lost these teams; the ones newly recorded."""
        stamp = now() if at is None else at
        return [team for team in team_ids if team and self._shared.insert_if_absent(
            "team_access_revoked", {"key": key, "team_id": team, "revoked_at": stamp})]

    def teams_granted(self, key: str, team_ids: list[str]) -> None:
        """``team_access_granted``: the org-wide install ``key`` serves these teams (again)."""
        for team in team_ids:
            self._shared.delete("team_access_revoked", (key, team))

    def team_revoked(self, key: str | None, team_id: str | None) -> bool:
        """The org-wide install ``key`` no longer has access to team ``team_id``: nothing from it is served."""
        if not self.enabled or not key or not team_id or key == team_id:
            return False
        return self._shared.get("team_access_revoked", (key, team_id)) is not None

    def due_for_purge(self, at: float | None = None) -> list[Workspace]:
        """Uninstalled workspaces whose retention period is over."""
        rows = self._shared.rows("workspaces", "uninstalled_at is not null and purge_after <= ?",
                                 [now() if at is None else at])
        return [Workspace.from_row(r) for r in rows]

    def purge(self, key: str) -> bool:
        """Delete every record of uninstalled workspace ``key`` (its store) and its registry row; False
        (nothing deleted) when it was installed again meanwhile. Serial with :meth:`installed`: a
        re-install either comes first and keeps the data, or finds the workspace new."""
        with self._shared.transaction():
            row = self._shared.get("workspaces", key)
            if row is not None and not row.get("uninstalled_at"):
                return False
            self.store.drop_workspace(key)
            self._shared.delete("workspaces", key)
            self._shared.execute('delete from team_access_revoked where "key" = ?', [key])
        return True

    # -- reading ------------------------------------------------------------------------------
    def data_store(self, key: str | None) -> Store:
        """The store holding workspace ``key``'s records, installed or within its retention period (the
        main store in single-workspace mode); :class:`NotFoundHere` once they are deleted (never made
        again empty)."""
        if not self.enabled:
            return self.store.shared
        if not key or self.get(key) is None:
            raise NotFoundHere(f"No data is held for workspace {key or '(none named)'}: it was never installed "
                               "here, or its data was deleted after the retention period.")
        return self.store.workspace(key)

    def get(self, key: str) -> Workspace | None:
        row = self._shared.get("workspaces", key)
        return Workspace.from_row(row) if row else None

    def all(self) -> list[Workspace]:
        return [Workspace.from_row(r) for r in self._shared.rows("workspaces", order_by="installed_at")]

    def serving(self) -> list[str | None]:
        """The workspaces a job runs for, each in turn: the installed ones; ``[None]`` in single-workspace mode."""
        if not self.enabled:
            return [None]
        return [w.key for w in self.all() if w.installed]

    def is_installed(self, key: str | None) -> bool:
        if not self.enabled:
            return True
        workspace = self.get(key) if key else None
        return workspace is not None and workspace.installed

    # -- the workspace's own backend settings --------------------------------------------------
    def set_nimrobo_key(self, key: str, nimrobo_key: str | None) -> None:
        """Keep (encrypted) or clear workspace ``key``'s own Nimrobo key."""
        if nimrobo_key and self._cipher is None:
            raise BadInput("A workspace Nimrobo key can't be kept: the operator must set ENCRYPTION_KEY.")
        ciphertext = self._cipher.encrypt(Secret(nimrobo_key).reveal()) if nimrobo_key and self._cipher else None
        self._shared.update("workspaces", key, {"nimrobo_key_enc": ciphertext, "updated_at": now()})

    def nimrobo_key(self, key: str | None = None) -> Secret | None:
        """Workspace ``key``'s (default: the current one's) own Nimrobo key, or None to use the environment's.
        Raises :class:`WorkspaceKeyUnreadable` when it has one that can't be decrypted (``ENCRYPTION_KEY`` changed
        or unset): never the environment's key in its place."""
        key = key or current_workspace()
        if not self.enabled or not key:
            return None
        row = self._shared.get("workspaces", key)
        if not row or not row.get("nimrobo_key_enc"):
            return None
        plain = self._cipher.decrypt(row["nimrobo_key_enc"]) if self._cipher is not None else None
        if plain is None:  # ENCRYPTION_KEY unset or changed
            raise WorkspaceKeyUnreadable()
        return Secret(plain)

    def set_pluto_server(self, key: str, url: str | None) -> None:
        url = (url or "").strip().rstrip("/") or None
        if url and not url.startswith(("http://", "https://")):
            raise BadInput(f"{url!r} is not a web address; a Pluto server looks like https://pluto.example.com/api")
        self._shared.update("workspaces", key, {"pluto_api_base_url": url, "updated_at": now()})

    def pluto_server(self, key: str | None = None) -> str | None:
        """Workspace ``key``'s (default: the current one's) own Pluto server, or None for the environment's."""
        key = key or current_workspace()
        if not self.enabled or not key:
            return None
        row = self._shared.get("workspaces", key)
        return (row or {}).get("pluto_api_base_url") or None
