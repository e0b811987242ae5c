"""Voice projects and links created from Slack, without Slack.

* Interview: one project per role (reused when one with that name exists), one link per candidate.
* Research: one project per study, one link per interview.
* Instant: projectless links with their own prompt.

Links are registered with their channel, thread and creator so the watcher can report.
A link's URL is a bearer secret: it is returned in memory for private delivery and
never stored. If the project was made but the links failed, the batch is ``partial``
and :meth:`VoiceLinkService.retry` reuses the project.

Projects and links named in a command are found with the one rule of
:func:`services.matching.match_one` (id, then name ignoring case, then a unique part of it).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import asdict
from functools import partial
from typing import Any

from config import Settings
from services.concurrency import Backoff, bounded_map
from services.errors import NotAllowed, NotFoundHere
from services.keys import acting_as
from services.matching import match_one, unquote
from services.nimrobo import NimroboClient, NimroboError, Project, VoiceLink
from services.prompts import PromptSections, draft_sections, parse_prompt
from services.records import BatchResult, CardLine, VoiceBatch, VoiceLinkRow
from services.store import Store, now
from services.voice_forms import VoiceForm

log = logging.getLogger(__name__)

BATCHES, LINKS = "voice_batches", "voice_links"
INSTANT = "(instant links)"
MembersOf = Callable[[str], "set[str] | None"]  # a channel's members, or None when unknown


class VoiceLinkService:
    def __init__(self, store: Store, nimrobo: NimroboClient, settings: Settings, *, workers: int = 1,
                 backoff: Backoff | None = None) -> None:
        self.workers = workers
        self.backoff = backoff or Backoff()
        self.store = store
        self.nimrobo = nimrobo
        self.settings = settings

    # -- create ------------------------------------------------------------------------
    def create(self, form: VoiceForm, *, channel: str, creator: str, thread_ts: str | None = None) -> BatchResult:
        batch = VoiceBatch(id=uuid.uuid4().hex[:12], pattern=form.pattern, project_name=form.name or "Instant links",
                           channel=channel, creator=creator, expiry_preset=form.expiry_preset, labels=form.labels,
                           request=_request(form), state="creating", thread_ts=thread_ts, created_at=now(),
                           updated_at=now())
        self.store.insert(BATCHES, batch.to_row())
        return self._run(batch)

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
            state = "partial" if batch.project_id or self.links_of(batch.id) else "failed"
            batch = self._update(batch, state=state, error=exc.user_message)
            return BatchResult(batch, [], exc)
        for link in links:
            self.store.upsert(LINKS, {
                "id": link.id, "batch_id": batch.id, "kind": link.kind, "project_id": link.project_id,
                "label": link.label, "status": link.status, "session_id": link.session_id,
                "expires_at": link.expires_at, "channel": batch.channel, "thread_ts": batch.thread_ts,
                "creator": batch.creator, "created_at": now(), "updated_at": now()}, pk="id")
        batch = self._update(batch, state="created", error=None)
        return BatchResult(batch, links)

    def _create_instant(self, batch: VoiceBatch) -> list[VoiceLink]:
        request = batch.request
        return self.nimrobo.create_instant_links(
            self._missing(batch), batch.expiry_preset, request["prompt"],
            landing_page_title=request["landing_page_title"], landing_page_info=request["landing_page_info"],
            time_limit_minutes=request["time_limit_minutes"], evaluator=request["evaluator"])

    def _project_for(self, batch: VoiceBatch) -> Project:
        """The interview pattern reuses its role's project; otherwise a new project."""
        project = self.nimrobo.find_project(batch.project_name) if batch.pattern == "interview" else None
        if project is not None:
            return project
        request = batch.request
        return self.nimrobo.create_project(
            batch.project_name, request["prompt"], landing_page_title=request["landing_page_title"],
            landing_page_info=request["landing_page_info"], time_limit_minutes=request["time_limit_minutes"],
            evaluator=request["evaluator"])

    def _update(self, batch: VoiceBatch, **values: Any) -> VoiceBatch:
        values["updated_at"] = now()
        self.store.update(BATCHES, batch.id, values)
        return VoiceBatch(**{**batch.__dict__, **values})

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
        lines = [CardLine(label, by_label[label].status, by_label[label].session_id) if label in by_label
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
    def projects(self) -> list[Project]:
        return self.nimrobo.list_projects()

    def project(self, query: str, projects: list[Project] | None = None) -> Project:
        """The project ``query`` names (id, name, or a unique part of a name)."""
        return match_one(self.projects() if projects is None else projects, query, ident=lambda p: p.id,
                         name=lambda p: p.name, what="project",
                         missing=f"Project not found: no project has the id or a name like “{query.strip()}”.",
                         hint="See `/voicelink projects` for the list.")

    def project_by_id(self, project_id: str) -> Project:
        return self.nimrobo.get_project(project_id)

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

    def editable_instant_link(self, link_id: str) -> tuple[VoiceLink, PromptSections]:
        link = self.find_link(link_id)
        if link.kind != "instant" or not link.is_active:
            raise NotAllowed(f"Only active instant links can be edited; this one is {link.status}.")
        return link, parse_prompt(link.raw.get("prompt", ""))

    def update_instant_link(self, link_id: str, fields: dict[str, Any]) -> None:
        self.nimrobo.update_instant_link(link_id, **fields)

    def editable_project(self, project_id: str) -> tuple[Project, PromptSections]:
        project = self.project_by_id(project_id)
        return project, parse_prompt(project.prompt)

    def update_project(self, project_id: str, fields: dict[str, Any]) -> Project:
        """The update call needs name and prompt every time: both are in ``fields``."""
        return self.nimrobo.update_project(project_id, **fields)


def describe_link(link: VoiceLink, projects: dict[str, str]) -> str:
    """A link as a picker shows it: its label, where it belongs and its status."""
    where = "instant link" if link.kind == "instant" else projects.get(link.project_id or "", link.project_id or "")
    return f"{link.label} · {where} · {link.status}"


def _request(form: VoiceForm) -> dict[str, Any]:
    data = asdict(form)
    data.pop("labels")
    return data
