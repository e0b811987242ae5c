"""App Home: the person's dashboard (bot/flows/home.py), published when they open the tab."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.context import Services
from bot.flows.home import publish_home
from bot.work import defer
from handlers import inject

log = logging.getLogger(__name__)


def on_home_opened(event: dict[str, Any], client: WebClient, services: Services) -> None:
    """Built on the work pool (it reads the bot's tables, and for admins runs the doctor's checks)."""
    if event.get("tab", "home") != "home":
        return
    user = event["user"]
    defer(services.work, user, lambda: publish_home(services, client, user, opened=True),
          lambda message: log.warning("App Home of %s: %s", user, message.text), "App Home")


def register(app: App, services: Services) -> None:
    app.event("app_home_opened")(inject(on_home_opened, services))
