"""Voice projects as the Slack side needs them: a brief cache of the account's list, search for the
type-ahead select, and what updating a project from a form would change.

* :class:`ProjectCache`: ``GET /v1/projects`` once, kept for ``ttl`` seconds (one minute), shared by
  every search, lookup and listing. One fetch at a time: people typing in several selects wait for the
  same request instead of sending one each. A failed fetch is not cached.
* :func:`rank`: projects matching what was typed, best first (id, then name start, word start,
  anywhere), at most ``limit``; an empty query gives the most recently changed.
* :func:`project_diff`: the four prompt sections, the evaluator, the time limit and the landing page,
  as they are and as the form has them.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable
from typing import Any

from services.errors import Refusal
from services.nimrobo import Project
from services.prompts import FIELDS, SECTIONS, parse_prompt
from services.records import FieldDiff
from services.voice.forms import evaluator_questions_text

PROJECTS_TTL = 60.0  # seconds the project list is reused


class StillLoading(Refusal):
    """The project list is still on its way (a select asked while Nimrobo was slow)."""


class ProjectCache:
    """``get()`` the project list: fresh from the cache, else from one shared fetch."""

    def __init__(self, fetch: Callable[[], list[Project]], ttl: float = PROJECTS_TTL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._fetch = fetch
        self.ttl = ttl
        self._clock = clock
        self._cond = threading.Condition()
        self._items: list[Project] = []
        self._at: float | None = None
        self._fetching = False
        self._error: Exception | None = None
        self.fetches = 0

    def _fresh(self) -> bool:
        return self._at is not None and self._clock() - self._at < self.ttl

    def get(self, *, fresh: bool = False, wait: float | None = None) -> list[Project]:
        """The projects. ``fresh``: fetch now whatever the cache holds. ``wait``: give up after this many
        seconds with :class:`StillLoading` (the fetch goes on and fills the cache)."""
        with self._cond:
            if fresh and not self._fetching:
                self._at = None
            if self._fresh():
                return list(self._items)
            self._start()
            if not self._cond.wait_for(lambda: not self._fetching, timeout=wait):
                raise StillLoading("Your projects are still loading from Nimrobo; type again in a moment.")
            if self._error is not None:
                raise self._error
            return list(self._items)

    def warm(self) -> None:
        """Start a fetch in the background unless the list is fresh (e.g. when a form with a select opens)."""
        with self._cond:
            if not self._fresh():
                self._start()

    def _start(self) -> None:
        if self._fetching:
            return
        self._fetching, self._error = True, None
        context = contextvars.copy_context()  # the fetch runs with the asker's Nimrobo key
        threading.Thread(target=context.run, args=(self._run,), name="projects-fetch", daemon=True).start()

    def _run(self) -> None:
        items: list[Project] = []
        error: Exception | None = None
        try:
            items = self._fetch()
        except Exception as exc:  # handed to the callers waiting for it
            error = exc
        with self._cond:
            self.fetches += 1
            if error is None:
                self._items, self._at = items, self._clock()
            else:
                self._error, self._at = error, None
            self._fetching = False
            self._cond.notify_all()

    def put(self, project: Project) -> None:
        """A project the bot just created or changed: shown at once, without a new fetch."""
        with self._cond:
            self._items = [p for p in self._items if p.id != project.id] + [project]

    def invalidate(self) -> None:
        with self._cond:
            self._at = None


def _changed_at(project: Project) -> str:
    return project.updated_at or project.created_at or ""


def rank(projects: list[Project], query: str, limit: int = 100) -> list[Project]:
    """Projects matching ``query`` (ignoring case), best first, at most ``limit``."""
    query = " ".join(query.split()).casefold()
    newest = sorted(projects, key=_changed_at, reverse=True)
    if not query:
        return newest[:limit]
    tiers: list[list[Project]] = [[], [], [], []]
    for project in newest:
        name = project.name.casefold()
        if project.id.casefold() == query or name == query:
            tiers[0].append(project)
        elif name.startswith(query):
            tiers[1].append(project)
        elif any(word.startswith(query) for word in name.split()):
            tiers[2].append(project)
        elif query in name or query in project.id.casefold():
            tiers[3].append(project)
    return [p for tier in tiers for p in tier][:limit]


def _evaluator_text(evaluator: dict[str, Any] | None) -> str:
    if not evaluator:
        return "(none)"
    return f"{evaluator.get('prompt', '')}\nQuestions:\n{evaluator_questions_text(evaluator)}".strip()


def project_diff(project: Project, prompt: str, evaluator: dict[str, Any] | None, *, time_limit: int,
                 landing_title: str, landing_info: str) -> list[FieldDiff]:
    """Each field updating ``project`` from a form would touch: the four sections first, then the evaluator,
    the time limit and the landing page."""
    old, new = parse_prompt(project.prompt), parse_prompt(prompt)
    diff = [FieldDiff(title, getattr(old, key), getattr(new, key)) for title, key in zip(SECTIONS, FIELDS,
                                                                                         strict=True)]
    diff.append(FieldDiff("Evaluator", _evaluator_text(project.evaluator), _evaluator_text(evaluator)))
    diff.append(FieldDiff("Time limit", f"{project.time_limit_minutes} min", f"{time_limit} min"))
    diff.append(FieldDiff("Landing page title", project.landing_page_title or "(none)", landing_title or "(none)"))
    diff.append(FieldDiff("Landing page info", project.landing_page_info or "(none)", landing_info or "(none)"))
    return diff
