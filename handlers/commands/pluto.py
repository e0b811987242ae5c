"""``/pluto``: candidate scoring and live interviews, registered with Bolt. The router and its subcommands
are in handlers/commands/__init__.py; handlers attach with ``PLUTO.on(name)``."""

from __future__ import annotations

from slack_bolt import App

from bot.context import Services
from handlers.commands import PLUTO


def register(app: App, services: Services) -> None:
    PLUTO.register(app, services)
