"""A stateful Nimrobo v1 API simulator (``../shared/specs/nimrobo-v1-api.md``) over real HTTP.

Same paths under ``/api/v1/...``, the same validation and ``{"error": ...}`` messages,
Bearer keys with scopes (a missing scope answers 403), expiry presets, links that turn
``used`` and carry a ``sessionId`` when a participant starts, sessions moving
pending → active → completed/failed, evaluations that appear some seconds after
completion (only with an evaluator), and summaries that answer 202 first, then 200.

Control surface (Python methods, and over HTTP under ``/_control/nimrobo/``):
``start_session``, ``complete_session``, ``evaluate_session``, ``fail_session``, ``expire_link``, ``add_key``,
``all_links``, ``reset``; plus the base server's latency, faults (500s, 429s with
Retry-After, dropped connections, lost responses) and call counts under ``/_control/``.

Timings are constructor arguments so tests run fast: ``evaluation_delay``,
``summary_delay``, ``pending_seconds``. ``max_body_bytes`` (default: no limit) makes
larger bodies answer 413, like a server with a body-size limit.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.httpserver import Request, Response, SimServer, json_response

ALL_SCOPES = ("user:read", "projects:read", "projects:write", "voice_links:read", "voice_links:write",
              "sessions:read", "sessions:write")
EXPIRY = {"1_day": timedelta(days=1), "1_week": timedelta(weeks=1), "1_month": timedelta(days=30)}


def _iso(when: datetime | None = None) -> str:
    return (when or datetime.now(UTC)).isoformat().replace("+00:00", "Z")


def _clamp_minutes(value: Any) -> int:
    try:
        minutes = int(float(value))
    except (TypeError, ValueError):
        return 5
    return max(1, min(60, minutes))


EVALUATION_SHAPES = ("by_id", "objects", "list", "list_ids", "answers", "results")


def evaluation_shaped(answers: dict[str, Any], questions: list[dict[str, Any]], shape: str) -> Any:
    """``evaluationResults`` in one of the shapes seen from Nimrobo, from answers by question id:
    ``by_id`` {id: value}; ``objects`` {id: {label, type, value}}; ``list`` [{question, answer}];
    ``list_ids`` [{id, score}]; ``answers`` {"answers": [{id, label, value}]}; ``results``
    {"results": {id: {label, type, answer}}}."""
    if shape not in EVALUATION_SHAPES:
        raise ValueError(f"evaluation_shape must be one of {', '.join(EVALUATION_SHAPES)}")
    meta = {str(q.get("id")): q for q in questions if isinstance(q, dict)}

    def label(qid: str) -> str:
        return str(meta.get(qid, {}).get("label") or qid)

    def kind(qid: str) -> str:
        return str(meta.get(qid, {}).get("type") or "text")

    if shape == "objects":
        return {k: {"label": label(k), "type": kind(k), "value": v} for k, v in answers.items()}
    if shape == "list":
        return [{"question": label(k), "answer": v} for k, v in answers.items()]
    if shape == "list_ids":
        return [{"id": k, "score": v} for k, v in answers.items()]
    if shape == "answers":
        return {"answers": [{"id": k, "label": label(k), "value": v} for k, v in answers.items()]}
    if shape == "results":
        return {"results": {k: {"label": label(k), "type": kind(k), "answer": v} for k, v in answers.items()}}
    return dict(answers)


def _valid_evaluator(evaluator: Any) -> str | None:
    """None when valid (or absent); else the API's error message."""
    if evaluator is None:
        return None
    if not isinstance(evaluator, dict) or not isinstance(evaluator.get("prompt"), str) \
            or not isinstance(evaluator.get("questions"), list):
        return "Invalid evaluator format"
    for q in evaluator["questions"]:
        if not isinstance(q, dict) or not isinstance(q.get("id"), str) or not isinstance(q.get("label"), str) \
                or q.get("type") not in ("text", "number"):
            return "Invalid evaluator question format"
    return None


class NimroboError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class NimroboSimulator(SimServer):
    name = "nimrobo"

    def __init__(self, keys: dict[str, tuple[str, ...] | list[str]] | None = None, *,
                 evaluation_delay: float = 2.0, summary_delay: float = 1.0, pending_seconds: float = 0.0,
                 public_url: str | None = None, max_body_bytes: int | None = None, varied_answers: bool = False,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        #: number answers differ by participant (the sandbox: sorting by evaluation shows something);
        #: off by default, where tests expect 7 for every number question
        self.varied_answers = varied_answers
        self._initial = {"keys": {k: set(v) for k, v in (keys or {}).items()}, "evaluation_delay": evaluation_delay,
                         "summary_delay": summary_delay, "pending_seconds": pending_seconds,
                         "max_body_bytes": max_body_bytes}
        self.public_url = public_url
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self.user = {"id": "user_sim_1", "email": "recruiter@example.com", "name": "Sim Recruiter",
                     "profileCompleted": True, "createdAt": _iso(), "lastLoginAt": _iso()}
        self.reset()
        self._routes_v1()
        self.add_control_routes()

    def reset(self) -> None:
        """Forget all projects, links and sessions; restore the constructor's keys, timings, faults and counts."""
        with self._lock:
            self.keys: dict[str, set[str]] = {k: set(v) for k, v in self._initial["keys"].items()}
            self.key_log: list[tuple[str, str, str]] = []  # (method, path, key) of every authenticated call
            self.evaluation_delay: float = self._initial["evaluation_delay"]
            self.summary_delay: float = self._initial["summary_delay"]
            self.pending_seconds: float = self._initial["pending_seconds"]  # "pending" this long, then "active"
            self.max_body_bytes: int | None = self._initial["max_body_bytes"]
            self.projects: dict[str, dict[str, Any]] = {}
            self.links: dict[str, dict[str, Any]] = {}  # both kinds; "_kind" = project | instant
            self.sessions: dict[str, dict[str, Any]] = {}
            self.faults.reset()
            self.reset_calls()

    # -- plumbing ---------------------------------------------------------------
    def _id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids):05d}{secrets.token_hex(3)}"

    def fault_500(self, request: Request) -> Response:
        return json_response({"error": "Internal server error"}, 500)

    def fault_429(self, request: Request) -> Response:
        return json_response({"error": "Too many requests"}, 429, {"Retry-After": f"{self.faults.retry_after:g}"})

    def _app_url(self) -> str:
        return self.public_url or "http://localhost:3000"

    def _auth(self, request: Request, scope: str) -> None:
        header = request.headers.get("authorization", "")
        key = header[7:].strip() if header.lower().startswith("bearer ") else ""
        if not key:
            raise NimroboError(401, "Missing or invalid Authorization header")
        scopes = self.keys.get(key)
        with self._lock:
            self.key_log.append((request.method, request.path, key))
        if scopes is None:
            raise NimroboError(401, "Invalid API token")
        if scope not in scopes:
            raise NimroboError(403, f"Insufficient scope: requires {scope}")

    def _endpoint(self, method: str, path: str, scope: str) -> Any:
        def decorate(fn: Any) -> Any:
            def handler(request: Request) -> Response:
                if self.max_body_bytes is not None and len(request.body) > self.max_body_bytes:
                    return json_response({"error": "Request body too large"}, 413)
                try:
                    self._auth(request, scope)
                    with self._lock:
                        result = fn(request)
                except NimroboError as exc:
                    return json_response({"error": exc.message}, exc.status)
                if isinstance(result, Response):
                    return result
                return json_response(result)

            self.add_route(method, path, handler)
            return fn

        return decorate

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        try:
            body = request.json()
        except ValueError:
            raise NimroboError(400, "Invalid JSON body") from None
        return body if isinstance(body, dict) else {}

    def _links_body(self, request: Request) -> dict[str, Any]:
        """A link-create body with its labels and expiry preset checked, as both create endpoints do."""
        body = self._body(request)
        if not isinstance(body.get("labels"), list) or not body["labels"]:
            raise NimroboError(400, "Labels array is required")
        if body.get("expiryPreset") not in EXPIRY:
            raise NimroboError(400, "Invalid expiry preset")
        return body

    def _public_link(self, link: dict[str, Any]) -> dict[str, Any]:
        self._refresh_expiry(link)
        return {k: v for k, v in link.items() if not k.startswith("_")}

    def _refresh_expiry(self, link: dict[str, Any]) -> None:
        if link["status"] == "active" and link["expiresAt"] < _iso():
            link["status"] = "expired"
            link["updatedAt"] = _iso()

    def _make_link(self, label: str, preset: str, kind: str, extra: dict[str, Any]) -> dict[str, Any]:
        now = datetime.now(UTC)
        token = secrets.token_urlsafe(16)
        link = {"id": self._id("lnk"), "token": token, "label": label, "status": "active", "expiryPreset": preset,
                "expiresAt": _iso(now + EXPIRY[preset]), "timeLimitMinutes": 5, "createdAt": _iso(now),
                "updatedAt": _iso(now), "_kind": kind, **extra}
        if kind == "project":
            link["url"] = f"{self._app_url()}/link/{token}"
        self.links[link["id"]] = link
        return link

    # -- the 17 endpoints ----------------------------------------------------------------
    def _routes_v1(self) -> None:
        ep = self._endpoint

        @ep("GET", "/api/v1/user/profile", "user:read")
        def profile(req: Request) -> Any:
            return dict(self.user)

        @ep("GET", "/api/v1/projects", "projects:read")
        def list_projects(req: Request) -> Any:
            return {"success": True, "projects": [dict(p) for p in self.projects.values()]}

        @ep("POST", "/api/v1/projects", "projects:write")
        def create_project(req: Request) -> Any:
            body = self._body(req)
            if not body.get("name") or not body.get("prompt"):
                raise NimroboError(400, "Name and prompt are required")
            problem = _valid_evaluator(body.get("evaluator"))
            if problem:
                raise NimroboError(400, problem)
            now = _iso()
            project = {"id": self._id("proj"), "name": body["name"], "prompt": body["prompt"],
                       "description": body.get("description", ""),
                       "landingPageTitle": body.get("landingPageTitle", ""),
                       "landingPageInfo": body.get("landingPageInfo", ""),
                       "timeLimitMinutes": _clamp_minutes(body.get("timeLimitMinutes", 5)),
                       "createdAt": now, "updatedAt": now}
            if body.get("evaluator"):
                project["evaluator"] = body["evaluator"]
            self.projects[project["id"]] = project
            return {"success": True, "project": dict(project)}

        @ep("GET", "/api/v1/projects/{project_id}", "projects:read")
        def get_project(req: Request) -> Any:
            project = self.projects.get(req.params["project_id"])
            if project is None:
                raise NimroboError(404, "Project not found")
            return {"success": True, "project": dict(project)}

        @ep("PATCH", "/api/v1/projects/{project_id}", "projects:write")
        def update_project(req: Request) -> Any:
            project = self.projects.get(req.params["project_id"])
            if project is None:
                raise NimroboError(404, "Project not found")
            body = self._body(req)
            if not body.get("name") or not body.get("prompt"):
                raise NimroboError(400, "Name and prompt are required")
            if "evaluator" in body:
                problem = _valid_evaluator(body["evaluator"])
                if problem:
                    raise NimroboError(400, problem)
            for key in ("name", "prompt", "description", "landingPageTitle", "landingPageInfo"):
                if key in body:
                    project[key] = body[key]
            if "timeLimitMinutes" in body:
                project["timeLimitMinutes"] = _clamp_minutes(body["timeLimitMinutes"])
            if "evaluator" in body:
                if body["evaluator"] is None:
                    project.pop("evaluator", None)
                else:
                    project["evaluator"] = body["evaluator"]
            project["updatedAt"] = _iso()
            return {"success": True, "project": dict(project)}

        @ep("GET", "/api/v1/projects/{project_id}/links", "projects:read")
        def list_links(req: Request) -> Any:
            pid = req.params["project_id"]
            return {"success": True, "links": [self._public_link(link) for link in self.links.values()
                                               if link["_kind"] == "project" and link.get("projectId") == pid]}

        @ep("POST", "/api/v1/projects/{project_id}/links", "projects:write")
        def create_links(req: Request) -> Any:
            pid = req.params["project_id"]
            body = self._links_body(req)
            labels = body["labels"]
            project = self.projects.get(pid)
            if project is None:
                raise NimroboError(404, "Project not found")
            links = [self._make_link(str(label), body["expiryPreset"], "project",
                                     {"projectId": pid, "timeLimitMinutes": project["timeLimitMinutes"]})
                     for label in labels]
            return {"success": True, "links": [self._public_link(link) for link in links]}

        @ep("POST", "/api/v1/projects/links/{link_id}/cancel", "projects:write")
        def cancel_link(req: Request) -> Any:
            pid = req.query.get("projectId")
            if not pid:
                raise NimroboError(400, "projectId is required")
            link = self.links.get(req.params["link_id"])
            if link is None or link["_kind"] != "project" or link.get("projectId") != pid:
                raise NimroboError(404, "Link not found")
            self._refresh_expiry(link)
            if link["status"] != "active":
                raise NimroboError(400, f"Cannot cancel link with status: {link['status']}")
            link["status"], link["updatedAt"] = "cancelled", _iso()
            return {"success": True, "message": "Link cancelled successfully"}

        @ep("GET", "/api/v1/instant-voice-links", "voice_links:read")
        def list_instant(req: Request) -> Any:
            return {"success": True, "links": [self._public_link(link) for link in self.links.values()
                                               if link["_kind"] == "instant"]}

        @ep("POST", "/api/v1/instant-voice-links", "voice_links:write")
        def create_instant(req: Request) -> Any:
            body = self._links_body(req)
            labels = body["labels"]
            if not isinstance(body.get("prompt"), str) or not body["prompt"].strip():
                raise NimroboError(400, "Prompt is required")
            if any(not isinstance(label, str) or not label.strip() for label in labels):
                raise NimroboError(400, "All labels must be non-empty strings")
            problem = _valid_evaluator(body.get("evaluator"))
            if problem:
                raise NimroboError(400, problem)
            extra = {"prompt": body["prompt"], "landingPageTitle": body.get("landingPageTitle", ""),
                     "landingPageInfo": body.get("landingPageInfo", ""),
                     "timeLimitMinutes": _clamp_minutes(body.get("timeLimitMinutes", 5)),
                     "evaluator": body.get("evaluator")}
            links = [self._make_link(label, body["expiryPreset"], "instant", dict(extra)) for label in labels]
            return {"success": True, "links": [self._public_link(link) for link in links]}

        @ep("PATCH", "/api/v1/instant-voice-links/{link_id}", "voice_links:write")
        def update_instant(req: Request) -> Any:
            link = self.links.get(req.params["link_id"])
            if link is None or link["_kind"] != "instant":
                raise NimroboError(404, "Link not found")
            self._refresh_expiry(link)
            if link["status"] != "active":
                raise NimroboError(400, "Only active links can be edited")
            body = self._body(req)
            checks = {"label": "Label must be a non-empty string", "prompt": "Prompt must be a non-empty string"}
            for key, message in checks.items():
                if key in body and (not isinstance(body[key], str) or not body[key].strip()):
                    raise NimroboError(400, message)
            for key in ("landingPageTitle", "landingPageInfo"):
                if key in body and not isinstance(body[key], str):
                    raise NimroboError(400, f"{key} must be a string")
            if "expiryPreset" in body and body["expiryPreset"] not in EXPIRY:
                raise NimroboError(400, "Invalid expiry preset")
            if "timeLimitMinutes" in body:
                value = body["timeLimitMinutes"]
                if not isinstance(value, int | float) or value <= 0:
                    raise NimroboError(400, "timeLimitMinutes must be a positive number")
                body["timeLimitMinutes"] = _clamp_minutes(value)
            if "evaluator" in body:
                problem = _valid_evaluator(body["evaluator"])
                if problem:
                    raise NimroboError(400, problem)
            for key in ("label", "prompt", "landingPageTitle", "landingPageInfo", "timeLimitMinutes", "evaluator"):
                if key in body:
                    link[key] = body[key]
            if "expiryPreset" in body:
                link["expiryPreset"] = body["expiryPreset"]
                link["expiresAt"] = _iso(datetime.now(UTC) + EXPIRY[body["expiryPreset"]])
            link["updatedAt"] = _iso()
            return {"success": True}

        @ep("GET", "/api/v1/sessions/summary", "sessions:read")
        def summary(req: Request) -> Any:
            session = self._session_for_summary(req.query.get("sessionId"))
            ready_at = session.get("_summary_ready_at")
            if session["status"] == "completed" and ready_at and time.time() >= ready_at:
                return {"success": True, "sessionId": session["id"], "summary": session["_summary"]}
            if session["status"] == "completed" and not ready_at:
                session["_summary_ready_at"] = time.time() + self.summary_delay
            return json_response({"success": False, "sessionId": session["id"], "generating": True,
                                  "workflowId": f"wf_{session['id']}", "runId": secrets.token_hex(6)}, 202)

        @ep("POST", "/api/v1/sessions/summary/regenerate", "sessions:write")
        def regenerate(req: Request) -> Any:
            body = self._body(req)
            session = self._session_for_summary(body.get("sessionId"))
            session["_summary_ready_at"] = time.time() + self.summary_delay
            return json_response({"success": True, "sessionId": session["id"], "workflowId": f"wf_{session['id']}",
                                  "runId": secrets.token_hex(6)}, 202)

        @ep("GET", "/api/v1/session/status", "sessions:read")
        def status(req: Request) -> Any:
            session = self._session_query(req)
            return {"success": True, "sessionId": session["id"], "type": session["type"],
                    "projectId": session.get("projectId"), "status": session["status"], "agentId": "agent_sim",
                    "wsUrl": f"wss://sim.invalid/ws/{session['id']}", "createdAt": session["createdAt"],
                    "updatedAt": session["updatedAt"], "completedAt": session.get("completedAt")}

        @ep("GET", "/api/v1/session/transcript", "sessions:read")
        def transcript(req: Request) -> Any:
            session = self._session_query(req)
            if not session.get("_transcript"):
                raise NimroboError(404, f"conversation.json not found for session {session['id']}")
            return {"success": True, "sessionId": session["id"], "transcript": session["_transcript"]}

        @ep("GET", "/api/v1/session/audio", "sessions:read")
        def audio(req: Request) -> Any:
            session = self._session_query(req)
            if session["status"] != "completed":
                raise NimroboError(404, f"Audio file not found for session {session['id']}")
            expires = int(time.time()) + 3600
            return {"success": True, "sessionId": session["id"],
                    "audioUrl": f"{self._app_url()}/signed/{session['id']}/conversation.wav?expires={expires}"
                                f"&sig={secrets.token_hex(12)}"}

        @ep("GET", "/api/v1/session/evaluation", "sessions:read")
        def evaluation(req: Request) -> Any:
            session = self._session_query(req)
            ready_at = session.get("_evaluation_ready_at")
            done = ready_at is not None and time.time() >= ready_at
            return {"success": True, "sessionId": session["id"], "type": session["type"],
                    "projectId": session.get("projectId"),
                    "evaluationResults": session["_evaluation"] if done else None,
                    "evaluatedAt": _iso(datetime.fromtimestamp(ready_at, UTC)) if done else None,
                    "hasError": False}

    def _session_for_summary(self, session_id: str | None) -> dict[str, Any]:
        if not session_id:
            raise NimroboError(400, "sessionId is required")
        session = self.sessions.get(session_id)
        if session is None:
            raise NimroboError(404, "Session not found")
        return session

    def _session_query(self, req: Request) -> dict[str, Any]:
        session_id, kind, project_id = req.query.get("sessionId"), req.query.get("type"), req.query.get("projectId")
        if not session_id:
            raise NimroboError(400, "sessionId is required")
        if kind not in ("project", "instant"):
            raise NimroboError(400, 'type must be "project" or "instant"')
        if kind == "project" and not project_id:
            raise NimroboError(400, "projectId is required when type=project")
        session = self.sessions.get(session_id)
        if session is not None and session["status"] == "pending" and time.time() >= session["_active_at"]:
            session.update(status="active", updatedAt=_iso())  # the participant's call has connected
        if session is None or session["type"] != kind or (kind == "project" and session.get("projectId") != project_id):
            raise NimroboError(404, "Session not found")
        return session

    # -- control surface ---------------------------------------------------------------------
    def revoke_key(self, key: str) -> None:
        """The key's owner deleted it in Nimrobo: it answers 401 from now on."""
        with self._lock:
            self.keys.pop(key, None)

    def add_key(self, key: str, scopes: tuple[str, ...] | list[str] = ALL_SCOPES) -> None:
        with self._lock:
            self.keys[key] = set(scopes)

    def all_links(self) -> list[dict[str, Any]]:
        with self._lock:
            return [self._public_link(link) | {"kind": link["_kind"]} for link in self.links.values()]

    def expire_link(self, link_id: str) -> None:
        with self._lock:
            link = self.links[link_id]
            link["expiresAt"] = _iso(datetime.now(UTC) - timedelta(seconds=1))
            self._refresh_expiry(link)

    def start_session(self, link_id: str) -> str:
        """A participant opens the link: the link turns ``used`` and carries the new ``sessionId``."""
        with self._lock:
            link = self.links[link_id]
            self._refresh_expiry(link)
            if link["status"] != "active":
                raise ValueError(f"link {link_id} is {link['status']}")
            now = _iso()
            session = {"id": self._id("sess"), "type": link["_kind"], "projectId": link.get("projectId"),
                       "linkId": link_id, "label": link["label"], "status": "pending", "createdAt": now,
                       "_active_at": time.time() + self.pending_seconds,
                       "updatedAt": now}
            self.sessions[session["id"]] = session
            link.update(status="used", sessionId=session["id"], updatedAt=now)
            return session["id"]

    def _evaluator_for(self, session: dict[str, Any]) -> dict[str, Any] | None:
        if session["type"] == "project":
            return (self.projects.get(session.get("projectId") or "") or {}).get("evaluator")
        return self.links[session["linkId"]].get("evaluator")

    def complete_session(self, session_id: str, evaluation: dict[str, Any] | None = None,
                         evaluation_delay: float | None = None, transcript: Any = None,
                         evaluation_shape: str = "by_id", evaluation_results: Any = None) -> None:
        """The interview ends normally: transcript now, summary and evaluation a little later.

        ``evaluation`` overrides answers by question id (default: 7 for a number, a sentence for
        text); ``evaluation_delay`` overrides the simulator's delay for this session only;
        ``transcript`` replaces the default one (a list of ``role``/``text`` turns), to try other shapes.
        ``evaluation_shape`` picks how ``evaluationResults`` is written (the API documents it as "any"; see
        :data:`EVALUATION_SHAPES`); ``evaluation_results`` replaces it verbatim.
        """
        with self._lock:
            session = self.sessions[session_id]
            label = session["label"]
            session.update(status="completed", completedAt=_iso(), updatedAt=_iso())
            session["_transcript"] = transcript if transcript is not None else [
                {"role": "agent", "text": f"Hi {label}, thanks for joining. Could you introduce yourself?"},
                {"role": "user", "text": "Sure. I have six years of experience building data products."},
                {"role": "agent", "text": "What was the hardest project you shipped, and why?"},
                {"role": "user", "text": "A billing migration with zero downtime; we ran both systems in parallel."},
                {"role": "agent", "text": "Thank you, that's all for today."},
            ]
            session["_summary"] = {"overview": f"{label} described six years of data product work, highlighting a "
                                               "zero-downtime billing migration.",
                                   "keyPoints": ["Six years of experience", "Led a billing migration"],
                                   "sentiment": "positive"}
            evaluator = self._evaluator_for(session)
            if evaluator:
                session["_evaluation"] = {q["id"]: (self._number_answer(label, i) if q["type"] == "number"
                                                    else f"Clear answer about {q['label']}")
                                          for i, q in enumerate(evaluator.get("questions", []))}
                session["_evaluation"].update(evaluation or {})
                session["_evaluation"] = evaluation_shaped(session["_evaluation"], evaluator.get("questions") or [],
                                                           evaluation_shape)
            if evaluation_results is not None:
                session["_evaluation"] = evaluation_results
            if evaluator or evaluation_results is not None:
                delay = self.evaluation_delay if evaluation_delay is None else evaluation_delay
                session["_evaluation_ready_at"] = time.time() + delay

    def _number_answer(self, label: str, index: int) -> int:
        """7, or with ``varied_answers`` 3 to 9, fixed for a participant and question (the same every run)."""
        if not self.varied_answers:
            return 7
        seed = sum(ord(c) for c in label) * 3 + index * 5
        return 3 + seed % 7

    def evaluate_session(self, session_id: str) -> None:
        """The evaluation of a completed session is written now (for a late evaluation that arrives)."""
        with self._lock:
            session = self.sessions[session_id]
            if "_evaluation" not in session:
                raise ValueError(f"session {session_id} has no evaluation to write")
            session["_evaluation_ready_at"] = time.time()

    def fail_session(self, session_id: str) -> None:
        with self._lock:
            self.sessions[session_id].update(status="failed", updatedAt=_iso())

    def add_control_routes(self) -> None:
        """Expose the control methods over HTTP for another process (e.g. a console)."""

        def call(fn: Any) -> Any:
            def handler(req: Request) -> Response:
                try:
                    return json_response({"ok": True, "result": fn(**(req.json() or {}))})
                except (KeyError, ValueError, TypeError) as exc:
                    return json_response({"ok": False, "error": str(exc)}, 400)
            return handler

        self.add_route("POST", "/_control/nimrobo/start_session", call(self.start_session))
        self.add_route("POST", "/_control/nimrobo/complete_session", call(self.complete_session))
        self.add_route("POST", "/_control/nimrobo/fail_session", call(self.fail_session))
        self.add_route("POST", "/_control/nimrobo/evaluate_session", call(self.evaluate_session))
        self.add_route("POST", "/_control/nimrobo/expire_link", call(self.expire_link))
        self.add_route("POST", "/_control/nimrobo/add_key", call(self.add_key))
        self.add_route("POST", "/_control/nimrobo/reset", call(self.reset))
        self.add_route("GET", "/_control/nimrobo/links", lambda req: json_response(self.all_links()))
