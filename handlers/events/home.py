"""App Home: a short guide to both commands, published when a user opens the tab."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.blocks.home import home_view
from bot.context import Services
from handlers.commands.pluto import PLUTO
from handlers.commands.voicelink import VOICELINK


def on_home_opened(event: dict[str, Any], client: WebClient) -> None:
    if event.get("tab", "home") != "home":
        return
    client.views_publish(user_id=event["user"], view=home_view(PLUTO.summary_lines(), VOICELINK.summary_lines()).to_dict())


def register(app: App, services: Services) -> None:  # noqa: ARG001 - every surface module registers the same way
    app.event("app_home_opened")(on_home_opened)
