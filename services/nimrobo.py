"""The Nimrobo voice API client (``../shared/specs/nimrobo-v1-api.md`` plus FIELD-NOTES).

* All 17 endpoints, typed results that keep unknown fields (``.raw``).
* One error type, :class:`NimroboError`, with the status, the API's message, the endpoint
  and a sentence a recruiter can act on (e.g. the scope a key lacks).
* GETs retry with backoff and honour ``Retry-After`` (``services.http.send``). A create
  is never re-sent once it may have reached the server: the client lists and matches
  by label or name first, and creates only what is missing.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

import config
from services.http import DEFAULT_TIMEOUT, RetryPolicy, ServiceError, send

ACTIVE = "active"
FINISHED_SESSION = ("completed", "failed")
EXPIRY_PRESETS = ("1_day", "1_week", "1_month")
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
# Every scope the bot's features use.
REQUIRED_SCOPES = ("user:read", "projects:read", "projects:write", "voice_links:read", "voice_links:write",
                   "sessions:read", "sessions:write")


class NimroboError(ServiceError):
    service = "Nimrobo"


# -- typed results ------------------------------------------------------------------------
@dataclass
class UserProfile:
    id: str
    email: str | None = None
    name: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


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
            response = send(self._http, method, path, policy=self.retry, json=json, params=params, headers=headers)
        except httpx.TransportError as exc:
            maybe_sent = getattr(exc, "request_maybe_sent", True)
            raise NimroboError("Nimrobo is not answering.", endpoint=endpoint,
                               hint="Try again in a minute.", outcome_unknown=maybe_sent and method != "GET") from exc
        if response.status_code in ok:
            try:
                return response.status_code, response.json()
            except ValueError:
                raise NimroboError("Nimrobo sent an answer that is not JSON.", status=response.status_code,
                                   endpoint=endpoint) from None
        raise self._error(response, method, path)

    def _error(self, response: httpx.Response, method: str, path: str) -> NimroboError:
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
            hint = f"Your Nimrobo key lacks the `{scope}` scope; create a key with it." if scope else \
                "Your Nimrobo key is not allowed to do this."
        elif status == 404:
            hint = "Check the id; it may belong to another account or have been removed."
        elif status == 429:
            hint = "Nimrobo is rate limiting us; try again in a minute."
        elif status >= 500:
            hint = "Nimrobo had a problem on its side; try again in a minute."
        else:
            hint = ""
        return NimroboError(message, status=status, endpoint=endpoint, hint=hint,
                            outcome_unknown=status >= 500 and method != "GET")

    # -- user -------------------------------------------------------------------------
    def get_profile(self) -> UserProfile:
        _, data = self._request("GET", "/v1/user/profile")
        return UserProfile(id=data.get("id", ""), email=data.get("email"), name=data.get("name"), raw=data)

    def missing_scopes(self, scopes: Iterable[str] = REQUIRED_SCOPES) -> list[str]:
        """Probe each scope without changing anything; return the ones the key lacks.

        Reads are plain GETs; writes are POSTs with an empty body, which the API rejects
        with 400 when the scope is granted and 403 when it is not.
        """
        probes = {
            "user:read": ("GET", "/v1/user/profile", None, None),
            "projects:read": ("GET", "/v1/projects", None, None),
            "projects:write": ("POST", "/v1/projects", {}, None),
            "voice_links:read": ("GET", "/v1/instant-voice-links", None, None),
            "voice_links:write": ("POST", "/v1/instant-voice-links", {}, None),
            "sessions:read": ("GET", "/v1/session/status", None, {}),
            "sessions:write": ("POST", "/v1/sessions/summary/regenerate", {}, None),
        }
        missing = []
        for scope in scopes:
            method, path, body, params = probes[scope]
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
                       evaluator: dict[str, Any] | None = None) -> Project:
        """Create a project. If the answer is lost, find it by name instead of creating a twin."""
        body: dict[str, Any] = {"name": name, "prompt": prompt, "description": description,
                                "landingPageTitle": landing_page_title, "landingPageInfo": landing_page_info,
                                "timeLimitMinutes": time_limit_minutes}
        if evaluator:
            body["evaluator"] = evaluator
        existing = {p.id for p in self.list_projects()}
        try:
            _, data = self._request("POST", "/v1/projects", json=body)
        except NimroboError as exc:
            if not exc.outcome_unknown:
                raise
            made = [p for p in self.list_projects() if p.name == name and p.id not in existing]
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
            body[names[key]] = value
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
                             time_limit_minutes: int = 5, evaluator: dict[str, Any] | None = None) -> list[VoiceLink]:
        body: dict[str, Any] = {"expiryPreset": expiry_preset, "prompt": prompt,
                                "landingPageTitle": landing_page_title, "landingPageInfo": landing_page_info,
                                "timeLimitMinutes": time_limit_minutes}
        if evaluator:
            body["evaluator"] = evaluator
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
        body = {names[k]: v for k, v in fields.items()}
        self._request("PATCH", f"/v1/instant-voice-links/{link_id}", json=body)

    def _create_reconciled(self, labels: list[str], post: Any, created_since: Any) -> list[VoiceLink]:
        if not labels:
            raise NimroboError("Labels array is required", status=400, endpoint="create links")
        try:
            return post(labels)
        except NimroboError as exc:
            if not exc.outcome_unknown:
                raise
        # The request may have landed: keep what exists, create only the missing labels, once.
        found = created_since()
        wanted = list(labels)
        for link in found:
            if link.label in wanted:
                wanted.remove(link.label)
        if wanted:
            found += post(wanted)
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


def wait_until(predicate: Any, timeout: float, interval: float = 0.2) -> Any:
    """Poll ``predicate`` until it returns something truthy (a small helper for scripts and tests)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
