"""Slow work after the ack: a bounded pool, fair across users, that never holds the ack path.

Bolt runs each listener on its ``listener_executor`` and answers Slack once the listener
calls ``ack()``. Anything slow a listener still did on that thread (an AI call, a Pluto
request) held a thread other people's acknowledgements were waiting for. So listeners
ack, then hand the slow part to :class:`WorkPool` and return at once.

* A fixed number of workers (``WORK_POOL_SIZE``) run the work; the rest waits in a queue.
* Fairness: the queue is one line per user, served round robin, and one user never holds
  more than ``per_user`` workers. Someone pressing 20 buttons waits for their own work;
  everyone else keeps their turn.
* When the work can't start at once, ``on_queued`` is called with the number of jobs ahead,
  so the person who asked hears privately that it is queued, never a failed command.

Listeners use :func:`defer` (and :func:`defer_modal` for a modal that needs a trigger id):
the work runs on the pool, and any failure reaches the person who asked as a private
message: a :class:`~services.errors.ServiceError`'s ``user_message``, or "something went
wrong" with a reference for anything else.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.models.views import View

from bot.blocks import Message, context, error_message, loading_view
from bot.logging_setup import carry_context
from services import metrics
from services.errors import ServiceError

log = logging.getLogger(__name__)

Reply = Callable[[Message], None]


@dataclass
class _Job:
    user: str
    fn: Callable[[], None]
    what: str
    queued_at: float = 0.0
    on_dropped: Callable[[], None] | None = None
    capped: bool = False

    @property
    def kind(self) -> str:
        """``what`` as a metrics label: the fixed names listeners use (anything else is ``other``)."""
        return self.what if _KIND.match(self.what) else "other"


_KIND = re.compile(r"^[/a-z][a-z /-]{0,39}$")


@dataclass
class PoolStats:
    workers: int
    running: int
    queued: int
    done: int
    by_user: dict[str, int] = field(default_factory=dict)


class WorkPool:
    """``submit(user, fn)`` runs ``fn`` on one of ``workers`` threads, round robin across users."""

    def __init__(self, workers: int = 8, per_user: int = 2, name: str = "work",
                 acting_as: Callable[[str], AbstractContextManager[Any]] | None = None) -> None:
        #: on whose behalf a job runs (Services passes the key service's, so their own key is used)
        self.acting_as = acting_as or (lambda user: nullcontext())
        self.workers = max(1, workers)
        self.per_user = max(1, min(per_user, self.workers))
        self._lines: dict[str, deque[_Job]] = {}
        self._turns: deque[str] = deque()  # users with queued work, in serving order
        self._running: dict[str, int] = {}
        self._done = 0
        self._cond = threading.Condition()
        self._closed = False
        self._threads = [threading.Thread(target=self._serve, name=f"{name}-{i}", daemon=True)
                         for i in range(self.workers)]
        for thread in self._threads:
            thread.start()

    # -- submitting --------------------------------------------------------------------
    def submit(self, user: str, fn: Callable[[], None], *, what: str = "work",
               on_queued: Callable[[int], None] | None = None, on_dropped: Callable[[], None] | None = None) -> None:
        """Queue ``fn`` for ``user``; call ``on_queued(ahead)`` when it can't start right away, and
        ``on_dropped()`` if the bot shuts down before it started. ``fn`` keeps the caller's log context."""
        user = user or "-"
        job = _Job(user, carry_context(fn), what, time.monotonic(), on_dropped)
        with self._cond:
            if self._closed:
                metrics.WORK_REJECTED.labels(job.kind).inc()
                raise RuntimeError("the work pool is shut down")
            # Queued jobs a free worker would pick up before this one (their users are under the cap).
            ready = sum(min(len(line), max(0, self.per_user - self._running.get(u, 0)))
                        for u, line in self._lines.items())
            mine = self._running.get(user, 0) + len(self._lines.get(user) or ())
            starts_now = self._idle_workers() - ready > 0 and mine < self.per_user
            ahead = 0 if starts_now else ready
            self._lines.setdefault(user, deque()).append(job)
            metrics.WORK_QUEUED.labels(job.kind).inc()
            if user not in self._turns:
                self._turns.append(user)
            self._cond.notify()
        if not starts_now and on_queued is not None:
            try:
                on_queued(ahead)
            except Exception:  # telling someone they wait must never lose their work
                log.exception("could not tell %s that %s is queued", user, what)

    @property
    def closed(self) -> bool:
        return self._closed

    def stats(self) -> PoolStats:
        with self._cond:
            return PoolStats(self.workers, sum(self._running.values()), self._queued_count(), self._done,
                             dict(self._running))

    def shutdown(self, wait: bool = True, timeout: float = 30.0) -> int:
        """Stop taking work; queued and running work may finish within ``timeout`` seconds (``wait``).

        Work still queued then never starts: its person is told (``on_dropped``). Work still running is
        left to its own records (a voice batch stays "creating" and the next leader resumes it). Returns
        how many jobs were still running."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if not wait:
            return self.stats().running
        deadline = time.monotonic() + max(0.0, timeout)
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        with self._cond:
            dropped = [job for line in self._lines.values() for job in line]
            self._lines.clear()
            self._turns.clear()
            running = sum(self._running.values())
        for job in dropped:
            metrics.WORK_QUEUED.labels(job.kind).dec()
            metrics.WORK_DROPPED.labels(job.kind).inc()
            if job.on_dropped is not None:
                try:
                    job.on_dropped()
                except Exception:
                    log.exception("could not tell %s that %s did not run", job.user, job.what)
        if dropped or running:
            log.warning("work pool: shutdown grace over with %d job(s) running and %d never started (their "
                        "people were told)", running, len(dropped))
        return running

    # -- serving -----------------------------------------------------------------------
    def _queued_count(self) -> int:
        return sum(len(line) for line in self._lines.values())

    def _idle_workers(self) -> int:
        return self.workers - sum(self._running.values())

    def _next_job(self) -> _Job | None:
        """The first user in turn order who is under their cap; their turn moves to the back."""
        for _ in range(len(self._turns)):
            user = self._turns.popleft()
            line = self._lines.get(user)
            if not line:
                self._lines.pop(user, None)
                continue
            if self._running.get(user, 0) >= self.per_user:
                if not line[0].capped:
                    line[0].capped = True
                    metrics.WORK_USER_CAP.inc()
                self._turns.append(user)
                continue
            job = line.popleft()
            metrics.WORK_QUEUED.labels(job.kind).dec()
            metrics.WORK_WAIT.labels(job.kind).observe(time.monotonic() - job.queued_at)
            if line:
                self._turns.append(user)
            else:
                self._lines.pop(user, None)
            return job
        return None

    def _serve(self) -> None:
        while True:
            with self._cond:
                job = self._next_job()
                while job is None:
                    if self._closed:
                        return
                    self._cond.wait()
                    job = self._next_job()
                self._running[job.user] = self._running.get(job.user, 0) + 1
            metrics.WORK_RUNNING.inc()
            try:
                job.fn()
            except Exception:  # the job reports its own errors; this only keeps the worker alive
                log.exception("%s for %s crashed", job.what, job.user)
            finally:
                metrics.WORK_RUNNING.dec()
                with self._cond:
                    self._running[job.user] -= 1
                    if not self._running[job.user]:
                        del self._running[job.user]
                    self._done += 1
                    self._cond.notify_all()


class InFlight:
    """Counts things under way (Slack requests being acknowledged, job runs) so a shutdown can wait for them."""

    def __init__(self) -> None:
        self._count = 0
        self._cond = threading.Condition()

    def __enter__(self) -> InFlight:
        with self._cond:
            self._count += 1
        return self

    def __exit__(self, *exc: object) -> None:
        with self._cond:
            self._count -= 1
            self._cond.notify_all()

    @property
    def count(self) -> int:
        with self._cond:
            return self._count

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is under way (at most ``timeout`` s); True when idle."""
        with self._cond:
            return self._cond.wait_for(lambda: self._count == 0, timeout=max(0.0, timeout))


# -- after the ack ---------------------------------------------------------------------------
def defer(pool: WorkPool, user: str, fn: Callable[[], None], reply: Reply, what: str) -> None:
    """After the ack: run ``fn`` on the bounded work pool, never on the ack path.

    When every worker is busy the person who asked hears at once, privately, that their
    request is queued; any failure reaches them as a private message.
    """
    def run() -> None:
        with pool.acting_as(user):  # Nimrobo calls in here use this person's own key when they have one
            run_safely(fn, reply, what)

    pool.submit(user, run, what=what, on_queued=lambda ahead: _try_reply(reply, queued_notice(what, ahead)),
                on_dropped=lambda: _try_reply(reply, dropped_notice(what)))


def defer_modal(pool: WorkPool, client: WebClient, body: dict[str, Any], title: str, waiting: str,
                build: Callable[[], View], reply: Reply, what: str) -> None:
    """Open a "loading" modal now (a trigger id lasts 3 s), then fill it from ``build()`` on the work pool.

    ``build`` returns the finished ``View``; when it fails, the modal says why and stays closable.
    """
    opened = client.views_open(trigger_id=body["trigger_id"], view=loading_view(title, waiting).to_dict())["view"]

    def fill() -> None:
        try:
            view = build()
        except ServiceError as exc:
            view = loading_view(title, exc.user_message)
        except Exception:
            client.views_update(view_id=opened["id"], view=loading_view(title, "That didn't work.").to_dict())
            raise  # run_safely logs it and tells the person who asked
        client.views_update(view_id=opened["id"], view=view.to_dict())

    defer(pool, body["user"]["id"], fill, reply, what)


def queued_notice(what: str, ahead: int) -> Message:
    where = "next in line" if ahead <= 0 else f"{ahead} request{'s' if ahead != 1 else ''} ahead of it"
    text = f":hourglass_flowing_sand: Busy right now: your `{what}` is queued ({where}). It will run shortly."
    return Message(text=text, blocks=[context(text)])


def dropped_notice(what: str) -> Message:
    text = (f":warning: The bot restarted before your `{what}` could run, so it did not happen. "
            "Please send it again in a minute.")
    return Message(text=text, blocks=[context(text)])


def run_safely(fn: Callable[[], None], reply: Reply, what: str) -> None:
    """Run slow work after the ack; report any failure to the person who asked."""
    try:
        fn()
    except ServiceError as exc:
        log.warning("%s failed: %s", what, exc)
        _try_reply(reply, error_message(exc.user_message))
    except Exception:
        ref = uuid.uuid4().hex[:8]
        log.exception("%s crashed (ref %s)", what, ref)
        _try_reply(reply, error_message(f"Something went wrong on our side while running `{what}`.",
                                        hint=f"Nothing was lost; please try again. Reference: {ref}"))


def _try_reply(reply: Reply, message: Message) -> None:
    try:
        reply(message)
    except Exception:
        log.exception("could not deliver an error message")
