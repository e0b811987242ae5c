"""Screening boards between interviews (every ``POLL_INTERVAL_SECONDS``): evaluations Nimrobo writes
late, saves to Pluto, and failures of those saves told in the board's thread.

Finished interviews reach the boards through the watcher (bot/jobs/voice_watcher.py → on_interview).
"""

from __future__ import annotations

from slack_sdk import WebClient

from bot.context import Services
from bot.flows.screening import follow_up
from bot.scheduler import job
from bot.slack_out import SlackOut


@job("screening", seconds=lambda services: services.settings.poll_interval_seconds)
def follow_up_boards(services: Services, client: WebClient) -> None:
    if services.settings.nimrobo_api_key:
        follow_up(services, SlackOut(client))
