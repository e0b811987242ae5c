"""The interview watcher: finds completed sessions and says what to post, exactly once per channel.

A session is watched for a channel when the bot created its link there, when someone ran
``/voicelink watch <session>`` there, or when the channel subscribed to its project.
:func:`poll` is the plain function the scheduler calls. A notification waits (up to
``wait_seconds`` after completion) for the summary and the evaluation, which Nimrobo
writes some time after an interview ends; after that it is posted with what exists.

Exactly once: :func:`claim` inserts the (session, channel) row before posting, in one
statement, so a second poller or a restarted bot never posts it again. The row is
marked posted with the message ts afterwards. If the process dies between the claim and
the post, that one notification is lost rather than doubled (at most once in that window).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from services.nimrobo import NimroboClient, NimroboError
from services.store import Store, now


@dataclass
class Notification:
    session_id: str
    channel: str
    thread_ts: str | None
    kind: str
    project_id: str | None
    label: str
    status: str  # completed | failed
    summary: Any = None
    summary_pending: bool = False
    evaluation: Any = None


def targets(store: Store, nimrobo: NimroboClient) -> list[dict[str, Any]]:
    """Every (session, channel) the bot should report, not yet claimed."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for row in store.rows("voice_links", "session_id is not null and session_id != ''"):
        found[(row["session_id"], row["channel"])] = {"session_id": row["session_id"], "channel": row["channel"],
                                                      "thread_ts": row["thread_ts"], "kind": row["kind"],
                                                      "project_id": row["project_id"], "label": row["label"]}
    for row in store.rows("session_watches"):
        found.setdefault((row["session_id"], row["channel"]), {**row, "label": row.get("label") or ""})
    for sub in store.rows("project_subscriptions"):
        try:
            links = nimrobo.list_links(sub["project_id"])
        except NimroboError:
            continue
        for link in links:
            if link.session_id:
                found.setdefault((link.session_id, sub["channel"]), {
                    "session_id": link.session_id, "channel": sub["channel"], "thread_ts": None, "kind": "project",
                    "project_id": sub["project_id"], "label": link.label})
    done = {(r["session_id"], r["channel"]) for r in store.rows("session_notifications")}
    return [t for key, t in found.items() if key not in done]


def poll(store: Store, nimrobo: NimroboClient, *, wait_seconds: float = 120.0) -> list[Notification]:
    ready = []
    for t in targets(store, nimrobo):
        try:
            status = nimrobo.session_status(t["session_id"], t["kind"], t["project_id"])
        except NimroboError:
            continue
        if not status.is_finished:
            continue
        note = Notification(t["session_id"], t["channel"], t.get("thread_ts"), t["kind"], t["project_id"],
                            t.get("label") or "", status.status)
        if status.status == "completed":
            finished_key = f"watcher:finished:{t['session_id']}"
            first_seen = store.kv_get(finished_key)
            if first_seen is None:
                first_seen = now()
                store.kv_set(finished_key, first_seen)
            waited_out = time.time() - first_seen >= wait_seconds
            try:
                summary = nimrobo.session_summary(t["session_id"], project_id=t["project_id"],
                                                  instant=t["kind"] == "instant")
                evaluation = nimrobo.session_evaluation(t["session_id"], t["kind"], t["project_id"])
            except NimroboError:
                continue
            if (summary.generating or not evaluation.ready) and not waited_out:
                continue
            note.summary, note.summary_pending = summary.summary, summary.generating
            note.evaluation = evaluation.results
        ready.append(note)
    return ready


def claim(store: Store, session_id: str, channel: str) -> bool:
    return store.insert_if_absent("session_notifications", {"session_id": session_id, "channel": channel,
                                                             "state": "claimed", "message_ts": None,
                                                             "claimed_at": now(), "posted_at": None})


def mark_posted(store: Store, session_id: str, channel: str, ts: str) -> None:
    store.update("session_notifications", (session_id, channel), {"state": "posted", "message_ts": ts,
                                                                  "posted_at": now()})


def watch(store: Store, session_id: str, channel: str, user: str, kind: str, project_id: str | None,
          label: str = "") -> None:
    store.upsert("session_watches", {"session_id": session_id, "channel": channel, "thread_ts": None, "kind": kind,
                                     "project_id": project_id, "requested_by": user, "created_at": now(),
                                     "label": label},
                 pk=("session_id", "channel"))


def subscribe(store: Store, project_id: str, channel: str, user: str) -> bool:
    return store.insert_if_absent("project_subscriptions", {"project_id": project_id, "channel": channel,
                                                            "created_by": user, "created_at": now()})


def unsubscribe(store: Store, project_id: str, channel: str) -> bool:
    if store.get("project_subscriptions", (project_id, channel)) is None:
        return False
    store.delete("project_subscriptions", (project_id, channel))
    return True


def subscriptions(store: Store, channel: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return (store.rows("project_subscriptions", "channel = ?", [channel]),
            store.rows("session_watches", "channel = ?", [channel]))
