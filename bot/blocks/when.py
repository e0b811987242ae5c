"""Times as a person reads them, in one place: every builder that shows a time uses these.

* :func:`slack_date` — Slack's date token (``<!date^UNIX^{date_short_pretty} at {time}|fallback>``),
  which each reader's Slack shows in their own time zone; the fallback is UTC.
* :func:`relative` — "in 3 days", "2 hours ago": for an expiry, counted at the moment the
  message is built (so for answers read at once, not for messages that stay in a channel).
* :func:`expiry` — both: "in 3 days (Mar 4 at 10:00)", or "expired 2 days ago".
* :func:`ago` — "in 3 days" as a Slack date token (``{ago}``): Slack keeps it current and shows the
  exact date on hover, so it suits messages that stay in a channel or a DM.
* :func:`duration` — "12 min", "45 s", "1 h 5 min"; "" when the API gave no start or no end (never "0 s").

Each takes what the APIs give: an ISO 8601 string (``Z`` or an offset), epoch seconds or
milliseconds, a ``datetime``, or nothing, which shows as "" (callers leave the part out).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

DATE_TIME = "{date_short_pretty} at {time}"
DATE = "{date_short_pretty}"


def to_timestamp(value: Any) -> float | None:
    """Epoch seconds from an ISO string, epoch seconds or milliseconds, or a datetime; None when unreadable."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    if isinstance(value, (int, float)):
        return float(value) / 1000 if value > 1e11 else float(value)
    text = str(value).strip()
    try:
        return to_timestamp(float(text))
    except ValueError:
        pass
    try:
        return to_timestamp(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        return None


def slack_date(value: Any, fmt: str = DATE_TIME) -> str:
    """Slack's date token for ``value`` (each reader sees their own time zone); "" when there is no time."""
    stamp = to_timestamp(value)
    if stamp is None:
        return ""
    fallback = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(stamp))
    return f"<!date^{int(stamp)}^{fmt}|{fallback}>"


def ago(value: Any) -> str:
    """"in 3 days" / "2 hours ago" that Slack renders and keeps current, the exact date on hover (and as the
    fallback); "" when there is no time."""
    return slack_date(value, "{ago}")


def _span(seconds: float) -> str:
    """A rough length of time: "a minute", "5 minutes", "3 hours", "2 days", "3 weeks", "4 months"."""
    for size, unit in ((365 * 86400, "year"), (30 * 86400, "month"), (7 * 86400, "week"), (86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            count = round(seconds / size)
            if count == 1:
                return "an hour" if unit == "hour" else f"a {unit}"
            return f"{count} {unit}s"
    return "a moment"


def relative(value: Any, *, now: float | None = None) -> str:
    """ "in 3 days" / "2 hours ago" from now; "" when there is no time."""
    stamp = to_timestamp(value)
    if stamp is None:
        return ""
    delta = stamp - (time.time() if now is None else now)
    return f"in {_span(delta)}" if delta >= 0 else f"{_span(-delta)} ago"


def expiry(value: Any, *, now: float | None = None) -> str:
    """ "in 3 days (<date>)" while it lasts, "expired 2 days ago" after; "" when there is no time."""
    stamp = to_timestamp(value)
    if stamp is None:
        return ""
    when = relative(stamp, now=now)
    if stamp < (time.time() if now is None else now):
        return f"expired {when}"
    return f"{when} ({slack_date(stamp)})"


def duration(start: Any, end: Any) -> str:
    """How long from ``start`` to ``end``: "45 s", "12 min", "1 h 5 min"; "" when either is missing or it is
    under a second (an API that gave no real start), never "0 s"."""
    first, last = to_timestamp(start), to_timestamp(end)
    if first is None or last is None:
        return ""
    seconds = last - first
    if seconds < 1:
        return ""
    if seconds < 60:
        return f"{round(seconds)} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h" + (f" {minutes % 60} min" if minutes % 60 else "")
