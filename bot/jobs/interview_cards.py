"""Interview cards whose room closed by itself show "Closed" (every ``POLL_INTERVAL_SECONDS``)."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.context import Services
from bot.flows.interviews import close_expired_cards
from bot.scheduler import job
from bot.slack_out import SlackOut


@job("interview_cards", seconds=lambda services: services.settings.poll_interval_seconds)
def refresh_interview_cards(services: Services, client: WebClient) -> None:
    close_expired_cards(services, SlackOut(client))
