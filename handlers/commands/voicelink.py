"""``/voicelink``: Nimrobo voice interviews, registered with Bolt. The router and its subcommands are in
handlers/commands/__init__.py; handlers attach with ``VOICELINK.on(name)``."""

from __future__ import annotations

from slack_bolt import App

from bot.context import Services
from handlers.commands import VOICELINK


def register(app: App, services: Services) -> None:
    VOICELINK.register(app, services)
