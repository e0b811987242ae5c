"""A workspace's own backends: the Nimrobo key and the Pluto server its admin sets from App Home.

Several workspaces only (``SLACK_CLIENT_ID``/``SLACK_CLIENT_SECRET``/``SLACK_STATE_SECRET``): each
workspace may name its own Nimrobo key and Pluto server; where it names none, the environment's
(``NIMROBO_API_KEY``, ``PLUTO_API_BASE_URL``) apply. In single-workspace mode the environment sets
both and nothing here changes them.

Only an admin (Slack's admin or owner, or ``ADMIN_USER_IDS``) may change them, and both are checked
before they are kept: the key with the same check as ``/voicelink login`` (:meth:`KeyService.check`),
the server with ``GET /pluto/status``. The key is kept encrypted (``ENCRYPTION_KEY``) and never
shown again: :class:`BackendState` carries at most its last four characters.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from services.access import AccessService
from services.errors import BadInput, NotAllowed, Refusal
from services.keys import KeyService, Login
from services.pluto import PlutoClient
from services.store import current_workspace
from services.workspaces import WorkspaceKeyUnreadable, Workspaces

ONLY_ADMINS = "Only a workspace admin can change this workspace's Nimrobo key or Pluto server."
SINGLE = ("This bot serves one workspace: its Nimrobo key and Pluto server come from the environment "
          "(NIMROBO_API_KEY, PLUTO_API_BASE_URL); the operator changes them there.")


@dataclass(frozen=True)
class BackendState:
    """What the App Home admin section shows about the current workspace's backends."""

    multi_workspace: bool
    workspace: str | None
    key_tail: str | None  # the last 4 characters of the workspace's own key, None: the environment's
    pluto_server: str | None  # the workspace's own server, None: the environment's
    default_pluto_server: str
    can_keep_keys: bool  # ENCRYPTION_KEY is set: a key can be kept
    key_unreadable: bool = False  # its own key is stored but can't be decrypted: its Nimrobo calls are refused

    @property
    def pluto_in_use(self) -> str:
        return self.pluto_server or self.default_pluto_server


@dataclass(frozen=True)
class PlutoServerCheck:
    url: str
    status: str


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in socket.getaddrinfo(host, None)]
    except (OSError, ValueError):
        return []  # unresolvable: the check itself says nothing answers there


def address_refusal(url: str, default_url: str) -> str | None:
    """Why the bot won't call ``url`` for a workspace, or None. A workspace admin names a server the bot's own
    host then calls: never a link-local address (cloud metadata), and a private or loopback one only when
    the operator's own Pluto server (``PLUTO_API_BASE_URL``) is on such a network too."""
    host = urlsplit(url).hostname or ""
    found = _addresses(host)
    if any(a.is_link_local or a.is_multicast or a.is_unspecified for a in found):
        return f"{host} is not an address a Pluto server can have."
    inside = any(a.is_private or a.is_loopback or a.is_reserved for a in found)
    default_inside = any(a.is_private or a.is_loopback for a in _addresses(urlsplit(default_url).hostname or ""))
    if inside and not default_inside:
        return f"{host} is an internal address; the bot only calls public Pluto servers for a workspace."
    return None


class WorkspaceBackends:
    """Read and change the current workspace's own Nimrobo key and Pluto server (admins only)."""

    def __init__(self, workspaces: Workspaces, keys: KeyService, access: AccessService, *,
                 default_pluto_server: str, make_pluto: Callable[[str], PlutoClient]) -> None:
        self.workspaces = workspaces
        self.keys = keys
        self.access = access
        self.default_pluto_server = default_pluto_server.rstrip("/")
        self.make_pluto = make_pluto

    def state(self) -> BackendState:
        key = current_workspace() if self.workspaces.enabled else None
        try:
            own = self.workspaces.nimrobo_key(key) if key else None
            unreadable = False
        except WorkspaceKeyUnreadable:
            own, unreadable = None, True
        return BackendState(self.workspaces.enabled, key, own.reveal()[-4:] if own is not None else None,
                            self.workspaces.pluto_server(key) if key else None, self.default_pluto_server,
                            self.keys.vault.enabled, unreadable)

    def admin_here(self, user: str) -> str:
        """The workspace ``user`` may change the backends of; refuses a non-admin, and single-workspace mode."""
        if not self.access.is_admin(user):
            raise NotAllowed(ONLY_ADMINS, hint="Ask a workspace admin or owner.")
        key = current_workspace()
        if not self.workspaces.enabled or not key:
            raise Refusal(SINGLE)
        return key

    def own_pluto_server(self, user: str) -> str | None:
        """The Pluto server an admin's workspace set for itself (None: the default), for its form; no key is read."""
        return self.workspaces.pluto_server(self.admin_here(user))

    def set_nimrobo_key(self, user: str, nimrobo_key: str) -> Login:
        """Check ``nimrobo_key`` with Nimrobo (as ``/voicelink login`` does) and keep it for the workspace."""
        workspace = self.admin_here(user)
        if not self.keys.vault.enabled:
            raise Refusal("A workspace Nimrobo key can't be kept: the operator must set ENCRYPTION_KEY.")
        login = self.keys.check(nimrobo_key)
        self.workspaces.set_nimrobo_key(workspace, nimrobo_key.strip())
        return login

    def clear_nimrobo_key(self, user: str) -> None:
        self.workspaces.set_nimrobo_key(self.admin_here(user), None)

    def set_pluto_server(self, user: str, url: str) -> PlutoServerCheck:
        """Check that a Pluto server answers at ``url`` (``GET /pluto/status``) and use it for the workspace."""
        workspace = self.admin_here(user)
        url = (url or "").strip().rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise BadInput(f"{url!r} is not a web address.",
                           hint="A Pluto server looks like https://pluto.example.com/api")
        refusal = address_refusal(url, self.default_pluto_server)
        if refusal:
            raise BadInput(refusal, hint="Name the Pluto server by its public address.")
        client = self.make_pluto(url)
        try:
            answer = client.status()
        finally:
            client.close()
        if not isinstance(answer, dict) or "status" not in answer:
            raise BadInput(f"{url} answered, but not as a Pluto server does (GET /pluto/status has no status).",
                           hint="Check the address: it ends where /pluto/… begins, e.g. https://pluto.example.com/api")
        self.workspaces.set_pluto_server(workspace, url)
        return PlutoServerCheck(url, str(answer.get("status")))

    def clear_pluto_server(self, user: str) -> None:
        self.workspaces.set_pluto_server(self.admin_here(user), None)
