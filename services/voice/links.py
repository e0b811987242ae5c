"""Voice projects and links created from Slack, without Slack.

* Interview: one project per role, one link per candidate. When a project for the role exists, the
  creator chooses (:meth:`VoiceLinkService.prepare`, then :meth:`~VoiceLinkService.confirm`): add the
  links to it as it is, update its prompt and evaluator first, or make a new project. Nothing on the
  form is silently ignored.
* Research: one project per study (a new one, or a study picked from the existing projects), one link
  per interview.
* Instant: projectless links with their own prompt.
* Labels can come from a file (:meth:`~VoiceLinkService.read_label_file`): duplicates and empty labels
  are reported before anything is created.

Links are registered with their channel, thread and creator so the watcher can report.
A link's URL is a bearer secret: it is returned in memory for private delivery and
never stored. If the project was made but the links failed, the batch is ``partial``
and :meth:`VoiceLinkService.retry` reuses the project.

Projects and links named in a command are found with the one rule of
:func:`services.matching.match_one` (id, then name ignoring case, then a unique part of it), among
the account's projects as :class:`~services.voice_projects.ProjectCache` keeps them (one fetch a
minute; a name not found there is looked up once more, fresh). A channel may have a default project
(``/voicelink use``) that commands use when none is named.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

from config import Settings
from services.access import AccessService
from services.concurrency import Backoff, bounded_map
from services.errors import NotAllowed, NotFoundHere, Refusal
from services.intake import download_slack_file
from services.keys import acting_as, acting_user
from services.matching import match_one, unquote
from services.nimrobo import NimroboClient, NimroboError, Project, VoiceLink
from services.prompts import PromptSections, draft_sections, parse_prompt
from services.records import (
    BatchResult,
    BatchReview,
    CardLine,
    ChannelProject,
    ProjectChoice,
    VoiceBatch,
    VoiceLinkRow,
)
from services.store import Store, current_workspace, now
from services.voice.forms import LabelFile, VoiceForm, keep_question_ids, read_label_file
from services.voice.projects import ProjectCache, project_diff, rank

log = logging.getLogger(__name__)

BATCHES, LINKS, DEFAULTS = "voice_batches", "voice_links", "channel_projects"
OWN_PROJECTS = "own_projects"  # projects made on their own (/voicelink project new), services/migrations/m940
INSTANT = "(instant links)"
CHOICES = ("reuse", "update", "new")  # what to do when the role's project exists
MAX_LABEL_FILE_BYTES = 2 * 1024 * 1024
LINKS_TTL = 60.0  # a project's links, as listed, are reused this long (a page, an Edit press, "every project")
MembersOf = Callable[[str], "set[str] | None"]  # a channel's members, or None when unknown


EVERY_PROJECT = "*"  # /voicelink list all


@dataclass
class LinkListing:
    """A ``/voicelink list`` answer: the links, the key its pages carry, how to name it, and whether the
    links of every other project can be asked for."""

    links: list[VoiceLink]
    key: str
    title: str
    more: bool = False


class VoiceLinkService:
    def __init__(self, store: Store, nimrobo: NimroboClient, settings: Settings, *, workers: int = 1,
                 backoff: Backoff | None = None, access: AccessService | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.access = access
        self.clock = clock
        # (workspace, acting user, project) → (when, links): a listing never serves another workspace
        self._links_cache: dict[tuple[str, str, str], tuple[float, list[VoiceLink]]] = {}
        self._links_lock = threading.Lock()
        self.workers = workers
        self.backoff = backoff or Backoff()
        self.store = store
        self.nimrobo = nimrobo
        self.settings = settings
        self._caches: dict[tuple[str, str], ProjectCache] = {}  # (workspace, acting user) → their projects
        self._caches_lock = threading.Lock()
        self._running: set[str] = set()  # batches being created by this process (a shutdown records them)
        #: the bot token that downloads a file shared in Slack (several workspaces: the current one's)
        self.slack_token: Callable[[], str] = lambda: settings.slack_bot_token.reveal()
        #: whether the Nimrobo account used here may serve other workspaces too (several workspaces on the
        #: environment's key): then a workspace sees only the projects its store knows (:meth:`known_project_ids`)
        self.shared_account: Callable[[], bool] = lambda: settings.multi_workspace

    # -- create ------------------------------------------------------------------------
    def create(self, form: VoiceForm, *, channel: str, creator: str, thread_ts: str | None = None,
               batch_id: str | None = None) -> BatchResult:
        """Create at once (nothing to ask). A form with ``project_id`` adds links to that project as it is.

        ``batch_id``: the id the batch gets, chosen by a caller that must find it again after a crash
        (a Workflow Builder step notes it before anything is sent to Nimrobo)."""
        batch = self._new_batch(form, form.labels, channel=channel, creator=creator, thread_ts=thread_ts,
                                state="creating", batch_id=batch_id)
        return self._run(batch)

    def _new_batch(self, form: VoiceForm, labels: list[str], *, channel: str, creator: str, thread_ts: str | None,
                   state: str, extra: dict[str, Any] | None = None, batch_id: str | None = None) -> VoiceBatch:
        request = {**_request(form), **(extra or {})}
        if form.project_id:
            request["project_mode"] = "existing"
        batch = VoiceBatch(id=batch_id or uuid.uuid4().hex[:12], pattern=form.pattern, project_name=form.name or "Instant links",
                           channel=channel, creator=creator, expiry_preset=form.expiry_preset, labels=labels,
                           request=request, state=state, project_id=form.project_id or None, thread_ts=thread_ts,
                           created_at=now(), updated_at=now())
        self.store.insert(BATCHES, batch.to_row())
        return batch

    def read_label_file(self, file: dict[str, Any]) -> LabelFile:
        """Download a file shared in Slack (its ``files.info`` record) and read its labels."""
        settings = self.settings
        data = download_slack_file(file, token=self.slack_token(), slack_api_url=settings.slack_api_url,
                                   max_bytes=min(settings.max_csv_bytes, MAX_LABEL_FILE_BYTES))
        return read_label_file(data, file.get("name") or "labels.txt")

    def prepare(self, form: VoiceForm, *, channel: str, creator: str, label_file: LabelFile | None = None,
                thread_ts: str | None = None, extra: dict[str, Any] | None = None) -> BatchReview:
        """Keep the form as a batch waiting for its creator, with what they must see before anything is made:
        the names a file left out, and (interview) the role's existing project and what updating it changes.
        When :attr:`BatchReview.needs_answer` is false, :meth:`confirm` with no choice creates it as asked."""
        labels = label_file.labels if label_file else form.labels
        existing = None
        if form.pattern == "interview" and not form.project_id:
            existing = self.role_project(form)
        extra = {**(extra or {}), **({"existing_project_id": existing.project.id,
                                       "existing_project_name": existing.project.name} if existing else {})}
        batch = self._new_batch(form, labels, channel=channel, creator=creator, thread_ts=thread_ts,
                                state="review", extra=extra)
        return BatchReview(batch, label_file, existing)

    def prepare_file(self, label_file: LabelFile, *, project_query: str, channel: str, creator: str,
                     expiry_preset: str = "1_week", thread_ts: str | None = None) -> BatchReview:
        """Labels from a file shared with a mention, for the project named (else the channel's default),
        kept until the creator confirms what the report says."""
        query = self.project_arg(project_query, channel)
        if not query:
            raise NotFoundHere("Which project should the links go to? Name it after `links` (e.g. `links Backend "
                               "Engineer`), or give this channel a default project with `/voicelink use <project>`.")
        project = self.project(query)
        form = VoiceForm(pattern="project", name=project.name, labels=label_file.labels, prompt="",
                         expiry_preset=expiry_preset, project_id=project.id)
        batch = self._new_batch(form, label_file.labels, channel=channel, creator=creator, thread_ts=thread_ts,
                                state="review")
        return BatchReview(batch, label_file)

    def role_project(self, form: VoiceForm) -> ProjectChoice | None:
        """The newest project named like the form's role (ignoring case), with its link count and the diff."""
        wanted = " ".join(form.name.split()).casefold()
        same = [p for p in self.projects(fresh=True) if " ".join(p.name.split()).casefold() == wanted]
        if not same:
            return None
        project = max(same, key=lambda p: p.created_at or "")
        diff = project_diff(project, form.prompt, form.evaluator, time_limit=form.time_limit_minutes,
                            landing_title=form.landing_page_title, landing_info=form.landing_page_info)
        return ProjectChoice(project, len(self.nimrobo.list_links(project.id)), diff)

    def confirm(self, batch_id: str, user: str, choice: str | None = None) -> BatchResult:
        """Create a batch :meth:`prepare` kept, as its creator chose: ``reuse`` (add the links to the existing
        project as it is), ``update`` (its prompt, evaluator, time limit and landing page from the form first)
        or ``new`` (a new project for the role). Confirming twice creates once."""
        batch = self.batch(batch_id)
        if batch.creator != user:
            raise NotAllowed("Only the person who filled in the form can create these links.")
        request = dict(batch.request)
        if request.get("existing_project_id"):
            if choice not in CHOICES:
                raise NotAllowed("Choose what to do with the existing project first.")
            request["project_mode"] = choice
        else:
            request.setdefault("project_mode", "new")
        if not self.store.update_where(BATCHES, {"state": "creating", "request_json": request, "updated_at": now()},
                                       "id = ? and state = 'review'", [batch_id]):
            return BatchResult(self.batch(batch_id), [])  # confirmed already (a double click)
        return self._run(self.batch(batch_id))

    def retry(self, batch_id: str) -> BatchResult:
        batch = self.batch(batch_id)
        if batch.state not in ("partial", "failed") or not self.store.update_where(
                BATCHES, {"state": "creating", "updated_at": now()}, "id = ? and state in ('partial', 'failed')",
                [batch_id]):
            return BatchResult(batch, [])  # nothing to retry, or retried already (a double click)
        return self._run(self.batch(batch_id))

    def _run(self, batch: VoiceBatch) -> BatchResult:
        with self._caches_lock:
            self._running.add(batch.id)
        try:
            return self._create_links(batch)
        finally:
            with self._caches_lock:
                self._running.discard(batch.id)

    # -- shutdown and resume -------------------------------------------------------------
    def interrupt_running(self) -> list[str]:
        """At shutdown: batches this process is still creating become ``interrupted`` (the next leader
        resumes them with :meth:`resume`); their ids."""
        with self._caches_lock:
            running = sorted(self._running)
        return [batch_id for batch_id in running if self.store.update_where(
            BATCHES, {"state": "interrupted", "updated_at": now()}, "id = ? and state = 'creating'", [batch_id])]

    def resumable(self, stale_after: float = 600.0) -> list[VoiceBatch]:
        """Batches to resume: interrupted by a shutdown, or left ``creating`` by a process that died
        (untouched for ``stale_after`` seconds)."""
        rows = self.store.rows(BATCHES, "state = 'interrupted' or (state = 'creating' and updated_at < ?)",
                               [now() - stale_after], order_by="created_at")
        return [VoiceBatch.from_row(r) for r in rows]

    def resume(self, batch: VoiceBatch) -> BatchResult | None:
        """Finish an interrupted batch, as its creator: first record what Nimrobo already made for it (a
        create whose answer never came back), then create only what is missing. The result holds every link
        of the batch (with its URL, from Nimrobo's listing), since the stopped replica may not have delivered
        them. None when another replica took it first."""
        if not self.store.update_where(BATCHES, {"state": "creating", "updated_at": now()},
                                       "id = ? and state = ? and updated_at = ?",
                                       [batch.id, batch.state, batch.updated_at]):
            return None
        batch = self.batch(batch.id)
        with acting_as(batch.creator):
            listing = self._adopt(batch)
            result = self._run(self.batch(batch.id))
        ours = {row.id for row in self.links_of(batch.id)}
        links = {link.id: link for link in listing if link.id in ours}
        links.update((link.id, link) for link in result.links)
        return BatchResult(result.batch, list(links.values()), result.error)

    def _adopt(self, batch: VoiceBatch) -> list[VoiceLink]:
        """Record the links (and the project) Nimrobo made for ``batch`` that were never recorded; Nimrobo's
        listing of the batch's project (or of the instant links with its prompt)."""
        request = batch.request
        if not batch.project_id and batch.pattern != "instant" and request.get("project_mode") in (None, "new"):
            project = self.nimrobo.find_project(batch.project_name)
            if project is not None and project.id != request.get("existing_project_id"):
                batch = self._update(batch, project_id=project.id)
        if batch.pattern == "instant":
            found = [link for link in self.nimrobo.list_instant_links() if link.raw.get("prompt") == request["prompt"]]
        elif batch.project_id:
            found = self.nimrobo.list_links(batch.project_id)
        else:
            return []
        missing = set(self._missing(batch))
        adopted: list[VoiceLink] = []
        for link in found:
            if link.label in missing and self.link_row(link.id) is None:
                missing.discard(link.label)
                adopted.append(link)
        self._record(batch, adopted)
        return found

    def _settle(self, batch: VoiceBatch, **values: Any) -> VoiceBatch:
        """The batch's outcome, unless a shutdown marked it ``interrupted`` meanwhile (then the next leader
        delivers it: this process is about to stop)."""
        values["updated_at"] = now()
        if self.store.update_where(BATCHES, values, "id = ? and state = 'creating'", [batch.id]):
            return VoiceBatch(**{**batch.__dict__, **values})
        return self.batch(batch.id)

    def _create_links(self, batch: VoiceBatch) -> BatchResult:
        try:
            if batch.pattern == "instant":
                links = self._create_instant(batch)
            else:
                if not batch.project_id:
                    batch = self._update(batch, project_id=self._project_for(batch).id)
                missing = self._missing(batch)
                links = self.nimrobo.create_links(batch.project_id or "", missing, batch.expiry_preset) \
                    if missing else []
        except NimroboError as exc:
            made: list[VoiceLink] = getattr(exc, "created", [])  # parts Nimrobo took before the failure
            self._record(batch, made)
            state = "partial" if batch.project_id or self.links_of(batch.id) else "failed"
            batch = self._settle(batch, state=state, error=exc.user_message)
            return BatchResult(batch, made, exc)
        self._record(batch, links)
        batch = self._settle(batch, state="created", error=None)
        return BatchResult(batch, links)

    def _record(self, batch: VoiceBatch, links: list[VoiceLink]) -> None:
        for key in {INSTANT if link.kind == "instant" else link.project_id or "" for link in links}:
            self.forget_links(key)
        stamp = now()  # recorded together
        self.store.upsert_many(LINKS, [{  # one statement and one commit, however many links (up to 1,000)
            "id": link.id, "batch_id": batch.id, "kind": link.kind, "project_id": link.project_id,
            "label": link.label, "status": link.status, "session_id": link.session_id,
            "expires_at": link.expires_at, "channel": batch.channel, "thread_ts": batch.thread_ts,
            "creator": batch.creator, "created_at": stamp, "updated_at": stamp} for link in links], pk="id")

    def _create_instant(self, batch: VoiceBatch) -> list[VoiceLink]:
        request, missing = batch.request, self._missing(batch)
        if not missing:
            return []
        return self.nimrobo.create_instant_links(
            missing, batch.expiry_preset, request["prompt"],
            landing_page_title=request["landing_page_title"], landing_page_info=request["landing_page_info"],
            time_limit_minutes=request["time_limit_minutes"], evaluator=request["evaluator"])

    def _project_for(self, batch: VoiceBatch) -> Project:
        """The project the creator chose (:meth:`confirm`), or a new one.

        A batch made without a choice (``create`` for the interview pattern, as the screening board does)
        keeps the old rule: the project with the role's exact name, else a new one.
        """
        request = batch.request
        mode, existing = request.get("project_mode"), request.get("existing_project_id")
        if mode == "reuse" and existing:
            return Project(id=existing, name=request.get("existing_project_name") or batch.project_name)
        if mode == "update" and existing:
            project = self.nimrobo.update_project(
                existing, name=request.get("existing_project_name") or batch.project_name, prompt=request["prompt"],
                evaluator=request["evaluator"], time_limit_minutes=request["time_limit_minutes"],
                landing_page_title=request["landing_page_title"], landing_page_info=request["landing_page_info"])
            self._changed_project(project)
            return project
        if mode is None and batch.pattern == "interview":
            found = self.nimrobo.find_project(batch.project_name)
            if found is not None:
                return found
        project = self.nimrobo.create_project(
            batch.project_name, request["prompt"], landing_page_title=request["landing_page_title"],
            landing_page_info=request["landing_page_info"], time_limit_minutes=request["time_limit_minutes"],
            evaluator=request["evaluator"])
        self._changed_project(project)
        return project

    def _update(self, batch: VoiceBatch, **values: Any) -> VoiceBatch:
        values["updated_at"] = now()
        self.store.update(BATCHES, batch.id, values)
        return VoiceBatch(**{**batch.__dict__, **values})

    def ready_review(self, review: BatchReview) -> bool:
        """Whether a prepared batch can be created without asking (see :attr:`BatchReview.needs_answer`)."""
        return not review.needs_answer

    def _missing(self, batch: VoiceBatch) -> list[str]:
        done = {row.label for row in self.links_of(batch.id)}
        return [label for label in batch.labels if label not in done]

    def draft(self, pattern: str, brief: str, name: str) -> tuple[PromptSections, str]:
        """The four prompt sections drafted by AI from a brief, or a template without an OpenAI key."""
        settings = self.settings
        return draft_sections(pattern, brief, name, api_key=settings.openai_api_key.reveal(),
                              base_url=settings.openai_base_url, model=settings.openai_model)

    @property
    def ai_drafting(self) -> bool:
        return bool(self.settings.openai_api_key)

    # -- our rows -------------------------------------------------------------------------
    def batch(self, batch_id: str) -> VoiceBatch:
        row = self.store.get(BATCHES, batch_id)
        if row is None:
            raise NotFoundHere("That batch of links is not known here.")
        return VoiceBatch.from_row(row)

    def set_card(self, batch_id: str, ts: str) -> None:
        self.store.update(BATCHES, batch_id, {"card_ts": ts})

    def links_of(self, batch_id: str) -> list[VoiceLinkRow]:
        return [VoiceLinkRow.from_row(r) for r in self.store.rows(LINKS, "batch_id = ?", [batch_id],
                                                                  order_by="created_at")]

    def card(self, batch_id: str) -> tuple[VoiceBatch, list[CardLine]]:
        """What the channel card shows: the batch and a status line per label (no URLs)."""
        batch = self.batch(batch_id)
        by_label = {row.label: row for row in self.links_of(batch_id)}
        lines = [CardLine(label, row.status, row.session_id, row.expires_at) if (row := by_label.get(label))
                 else CardLine(label, "not created") for label in batch.labels]
        return batch, lines

    def link_row(self, link_id: str) -> VoiceLinkRow | None:
        row = self.store.get(LINKS, link_id)
        return VoiceLinkRow.from_row(row) if row else None

    def session_row(self, session_id: str) -> VoiceLinkRow | None:
        rows = self.store.rows(LINKS, "session_id = ?", [session_id], limit=1)
        return VoiceLinkRow.from_row(rows[0]) if rows else None

    def learn_session(self, session_id: str) -> VoiceLinkRow | None:
        """The bot's link whose participant opened ``session_id``, found by listing the bot's own
        links' projects when the watcher has not recorded it yet (recorded now)."""
        row = self.session_row(session_id)
        if row is not None:
            return row
        projects = {r["project_id"] for r in self.store.rows(LINKS, "session_id is null and project_id is not null")}
        listings = [self.nimrobo.list_links(p) for p in sorted(projects)]
        if self.store.count(LINKS, "session_id is null and kind = 'instant'"):
            listings.append(self.nimrobo.list_instant_links())
        for link in (link for links in listings for link in links):
            if link.session_id == session_id and self.link_row(link.id) is not None:
                self.store.update(LINKS, link.id, {"status": link.status, "session_id": session_id,
                                                   "updated_at": now()})
                return self.link_row(link.id)
        # the watcher may have recorded it meanwhile (its link then left the "no session yet" listing above)
        return self.session_row(session_id)

    def recent_links(self, since: float, limit: int = 200) -> list[VoiceLinkRow]:
        """Links the bot made that changed since ``since`` (epoch s), newest first. Callers check access."""
        rows = self.store.rows(LINKS, "updated_at >= ?", [since], order_by="updated_at desc", limit=limit)
        return [VoiceLinkRow.from_row(r) for r in rows]

    def rows_with_sessions(self) -> list[VoiceLinkRow]:
        return [VoiceLinkRow.from_row(r) for r in self.store.rows(LINKS, "session_id is not null and session_id != ''")]

    def count_in(self, channel: str) -> int:
        """How many links were created in ``channel``."""
        return self.store.count(LINKS, "channel = ?", [channel])

    # -- Nimrobo's view -------------------------------------------------------------------
    @property
    def project_cache(self) -> ProjectCache:
        """The project list of the person the bot acts for (:func:`services.keys.acting_as`): each person has their
        own, since their own Nimrobo key may see other projects than the team's."""
        slot = (current_workspace() or "", acting_user())  # each workspace may have a Nimrobo key of its own
        with self._caches_lock:
            cache = self._caches.get(slot)
            if cache is None:
                cache = self._caches[slot] = ProjectCache(self.nimrobo.list_projects)
            return cache

    def _changed_project(self, project: Project) -> None:
        """A project the bot created or changed: in this person's list at once; the others' lists are refetched."""
        mine = self.project_cache
        mine.put(project)
        with self._caches_lock:
            others = [c for c in self._caches.values() if c is not mine]
        for cache in others:
            cache.invalidate()

    def projects(self, *, fresh: bool = False) -> list[Project]:
        """The account's projects (from :class:`ProjectCache`: fetched at most once a minute); with several
        workspaces, only this workspace's (:meth:`known_project_ids`)."""
        return self._this_workspaces(self.project_cache.get(fresh=fresh))

    def known_project_ids(self) -> set[str]:
        """The projects this workspace's store knows: those the bot made links in here, and those made here on
        their own. Several workspaces may share one Nimrobo account (the environment's key): a workspace on it sees
        and changes only these, so a project id copied from another workspace is "not found". A workspace with
        a Nimrobo key of its own sees its whole account."""
        union = " union ".join(f"select project_id from {table} where project_id is not null and project_id != ''"
                               for table in (BATCHES, LINKS, OWN_PROJECTS))
        return {r["project_id"] for r in self.store.execute(union)}  # one query (union drops repeats)

    def _this_workspaces(self, projects: list[Project]) -> list[Project]:
        if not self.shared_account():
            return projects
        known = self.known_project_ids()
        return [p for p in projects if p.id in known]

    def warm_projects(self, user: str | None = None) -> None:
        """Start loading ``user``'s project list in the background (a form with a project select is opening)."""
        with acting_as(user) if user is not None else contextlib.nullcontext():
            self.project_cache.warm()

    def search_projects(self, query: str, *, user: str | None = None, limit: int = 100,
                        wait: float | None = None) -> list[Project]:
        """Projects matching what was typed, best first (the type-ahead select), from ``user``'s list (or the
        acting person's); ``wait``: at most this long for the list."""
        with acting_as(user) if user is not None else contextlib.nullcontext():
            return rank(self._this_workspaces(self.project_cache.get(wait=wait)), query, limit)

    def project(self, query: str, projects: list[Project] | None = None) -> Project:
        """The project ``query`` names (id, name, or a unique part of a name); a miss is looked up once fresh."""
        def find(items: list[Project]) -> Project:
            return match_one(items, query, ident=lambda p: p.id, name=lambda p: p.name, what="project",
                             missing=f"Project not found: no project has the id or a name like “{query.strip()}”.",
                             hint="See `/voicelink projects` for the list.")
        if projects is not None:
            return find(projects)
        try:
            return find(self.projects())
        except NotFoundHere:
            return find(self.projects(fresh=True))

    def project_by_id(self, project_id: str) -> Project:
        if self.shared_account() and project_id not in self.known_project_ids():
            raise NotFoundHere(f"Project not found: no project has the id “{project_id}”.")
        return self.nimrobo.get_project(project_id)

    def link_count(self, project_id: str) -> int:
        return len(self.nimrobo.list_links(project_id))

    # -- a channel's default project ------------------------------------------------------------
    def default_project(self, channel: str) -> ChannelProject | None:
        row = self.store.get(DEFAULTS, channel) if channel else None
        return ChannelProject(**row) if row else None

    def use(self, channel: str, query: str, user: str) -> ChannelProject:
        """Make the project ``query`` names (an id from a select, or a name) the channel's default."""
        project = self.project(query)
        row: dict[str, Any] = {"channel": channel, "project_id": project.id, "project_name": project.name,
                               "set_by": user, "set_at": now()}
        self.store.upsert(DEFAULTS, row, pk="channel")
        return ChannelProject(**row)

    def clear_default(self, channel: str) -> ChannelProject | None:
        """Forget the channel's default project; the one there was, if any."""
        current = self.default_project(channel)
        if current:
            self.store.delete(DEFAULTS, channel)
        return current

    def project_arg(self, args: str, channel: str) -> str:
        """The project a command names, else the channel's default project's id, else "" (``all``: "")."""
        args = args.strip()
        if args.casefold() == "all":
            return ""
        if args:
            return args
        current = self.default_project(channel)
        return current.project_id if current else ""

    def links(self, project_query: str = "", *, user: str | None = None, fresh: bool = False) -> list[VoiceLink]:
        """Links of one project (named as :meth:`project` finds it), or of all plus instant links; newest first.
        With ``user``, only the links they may see (services/access.py)."""
        links = self.listing(project_query, fresh=fresh)[0]
        return self.visible(links, user) if user is not None else links

    def listing(self, project_query: str = "", *, fresh: bool = False) -> tuple[list[VoiceLink], dict[str, str]]:
        """:meth:`links`, and the names of their projects by id (to tell links with one label apart). Every
        project's links come from :meth:`project_links` (cached, ``workers`` requests at a time)."""
        projects = self.projects()
        names = {project.id: project.name for project in projects}
        if project_query:
            projects = [self.project(project_query, projects)]
        links = self.project_links([p.id for p in projects], instant=not project_query, fresh=fresh)
        return sorted(links, key=lambda link: link.created_at or "", reverse=True), names

    # -- /voicelink list from what the bot knows ----------------------------------------------------
    def project_links(self, project_ids: list[str], *, instant: bool = False, fresh: bool = False) -> list[VoiceLink]:
        """The links of these projects (and the instant links), each listing served from a short cache
        (:data:`LINKS_TTL`, per person's key) and fetched ``workers`` at a time. A project whose listing
        fails is left out (logged), never failing the rest, unless it is the only one asked for."""
        keys = [*dict.fromkeys(project_ids)] + ([INSTANT] if instant else [])
        user = acting_user()
        for key in keys if fresh else []:
            self.forget_links(key)

        def fetch(key: str) -> list[VoiceLink]:
            with acting_as(user):  # the worker threads act for the same person
                return self._listed(key)

        links: list[VoiceLink] = []
        for key, found in bounded_map(fetch, keys, self.workers):
            if isinstance(found, Exception):
                if len(keys) == 1:
                    raise found
                log.warning("listing links of %s failed: %s", key, found)
                continue
            links += found
        for link in links:  # keep our rows current for the watcher and the cards
            row = self.link_row(link.id)
            if row and (row.status, row.session_id) != (link.status, link.session_id):
                self.store.update(LINKS, link.id, {"status": link.status, "session_id": link.session_id,
                                                   "updated_at": now()})
        return links

    def _listed(self, key: str) -> list[VoiceLink]:
        cache_key = (current_workspace() or "", acting_user(), key)
        with self._links_lock:
            hit = self._links_cache.get(cache_key)
            if hit is not None and self.clock() - hit[0] < LINKS_TTL:
                return hit[1]
        links = self.nimrobo.list_instant_links() if key == INSTANT else self.nimrobo.list_links(key)
        with self._links_lock:
            self._links_cache[cache_key] = (self.clock(), links)
        return links

    def forget_links(self, key: str) -> None:
        """A project's (or the instant links') listing changed here: the next read fetches it again."""
        with self._links_lock:
            for cache_key in [k for k in self._links_cache if k[2] == key]:
                del self._links_cache[cache_key]

    def list_for(self, key: str, *, user: str, channel: str, fresh: bool = False) -> LinkListing:
        """What ``/voicelink list`` (and its pages) shows ``user`` in ``channel``: ``key`` "" is what the bot
        knows (:meth:`known_links`, with "every project" offered), ``EVERY_PROJECT`` every project's links
        (always from the cache when it is recent, ``workers`` listings at a time), anything else the project it
        names. ``fresh`` (the command itself) lists the known or named projects again; pages, Edit and "every
        project" reuse what was listed. Only links the person may see."""
        if key == EVERY_PROJECT:
            return LinkListing(self.links(user=user), key, "every project")
        if not key:
            links, _ = self.known_links(user, channel, fresh=fresh)
            return LinkListing(links, key, "yours and this channel's projects", more=True)
        return LinkListing(self.links(key, user=user, fresh=fresh), key, key)

    def session_label(self, session_id: str, project_id: str | None, kind: str = "project") -> str:
        """The label of the link a session came from: the bot's row, else Nimrobo's link (a link made outside
        the bot), found in its project's listing (or the instant links'); "" when Nimrobo can't say."""
        row = self.session_row(session_id)
        if row is not None and row.label:
            return row.label
        try:
            links = self.project_links([project_id] if project_id and kind != "instant" else [],
                                       instant=kind == "instant" or not project_id)
        except NimroboError as exc:
            log.info("label of session %s unreadable: %s", session_id, exc)
            return ""
        return next((link.label for link in links if link.session_id == session_id), "")

    def known_projects(self, user: str, channel: str) -> dict[str, str]:
        """{project id: name} the bot knows for this person and channel, without asking Nimrobo: projects of
        the links they made, of the links made in the channel, the channel's subscriptions and default."""
        rows = self.store.execute(
            "select distinct v.project_id as project_id, b.project_name as name from voice_links v "
            "left join voice_batches b on b.id = v.batch_id where v.project_id is not null and "
            "(v.creator = ? or v.channel = ?)", [user, channel])
        known = {r["project_id"]: r["name"] or r["project_id"] for r in rows}
        for row in self.store.rows("project_subscriptions", "channel = ?", [channel]):
            known.setdefault(row["project_id"], row["project_id"])
        default = self.default_project(channel)
        if default is not None:
            known[default.project_id] = default.project_name
        return known

    def known_links(self, user: str, channel: str, *, fresh: bool = False) -> tuple[list[VoiceLink], dict[str, str]]:
        """``/voicelink list`` with no project named and no channel default: the person's own links and the
        links of the channel's projects (:meth:`known_projects`), only those the person may see; no call for
        any other project. (links newest first, {project id: name})."""
        known = self.known_projects(user, channel)
        own_instant = self.store.count(LINKS, "kind = 'instant' and (creator = ? or channel = ?)", [user, channel])
        links = self.visible(self.project_links(sorted(known), instant=bool(own_instant), fresh=fresh), user)
        return sorted(links, key=lambda link: link.created_at or "", reverse=True), known

    def other_project_count(self, user: str, channel: str) -> int:
        """How many of the account's projects :meth:`known_links` left out (from the project list, cached)."""
        known = self.known_projects(user, channel)
        return sum(1 for p in self.projects() if p.id not in known)

    def visible(self, links: list[VoiceLink], user: str) -> list[VoiceLink]:
        """The links ``user`` may see (services/access.py); all when no access rules are wired."""
        if self.access is None:
            return links
        return [link for link in links if self.access.may_see_project_link(user, link.id, link.project_id).allowed]

    def find_link(self, query: str, *, prefer: Callable[[VoiceLink], bool] | None = None,
                  user: str | None = None) -> VoiceLink:
        """The link ``query`` names: its id, else its label (ignoring case), else a unique part of a label.

        With ``prefer``, the links it accepts are searched first (e.g. the active ones, to cancel), then all.
        With ``user``, only among the links they may see: any other is "not found", like one that does not exist.
        """
        try:
            return self._find_link(query, prefer, user, fresh=False)
        except NotFoundHere:  # the listings came from the short cache: look once more, fresh
            return self._find_link(query, prefer, user, fresh=True)

    def _find_link(self, query: str, prefer: Callable[[VoiceLink], bool] | None, user: str | None, *,
                   fresh: bool) -> VoiceLink:
        links, projects = self.listing(fresh=fresh)
        links = self.visible(links, user) if user is not None else links
        find = partial(match_one, query=query, ident=lambda link: link.id, name=lambda link: link.label,
                       what="link", missing=f"Link `{unquote(query)}` was not found among your links.",
                       hint="See `/voicelink list` for the ids.",
                       describe=lambda link: describe_link(link, projects))
        if prefer is not None:
            try:
                return find([link for link in links if prefer(link)])
            except NotFoundHere:
                pass
        return find(links)

    def refresh_statuses(self) -> list[str]:
        """Read our links' statuses from Nimrobo; return the ids of batches whose cards changed."""
        rows = [VoiceLinkRow.from_row(r) for r in self.store.rows(LINKS, "status in ('active', 'used')")]
        if not rows:
            return []
        current: dict[str, VoiceLink] = {}
        # One listing per project (with its creator's key), one per person with instant links.
        owners = {r.project_id: r.creator for r in rows if r.kind == "project" and r.project_id}
        calls: list[tuple[str, str]] = sorted((project, owner or "") for project, owner in owners.items())
        calls += sorted({(INSTANT, r.creator or "") for r in rows if r.kind == "instant"})
        calls = [c for c in calls if self.backoff.due(":".join(c))]

        def fetch(call: tuple[str, str]) -> list[VoiceLink]:
            key, owner = call
            with acting_as(owner):  # the creator's own Nimrobo key, when they have one
                return self.nimrobo.list_instant_links() if key == INSTANT else self.nimrobo.list_links(key)

        for call, links in bounded_map(fetch, calls, self.workers):
            if isinstance(links, Exception):  # this project waits; the others go on
                log.warning("voice cards: reading links of %s failed (next try in %.0fs): %s", call[0],
                            self.backoff.failed(":".join(call)), links)
                continue
            self.backoff.succeeded(":".join(call))
            current.update({link.id: link for link in links})
        changed = set()
        for row in rows:
            link = current.get(row.id)
            if link and (link.status, link.session_id) != (row.status, row.session_id):
                self.store.update(LINKS, row.id, {"status": link.status, "session_id": link.session_id,
                                                  "updated_at": now()})
                changed.add(row.batch_id)
        return sorted(changed)

    # -- cancel and edit --------------------------------------------------------------------
    def cancellable(self, query: str, user: str, members_of: MembersOf) -> VoiceLink:
        """The link ``query`` names, if ``user`` may cancel it; else :class:`NotAllowed` says why.

        Only active project links; only their creator or a member of the channel they were made in.
        """
        link = self.find_link(query, prefer=lambda found: found.kind == "project" and found.is_active, user=user)
        if link.kind == "instant":
            raise NotAllowed("Instant links can't be cancelled; Nimrobo has no cancel call for them. "
                             "Let it expire instead.")
        if not link.is_active:
            raise NotAllowed(f"Only active links can be cancelled; this one is {link.status}.")
        row = self.link_row(link.id)
        if row and row.creator != user:
            members = members_of(row.channel) if row.channel else None
            if members is None or user not in members:
                raise NotAllowed("Only the person who created this link, or a member of its channel, may cancel it.")
        return link

    def cancel(self, query: str, user: str, members_of: MembersOf) -> tuple[VoiceLink, str | None]:
        """Cancel the link (rules as :meth:`cancellable`); (the link, its batch id when the bot made it)."""
        link = self.cancellable(query, user, members_of)
        self.nimrobo.cancel_link(link.project_id or "", link.id)
        self.forget_links(link.project_id or "")
        row = self.link_row(link.id)
        if row:
            self.store.update(LINKS, link.id, {"status": "cancelled", "updated_at": now()})
        return link, row.batch_id if row else None

    def _own_link(self, link_id: str, user: str) -> VoiceLinkRow:
        row = self.link_row(link_id)
        if row is None:
            raise NotFoundHere(f"Voice link `{link_id}` is not one the bot made.")
        if row.creator != user:
            raise NotAllowed("Only the person who made this link can renew or extend it.")
        return row

    def extend_instant_link(self, link_id: str, user: str, preset: str = "1_week") -> VoiceLinkRow:
        """Push an unused instant link's expiry out (``preset`` from now); the link as recorded now."""
        self._own_link(link_id, user)
        self.nimrobo.update_instant_link(link_id, expiry_preset=preset)
        self.forget_links(INSTANT)
        fresh = next((link for link in self.nimrobo.list_instant_links() if link.id == link_id), None)
        if fresh is not None:
            self.store.update(LINKS, link_id, {"expires_at": fresh.expires_at, "status": fresh.status,
                                               "updated_at": now()})
        return self.link_row(link_id)  # type: ignore[return-value]  # recorded just above

    def renew_link(self, link_id: str, user: str, preset: str = "1_week") -> tuple[VoiceBatch, VoiceLink]:
        """A new link for the same participant in the same project (an expiring project link can't be
        extended); recorded with the old one's batch, so the channel card and the watcher follow it."""
        row = self._own_link(link_id, user)
        if not row.project_id:
            raise Refusal("Only links of a voice project can be renewed this way; extend instant links instead.")
        batch = self.batch(row.batch_id)
        made = self.nimrobo.create_links(row.project_id, [row.label], preset)
        self._record(batch, made)
        return batch, made[0]

    def editable_instant_link(self, link_id: str, *, user: str | None = None) -> tuple[VoiceLink, PromptSections]:
        """One listing of the instant links (fresh: the form shows what is there now), never every project's.
        With ``user``, a link they may not see is "not found", as one that does not exist."""
        self.forget_links(INSTANT)
        links = self.project_links([], instant=True)
        links = self.visible(links, user) if user is not None else links
        link = next((found for found in links if found.id == link_id), None)
        if link is None:
            raise NotFoundHere(f"Instant link `{link_id}` was not found among your links.")
        if link.kind != "instant" or not link.is_active:
            raise NotAllowed(f"Only active instant links can be edited; this one is {link.status}.")
        return link, parse_prompt(link.raw.get("prompt", ""))

    def update_instant_link(self, link_id: str, fields: dict[str, Any]) -> list[str]:
        """Update an active instant link (label, prompt, landing page, time limit, ``expiry_preset``, ``evaluator``:
        None removes it); what changed, in words."""
        before = next((link for link in self.nimrobo.list_instant_links() if link.id == link_id), None)
        if before is None:
            raise NotFoundHere(f"Instant link `{link_id}` was not found among your links.")
        old_evaluator = before.raw.get("evaluator") or None
        if "evaluator" in fields:
            fields = {**fields, "evaluator": keep_question_ids(fields["evaluator"], old_evaluator)}
        self.nimrobo.update_instant_link(link_id, **fields)
        self.forget_links(INSTANT)
        raw = before.raw
        changed = [word for word, key, api in (("label", "label", "label"), ("prompt", "prompt", "prompt"),
                                                ("landing page title", "landing_page_title", "landingPageTitle"),
                                                ("landing page info", "landing_page_info", "landingPageInfo"),
                                                ("time limit", "time_limit_minutes", "timeLimitMinutes"))
                   if key in fields and fields[key] != raw.get(api)]
        if "expiry_preset" in fields:
            changed.append(f"expiry ({fields['expiry_preset'].replace('_', ' ')} from now)")
        if "evaluator" in fields and (fields["evaluator"] or None) != old_evaluator:
            changed.append("evaluator (" + ("removed" if not fields["evaluator"] else "set" if not old_evaluator
                                            else "changed") + ")")
        return changed

    def editable_project(self, project_id: str) -> tuple[Project, PromptSections]:
        project = self.project_by_id(project_id)
        return project, parse_prompt(project.prompt)

    def create_project(self, fields: dict[str, Any]) -> Project:
        """A project on its own, without links (``/voicelink project new``): every field the API takes."""
        project = self.nimrobo.create_project(
            fields["name"], fields["prompt"], description=fields.get("description", ""),
            landing_page_title=fields.get("landing_page_title", ""),
            landing_page_info=fields.get("landing_page_info", ""),
            time_limit_minutes=fields.get("time_limit_minutes", 5), evaluator=fields.get("evaluator"))
        self.store.upsert(OWN_PROJECTS, {"project_id": project.id, "name": project.name,
                                         "created_by": acting_user() or "", "created_at": now()}, pk="project_id")
        self._changed_project(project)
        return project

    def update_project(self, project_id: str, fields: dict[str, Any]) -> tuple[Project, list[str]]:
        """Update every field in ``fields`` (name and prompt, which the API needs every time, description,
        landing page, time limit, evaluator; ``evaluator: None`` removes it). The project and what changed."""
        before = self.project_by_id(project_id)
        if "evaluator" in fields:
            fields = {**fields, "evaluator": keep_question_ids(fields["evaluator"], before.evaluator)}
        project = self.nimrobo.update_project(project_id, **fields)
        self._changed_project(project)
        return project, _changes(before, project)


def describe_link(link: VoiceLink, projects: dict[str, str]) -> str:
    """A link as a picker shows it: its label, where it belongs and its status."""
    where = "instant link" if link.kind == "instant" else projects.get(link.project_id or "", link.project_id or "")
    return f"{link.label} · {where} · {link.status}"


def _request(form: VoiceForm) -> dict[str, Any]:
    data = asdict(form)
    data.pop("labels")
    return data


def _changes(before: Project, after: Project) -> list[str]:
    """What an update changed, in words: ``description``, ``evaluator (removed)`` ..."""
    changed = [label for label, attr in (("name", "name"), ("prompt", "prompt"), ("description", "description"),
                                         ("landing page title", "landing_page_title"),
                                         ("landing page info", "landing_page_info"),
                                         ("time limit", "time_limit_minutes"))
               if getattr(before, attr) != getattr(after, attr)]
    if before.evaluator != after.evaluator:
        changed.append("evaluator (" + ("removed" if not after.evaluator else "set" if not before.evaluator
                                        else "changed") + ")")
    return changed
