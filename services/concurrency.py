"""Bounded fan-out for the scheduled jobs, and a back-off for keys that keep failing.

The watcher and the card refresher ask an API about many projects and sessions per cycle.
:func:`bounded_map` runs those calls with at most ``workers`` in flight (the clients'
connection pools are shared and thread-safe), so a cycle takes about
``calls x latency / workers`` instead of ``calls x latency``. One failing call never
stops the others: its exception is returned in its place. Each call runs in a copy of the caller's
context (its workspace, its acting user, its log context).
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def bounded_map(fn: Callable[[T], R], items: Iterable[T], workers: int) -> list[tuple[T, R | Exception]]:
    """``[(item, fn(item) or the exception it raised)]`` in input order, ``workers`` at a time."""
    items = list(items)
    if not items:
        return []

    def call(item: T) -> R | Exception:
        try:
            return fn(item)
        except Exception as exc:  # returned, not raised: one failure must not stall the rest
            return exc

    if workers <= 1 or len(items) == 1:
        return [(item, call(item)) for item in items]
    contexts = [contextvars.copy_context() for _ in items]  # one each: a context runs on one thread at a time
    with ThreadPoolExecutor(max_workers=min(workers, len(items)), thread_name_prefix="fanout") as pool:
        results = pool.map(lambda pair: pair[1].run(call, pair[0]), zip(items, contexts, strict=True))
        return list(zip(items, results, strict=True))


class Backoff:
    """Per-key exponential back-off: a key that failed is skipped until its next try is due."""

    def __init__(self, base: float = 5.0, cap: float = 300.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.base, self.cap, self.clock = base, cap, clock
        self._state: dict[str, tuple[int, float]] = {}  # key -> (failures, next try)
        self._lock = threading.Lock()

    def due(self, key: str) -> bool:
        with self._lock:
            state = self._state.get(key)
            return state is None or self.clock() >= state[1]

    def failed(self, key: str) -> float:
        """Record a failure; the seconds until the key is tried again."""
        with self._lock:
            failures = self._state.get(key, (0, 0.0))[0] + 1
            delay = min(self.cap, self.base * 2 ** (failures - 1))
            self._state[key] = (failures, self.clock() + delay)
            return delay

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._state.pop(key, None)
