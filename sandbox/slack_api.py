"""A Slack Web API stand-in over real HTTP.

It answers the methods the bot calls at ``/api/<method>``, Slack-shaped
(``{"ok": false, "error": ...}`` with HTTP 200), and rejects what Slack rejects: a bad or
missing token, an unknown method, messages past Block Kit's limits. It serves files
for download only with the bot token (otherwise an HTML login page, as Slack does),
accepts ``response_url`` posts, and records everything the bot posts in one ordered
``timeline`` for tests and the sandbox console.
"""

from __future__ import annotations

import itertools
import json
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from sandbox.httpserver import Request, Response, SimServer, json_response, text_response

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
LOGIN_PAGE = "<!DOCTYPE html><html><head><title>Slack</title></head><body>Sign in to Slack</body></html>"


class SlackError(Exception):
    def __init__(self, error: str, detail: list[str] | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.detail = detail or []


def _text_len(obj: Any) -> int:
    return len(obj.get("text", "")) if isinstance(obj, dict) else 0


def validate_blocks(blocks: Any, *, surface: str = "message") -> list[str]:
    """Return the Block Kit limit violations in ``blocks`` (empty when Slack would accept them)."""
    problems: list[str] = []
    if blocks is None:
        return problems
    if not isinstance(blocks, list):
        return ["blocks must be an array"]
    limit = MESSAGE_BLOCKS if surface == "message" else VIEW_BLOCKS
    if len(blocks) > limit:
        problems.append(f"no more than {limit} items allowed [json-pointer:/blocks]")
    for i, block in enumerate(blocks):
        where = f"/blocks/{i}"
        if not isinstance(block, dict) or "type" not in block:
            problems.append(f"missing required field: type [json-pointer:{where}]")
            continue
        kind = block["type"]
        if len(block.get("block_id") or "") > 255:
            problems.append(f"block_id must be at most 255 characters [json-pointer:{where}/block_id]")
        if kind == "section":
            if _text_len(block.get("text")) > 3000:
                problems.append(f"must be less than 3001 characters [json-pointer:{where}/text/text]")
            fields = block.get("fields") or []
            if len(fields) > 10:
                problems.append(f"no more than 10 items allowed [json-pointer:{where}/fields]")
            if any(_text_len(f) > 2000 for f in fields):
                problems.append(f"must be less than 2001 characters [json-pointer:{where}/fields]")
            if not block.get("text") and not fields:
                problems.append(f"must provide text or fields [json-pointer:{where}]")
            if block.get("accessory"):
                problems += _element_problems(block["accessory"], f"{where}/accessory")
        elif kind == "header":
            if _text_len(block.get("text")) > 150:
                problems.append(f"must be less than 151 characters [json-pointer:{where}/text/text]")
            if (block.get("text") or {}).get("type") != "plain_text":
                problems.append(f"header text must be plain_text [json-pointer:{where}/text]")
        elif kind == "actions":
            elements = block.get("elements") or []
            if len(elements) > 25:
                problems.append(f"no more than 25 items allowed [json-pointer:{where}/elements]")
            for j, element in enumerate(elements):
                problems += _element_problems(element, f"{where}/elements/{j}")
        elif kind == "context":
            if len(block.get("elements") or []) > 10:
                problems.append(f"no more than 10 items allowed [json-pointer:{where}/elements]")
        elif kind == "input":
            if surface == "message":
                problems.append(f"input blocks are not allowed in messages [json-pointer:{where}]")
            if _text_len(block.get("label")) > 2000:
                problems.append(f"label must be less than 2001 characters [json-pointer:{where}/label]")
        for key in ("text",):
            obj = block.get(key)
            if isinstance(obj, dict) and obj.get("type") not in ("mrkdwn", "plain_text"):
                problems.append(f"text type must be mrkdwn or plain_text [json-pointer:{where}/{key}]")
    return problems


def _element_problems(element: dict[str, Any], where: str) -> list[str]:
    problems = []
    if element.get("type") == "button":
        if _text_len(element.get("text")) > 75:
            problems.append(f"must be less than 76 characters [json-pointer:{where}/text/text]")
        if len(element.get("value") or "") > 2000:
            problems.append(f"must be less than 2001 characters [json-pointer:{where}/value]")
    if len(element.get("action_id") or "") > 255:
        problems.append(f"must be less than 256 characters [json-pointer:{where}/action_id]")
    options = element.get("options") or []
    if len(options) > 100:
        problems.append(f"no more than 100 items allowed [json-pointer:{where}/options]")
    if any(_text_len(o.get("text")) > 75 for o in options):
        problems.append(f"option text must be less than 76 characters [json-pointer:{where}/options]")
    return problems


def validate_view(view: dict[str, Any]) -> list[str]:
    problems = validate_blocks(view.get("blocks") or [], surface=view.get("type", "modal"))
    if view.get("type") == "modal":
        for key in ("title", "submit", "close"):
            if _text_len(view.get(key)) > 24:
                problems.append(f"must be less than 25 characters [json-pointer:/view/{key}/text]")
        if not view.get("title"):
            problems.append("missing required field: title [json-pointer:/view/title]")
    if len(view.get("private_metadata") or "") > 3000:
        problems.append("must be less than 3001 characters [json-pointer:/view/private_metadata]")
    if len(view.get("callback_id") or "") > 255:
        problems.append("must be less than 256 characters [json-pointer:/view/callback_id]")
    return problems


class SlackStandIn(SimServer):
    name = "slack"

    def __init__(self, bot_token: str = "xoxb-test", team_id: str = "T0SANDBOX", bot_user_id: str = "UBOT",
                 host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self.bot_token = bot_token
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._ts = time.time()
        self._calls: list[dict[str, Any]] = []
        self._messages: dict[tuple[str, str], dict[str, Any]] = {}
        self._ephemerals: list[dict[str, Any]] = []
        self._responses: list[dict[str, Any]] = []
        self._views: dict[str, dict[str, Any]] = {}
        self._view_order: list[str] = []
        self._homes: dict[str, dict[str, Any]] = {}
        self._files: dict[str, dict[str, Any]] = {}
        self._pending_uploads: dict[str, dict[str, Any]] = {}
        self._uploads: list[dict[str, Any]] = []
        self._triggers: dict[str, str] = {}
        self._response_urls: dict[str, dict[str, Any]] = {}
        self._rate_limits: dict[str, tuple[int, float, deque[float]]] = {}
        self.members: dict[str, set[str]] = {}  # channel -> members; absent means everyone
        self.timeline: list[dict[str, Any]] = []
        self.route("POST", "/api/{method}")(self._dispatch)
        self.route("GET", "/api/{method}")(self._dispatch)
        self.route("GET", "/files-pri/{team_file}/download/{name}")(self._download)
        self.route("POST", "/upload/{upload_id}")(self._receive_upload)
        self.route("POST", "/response/{rid}")(self._response_url)
        self._methods: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.delete": self._delete,
            "chat.getPermalink": self._permalink,
            "conversations.open": self._conv_open,
            "conversations.info": self._conv_info,
            "conversations.members": self._conv_members,
            "users.info": self._users_info,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "views.push": self._views_push,
            "views.publish": self._views_publish,
            "files.info": self._files_info,
            "files.getUploadURLExternal": self._get_upload_url,
            "files.completeUploadExternal": self._complete_upload,
            "reactions.add": lambda p: {},
        }

    # -- helpers for tests and the console ------------------------------------
    def _next_ts(self) -> str:
        with self._lock:
            self._ts = max(self._ts + 0.000100, time.time())
            return f"{self._ts:.6f}"

    def _id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"

    def issue_trigger_id(self, user: str = "") -> str:
        trigger = f"{next(self._ids)}.{secrets.token_hex(6)}"
        with self._lock:
            self._triggers[trigger] = user
        return trigger

    def new_response_url(self, user: str = "", channel: str = "") -> str:
        rid = secrets.token_hex(8)
        with self._lock:
            self._response_urls[rid] = {"user": user, "channel": channel}
        return f"{self.url}/response/{rid}"

    def add_file(self, name: str, content: bytes, filetype: str = "csv", mimetype: str = "text/csv",
                 user: str = "U1") -> dict[str, Any]:
        file_id = self._id("F")
        base = f"{self.url}/files-pri/{self.team_id}-{file_id}"
        file = {"id": file_id, "name": name, "title": name, "size": len(content), "mimetype": mimetype,
                "filetype": filetype, "user": user, "url_private": f"{base}/download/{name}",
                "url_private_download": f"{base}/download/{name}", "created": int(time.time())}
        with self._lock:
            self._files[file_id] = {**file, "_content": content}
        return file

    def rate_limit(self, method: str, burst: int, retry_after: float = 1.0, window: float = 60.0) -> None:
        """After ``burst`` calls of ``method`` inside ``window`` seconds, answer 429."""
        with self._lock:
            self._rate_limits[method] = (burst, retry_after, deque(), window)  # type: ignore[assignment]

    def api_calls(self, method: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(c) for c in self._calls if method is None or c["method"] == method]

    def messages(self, channel: str | None = None, thread_ts: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            out = [dict(m) for m in self._messages.values()
                   if (channel is None or m["channel"] == channel)
                   and (thread_ts is None or m.get("thread_ts") == thread_ts)]
        return sorted(out, key=lambda m: float(m["ts"]))

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        with self._lock:
            m = self._messages.get((channel, ts))
            return dict(m) if m else None

    def ephemerals(self, user: str | None = None, channel: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e) for e in self._ephemerals if (user is None or e["user"] == user)
                    and (channel is None or e["channel"] == channel)]

    def responses(self, user: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._responses if user is None or r.get("user") == user]

    def views(self, user: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(self._views[v]) for v in self._view_order if user is None or self._views[v]["user"] == user]

    def view(self, view_id: str) -> dict[str, Any] | None:
        with self._lock:
            v = self._views.get(view_id)
            return dict(v) if v else None

    def home(self, user: str) -> dict[str, Any] | None:
        with self._lock:
            return self._homes.get(user)

    def uploads(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(u) for u in self._uploads]

    def dms(self, user: str) -> list[dict[str, Any]]:
        return self.messages(channel=f"D{user}")

    def timeline_since(self, index: int) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e) for e in self.timeline[index:]]

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 10, interval: float = 0.05) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() > deadline:
                seen = "\n".join(f"  {e['kind']} {e.get('channel', '')} {str(e.get('text', ''))[:120]!r}"
                                 for e in self.timeline_since(0)[-20:])
                raise AssertionError(f"condition not met within {timeout}s; the bot posted:\n{seen}")
            time.sleep(interval)

    def _record(self, kind: str, **fields: Any) -> None:
        with self._lock:
            self.timeline.append({"kind": kind, "time": time.time(), **fields})

    # -- HTTP plumbing ------------------------------------------------------------
    def _params(self, request: Request) -> dict[str, Any]:
        ctype = request.headers.get("content-type", "")
        if "json" in ctype:
            params = request.json() or {}
        else:
            params = dict(request.form()) if request.body else {}
            params.update(request.query)
        for key in ("blocks", "attachments", "metadata", "view", "files"):
            if isinstance(params.get(key), str):
                try:
                    params[key] = json.loads(params[key])
                except ValueError:
                    raise SlackError("invalid_arguments") from None
        return params

    def _token(self, request: Request, params: dict[str, Any]) -> str | None:
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        return params.pop("token", None)

    def _dispatch(self, request: Request) -> Response:
        method = request.params["method"]
        try:
            params = self._params(request)
        except SlackError as exc:
            return json_response({"ok": False, "error": exc.error})
        token = self._token(request, params)
        with self._lock:
            self._calls.append({"method": method, "params": params, "time": time.time()})
        if method not in self._methods:
            return json_response({"ok": False, "error": "unknown_method"})
        if not token:
            return json_response({"ok": False, "error": "not_authed"})
        if token != self.bot_token:
            return json_response({"ok": False, "error": "invalid_auth"})
        limited = self._rate_limited(method)
        if limited is not None:
            # Slack's Retry-After is whole seconds.
            return json_response({"ok": False, "error": "ratelimited"}, 429,
                                 {"Retry-After": str(max(1, math.ceil(limited)))})
        try:
            result = self._methods[method](params)
        except SlackError as exc:
            body: dict[str, Any] = {"ok": False, "error": exc.error}
            if exc.detail:
                body["errors"] = exc.detail
                body["response_metadata"] = {"messages": [f"[ERROR] {d}" for d in exc.detail]}
            return json_response(body)
        return json_response({"ok": True, **result})

    def _rate_limited(self, method: str) -> float | None:
        with self._lock:
            rule = self._rate_limits.get(method)
            if not rule:
                return None
            burst, retry_after, stamps, window = rule  # type: ignore[misc]
            now = time.monotonic()
            while stamps and now - stamps[0] > window:
                stamps.popleft()
            if len(stamps) >= burst:
                return retry_after
            stamps.append(now)
            return None

    # -- methods ------------------------------------------------------------------
    def _auth_test(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"url": f"{self.url}/", "team": "Sandbox", "user": "pluto-bot", "team_id": self.team_id,
                "user_id": self.bot_user_id, "bot_id": "BSANDBOX"}

    def _check_message(self, p: dict[str, Any], need_text: bool = True) -> None:
        if not p.get("channel"):
            raise SlackError("channel_not_found")
        if need_text and not p.get("text") and not p.get("blocks") and not p.get("attachments"):
            raise SlackError("no_text")
        if len(p.get("text") or "") > 40000:
            raise SlackError("msg_too_long")
        problems = validate_blocks(p.get("blocks"))
        if problems:
            raise SlackError("invalid_blocks", problems)
        metadata = p.get("metadata")
        if metadata is not None and (not isinstance(metadata, dict) or not metadata.get("event_type")
                                     or not isinstance(metadata.get("event_payload"), dict)):
            raise SlackError("invalid_metadata")

    def _post_message(self, p: dict[str, Any]) -> dict[str, Any]:
        self._check_message(p)
        ts = self._next_ts()
        message = {"channel": p["channel"], "ts": ts, "thread_ts": p.get("thread_ts"), "text": p.get("text", ""),
                   "blocks": p.get("blocks") or [], "metadata": p.get("metadata"), "user": self.bot_user_id,
                   "files": [], "updates": 0, "history": []}
        with self._lock:
            self._messages[(p["channel"], ts)] = message
        self._record("message", channel=p["channel"], ts=ts, thread_ts=p.get("thread_ts"), text=message["text"],
                     blocks=message["blocks"], metadata=message["metadata"])
        return {"channel": p["channel"], "ts": ts, "message": {"text": message["text"], "ts": ts,
                                                               "blocks": message["blocks"]}}

    def _update(self, p: dict[str, Any]) -> dict[str, Any]:
        self._check_message(p, need_text=False)
        key = (p["channel"], p.get("ts", ""))
        with self._lock:
            message = self._messages.get(key)
            if message is None:
                raise SlackError("message_not_found")
            message["history"].append({"text": message["text"], "blocks": message["blocks"]})
            if "text" in p:
                message["text"] = p["text"]
            if "blocks" in p:
                message["blocks"] = p["blocks"] or []
            if "metadata" in p:
                message["metadata"] = p["metadata"]
            message["updates"] += 1
        self._record("update", channel=p["channel"], ts=p["ts"], thread_ts=message.get("thread_ts"),
                     text=message["text"], blocks=message["blocks"])
        return {"channel": p["channel"], "ts": p["ts"], "text": message["text"]}

    def _post_ephemeral(self, p: dict[str, Any]) -> dict[str, Any]:
        self._check_message(p)
        if not p.get("user"):
            raise SlackError("user_not_found")
        ts = self._next_ts()
        entry = {"channel": p["channel"], "user": p["user"], "ts": ts, "thread_ts": p.get("thread_ts"),
                 "text": p.get("text", ""), "blocks": p.get("blocks") or []}
        with self._lock:
            self._ephemerals.append(entry)
        self._record("ephemeral", **entry)
        return {"message_ts": ts}

    def _delete(self, p: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            if self._messages.pop((p.get("channel", ""), p.get("ts", "")), None) is None:
                raise SlackError("message_not_found")
        return {"channel": p["channel"], "ts": p["ts"]}

    def _permalink(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"channel": p.get("channel"), "permalink": f"{self.url}/archives/{p.get('channel')}/p{p.get('message_ts')}"}

    def _conv_open(self, p: dict[str, Any]) -> dict[str, Any]:
        users = p.get("users") or ""
        if not users:
            raise SlackError("users_list_not_supplied")
        return {"channel": {"id": f"D{users.split(',')[0]}"}}

    def _conv_info(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = p.get("channel") or ""
        if not channel:
            raise SlackError("channel_not_found")
        return {"channel": {"id": channel, "name": channel.lower(), "is_private": channel.startswith("G"),
                            "is_im": channel.startswith("D")}}

    def _conv_members(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = p.get("channel") or ""
        with self._lock:
            members = sorted(self.members.get(channel, {"U_ALICE", "U_BOB", "U_SANDBOX", self.bot_user_id}))
        return {"members": members, "response_metadata": {"next_cursor": ""}}

    def _users_info(self, p: dict[str, Any]) -> dict[str, Any]:
        user = p.get("user") or ""
        if not user:
            raise SlackError("user_not_found")
        name = user.removeprefix("U_").title()
        return {"user": {"id": user, "name": name.lower(), "real_name": name, "tz": "UTC",
                         "profile": {"real_name": name, "display_name": name}}}

    def _store_view(self, view: dict[str, Any], user: str, view_id: str | None = None,
                    kind: str = "view_open") -> dict[str, Any]:
        problems = validate_view(view)
        if problems:
            raise SlackError("invalid_arguments", problems)
        view_id = view_id or self._id("V")
        stored = {**view, "id": view_id, "hash": secrets.token_hex(6), "user": user, "team_id": self.team_id,
                  "state": {"values": {}}}
        with self._lock:
            self._views[view_id] = stored
            if view_id in self._view_order:
                self._view_order.remove(view_id)
            self._view_order.append(view_id)
        self._record(kind, user=user, view_id=view_id, blocks=view.get("blocks") or [],
                     text=(view.get("title") or {}).get("text", ""))
        return {"view": {k: v for k, v in stored.items() if k != "user"}}

    def _use_trigger(self, p: dict[str, Any]) -> str:
        trigger = p.get("trigger_id") or ""
        with self._lock:
            if trigger not in self._triggers:
                raise SlackError("invalid_trigger_id")
            return self._triggers.pop(trigger)

    def _views_open(self, p: dict[str, Any]) -> dict[str, Any]:
        return self._store_view(p.get("view") or {}, self._use_trigger(p))

    def _views_push(self, p: dict[str, Any]) -> dict[str, Any]:
        return self._store_view(p.get("view") or {}, self._use_trigger(p), kind="view_push")

    def _views_update(self, p: dict[str, Any]) -> dict[str, Any]:
        view_id = p.get("view_id")
        with self._lock:
            if not view_id and p.get("external_id"):
                view_id = next((v for v, s in self._views.items() if s.get("external_id") == p["external_id"]), None)
            current = self._views.get(view_id or "")
            if current is None:
                raise SlackError("not_found")
            if p.get("hash") and p["hash"] != current["hash"]:
                raise SlackError("hash_conflict")
        return self._store_view(p.get("view") or {}, current["user"], view_id, kind="view_update")

    def _views_publish(self, p: dict[str, Any]) -> dict[str, Any]:
        view = p.get("view") or {}
        problems = validate_view(view)
        if problems:
            raise SlackError("invalid_arguments", problems)
        with self._lock:
            self._homes[p.get("user_id", "")] = view
        self._record("home", user=p.get("user_id", ""), blocks=view.get("blocks") or [])
        return {"view": {**view, "id": self._id("V")}}

    def _files_info(self, p: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            file = self._files.get(p.get("file", ""))
        if file is None:
            raise SlackError("file_not_found")
        return {"file": {k: v for k, v in file.items() if not k.startswith("_")}}

    def _get_upload_url(self, p: dict[str, Any]) -> dict[str, Any]:
        if not p.get("filename") or not str(p.get("length", "")).isdigit():
            raise SlackError("invalid_arguments")
        file_id = self._id("F")
        with self._lock:
            self._pending_uploads[file_id] = {"filename": p["filename"], "length": int(p["length"]), "content": None}
        return {"upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}

    def _receive_upload(self, request: Request) -> Response:
        upload_id = request.params["upload_id"]
        with self._lock:
            pending = self._pending_uploads.get(upload_id)
            if pending is None:
                return text_response("not found", 404)
            content = request.body
            if "multipart" in request.headers.get("content-type", ""):
                parts = request.multipart()
                content = next(iter(parts.values())).content if parts else b""
            pending["content"] = content
        return text_response(f"OK - {len(content)}")

    def _complete_upload(self, p: dict[str, Any]) -> dict[str, Any]:
        files = p.get("files") or []
        done = []
        for entry in files:
            with self._lock:
                pending = self._pending_uploads.pop(entry.get("id", ""), None)
            if pending is None or pending["content"] is None:
                raise SlackError("file_not_found")
            upload = {"id": entry["id"], "title": entry.get("title") or pending["filename"],
                      "filename": pending["filename"], "content": pending["content"],
                      "channel": p.get("channel_id"), "thread_ts": p.get("thread_ts"),
                      "initial_comment": p.get("initial_comment")}
            with self._lock:
                self._uploads.append(upload)
                self._files[entry["id"]] = {"id": entry["id"], "name": pending["filename"], "title": upload["title"],
                                            "size": len(pending["content"]), "_content": pending["content"]}
            self._record("upload", channel=p.get("channel_id"), thread_ts=p.get("thread_ts"),
                         filename=pending["filename"], title=upload["title"], content=pending["content"],
                         text=p.get("initial_comment") or "")
            done.append({"id": entry["id"], "title": upload["title"], "name": pending["filename"]})
        return {"files": done}

    # -- downloads and response_url -------------------------------------------------
    def _download(self, request: Request) -> Response:
        file_id = request.params["team_file"].split("-", 1)[-1]
        auth = request.headers.get("authorization", "")
        with self._lock:
            file = self._files.get(file_id)
        if auth != f"Bearer {self.bot_token}":
            return Response(200, LOGIN_PAGE.encode(), {"Content-Type": "text/html; charset=utf-8"})
        if file is None:
            return text_response("File not found", 404)
        return Response(200, file["_content"], {"Content-Type": file.get("mimetype", "application/octet-stream")})

    def _response_url(self, request: Request) -> Response:
        with self._lock:
            origin = self._response_urls.get(request.params["rid"])
        if origin is None:
            return text_response("invalid_token", 404)
        try:
            body = request.json() or {}
        except ValueError:
            return text_response("invalid_payload", 400)
        problems = validate_blocks(body.get("blocks"))
        if problems:
            return text_response("invalid_blocks", 400)
        entry = {**origin, "text": body.get("text", ""), "blocks": body.get("blocks") or [],
                 "response_type": body.get("response_type", "ephemeral"),
                 "replace_original": body.get("replace_original"), "delete_original": body.get("delete_original")}
        with self._lock:
            self._responses.append(entry)
        if entry["response_type"] == "in_channel":
            self._post_message({"channel": origin["channel"] or "C_UNKNOWN", "text": entry["text"] or " ",
                                "blocks": entry["blocks"]})
        else:
            self._record("response", **entry)
        return text_response("ok")

