"""What Slack says about conversations and people, cached briefly.

* :meth:`SlackDirectory.is_public` — from ``conversations.info`` (``is_private``, ``is_im``,
  ``is_mpim``), never from the id's first letter: private channels made since 2021 have
  ``C`` ids too. When Slack can't say, the conversation is treated as public (mask).
* :meth:`SlackDirectory.members` — ``conversations.members``, every page.
* :meth:`SlackDirectory.is_admin` — ``users.info`` (``is_admin`` or ``is_owner``).

It implements :class:`services.access.Directory`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from slack_sdk.errors import SlackApiError

from services.store import current_workspace

log = logging.getLogger(__name__)


class _TTLCache:
    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.clock = ttl, clock
        self._values: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: str, load: Callable[[], Any]) -> Any:
        with self._lock:
            hit = self._values.get(key)
            if hit and self.clock() - hit[0] < self.ttl:
                return hit[1]
        value = load()
        with self._lock:
            self._values[key] = (self.clock(), value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


class SlackDirectory:
    def __init__(self, client: Any, ttl: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self._public = _TTLCache(ttl * 5, clock)  # privacy of a channel rarely changes
        self._members = _TTLCache(ttl, clock)
        self._admins = _TTLCache(ttl * 5, clock)
        self._zones = _TTLCache(ttl * 60, clock)

    def is_public(self, channel: str) -> bool:
        """True unless Slack says the conversation is private, a DM or a group DM."""
        if not channel:
            return True

        def load() -> bool:
            try:
                info = self.client.conversations_info(channel=channel)["channel"]
                return not (info.get("is_private") or info.get("is_im") or info.get("is_mpim"))
            except SlackApiError as exc:
                log.warning("conversations.info %s failed (%s): treating it as public", channel,
                            exc.response.get("error") if exc.response is not None else exc)
            except Exception as exc:  # Slack can't say: mask, to be safe
                log.warning("conversations.info %s failed (%s): treating it as public", channel, exc)
            return True

        return bool(self._public.get(channel, load))

    def members(self, channel: str) -> set[str]:
        def load() -> set[str]:
            found: set[str] = set()
            cursor = None
            try:
                while True:
                    page = self.client.conversations_members(channel=channel, limit=1000, cursor=cursor)
                    found.update(page.get("members") or [])
                    cursor = (page.get("response_metadata") or {}).get("next_cursor")
                    if not cursor:
                        return found
            except SlackApiError as exc:
                log.warning("conversations.members %s failed (%s)", channel,
                            exc.response.get("error") if exc.response is not None else exc)
                return found

        return set(self._members.get(channel, load))

    def is_admin(self, user: str) -> bool:
        def load() -> bool:
            try:
                info = self.client.users_info(user=user)["user"]
            except SlackApiError:
                return False
            return bool(info.get("is_admin") or info.get("is_owner") or info.get("is_primary_owner"))

        return bool(self._admins.get(user, load))


    def timezone(self, user: str) -> str | None:
        """The person's IANA time zone from ``users.info`` (``tz``); None when Slack won't say."""
        def load() -> str | None:
            try:
                info = self.client.users_info(user=user)["user"]
            except Exception as exc:  # noqa: BLE001 - a reminder then uses UTC
                log.info("users.info %s failed (%s): UTC for its reminders", user, exc)
                return None
            return info.get("tz") or None

        found = self._zones.get(user, load)
        return str(found) if found else None


def directory_of(client: Any) -> SlackDirectory:
    """The one :class:`SlackDirectory` of ``client`` (made on first use), so every caller shares its cache."""
    directory = getattr(client, "_pluto_directory", None)
    if directory is None:
        directory = SlackDirectory(client)
        try:
            client._pluto_directory = directory
        except AttributeError:  # a client that takes no attributes: no shared cache
            pass
    return directory


class WorkspaceDirectory:
    """Several workspaces: the directory of the workspace being served, through its own client (each
    client keeps its own cache, so one workspace's answers never serve another)."""

    def __init__(self, clients: Any) -> None:
        self.clients = clients

    def _here(self) -> SlackDirectory:
        return directory_of(self.clients.client_for(current_workspace()))

    def is_public(self, channel: str) -> bool:
        return self._here().is_public(channel)

    def members(self, channel: str) -> set[str]:
        return self._here().members(channel)

    def is_admin(self, user: str) -> bool:
        return self._here().is_admin(user)

    def timezone(self, user: str) -> str | None:
        return self._here().timezone(user)
