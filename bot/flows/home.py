"""The App Home tab: a working dashboard, published when a person opens it and after events that
change what it shows (an interview of theirs finished, they screened or decided).

Everything on it is the person's own (services/home.py). Admins (workspace admins, or
``ADMIN_USER_IDS`` when set) also see the workspace's backends (its own Nimrobo key and Pluto
server, several workspaces only: services/backends.py) and the doctor's checks, run at most every
few minutes because each one asks a backend. With several workspaces an admin sees only their
workspace's backends checked; the operator's own settings stay with ``python -m bot doctor``.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from bot.blocks import paginate
from bot.blocks.board import HOME_PER_PAGE, home_dashboard
from bot.blocks.reminders import settings_blocks
from bot.blocks.workspace_admin import admin_section
from bot.context import Services
from bot.doctor import Check, run_checks, workspace_backend_checks
from services.backends import BackendState
from services.workspaces import current_workspace

log = logging.getLogger(__name__)

CHECKS_TTL = 300.0
#: by workspace (one's checks never show in another), with the backends they checked
_checks: dict[str | None, tuple[float, Any, list[Check]]] = {}
_checks_locks: dict[str | None, threading.Lock] = {}  # one per workspace: a slow backend holds up only its own
_locks_guard = threading.Lock()


def is_admin(services: Services, client: Any, user: str) -> bool:
    return services.access.is_admin(user)


def doctor_checks(services: Services, *, fresh: bool = False, state: BackendState | None = None) -> list[Check]:
    """The doctor's checks, cached for a few minutes per workspace (each one calls a backend): every check
    in single-workspace mode, the workspace's own backends with several (``state``: theirs, when the caller
    has read it already)."""
    key = current_workspace()
    backends = _backends_here(services, state)
    with _locks_guard:
        lock = _checks_locks.setdefault(key, threading.Lock())
    with lock:
        hit = _checks.get(key)
        if fresh or hit is None or time.monotonic() - hit[0] > CHECKS_TTL or hit[1] != backends:
            hit = _checks[key] = (time.monotonic(), backends, _run_checks_here(services))
        return list(hit[2])


def _backends_here(services: Services, state: BackendState | None = None) -> Any:
    """What the workspace's checks depend on (several workspaces): an admin who sets, fixes or clears its key or
    server sees checks of the new settings at once, never the old ones' (a key that "can't be read", say)."""
    if not services.settings.multi_workspace:
        return None
    state = state or services.backends.state()
    return state.key_tail, state.key_unreadable, state.pluto_server


def _run_checks_here(services: Services) -> list[Check]:
    if not services.settings.multi_workspace:
        return run_checks(services.settings)
    workspace = services.workspaces.get(current_workspace() or "")
    if workspace is None:
        return []
    return workspace_backend_checks(services.settings, workspace, services.workspaces, services.transports)


def board_urls(client: Any, boards: list[tuple[str, str, str]]) -> dict[str, str]:
    """Permalinks of board messages: (board id, channel, ts) → URL; a board Slack won't link is left out."""
    urls = {}
    for board_id, channel, ts in boards:
        try:
            urls[board_id] = str(client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"])
        except Exception as exc:  # the home tab still renders without the button's link
            log.info("no permalink for board %s: %s", board_id, exc)
    return urls


def publish_home(services: Services, client: Any, user: str, *, opened: bool = False,
                 pages: dict[str, int] | None = None, fresh_checks: bool = False) -> None:
    """Build the person's dashboard and publish it (``opened``: they are looking now)."""
    if opened:
        services.home.mark_seen(user)
    pages = pages or {}
    data = services.home.dashboard(user)
    shown_runs = paginate(data.runs, pages.get("runs", 1), HOME_PER_PAGE).items
    shown_boards = paginate(data.boards, pages.get("boards", 1), HOME_PER_PAGE).items
    with_message = {s.board.id: (s.board.id, s.board.channel, s.board.message_ts) for s in shown_boards
                    if s.board.message_ts}
    for run in shown_runs:
        if run.board_id and run.board_id not in with_message:
            board = services.screening.board(run.board_id)
            if board.message_ts:
                with_message[board.id] = (board.id, board.channel, board.message_ts)
    admin = is_admin(services, client, user)
    state = services.backends.state() if admin else None  # read once: for the checks and the admin section
    checks = doctor_checks(services, fresh=fresh_checks, state=state) if admin else None
    backends = admin_section(state) if state is not None else []
    settings = settings_blocks(services.reminders.prefs(user), services.settings.quiet_hours)
    view = home_dashboard(data, pages=pages, checks=checks, board_urls=board_urls(client, list(with_message.values())),
                          settings=settings, admin=backends)
    client.views_publish(user_id=user, view=view.to_dict())


def refresh_home(services: Services, client: Any, user: str) -> None:
    """After an event: republish the Home tab of someone who has opened it before; never raises."""
    if not user:
        return
    try:
        if services.home.has_looked(user):
            publish_home(services, client, user)
    except Exception:
        log.exception("could not refresh the Home tab of %s", user)
