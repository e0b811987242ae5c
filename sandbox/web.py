"""The sandbox in the browser: a small Slack on 127.0.0.1, over the same stand-ins and bot as the console.

``python3 dev.py run`` serves it next to the terminal console (the address is printed at start and
opened where a browser exists). The page (``sandbox/webui/``: plain HTML, CSS and JavaScript, no
build step) shows the channels and DMs, messages with threads, Block Kit as Slack lays it out,
ephemerals ("Only visible to you"), modals with every input type (``views.update``/``push``, inline
errors), the App Home tab and files (a CSV as a table). Slash commands are typed in the composer,
a CSV dropped onto the composer is scored, the bot can be mentioned in a thread. A sandbox panel
drives the simulators (complete or fail a voice session, fail a Pluto run, move Pluto's clock),
switches the acting user (to see what an outsider sees) and resets; the tour runs beside the
conversation. The page updates live over server-sent events.

With several workspaces (``python3 dev.py run --workspaces 2``) ``/`` shows one column per workspace, each
this page with ``?team=<team id>``: every request of a column names its workspace, whose test bed and
signer serve it; notes and the tour are kept per workspace, and the panel can uninstall and reinstall the app.

Everything the page does goes through the Slack test bed (:class:`~sandbox.slack_api.SlackStandIn`)
and the signer (:mod:`sandbox.signer`): the bot gets exactly what Slack would send it.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import html
import io
import json
import logging
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import emoji
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from sandbox.slack_api import channel_name

log = logging.getLogger(__name__)

UI = Path(__file__).resolve().parent / "webui"
EXAMPLE_CSV = Path(__file__).resolve().parents[1] / "examples" / "candidates.csv"
USER = "U_SANDBOX"  # the console's user: you
CHANNEL = "C_SANDBOX"
TEAMMATE, OUTSIDER = "U_ALICE", "U_OUTSIDER"
PEOPLE = {USER: "You (sandbox)", TEAMMATE: "Alice (teammate)", OUTSIDER: "Olivia (not in #sandbox)"}
CHANNELS = (CHANNEL, "C_HIRING")
COMMANDS = {"/pluto": "score · results · candidate <name> · export · help",
            "/voicelink": "create · list · status <session> · projects · help"}


def prepare(stack: Any) -> None:
    """The sandbox's people and channels on a fresh stack: you and a teammate are in #sandbox, an
    outsider is not (to see what someone outside the channel sees). In every workspace of the test bed,
    each with people of its own (the same ids, as the test bed's workspaces keep their users apart)."""
    for team_id in getattr(stack, "team_ids", None) or [stack.slack.team_id]:
        slack = stack.slack.workspace(team_id)
        for user, name in PEOPLE.items():
            slack.add_user(user, name.split(" (")[0])
        slack.members.setdefault(CHANNEL, {USER, TEAMMATE, slack.bot_user_id})


def _emojize(node: Any) -> Any:
    """Slack's :emoji_names: as emoji in every text of a payload (the page shows them as Slack does)."""
    if isinstance(node, list):
        return [_emojize(item) for item in node]
    if isinstance(node, dict):
        return {k: (emoji.emojize(v, language="alias") if k == "text" and isinstance(v, str) else _emojize(v))
                for k, v in node.items()}
    return node


def _jsonable(node: Any) -> Any:
    if isinstance(node, bytes):
        return None
    if isinstance(node, dict):
        return {k: _jsonable(v) for k, v in node.items() if not isinstance(v, bytes)}
    if isinstance(node, list):
        return [_jsonable(v) for v in node]
    return node


class WebSandbox:
    """The browser sandbox's server. ``stack()`` returns the running Stack (it changes on reset);
    ``restart()`` replaces it with a fresh one (the console's reset, so both stay on one stack)."""

    def __init__(self, stack: Callable[[], Any], restart: Callable[[], Any] | None = None, *,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        self._stack = stack
        self._restart = restart
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self._socket.listen(64)
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._notes: list[dict[str, Any]] = []  # what the page itself shows privately (acks, refusals)
        #: per workspace (team id): tour step -> timeline mark when it became current, and step -> what it noted
        self._tours: dict[str, tuple[dict[int, int], dict[int, str]]] = {}
        self._generation = 0  # bumps on reset
        self._seen_stack: int | None = None  # id() of the stack the page last showed
        #: the state values of the latest modal submissions (newest last), as Slack sends them to the bot
        self.submitted: list[dict[str, Any]] = []
        config = uvicorn.Config(self._asgi(), log_config=None, access_log=False, lifespan="off",
                                timeout_graceful_shutdown=1)
        self._server = _Server(config)
        self._thread: threading.Thread | None = None

    # -- life ---------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return int(self._socket.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> WebSandbox:
        self._seen_stack = id(self._stack())
        self._thread = threading.Thread(target=lambda: asyncio.run(self._server.serve(sockets=[self._socket])),
                                        name="sandbox-web", daemon=True)
        self._thread.start()
        for _ in range(500):
            if self._server.started or not self._thread.is_alive():
                break
            time.sleep(0.01)
        if not self._server.started:
            raise RuntimeError("the sandbox web page did not start")
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._socket.close()

    @property
    def stack(self) -> Any:
        stack = self._stack()
        if id(stack) != self._seen_stack:  # a reset (here or in the console): the page starts over too
            with self._lock:
                if id(stack) != self._seen_stack:
                    self._seen_stack = id(stack)
                    self._notes.clear()
                    self._tours.clear()
                    self._generation += 1
        return stack

    # -- routes -------------------------------------------------------------------------------
    def _asgi(self) -> Starlette:
        def static(name: str, media: str) -> Callable[[Request], Response]:
            return lambda request: FileResponse(UI / name, media_type=media, headers={"Cache-Control": "no-store"})

        index = static("index.html", "text/html")
        routes = [Route("/", lambda request: self._index(request, index)),
                  Route("/app.js", static("app.js", "text/javascript")),
                  Route("/app.css", static("app.css", "text/css")),
                  Route("/favicon.ico", lambda request: Response(status_code=204)),
                  Route("/api/events", self._events),
                  Route("/api/state", self._wrap(self.state)),
                  Route("/api/file/{file_id}", self._file),
                  Route("/api/example.csv", lambda r: FileResponse(EXAMPLE_CSV, media_type="text/csv",
                                                                   filename="candidates.csv"))]
        for name in ("command", "post", "upload", "action", "suggest", "submit", "close", "home", "sim", "reset",
                     "tour", "workspace"):
            routes.append(Route(f"/api/{name}", self._wrap(getattr(self, name)), methods=["POST"]))
        return Starlette(routes=routes)

    def _wrap(self, fn: Callable[[dict[str, Any]], Any]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            body: dict[str, Any] = dict(request.query_params)
            if request.method == "POST":
                try:
                    body.update(await request.json())
                except ValueError:
                    return JSONResponse({"ok": False, "error": "a JSON body is needed"}, 400)
            try:
                result = await asyncio.to_thread(fn, body)  # the signer waits on the bot: off the event loop
            except (LookupError, ValueError) as exc:
                return JSONResponse({"ok": False, "error": str(exc)}, 400)
            except Exception as exc:  # the page says what went wrong; the sandbox stays up
                log.exception("sandbox page: %s failed", fn.__name__)
                return JSONResponse({"ok": False, "error": f"{type(exc).__name__}: {exc}"}, 500)
            return JSONResponse(_jsonable({"ok": True, **(result or {})}))
        return endpoint

    async def _events(self, request: Request) -> Response:
        """Server-sent events: ``change`` whenever anything the page shows may have changed
        (``?team=``: in that workspace, with several)."""
        team = request.query_params.get("team") or None

        async def stream() -> Any:
            last = None
            yield "retry: 1000\n\n"
            beat = 0
            while not self._stopping.is_set():
                if await request.is_disconnected():
                    return
                try:
                    now = self._signature(team)
                except Exception:  # mid-reset
                    now = None
                if now != last:
                    last = now
                    yield f"event: change\ndata: {json.dumps(now)}\n\n"
                beat += 1
                if beat % 50 == 0:
                    yield ": keep-alive\n\n"
                await asyncio.sleep(0.2)
        return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})

    def _signature(self, team: str | None = None) -> list[Any]:
        slack = self._slack({"team": team})
        installed = self._installed(slack)
        with slack._lock:
            messages = len(slack._messages)
            updates = sum(m.get("updates", 0) for m in slack._messages.values())
            views = [(v["id"], v.get("hash"), len(v.get("errors") or {})) for v in slack._views.values()
                     if not v.get("closed")]
        return [self._generation, len(slack.timeline), messages, updates, views, len(self._notes),
                len(self._tour_state(slack.team_id)[1]), installed]

    def _file(self, request: Request) -> Response:
        # Slack's file ids are unique across workspaces: the workspace that has it serves it
        found = next((f for f in (self.stack.slack.workspace(t).file_content(request.path_params["file_id"])
                                  for t in self._team_ids()) if f is not None), None)
        if found is None:
            return Response("no such file", 404)
        file, content = found
        disposition = "attachment" if request.query_params.get("download") else "inline"
        return Response(content, media_type=file.get("mimetype") or "application/octet-stream",
                        headers={"Content-Disposition": f'{disposition}; filename="{file["name"]}"'})

    # -- what the page shows ------------------------------------------------------------------------
    def state(self, q: dict[str, Any]) -> dict[str, Any]:
        user = q.get("user") or USER
        channel = q.get("channel") or CHANNEL
        slack = self._slack(q)
        messages = [self._message(m, slack) for m in slack.messages(channel)]
        private = []
        for kind, entries in (("ephemeral", slack.ephemerals(user, channel)), ("response", slack.responses(user,
                                                                                                        channel))):
            for e in entries:
                if e.get("replaced") or not e.get("ts"):
                    continue
                private.append({"kind": kind, "ts": e["ts"], "thread_ts": e.get("thread_ts"), "text": e.get("text"),
                                "blocks": e.get("blocks") or [], "user": slack.bot_user_id})
        with self._lock:
            private += [dict(n) for n in self._notes if n["user"] == user and n["channel"] == channel
                        and n.get("team") == slack.team_id]
        stack_views = slack.open_views(user)
        modal = None
        if stack_views:
            top = stack_views[-1]
            modal = {k: top.get(k) for k in ("id", "hash", "title", "submit", "close", "blocks", "errors",
                                             "callback_id")}
            modal["depth"] = len(stack_views)
        several = len(self._team_ids()) > 1
        return _emojize({
            "user": user, "channel": channel, "bot": slack.bot_user_id, "seq": len(slack.timeline),
            "people": [{"id": u, "name": n} for u, n in PEOPLE.items()],
            "channels": self._channels(user, slack), "commands": COMMANDS,
            # with several workspaces: which one this is, and whether the bot is installed in it
            "workspace": {"id": slack.team_id, "name": slack.team_name, "installed": self._installed(slack)}
            if several else None,
            "members": sorted(slack.members.get(channel, set())) if channel in slack.members else None,
            "messages": messages, "private": private, "modal": modal,
            "home": {k: (slack.home(user) or {}).get(k) for k in ("id", "blocks")} if slack.home(user) else None,
            "names": {**{u: (slack.users.get(u) or {}).get("real_name", u) for u in slack.users},
                      slack.bot_user_id: "Pluto Bot"},
            "links": self._links(), "tour": self._tour(slack),
        })

    # -- several workspaces (``--workspaces 2``): ``team`` in a request names the one it happens in --------
    def _team_ids(self) -> list[str]:
        return list(getattr(self.stack, "team_ids", None) or [self.stack.slack.team_id])

    def _slack(self, q: dict[str, Any]) -> Any:
        """The Slack test bed of the request's workspace (``team``; the first one when none is named)."""
        team = q.get("team")
        if not team:
            return self.stack.slack
        if team not in self._team_ids():
            raise LookupError(f"no workspace {team}")
        return self.stack.slack.workspace(str(team))

    def _signer(self, q: dict[str, Any]) -> Any:
        """Slack's payloads from the request's workspace."""
        team = q.get("team")
        return self.stack.workspace(str(team))[1] if team and len(self._team_ids()) > 1 else self.stack.signer

    def _installed(self, slack: Any) -> bool | None:
        """Whether the app is installed in ``slack``'s workspace, as Slack knows it (a bot token that works);
        None with one workspace. (Slack's side, read in memory: the page asks often, the bot's database never.)"""
        if len(self._team_ids()) < 2:
            return None
        return bool(slack.tokens("bot"))

    def _index(self, request: Request, single: Callable[[Request], Response]) -> Response:
        """The page; with several workspaces and no ``?team=``, the workspaces side by side (one column each,
        the single-workspace page for that workspace)."""
        teams = self._team_ids()
        if request.query_params.get("team") or len(teams) < 2:
            return single(request)
        return HTMLResponse(side_by_side([(t, self.stack.slack.workspace(t).team_name) for t in teams]),
                            headers={"Cache-Control": "no-store"})

    def workspace(self, q: dict[str, Any]) -> dict[str, Any]:
        """The panel's Uninstall / Install: the workspace removes the app, or installs it again through the
        bot's /slack/install (as the console's ``uninstall beta`` / ``install beta``)."""
        from sandbox.stack import install_line

        slack = self._slack(q)
        if q.get("do") == "uninstall":
            if not self._installed(slack):
                raise ValueError(f"the bot is not installed in {slack.team_name}")
            self.stack.uninstall(slack.team_id)
            workspaces = self.stack.services.workspaces
            slack.wait_for(lambda: not workspaces.is_installed(slack.team_id), timeout=10)
            return {"said": f"{slack.team_name} removed the app: its tokens were revoked and the bot stopped serving "
                            "it; its data is kept for the retention period."}
        if q.get("do") == "install":
            return {"said": install_line(self.stack, slack.team_id, self.stack.install(slack.team_id, USER))}
        raise ValueError(f"unknown workspace action {q.get('do')!r}")

    def _channels(self, user: str, slack: Any) -> list[dict[str, Any]]:
        seen = list(CHANNELS)
        for m in slack.messages():
            if m["channel"] not in seen and not m["channel"].startswith("D"):
                seen.append(m["channel"])
        out = [{"id": c, "name": channel_name(c), "kind": "private" if c in slack.private_channels else "channel"}
               for c in seen]
        out.append({"id": slack.dm_channel(user), "name": "Pluto Bot", "kind": "dm"})
        return out

    def _message(self, m: dict[str, Any], slack: Any) -> dict[str, Any]:
        files = []
        for f in m.get("files") or []:
            entry = {k: f.get(k) for k in ("id", "name", "title", "mimetype", "filetype", "size", "alt_txt")}
            if (f.get("filetype") or "").lower() == "csv":
                entry["table"] = self._csv_table(f["id"], slack)
            files.append(entry)
        return {"ts": m["ts"], "thread_ts": m.get("thread_ts"), "text": m.get("text"), "blocks": m.get("blocks") or [],
                "user": m.get("user"), "bot": bool(m.get("bot_id")), "files": files, "edited": bool(m.get("updates")),
                "reactions": m.get("reactions") or []}

    def _csv_table(self, file_id: str, slack: Any, limit: int = 50) -> dict[str, Any] | None:
        found = slack.file_content(file_id)
        if found is None:
            return None
        rows = list(csv.reader(io.StringIO(found[1].decode("utf-8", "replace"))))
        return {"rows": rows[: limit + 1], "total": max(0, len(rows) - 1)}

    def _links(self) -> list[dict[str, Any]]:
        nimrobo = self.stack.nimrobo
        if nimrobo is None:
            return []
        return [{"id": link["id"], "label": link.get("label"), "status": link.get("status"),
                 "session": link.get("sessionId")} for link in nimrobo.all_links()]

    # -- what the person does ------------------------------------------------------------------------
    def _note(self, user: str, channel: str, text: str, thread_ts: str | None = None,
              blocks: list[Any] | None = None, by: str = "slackbot", team: str | None = None) -> None:
        """Something only ``user`` sees (in workspace ``team``): the bot's answer in its ack (``by="bot"``),
        or Slack's own word."""
        with self._lock:
            self._notes.append({"kind": "note", "by": by, "user": user, "channel": channel, "thread_ts": thread_ts,
                                "ts": f"{time.time():.6f}", "text": text, "blocks": blocks or [],
                                "team": team or self.stack.slack.team_id})

    def _ack(self, response: Any, user: str, channel: str, what: str, thread_ts: str | None = None,
             team: str | None = None) -> dict[str, Any]:
        status = getattr(response, "status_code", 200)
        if status != 200:
            self._note(user, channel, f"{what} failed with the error \"dispatch_failed\" (the bot answered {status})",
                       thread_ts, team=team)
            return {"status": status}
        body = getattr(response, "ack", None)
        if isinstance(body, dict) and (body.get("text") or body.get("blocks")):
            self._note(user, channel, body.get("text") or "", thread_ts, body.get("blocks"), by="bot", team=team)
        return {"status": status}

    def command(self, q: dict[str, Any]) -> dict[str, Any]:
        user, channel = q.get("user") or USER, q.get("channel") or CHANNEL
        team = self._slack(q).team_id
        line = str(q.get("text") or "").strip()
        command, _, text = line.partition(" ")
        if command not in COMMANDS:
            self._note(user, channel, f"{command} is not a valid command. Try " + " or ".join(COMMANDS) + ".",
                       team=team)
            return {"status": 404}
        response = self._signer(q).command(command, text.strip(), user=user, channel=channel)
        return self._ack(response, user, channel, command, team=team)

    def post(self, q: dict[str, Any]) -> dict[str, Any]:
        """A message from the person; one that mentions the bot (``@Pluto``) reaches it as app_mention."""
        user, channel = q.get("user") or USER, q.get("channel") or CHANNEL
        thread_ts = q.get("thread_ts") or None
        text = str(q.get("text") or "").strip()
        if text.startswith("/") and not thread_ts:
            return self.command(q)
        return self._say(user, channel, text, thread_ts, q=q)

    def _say(self, user: str, channel: str, text: str, thread_ts: str | None,
             files: list[dict[str, Any]] | None = None, q: dict[str, Any] | None = None) -> dict[str, Any]:
        slack, signer = self._slack(q or {}), self._signer(q or {})
        mention = f"<@{slack.bot_user_id}>"
        for alias in ("@Pluto Bot", "@pluto-bot", "@Pluto", "@pluto"):
            text = text.replace(alias, mention)
        posted = slack.user_post(channel, user, text, thread_ts, files=files)
        if mention in text:
            response = signer.app_mention(text, files=files, channel=channel, user=user, ts=posted["ts"],
                                          thread_ts=thread_ts)
        elif channel.startswith("D"):
            response = signer.message(text, channel=channel, user=user, ts=posted["ts"], thread_ts=thread_ts,
                                      files=files)
        else:
            return {"ts": posted["ts"]}
        self._ack(response, user, channel, "Your message", thread_ts, team=slack.team_id)
        return {"ts": posted["ts"]}

    def upload(self, q: dict[str, Any]) -> dict[str, Any]:
        """A file from the page: dropped on the composer (posted, mentioning the bot: ``score`` by default)
        or picked in a modal's file input (``share=false``: only stored, its Slack file object returned)."""
        user, channel = q.get("user") or USER, q.get("channel") or CHANNEL
        name = Path(str(q.get("filename") or "upload.csv")).name
        if q.get("example"):
            content = EXAMPLE_CSV.read_bytes()
            name = EXAMPLE_CSV.name
        else:
            content = base64.b64decode(str(q.get("content") or ""))
        filetype = name.rsplit(".", 1)[-1].lower() if "." in name else "binary"
        mimetype = {"csv": "text/csv", "txt": "text/plain", "json": "application/json"}.get(
            filetype, "application/octet-stream")
        file = self._slack(q).add_file(name, content, filetype=filetype, mimetype=mimetype, user=user)
        if not q.get("share", True):
            return {"file": file}
        text = str(q.get("text") or "").strip() or "score"
        if "@" not in text and "<@" not in text:
            text = "@Pluto " + text
        return {"file": file, **self._say(user, channel, text, q.get("thread_ts") or None, files=[file], q=q)}

    def _surface(self, user: str, q: dict[str, Any]) -> dict[str, Any]:
        kind, view_id, ts = q.get("kind"), q.get("view_id"), q.get("ts")
        for surface in reversed(self._slack(q).surfaces(user)):
            if view_id and surface["kind"] in ("view", "home") and surface["record"].get("id") == view_id:
                return surface
            if not view_id and surface["kind"] == kind and surface["ts"] == ts:
                return surface
        raise LookupError("that message or view is gone")

    @staticmethod
    def _element(surface: dict[str, Any], block_id: str | None, action_id: str) -> tuple[dict[str, Any],
                                                                                          dict[str, Any]]:
        for block in surface["blocks"]:
            if block_id and block.get("block_id") != block_id:
                continue
            for element in [block.get("accessory"), block.get("element"), *(block.get("elements") or [])]:
                if isinstance(element, dict) and element.get("action_id") == action_id:
                    return block, element
        raise LookupError(f"no element {action_id!r} there any more")

    def action(self, q: dict[str, Any]) -> dict[str, Any]:
        """A click or a choice on a message, a modal or the Home tab: the block_actions Slack sends."""
        user = q.get("user") or USER
        surface = self._surface(user, q)
        block, element = self._element(surface, q.get("block_id"), str(q.get("action_id")))
        kw: dict[str, Any] = {}
        if q.get("selected_option") is not None:
            kw["selected_option"] = q["selected_option"]
        response = self._signer(q).activate(surface, block, element, user=user, values=q.get("values"), **kw)
        channel = surface.get("channel") or q.get("channel") or CHANNEL
        return self._ack(response, user, channel, "That action", (surface["record"] or {}).get("thread_ts"),
                         team=self._slack(q).team_id)

    def suggest(self, q: dict[str, Any]) -> dict[str, Any]:
        """Options of an external select for what is typed (``block_suggestion``)."""
        user = q.get("user") or USER
        surface = self._surface(user, q)
        block, element = self._element(surface, q.get("block_id"), str(q.get("action_id")))
        query = str(q.get("query") or "")
        if len(query) < int(element.get("min_query_length", 3)):
            return {"options": []}
        record = surface["record"]
        common = {"block_id": block.get("block_id"), "user": user}
        signer = self._signer(q)
        if surface["kind"] in ("view", "home"):
            response = signer.block_suggestion(element["action_id"], query, view=record, **common)
        else:
            response = signer.block_suggestion(element["action_id"], query, channel=surface["channel"],
                                               message=record, ephemeral=surface["kind"] != "message",
                                               message_ts=surface["ts"], **common)
        return {"options": _emojize(response.options), "problems": response.problems}

    def submit(self, q: dict[str, Any]) -> dict[str, Any]:
        user = q.get("user") or USER
        view = self._slack(q).view(str(q.get("view_id") or ""))
        if view is None or view.get("closed"):
            raise LookupError("that modal is closed")
        with self._lock:
            self.submitted = [*self.submitted[-9:], q.get("values") or {}]
        response = self._signer(q).view_submission(view, q.get("values") or {}, user=user)
        outcome = getattr(response, "view_outcome", {}) or {}
        return {"status": response.status_code, "outcome": outcome.get("outcome"),
                "problems": outcome.get("problems")}

    def close(self, q: dict[str, Any]) -> dict[str, Any]:
        user = q.get("user") or USER
        view = self._slack(q).view(str(q.get("view_id") or ""))
        if view is not None:
            self._signer(q).close_view(view, user=user)
        return {}

    def home(self, q: dict[str, Any]) -> dict[str, Any]:
        user = q.get("user") or USER
        self._signer(q).event({"type": "app_home_opened", "user": user, "channel": self._slack(q).dm_channel(user),
                               "tab": "home"})
        return {}

    # -- the sandbox panel --------------------------------------------------------------------------
    def sim(self, q: dict[str, Any]) -> dict[str, Any]:
        verb = q.get("do")
        stack = self.stack
        if verb in ("complete", "fail"):
            link = next((x for x in stack.nimrobo.all_links() if x["id"] == q.get("link")), None)
            if link is None:
                raise LookupError("no such voice link")
            session = link.get("sessionId") or stack.nimrobo.start_session(link["id"])
            (stack.nimrobo.complete_session if verb == "complete" else stack.nimrobo.fail_session)(session)
            return {"said": f"{link.get('label')}: interview {verb}{'d' if verb == 'complete' else 'ed'} (the bot's watcher notices on "
                             "its next poll)"}
        if verb == "pluto-fail":
            stack.pluto.fail_run(str(q.get("message") or "Simulated failure"))
            return {"said": "The running Pluto pipeline failed."}
        if verb == "clock":
            hours = float(q.get("hours") or 1)
            stack.pluto.advance_clock(hours * 3600)
            return {"said": f"Pluto's clock moved {hours:g} h on (live interview rooms expire on it)."}
        raise ValueError(f"unknown simulator action {verb!r}")

    def reset(self, q: dict[str, Any]) -> dict[str, Any]:
        if self._restart is None:
            raise ValueError("reset is not available here")
        self._restart()
        prepare(self.stack)  # reading the new stack also clears what the page kept of the old one
        return {"said": "Fresh start: a new database and empty stand-ins."}

    # -- the tour ---------------------------------------------------------------------------------------
    def _tour_state(self, team_id: str) -> tuple[dict[int, int], dict[int, str]]:
        """Workspace ``team_id``'s tour: step -> timeline mark when it became current; step -> what it noted."""
        with self._lock:
            return self._tours.setdefault(team_id, ({}, {}))

    def _tour(self, slack: Any = None) -> list[dict[str, Any]]:
        from sandbox import tour

        slack = slack if slack is not None else self.stack.slack
        tour_marks, tour_done = self._tour_state(slack.team_id)
        guide = _TourView(self.stack, slack)
        steps = [s for s in tour.STEPS if _safe(lambda s=s: s.available(guide), True)]
        out = []
        mark = 0
        for number, step in enumerate(steps):
            done = tour_done.get(number)
            if done is None and number == len(tour_done):
                mark = tour_marks.setdefault(number, mark)
                note = _safe(lambda step=step, mark=mark: step.done(guide, mark), None)
                if note:
                    with self._lock:
                        tour_done[number] = done = str(note)
                        tour_marks[number + 1] = len(slack.timeline)
            out.append({"title": step.title, "explain": step.explain.replace("\n", " "),
                        "hint": WEB_HINTS.get(step.title, ""), "done": done, "after": step.after})
        return out

    def tour(self, q: dict[str, Any]) -> dict[str, Any]:
        return {"tour": self._tour(self._slack(q))}


WEB_HINTS = {
    "Score a CSV of candidates": "Drop a CSV on the message box (or press “Use the example CSV”): the bot scores it. "
                                 "Or type /pluto score: the form checks the file, then asks for the rest.",
    "Start a live interview": "In the shortlist thread, press Start interview on a candidate's card.",
    "Create voice-screen links": "Type /voicelink create in the message box and fill in the form.",
    "An interview is completed": "In the Sandbox panel, press Complete next to a voice link.",
    "Voice-screen the best of the shortlist": "On the shortlist, press Voice-screen top 5 (or pick another "
                                              "number), check the form, then Create links.",
    "A screened interview completes: both signals on one board": "Complete a screened candidate's link in the "
                                                                 "Sandbox panel, then Advance or Reject on the board.",
}


def side_by_side(teams: list[tuple[str, str]]) -> str:
    """The page with several workspaces: one column per workspace, each the whole sandbox page of it."""
    columns = "".join(
        f'<section class="ws-column" data-team="{html.escape(t)}"><iframe title="{html.escape(n)}" '
        f'src="/?team={html.escape(t)}" name="ws-{html.escape(t)}"></iframe></section>' for t, n in teams)
    names = " and ".join(html.escape(n) for _, n in teams)
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Pluto Bot sandbox: "
            f"{names}</title><link rel=\"stylesheet\" href=\"/app.css\"></head>"
            f"<body class=\"side-by-side\"><main class=\"ws-columns\">{columns}</main></body></html>")


class _TourView:
    """What the tour's checks read (``console.slack``, ``console.stack``), without a console."""

    def __init__(self, stack: Any, slack: Any = None) -> None:
        self.stack = stack
        self.slack = slack if slack is not None else stack.slack


def _safe(fn: Callable[[], Any], default: Any) -> Any:
    try:
        return fn()
    except Exception:
        return default


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the main thread (the console) owns the signals
        pass


def open_browser(url: str) -> bool:
    """Open ``url`` where a browser exists (a desktop session); False when there is none."""
    import os
    import webbrowser

    if os.environ.get("CI") or not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
                                    or os.name == "nt" or os.uname().sysname == "Darwin"):
        return False
    try:
        return webbrowser.open(url, new=2)
    except Exception:
        return False
