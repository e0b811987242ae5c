"""Workflow Builder steps that wait on stored state, or that a restart cut short (bot/flows/steps.py).

Every ``progress_update_seconds``: a scoring step whose shortlist is now posted completes with its
outputs; one whose run failed, stalled or was cancelled fails with the reason; one left "working" by
a replica that died is resumed from what was stored or failed with the reason; and any outcome Slack
has not confirmed is sent again (with the bot token: the execution's own token is never stored).
"""

from __future__ import annotations

from slack_sdk import WebClient

from bot.context import Services
from bot.flows.steps import resume
from bot.scheduler import job


@job("workflow_steps", seconds=lambda services: services.settings.progress_update_seconds)
def finish_steps(services: Services, client: WebClient) -> None:
    resume(services, client)
