"""Voice projects and links created from Slack, without Slack.

* Interview: one project per role (reused when one with that name exists), one link per candidate.
* Research: one project per study, one link per interview.
* Instant: projectless links with their own prompt.

Links are registered with their channel, thread and creator so the watcher can report.
A link's URL is a bearer secret: it is returned in memory for private delivery and
never stored. If the project was made but the links failed, the batch is ``partial``
and :meth:`VoiceLinkService.retry` reuses the project.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from services.concurrency import Backoff, bounded_map
from services.nimrobo import NimroboClient, NimroboError, VoiceLink
from services.store import Store, now
from services.voice_forms import VoiceForm


@dataclass
class BatchResult:
    batch: dict[str, Any]
    links: list[VoiceLink] = field(default_factory=list)  # with URLs, for the creator only
    error: NimroboError | None = None
    reused_project: bool = False


log = logging.getLogger(__name__)
INSTANT = "(instant links)"


class VoiceLinkService:
    def __init__(self, store: Store, nimrobo: NimroboClient, *, workers: int = 1,
                 backoff: Backoff | None = None) -> None:
        self.workers = workers
        self.backoff = backoff or Backoff()
        self.store = store
        self.nimrobo = nimrobo

    # -- create ------------------------------------------------------------------------
    def create(self, form: VoiceForm, *, channel: str, creator: str, thread_ts: str | None = None) -> BatchResult:
        batch = {"id": uuid.uuid4().hex[:12], "pattern": form.pattern, "project_id": None,
                 "project_name": form.name or "Instant links", "channel": channel, "thread_ts": thread_ts,
                 "card_ts": None, "creator": creator, "expiry_preset": form.expiry_preset,
                 "labels_json": form.labels, "request_json": _request(form), "state": "creating", "error": None,
                 "created_at": now(), "updated_at": now()}
        self.store.insert("voice_batches", batch)
        return self._run(batch)

    def retry(self, batch_id: str) -> BatchResult:
        batch = self.batch(batch_id)
        if batch["state"] not in ("partial", "failed"):
            return BatchResult(batch, [])
        return self._run(batch)

    def _run(self, batch: dict[str, Any]) -> BatchResult:
        request = batch["request_json"]
        reused = False
        try:
            if batch["pattern"] == "instant":
                links = self.nimrobo.create_instant_links(
                    _missing(batch, self.links(batch["id"])), batch["expiry_preset"], request["prompt"],
                    landing_page_title=request["landing_page_title"], landing_page_info=request["landing_page_info"],
                    time_limit_minutes=request["time_limit_minutes"], evaluator=request["evaluator"])
            else:
                if not batch["project_id"]:
                    project = self.nimrobo.find_project(batch["project_name"]) if batch["pattern"] == "interview" \
                        else None
                    reused = project is not None
                    if project is None:
                        project = self.nimrobo.create_project(
                            batch["project_name"], request["prompt"],
                            landing_page_title=request["landing_page_title"],
                            landing_page_info=request["landing_page_info"],
                            time_limit_minutes=request["time_limit_minutes"], evaluator=request["evaluator"])
                    batch = self._update(batch, project_id=project.id)
                links = self.nimrobo.create_links(batch["project_id"], _missing(batch, self.links(batch["id"])),
                                                  batch["expiry_preset"])
        except NimroboError as exc:
            state = "partial" if batch["project_id"] or self.links(batch["id"]) else "failed"
            batch = self._update(batch, state=state, error=exc.user_message)
            return BatchResult(batch, [], exc, reused)
        for link in links:
            self.store.upsert("voice_links", {
                "id": link.id, "batch_id": batch["id"], "kind": link.kind, "project_id": link.project_id,
                "label": link.label, "status": link.status, "session_id": link.session_id,
                "expires_at": link.expires_at, "channel": batch["channel"], "thread_ts": batch["thread_ts"],
                "creator": batch["creator"], "created_at": now(), "updated_at": now()}, pk="id")
        batch = self._update(batch, state="created", error=None)
        return BatchResult(batch, links, None, reused)

    def _update(self, batch: dict[str, Any], **values: Any) -> dict[str, Any]:
        values["updated_at"] = now()
        self.store.update("voice_batches", batch["id"], values)
        return {**batch, **values}

    # -- reading -------------------------------------------------------------------------
    def batch(self, batch_id: str) -> dict[str, Any]:
        batch = self.store.get("voice_batches", batch_id)
        if batch is None:
            raise NimroboError("that batch of links is not known here.", status=404)
        return batch

    def set_card(self, batch_id: str, ts: str) -> None:
        self.store.update("voice_batches", batch_id, {"card_ts": ts})

    def links(self, batch_id: str) -> list[dict[str, Any]]:
        return self.store.rows("voice_links", "batch_id = ?", [batch_id], order_by="created_at")

    def card(self, batch_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """What the channel card shows: the batch and a status line per label (no URLs)."""
        batch = self.batch(batch_id)
        by_label = {row["label"]: row for row in self.links(batch_id)}
        lines = [{"label": label, "status": (by_label.get(label) or {}).get("status", "not created"),
                  "session_id": (by_label.get(label) or {}).get("session_id")} for label in batch["labels_json"]]
        return batch, lines

    def link_row(self, link_id: str) -> dict[str, Any] | None:
        return self.store.get("voice_links", link_id)

    def session_row(self, session_id: str) -> dict[str, Any] | None:
        rows = self.store.rows("voice_links", "session_id = ?", [session_id], limit=1)
        return rows[0] if rows else None

    def all_links(self, project_query: str = "") -> list[VoiceLink]:
        """Project links (of one project, matched by id or name, or of all) and instant links, newest first."""
        projects = self.nimrobo.list_projects()
        if project_query:
            q = project_query.casefold()
            projects = [p for p in projects if p.id == project_query or q in p.name.casefold()]
            if not projects:
                raise NimroboError(f"no project matches “{project_query}”.", status=404,
                                   hint="See `/voicelink projects` for the list.")
        links: list[VoiceLink] = []
        for project in projects:
            links += self.nimrobo.list_links(project.id)
        if not project_query:
            links += self.nimrobo.list_instant_links()
        for link in links:  # keep our rows current for the watcher and the cards
            if self.link_row(link.id):
                self.store.update("voice_links", link.id, {"status": link.status, "session_id": link.session_id,
                                                           "updated_at": now()})
        return sorted(links, key=lambda link: link.created_at or "", reverse=True)

    def find_link(self, link_id: str) -> VoiceLink:
        for link in self.all_links():
            if link.id == link_id:
                return link
        raise NimroboError(f"link {link_id} was not found.", status=404, hint="See `/voicelink list` for the ids.")

    def refresh_statuses(self) -> list[str]:
        """Read our links' statuses from Nimrobo; return the ids of batches whose cards changed."""
        rows = self.store.rows("voice_links", "status in ('active', 'used')")
        if not rows:
            return []
        current: dict[str, VoiceLink] = {}
        calls: list[str] = sorted({r["project_id"] for r in rows if r["kind"] == "project" and r["project_id"]})
        if any(r["kind"] == "instant" for r in rows):
            calls.append(INSTANT)
        calls = [c for c in calls if self.backoff.due(c)]

        def fetch(key: str) -> list[VoiceLink]:
            return self.nimrobo.list_instant_links() if key == INSTANT else self.nimrobo.list_links(key)

        for key, links in bounded_map(fetch, calls, self.workers):
            if isinstance(links, Exception):  # this project waits; the others go on
                log.warning("voice cards: reading links of %s failed (next try in %.0fs): %s", key,
                            self.backoff.failed(key), links)
                continue
            self.backoff.succeeded(key)
            current.update({link.id: link for link in links})
        changed = set()
        for row in rows:
            link = current.get(row["id"])
            if link and (link.status, link.session_id) != (row["status"], row["session_id"]):
                self.store.update("voice_links", row["id"], {"status": link.status, "session_id": link.session_id,
                                                             "updated_at": now()})
                changed.add(row["batch_id"])
        return sorted(changed)

    def cancel_check(self, link: VoiceLink, user: str, channel_members: set[str] | None) -> str | None:
        """Why ``user`` may not cancel ``link``, or None when they may."""
        if link.kind == "instant":
            return "Instant links can't be cancelled; Nimrobo has no cancel call for them. Let it expire instead."
        if not link.is_active:
            return f"Only active links can be cancelled; this one is {link.status}."
        row = self.link_row(link.id)
        if row and row["creator"] != user and (channel_members is None or user not in channel_members):
            return "Only the person who created this link, or a member of its channel, may cancel it."
        return None

    def cancel(self, link: VoiceLink) -> None:
        self.nimrobo.cancel_link(link.project_id or "", link.id)
        if self.link_row(link.id):
            self.store.update("voice_links", link.id, {"status": "cancelled", "updated_at": now()})


def _request(form: VoiceForm) -> dict[str, Any]:
    data = asdict(form)
    data.pop("labels")
    return data


def _missing(batch: dict[str, Any], made: list[dict[str, Any]]) -> list[str]:
    done = {row["label"] for row in made}
    return [label for label in batch["labels_json"] if label not in done]
