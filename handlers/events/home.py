"""App Home: a short guide to both commands, published when a user opens the tab."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bot.blocks.home import home_view
from handlers.commands.pluto import PLUTO
from handlers.commands.voicelink import VOICELINK

if TYPE_CHECKING:
    from slack_bolt import App
    from slack_sdk import WebClient

    from bot.context import Services

log = logging.getLogger(__name__)


def register(app: App, services: Services) -> None:
    @app.event("app_home_opened")
    def on_home_opened(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        client.views_publish(user_id=event["user"], view=home_view(PLUTO.summary_lines(), VOICELINK.summary_lines()).to_dict())
