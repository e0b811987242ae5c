"""The APScheduler loop. Features add jobs with :func:`job`; each job calls plain service code.

A job function takes ``(services, client)``: the services and the Slack WebClient.
Jobs never overlap themselves (``max_instances=1``) and missed runs coalesce.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

import bot.jobs
from bot.context import Services

log = logging.getLogger(__name__)

JobFn = Callable[[Services, Any], None]


@dataclass
class JobSpec:
    id: str
    fn: JobFn
    seconds: Callable[[Services], float]


JOBS: dict[str, JobSpec] = {}


def job(job_id: str, seconds: Callable[[Services], float]) -> Callable[[JobFn], JobFn]:
    """Register a periodic job; ``seconds`` reads its period from the services' settings."""

    def add(fn: JobFn) -> JobFn:
        JOBS[job_id] = JobSpec(job_id, fn, seconds)
        return fn

    return add


def _guarded(spec: JobSpec, services: Services, client: Any) -> None:
    if services.stopping.is_set():
        return
    try:
        spec.fn(services, client)
    except Exception:
        log.exception("scheduled job %s failed; it will run again next period", spec.id)


def load_jobs() -> dict[str, JobSpec]:
    """Import every module of ``bot.jobs`` so its jobs register."""
    for info in pkgutil.iter_modules(bot.jobs.__path__):
        importlib.import_module(f"bot.jobs.{info.name}")
    return JOBS


def start_scheduler(services: Services, client: Any) -> BackgroundScheduler:
    load_jobs()
    scheduler = BackgroundScheduler(daemon=True, job_defaults={"max_instances": 1, "coalesce": True,
                                                               "misfire_grace_time": 30})
    for spec in JOBS.values():
        scheduler.add_job(_guarded, "interval", seconds=spec.seconds(services), id=spec.id,
                          args=(spec, services, client))
    scheduler.start()
    log.info("scheduler started with jobs: %s", ", ".join(sorted(JOBS)) or "none")
    return scheduler
