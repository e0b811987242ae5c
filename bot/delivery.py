"""Delivery: what the jobs owe Slack goes into the outbox (services/outbox.py); one sender drains it.

Enqueueing. :class:`Deliveries` renders a message for where it goes (masked where the
conversation is public, bot/slack_out.py) and writes its outbox row. Call it inside the store
transaction of the decision (``with services.store.transaction(): ...``); ask
``out.is_public(channel)`` first so no Slack call runs inside the transaction. Every post
carries its idempotency key in its metadata (``outbox_key``), so it can be found in Slack.

Sending. :class:`Sender` runs in every process and sends while its replica leads:

* one queue per channel, paced at Slack's per-channel rate with its bursts
  (:meth:`bot.slack_client.SlackWriteLimiter.try_take`): a channel whose budget is spent waits
  without holding a thread, so it never holds the other channels behind it;
* up to ``OUTBOX_WORKERS`` channels are served at once, so N busy channels post N times faster;
* ``chat.update`` is paced on its workspace tier; an update row holds a message's newest
  state, so repeated updates coalesce;
* a channel's posts go out in the order they were decided (a thread reads in order).

Several workspaces: the sender serves every installed workspace's outbox (each in its own store),
with that workspace's client and its own pace (Slack's limits are per workspace); a channel's queue
is named by its workspace and id.

Settling. A new leader epoch settles the claims of older epochs at once; an unclear outcome
(dropped connection, timeout, 5xx) is looked up after ``OUTBOX_GRACE_SECONDS``; any claim older
than ``CLAIM_TIMEOUT_SECONDS`` is the last resort (leader election off). Found in Slack by its
metadata (or file name): recorded. Not found: sent.

After a post is recorded, a hook registered with :func:`after_sent` for its key's prefix may
note the ts (a board's message, the watcher's record).
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_sdk import WebClient

from bot import once
from bot.blocks import Message
from bot.context import Services
from bot.slack_out import SlackOut, masked_kwargs, private_kwargs
from services.outbox import Outbox, update_key
from services.privacy import mask_text
from services.store import current_workspace, in_workspace

log = logging.getLogger(__name__)

AfterSent = Callable[[Services, SlackOut, dict[str, Any], "str | None"], None]
AFTER_SENT: dict[str, AfterSent] = {}
GENERIC_EVENT = "pluto_bot_post"


def after_sent(prefix: str) -> Callable[[AfterSent], AfterSent]:
    """Register ``fn(services, out, row, ts)`` to run once a post whose key starts with ``prefix:`` is recorded."""

    def add(fn: AfterSent) -> AfterSent:
        AFTER_SENT[prefix] = fn
        return fn

    return add


def with_key(kwargs: dict[str, Any], key: str) -> dict[str, Any]:
    """The message's metadata carries its outbox key (a message without metadata gets a small one)."""
    meta = kwargs.get("metadata")
    if meta:
        kwargs["metadata"] = {**meta, "event_payload": {**(meta.get("event_payload") or {}), "outbox_key": key}}
    else:
        kwargs["metadata"] = {"event_type": GENERIC_EVENT, "event_payload": {"outbox_key": key}}
    return kwargs


class Deliveries:
    """Enqueue what a job decided to send (see the module docstring)."""

    def __init__(self, services: Services, out: SlackOut) -> None:
        self.services, self.out = services, out
        self.outbox: Outbox = services.outbox

    def _for(self, channel: str, message: Message) -> dict[str, Any]:
        return masked_kwargs(message) if self.out.is_public(channel) else message.kwargs()

    def post(self, key: str, channel: str, message: Message, thread_ts: str | None = None, *,
             match: dict[str, Any] | None = None) -> bool:
        """A message in ``channel`` (masked where public); False when ``key`` was already enqueued."""
        return self.outbox.enqueue(key, channel, "post", with_key(self._for(channel, message), key),
                                   thread_ts=thread_ts, match=match)

    def update(self, channel: str, ts: str, message: Message) -> None:
        """Show ``message`` as the newest state of message ``ts`` (coalesced with earlier updates not yet sent)."""
        self.outbox.enqueue(update_key(channel, ts), channel, "update", {"ts": ts, "message": self._for(channel,
                                                                                                         message)})

    def dm(self, key: str, user: str, message: Message) -> bool:
        """A direct message to ``user`` (the DM is opened when it is sent)."""
        return self.outbox.enqueue(key, user, "dm", with_key(private_kwargs(message), key))

    def upload(self, key: str, channel: str, content: str | bytes, filename: str, title: str, *,
               thread_ts: str | None = None, comment: str | None = None, alt_text: str | None = None) -> bool:
        """A file in ``channel`` (its title, comment and alt text masked where public; ``content`` as given:
        text, or bytes such as a PNG, kept in the outbox as base64)."""
        if self.out.is_public(channel):
            title, comment = mask_text(title), mask_text(comment) if comment else comment
            alt_text = mask_text(alt_text) if alt_text else alt_text
        payload = {**_content(content), "filename": filename, "title": title, "comment": comment}
        if alt_text:
            payload["alt_txt"] = alt_text
        return self.outbox.enqueue(key, channel, "upload", payload, thread_ts=thread_ts, match={"file_name": filename})

    def upload_dm(self, key: str, user: str, content: str | bytes, filename: str, title: str, *,
                  comment: str | None = None) -> bool:
        """A file only ``user`` sees (Slack has no ephemeral files: their DM); ``content`` text, or bytes
        such as a zip (kept in the outbox as base64)."""
        return self.outbox.enqueue(key, user, "upload_dm", {**_content(content), "filename": filename, "title": title,
                                                            "comment": comment}, match={"file_name": filename})


def _content(content: str | bytes) -> dict[str, str]:
    """A file's content for a JSON payload: text as it is, bytes as base64."""
    if isinstance(content, bytes):
        return {"content_b64": base64.b64encode(content).decode("ascii")}
    return {"content": content}


def _json(value: Any) -> dict[str, Any]:
    """A ``*_json`` column: the store decodes it; a value it could not decode stays text."""
    if isinstance(value, str):
        return dict(json.loads(value or "{}"))
    return dict(value or {})


def _in_flight_key(key: str) -> str:
    """An outbox key as this process's in-flight set knows it: two workspaces may use the same key."""
    workspace = current_workspace()
    return f"{workspace}/{key}" if workspace else key


def _method(row: dict[str, Any]) -> str:
    return "chat.update" if row["kind"] == "update" else "chat.postMessage"


class Sender:
    """Drains the outbox while this replica leads (see the module docstring). ``start()`` / ``stop()``."""

    def __init__(self, services: Services, client: WebClient) -> None:
        self.services, self.app_client = services, client
        self.settings = services.settings
        self.outbox: Outbox = services.outbox
        self._outs: dict[str | None, SlackOut] = {}
        self.workers = max(1, self.settings.outbox_workers)
        self.pool = ThreadPoolExecutor(self.workers, thread_name_prefix="outbox")
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._guard = threading.Lock()
        self._active: set[tuple[str | None, str]] = set()  # (workspace, channel) being served
        self._after_running: set[str] = set()  # keys whose after-sent step runs now
        self._ready_at: dict[tuple[str | None, str], float] = {}
        self._settled_epoch: dict[str | None, int | None] = {}
        self._last_sweep = 0.0
        self._thread: threading.Thread | None = None
        self.sent = 0

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> Sender:
        self._thread = threading.Thread(target=self._run, name="outbox-sender", daemon=True)
        self._thread.start()
        return self

    def notify(self) -> None:
        """Something was enqueued in this process: look now instead of at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=15)
        self.pool.shutdown(wait=True)

    def paced_channels(self) -> list[str]:
        """Channels with posts due that wait for their turn (Slack's per-channel pace) or are being served."""
        at = time.monotonic()
        with self._guard:
            queues = self._active | {q for q, ready in self._ready_at.items() if ready > at}
        return sorted(f"{ws}/{channel}" if ws else channel for ws, channel in queues)

    # -- the workspace being served ----------------------------------------------------------------
    @property
    def client(self) -> WebClient:
        """The Slack client of the workspace being served (the app's own in single-workspace mode)."""
        clients = self.services.clients
        return clients.client_for(current_workspace()) if clients is not None else self.app_client

    @property
    def out(self) -> SlackOut:
        client = self.client
        key = current_workspace()
        out = self._outs.get(key)
        if out is None or out.client is not client:
            out = self._outs[key] = SlackOut(client)
        return out

    @property
    def limiter(self) -> Any:
        return getattr(self.client, "limiter", None)

    # -- the loop -------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                timeout = self._tick()
            except Exception:
                log.exception("outbox sender: a round failed; trying again")
                timeout = self.settings.outbox_poll_seconds
            self._wake.wait(timeout)

    def _tick(self) -> float:
        poll = self.settings.outbox_poll_seconds
        leadership = self.services.leadership
        if self.services.stopping.is_set() or not leadership.is_leader:
            return poll
        epoch = leadership.epoch
        sweep_every = min(poll, self.settings.outbox_grace_seconds / 2)
        sweep = time.monotonic() - self._last_sweep >= sweep_every
        if sweep:
            self._last_sweep = time.monotonic()
        wait = sweep_every
        for workspace in self.services.workspaces.serving():
            with in_workspace(workspace):
                try:
                    wait = min(wait, self._tick_workspace(workspace, epoch, sweep))
                except Exception:  # one workspace's trouble (its tokens revoked, say) never holds the others
                    log.exception("outbox sender: a round for workspace %s failed", workspace or "-")
        return max(0.005, wait)

    def _tick_workspace(self, workspace: str | None, epoch: int | None, sweep: bool) -> float:
        if epoch != self._settled_epoch.get(workspace) or sweep:
            self._settle(epoch)  # a new epoch: the claims of every older one, at once
            self._settled_epoch[workspace] = epoch
        wait = float("inf")
        at = time.monotonic()
        for channel in self.outbox.due_channels():
            queue = (workspace, channel)
            with self._guard:
                if queue in self._active:
                    continue
                ready = self._ready_at.get(queue, 0.0)
                if ready > at:
                    wait = min(wait, ready - at)
                    continue
                if len(self._active) >= self.workers:
                    break
                self._active.add(queue)
            self.pool.submit(self._serve_in, workspace, channel, epoch)
        return wait

    def _serve_in(self, workspace: str | None, channel: str, epoch: int | None) -> None:
        with in_workspace(workspace):
            self._serve(channel, epoch)

    def _serve(self, channel: str, epoch: int | None) -> None:
        """Send the channel's next row whose budget allows it now; else note when it will."""
        queue = (current_workspace(), channel)
        try:
            delays: list[float] = []
            heads = self.outbox.heads(channel)
            if not heads:  # its next post waits behind one whose outcome is being settled
                delays.append(min(self.settings.outbox_poll_seconds, self.settings.outbox_grace_seconds / 2))
            for row in heads:
                method = _method(row)
                delay = self.limiter.try_take(method, channel) if self.limiter is not None else 0.0
                if delay > 0:
                    delays.append(delay)
                    continue
                claimed = self.outbox.claim(row, epoch or 0)
                if claimed is not None:
                    self._send(claimed, method)
                break
            with self._guard:
                if delays:
                    self._ready_at[queue] = time.monotonic() + min(delays)
                else:
                    self._ready_at.pop(queue, None)
        except Exception:
            log.exception("outbox sender: serving %s failed", channel)
        finally:
            with self._guard:
                self._active.discard(queue)
            self._wake.set()

    # -- one send ----------------------------------------------------------------------------------
    def _send(self, row: dict[str, Any], method: str) -> None:
        key = row["key"]
        payload = _json(row["payload_json"])
        paid = self.limiter.prepaid(method) if self.limiter is not None else _nothing()
        with paid:
            sent = once.send(_in_flight_key(key), lambda: {"ts": self._call(row, payload)})
        if sent.outcome == "posted":
            self._recorded(row, sent.ts)
        elif sent.outcome == "undeliverable":
            log.warning("outbox: %s can't be sent to %s (%s); giving up", key, row["channel"], sent.error)
            self.outbox.give_up(row, sent.error)
        elif sent.outcome == "failed" or row["kind"] == "update":  # an update is idempotent: send it again
            self.outbox.release(row, sent.error)
        else:  # Slack may have stored it: never re-sent blindly; looked up after the grace
            self.outbox.unclear(row, sent.error)
            self._wake.set()

    def _call(self, row: dict[str, Any], payload: dict[str, Any]) -> str | None:
        client, kind = self.client, row["kind"]
        channel = row["channel"]
        if kind in ("dm", "upload_dm"):
            channel = self.out.dm_channel(row["channel"])
        if kind in ("post", "dm"):
            return str(client.chat_postMessage(channel=channel, thread_ts=row["thread_ts"], **payload)["ts"])
        if kind == "update":
            client.chat_update(channel=channel, ts=payload["ts"], **payload["message"])
            return str(payload["ts"])
        extra = {"initial_comment": payload["comment"]} if payload.get("comment") else {}
        if payload.get("alt_txt"):
            extra["alt_txt"] = payload["alt_txt"]
        content = base64.b64decode(payload["content_b64"]) if "content_b64" in payload else payload["content"]
        response = client.files_upload_v2(channel=channel, thread_ts=row["thread_ts"], content=content,
                                          filename=payload["filename"], title=payload["title"], **extra)
        files = response.get("files") or [{}]
        return (files[0] or {}).get("id")

    def _recorded(self, row: dict[str, Any], ts: str | None) -> None:
        hook = AFTER_SENT.get(row["key"].split(":", 1)[0]) if row["kind"] != "update" else None
        if not self.outbox.mark_sent(row, ts, after_pending=hook is not None):
            log.warning("outbox: %s was sent but its claim had been taken over", row["key"])
            return
        self.sent += 1
        if hook is not None:
            self._after(hook, row, ts)

    def _after(self, hook: AfterSent, row: dict[str, Any], ts: str | None) -> None:
        """Run a sent post's after-sent step once (a replica killed before it ran leaves it to the next sweep)."""
        key = _in_flight_key(row["key"])
        with self._guard:
            if key in self._after_running:
                return
            self._after_running.add(key)
        try:
            hook(self.services, self.out, row, ts)
        except Exception:
            log.exception("outbox: the after-sent step of %s failed", row["key"])
        finally:
            with self._guard:
                self._after_running.discard(key)
        self.outbox.after_done(row["key"])

    def _after_steps(self) -> None:
        """After-sent steps a dead sender left undone: run them now."""
        for row in self.outbox.after_steps_pending(grace=self.settings.outbox_grace_seconds):
            hook = AFTER_SENT.get(row["key"].split(":", 1)[0])
            if hook is None or _in_flight_key(row["key"]) in once.IN_FLIGHT:
                continue  # being sent (and its step run) right now
            log.info("outbox: running the after-sent step of %s, left undone", row["key"])
            self._after(hook, row, row.get("message_ts"))

    # -- settling ----------------------------------------------------------------------------------
    def _settle(self, epoch: int | None) -> None:
        settings = self.settings
        self._after_steps()
        for row in self.outbox.to_settle(epoch=epoch, grace=settings.outbox_grace_seconds,
                                         timeout=settings.claim_timeout_seconds):
            if self._stop.is_set() or _in_flight_key(row["key"]) in once.IN_FLIGHT:
                continue
            taken = self.outbox.retake(row, epoch or 0)
            if taken is None:
                continue
            if taken["kind"] == "update":  # idempotent: no need to look
                self.outbox.reopen(taken)
                continue
            try:
                ts = self._lookup(taken)
            except Exception as exc:  # Slack can't be asked now: unclear again, asked again after the grace
                log.warning("outbox: looking up %s failed (%s); will try again", taken["key"], exc)
                self.outbox.unclear(taken, f"lookup: {type(exc).__name__}")
                continue
            if ts:
                log.info("outbox: %s was already in Slack (%s); recorded", taken["key"], ts)
                self._recorded(taken, ts)
            else:
                log.info("outbox: %s was never stored by Slack; sending it", taken["key"])
                self.outbox.reopen(taken)
        self._wake.set()

    def _lookup(self, row: dict[str, Any]) -> str | None:
        match = _json(row.get("match_json")) or {"outbox_key": row["key"]}
        channel = row["channel"]
        if row["kind"] in ("dm", "upload_dm"):
            channel = self.out.dm_channel(channel)
        if "file_name" in match:
            name = match["file_name"]

            def by_file(m: dict[str, Any]) -> bool:
                return any(f.get("name") == name for f in m.get("files") or [])

            predicate: Callable[[dict[str, Any]], bool] = by_file
        elif "outbox_key" in match:
            key = match["outbox_key"]

            def by_key(m: dict[str, Any]) -> bool:
                return str(((m.get("metadata") or {}).get("event_payload") or {}).get("outbox_key")) == key

            predicate = by_key
        else:
            predicate = once.metadata_matches(match.get("event_type", ""), match.get("payload") or {})
        oldest = float(row.get("created_at") or row.get("claimed_at") or 0) - once.LOOKBACK_SECONDS
        return once.find_posted(self.client, channel, row.get("thread_ts"), predicate, oldest=oldest)


class _nothing:  # noqa: N801 - a null context manager, cheaper than contextlib's for the hot path
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None
