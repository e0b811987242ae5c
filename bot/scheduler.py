"""The APScheduler loop. Features add jobs with :func:`job`. Jobs call flows (``bot/flows/``: what
happens, in order, and what Slack is shown) and feature services; flows call services (``services/``:
the domain, without Slack). A job is a flow the scheduler starts: it may order its own steps (the voice
watcher's ``_cycle`` and ``decide``), but never reaches a store or an API client itself
(tests/test_layers.py).

A job function takes ``(services, client)``: the services and the Slack WebClient. A job runs
either every ``seconds`` (an interval) or on a calendar through APScheduler's ``CronTrigger``:
``daily_at="09:00"`` or a crontab line ``cron="0 9 * * mon-fri"``, in the time zone
``SCHEDULER_TIMEZONE`` (UTC by default) unless the job names its own::

    @job("daily_digest", daily_at="09:00")
    def post_digests(services: Services, client: WebClient) -> None: ...

Jobs never overlap themselves (``max_instances=1``) and missed runs coalesce. Each job is
named after its id in APScheduler and logs under ``bot.jobs.<id>``, so an operator can tell
which job ran late, was skipped or failed.

Several workspaces (services/workspaces.py): a job runs once per installed workspace, each turn
inside that workspace (its store, its Slack client with its own token), so a job written for one
workspace serves any number; a job that is about the deployment itself says ``per_workspace=False``.
An uninstalled workspace's turns stop at once.

Several replicas may run the scheduler; only the leader's jobs do anything
(:mod:`services.leader`). The ``leader`` job tries for (or confirms) the leadership every
poll interval, so a follower takes over within one interval of the leader's death.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

import bot.jobs
from bot.context import Services
from bot.logging_setup import log_context
from services import metrics
from services.concurrency import bounded_map
from services.store import in_workspace
from services.workspaces import WorkspaceKeyUnreadable

log = logging.getLogger(__name__)

JobFn = Callable[[Services, Any], None]
# A schedule value, or a function reading it from the services' settings.
Setting = Callable[[Services], Any]

DAILY_AT = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


@dataclass
class JobSpec:
    id: str
    fn: JobFn
    seconds: Setting | None = None
    daily_at: str | Setting | None = None
    cron: str | Setting | None = None
    timezone: str | None = None
    leader_only: bool = True
    per_workspace: bool = True

    @property
    def log(self) -> logging.Logger:
        return job_logger(self.id)

    def trigger(self, services: Services) -> BaseTrigger:
        """The job's APScheduler trigger: an interval, or a cron schedule in the job's time zone."""
        if self.seconds is not None:
            return IntervalTrigger(seconds=self.seconds(services))
        zone = ZoneInfo(self.timezone or services.settings.scheduler_timezone)
        if self.daily_at is not None:
            at = _value(self.daily_at, services)
            match = DAILY_AT.match(at)
            if not match:
                raise ValueError(f"job {self.id}: daily_at={at!r} is not a time of day; expected HH:MM")
            return CronTrigger(hour=int(match[1]), minute=int(match[2]), timezone=zone)
        cron = self.cron(services) if callable(self.cron) else self.cron
        if isinstance(cron, dict):  # CronTrigger's own fields: {"minute": "*/5", "second": 0}
            return CronTrigger(**{"timezone": zone, **cron})
        return CronTrigger.from_crontab(str(cron), timezone=zone)


def job_logger(job_id: str) -> logging.Logger:
    """The logger a scheduled job's own lines go to: ``bot.jobs.<job id>``."""
    return logging.getLogger(f"bot.jobs.{job_id}")


def _value(value: Any, services: Services) -> str:
    return str(value(services) if callable(value) else value)


JOBS: dict[str, JobSpec] = {}


def job(job_id: str, seconds: Setting | None = None, *, daily_at: str | Setting | None = None,
        cron: str | Setting | None = None, timezone: str | None = None,
        leader_only: bool = True, per_workspace: bool = True) -> Callable[[JobFn], JobFn]:
    """Register a scheduled job: exactly one of ``seconds`` (a function reading the period from the
    services' settings), ``daily_at`` (``"HH:MM"``) or ``cron`` (a crontab line, or ``CronTrigger``'s
    fields as a dict: ``{"minute": "*/5"}``). ``daily_at`` and ``cron`` may also be functions of the
    services. ``timezone`` (an IANA name) overrides
    ``SCHEDULER_TIMEZONE`` for this job. A ``leader_only`` job (the default) runs only on the replica
    that leads. A ``per_workspace`` job (the default) runs once for each installed workspace, inside it;
    otherwise once, outside any, with the app's client."""
    if sum(x is not None for x in (seconds, daily_at, cron)) != 1:
        raise ValueError(f"job {job_id}: give exactly one of seconds=, daily_at= or cron=")
    if isinstance(daily_at, str) and not DAILY_AT.match(daily_at):
        raise ValueError(f"job {job_id}: daily_at={daily_at!r} is not a time of day; expected HH:MM")
    if isinstance(cron, str):
        CronTrigger.from_crontab(cron)  # a bad line fails at import, not at start-up
    if timezone is not None:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"job {job_id}: timezone={timezone!r} is not an IANA time zone") from None

    def add(fn: JobFn) -> JobFn:
        JOBS[job_id] = JobSpec(job_id, fn, seconds, daily_at, cron, timezone, leader_only, per_workspace)
        return fn

    return add


def run_job(spec: JobSpec, services: Services, client: Any) -> None:
    """One run of a job, as the scheduler makes it: skipped while stopping or on a follower replica,
    and a failure logged under the job's own name (the next run tries again)."""
    if services.stopping.is_set():
        spec.log.debug("job %s skipped: the bot is stopping", spec.id)
        return
    if spec.leader_only and not services.leadership.is_leader:
        spec.log.debug("job %s skipped: this replica is not the leader", spec.id)
        return
    with services.jobs_in_flight, log_context(job=spec.id):
        if not spec.per_workspace or not services.settings.multi_workspace:
            _run_once(spec, services, client)
            return

        def turn(key: str | None) -> None:
            if services.stopping.is_set():
                return
            with in_workspace(key), log_context(team=key or ""):
                try:
                    here = services.clients.client_for(key)
                except Exception as exc:  # its tokens are gone (uninstalled or revoked): its turn is skipped
                    spec.log.warning("job %s skipped for workspace %s: %s", spec.id, key, exc)
                    return
                _run_once(spec, services, here)

        # the workspaces' turns side by side (JOB_WORKSPACE_WORKERS at a time): one whose backend is slow or down
        # delays no other workspace's run of the job
        bounded_map(turn, services.workspaces.serving(), workers=services.settings.job_workspace_workers)


def _run_once(spec: JobSpec, services: Services, client: Any) -> None:
    try:
        with metrics.job_run(spec.id):
            spec.fn(services, client)
    except WorkspaceKeyUnreadable as exc:  # the operator's to fix (ENCRYPTION_KEY): one line a run, no traceback
        spec.log.warning("scheduled job %s made no Nimrobo call here: %s", spec.id, exc.user_message)
    except Exception:
        spec.log.exception("scheduled job %s failed; it will run again at its next time", spec.id)


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


def add_jobs(scheduler: BackgroundScheduler, services: Services, client: Any,
             jobs: dict[str, JobSpec] | None = None) -> None:
    """Add the leader election and every job (by default all registered ones) to ``scheduler``,
    each under its own id and name."""
    scheduler.add_job(_elect, "interval", seconds=services.settings.poll_interval_seconds, id="leader",
                      name="leader", args=(services,))
    for spec in (JOBS if jobs is None else jobs).values():
        scheduler.add_job(run_job, spec.trigger(services), id=spec.id, name=spec.id,
                          args=(spec, services, client))


def start_scheduler(services: Services, client: Any) -> BackgroundScheduler:
    load_jobs()
    scheduler = BackgroundScheduler(daemon=True, job_defaults={"max_instances": 1, "coalesce": True,
                                                               "misfire_grace_time": 30})
    if services.leadership.check():
        metrics.leader_changed(True)
    services.heartbeat.beat(services.leadership.is_leader, services.leadership.epoch)
    add_jobs(scheduler, services, client)
    scheduler.start()
    log.info("scheduler started with jobs: %s (time zone %s)", ", ".join(sorted(JOBS)) or "none",
             services.settings.scheduler_timezone)
    return scheduler
