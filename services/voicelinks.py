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
import uuid
from collections.abc import Callable
from dataclasses import asdict
from functools import partial
from typing import Any

from config import Settings
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
from services.store import Store, now
from services.voice_forms import LabelFile, VoiceForm, keep_question_ids, read_label_file
from services.voice_projects import ProjectCache, project_diff, rank

log = logging.getLogger(__name__)

BATCHES, LINKS, DEFAULTS = "voice_batches", "voice_links", "channel_projects"
INSTANT = "(instant links)"
CHOICES = ("reuse", "update", "new")  # what to do when the role's project exists
MAX_LABEL_FILE_BYTES = 2 * 1024 * 1024
MembersOf = Callable[[str], "set[str] | None"]  # a channel's members, or None when unknown


class VoiceLinkService:
    def __init__(self, store: Store, nimrobo: NimroboClient, settings: Settings, *, workers: int = 1,
                 backoff: Backoff | None = None) -> None:
        self.workers = workers
        self.backoff = backoff or Backoff()
        self.store = store
        self.nimrobo = nimrobo
        self.settings = settings
        self._caches: dict[str, ProjectCache] = {}
        self._caches_lock = threading.Lock()

    # -- create ------------------------------------------------------------------------
    def create(self, form: VoiceForm, *, channel: str, creator: str, thread_ts: str | None = None) -> BatchResult:
        """Create at once (nothing to ask). A form with ``project_id`` adds links to that project as it is."""
        batch = self._new_batch(form, form.labels, channel=channel, creator=creator, thread_ts=thread_ts,
                                state="creating")
        return self._run(batch)

    def _new_batch(self, form: VoiceForm, labels: list[str], *, channel: str, creator: str, thread_ts: str | None,
                   state: str, extra: dict[str, Any] | None = None) -> VoiceBatch:
        request = {**_request(form), **(extra or {})}
        if form.project_id:
            request["project_mode"] = "existing"
        batch = VoiceBatch(id=uuid.uuid4().hex[:12], pattern=form.pattern, project_name=form.name or "Instant links",
                           channel=channel, creator=creator, expiry_preset=form.expiry_preset, labels=labels,
                           request=request, state=state, project_id=form.project_id or None, thread_ts=thread_ts,
                           created_at=now(), updated_at=now())
        self.store.insert(BATCHES, batch.to_row())
        return batch

    def read_label_file(self, file: dict[str, Any]) -> LabelFile:
        """Download a file shared in Slack (its ``files.info`` record) and read its labels."""
        settings = self.settings
        data = download_slack_file(file, token=settings.slack_bot_token.reveal(), slack_api_url=settings.slack_api_url,
                                   max_bytes=min(settings.max_csv_bytes, MAX_LABEL_FILE_BYTES))
        return read_label_file(data, file.get("name") or "labels.txt")

    def prepare(self, form: VoiceForm, *, channel: str, creator: str, label_file: LabelFile | None = None,
                thread_ts: str | None = None) -> BatchReview:
        """Keep the form as a batch waiting for its creator, with what they must see before anything is made:
        the names a file left out, and (interview) the role's existing project and what updating it changes.
        When :attr:`BatchReview.needs_answer` is false, :meth:`confirm` with no choice creates it as asked."""
        labels = label_file.labels if label_file else form.labels
        existing = None
        if form.pattern == "interview" and not form.project_id:
            existing = self.role_project(form)
        extra = {"existing_project_id": existing.project.id, "existing_project_name": existing.project.name} \
            if existing else {}
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
        if batch.state not in ("partial", "failed"):
            return BatchResult(batch, [])
        return self._run(batch)

    def _run(self, batch: VoiceBatch) -> BatchResult:
        try:
            if batch.pattern == "instant":
                links = self._create_instant(batch)
            else:
                if not batch.project_id:
                    batch = self._update(batch, project_id=self._project_for(batch).id)
                links = self.nimrobo.create_links(batch.project_id or "", self._missing(batch), batch.expiry_preset)
        except NimroboError as exc:
            made: list[VoiceLink] = getattr(exc, "created", [])  # parts Nimrobo took before the failure
            self._record(batch, made)
            state = "partial" if batch.project_id or self.links_of(batch.id) else "failed"
            batch = self._update(batch, state=state, error=exc.user_message)
            return BatchResult(batch, made, exc)
        self._record(batch, links)
        batch = self._update(batch, state="created", error=None)
        return BatchResult(batch, links)

    def _record(self, batch: VoiceBatch, links: list[VoiceLink]) -> None:
        for link in links:
            self.store.upsert(LINKS, {
                "id": link.id, "batch_id": batch.id, "kind": link.kind, "project_id": link.project_id,
                "label": link.label, "status": link.status, "session_id": link.session_id,
                "expires_at": link.expires_at, "channel": batch.channel, "thread_ts": batch.thread_ts,
                "creator": batch.creator, "created_at": now(), "updated_at": now()}, pk="id")

    def _create_instant(self, batch: VoiceBatch) -> list[VoiceLink]:
        request = batch.request
        return self.nimrobo.create_instant_links(
            self._missing(batch), batch.expiry_preset, request["prompt"],
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
            project = self.nimrobo.find_project(batch.project_name)
            if project is not None:
                return project
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
        links' projects when the card job has not recorded it yet (recorded now)."""
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
        return None

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
        user = acting_user()
        with self._caches_lock:
            cache = self._caches.get(user)
            if cache is None:
                cache = self._caches[user] = ProjectCache(self.nimrobo.list_projects)
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
        """The account's projects (from :class:`ProjectCache`: fetched at most once a minute)."""
        return self.project_cache.get(fresh=fresh)

    def warm_projects(self, user: str | None = None) -> None:
        """Start loading ``user``'s project list in the background (a form with a project select is opening)."""
        with acting_as(user) if user is not None else contextlib.nullcontext():
            self.project_cache.warm()

    def search_projects(self, query: str, *, user: str | None = None, limit: int = 100,
                        wait: float | None = None) -> list[Project]:
        """Projects matching what was typed, best first (the type-ahead select), from ``user``'s list (or the
        acting person's); ``wait``: at most this long for the list."""
        with acting_as(user) if user is not None else contextlib.nullcontext():
            return rank(self.project_cache.get(wait=wait), query, limit)

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
        row = {"channel": channel, "project_id": project.id, "project_name": project.name, "set_by": user,
               "set_at": now()}
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

    def links(self, project_query: str = "") -> list[VoiceLink]:
        """Links of one project (named as :meth:`project` finds it), or of all plus instant links; newest first."""
        return self.listing(project_query)[0]

    def listing(self, project_query: str = "") -> tuple[list[VoiceLink], dict[str, str]]:
        """:meth:`links`, and the names of their projects by id (to tell links with one label apart)."""
        projects = self.projects()
        names = {project.id: project.name for project in projects}
        if project_query:
            projects = [self.project(project_query, projects)]
        links: list[VoiceLink] = []
        for project in projects:
            links += self.nimrobo.list_links(project.id)
        if not project_query:
            links += self.nimrobo.list_instant_links()
        for link in links:  # keep our rows current for the watcher and the cards
            if self.link_row(link.id):
                self.store.update(LINKS, link.id, {"status": link.status, "session_id": link.session_id,
                                                   "updated_at": now()})
        return sorted(links, key=lambda link: link.created_at or "", reverse=True), names

    def find_link(self, query: str, *, prefer: Callable[[VoiceLink], bool] | None = None) -> VoiceLink:
        """The link ``query`` names: its id, else its label (ignoring case), else a unique part of a label.

        With ``prefer``, the links it accepts are searched first (e.g. the active ones, to cancel), then all.
        """
        links, projects = self.listing()
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
        link = self.find_link(query, prefer=lambda found: found.kind == "project" and found.is_active)
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

    def editable_instant_link(self, link_id: str) -> tuple[VoiceLink, PromptSections]:
        link = self.find_link(link_id)
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
