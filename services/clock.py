"""The bot's notion of "now" for what is due later (reminders, nudges, digests).

Everything else uses the wall clock. The sandbox's ``sim clock +1d`` and the tests move this one
forward, so a newcomer sees tomorrow's reminder arrive today.
"""

from __future__ import annotations

import threading
import time


class Clock:
    def __init__(self, offset: float = 0.0) -> None:
        self._offset = offset
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return time.time() + self._offset

    def advance(self, seconds: float) -> float:
        """Move time forward by ``seconds``; the new now."""
        with self._lock:
            self._offset += seconds
        return self.now()

    def set(self, at: float) -> None:
        """Make now ``at`` (a UNIX time); time runs on from there."""
        with self._lock:
            self._offset = at - time.time()

    @property
    def offset(self) -> float:
        with self._lock:
            return self._offset


def parse_shift(text: str) -> float:
    """``"+1d"``, ``"2h"``, ``"+90m"``, ``"30s"`` → seconds (``ValueError`` for anything else)."""
    value = text.strip().lstrip("+")
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    unit = value[-1:].lower()
    if unit not in units or not value[:-1].replace(".", "", 1).isdigit():
        raise ValueError(f"{text!r} is not a time step; try +1d, +2h, +30m or +45s")
    return float(value[:-1]) * units[unit]
