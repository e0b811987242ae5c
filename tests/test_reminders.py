"""The rules behind reminders and digests, without Slack: quiet hours, weekends, time zones, who gets a
completed interview by DM, and when a reminder is due from stored state."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from config import ConfigError, Settings, load_settings
from services.clock import Clock, parse_shift
from services.errors import Refusal
from services.reminders import QuietHours, ReminderService, parse_time_of_day


def at(text, tz="UTC"):
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz)).timestamp()


def local(ts, tz="UTC"):
    return datetime.fromtimestamp(ts, ZoneInfo(tz)).strftime("%a %H:%M")


@pytest.mark.parametrize(("when", "tz", "expected"), [
    ("2026-12-08 10:00", "UTC", "Tue 10:00"),  # a working hour: at once
    ("2026-12-08 21:30", "UTC", "Wed 08:00"),  # the evening: the next morning
    ("2026-12-09 03:00", "UTC", "Wed 08:00"),  # the night: this morning
    ("2026-12-11 20:00", "UTC", "Mon 08:00"),  # Friday evening: Monday morning
    ("2026-12-12 12:00", "UTC", "Mon 08:00"),  # Saturday: Monday morning
    ("2026-12-08 22:00", "Asia/Tokyo", "Wed 08:00"),  # local time, not UTC
])
def test_quiet_hours_and_weekends_wait_for_the_next_morning(when, tz, expected):
    assert local(QuietHours.parse("20-8").next_allowed(at(when, tz), tz), tz) == expected


def test_own_quiet_hours_and_none():
    assert local(QuietHours.parse("22-7").next_allowed(at("2026-12-08 21:30"), "UTC")) == "Tue 21:30"
    assert local(QuietHours.parse("off").next_allowed(at("2026-12-09 03:00"), "UTC")) == "Wed 03:00"
    assert local(QuietHours.parse("off").next_allowed(at("2026-12-12 03:00"), "UTC")) == "Mon 00:00"  # weekends wait
    assert QuietHours.parse("9-17").quiet(12) and not QuietHours.parse("9-17").quiet(18)


def test_times_of_day_and_clock_steps():
    assert [parse_time_of_day(t) for t in ("9", "09:00", "9am", "5:30 pm", "12am")] == [
        "09:00", "09:00", "09:00", "17:30", "00:00"]
    for bad in ("25:00", "noon", "9:75"):
        with pytest.raises(Refusal):
            parse_time_of_day(bad)
    assert [parse_shift(s) for s in ("+1d", "2h", "+30m", "45s")] == [86400, 7200, 1800, 45]
    with pytest.raises(ValueError):
        parse_shift("tomorrow")
    clock = Clock()
    before = clock.now()
    assert clock.advance(3600) - before >= 3600


def test_the_settings_are_read_and_checked():
    settings = load_settings({"REMINDER_MAX": "3", "QUIET_HOURS": "21-7", "EXPIRY_WARNING_SECONDS": "60"}, None)
    assert (settings.reminder_max, settings.quiet_hours, settings.expiry_warning_seconds) == (3, "21-7", 60)
    assert Settings().reminder_first_after_seconds == 3600 and Settings().reminder_repeat_seconds == 86400
    with pytest.raises(ConfigError, match="QUIET_HOURS"):
        load_settings({"QUIET_HOURS": "evenings"}, None)


def service(store, **settings):
    return ReminderService(store, Settings().replace(**settings), Clock(), lambda user: "UTC")


def room(store, room_id="r1", interviewers=("U_A", "U_B"), created=None, **extra):
    store.insert("interview_rooms", {"id": room_id, "room_name": "interview-1", "kind": "adhoc",
                                     "candidate_name": "Grace", "interviewer": interviewers[0],
                                     "interviewers_json": list(interviewers), "expires_at": None,
                                     "expiry_estimated": 1, "state": "live", "created_at": created, **extra})


def test_feedback_is_due_for_every_interviewer_then_repeats_and_stops_at_the_limit(store):
    reminders = service(store, reminder_max=2)
    room(store, created=at("2026-12-08 09:00"))
    assert reminders.feedback_due(at("2026-12-08 09:59")) == []  # REMINDER_FIRST_AFTER_SECONDS: an hour
    due = reminders.feedback_due(at("2026-12-08 10:00"))
    assert sorted(r.user for r in due) == ["U_A", "U_B"]
    reminders.clock.set(at("2026-12-08 10:00"))  # sent then
    for r in due:
        reminders.mark_sent(r)
        reminders.mark_sent(r)  # recorded twice (a retry): still one
    assert reminders.feedback_due(at("2026-12-08 16:00")) == []
    assert [r.n for r in reminders.feedback_due(at("2026-12-09 16:00"))] == [1, 1]
    reminders.clock.set(at("2026-12-09 16:00"))
    for r in reminders.feedback_due(at("2026-12-09 16:00")):
        reminders.mark_sent(r)
    assert reminders.feedback_due(at("2026-12-14 16:00")) == []  # REMINDER_MAX reached


def test_reminders_stop_when_analyzed_decided_or_switched_off(store):
    reminders = service(store)
    room(store, "analyzed", created=at("2026-12-08 09:00"), state="analyzed")
    room(store, "decided", created=at("2026-12-08 09:00"), decision="advance")
    room(store, "open", interviewers=("U_A", "U_OFF"), created=at("2026-12-08 09:00"))
    reminders.set_prefs("U_OFF", reminders=False)
    assert [(r.subject, r.user) for r in reminders.feedback_due(at("2026-12-08 12:00"))] == [("open", "U_A")]


def test_completions_by_dm_follow_each_persons_choice(store):
    reminders = service(store)
    reminders.set_prefs("U_FOLLOWER", completions="following")
    reminders.set_prefs("U_QUIET", completions="off")
    assert reminders.completion_recipients("U_CREATOR", {}, ["U_FOLLOWER", "U_WATCHER"]) == [
        "U_CREATOR", "U_FOLLOWER"]  # the default is "mine": the creator only
    assert reminders.completion_recipients("U_QUIET", {}, []) == []
    assert reminders.completion_recipients("U_CREATOR", {"U_CREATOR": False}, []) == []  # the board's choice wins
    with pytest.raises(Refusal):
        reminders.set_prefs("U_A", completions="sometimes")


def test_a_digest_is_due_at_its_local_time_on_business_days_once(store):
    reminders = ReminderService(store, Settings(), Clock(), lambda user: "America/New_York")
    reminders.clock.set(at("2026-12-07 08:00", "America/New_York"))  # set on Monday morning, for 09:00
    reminders.set_digest("C1", "9:00", "U_A")
    posted: set[str] = set()
    assert reminders.digests_due(posted.__contains__, at("2026-12-07 08:59", "America/New_York")) == []
    [due] = reminders.digests_due(posted.__contains__, at("2026-12-07 09:01", "America/New_York"))
    assert due.day == "2026-12-07" and local(due.since, "America/New_York") == "Fri 09:00"  # since the last one
    posted.add(due.key)
    assert reminders.digests_due(posted.__contains__, at("2026-12-07 15:00", "America/New_York")) == []
    assert reminders.digests_due(posted.__contains__, at("2026-12-12 10:00", "America/New_York")) == []  # Saturday
    reminders.digest_off("C1")
    assert reminders.digests_due(posted.__contains__, at("2026-12-08 10:00", "America/New_York")) == []
    assert datetime.fromtimestamp(due.until, UTC).hour == 14  # 09:00 in New York
