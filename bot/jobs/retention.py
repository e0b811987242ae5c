"""Candidate data's lifetime: once a day (``RETENTION_CHECK_SECONDS``), on the leader only, everything
older than ``DATA_RETENTION_DAYS`` is purged and audit entries older than ``AUDIT_RETENTION_DAYS`` go
(bot/flows/lifecycle.py)."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.context import Services
from bot.flows.lifecycle import purge
from bot.scheduler import job


@job("retention", seconds=lambda services: services.settings.retention_check_seconds)
def purge_expired(services: Services, client: WebClient) -> None:
    purge(services, client)
