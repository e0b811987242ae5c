"""Keep each voice-link card's status lines current (every ``POLL_INTERVAL_SECONDS``)."""

from __future__ import annotations

import logging
from typing import Any

from bot.blocks.voice import card_message
from bot.context import Services
from bot.scheduler import job

log = logging.getLogger(__name__)


@job("voice_cards", seconds=lambda services: services.settings.poll_interval_seconds)
def refresh_cards(services: Services, client: Any) -> None:
    if not services.settings.nimrobo_api_key:
        return
    service = services.voicelinks
    for batch_id in service.refresh_statuses():
        batch, lines = service.card(batch_id)
        if batch.get("card_ts"):
            client.chat_update(channel=batch["channel"], ts=batch["card_ts"], **card_message(batch, lines).kwargs())
