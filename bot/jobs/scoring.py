"""Drive scoring runs and keep each run's one progress message current.

The job runs every ``progress_update_seconds`` and updates a message only when its run moved;
the update goes through the outbox (bot/delivery.py), paced on chat.update's tier, where
updates of one message not yet sent coalesce into the newest.

A finished run's results (the shortlist with ``pluto_scoring_completed`` metadata, then the
CSV export) are queued once in the outbox (services/outbox.py):
:func:`bot.flows.scoring.deliver_results` queues whatever a complete run still lacks, so a
run is delivered even when the replica that saw it finish died before queueing.
"""

from __future__ import annotations

from slack_sdk import WebClient

from bot.context import Services
from bot.flows.scoring import deliver_results, show_update
from bot.logging_setup import log_context
from bot.scheduler import job, job_logger
from bot.slack_out import SlackOut

JOB = "pluto_scoring"
log = job_logger(JOB)  # its own lines and its failures: one logger, bot.jobs.pluto_scoring


@job(JOB, seconds=lambda services: services.settings.progress_update_seconds)
def drive_scoring(services: Services, client: WebClient) -> None:
    out = SlackOut(client)
    for update in services.scoring.tick():
        with log_context(run=update.run.id, channel=update.run.channel):
            try:
                show_update(services, out, update)
            except Exception:
                log.exception("could not show the update of run %s", update.run.id)
    deliver_results(services, out)
