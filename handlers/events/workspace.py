"""Leaving a workspace: ``app_uninstalled`` and ``tokens_revoked`` (several workspaces); an org-wide Enterprise
Grid install leaving some of the org's teams: ``team_access_revoked`` (and ``team_access_granted`` back).

Its tokens and its own Nimrobo key are deleted at once and its jobs stop (bot/context.py
``Services.workspace_left``); its data is kept for ``WORKSPACE_RETENTION_DAYS`` and then deleted
(bot/jobs/workspaces.py). A team the org-wide install lost is served nothing (bot/app.py).
In single-workspace mode there is nothing to forget: the token is the operator's, in the environment.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext

from bot.context import Services
from handlers import inject

log = logging.getLogger(__name__)


def on_app_uninstalled(context: BoltContext, services: Services) -> None:
    services.workspace_left(enterprise_id=context.enterprise_id, team_id=context.team_id,
                            is_enterprise_install=bool(context.is_enterprise_install), reason="app_uninstalled")


def on_tokens_revoked(event: dict[str, Any], context: BoltContext, services: Services) -> None:
    """Only the bot's own tokens matter: without them the bot can't act in the workspace."""
    if not (event.get("tokens") or {}).get("bot"):
        log.info("user tokens revoked in %s; the bot's own token stands", context.team_id)
        return
    services.workspace_left(enterprise_id=context.enterprise_id, team_id=context.team_id,
                            is_enterprise_install=bool(context.is_enterprise_install), reason="tokens_revoked")


def on_team_access_revoked(event: dict[str, Any], context: BoltContext, services: Services) -> None:
    """An org admin removed the org-wide install from some of the org's teams (``team_ids``): they are no longer
    served; the org's other teams are."""
    services.team_access_changed(enterprise_id=context.enterprise_id, team_ids=list(event.get("team_ids") or []),
                                 granted=False)


def on_team_access_granted(event: dict[str, Any], context: BoltContext, services: Services) -> None:
    """The org-wide install was added to teams of the org (again): they are served."""
    services.team_access_changed(enterprise_id=context.enterprise_id, team_ids=list(event.get("team_ids") or []),
                                 granted=True)


def register(app: App, services: Services) -> None:
    if not services.settings.multi_workspace:
        return
    app.event("app_uninstalled")(inject(on_app_uninstalled, services))
    app.event("tokens_revoked")(inject(on_tokens_revoked, services))
    app.event("team_access_revoked")(inject(on_team_access_revoked, services))
    app.event("team_access_granted")(inject(on_team_access_granted, services))
