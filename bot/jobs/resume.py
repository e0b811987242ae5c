"""Resume slow work a replica could not finish before it stopped (every ``POLL_INTERVAL_SECONDS``).

A voice batch still being created when its replica shut down is recorded ``interrupted`` (bot/runtime.py);
one left ``creating`` by a replica that died is picked up once it has been untouched for ten minutes.
The leader records what Nimrobo already made for it, creates only what is missing, and delivers as the
first replica would have: the links privately to their creator, the card in the channel.
(Scoring runs need nothing here: they live in the database and the leader's ``pluto_scoring`` job
carries them on.)
"""

from __future__ import annotations

from slack_sdk import WebClient

from bot.context import Services
from bot.flows.voice import deliver
from bot.logging_setup import log_context
from bot.scheduler import job, job_logger
from bot.slack_out import SlackOut

JOB = "resume_work"
log = job_logger(JOB)  # its own lines and its failures: one logger, bot.jobs.resume_work


@job(JOB, seconds=lambda services: services.settings.poll_interval_seconds)
def resume_work(services: Services, client: WebClient) -> None:
    out = SlackOut(client)
    for batch in services.voicelinks.resumable():
        if services.stopping.is_set():
            return
        with log_context(batch=batch.id, channel=batch.channel, user=batch.creator):
            result = services.voicelinks.resume(batch)
            if result is None:
                continue
            log.info("resumed voice batch %s: %s (%d link(s) delivered)", batch.id, result.batch.state,
                     len(result.links))
            deliver(services, out, result)
