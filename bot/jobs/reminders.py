"""Reminders, decision nudges, expiry warnings and daily digests (bot/flows/reminders.py), on a cron
trigger: at second 0 of every minute by default, every ``REMINDER_CHECK_SECONDS`` when that is shorter.
What is due is computed from stored state each time, in each person's (or channel's) time zone."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

from bot.context import Services
from bot.flows.reminders import run_due
from bot.scheduler import job


def every(services: Services) -> dict[str, Any]:
    step = int(services.settings.reminder_check_seconds)
    if step < 60:
        return {"second": f"*/{max(1, step)}"}
    return {"minute": f"*/{min(59, step // 60)}", "second": 0}


@job("reminders", cron=every)
def reminders(services: Services, client: WebClient) -> None:
    run_due(services, client)
