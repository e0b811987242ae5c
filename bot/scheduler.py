"""The APScheduler loop. Features add jobs with :func:`job`; each job calls plain service code.

A job function takes ``(services, client)``: the services and the Slack WebClient.
Jobs never overlap themselves (``max_instances=1``) and missed runs coalesce.

Several replicas may run the scheduler; only the leader's jobs do anything
(:mod:`services.leader`). The ``leader`` job tries for (or confirms) the leadership every
poll interval, so a follower takes over within one interval of the leader's death.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

import bot.jobs
from bot.context import Services
from bot.logging_setup import log_context
from services import metrics

log = logging.getLogger(__name__)

JobFn = Callable[[Services, Any], None]


@dataclass
class JobSpec:
    id: str
    fn: JobFn
    seconds: Callable[[Services], float]
    leader_only: bool = True
    cron: Callable[[Services], dict[str, Any]] | None = None  # CronTrigger fields, instead of the interval




JOBS: dict[str, JobSpec] = {}


def job(job_id: str, seconds: Callable[[Services], float] = lambda services: 60.0, *,
        leader_only: bool = True, cron: Callable[[Services], dict[str, Any]] | None = None
        ) -> Callable[[JobFn], JobFn]:
    """Register a periodic job; ``seconds`` reads its period from the services' settings, or ``cron``
    its APScheduler ``CronTrigger`` fields (``{"minute": "*"}``, ``{"hour": 9, "timezone": "Europe/Paris"}``).
    A ``leader_only`` job (the default) runs only on the replica that leads."""

    def add(fn: JobFn) -> JobFn:
        JOBS[job_id] = JobSpec(job_id, fn, seconds, leader_only, cron)
        return fn

    return add


def job_logger(job_id: str) -> logging.Logger:
    """The logger a scheduled job's own lines go to: ``bot.jobs.<job id>``."""
    return logging.getLogger(f"bot.jobs.{job_id}")


def _guarded(spec: JobSpec, services: Services, client: Any) -> None:
    if services.stopping.is_set():
        return
    if spec.leader_only and not services.leadership.is_leader:
        return
    with services.jobs_in_flight, log_context(job=spec.id):
        try:
            with metrics.job_run(spec.id):
                spec.fn(services, client)
        except Exception:
            job_logger(spec.id).exception("scheduled job %s failed; it will run again next period", spec.id)


def _elect(services: Services) -> None:
    if services.stopping.is_set():
        return
    with log_context(job="leader"):
        try:
            with metrics.job_run("leader"):
                was = services.leadership.is_leader
                leads = services.leadership.check()
                if leads != was:
                    metrics.leader_changed(leads)
                services.heartbeat.beat(leads, services.leadership.epoch)
        except Exception:
            job_logger("leader").exception("leader election failed; trying again next period")


def load_jobs() -> dict[str, JobSpec]:
    """Import every module of ``bot.jobs`` so its jobs register."""
    for info in pkgutil.iter_modules(bot.jobs.__path__):
        importlib.import_module(f"bot.jobs.{info.name}")
    return JOBS


def start_scheduler(services: Services, client: Any) -> BackgroundScheduler:
    load_jobs()
    scheduler = BackgroundScheduler(daemon=True, job_defaults={"max_instances": 1, "coalesce": True,
                                                               "misfire_grace_time": 30})
    if services.leadership.check():
        metrics.leader_changed(True)
    services.heartbeat.beat(services.leadership.is_leader, services.leadership.epoch)
    scheduler.add_job(_elect, "interval", seconds=services.settings.poll_interval_seconds, id="leader",
                      args=(services,))
    for spec in JOBS.values():
        trigger: Any = (CronTrigger(**{"timezone": "UTC", **spec.cron(services)}) if spec.cron
                        else IntervalTrigger(seconds=spec.seconds(services)))
        scheduler.add_job(_guarded, trigger, id=spec.id, name=spec.id, args=(spec, services, client))
    scheduler.start()
    log.info("scheduler started with jobs: %s", ", ".join(sorted(JOBS)) or "none")
    return scheduler
