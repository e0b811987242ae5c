"""The scheduler: interval and calendar (cron) jobs in a time zone, each running and logging under its own name."""

import contextlib
import logging
import threading
from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot import scheduler
from bot.scheduler import JobSpec, add_jobs, job, run_job
from config import ConfigError, Settings, load_settings


def services(**settings):
    return SimpleNamespace(settings=Settings().replace(**settings), stopping=threading.Event(),
                           jobs_in_flight=contextlib.nullcontext(),
                           leadership=SimpleNamespace(is_leader=True, check=lambda: True))


def test_daily_at_fires_at_that_time_in_the_scheduler_time_zone():
    spec = JobSpec("digest", lambda s, c: None, daily_at="09:00")
    trigger = spec.trigger(services(scheduler_timezone="America/New_York"))
    assert isinstance(trigger, CronTrigger)
    new_york = ZoneInfo("America/New_York")
    after = datetime(2026, 7, 1, 10, 0, tzinfo=new_york)  # past 9:00 there: the next is tomorrow's
    assert trigger.get_next_fire_time(None, after) == datetime(2026, 7, 2, 9, 0, tzinfo=new_york)
    # 13:00 UTC is 9:00 in New York in summer
    assert trigger.get_next_fire_time(None, after).astimezone(ZoneInfo("UTC")).hour == 13


def test_a_job_may_name_its_own_time_zone_and_a_crontab_line():
    spec = JobSpec("weekly", lambda s, c: None, cron="30 8 * * mon", timezone="Asia/Tokyo")
    trigger = spec.trigger(services())
    tokyo = ZoneInfo("Asia/Tokyo")
    fire = trigger.get_next_fire_time(None, datetime(2026, 7, 1, 0, 0, tzinfo=tokyo))  # a Wednesday
    assert fire == datetime(2026, 7, 6, 8, 30, tzinfo=tokyo)


def test_daily_at_may_read_its_time_from_the_settings():
    spec = JobSpec("digest", lambda s, c: None, daily_at=lambda s: f"{int(s.settings.port) % 24:02d}:15")
    trigger = spec.trigger(services(port=7))
    fire = trigger.get_next_fire_time(None, datetime(2026, 7, 1, 0, 0, tzinfo=ZoneInfo("UTC")))
    assert (fire.hour, fire.minute) == (7, 15)


def test_interval_jobs_stay_intervals():
    spec = JobSpec("watch", lambda s, c: None, seconds=lambda s: s.settings.poll_interval_seconds)
    trigger = spec.trigger(services(poll_interval_seconds=12))
    assert isinstance(trigger, IntervalTrigger) and trigger.interval.total_seconds() == 12


@pytest.mark.parametrize("kwargs", [{}, {"seconds": lambda s: 1, "daily_at": "09:00"}, {"daily_at": "9am"},
                                    {"daily_at": "24:00"}, {"cron": "not a crontab"},
                                    {"daily_at": "09:00", "timezone": "Mars/Olympus"}])
def test_a_bad_schedule_fails_when_the_job_registers(kwargs):
    with pytest.raises(ValueError):
        job("bad", **kwargs)


def test_the_time_zone_setting_is_checked():
    assert load_settings({"SCHEDULER_TIMEZONE": "Europe/Berlin"}, env_file=None).scheduler_timezone == "Europe/Berlin"
    assert load_settings({}, env_file=None).scheduler_timezone == "UTC"
    with pytest.raises(ConfigError, match="SCHEDULER_TIMEZONE"):
        load_settings({"SCHEDULER_TIMEZONE": "Berlin/Nowhere"}, env_file=None)


def test_jobs_are_named_after_their_ids_in_apscheduler():
    specs = {"voice_watcher": JobSpec("voice_watcher", lambda s, c: None, seconds=lambda s: 30),
             "daily_digest": JobSpec("daily_digest", lambda s, c: None, daily_at="09:00")}
    sched = BackgroundScheduler()
    add_jobs(sched, services(), None, specs)
    names = {j.id: j.name for j in sched.get_jobs()}
    assert names == {"leader": "leader", "voice_watcher": "voice_watcher", "daily_digest": "daily_digest"}


def test_a_failing_job_logs_under_its_own_name(caplog):
    def broken(services, client):
        raise RuntimeError("boom")

    caplog.set_level(logging.DEBUG)
    run_job(JobSpec("screening", broken, seconds=lambda s: 1), services(), None)
    failed = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.name for r in failed] == ["bot.jobs.screening"]
    assert "screening failed" in failed[0].getMessage()


def test_a_workspace_whose_nimrobo_key_cant_be_read_costs_a_job_one_warning_not_a_traceback(caplog):
    from services.workspaces import WorkspaceKeyUnreadable

    def unreadable(services, client):
        raise WorkspaceKeyUnreadable()

    caplog.set_level(logging.DEBUG)
    run_job(JobSpec("voice_watcher", unreadable, seconds=lambda s: 1), services(), None)
    said = [r for r in caplog.records if r.name == "bot.jobs.voice_watcher" and r.levelno >= logging.WARNING]
    assert [r.levelno for r in said] == [logging.WARNING] and said[0].exc_info is None
    assert "can't be read" in said[0].getMessage()


def test_skipped_runs_say_which_job_and_why(caplog):
    ran = []
    follower = services()
    follower.leadership.is_leader = False
    caplog.set_level(logging.DEBUG, logger="bot.jobs")
    run_job(JobSpec("voice_watcher", lambda s, c: ran.append(1), seconds=lambda s: 1), follower, None)
    run_job(JobSpec("health", lambda s, c: ran.append(2), seconds=lambda s: 1, leader_only=False), follower, None)
    assert ran == [2]
    assert [(r.name, "not the leader" in r.getMessage()) for r in caplog.records] == [("bot.jobs.voice_watcher", True)]


def test_every_registered_job_builds_its_trigger():
    registered = scheduler.load_jobs()
    assert {"voice_watcher", "screening", "pluto_scoring"} <= set(registered)
    for spec in registered.values():
        assert spec.trigger(services()) is not None


def job_services(**parts):
    """``services()`` for running a real job once: one workspace, a Nimrobo key, the feature services given."""
    found = services(nimrobo_api_key="nk_test")
    for name, value in parts.items():
        setattr(found, name, value)
    return found


def test_each_job_logs_its_own_lines_and_its_failures_under_bot_jobs_its_id(caplog, monkeypatch):
    """A step that fails inside the job (logged by the job) and the failure of the run (logged by the
    scheduler) both come from ``bot.jobs.<id>``, the name README promises, for every job that logs."""
    from unittest.mock import Mock

    from bot.jobs import resume, voice_watcher
    from bot.jobs import scoring as scoring_job

    jobs = scheduler.load_jobs()
    caplog.set_level(logging.DEBUG)
    boom = Mock(side_effect=RuntimeError("boom"))

    # voice_watcher: following the links fails (its own line), then the poll fails (the run fails)
    monkeypatch.setattr(voice_watcher, "refresh_changed_cards", boom)
    sessions = Mock(poll=Mock(side_effect=RuntimeError("poll")))
    run_job(jobs["voice_watcher"], job_services(sessions=sessions, screening=Mock()), Mock())

    # pluto_scoring: one update can't be shown (its own line), then delivering results fails
    monkeypatch.setattr(scoring_job, "show_update", boom)
    monkeypatch.setattr(scoring_job, "deliver_results", boom)
    update = SimpleNamespace(run=SimpleNamespace(id="r1", channel="C1"))
    run_job(jobs["pluto_scoring"], job_services(scoring=Mock(tick=Mock(return_value=[update]))), Mock())

    # resume_work: a batch resumed (its own line), then delivering it fails
    monkeypatch.setattr(resume, "deliver", boom)
    batch = SimpleNamespace(id="vb1", channel="C1", creator="U1")
    result = SimpleNamespace(batch=SimpleNamespace(state="complete"), links=[1])
    voicelinks = Mock(resumable=Mock(return_value=[batch]), resume=Mock(return_value=result))
    run_job(jobs["resume_work"], job_services(voicelinks=voicelinks), Mock())

    by_logger = {}
    for record in caplog.records:
        by_logger.setdefault(record.name, []).append(record.getMessage())
    for job_id, own, failed in [("voice_watcher", "following the voice links failed", "voice_watcher failed"),
                                ("pluto_scoring", "could not show the update of run r1", "pluto_scoring failed"),
                                ("resume_work", "resumed voice batch vb1", "resume_work failed")]:
        said = by_logger.get(f"bot.jobs.{job_id}", [])
        assert any(own in m for m in said) and any(failed in m for m in said), (job_id, by_logger)
    assert not [name for name in by_logger if name.startswith("bot.jobs.") and name.split(".")[2] not in jobs]


def test_a_workspace_whose_turn_hangs_delays_no_other_workspaces_run_of_the_job():
    """Several workspaces: each one's turn of a job runs beside the others', inside its own workspace and with its own
    client, so a workspace whose backend hangs (here: until every other turn has run) holds up nobody."""
    from services.store import current_workspace

    keys = ["T0ACME", "T0BETA", "T0GAMMA"]
    others_done = threading.Barrier(len(keys), timeout=20)  # each turn waits here for all the others to arrive
    seen = []

    def hangs_until_the_others_ran(services, client):
        seen.append((current_workspace(), client))
        others_done.wait()  # run one after another, the first turn would wait here for ever (BrokenBarrierError)

    many = services()
    many.settings = SimpleNamespace(multi_workspace=True, job_workspace_workers=4)
    many.workspaces = SimpleNamespace(serving=lambda: keys)
    many.clients = SimpleNamespace(client_for=lambda key: f"client of {key}")
    run_job(JobSpec("voice_watcher", hangs_until_the_others_ran, seconds=lambda s: 1), many, None)
    assert not others_done.broken
    assert sorted(seen) == [(key, f"client of {key}") for key in keys]
