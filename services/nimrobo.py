"""The Nimrobo voice API client (``../shared/specs/nimrobo-v1-api.md`` plus FIELD-NOTES).

* All 17 endpoints, typed results that keep unknown fields (``.raw``).
* One error type, :class:`NimroboError`, with the status, the API's message, the endpoint
  and a sentence a recruiter can act on (e.g. the scope a key lacks).
* GETs retry with backoff and honour ``Retry-After`` (``services.http.send``). A create
  is never re-sent once it may have reached the server: the client lists and matches
  by label or name first, and creates only what is missing.

Decisions:

* Scope check. The API has no endpoint that lists a key's scopes, so
  :meth:`NimroboClient.missing_scopes` probes each scope with a request that cannot
  change anything (a read, or a create with an empty body, which the API refuses with
  400 when the scope is granted and 403 when it is not). ``python -m bot doctor`` calls
  ``/v1/user/profile`` and then this.
* Batching. All labels go in ONE request: the reference sets no limit on ``labels``.
  Only if a server refuses the body as too large (413, e.g. a Next.js body limit) are the
  parts made smaller (a 413 means nothing was created, so that is safe), and never more
  than :data:`MAX_CREATE_REQUESTS` create requests go out for one batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

import config
from services.http import DEFAULT_TIMEOUT, RetryPolicy, ServiceError, send

ACTIVE = "active"
FINISHED_SESSION = ("completed", "failed")
EXPIRY_PRESETS = ("1_day", "1_week", "1_month")
MAX_CREATE_REQUESTS = 10  # link-create POSTs for one batch of labels, however many labels
SessionType = str  # "project" | "instant"

# The scope each endpoint needs, keyed like "GET /v1/projects".
ENDPOINT_SCOPES = {
    "GET /v1/user/profile": "user:read",
    "GET /v1/projects": "projects:read",
    "POST /v1/projects": "projects:write",
    "GET /v1/projects/{id}": "projects:read",
    "PATCH /v1/projects/{id}": "projects:write",
    "GET /v1/projects/{id}/links": "projects:read",
    "POST /v1/projects/{id}/links": "projects:write",
    "POST /v1/projects/links/{id}/cancel": "projects:write",
    "GET /v1/instant-voice-links": "voice_links:read",
    "POST /v1/instant-voice-links": "voice_links:write",
    "PATCH /v1/instant-voice-links/{id}": "voice_links:write",
    "GET /v1/sessions/summary": "sessions:read",
    "POST /v1/sessions/summary/regenerate": "sessions:write",
    "GET /v1/session/status": "sessions:read",
    "GET /v1/session/transcript": "sessions:read",
    "GET /v1/session/audio": "sessions:read",
    "GET /v1/session/evaluation": "sessions:read",
}
# Bot feature -> the Nimrobo scope it needs (the doctor reports blocked features from this).
REQUIRED_SCOPES: dict[str, str] = {
    "check the key (doctor)": "user:read",
    "list and show projects and their links": "projects:read",
    "create projects, project links, cancel links, edit projects": "projects:write",
    "list instant links": "voice_links:read",
    "create and edit instant links": "voice_links:write",
    "session status, transcript, audio, evaluation, summary (watcher)": "sessions:read",
    "regenerate a session summary": "sessions:write",
}
# A request per scope that changes nothing: reads, or creates with an empty (invalid) body.
SCOPE_PROBES: dict[str, tuple[str, str, Any, Any]] = {
    "user:read": ("GET", "/v1/user/profile", None, None),
    "projects:read": ("GET", "/v1/projects", None, None),
    "projects:write": ("POST", "/v1/projects", {}, None),
    "voice_links:read": ("GET", "/v1/instant-voice-links", None, None),
    "voice_links:write": ("POST", "/v1/instant-voice-links", {}, None),
    "sessions:read": ("GET", "/v1/session/status", None, {}),
    "sessions:write": ("POST", "/v1/sessions/summary/regenerate", {}, None),
}


def features_needing(scope: str) -> list[str]:
    """The bot features a missing ``scope`` blocks."""
    return [feature for feature, needed in REQUIRED_SCOPES.items() if needed == scope]


class NimroboError(ServiceError):
    """Every failure of the Nimrobo client: ``status``, the API's ``message``, ``endpoint``, and a ``hint``."""

    service = "Nimrobo"

    @property
    def user_message(self) -> str:
        where = f" ({self.endpoint})" if self.endpoint else ""
        text = self.message.strip()
        if text and text[-1] not in ".!?":
            text += "."
        return f"{self.service} error{where}: {text} {self.hint}".strip()


# -- typed results ------------------------------------------------------------------------
@dataclass
class UserProfile:
    id: str
    email: str | None = None
    name: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class EvaluatorQuestion:
    id: str
    label: str
    type: str = "text"  # "text" | "number"

    def to_api(self) -> dict[str, str]:
        return {"id": self.id, "label": self.label, "type": self.type}


@dataclass
class Evaluator:
    """What the evaluator asks after each interview. Projects keep it as the API's dict in ``.evaluator``."""

    prompt: str
    questions: list[EvaluatorQuestion] = field(default_factory=list)

    @classmethod
    def from_api(cls, data: dict[str, Any] | None) -> Evaluator | None:
        if not data:
            return None
        return cls(prompt=data.get("prompt", ""), questions=[
            EvaluatorQuestion(id=str(q.get("id", "")), label=str(q.get("label", "")), type=str(q.get("type", "text")))
            for q in data.get("questions") or [] if isinstance(q, dict)])

    def to_api(self) -> dict[str, Any]:
        return {"prompt": self.prompt, "questions": [q.to_api() for q in self.questions]}


EvaluatorLike = Evaluator | dict[str, Any] | None


def _evaluator_body(evaluator: EvaluatorLike) -> dict[str, Any] | None:
    return evaluator.to_api() if isinstance(evaluator, Evaluator) else evaluator


@dataclass
class Project:
    id: str
    name: str
    prompt: str = ""
    description: str = ""
    landing_page_title: str = ""
    landing_page_info: str = ""
    time_limit_minutes: int = 5
    evaluator: dict[str, Any] | None = None
    created_at: str | None = None
    updated_at: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Project:
        return cls(id=data.get("id", ""), name=data.get("name", ""), prompt=data.get("prompt", ""),
                   description=data.get("description", ""), landing_page_title=data.get("landingPageTitle", ""),
                   landing_page_info=data.get("landingPageInfo", ""),
                   time_limit_minutes=int(data.get("timeLimitMinutes") or 5), evaluator=data.get("evaluator"),
                   created_at=data.get("createdAt"), updated_at=data.get("updatedAt"), raw=data)

    @property
    def evaluator_config(self) -> Evaluator | None:
        return Evaluator.from_api(self.evaluator)


@dataclass
class VoiceLink:
    id: str
    label: str
    status: str
    token: str = field(default="", repr=False)  # a bearer secret: never logged
    url: str = field(default="", repr=False)
    expiry_preset: str | None = None
    expires_at: str | None = None
    time_limit_minutes: int | None = None
    session_id: str | None = None
    project_id: str | None = None
    kind: str = "project"
    created_at: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def is_active(self) -> bool:
        """Only ``active`` is active; any other (even unknown) status is not."""
        return self.status == ACTIVE

    @classmethod
    def from_api(cls, data: dict[str, Any], kind: str, api_base: str, project_id: str | None = None) -> VoiceLink:
        token = data.get("token", "")
        url = data.get("url") or (public_link_url(api_base, token) if token else "")
        return cls(id=data.get("id", ""), label=data.get("label", ""), status=str(data.get("status") or "unknown"),
                   token=token, url=url, expiry_preset=data.get("expiryPreset"), expires_at=data.get("expiresAt"),
                   time_limit_minutes=data.get("timeLimitMinutes"), session_id=data.get("sessionId"),
                   project_id=data.get("projectId") or project_id, kind=kind, created_at=data.get("createdAt"),
                   raw=data)


@dataclass
class SessionStatus:
    session_id: str
    type: str
    status: str
    project_id: str | None = None
    created_at: str | None = None
    completed_at: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def is_finished(self) -> bool:
        """``completed`` or ``failed``; an unknown status is treated as not finished."""
        return self.status in FINISHED_SESSION


@dataclass
class Summary:
    session_id: str
    generating: bool
    summary: Any = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class Evaluation:
    session_id: str
    results: Any
    evaluated_at: str | None
    has_error: bool
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    questions: list[dict[str, Any]] = field(default_factory=list)  # the evaluator's, when the caller looked them up

    @property
    def ready(self) -> bool:
        return self.results is not None


def public_link_url(api_base: str, token: str) -> str:
    """The public address of a link: the API origin without ``/api``, plus ``/link/<token>``."""
    parts = urlsplit(api_base)
    path = parts.path.rstrip("/")
    if path.endswith("/api"):
        path = path[: -len("/api")]
    return f"{parts.scheme}://{parts.netloc}{path}/link/{token}"


def _post_in_parts(post: Callable[[list[str]], list[VoiceLink]], labels: list[str],
                   limit: int = MAX_CREATE_REQUESTS) -> list[VoiceLink]:
    """Send all labels at once, in at most ``limit`` create requests.

    Only a 413 (nothing created) makes the parts smaller: the part size halves until one is
    taken, then the rest goes in parts of that size. When ``limit`` requests did not carry
    them all, or a later part fails, the error carries what was created so far
    (``exc.created``), so the caller records it and a retry sends only the missing labels.
    """
    created: list[VoiceLink] = []
    size, sent, start = len(labels), 0, 0
    while start < len(labels):
        if sent >= limit:
            raise _with_created(NimroboError(
                f"Nimrobo took {len(created)} of {len(labels)} labels in {limit} requests.", status=413,
                endpoint="create links",
                hint="Nimrobo refuses requests this large; retry to send the rest, or send fewer labels at once."),
                created)
        sent += 1
        try:
            created += post(labels[start:start + size])
        except NimroboError as exc:
            if exc.status == 413 and size > 1:
                size = (size + 1) // 2
                continue
            raise _with_created(exc, created) from None
        start += size
    return created


def _with_created(exc: NimroboError, created: list[VoiceLink]) -> NimroboError:
    exc.created = list(created)  # type: ignore[attr-defined]
    return exc


def _still_unknown(lookup: Callable[[], Any]) -> Any:
    """Run a reconciling lookup; if it fails too, the create's outcome stays unknown."""
    try:
        return lookup()
    except NimroboError as exc:
        exc.outcome_unknown = True
        exc.hint = ("Nimrobo did not confirm the create and could not be checked; look before trying again. "
                    + exc.hint).strip()
        raise


def _not_found_hint(path: str, params: dict[str, Any], message: str) -> str:
    """A 404 in the recruiter's terms: which project, link or session was not found, or what is not ready."""
    parts = path.strip("/").split("/")  # v1, projects, <id>, ...
    if parts[1:2] == ["projects"] and len(parts) >= 3 and parts[2] != "links":
        return f"Project `{parts[2]}` was not found in this Nimrobo account."
    if parts[1:3] == ["projects", "links"] and len(parts) >= 4:
        return f"Link `{parts[3]}` was not found in project `{params.get('projectId', '?')}`."
    if parts[1:2] == ["instant-voice-links"] and len(parts) >= 3:
        return f"Instant link `{parts[2]}` was not found in this Nimrobo account."
    if parts[1:2] in (["session"], ["sessions"]):
        if "conversation.json not found" in message:
            return "The transcript is not ready yet; it appears when the interview ends."
        if "Audio file not found" in message:
            return "The recording is not ready yet; it appears when the interview ends."
        session = params.get("sessionId", "?")
        kind = params.get("type")
        where = f" in project `{params['projectId']}`" if params.get("projectId") else ""
        return (f"Session `{session}` was not found" + (f" as a {kind} session" if kind else "") + where + ".")
    if parts[1:3] == ["user", "profile"]:
        return "The user behind this key was not found; create a new key and set NIMROBO_API_KEY."
    return "It may have been removed or belong to another Nimrobo account."


def _scope_key(method: str, path: str) -> str:
    segments = path.split("?")[0].strip("/").split("/")
    # /v1/projects/<id>..., /v1/projects/links/<id>/cancel, /v1/instant-voice-links/<id>
    normal = []
    for i, seg in enumerate(segments):
        prev = segments[i - 1] if i else ""
        normal.append("{id}" if prev in ("projects", "links", "instant-voice-links") and seg not in ("links",)
                      else seg)
    return f"{method} /" + "/".join(normal)


class NimroboClient:
    """``NimroboClient(base_url, api_key)``; both default to ``config.API_BASE_URL`` / ``config.API_KEY``."""

    def __init__(self, base_url: str | None = None, api_key: str | None = None, *,
                 transport: httpx.BaseTransport | None = None, timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
                 retry: RetryPolicy | None = None) -> None:
        self.base_url = (base_url or config.API_BASE_URL).rstrip("/")
        key = api_key if api_key is not None else config.API_KEY
        self._key = config.Secret(key or "")
        self.retry = retry or RetryPolicy()
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport)

    def __repr__(self) -> str:
        return f"NimroboClient(base_url={self.base_url!r}, api_key='***')"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> NimroboClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport --------------------------------------------------------------------
    def _request(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None,
                 ok: tuple[int, ...] = (200,)) -> tuple[int, Any]:
        endpoint = f"{method} {path}"
        if not self._key:
            raise NimroboError("no Nimrobo API key is configured.", endpoint=endpoint,
                               hint="Set NIMROBO_API_KEY (your api_… key).")
        headers = {"Authorization": "Bearer " + self._key.reveal()}
        try:
            response = send(self._http, method, path, policy=self.retry, api="nimrobo", json=json, params=params, headers=headers)
        except httpx.TransportError as exc:
            maybe_sent = getattr(exc, "request_maybe_sent", True)
            raise NimroboError("Nimrobo is not answering.", endpoint=endpoint,
                               hint="Try again in a minute.", outcome_unknown=maybe_sent and method != "GET") from exc
        if response.status_code in ok:
            try:
                return response.status_code, response.json()
            except ValueError:
                raise NimroboError("Nimrobo sent an answer that is not JSON.", status=response.status_code,
                                   endpoint=endpoint, hint="Nimrobo is not answering properly; try again in a "
                                   "minute.", outcome_unknown=method != "GET") from None
        context = {**(json if isinstance(json, dict) else {}), **(params or {})}  # ids for the 404 hint
        raise self._error(response, method, path, context)

    def _error(self, response: httpx.Response, method: str, path: str, params: dict[str, Any]) -> NimroboError:
        endpoint = f"{method} {path}"
        try:
            message = response.json().get("error") or response.reason_phrase
        except (ValueError, AttributeError):
            message = response.reason_phrase or f"HTTP {response.status_code}"
        status = response.status_code
        scope = ENDPOINT_SCOPES.get(_scope_key(method, path), "")
        if status == 401:
            hint = "Your Nimrobo API key is invalid or revoked; set NIMROBO_API_KEY to a valid key."
        elif status == 403:
            hint = f"Your Nimrobo key lacks the `{scope}` scope; create a key with it and set NIMROBO_API_KEY." \
                if scope else "Your Nimrobo key is not allowed to do this."
        elif status == 404:
            hint = _not_found_hint(path, params, str(message))
        elif status == 413:
            hint = "The request was too large for Nimrobo; send fewer labels at once."
        elif status == 429:
            hint = "Nimrobo is rate limiting us; try again in a minute."
        elif status >= 500:
            hint = "Nimrobo is not answering properly; try again in a minute."
        elif status == 400 and str(message).startswith("Cannot cancel link with status"):
            hint = "Only active links can be cancelled."
        else:
            hint = ""  # a 400: the API's own message says what to fix
        return NimroboError(message, status=status, endpoint=endpoint, hint=hint,
                            outcome_unknown=status >= 500 and method != "GET")

    # -- user -------------------------------------------------------------------------
    def get_profile(self) -> UserProfile:
        _, data = self._request("GET", "/v1/user/profile")
        return UserProfile(id=data.get("id", ""), email=data.get("email"), name=data.get("name"), raw=data)

    def missing_scopes(self, scopes: Iterable[str] | None = None) -> list[str]:
        """Probe each scope without changing anything; return the ones the key lacks.

        ``scopes`` defaults to every scope in :data:`REQUIRED_SCOPES`. Reads are plain GETs;
        writes are POSTs with an empty body, which the API rejects with 400 when the scope
        is granted and 403 when it is not. 401, 5xx and transport failures raise.
        """
        wanted = list(dict.fromkeys(REQUIRED_SCOPES.values() if scopes is None else scopes))
        missing = []
        for scope in wanted:
            method, path, body, params = SCOPE_PROBES[scope]
            try:
                self._request(method, path, json=body, params=params)
            except NimroboError as exc:
                if exc.status == 403:
                    missing.append(scope)
                elif exc.status in (401, None) or (exc.status or 0) >= 500:
                    raise
        return missing

    # -- projects ----------------------------------------------------------------------
    def list_projects(self) -> list[Project]:
        _, data = self._request("GET", "/v1/projects")
        return [Project.from_api(p) for p in data.get("projects", [])]

    def get_project(self, project_id: str) -> Project:
        _, data = self._request("GET", f"/v1/projects/{project_id}")
        return Project.from_api(data.get("project", {}))

    def find_project(self, name: str) -> Project | None:
        return next((p for p in self.list_projects() if p.name == name), None)

    def create_project(self, name: str, prompt: str, *, description: str = "", landing_page_title: str = "",
                       landing_page_info: str = "", time_limit_minutes: int = 5,
                       evaluator: EvaluatorLike = None) -> Project:
        """Create a project. If the answer is lost, find it by name instead of creating a twin."""
        body: dict[str, Any] = {"name": name, "prompt": prompt, "description": description,
                                "landingPageTitle": landing_page_title, "landingPageInfo": landing_page_info,
                                "timeLimitMinutes": time_limit_minutes}
        if evaluator:
            body["evaluator"] = _evaluator_body(evaluator)
        existing = {p.id for p in self.list_projects()}
        try:
            _, data = self._request("POST", "/v1/projects", json=body)
        except NimroboError as exc:
            if not exc.outcome_unknown:
                raise
            made = _still_unknown(lambda: [p for p in self.list_projects() if p.name == name and p.id not in existing])
            if made:
                return made[0]
            _, data = self._request("POST", "/v1/projects", json=body)
        return Project.from_api(data.get("project", {}))

    def update_project(self, project_id: str, *, name: str, prompt: str, **fields: Any) -> Project:
        """PATCH a project. The API requires ``name`` and ``prompt`` every time."""
        names = {"description": "description", "landing_page_title": "landingPageTitle",
                 "landing_page_info": "landingPageInfo", "time_limit_minutes": "timeLimitMinutes",
                 "evaluator": "evaluator"}
        body = {"name": name, "prompt": prompt}
        for key, value in fields.items():
            body[names[key]] = _evaluator_body(value) if key == "evaluator" else value
        _, data = self._request("PATCH", f"/v1/projects/{project_id}", json=body)
        return Project.from_api(data.get("project", {}))

    # -- project links -------------------------------------------------------------------
    def list_links(self, project_id: str) -> list[VoiceLink]:
        _, data = self._request("GET", f"/v1/projects/{project_id}/links")
        return [VoiceLink.from_api(link, "project", self.base_url, project_id) for link in data.get("links", [])]

    def create_links(self, project_id: str, labels: list[str], expiry_preset: str) -> list[VoiceLink]:
        """One request for all labels. A lost answer is reconciled by listing, never by re-sending blindly."""
        path = f"/v1/projects/{project_id}/links"
        before = {link.id for link in self.list_links(project_id)}

        def post(batch: list[str]) -> list[VoiceLink]:
            _, data = self._request("POST", path, json={"labels": batch, "expiryPreset": expiry_preset})
            return [VoiceLink.from_api(link, "project", self.base_url, project_id) for link in data.get("links", [])]

        return self._create_reconciled(labels, post, lambda: [link for link in self.list_links(project_id)
                                                              if link.id not in before])

    def cancel_link(self, project_id: str, link_id: str) -> str:
        _, data = self._request("POST", f"/v1/projects/links/{link_id}/cancel", params={"projectId": project_id})
        return data.get("message", "Link cancelled successfully")

    # -- instant links ----------------------------------------------------------------------
    def list_instant_links(self) -> list[VoiceLink]:
        _, data = self._request("GET", "/v1/instant-voice-links")
        return [VoiceLink.from_api(link, "instant", self.base_url) for link in data.get("links", [])]

    def create_instant_links(self, labels: list[str], expiry_preset: str, prompt: str, *,
                             landing_page_title: str = "", landing_page_info: str = "",
                             time_limit_minutes: int = 5, evaluator: EvaluatorLike = None) -> list[VoiceLink]:
        """One request for all labels (same no-duplicate rule as :meth:`create_links`, matched by label+prompt)."""
        body: dict[str, Any] = {"expiryPreset": expiry_preset, "prompt": prompt,
                                "landingPageTitle": landing_page_title, "landingPageInfo": landing_page_info,
                                "timeLimitMinutes": time_limit_minutes}
        if evaluator:
            body["evaluator"] = _evaluator_body(evaluator)
        before = {link.id for link in self.list_instant_links()}

        def post(batch: list[str]) -> list[VoiceLink]:
            _, data = self._request("POST", "/v1/instant-voice-links", json={**body, "labels": batch})
            return [VoiceLink.from_api(link, "instant", self.base_url) for link in data.get("links", [])]

        return self._create_reconciled(labels, post, lambda: [
            link for link in self.list_instant_links()
            if link.id not in before and link.raw.get("prompt") == prompt])

    def update_instant_link(self, link_id: str, **fields: Any) -> None:
        names = {"label": "label", "expiry_preset": "expiryPreset", "prompt": "prompt",
                 "landing_page_title": "landingPageTitle", "landing_page_info": "landingPageInfo",
                 "time_limit_minutes": "timeLimitMinutes", "evaluator": "evaluator"}
        body = {names[k]: _evaluator_body(v) if k == "evaluator" else v for k, v in fields.items()}
        self._request("PATCH", f"/v1/instant-voice-links/{link_id}", json=body)

    def _create_reconciled(self, labels: list[str], post: Callable[[list[str]], list[VoiceLink]],
                           created_since: Callable[[], list[VoiceLink]]) -> list[VoiceLink]:
        if not labels:
            raise NimroboError("Labels array is required", status=400, endpoint="create links")
        try:
            return _post_in_parts(post, list(labels))
        except NimroboError as exc:
            if not exc.outcome_unknown:
                raise
        # The request may have landed: keep what exists, create only the missing labels, once.
        found = _still_unknown(created_since)
        wanted = list(labels)
        for link in found:
            if link.label in wanted:
                wanted.remove(link.label)
        if wanted:
            found += _post_in_parts(post, wanted)
        order = {label: i for i, label in enumerate(labels)}
        return sorted(found, key=lambda link: order.get(link.label, len(order)))

    # -- sessions ----------------------------------------------------------------------------
    @staticmethod
    def _session_params(session_id: str, type: SessionType, project_id: str | None) -> dict[str, str]:  # noqa: A002
        params = {"sessionId": session_id, "type": type}
        if project_id:
            params["projectId"] = project_id
        return params

    def session_status(self, session_id: str, type: SessionType = "project",  # noqa: A002
                       project_id: str | None = None) -> SessionStatus:
        _, data = self._request("GET", "/v1/session/status", params=self._session_params(session_id, type, project_id))
        return SessionStatus(session_id=data.get("sessionId", session_id), type=data.get("type", type),
                             status=str(data.get("status") or "unknown"), project_id=data.get("projectId"),
                             created_at=data.get("createdAt"), completed_at=data.get("completedAt"), raw=data)

    def session_transcript(self, session_id: str, type: SessionType = "project",  # noqa: A002
                           project_id: str | None = None) -> Any:
        _, data = self._request("GET", "/v1/session/transcript",
                                params=self._session_params(session_id, type, project_id))
        return data.get("transcript")

    def session_audio_url(self, session_id: str, type: SessionType = "project",  # noqa: A002
                          project_id: str | None = None) -> str:
        """A fresh signed URL (expires in about an hour). Fetch on demand; never store it."""
        _, data = self._request("GET", "/v1/session/audio", params=self._session_params(session_id, type, project_id))
        return data.get("audioUrl", "")

    def session_evaluation(self, session_id: str, type: SessionType = "project",  # noqa: A002
                           project_id: str | None = None) -> Evaluation:
        _, data = self._request("GET", "/v1/session/evaluation",
                                params=self._session_params(session_id, type, project_id))
        return Evaluation(session_id=data.get("sessionId", session_id), results=data.get("evaluationResults"),
                          evaluated_at=data.get("evaluatedAt"), has_error=bool(data.get("hasError")), raw=data)

    def session_summary(self, session_id: str, *, project_id: str | None = None, instant: bool = False) -> Summary:
        """200 gives the summary; 202 means it is being generated — a normal answer, not an error."""
        params: dict[str, str] = {"sessionId": session_id}
        if project_id:
            params["projectId"] = project_id
        if instant:
            params["instant_voice_links"] = "true"
        status, data = self._request("GET", "/v1/sessions/summary", params=params, ok=(200, 202))
        return Summary(session_id=data.get("sessionId", session_id), generating=status == 202,
                       summary=data.get("summary") if status == 200 else None, raw=data)

    def regenerate_summary(self, session_id: str, *, project_id: str | None = None, instant: bool = False) -> Summary:
        body: dict[str, Any] = {"sessionId": session_id}
        if project_id:
            body["projectId"] = project_id
        if instant:
            body["instant_voice_links"] = True
        _, data = self._request("POST", "/v1/sessions/summary/regenerate", json=body, ok=(200, 202))
        return Summary(session_id=session_id, generating=True, raw=data)

