"""Times as people read them: Slack date tokens, relative expiry, durations that never say "0 s"."""

import re
import time
from datetime import UTC, datetime

import pytest

from bot.blocks import when
from bot.blocks.voice import link_line, session_message
from bot.blocks.voice_watcher import completed_message
from services.nimrobo import SessionStatus, VoiceLink
from services.records import Notification, SessionRef

NOW = 1_767_225_600.0  # 2026-01-01 00:00 UTC
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


def iso(seconds_from_now: float) -> str:
    return (datetime.fromtimestamp(time.time() + seconds_from_now, UTC)).isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize("value", ["2026-01-01T00:00:00Z", "2026-01-01T01:00:00+01:00", NOW, NOW * 1000,
                                   str(int(NOW)), datetime(2026, 1, 1, tzinfo=UTC)])
def test_every_shape_of_time_reads_the_same(value):
    assert when.to_timestamp(value) == NOW
    assert when.slack_date(value) == "<!date^1767225600^{date_short_pretty} at {time}|2026-01-01 00:00 UTC>"


def test_no_time_shows_nothing():
    for nothing in (None, "", "soon", True):
        assert when.slack_date(nothing) == when.relative(nothing) == when.expiry(nothing) == ""


def test_relative_and_expiry():
    assert when.relative(NOW + 3 * 86400, now=NOW) == "in 3 days"
    assert when.relative(NOW + 3600, now=NOW) == "in an hour"
    assert when.relative(NOW - 2 * 3600, now=NOW) == "2 hours ago"
    assert when.relative(NOW + 8 * 86400, now=NOW) == "in a week"
    assert when.expiry(NOW + 3 * 86400, now=NOW).startswith("in 3 days (<!date^1767484800^")
    assert when.expiry(NOW - 2 * 86400, now=NOW) == "expired 2 days ago"


@pytest.mark.parametrize(("start", "end", "shown"), [
    (None, "2026-01-01T00:12:00Z", ""),  # the API gave no start: nothing, never "0 s"
    ("2026-01-01T00:12:00Z", "2026-01-01T00:12:00Z", ""),
    ("2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00.400Z", ""),
    ("2026-01-01T00:00:00Z", "2026-01-01T00:00:45Z", "45 s"),
    ("2026-01-01T00:00:00Z", "2026-01-01T00:12:10Z", "12 min"),
    ("2026-01-01T00:00:00Z", "2026-01-01T01:05:00Z", "1 h 5 min"),
])
def test_durations(start, end, shown):
    assert when.duration(start, end) == shown


def test_the_links_list_shows_relative_expiry_not_iso():
    link = VoiceLink.from_api({"id": "l1", "label": "Ada", "status": "active", "expiresAt": iso(3 * 86400 + 60)},
                              "project", "http://x/api", "p1")
    line = link_line(link)
    assert "expires in 3 days (<!date^" in line and not ISO.search(line.split("|")[0])
    gone = VoiceLink.from_api({"id": "l2", "label": "Al", "status": "expired", "expiresAt": iso(-86400 - 60)},
                              "project", "http://x/api", "p1")
    assert "expired a day ago" in link_line(gone)


def test_session_status_shows_a_slack_date():
    status = SessionStatus("s1", "project", "completed", "p1", "2026-01-01T00:00:00Z", "2026-01-01T00:12:00Z", {})
    shown = str(session_message(status, SessionRef("project", "p1", "s1", "Ada")).kwargs())
    assert "completed <!date^1767226320^{date_short_pretty} at {time}|2026-01-01 00:12 UTC>" in shown
    assert "completed 2026-01-01T" not in shown


def test_the_completed_interview_never_says_0_s():
    note = Notification("s1", "C1", None, "project", "p1", "Ada", "completed", summary="Fine",
                        created_at=None, completed_at="2026-01-01T00:12:00Z")
    shown = str(completed_message(note).kwargs()["blocks"])
    assert "0 s" not in shown and "session `s1`" in shown
    for start in (note.completed_at, "2026-01-01T00:11:59.700Z"):  # no real start: the same instant, or nearly
        note.created_at = start
        assert "0 s" not in str(completed_message(note).kwargs()["blocks"])
    note.created_at = "2026-01-01T00:00:00Z"
    assert "12 min" in str(completed_message(note).kwargs()["blocks"])
