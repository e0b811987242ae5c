"""Keep each voice-link card's status lines, and the screening boards showing them, current (every
``POLL_INTERVAL_SECONDS``)."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.context import Services
from bot.flows.screening import show_boards
from bot.flows.voice import refresh_changed_cards
from bot.scheduler import job
from bot.slack_out import SlackOut


@job("voice_cards", seconds=lambda services: services.settings.poll_interval_seconds)
def refresh_cards(services: Services, client: WebClient) -> None:
    if services.settings.nimrobo_api_key:
        out = SlackOut(client)
        changed = refresh_changed_cards(services, out)
        # screening boards show the same links (invited → started → expired)
        show_boards(services, out, services.screening.boards_for_batches(changed))
