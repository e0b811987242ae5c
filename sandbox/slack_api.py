"""A Slack Web API stand-in over real HTTP.

The bot talks to it with ``slack_sdk.WebClient(base_url=standin.url + "/api/")``. It answers
the methods the bot calls at ``/api/<method>``, Slack-shaped (``{"ok": false, "error": ...}``
with HTTP 200, 429 with ``Retry-After`` when rate limited), and rejects what Slack rejects:
a missing or wrong token, an unknown method, Block Kit past its limits, malformed metadata,
stale trigger ids, view hash conflicts. It serves files for download with the bot token only
(otherwise a redirect to a sign-in page, as Slack does), takes ``files_upload_v2`` uploads,
accepts ``response_url`` posts (replacing or deleting the original message when asked), lists
``conversations.history`` / ``conversations.replies`` (message metadata only with
``include_all_metadata``), can store a post and then drop the connection before answering
(:meth:`SlackStandIn.lose_answer`), can enforce Slack's own rate tiers and count the 429s
they cause (:meth:`SlackStandIn.real_tiers`), and records everything the bot posts in one ordered :attr:`SlackStandIn.timeline` for tests and
the sandbox console.

Workflow Builder steps: :meth:`SlackStandIn.start_function` begins a function execution (the signer
sends its ``function_executed`` event) with its own token (``xwfp-``), which works for the bot's
methods only while that execution runs, as Slack scopes it; ``functions.completeSuccess`` checks the
outputs against the function's ``output_parameters`` from the manifest, and a completed execution
takes no second outcome. The assistant pane: :meth:`SlackStandIn.open_assistant_thread` makes a thread
in the user's DM with the app, and ``assistant.threads.setStatus`` / ``setSuggestedPrompts`` /
``setTitle`` are checked and recorded (a reply in the thread clears the status, as in Slack).

Several workspaces (README "Several workspaces in the test bed"): one :class:`SlackApp` is shared by the
first stand-in and those :meth:`SlackStandIn.add_workspace` makes; a Web API call is served by the
workspace its token belongs to. OAuth v2: the ``/oauth/v2/authorize`` consent page,
:meth:`SlackStandIn.approve_install` / :meth:`~SlackStandIn.deny_install` /
:meth:`~SlackStandIn.install_via_browser`, ``oauth.v2.access`` (codes, token rotation with single-use
refresh tokens), ``auth.revoke``, ``apps.uninstall`` and :meth:`SlackStandIn.uninstall` with the
``app_uninstalled`` and ``tokens_revoked`` events Slack sends. Enterprise Grid: a workspace may belong to an
org (``enterprise_id``), and an org-wide install gives one token for all of its workspaces.

Queries for tests return plain dicts (copies; internal bookkeeping keys start with ``_`` and
are left out).
"""

from __future__ import annotations

import base64
import html
import itertools
import json
import math
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import httpx

from sandbox.httpserver import Request, Response, SimServer, json_response, text_response
from sandbox.render import channel_name, render_blocks
from sandbox.socket_mode import SocketModeServer

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
MESSAGE_TEXT = 40_000
MODAL_STACK = 3
ALT_TEXT = 1000  # files.getUploadURLExternal: alt_txt, up to 1000 characters
MIMETYPES = {"csv": "text/csv", "txt": "text/plain", "json": "application/json", "png": "image/png",
             "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif"}
LOGIN_PAGE = "<!DOCTYPE html><html><head><title>Slack</title></head><body>Sign in to Slack</body></html>"
DEFAULT_USERS = ("U_ALICE", "U_BOB", "U_SANDBOX")
BLOCK_TYPES = {"section", "header", "divider", "context", "actions", "image", "input", "rich_text", "video",
               "file", "markdown"}
SELECTS = {"static_select", "multi_static_select", "external_select", "multi_external_select", "users_select",
           "multi_users_select", "conversations_select", "multi_conversations_select", "channels_select",
           "multi_channels_select"}
OPTION_LIMITS = {"overflow": 5, "checkboxes": 10, "radio_buttons": 10}  # otherwise 100
APP_TOKEN_METHODS = {"apps.connections.open"}  # methods that take the app-level token (xapp-), not the bot's
MAX_SUGGESTED_PROMPTS = 4  # assistant.threads.setSuggestedPrompts
#: Errors the stand-in answers for function executions. Slack names them in its method docs; where it is
#: silent (an outcome sent twice) the name is the stand-in's.
EXECUTION_NOT_FOUND = "function_execution_not_found"
ALREADY_COMPLETED = "function_execution_already_completed"
FUNCTION_TYPES = {"string", "integer", "number", "boolean", "array", "object", "slack#/types/user_id",
                  "slack#/types/channel_id", "slack#/types/file_id", "slack#/types/timestamp",
                  "slack#/types/rich_text", "slack#/types/date", "slack#/types/message_ts",
                  "slack#/types/usergroup_id", "slack#/types/blocks", "slack#/types/message_context"}
#: The error the stand-in answers apps.connections.open with while Socket Mode is off in the app's
#: settings. Slack does not document this case; the name is the stand-in's.
SOCKET_MODE_OFF = "socket_mode_not_enabled"
VERIFICATION_TOKEN = "legacy-verification-token"  # the deprecated token Slack still puts in payloads
#: event ids are unique across every workspace and every signer of the test bed, as Slack's are (a bot
#: that drops an event id it has seen would otherwise drop another workspace's event)
EVENT_NUMBERS = itertools.count(1)


class SlackError(Exception):
    """A Slack-shaped failure: ``{"ok": false, "error": error}`` (plus ``errors`` when detailed)."""

    def __init__(self, error: str, detail: list[str] | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.detail = detail or []


def public(record: dict[str, Any]) -> dict[str, Any]:
    """A copy without the stand-in's bookkeeping keys."""
    return {k: v for k, v in record.items() if not k.startswith("_")}


# -- Block Kit limits -----------------------------------------------------------------------
class _Checker:
    """Collects Slack-style limit violations with JSON pointers into the payload."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, message: str, where: str) -> None:
        self.problems.append(f"{message} [json-pointer:{where}]")

    def length(self, value: Any, limit: int, where: str) -> None:
        if isinstance(value, str) and len(value) > limit:
            self.add(f"must be less than {limit + 1} characters", where)

    def text(self, obj: Any, where: str, *, limit: int, plain: bool = False, required: bool = True) -> None:
        if obj is None:
            if required:
                self.add("missing required field: text", where)
            return
        if not isinstance(obj, dict):
            self.add("must be a text object", where)
            return
        kinds = ("plain_text",) if plain else ("plain_text", "mrkdwn")
        if obj.get("type") not in kinds:
            self.add(f"must be a valid enum value ({' or '.join(kinds)})", f"{where}/type")
        text = obj.get("text")
        if not isinstance(text, str) or not text:
            self.add("must be more than 0 characters", f"{where}/text")
        else:
            self.length(text, limit, f"{where}/text")

    def options(self, options: Any, where: str, *, limit: int, plain: bool) -> None:
        if not isinstance(options, list):
            return
        if len(options) > limit:
            self.add(f"no more than {limit} items allowed", where)
        for k, option in enumerate(options):
            if not isinstance(option, dict):
                self.add("must be an option object", f"{where}/{k}")
                continue
            self.text(option.get("text"), f"{where}/{k}/text", limit=75, plain=plain)
            self.length(option.get("value"), 150, f"{where}/{k}/value")

    def element(self, element: Any, where: str) -> None:
        if not isinstance(element, dict) or "type" not in element:
            self.add("missing required field: type", where)
            return
        kind = element["type"]
        self.length(element.get("action_id"), 255, f"{where}/action_id")
        if "placeholder" in element:
            self.text(element["placeholder"], f"{where}/placeholder", limit=150, plain=True)
        if kind == "button":
            self.text(element.get("text"), f"{where}/text", limit=75, plain=True)
            self.length(element.get("value"), 2000, f"{where}/value")
            self.length(element.get("url"), 3000, f"{where}/url")
            if element.get("style") not in (None, "primary", "danger"):
                self.add("must be a valid enum value (primary or danger)", f"{where}/style")
        elif kind == "image":
            self.length(element.get("alt_text"), 2000, f"{where}/alt_text")
        if kind in SELECTS or kind in OPTION_LIMITS:
            limit = OPTION_LIMITS.get(kind, 100)
            plain = kind in SELECTS or kind == "overflow"
            self.options(element.get("options"), f"{where}/options", limit=limit, plain=plain)
            groups = element.get("option_groups")
            if isinstance(groups, list):
                if len(groups) > 100:
                    self.add("no more than 100 items allowed", f"{where}/option_groups")
                for g, group in enumerate(groups):
                    self.options((group or {}).get("options"), f"{where}/option_groups/{g}/options",
                                 limit=100, plain=True)
        if kind == "plain_text_input":
            self.length(element.get("initial_value"), 3000, f"{where}/initial_value")
            if isinstance(element.get("max_length"), int) and element["max_length"] > 3000:
                self.add("must be at most 3000", f"{where}/max_length")

    def block(self, block: Any, where: str, surface: str) -> None:
        if not isinstance(block, dict) or "type" not in block:
            self.add("missing required field: type", where)
            return
        kind = block["type"]
        if kind not in BLOCK_TYPES:
            self.add(f"unsupported block type {kind!r}", f"{where}/type")
            return
        self.length(block.get("block_id"), 255, f"{where}/block_id")
        if kind == "section":
            fields = block.get("fields")
            if block.get("text") is None and not fields:
                self.add("must provide either text or fields", where)
            self.text(block.get("text"), f"{where}/text", limit=3000, required=False)
            if fields is not None:
                if not isinstance(fields, list):
                    self.add("must be an array", f"{where}/fields")
                else:
                    if len(fields) > 10:
                        self.add("no more than 10 items allowed", f"{where}/fields")
                    for f, item in enumerate(fields):
                        self.text(item, f"{where}/fields/{f}", limit=2000)
            if block.get("accessory") is not None:
                self.element(block["accessory"], f"{where}/accessory")
        elif kind == "header":
            self.text(block.get("text"), f"{where}/text", limit=150, plain=True)
        elif kind in ("actions", "context"):
            elements = block.get("elements")
            limit = 25 if kind == "actions" else 10
            if not isinstance(elements, list) or not elements:
                self.add("must provide at least 1 item", f"{where}/elements")
                return
            if len(elements) > limit:
                self.add(f"no more than {limit} items allowed", f"{where}/elements")
            action_ids = [e.get("action_id") for e in elements if isinstance(e, dict) and e.get("action_id")]
            for dup in sorted({a for a in action_ids if action_ids.count(a) > 1}):
                self.add(f"duplicate action_id {dup!r}", f"{where}/elements")
            for j, element in enumerate(elements):
                if kind == "context" and isinstance(element, dict) and element.get("type") in ("mrkdwn",
                                                                                              "plain_text"):
                    self.text(element, f"{where}/elements/{j}", limit=3000)
                elif kind == "context" and (not isinstance(element, dict) or element.get("type") != "image"):
                    self.add("context elements must be text objects or images", f"{where}/elements/{j}")
                else:
                    self.element(element, f"{where}/elements/{j}")
        elif kind == "image":
            self.length(block.get("alt_text"), 2000, f"{where}/alt_text")
            if not block.get("image_url") and not block.get("slack_file"):
                self.add("missing required field: image_url", where)
            if block.get("title") is not None:
                self.text(block["title"], f"{where}/title", limit=2000, plain=True)
        elif kind == "input":
            if surface == "message":
                self.add("input blocks are only allowed in modals and Home tabs", where)
            self.text(block.get("label"), f"{where}/label", limit=2000, plain=True)
            if block.get("hint") is not None:
                self.text(block["hint"], f"{where}/hint", limit=2000, plain=True)
            if block.get("element") is None:
                self.add("missing required field: element", where)
            else:
                self.element(block["element"], f"{where}/element")


def validate_blocks(blocks: Any, *, surface: str = "message") -> list[str]:
    """The Block Kit limit violations in ``blocks`` (empty when Slack would accept them).

    ``surface`` is ``"message"`` (50 blocks, no input blocks), ``"modal"`` or ``"home"`` (100 blocks).
    """
    if blocks is None:
        return []
    check = _Checker()
    if not isinstance(blocks, list):
        check.add("must be an array", "/blocks")
        return check.problems
    limit = MESSAGE_BLOCKS if surface == "message" else VIEW_BLOCKS
    if len(blocks) > limit:
        check.add(f"no more than {limit} items allowed", "/blocks")
    seen: set[str] = set()
    for i, block in enumerate(blocks):
        check.block(block, f"/blocks/{i}", surface)
        block_id = block.get("block_id") if isinstance(block, dict) else None
        if block_id:
            if block_id in seen:
                check.add(f"duplicate block_id {block_id!r}", f"/blocks/{i}/block_id")
            seen.add(block_id)
    return check.problems


def validate_view(view: Any) -> list[str]:
    """Limit violations in a modal or Home tab view (pointers relative to ``/view``)."""
    if not isinstance(view, dict):
        return ["must be a view object [json-pointer:/view]"]
    kind = view.get("type")
    check = _Checker()
    if kind not in ("modal", "home"):
        check.add("must be a valid enum value (modal or home)", "/view/type")
        return check.problems
    check.problems += [p.replace("[json-pointer:/", "[json-pointer:/view/", 1)
                       for p in validate_blocks(view.get("blocks") or [], surface=kind)]
    if kind == "modal":
        check.text(view.get("title"), "/view/title", limit=24, plain=True)
        for key in ("submit", "close"):
            if view.get(key) is not None:
                check.text(view[key], f"/view/{key}", limit=24, plain=True)
        has_inputs = any(isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks") or [])
        if has_inputs and not view.get("submit"):
            check.add("submit is required when a view has input blocks", "/view/submit")
    check.length(view.get("private_metadata"), 3000, "/view/private_metadata")
    check.length(view.get("callback_id"), 255, "/view/callback_id")
    check.length(view.get("external_id"), 255, "/view/external_id")
    return check.problems


def validate_options_response(status: int, body: Any) -> list[str]:
    """What Slack refuses in an answer to ``block_suggestion`` (an external select's options): not HTTP 200 JSON,
    neither ``options`` nor ``option_groups``, more than 100 options or groups, an option without a plain_text
    text (at most 75 characters) or with a value over 150 characters."""
    if status != 200:
        return [f"the Options Load URL answered HTTP {status}"]
    if not isinstance(body, dict) or not ("options" in body or "option_groups" in body):
        return ["the answer must be a JSON object with options or option_groups"]
    check = _Checker()
    if "options" in body:
        options = body["options"]
        if not isinstance(options, list):
            check.add("must be an array", "/options")
        else:
            check.options(options, "/options", limit=100, plain=True)
            for k, option in enumerate(options):
                if isinstance(option, dict) and option.get("description") is not None:
                    check.text(option["description"], f"/options/{k}/description", limit=75, plain=True)
    if "option_groups" in body:
        groups = body["option_groups"]
        if not isinstance(groups, list) or len(groups) > 100:
            check.add("must be an array of at most 100 groups", "/option_groups")
        else:
            for g, group in enumerate(groups):
                check.text((group or {}).get("label"), f"/option_groups/{g}/label", limit=75, plain=True)
                check.options((group or {}).get("options"), f"/option_groups/{g}/options", limit=100, plain=True)
    return check.problems


def empty_value(element: dict[str, Any]) -> dict[str, Any]:
    """The state value Slack sends for an input nobody touched: its initial value, or empty."""
    kind = element.get("type", "plain_text_input")
    if kind in ("static_select", "external_select", "radio_buttons"):
        return {"type": kind, "selected_option": element.get("initial_option")}
    if kind in ("checkboxes", "multi_static_select", "multi_external_select"):
        return {"type": kind, "selected_options": element.get("initial_options") or []}
    if kind == "file_input":
        return {"type": kind, "files": []}
    for select, key in (("users_select", "user"), ("conversations_select", "conversation"),
                        ("channels_select", "channel")):
        if kind == select:
            return {"type": kind, f"selected_{key}": element.get(f"initial_{key}")}
        if kind == "multi_" + select:
            return {"type": kind, f"selected_{key}s": element.get(f"initial_{key}s") or []}
    if kind == "datepicker":
        return {"type": kind, "selected_date": element.get("initial_date")}
    return {"type": kind, "value": element.get("initial_value")}


@dataclass
class _TierBucket:
    """Slack's pace for one method (in one channel, for chat.postMessage): ``rate`` a second, ``burst`` at once."""

    rate: float
    burst: float
    tokens: float
    stamp: float

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


#: Slack's documented limits (api.slack.com/apis/rate-limits): chat.postMessage about one message a
#: second per channel with short bursts; chat.update on tier 3 (50+ a minute per workspace).
#: (rate per second, burst, per channel)
REAL_TIERS: dict[str, tuple[float, float, bool]] = {
    "chat.postMessage": (1.0, 5.0, True),
    "chat.update": (50 / 60, 15.0, False),
}


@dataclass
class _RateRule:
    burst: int
    retry_after: float
    window: float
    stamps: deque[float] = field(default_factory=deque)


# -- the app on Slack's side: OAuth, installs and tokens across workspaces --------------------------
#: Methods that take a user token as well as the bot's (the bot calls no others with a user token here).
USER_TOKEN_METHODS = {"auth.test", "auth.revoke", "apps.uninstall"}
#: Slack's errors for a token that no longer works. A bot token of an uninstalled app answers
#: ``account_inactive`` ("a deleted user or workspace when using a bot token"); a token revoked with
#: ``auth.revoke`` (or a user token of an uninstalled app) ``token_revoked``; an unknown one ``invalid_auth``.
REVOKED_BOT, REVOKED = "account_inactive", "token_revoked"
CODE_TTL = 600.0  # Slack: an OAuth code is good for 10 minutes, once
TOKEN_LIFETIME = 43200.0  # Slack: with token rotation, an access token lives 12 hours
AUTHORIZE_PATH = "/oauth/v2/authorize"


@dataclass
class Grant:
    """One token Slack issued: ``kind`` bot, user, app, refresh or function; the workspace that serves its calls."""

    token: str
    kind: str
    workspace: SlackStandIn
    user_id: str = ""  # the bot user (bot tokens) or the person (user tokens)
    scopes: str = ""
    expires_at: float | None = None  # wall-clock time; None: never expires
    revoked: str | None = None  # the error it answers once revoked
    org_wide: bool = False  # an Enterprise Grid org-wide install (one token for every workspace of the org)
    for_kind: str = ""  # refresh tokens: the kind of access token they renew
    used: bool = False  # refresh tokens are single use

    def usable_error(self, now: float | None = None) -> str | None:
        if self.revoked:
            return self.revoked
        if self.expires_at is not None and (now or time.time()) >= self.expires_at:
            return "token_expired"
        return None


@dataclass
class _Code:
    code: str
    workspace: SlackStandIn
    user: str
    scope: str
    user_scope: str
    redirect_uri: str | None
    org_wide: bool
    issued: float
    used: bool = False


class SlackApp:
    """The app as Slack knows it, shared by every workspace stand-in: its client id and secret, its
    OAuth settings (``token_rotation_enabled``, redirect URLs), the codes and tokens it issued, and the
    workspaces it can be installed in (team id -> stand-in)."""

    def __init__(self, app_id: str, client_id: str | None = None, client_secret: str | None = None, *,
                 token_rotation_enabled: bool = False, token_lifetime: float = TOKEN_LIFETIME,
                 redirect_urls: tuple[str, ...] = ()) -> None:
        self.app_id = app_id
        self.client_id = client_id or f"{secrets.randbelow(10**12):012d}.{secrets.randbelow(10**12):012d}"
        self.client_secret = client_secret or secrets.token_hex(16)
        self.token_rotation_enabled = token_rotation_enabled
        self.token_lifetime = token_lifetime
        self.code_ttl = CODE_TTL
        #: the app's Redirect URLs (OAuth & Permissions); empty: any redirect_uri is accepted
        self.redirect_urls = list(redirect_urls)
        #: the app's configured scopes (OAuth & Permissions, the manifest's ``oauth_config.scopes``): Slack refuses
        #: an authorize URL asking for any other (``invalid_scope``); None: any scope is accepted
        self.bot_scopes: set[str] | None = None
        self.user_scopes: set[str] | None = None
        self.grants: dict[str, Grant] = {}
        self.codes: dict[str, _Code] = {}
        self.workspaces: dict[str, SlackStandIn] = {}
        self.lock = threading.RLock()

    def register(self, grant: Grant) -> Grant:
        with self.lock:
            self.grants[grant.token] = grant
        return grant

    def grant(self, token: str | None) -> Grant | None:
        if not token:
            return None
        with self.lock:
            return self.grants.get(token)

    def check_client(self, client_id: str, client_secret: str) -> str | None:
        """Slack's error for these app credentials, or None when they are the app's."""
        if client_id != self.client_id:
            return "invalid_client_id"
        if not secrets.compare_digest(client_secret.encode(), self.client_secret.encode()):
            return "bad_client_secret"
        return None


def _token_secret() -> str:
    return secrets.token_hex(16)


def _client_credentials(request: Request, params: dict[str, Any]) -> tuple[str, str]:
    """client_id and client_secret from HTTP Basic auth (as slack_sdk sends them) or the form."""
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(auth[6:].strip()).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            decoded = ""
        client_id, _, client_secret = decoded.partition(":")
        return client_id, client_secret
    return str(params.get("client_id") or ""), str(params.get("client_secret") or "")


def authorize_query(url: str) -> dict[str, str]:
    """The query of an ``/oauth/v2/authorize`` URL (on any host: the bot may point at slack.com)."""
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


def find_authorize_url(response: httpx.Response) -> str | None:
    """The authorize URL an install page leads to: its redirect, or the Add to Slack link in its HTML."""
    location = response.headers.get("location")
    if location and AUTHORIZE_PATH in location:
        return location
    found = re.search(r'href="([^"]*' + re.escape(AUTHORIZE_PATH) + r'[^"]*)"', response.text)
    return html.unescape(found.group(1)) if found else None


class SlackStandIn(SimServer):
    """The Slack Web API on loopback. See the module docstring; start it like any ``SimServer``."""

    name = "slack"

    def __init__(self, bot_token: str = "xoxb-test", team_id: str = "T0SANDBOX", bot_user_id: str = "UBOT",
                 host: str = "127.0.0.1", port: int = 0, *, trigger_ttl: float = 3.0,
                 response_url_uses: int = 5, response_url_ttl: float = 30 * 60, app_token: str | None = None,
                 socket_mode_enabled: bool = True, functions: dict[str, Any] | None = None,
                 team_name: str = "Sandbox", enterprise_id: str | None = None, enterprise_name: str | None = None,
                 client_id: str | None = None, client_secret: str | None = None,
                 token_rotation_enabled: bool = False, token_lifetime: float = TOKEN_LIFETIME,
                 redirect_urls: tuple[str, ...] = (), app: SlackApp | None = None) -> None:
        super().__init__(host, port)
        #: the app on Slack's side, shared by every workspace of this test bed (see :meth:`add_workspace`)
        self.app = app or SlackApp("A0SANDBOX", client_id, client_secret,
                                   token_rotation_enabled=token_rotation_enabled, token_lifetime=token_lifetime,
                                   redirect_urls=redirect_urls)
        self.primary: SlackStandIn | None = None  # the workspace whose URL is the API's, when this is a sibling
        self.team_name = team_name
        self.enterprise_id = enterprise_id
        self.enterprise_name = enterprise_name or (f"{team_name} Org" if enterprise_id else None)
        #: True while the app is installed org-wide on this workspace's enterprise
        self.org_installed = False
        #: the events Slack sends after ``auth.revoke`` / ``apps.uninstall`` (envelopes), taken by :meth:`take_events`
        self.pending_events: list[dict[str, Any]] = []
        #: the app's custom functions (manifest ``functions``): callback id -> definition
        self.functions: dict[str, Any] = dict(functions or {})
        #: function executions: id -> callback_id, inputs, token, state (running | completed | failed),
        #: outputs, error, completed_by ("function" | "bot")
        self.executions: dict[str, dict[str, Any]] = {}
        self._function_tokens: dict[str, str] = {}  # xwfp- token -> execution id
        #: assistant threads: (dm channel, thread_ts) -> user, context, status, title, prompts
        self.assistant_threads: dict[tuple[str, str], dict[str, Any]] = {}
        self.bot_token = bot_token
        #: the app-level token (xapp-) that opens Socket Mode connections; None: no app token exists
        self.app_token = app_token
        #: the app's "Enable Socket Mode" setting (manifest settings.socket_mode_enabled)
        self.socket_mode_enabled = socket_mode_enabled
        #: Slack's Socket Mode endpoint, started with the stand-in when there is an app token
        self.socket: SocketModeServer | None = None
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = "B0SANDBOX"
        self.app_id = self.app.app_id
        with self.app.lock:
            self.app.workspaces.setdefault(team_id, self)
        if bot_token:  # a token given up front: the app is installed here already (single-workspace tests)
            self.app.register(Grant(bot_token, "bot", self, user_id=bot_user_id))
        if app_token:
            self.app.register(Grant(app_token, "app", self))
        self.trigger_ttl = trigger_ttl  # Slack: a trigger_id is good for 3 seconds, once
        self.response_url_uses = response_url_uses  # Slack: 5 posts within 30 minutes
        self.response_url_ttl = response_url_ttl
        #: channel -> member user ids. A channel not listed here has every known user (and the bot).
        self.members: dict[str, set[str]] = {}
        #: private channels with C ids (as Slack makes them since 2021); G ids are private too.
        self.private_channels: set[str] = set()
        #: user id -> users.info fields (see :meth:`add_user`); unknown U-ids get a made-up profile.
        self.users: dict[str, dict[str, Any]] = {}
        #: everything the bot posted, in order: dicts with ``kind`` (message, update, delete, ephemeral,
        #: response, upload, view_open, view_push, view_update, view_closed, home), channel, user, text,
        #: blocks, ts, thread_ts, ... and ``seq`` (the index in this list).
        self.timeline: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._ts = time.time()
        self._calls: list[dict[str, Any]] = []
        self._messages: dict[tuple[str, str], dict[str, Any]] = {}
        self._ephemerals: list[dict[str, Any]] = []
        self._responses: list[dict[str, Any]] = []
        self._views: dict[str, dict[str, Any]] = {}
        self._view_order: list[str] = []
        self._stacks: dict[str, list[str]] = {}  # user -> open modal ids, root first
        self._homes: dict[str, dict[str, Any]] = {}
        self._files: dict[str, dict[str, Any]] = {}
        self._pending_uploads: dict[str, dict[str, Any]] = {}
        self._uploads: list[dict[str, Any]] = []
        self._triggers: dict[str, tuple[str, float]] = {}
        self._response_urls: dict[str, dict[str, Any]] = {}
        self._rate_limits: dict[str, _RateRule] = {}
        self._tiers: dict[str, tuple[float, float, bool]] = {}
        self._tier_buckets: dict[tuple[str, str], _TierBucket] = {}
        #: every call refused with 429 by :meth:`real_tiers` (method, channel, time)
        self.tier_refusals: list[dict[str, Any]] = []
        self._lost_answers: list[list[Any]] = []  # [method, predicate, times left]
        self._siblings: list[SlackStandIn] = []  # workspaces added with add_workspace (stopped with this one)
        self.route("POST", "/api/{method}")(self._dispatch)
        self.route("GET", "/api/{method}")(self._dispatch)
        self.route("GET", "/files-pri/{team_file}/download/{name}")(self._download)
        self.route("GET", "/files-pri/{team_file}/{name}")(self._download)
        self.route("GET", "/")(lambda request: text_response(LOGIN_PAGE, content_type="text/html; charset=utf-8"))
        self.route("POST", "/upload/{upload_id}")(self._receive_upload)
        self.route("POST", "/response/{rid}")(self._response_url)
        self._methods: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "apps.connections.open": self._connections_open,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.delete": self._delete,
            "chat.getPermalink": self._permalink,
            "conversations.open": self._conv_open,
            "conversations.info": self._conv_info,
            "conversations.members": self._conv_members,
            "conversations.history": self._conv_history,
            "conversations.replies": self._conv_replies,
            "users.info": self._users_info,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "views.push": self._views_push,
            "views.publish": self._views_publish,
            "files.info": self._files_info,
            "files.upload": self._files_upload_v1,
            "files.getUploadURLExternal": self._get_upload_url,
            "files.completeUploadExternal": self._complete_upload,
            "files.delete": self._files_delete,
            "reactions.add": self._reactions_add,
            "functions.completeSuccess": self._complete_success,
            "functions.completeError": self._complete_error,
            "assistant.threads.setStatus": self._assistant_status,
            "assistant.threads.setSuggestedPrompts": self._assistant_prompts,
            "assistant.threads.setTitle": self._assistant_title,
        }

        #: methods that need the calling token itself (what it is, or to revoke it)
        self._token_methods: dict[str, Callable[[dict[str, Any], Grant | None, Request], dict[str, Any]]] = {
            "auth.test": self._auth_test_for,
            "auth.revoke": self._auth_revoke,
            "apps.uninstall": self._apps_uninstall,
        }
        self.route("GET", AUTHORIZE_PATH)(self._authorize_page)
        self.route("GET", "/oauth/v2/approve")(self._approve_page)
        self.route("GET", "/oauth/v2/deny")(self._deny_page)

    # -- set-up for tests ---------------------------------------------------------------------
    def issue_trigger_id(self, user: str = "") -> str:
        """A trigger id as Slack puts in a command or interaction: usable once, for ``trigger_ttl`` s."""
        trigger = f"{next(self._ids)}.{secrets.token_hex(6)}"
        with self._lock:
            self._triggers[trigger] = (user, time.monotonic())
            self._know(user)
        return trigger

    def new_response_url(self, user: str = "", channel: str = "", *, message_ts: str | None = None,
                         ephemeral: bool = False, thread_ts: str | None = None) -> str:
        """A response_url for a command (no message) or an interaction on message ``message_ts``."""
        rid = secrets.token_hex(8)
        with self._lock:
            self._response_urls[rid] = {"user": user, "channel": channel, "message_ts": message_ts,
                                        "ephemeral": ephemeral, "thread_ts": thread_ts, "uses": 0,
                                        "created": time.monotonic()}
            self._know(user)
        return f"{self.url}/response/{rid}"

    def add_file(self, name: str, content: bytes, filetype: str = "csv", mimetype: str = "text/csv",
                 user: str = "U1") -> dict[str, Any]:
        """Put a file on the stand-in as if ``user`` uploaded it; returns its Slack file object."""
        return self._store_file(name, content, filetype=filetype, mimetype=mimetype, user=user)

    def add_user(self, user_id: str, real_name: str | None = None, *, tz: str = "UTC", tz_offset: int = 0,
                 is_bot: bool = False, deleted: bool = False, is_admin: bool = False, is_owner: bool = False,
                 **profile: Any) -> dict[str, Any]:
        """Describe a user for users.info (``profile`` extras: email, display_name, title, ...)."""
        name = real_name or _name_of(user_id)
        user = {"id": user_id, "team_id": self.team_id, "name": name.lower().replace(" ", "."), "real_name": name,
                "tz": tz, "tz_label": tz, "tz_offset": tz_offset, "is_bot": is_bot, "deleted": deleted,
                "is_admin": is_admin or is_owner, "is_owner": is_owner,
                "profile": {"real_name": name, "display_name": profile.pop("display_name", name), **profile}}
        with self._lock:
            self.users[user_id] = user
        return user

    def user_post(self, channel: str, user: str, text: str, thread_ts: str | None = None,
                  files: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """A message a person posts (not the bot), as Slack stores it: listed by ``conversations.history``
        and ``.replies`` and by :meth:`messages`, but not part of the bot's :attr:`timeline`. The
        signer's :meth:`~sandbox.signer.SlackSigner.say` posts one and sends its event."""
        self._know(user)
        message = self._new_message(channel, text=text, blocks=None, thread_ts=thread_ts, files=files,
                                    extra={"user": user, "bot_id": None}, record=None)
        return public(message)

    def rate_limit(self, method: str, burst: int, retry_after: float = 1.0, window: float = 60.0) -> None:
        """After ``burst`` calls of ``method`` within ``window`` seconds, answer 429 with ``Retry-After``."""
        with self._lock:
            self._rate_limits[method] = _RateRule(burst, retry_after, window)

    def real_tiers(self, scale: float = 1.0) -> None:
        """Enforce Slack's rate tiers (:data:`REAL_TIERS`, rates times ``scale`` for short tests): a
        call past its budget is answered 429 with ``Retry-After`` and counted in :attr:`tier_refusals`."""
        with self._lock:
            self._tiers = {m: (rate * scale, burst, per_channel) for m, (rate, burst, per_channel)
                           in REAL_TIERS.items()}
            self._tier_buckets.clear()
            self.tier_refusals.clear()

    def _over_tier(self, method: str, params: dict[str, Any]) -> bool:
        with self._lock:
            tier = self._tiers.get(method)
            if tier is None:
                return False
            rate, burst, per_channel = tier
            channel = str(params.get("channel") or "")
            key = (method, channel if per_channel else "")
            now = time.monotonic()
            bucket = self._tier_buckets.get(key)
            if bucket is None:
                bucket = self._tier_buckets[key] = _TierBucket(rate, burst, burst, now)
            if bucket.take(now):
                return False
            self.tier_refusals.append({"method": method, "channel": channel, "time": time.time()})
            return True

    def lose_answer(self, method: str = "chat.postMessage", times: int = 1,
                    when: Callable[[dict[str, Any]], bool] | None = None) -> None:
        """The next ``times`` successful calls of ``method`` (those whose params satisfy ``when``) are
        carried out (a post is stored), then the connection drops before the answer: the bot can't
        know it worked, as when Slack's answer is lost."""
        with self._lock:
            self._lost_answers.append([method, when, times])

    def _answer_lost(self, method: str, params: dict[str, Any]) -> bool:
        with self._lock:
            for rule in self._lost_answers:
                if rule[0] == method and rule[2] > 0 and (rule[1] is None or rule[1](params)):
                    rule[2] -= 1
                    return True
        return False

    def handle(self, request: Request) -> tuple[Response | None, bool]:
        response, drop_after = super().handle(request)
        return response, drop_after or bool(getattr(request, "lose_answer", False))

    def clear_rate_limits(self) -> None:
        with self._lock:
            self._rate_limits.clear()

    # -- queries for tests and the console ------------------------------------------------------
    def api_calls(self, method: str | None = None) -> list[dict[str, Any]]:
        """Web API calls received (method, params without the token, time), including refused ones."""
        with self._lock:
            return [dict(c) for c in self._calls if method is None or c["method"] == method]

    def messages(self, channel: str | None = None, thread_ts: str | None = None) -> list[dict[str, Any]]:
        """Messages as they stand now (after updates; deleted ones gone), oldest first.

        Fields: channel, ts, thread_ts, text, blocks, metadata, user, bot_id, files, reactions,
        updates (count), history (earlier versions: text, blocks, metadata).
        """
        with self._lock:
            out = [public(m) for m in self._messages.values()
                   if (channel is None or m["channel"] == channel)
                   and (thread_ts is None or m.get("thread_ts") == thread_ts)]
        return sorted(out, key=lambda m: float(m["ts"]))

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        with self._lock:
            m = self._messages.get((channel, ts))
            return public(m) if m else None

    def dms(self, user: str) -> list[dict[str, Any]]:
        """Messages in the bot's DM with ``user`` (the channel conversations.open returns)."""
        return self.messages(channel=self.dm_channel(user))

    def dm_channel(self, user: str) -> str:
        return f"D{user}"

    def ephemerals(self, user: str | None = None, channel: str | None = None) -> list[dict[str, Any]]:
        """chat.postEphemeral posts (channel, user, ts, thread_ts, text, blocks, replaced)."""
        with self._lock:
            return [public(e) for e in self._ephemerals if (user is None or e["user"] == user)
                    and (channel is None or e["channel"] == channel)]

    def responses(self, user: str | None = None, channel: str | None = None) -> list[dict[str, Any]]:
        """Every response_url post, in order: user and channel of the originating command or click,
        text, blocks, response_type, replace_original, delete_original, ts, replaced."""
        with self._lock:
            return [public(r) for r in self._responses if (user is None or r.get("user") == user)
                    and (channel is None or r.get("channel") == channel)]

    def views(self, user: str | None = None) -> list[dict[str, Any]]:
        """Every modal opened (latest version by id), ordered by last change; ``closed`` marks shut ones."""
        with self._lock:
            return [public(self._views[v]) for v in self._view_order
                    if user is None or self._views[v]["user"] == user]

    def open_views(self, user: str) -> list[dict[str, Any]]:
        """``user``'s modal stack as Slack shows it, root first (empty when no modal is open)."""
        with self._lock:
            return [public(self._views[v]) for v in self._stacks.get(user, [])]

    def view(self, view_id: str) -> dict[str, Any] | None:
        with self._lock:
            v = self._views.get(view_id)
            return public(v) if v else None

    def home(self, user: str) -> dict[str, Any] | None:
        """The App Home view last published for ``user``."""
        with self._lock:
            h = self._homes.get(user)
            return public(h) if h else None

    def file_content(self, file_id: str) -> tuple[dict[str, Any], bytes] | None:
        """A stored file's record and bytes (for the browser sandbox, which shows files to the person)."""
        with self._lock:
            file = self._files.get(file_id)
            return (public(file), file["_content"]) if file else None

    def uploads(self) -> list[dict[str, Any]]:
        """Completed files_upload_v2 uploads: id, filename, title, content (bytes), channel, thread_ts,
        alt_txt, mimetype, initial_comment, ts (of the file message; None when not shared to a channel)."""
        with self._lock:
            return [dict(u) for u in self._uploads]

    def timeline_since(self, index: int) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e) for e in self.timeline[index:]]

    def surfaces(self, user: str) -> list[dict[str, Any]]:
        """What ``user`` can see and click now, least recently changed first.

        Each: ``kind`` (message, ephemeral, response, view, home), ``channel``, ``ts``, ``blocks``,
        ``record`` (the message/ephemeral/response/view dict). Channel messages except other
        people's DMs; ``user``'s ephemerals and response_url posts not since replaced; ``user``'s
        open modals and Home tab.
        """
        out: list[tuple[int, dict[str, Any]]] = []
        with self._lock:
            for m in self._messages.values():
                if m["channel"].startswith("D") and m["channel"] != self.dm_channel(user):
                    continue
                out.append((m["_seq"], {"kind": "message", "channel": m["channel"], "ts": m["ts"],
                                        "blocks": m["blocks"], "record": public(m)}))
            for kind, entries in (("ephemeral", self._ephemerals), ("response", self._responses)):
                for e in entries:
                    if e.get("user") == user and not e.get("replaced") and e.get("_seq") is not None:
                        out.append((e["_seq"], {"kind": kind, "channel": e["channel"], "ts": e["ts"],
                                                "blocks": e["blocks"], "record": public(e)}))
            for view_id in self._stacks.get(user, []):
                v = self._views[view_id]
                out.append((v["_seq"], {"kind": "view", "channel": None, "ts": None, "blocks": v.get("blocks") or [],
                                        "record": public(v)}))
            home = self._homes.get(user)
            if home:
                out.append((home["_seq"], {"kind": "home", "channel": None, "ts": None,
                                           "blocks": home.get("blocks") or [], "record": public(home)}))
        return [s for _, s in sorted(out, key=lambda item: item[0])]

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 30, interval: float = 0.05) -> Any:
        """Poll ``predicate`` until it returns something truthy and return that; else AssertionError
        with what the bot posted lately."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met within {timeout}s; the bot's latest output:\n"
                                     + self.describe_timeline(last=20))
            time.sleep(interval)

    def describe_timeline(self, last: int = 20) -> str:
        lines = []
        for e in self.timeline_since(0)[-last:]:
            where = e.get("channel") or e.get("user") or ""
            body = render_blocks(e.get("blocks"), str(e.get("text") or ""))
            head = f"#{e['seq']} {e['kind']} {where}".rstrip()
            lines.append(head + ("\n" + "\n".join("    " + ln for ln in body.splitlines()) if body else ""))
        return "\n".join(lines) or "  (nothing)"

    # -- interaction outcomes, reported by the signer ------------------------------------------
    def apply_view_ack(self, view_id: str, status: int, ack: Any) -> dict[str, Any]:
        """What Slack does with the bot's answer to a view_submission of ``view_id``.

        No ``response_action``: the view closes (back to the previous one in a stack). ``clear``:
        the whole stack closes. ``errors``: the view stays, with ``errors`` recorded on it (Slack
        refuses errors for block ids that are not input blocks of the view). ``update``/``push``:
        the view is replaced/pushed (validated like views.update/push). A non-200 ack leaves it open.
        Returns ``{"outcome": ..., "problems": [...]}``.
        """
        with self._lock:
            view = self._views.get(view_id)
            if view is None:
                return {"outcome": "unknown_view", "problems": []}
            if status != 200:
                return {"outcome": "error_shown", "problems": [f"the bot answered HTTP {status}"]}
            action = ack.get("response_action") if isinstance(ack, dict) else None
            if action is None:
                self._close(view_id)
                return {"outcome": "closed", "problems": []}
            if action == "clear":
                for vid in list(self._stacks.get(view["user"], [])):
                    self._close(vid)
                return {"outcome": "cleared", "problems": []}
            if action == "errors":
                errors = ack.get("errors")
                inputs = {b.get("block_id") for b in view.get("blocks") or [] if b.get("type") == "input"}
                problems = [] if isinstance(errors, dict) and errors else ["errors must be a non-empty object"]
                problems += [f"errors names {k!r}, which is not an input block of the view"
                             for k in (errors or {}) if k not in inputs]
                if problems:
                    return {"outcome": "rejected", "problems": problems}
                view["errors"] = dict(errors)
                return {"outcome": "errors", "problems": []}
            if action in ("update", "push"):
                new = ack.get("view")
                try:
                    if action == "update":
                        self._store_view(new, view["user"], view_id=view_id, kind="view_update")
                    else:
                        self._store_view(new, view["user"], kind="view_push", push=True)
                except SlackError as exc:
                    return {"outcome": "rejected", "problems": exc.detail or [exc.error]}
                return {"outcome": action, "problems": []}
            return {"outcome": "rejected", "problems": [f"unknown response_action {action!r}"]}

    def close_view(self, view_id: str) -> None:
        """The user closed the modal (Cancel / x)."""
        with self._lock:
            if view_id in self._views:
                self._close(view_id)

    # -- internals ---------------------------------------------------------------------------
    def _next_ts(self) -> str:
        with self._lock:
            self._ts = max(self._ts + 0.000100, time.time())
            return f"{self._ts:.6f}"

    def _id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"

    def _know(self, user: str) -> None:
        if user and user not in self.users and user.startswith(("U", "W")):
            self.add_user(user)

    def _known_users(self) -> list[str]:
        with self._lock:
            return sorted({*DEFAULT_USERS, *self.users, self.bot_user_id})

    def is_member(self, channel: str, user: str) -> bool:
        with self._lock:
            if channel in self.members:
                return user in self.members[channel]
        if channel.startswith("D"):
            return user in (self.bot_user_id, channel[1:])
        return True

    def _record(self, kind: str, **fields: Any) -> int:
        with self._lock:
            seq = len(self.timeline)
            self.timeline.append({"kind": kind, "seq": seq, "time": time.time(), **fields})
            return seq

    def _store_file(self, name: str, content: bytes, *, filetype: str, mimetype: str, user: str,
                    file_id: str | None = None, title: str | None = None,
                    alt_txt: str | None = None) -> dict[str, Any]:
        file_id = file_id or self._id("F")
        base = f"{self.url}/files-pri/{self.team_id}-{file_id}"
        file = {"id": file_id, "name": name, "title": title or name, "size": len(content), "mimetype": mimetype,
                "filetype": filetype, "user": user, "url_private": f"{base}/{quote(name)}",
                "url_private_download": f"{base}/download/{quote(name)}", "created": int(time.time()),
                "is_external": False, "mode": "hosted"}
        if alt_txt:
            file["alt_txt"] = alt_txt
        with self._lock:
            self._files[file_id] = {**file, "_content": content}
        return file

    # -- HTTP plumbing -------------------------------------------------------------------------
    def _params(self, request: Request) -> dict[str, Any]:
        ctype = request.headers.get("content-type", "")
        if "json" in ctype:
            try:
                params = request.json() or {}
            except ValueError:
                raise SlackError("invalid_json") from None
            if not isinstance(params, dict):
                raise SlackError("invalid_json")
        else:
            params = dict(request.form()) if request.body else {}
        params = {**request.query, **params}
        for key in ("blocks", "attachments", "metadata", "view", "files"):
            if isinstance(params.get(key), str) and params[key]:
                try:
                    params[key] = json.loads(params[key])
                except ValueError:
                    raise SlackError("invalid_blocks_format" if key == "blocks" else "invalid_arguments") from None
        return params

    def _dispatch(self, request: Request) -> Response:
        method = request.params["method"]
        try:
            params = self._params(request)
        except SlackError as exc:
            return json_response({"ok": False, "error": exc.error})
        auth = request.headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else params.get("token")
        params.pop("token", None)
        if method == "oauth.v2.access":  # the app's credentials, not a token, authenticate it
            return self._oauth_access(request, params)
        grant = self.app.grant(token)
        workspace = self
        if grant is not None and grant.kind != "refresh":
            # One API front for every workspace: the token says which workspace serves the call.
            workspace = grant.workspace._org_member(params) if grant.org_wide else grant.workspace
            if grant.org_wide and not grant.revoked and not workspace.org_installed and \
                    method not in USER_TOKEN_METHODS:  # a team the org-wide install was removed from
                return json_response({"ok": False, "error": "team_access_not_granted"})
        return workspace._serve(method, params, token, grant, request)

    def _serve(self, method: str, params: dict[str, Any], token: str | None, grant: Grant | None,
               request: Request) -> Response:
        with self._lock:
            self._calls.append({"method": method, "params": params, "time": time.time()})
        if method not in self._methods and method not in self._token_methods:
            return json_response({"ok": False, "error": "unknown_method"})
        if not token:
            return json_response({"ok": False, "error": "not_authed"})
        execution = self._execution_of_token(token)
        if execution is not None and method not in APP_TOKEN_METHODS:
            # A function's token acts as the bot for that execution only, until it completes.
            if execution["state"] != "running":
                return json_response({"ok": False, "error": "token_revoked"})
            if method.startswith("functions.") and params.get("function_execution_id") != execution["id"]:
                return json_response({"ok": False, "error": "access_denied"})
            params["_token"] = "function"
        else:
            refusal = self._refusal(method, grant)
            if refusal:
                return json_response({"ok": False, "error": refusal})
        limited = self._rate_limited(method)
        if limited is not None:
            return self._ratelimited(limited)
        if self._over_tier(method, params):
            return self._ratelimited(1.0)
        try:
            with_token = self._token_methods.get(method)
            result = with_token(params, grant, request) if with_token else self._methods[method](params)
        except SlackError as exc:
            body: dict[str, Any] = {"ok": False, "error": exc.error}
            if exc.detail:
                body["errors"] = exc.detail
                body["response_metadata"] = {"messages": [f"[ERROR] {d}" for d in exc.detail]}
            return json_response(body)
        if self._answer_lost(method, params):
            request.lose_answer = True  # type: ignore[attr-defined]  # read by handle()
        # Slack names the token's scopes on every answer; Bolt reads them from auth.test.
        headers = {"x-oauth-scopes": grant.scopes} if grant is not None and grant.scopes else None
        return json_response({"ok": True, **result}, headers=headers)

    def _refusal(self, method: str, grant: Grant | None) -> str | None:
        """Slack's error for calling ``method`` with this token, or None when the token may."""
        if grant is None or grant.kind not in ("bot", "user", "app"):
            return "invalid_auth"
        problem = grant.usable_error()
        if problem:
            return problem
        wanted = {"app"} if method in APP_TOKEN_METHODS else {"bot", "user"} if method in USER_TOKEN_METHODS \
            else {"bot"}
        return None if grant.kind in wanted else "not_allowed_token_type"

    @staticmethod
    def _ratelimited(retry_after: float) -> Response:
        # Slack's Retry-After is whole seconds.
        return json_response({"ok": False, "error": "ratelimited"}, 429,
                             {"Retry-After": str(max(1, math.ceil(retry_after)))})

    def fault_429(self, request: Request) -> Response:
        return self._ratelimited(self.faults.retry_after)

    def fault_500(self, request: Request) -> Response:
        return json_response({"ok": False, "error": "fatal_error"}, 500)

    def _rate_limited(self, method: str) -> float | None:
        with self._lock:
            rule = self._rate_limits.get(method)
            if not rule:
                return None
            now = time.monotonic()
            while rule.stamps and now - rule.stamps[0] > rule.window:
                rule.stamps.popleft()
            if len(rule.stamps) >= rule.burst:
                return rule.retry_after
            rule.stamps.append(now)
            return None

    # -- auth, Socket Mode, chat -----------------------------------------------------------------
    def _connections_open(self, p: dict[str, Any]) -> dict[str, Any]:
        if not self.socket_mode_enabled or self.socket is None:
            raise SlackError(SOCKET_MODE_OFF)
        return {"url": self.socket.issue_url()}

    def start(self) -> SlackStandIn:
        super().start()
        if self.app_token and self.socket is None:
            self.socket = SocketModeServer(app_id=self.app_id).start()
        return self

    def stop(self) -> None:
        for sibling in self._siblings:
            sibling.stop()
        if self.socket is not None and self.primary is None:  # a sibling shares the primary's
            self.socket.stop()
        self.socket = None
        super().stop()

    # -- several workspaces, OAuth v2, leaving ----------------------------------------------------
    @property
    def client_id(self) -> str:
        return self.app.client_id

    @property
    def client_secret(self) -> str:
        return self.app.client_secret

    @property
    def token_rotation_enabled(self) -> bool:
        """The app's "token rotation" setting: installs then get expiring tokens and a refresh token."""
        return self.app.token_rotation_enabled

    @token_rotation_enabled.setter
    def token_rotation_enabled(self, value: bool) -> None:
        self.app.token_rotation_enabled = bool(value)

    @property
    def token_lifetime(self) -> float:
        """Seconds a rotating access token lives (``expires_in``; Slack: 43200). Set it low to test expiry."""
        return self.app.token_lifetime

    @token_lifetime.setter
    def token_lifetime(self, value: float) -> None:
        self.app.token_lifetime = float(value)

    def add_workspace(self, team_id: str, name: str, *, enterprise_id: str | None = None,
                      enterprise_name: str | None = None, bot_user_id: str | None = None) -> SlackStandIn:
        """Another workspace the app can be installed in: a stand-in of its own (timeline, channels, users,
        files; its own port for downloads and response_urls) behind this one's API URL, sharing the app
        and its tokens. A Web API call is served by the workspace its token belongs to."""
        root = self.primary or self
        if team_id in self.app.workspaces:
            raise ValueError(f"there is a workspace {team_id} already")
        sibling = SlackStandIn(bot_token="", team_id=team_id, bot_user_id=bot_user_id or f"UBOT{team_id}",
                               host=root.host, trigger_ttl=root.trigger_ttl, response_url_uses=root.response_url_uses,
                               response_url_ttl=root.response_url_ttl, functions=root.functions, team_name=name,
                               enterprise_id=enterprise_id, enterprise_name=enterprise_name, app=self.app)
        sibling.primary = root
        sibling.bot_id = f"B{team_id}"
        # Slack's ids are unique across workspaces: each workspace numbers its messages, views, files apart.
        sibling._ids = itertools.count((len(root._siblings) + 1) * 10_000_000 + 1)
        sibling.org_installed = any(w.org_installed for w in self.app.workspaces.values()
                                    if enterprise_id and w.enterprise_id == enterprise_id)
        sibling.start()
        sibling.socket, sibling.app_token = root.socket, root.app_token  # one app-level connection for all
        with root._lock:
            root._siblings.append(sibling)
        return sibling

    def _org_member(self, params: dict[str, Any]) -> SlackStandIn:
        """The workspace of the org a call with an org-wide token acts in: the one its ``team_id`` names, else
        the only one that knows its channel or user (ids are unique across an org in Slack; use distinct ones
        in tests), else this one (where the install was approved)."""
        with self.app.lock:
            org = [w for w in self.app.workspaces.values() if w.enterprise_id == self.enterprise_id]
        if params.get("team_id"):
            return next((w for w in org if w.team_id == params["team_id"]), self)
        for key, owns in (("channel", SlackStandIn._has_channel), ("channel_id", SlackStandIn._has_channel),
                          ("user_id", SlackStandIn._has_user), ("user", SlackStandIn._has_user)):
            value = params.get(key)
            if isinstance(value, str) and value:
                owners = [w for w in org if owns(w, value)]
                if len(owners) == 1:
                    return owners[0]
        return self

    def _has_channel(self, channel: str) -> bool:
        if channel.startswith("D"):
            return self._has_user(channel[1:])
        with self._lock:
            return channel in self.members or channel in self.private_channels or any(
                c == channel for c, _ in self._messages)

    def _has_user(self, user: str) -> bool:
        with self._lock:
            return user in self.users

    def workspace(self, team_id: str) -> SlackStandIn:
        """The stand-in of workspace ``team_id`` (this one or one made by :meth:`add_workspace`)."""
        with self.app.lock:
            found = self.app.workspaces.get(team_id)
        if found is None:
            raise KeyError(f"no workspace {team_id}; known: {sorted(self.app.workspaces)}")
        return found

    def tokens(self, kind: str | None = None, *, usable: bool = True) -> list[str]:
        """This workspace's tokens (bot, user, refresh), newest last; only those that still work unless told."""
        with self.app.lock:
            return [g.token for g in self.app.grants.values() if g.workspace is self
                    and (kind is None or g.kind == kind) and (not usable or (g.usable_error() is None and not g.used))]

    def expire_token(self, token: str) -> None:
        """Make ``token`` expired now (an access token then answers ``token_expired``)."""
        grant = self.app.grant(token)
        if grant is None:
            raise KeyError("unknown token")
        with self.app.lock:
            grant.expires_at = time.time() - 1

    def _authorize_problem(self, query: dict[str, str]) -> str | None:
        if query.get("client_id") != self.app.client_id:
            return "invalid_client_id"
        redirect = query.get("redirect_uri") or ""
        if redirect and self.app.redirect_urls and not any(redirect.startswith(u) for u in self.app.redirect_urls):
            return "bad_redirect_uri"
        if not redirect and not self.app.redirect_urls:
            return "bad_redirect_uri"
        if not query.get("scope") and not query.get("user_scope"):
            return "invalid_scope"
        for asked, configured in ((query.get("scope"), self.app.bot_scopes),
                                  (query.get("user_scope"), self.app.user_scopes)):
            wanted = {s.strip() for s in (asked or "").split(",") if s.strip()}
            if configured is not None and not wanted <= configured:
                return "invalid_scope"  # Slack: "Invalid permissions requested" (a scope the app is not set up for)
        return None

    def approve_install(self, url: str, team_id: str, user: str = "U_ALICE", *, org_wide: bool = False) -> str:
        """``user`` of workspace ``team_id`` clicks Allow on the authorize page of ``url`` (an authorize URL on
        any host, or an install page that leads to one). Returns where Slack sends the browser:
        ``redirect_uri?code=…&state=…``. ``org_wide``: an org admin installs for the whole Enterprise Grid org."""
        query = self._authorize_query(url)
        problem = self._authorize_problem(query)
        if problem:
            raise ValueError(f"Slack shows an error instead of the Allow button: {problem}")
        workspace = self.workspace(team_id)
        if org_wide and not workspace.enterprise_id:
            raise ValueError(f"{team_id} is not part of an Enterprise Grid org; it can't be installed org-wide")
        code = f"{secrets.randbelow(10**12)}.{secrets.randbelow(10**13)}.{secrets.token_hex(32)}"
        with self.app.lock:
            self.app.codes[code] = _Code(code, workspace, user, query.get("scope", ""), query.get("user_scope", ""),
                                         query.get("redirect_uri") or None, org_wide, time.monotonic())
        workspace._know(user)
        target = query.get("redirect_uri") or self.app.redirect_urls[0]
        return _with_query(target, code=code, state=query.get("state"))

    def deny_install(self, url: str) -> str:
        """The person clicks Cancel on the authorize page: ``redirect_uri?error=access_denied&state=…``."""
        query = self._authorize_query(url)
        target = query.get("redirect_uri") or (self.app.redirect_urls or [""])[0]
        return _with_query(target, error="access_denied", state=query.get("state"))

    def install_via_browser(self, install_url: str, team_id: str, user: str = "U_ALICE", *, org_wide: bool = False,
                            deny: bool = False) -> httpx.Response:
        """A person's browser from the bot's install page to its redirect: open ``install_url`` (the bot sets
        its state cookie), follow Add to Slack, Allow (or Cancel with ``deny``) in ``team_id``, and open the
        redirect with the cookie. Returns the bot's final answer (``.authorize_url`` notes where it led)."""
        cookies: dict[str, str] = {}
        with httpx.Client(timeout=15) as browser:
            page = browser.get(install_url)
            _take_cookies(page, cookies)
            authorize = find_authorize_url(page)
            if authorize is None:
                raise AssertionError(f"no Add to Slack link at {install_url}: HTTP {page.status_code} {page.text[:300]}")
            target = self.deny_install(authorize) if deny else \
                self.approve_install(authorize, team_id, user, org_wide=org_wide)
            # Browsers send Secure cookies to http://localhost too (a "potentially trustworthy" origin).
            headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())} if cookies else {}
            response = browser.get(target, headers=headers)
        response.authorize_url = authorize  # type: ignore[attr-defined]  # the test bed's note on the response
        return response

    def _authorize_query(self, url: str) -> dict[str, str]:
        if AUTHORIZE_PATH not in urlsplit(url).path:
            found = find_authorize_url(httpx.get(url, timeout=15))
            if found is None:
                raise ValueError(f"{url} leads to no {AUTHORIZE_PATH} URL")
            url = found
        return authorize_query(url)

    def _authorize_page(self, request: Request) -> Response:
        """Slack's consent page: the app, the scopes it asks for, an Allow link per workspace and Cancel."""
        query = dict(request.query)
        problem = self._authorize_problem(query)
        if problem:
            return text_response(f"<!DOCTYPE html><html><body><h1>Something went wrong</h1><p>{problem}</p>"
                                 "</body></html>", 400, "text/html; charset=utf-8")
        with self.app.lock:
            workspaces = list(self.app.workspaces.values())
        scopes = ", ".join(filter(None, [query.get("scope", ""), query.get("user_scope", "")]))
        allow = "".join(f'<li><a href="/oauth/v2/approve?{html.escape(urlencode({**query, "team": w.team_id}))}">'
                        f"Allow in {html.escape(w.team_name)} ({w.team_id})</a></li>" for w in workspaces)
        page = (f"<!DOCTYPE html><html><head><title>Slack: install app</title></head><body>"
                f"<h1>The app {self.app.app_id} is requesting permission to access a Slack workspace</h1>"
                f"<p>Scopes: {html.escape(scopes)}</p><ul>{allow}</ul>"
                f'<p><a href="/oauth/v2/deny?{html.escape(urlencode(query))}">Cancel</a></p></body></html>')
        return text_response(page, content_type="text/html; charset=utf-8")

    def _approve_page(self, request: Request) -> Response:
        query = dict(request.query)
        team_id, user = query.pop("team", ""), query.pop("user", "U_ALICE")
        org_wide = query.pop("org_wide", "") in ("1", "true")
        try:
            target = self.approve_install(f"{self.url}{AUTHORIZE_PATH}?{urlencode(query)}", team_id, user,
                                          org_wide=org_wide)
        except (KeyError, ValueError) as exc:
            return text_response(str(exc), 400)
        return Response(302, b"", {"Location": target})

    def _deny_page(self, request: Request) -> Response:
        return Response(302, b"", {"Location": self.deny_install(f"{self.url}{AUTHORIZE_PATH}?"
                                                                 f"{urlencode(request.query)}")})

    def _oauth_access(self, request: Request, params: dict[str, Any]) -> Response:
        """``oauth.v2.access``: a code for the install's tokens, or (token rotation) a refresh token for new ones."""
        client_id, client_secret = _client_credentials(request, params)
        kept = {k: v for k, v in params.items() if k not in ("client_secret", "refresh_token", "code")}
        with self._lock:
            self._calls.append({"method": "oauth.v2.access", "params": kept, "time": time.time()})
        try:
            problem = self.app.check_client(client_id, client_secret)
            if problem:
                raise SlackError(problem)
            grant_type = params.get("grant_type") or "authorization_code"
            if grant_type == "authorization_code":
                result = self._exchange_code(str(params.get("code") or ""), params.get("redirect_uri"))
            elif grant_type == "refresh_token":
                result = self._refresh(str(params.get("refresh_token") or ""))
            else:
                raise SlackError("invalid_grant_type")
        except SlackError as exc:
            return json_response({"ok": False, "error": exc.error})
        return json_response({"ok": True, **result})

    def _exchange_code(self, code: str, redirect_uri: Any) -> dict[str, Any]:
        with self.app.lock:
            found = self.app.codes.get(code)
            if found is None or found.used or time.monotonic() - found.issued > self.app.code_ttl:
                raise SlackError("invalid_code")
            if found.redirect_uri and redirect_uri != found.redirect_uri:
                raise SlackError("bad_redirect_uri")
            found.used = True
        return found.workspace._install(found)

    def _new_access(self, kind: str, user_id: str, scopes: str, org_wide: bool) -> tuple[Grant, Grant | None]:
        """A new access token of ``kind`` for this workspace, with its refresh token when rotation is on."""
        rotating = self.app.token_rotation_enabled
        prefix = "xoxb" if kind == "bot" else "xoxp"
        number = secrets.randbelow(10**12)
        token = f"xoxe.{prefix}-1-{_token_secret()}" if rotating else f"{prefix}-{number}-{number + 7}-{_token_secret()}"
        expires = time.time() + self.app.token_lifetime if rotating else None
        access = self.app.register(Grant(token, kind, self, user_id=user_id, scopes=scopes, expires_at=expires,
                                         org_wide=org_wide))
        refresh = self.app.register(Grant(f"xoxe-1-{_token_secret()}", "refresh", self, user_id=user_id,
                                          scopes=scopes, org_wide=org_wide, for_kind=kind)) if rotating else None
        return access, refresh

    def _who(self, org_wide: bool) -> dict[str, Any]:
        enterprise = {"id": self.enterprise_id, "name": self.enterprise_name} if self.enterprise_id else None
        return {"team": None if org_wide else {"id": self.team_id, "name": self.team_name},
                "enterprise": enterprise, "is_enterprise_install": org_wide}

    def _install(self, code: _Code) -> dict[str, Any]:
        """The answer to a good code (oauth.v2.access): the bot token, and the installer's token when asked."""
        bot, bot_refresh = self._new_access("bot", self.bot_user_id, code.scope, code.org_wide)
        out: dict[str, Any] = {"app_id": self.app.app_id, "authed_user": {"id": code.user}, "scope": code.scope,
                               "token_type": "bot", "access_token": bot.token, "bot_user_id": self.bot_user_id,
                               **self._who(code.org_wide)}
        if bot_refresh is not None:
            out.update(refresh_token=bot_refresh.token, expires_in=int(self.app.token_lifetime))
        if code.user_scope:
            user, user_refresh = self._new_access("user", code.user, code.user_scope, code.org_wide)
            out["authed_user"].update(scope=code.user_scope, access_token=user.token, token_type="user")
            if user_refresh is not None:
                out["authed_user"].update(refresh_token=user_refresh.token, expires_in=int(self.app.token_lifetime))
        if code.org_wide:
            with self.app.lock:
                for workspace in self.app.workspaces.values():
                    if workspace.enterprise_id == self.enterprise_id:
                        workspace.org_installed = True
        self._record("install", user=code.user, text=f"installed in {self.team_name}", org_wide=code.org_wide,
                     scope=code.scope)
        return out

    def _refresh(self, refresh_token: str) -> dict[str, Any]:
        with self.app.lock:
            grant = self.app.grants.get(refresh_token)
            if grant is None or grant.kind != "refresh" or grant.used or grant.revoked:
                raise SlackError("invalid_refresh_token")
            grant.used = True  # single use; the access token it came with lives on until its own expiry
        workspace = grant.workspace
        access, refresh = workspace._new_access(grant.for_kind, grant.user_id, grant.scopes, grant.org_wide)
        out: dict[str, Any] = {"app_id": self.app.app_id, "scope": grant.scopes, "token_type": grant.for_kind,
                               "access_token": access.token, "expires_in": int(self.app.token_lifetime),
                               **workspace._who(grant.org_wide)}
        if refresh is not None:
            out["refresh_token"] = refresh.token
        out["bot_user_id" if grant.for_kind == "bot" else "user_id"] = grant.user_id
        return out

    def _revoke(self, grants: list[Grant]) -> list[dict[str, Any]]:
        """Revoke ``grants`` (this workspace's); the events Slack sends: tokens_revoked, and app_uninstalled
        once no bot or user token is left."""
        with self.app.lock:
            for grant in grants:
                grant.revoked = REVOKED_BOT if grant.kind == "bot" else REVOKED
            bots = sorted({g.user_id for g in grants if g.kind == "bot"})
            users = sorted({g.user_id for g in grants if g.kind == "user"})
            left = [g for g in self.app.grants.values() if g.workspace is self and g.kind in ("bot", "user")
                    and not g.revoked]
        events = []
        if bots or users:
            events.append(self.event_envelope({"type": "tokens_revoked", "tokens": {"oauth": users, "bot": bots}}))
        if not left:
            events.insert(0, self.event_envelope({"type": "app_uninstalled"}))
            if any(g.org_wide for g in grants):
                with self.app.lock:
                    for workspace in self.app.workspaces.values():
                        if workspace.enterprise_id == self.enterprise_id:
                            workspace.org_installed = False
        return events

    def uninstall(self, team_id: str | None = None) -> list[dict[str, Any]]:
        """Workspace ``team_id`` (default: this one) removes the app: every bot and user token of the install
        stops working (bot tokens answer ``account_inactive``, user tokens ``token_revoked``) and refresh
        tokens with them. Returns the event envelopes Slack sends, ``app_uninstalled`` then ``tokens_revoked``,
        for a signer's :meth:`~sandbox.signer.SlackPayloads.deliver`."""
        workspace = self.workspace(team_id or self.team_id)
        with self.app.lock:
            grants = [g for g in self.app.grants.values() if g.workspace is workspace
                      and g.kind in ("bot", "user", "refresh") and not g.revoked]
        for grant in grants:
            if grant.kind == "refresh":
                grant.used = True
        events = workspace._revoke([g for g in grants if g.kind != "refresh"])
        workspace._record("uninstall", text=f"uninstalled from {workspace.team_name}", channel=None)
        return events or [workspace.event_envelope({"type": "app_uninstalled"})]

    def revoke_team_access(self, team_ids: list[str]) -> list[dict[str, Any]]:
        """An org admin removes the org-wide install (this workspace's org) from teams ``team_ids`` of the org: the
        org's token no longer acts in them (``team_access_not_granted``). Returns the envelope Slack sends,
        ``team_access_revoked`` with those ``team_ids``."""
        return self._team_access(team_ids, granted=False)

    def grant_team_access(self, team_ids: list[str]) -> list[dict[str, Any]]:
        """The org-wide install is added to teams ``team_ids`` (again): ``team_access_granted``."""
        return self._team_access(team_ids, granted=True)

    def _team_access(self, team_ids: list[str], *, granted: bool) -> list[dict[str, Any]]:
        with self.app.lock:
            org = {w.team_id: w for w in self.app.workspaces.values()
                   if self.enterprise_id and w.enterprise_id == self.enterprise_id}
            if not any(w.org_installed for w in org.values()):
                raise ValueError(f"{self.team_id} is not part of an org the app is installed in org-wide")
            for team in team_ids:
                org[team].org_installed = granted
            speaker = next((w for w in org.values() if w.org_installed), self)
        event = {"type": "team_access_granted" if granted else "team_access_revoked", "team_ids": list(team_ids)}
        return [speaker.event_envelope(event)]

    def take_events(self) -> list[dict[str, Any]]:
        """Events Slack owes the app after ``auth.revoke`` / ``apps.uninstall`` calls (envelopes; taken once)."""
        with self._lock:
            events, self.pending_events = self.pending_events, []
        return events

    def _auth_revoke(self, p: dict[str, Any], grant: Grant | None, request: Request) -> dict[str, Any]:
        """``auth.revoke``: the calling token's authorization ends (a bot token: the bot's in this workspace)."""
        assert grant is not None  # _refusal let it through
        if str(p.get("test", "")).lower() in ("1", "true"):
            return {"revoked": False}
        with self.app.lock:
            same = [g for g in self.app.grants.values() if g.workspace is self and not g.revoked
                    and (g.kind == grant.kind or g.for_kind == grant.kind) and g.user_id == grant.user_id]
        for g in same:
            if g.kind == "refresh":
                g.used = True
        events = self._revoke([g for g in same if g.kind != "refresh"])
        with self._lock:
            self.pending_events += events
        return {"revoked": True}

    def _apps_uninstall(self, p: dict[str, Any], grant: Grant | None, request: Request) -> dict[str, Any]:
        """``apps.uninstall``: the app removes itself from this workspace (its credentials and a token of it)."""
        client_id, client_secret = _client_credentials(request, p) if "client_id" not in p else \
            (str(p.get("client_id") or ""), str(p.get("client_secret") or ""))
        problem = self.app.check_client(client_id, client_secret)
        if problem:
            raise SlackError(problem)
        events = self.uninstall(self.team_id)
        with self._lock:
            self.pending_events += events
        return {}

    def authorization(self) -> dict[str, Any]:
        """The ``authorizations`` entry Slack puts in this workspace's events (an org-wide install: no team)."""
        return {"enterprise_id": self.enterprise_id, "team_id": None if self.org_installed else self.team_id,
                "user_id": self.bot_user_id, "is_bot": True, "is_enterprise_install": self.org_installed}

    def event_envelope(self, event: dict[str, Any], *, team_id: str | None = None, event_id: str | None = None,
                       event_context: str | None = None) -> dict[str, Any]:
        """An Events API ``event_callback`` envelope around ``event`` as this workspace's Slack sends it."""
        now = time.time()
        number = next(EVENT_NUMBERS)
        team = team_id or self.team_id
        envelope = {"token": VERIFICATION_TOKEN, "team_id": team, "context_team_id": team,
                    "api_app_id": self.app_id, "event": {"event_ts": f"{now:.6f}", **event}, "type": "event_callback",
                    "event_id": event_id or f"Ev{number:06d}{int(now)}", "event_time": int(now),
                    "is_ext_shared_channel": False, "event_context": event_context or f"4-{team}-{number}",
                    "authorizations": [{**self.authorization(), "team_id": None if self.org_installed else team}]}
        if self.enterprise_id:
            envelope.update(enterprise_id=self.enterprise_id, context_enterprise_id=self.enterprise_id)
        return envelope

    def _auth_test_for(self, p: dict[str, Any], grant: Grant | None, request: Request) -> dict[str, Any]:
        out = self._auth_test(p)
        if grant is not None and grant.kind == "user":
            out.update(user_id=grant.user_id, user=grant.user_id.lower())
            out.pop("bot_id", None)
        if self.enterprise_id:
            out["enterprise_id"] = self.enterprise_id
        if grant is not None and grant.org_wide:  # an org-wide token speaks for the org
            out.update(team_id=self.enterprise_id, team=self.enterprise_name, is_enterprise_install=True)
        return out

    def _auth_test(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"url": f"{self.url}/", "team": self.team_name, "user": "pluto-bot", "team_id": self.team_id,
                "user_id": self.bot_user_id, "bot_id": self.bot_id, "is_enterprise_install": False}

    def _check_message(self, p: dict[str, Any], need_text: bool = True) -> None:
        if not p.get("channel"):
            raise SlackError("channel_not_found")
        if need_text and not p.get("text") and not p.get("blocks") and not p.get("attachments"):
            raise SlackError("no_text")
        if (p.get("blocks") or p.get("attachments")) and not str(p.get("text") or "").strip():
            # stricter than Slack, which only warns: blocks need the top-level fallback text that
            # notifications and screen readers read (Slack's accessibility guidance)
            raise SlackError("no_text", ["a message with blocks needs a top-level `text` fallback"])
        if len(p.get("text") or "") > MESSAGE_TEXT:
            raise SlackError("msg_too_long")
        problems = validate_blocks(p.get("blocks"))
        if problems:
            raise SlackError("invalid_blocks", problems)
        metadata = p.get("metadata")
        if metadata is not None and (not isinstance(metadata, dict) or not metadata.get("event_type")
                                     or not isinstance(metadata.get("event_payload"), dict)):
            raise SlackError("invalid_metadata")

    def slack_message(self, m: dict[str, Any]) -> dict[str, Any]:
        """A message dict from :meth:`messages` in the shape Slack returns it and puts it in
        interaction payloads (type, user, bot_id, ts, text, blocks, thread_ts, metadata, files)."""
        if m.get("type") == "message":
            return m
        by_bot = m.get("user") in (None, self.bot_user_id)
        out = {"type": "message", "user": m.get("user") or self.bot_user_id, "ts": m.get("ts"),
               "text": m.get("text") or "", "blocks": m.get("blocks") or [], "team": self.team_id}
        if by_bot:  # a person's message carries no bot_id or app_id
            out.update(bot_id=m.get("bot_id") or self.bot_id, app_id=self.app_id)
        for key in ("thread_ts", "metadata", "files"):
            if m.get(key):
                out[key] = m[key]
        return out

    def _new_message(self, channel: str, *, text: str, blocks: list[Any] | None, thread_ts: str | None = None,
                     metadata: dict[str, Any] | None = None, files: list[dict[str, Any]] | None = None,
                     extra: dict[str, Any] | None = None, record: str | None = "message") -> dict[str, Any]:
        ts = self._next_ts()
        message = {"channel": channel, "ts": ts, "thread_ts": thread_ts, "text": text, "blocks": blocks or [],
                   "metadata": metadata, "user": self.bot_user_id, "bot_id": self.bot_id, "files": files or [],
                   "reactions": [], "updates": 0, "history": [], **(extra or {})}
        with self._lock:
            self._messages[(channel, ts)] = message
            if record:
                message["_seq"] = self._record(record, channel=channel, ts=ts, thread_ts=thread_ts, text=text,
                                               blocks=message["blocks"], metadata=metadata)
            else:
                message["_seq"] = len(self.timeline)
        return message

    def _post_message(self, p: dict[str, Any]) -> dict[str, Any]:
        self._check_message(p)
        thread = self.assistant_threads.get((p["channel"], p.get("thread_ts") or ""))
        if thread is not None:  # Slack clears the "is thinking…" status when the app replies
            with self._lock:
                thread["status"] = ""
        extra = {k: p[k] for k in ("unfurl_links", "unfurl_media", "reply_broadcast", "mrkdwn") if k in p}
        message = self._new_message(p["channel"], text=p.get("text") or "", blocks=p.get("blocks"),
                                    thread_ts=p.get("thread_ts") or None, metadata=p.get("metadata"), extra=extra)
        return {"channel": p["channel"], "ts": message["ts"], "message": self.slack_message(message)}

    def _update_message(self, message: dict[str, Any], changes: dict[str, Any]) -> None:
        with self._lock:
            message["history"].append({"text": message["text"], "blocks": message["blocks"],
                                       "metadata": message["metadata"]})
            if "text" in changes:
                message["text"] = changes["text"] or ""
            if "blocks" in changes:
                message["blocks"] = changes["blocks"] or []
            if "metadata" in changes:
                message["metadata"] = changes["metadata"]
            message["updates"] += 1
            message["_seq"] = self._record("update", channel=message["channel"], ts=message["ts"],
                                           thread_ts=message.get("thread_ts"), text=message["text"],
                                           blocks=message["blocks"], metadata=message["metadata"])

    def _update(self, p: dict[str, Any]) -> dict[str, Any]:
        self._check_message(p)
        with self._lock:
            message = self._messages.get((p["channel"], p.get("ts") or ""))
            if message is None:
                raise SlackError("message_not_found")
            self._update_message(message, p)
            return {"channel": p["channel"], "ts": p["ts"], "text": message["text"],
                    "message": self.slack_message(message)}

    def _post_ephemeral(self, p: dict[str, Any]) -> dict[str, Any]:
        self._check_message(p)
        if not p.get("user"):
            raise SlackError("user_not_found")
        if not self.is_member(p["channel"], p["user"]):
            raise SlackError("user_not_in_channel")
        entry = {"channel": p["channel"], "user": p["user"], "ts": self._next_ts(),
                 "thread_ts": p.get("thread_ts") or None, "text": p.get("text") or "",
                 "blocks": p.get("blocks") or [], "replaced": False}
        with self._lock:
            self._ephemerals.append(entry)
            entry["_seq"] = self._record("ephemeral", **public(entry))
        return {"message_ts": entry["ts"]}

    def _delete(self, p: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            if self._messages.pop((p.get("channel") or "", p.get("ts") or ""), None) is None:
                raise SlackError("message_not_found")
            self._record("delete", channel=p["channel"], ts=p["ts"])
        return {"channel": p["channel"], "ts": p["ts"]}

    def _permalink(self, p: dict[str, Any]) -> dict[str, Any]:
        channel, ts = p.get("channel") or "", p.get("message_ts") or ""
        if self.message(channel, ts) is None:
            raise SlackError("message_not_found")
        return {"channel": channel, "permalink": f"{self.url}/archives/{channel}/p{ts.replace('.', '')}"}

    def _reactions_add(self, p: dict[str, Any]) -> dict[str, Any]:
        name = (p.get("name") or "").strip(":")
        if not name:
            raise SlackError("invalid_name")
        with self._lock:
            message = self._messages.get((p.get("channel") or "", p.get("timestamp") or ""))
            if message is None:
                raise SlackError("message_not_found")
            if name in message["reactions"]:
                raise SlackError("already_reacted")
            message["reactions"].append(name)
        return {}

    # -- Workflow Builder steps (custom functions) -------------------------------------------------------
    def start_function(self, callback_id: str, inputs: dict[str, Any]) -> dict[str, Any]:
        """A workflow reached the app's step ``callback_id``: a new execution with its own token.
        Returns the execution (``id``, ``token``, ``function``: the definition as the event carries it)."""
        if self.functions and callback_id not in self.functions:
            raise KeyError(f"the manifest defines no function {callback_id!r}")
        definition = self.functions.get(callback_id) or {}
        execution = {"id": f"Fx{next(self._ids):010d}", "callback_id": callback_id, "inputs": dict(inputs),
                     "token": "xwfp-" + secrets.token_hex(12), "state": "running", "outputs": None, "error": None,
                     "completed_by": None, "started": time.time(), "workflow_execution_id": f"Wx{next(self._ids):010d}",
                     "function": {"id": f"Fn{abs(hash(callback_id)) % 10**8:08d}", "callback_id": callback_id,
                                  "title": definition.get("title", callback_id),
                                  "description": definition.get("description", ""), "type": "app",
                                  "app_id": self.app_id,
                                  "input_parameters": _parameters(definition.get("input_parameters")),
                                  "output_parameters": _parameters(definition.get("output_parameters"))}}
        with self._lock:
            self.executions[execution["id"]] = execution
            self._function_tokens[execution["token"]] = execution["id"]
        self.app.register(Grant(execution["token"], "function", self, user_id=self.bot_user_id))
        return dict(execution)

    def execution(self, execution_id: str) -> dict[str, Any] | None:
        with self._lock:
            found = self.executions.get(execution_id)
            return dict(found) if found else None

    def _execution_of_token(self, token: str | None) -> dict[str, Any] | None:
        if not token or not token.startswith("xwfp-"):
            return None
        with self._lock:
            execution_id = self._function_tokens.get(token)
            return self.executions.get(execution_id) if execution_id else None

    def _finish_execution(self, p: dict[str, Any], state: str, **values: Any) -> dict[str, Any]:
        execution_id = p.get("function_execution_id") or ""
        with self._lock:
            execution = self.executions.get(execution_id)
            if execution is None:
                raise SlackError(EXECUTION_NOT_FOUND)
            if execution["state"] != "running":
                raise SlackError(ALREADY_COMPLETED)
            execution.update(state=state, completed_by=p.get("_token") or "bot", completed_at=time.time(), **values)
            self._record(f"function_{state}", execution_id=execution_id, callback_id=execution["callback_id"],
                         outputs=values.get("outputs"), error=values.get("error"), by=execution["completed_by"])
        return {}

    def _complete_success(self, p: dict[str, Any]) -> dict[str, Any]:
        outputs = p.get("outputs")
        if isinstance(outputs, str):
            try:
                outputs = json.loads(outputs)
            except ValueError:
                raise SlackError("invalid_arguments") from None
        if not isinstance(outputs, dict):
            raise SlackError("invalid_arguments", ["outputs must be an object"])
        with self._lock:
            execution = self.executions.get(p.get("function_execution_id") or "")
        if execution is not None:
            problems = check_outputs(self.functions.get(execution["callback_id"]) or {}, outputs)
            if problems:
                raise SlackError("invalid_arguments", problems)
        return self._finish_execution(p, "completed", outputs=outputs)

    def _complete_error(self, p: dict[str, Any]) -> dict[str, Any]:
        error = p.get("error")
        if not isinstance(error, str) or not error.strip():
            raise SlackError("invalid_arguments", ["error must be a non-empty string"])
        return self._finish_execution(p, "failed", error=error)

    # -- the assistant pane -----------------------------------------------------------------------------
    def open_assistant_thread(self, user: str, context_channel: str | None = None) -> dict[str, Any]:
        """The user opens the app's assistant pane: a new thread in their DM with the app (its root is
        Slack's ``assistant_app_thread`` message). Returns channel_id, thread_ts, user_id, context."""
        self._know(user)
        channel = self.dm_channel(user)
        root = self._new_message(channel, text="New Assistant Thread", blocks=None,
                                 extra={"subtype": "assistant_app_thread"}, record=None)
        context = {"channel_id": context_channel, "team_id": self.team_id, "enterprise_id": self.enterprise_id} \
            if context_channel else {}
        with self._lock:
            self.assistant_threads[(channel, root["ts"])] = {"user": user, "context": context, "status": "",
                                                             "title": "", "prompts": [], "prompts_title": ""}
        return {"channel_id": channel, "thread_ts": root["ts"], "user_id": user, "context": context}

    def assistant_thread(self, channel: str, thread_ts: str) -> dict[str, Any] | None:
        with self._lock:
            found = self.assistant_threads.get((channel, thread_ts))
            return dict(found) if found else None

    def _thread_of(self, p: dict[str, Any]) -> dict[str, Any]:
        channel, thread_ts = p.get("channel_id") or "", p.get("thread_ts") or ""
        if not channel:
            raise SlackError("invalid_arguments", ["channel_id is required"])
        if not thread_ts:
            raise SlackError("invalid_arguments", ["thread_ts is required"])
        thread = self.assistant_threads.get((channel, thread_ts))
        if thread is None:
            raise SlackError("channel_not_found" if not channel.startswith("D") else "thread_not_found")
        return thread

    def _assistant_status(self, p: dict[str, Any]) -> dict[str, Any]:
        thread = self._thread_of(p)
        if "status" not in p:
            raise SlackError("invalid_arguments", ["status is required (empty clears it)"])
        with self._lock:
            thread["status"] = str(p.get("status") or "")
            self._record("assistant_status", channel=p["channel_id"], thread_ts=p["thread_ts"],
                         status=thread["status"])
        return {}

    def _assistant_prompts(self, p: dict[str, Any]) -> dict[str, Any]:
        thread = self._thread_of(p)
        prompts = p.get("prompts")
        if isinstance(prompts, str):
            try:
                prompts = json.loads(prompts)
            except ValueError:
                raise SlackError("invalid_arguments") from None
        problems = []
        if not isinstance(prompts, list) or not prompts:
            problems.append("prompts must be a non-empty array")
        elif len(prompts) > MAX_SUGGESTED_PROMPTS:
            problems.append(f"no more than {MAX_SUGGESTED_PROMPTS} prompts allowed")
        else:
            for i, prompt in enumerate(prompts):
                if not isinstance(prompt, dict) or not str(prompt.get("title") or "").strip() \
                        or not str(prompt.get("message") or "").strip():
                    problems.append(f"prompts/{i} needs a title and a message")
        if problems:
            raise SlackError("invalid_arguments", problems)
        with self._lock:
            thread["prompts"] = [dict(x) for x in prompts]  # type: ignore[union-attr]  # the thread exists: it was just made
            thread["prompts_title"] = p.get("title") or ""
            self._record("assistant_prompts", channel=p["channel_id"], thread_ts=p["thread_ts"],
                         prompts=thread["prompts"], title=thread["prompts_title"])
        return {}

    def _assistant_title(self, p: dict[str, Any]) -> dict[str, Any]:
        thread = self._thread_of(p)
        if not str(p.get("title") or "").strip():
            raise SlackError("invalid_arguments", ["title is required"])
        with self._lock:
            thread["title"] = p["title"]
            self._record("assistant_title", channel=p["channel_id"], thread_ts=p["thread_ts"], title=p["title"])
        return {}

    # -- conversations, users --------------------------------------------------------------------
    def _conv_open(self, p: dict[str, Any]) -> dict[str, Any]:
        users = [u for u in str(p.get("users") or "").split(",") if u]
        if not users:
            raise SlackError("users_list_not_supplied")
        channel = self.dm_channel(users[0]) if len(users) == 1 else "G" + "_".join(sorted(users))
        return {"channel": {"id": channel, "is_im": len(users) == 1}}

    def _conv_info(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = p.get("channel") or ""
        if not channel.startswith(("C", "G", "D")):
            raise SlackError("channel_not_found")
        info: dict[str, Any] = {"id": channel, "name": channel_name(channel), "is_channel": channel.startswith("C"),
                                "is_private": channel.startswith("G") or channel in self.private_channels,
                                "is_im": channel.startswith("D"), "is_mpim": channel.startswith("G_MPIM"),
                                "is_member": self.is_member(channel, self.bot_user_id), "is_archived": False}
        if channel.startswith("D"):
            info["user"] = channel[1:]
        return {"channel": info}

    def _conv_members(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = p.get("channel") or ""
        if not channel.startswith(("C", "G", "D")):
            raise SlackError("channel_not_found")
        with self._lock:
            if channel in self.members:
                members = sorted(self.members[channel])
            elif channel.startswith("D"):
                members = sorted({self.bot_user_id, channel[1:]})
            else:
                members = self._known_users()
        limit = int(p.get("limit") or 100)
        start = int(p.get("cursor") or 0)
        page = members[start:start + limit]
        more = start + limit < len(members)
        return {"members": page, "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

    def _readable(self, p: dict[str, Any]) -> str:
        channel = p.get("channel") or ""
        if not channel.startswith(("C", "G", "D")):
            raise SlackError("channel_not_found")
        if not self.is_member(channel, self.bot_user_id):
            raise SlackError("not_in_channel")
        return channel

    def _as_listed(self, m: dict[str, Any], p: dict[str, Any]) -> dict[str, Any]:
        """A message as history/replies list it: metadata only with ``include_all_metadata``."""
        out = dict(self.slack_message(public(m)))
        if str(p.get("include_all_metadata", "")).lower() not in ("1", "true"):
            out.pop("metadata", None)
        if out.get("thread_ts") is None:
            out.pop("thread_ts", None)
        return out

    @staticmethod
    def _page(items: list[dict[str, Any]], p: dict[str, Any]) -> dict[str, Any]:
        limit = max(1, min(int(p.get("limit") or 100), 1000))
        start = int(p.get("cursor") or 0)
        page = items[start:start + limit]
        more = start + limit < len(items)
        return {"messages": page, "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

    def _conv_history(self, p: dict[str, Any]) -> dict[str, Any]:
        """Top-level messages (not thread replies), newest first, between ``oldest`` and ``latest``."""
        channel = self._readable(p)
        oldest = float(p.get("oldest") or 0)
        latest = float(p.get("latest") or "inf")
        inclusive = str(p.get("inclusive", "")).lower() in ("1", "true")
        with self._lock:
            found = [m for m in self._messages.values() if m["channel"] == channel
                     and (not m.get("thread_ts") or m["thread_ts"] == m["ts"] or m.get("reply_broadcast"))
                     and (oldest <= float(m["ts"]) <= latest if inclusive else oldest < float(m["ts"]) < latest)]
            listed = [self._as_listed(m, p) for m in sorted(found, key=lambda m: float(m["ts"]), reverse=True)]
        return self._page(listed, p)

    def _conv_replies(self, p: dict[str, Any]) -> dict[str, Any]:
        """The thread's parent, then its replies, oldest first."""
        channel = self._readable(p)
        ts = p.get("ts") or ""
        with self._lock:
            parent = self._messages.get((channel, ts))
            if parent is None:
                raise SlackError("thread_not_found")
            thread = [m for m in self._messages.values() if m["channel"] == channel and m.get("thread_ts") == ts
                      and m["ts"] != ts]
            listed = [self._as_listed(m, p) for m in [parent, *sorted(thread, key=lambda m: float(m["ts"]))]]
        return self._page(listed, p)

    def _users_info(self, p: dict[str, Any]) -> dict[str, Any]:
        user = p.get("user") or ""
        with self._lock:
            known = self.users.get(user)
        if known is None:
            if not user.startswith(("U", "W")):
                raise SlackError("user_not_found")
            known = self.add_user(user, is_bot=user == self.bot_user_id)
        return {"user": known}

    # -- views ---------------------------------------------------------------------------------
    def _use_trigger(self, p: dict[str, Any]) -> str:
        trigger = p.get("trigger_id") or ""
        with self._lock:
            found = self._triggers.pop(trigger, None)
        if found is None:
            raise SlackError("invalid_trigger_id")
        user, issued = found
        if time.monotonic() - issued > self.trigger_ttl:
            raise SlackError("expired_trigger_id")
        return user

    def _store_view(self, view: Any, user: str, view_id: str | None = None, kind: str = "view_open",
                    push: bool = False) -> dict[str, Any]:
        problems = validate_view(view)
        if problems:
            raise SlackError("invalid_arguments", problems)
        with self._lock:
            external = view.get("external_id")
            if external and any(v.get("external_id") == external and vid != view_id and not v.get("closed")
                                for vid, v in self._views.items()):
                raise SlackError("duplicate_external_id")
            stack = self._stacks.setdefault(user, [])
            if push and len(stack) >= MODAL_STACK:
                raise SlackError("push_limit_reached")
            if view_id is None:
                view_id = self._id("V")
                if not push:
                    for old in list(stack):  # a new root replaces whatever was open
                        self._close(old, record=False)
                    stack = self._stacks.setdefault(user, [])
                root = stack[0] if stack else view_id
                previous = stack[-1] if stack else None
                stack.append(view_id)
            else:
                root = self._views[view_id]["root_view_id"]
                previous = self._views[view_id]["previous_view_id"]
            stored = {**view, "id": view_id, "team_id": self.team_id, "app_id": self.app_id, "bot_id": self.bot_id,
                      "hash": f"{int(time.time())}.{secrets.token_hex(4)}", "root_view_id": root,
                      "previous_view_id": previous, "state": {"values": {}}, "user": user, "closed": False}
            stored.setdefault("private_metadata", "")
            stored.setdefault("callback_id", "")
            self._views[view_id] = stored
            if view_id in self._view_order:
                self._view_order.remove(view_id)
            self._view_order.append(view_id)
            stored["_seq"] = self._record(kind, user=user, view_id=view_id, blocks=stored.get("blocks") or [],
                                          text=(view.get("title") or {}).get("text", ""))
            return {"view": {k: v for k, v in public(stored).items() if k not in ("user", "closed")}}

    def _close(self, view_id: str, record: bool = True) -> None:
        view = self._views[view_id]
        stack = self._stacks.get(view["user"], [])
        if view_id in stack:
            stack.remove(view_id)
        if not view["closed"] and record:
            self._record("view_closed", user=view["user"], view_id=view_id, text="", blocks=[])
        view["closed"] = True

    def _views_open(self, p: dict[str, Any]) -> dict[str, Any]:
        return self._store_view(p.get("view"), self._use_trigger(p))

    def _views_push(self, p: dict[str, Any]) -> dict[str, Any]:
        return self._store_view(p.get("view"), self._use_trigger(p), kind="view_push", push=True)

    def _views_update(self, p: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            view_id = p.get("view_id")
            if not view_id and p.get("external_id"):
                view_id = next((v for v, s in self._views.items() if s.get("external_id") == p["external_id"]), None)
            current = self._views.get(view_id or "")
            if current is None or current["closed"]:
                raise SlackError("not_found")
            if p.get("hash") and p["hash"] != current["hash"]:
                raise SlackError("hash_conflict")
            return self._store_view(p.get("view"), current["user"], view_id, kind="view_update")

    def _views_publish(self, p: dict[str, Any]) -> dict[str, Any]:
        user = p.get("user_id") or ""
        if not user:
            raise SlackError("invalid_arguments", ["missing required field: user_id"])
        view = p.get("view")
        problems = validate_view(view)
        if problems:
            raise SlackError("invalid_arguments", problems)
        if view.get("type") != "home":
            raise SlackError("invalid_arguments", ["views.publish takes a home view [json-pointer:/view/type]"])
        with self._lock:
            current = self._homes.get(user)
            if current and p.get("hash") and p["hash"] != current["hash"]:
                raise SlackError("hash_conflict")
            stored = {**view, "id": current["id"] if current else self._id("V"), "team_id": self.team_id,
                      "app_id": self.app_id, "bot_id": self.bot_id, "user": user, "state": {"values": {}},
                      "hash": f"{int(time.time())}.{secrets.token_hex(4)}"}
            stored["_seq"] = self._record("home", user=user, view_id=stored["id"], blocks=view.get("blocks") or [],
                                          text="")
            self._homes[user] = stored
            return {"view": {k: v for k, v in public(stored).items() if k != "user"}}

    # -- files ---------------------------------------------------------------------------------
    def _files_info(self, p: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            file = self._files.get(p.get("file") or "")
        if file is None:
            raise SlackError("file_not_found")
        return {"file": public(file)}

    def _files_delete(self, p: dict[str, Any]) -> dict[str, Any]:
        """``files.delete``: a bot token deletes only files the bot uploaded (else ``cant_delete_file``).
        The file is gone from ``files.info`` and downloads; a message that shared it shows a tombstone,
        as Slack does; :meth:`uploads` marks the upload ``deleted``."""
        file_id = p.get("file") or ""
        with self._lock:
            file = self._files.get(file_id)
            if file is None:
                raise SlackError("file_not_found")
            if file.get("user") != self.bot_user_id:
                raise SlackError("cant_delete_file")
            del self._files[file_id]
            for upload in self._uploads:
                if upload["id"] == file_id:
                    upload["deleted"] = True
            for message in self._messages.values():
                if any(f.get("id") == file_id for f in message.get("files") or []):
                    message["files"] = [{"id": f["id"], "mode": "tombstone"} if f.get("id") == file_id else f
                                        for f in message["files"]]
            self._record("file_delete", file_id=file_id, channel=None, text="")
        return {}

    def deleted_files(self) -> list[str]:
        """Ids of the files deleted with ``files.delete``, in order."""
        with self._lock:
            return [e["file_id"] for e in self.timeline if e["kind"] == "file_delete"]

    def _files_upload_v1(self, p: dict[str, Any]) -> dict[str, Any]:
        # Slack retired files.upload for new apps; files_upload_v2 is the way.
        raise SlackError("method_deprecated")

    def _get_upload_url(self, p: dict[str, Any]) -> dict[str, Any]:
        length = str(p.get("length", ""))
        if not p.get("filename") or not length.isdigit() or int(length) < 1:
            raise SlackError("invalid_arguments")
        if len(str(p.get("alt_txt") or "")) > ALT_TEXT:
            raise SlackError("invalid_arguments", [f"alt_txt must be at most {ALT_TEXT} characters"])
        file_id = self._id("F")
        with self._lock:
            self._pending_uploads[file_id] = {"filename": p["filename"], "length": int(length), "content": None,
                                              "alt_txt": p.get("alt_txt")}
        return {"upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}

    def _receive_upload(self, request: Request) -> Response:
        upload_id = request.params["upload_id"]
        content = request.body
        if "multipart" in request.headers.get("content-type", ""):
            parts = request.multipart()
            content = next(iter(parts.values())).content if parts else b""
        with self._lock:
            pending = self._pending_uploads.get(upload_id)
            if pending is None:
                return text_response("not found", 404)
            pending["content"] = content
        return text_response(f"OK - {len(content)}")

    def _complete_upload(self, p: dict[str, Any]) -> dict[str, Any]:
        entries = p.get("files")
        if not isinstance(entries, list) or not entries:
            raise SlackError("invalid_arguments", ["files must be a non-empty array"])
        channel = p.get("channel_id") or (str(p.get("channels") or "").split(",")[0] or None)
        thread_ts = p.get("thread_ts") or None
        with self._lock:
            pending = [self._pending_uploads.get((e or {}).get("id", "")) for e in entries]
            if any(f is None or f["content"] is None for f in pending):
                raise SlackError("file_not_found")
            files = []
            for entry, upload in zip(entries, pending, strict=True):
                del self._pending_uploads[entry["id"]]
                name = upload["filename"]
                filetype = name.rsplit(".", 1)[-1].lower() if "." in name else "binary"
                mimetype = MIMETYPES.get(filetype, "application/octet-stream")
                files.append(self._store_file(name, upload["content"], filetype=filetype, mimetype=mimetype,
                                              user=self.bot_user_id, file_id=entry["id"],
                                              title=entry.get("title") or name, alt_txt=upload.get("alt_txt")))
            ts = None
            if channel:
                message = self._new_message(channel, text=p.get("initial_comment") or "", blocks=None,
                                            thread_ts=thread_ts, files=files, record=None)
                ts = message["ts"]
            for file, upload in zip(files, pending, strict=True):
                record = {"id": file["id"], "title": file["title"], "filename": file["name"],
                          "content": upload["content"], "channel": channel, "thread_ts": thread_ts,
                          "alt_txt": upload.get("alt_txt"), "mimetype": file["mimetype"],
                          "initial_comment": p.get("initial_comment"), "ts": ts}
                self._uploads.append(record)
                seq = self._record("upload", channel=channel, thread_ts=thread_ts, ts=ts, file_id=file["id"],
                                   alt_txt=upload.get("alt_txt"), filename=file["name"],
                                   title=file["title"], content=upload["content"],
                                   text=p.get("initial_comment") or "")
                if channel:
                    self._messages[(channel, ts)]["_seq"] = seq
        return {"files": [{"id": f["id"], "title": f["title"], "name": f["name"]} for f in files]}

    def _download(self, request: Request) -> Response:
        file_id = request.params["team_file"].split("-", 1)[-1]
        auth = request.headers.get("authorization", "")
        grant = self.app.grant(auth[7:].strip()) if auth.lower().startswith("bearer ") else None
        if grant is None or grant.workspace is not self or grant.kind != "bot" or grant.usable_error():
            # Slack sends a browser without a session to its sign-in page.
            return Response(302, b"", {"Location": f"{self.url}/?redir={quote(request.path, safe='')}"})
        with self._lock:
            file = self._files.get(file_id)
        if file is None:
            return text_response("File not found", 404)
        return Response(200, file["_content"], {"Content-Type": file.get("mimetype") or "application/octet-stream"})

    # -- response_url ----------------------------------------------------------------------------
    def _response_url(self, request: Request) -> Response:
        with self._lock:
            origin = self._response_urls.get(request.params["rid"])
            if origin is None:
                return text_response("invalid_token", 404)
            if time.monotonic() - origin["created"] > self.response_url_ttl:
                return text_response("expired_url", 404)
            if origin["uses"] >= self.response_url_uses:
                return text_response("used_url", 404)
        try:
            body = request.json() or {}
        except ValueError:
            return text_response("invalid_payload", 400)
        if not isinstance(body, dict):
            return text_response("invalid_payload", 400)
        if validate_blocks(body.get("blocks")):
            return text_response("invalid_blocks", 400)
        if len(body.get("text") or "") > MESSAGE_TEXT:
            return text_response("msg_too_long", 400)
        delete = bool(body.get("delete_original"))
        if not delete and not body.get("text") and not body.get("blocks"):
            return text_response("no_text", 400)
        if not delete and (body.get("blocks") or body.get("attachments")) and not str(body.get("text") or "").strip():
            return text_response("no_text", 400)  # as for chat.*: blocks need the fallback text (see _check_message)
        with self._lock:
            origin["uses"] += 1
            self._apply_response(origin, body)
        return text_response("ok")

    def _apply_response(self, origin: dict[str, Any], body: dict[str, Any]) -> None:
        replace, delete = bool(body.get("replace_original")), bool(body.get("delete_original"))
        response_type = body.get("response_type") or "ephemeral"
        channel, user = origin["channel"], origin["user"]
        text, blocks = body.get("text") or "", body.get("blocks") or []
        entry = {"user": user, "channel": channel, "text": text, "blocks": blocks, "response_type": response_type,
                 "replace_original": body.get("replace_original"), "delete_original": body.get("delete_original"),
                 "ts": None, "thread_ts": origin.get("thread_ts"), "replaced": False}
        self._responses.append(entry)
        original_ts = origin.get("message_ts")
        if (replace or delete) and original_ts and not origin.get("ephemeral"):
            message = self._messages.get((channel, original_ts))
            if message is not None:  # a click on a channel message: Slack edits or removes that message
                if delete:
                    del self._messages[(channel, original_ts)]
                    self._record("delete", channel=channel, ts=original_ts)
                else:
                    changes = {"text": text, "blocks": blocks}
                    self._update_message(message, changes)
                entry["replaced"] = True  # it lives on as the message
                return
        if (replace or delete) and original_ts:
            for old in itertools.chain(self._ephemerals, self._responses):
                if old.get("ts") == original_ts and old.get("user") == user:
                    old["replaced"] = True
        if delete:
            entry["replaced"] = True
            self._record("delete", channel=channel, ts=original_ts, user=user)
            return
        if response_type == "in_channel" and not replace:
            message = self._new_message(channel or "C_UNKNOWN", text=text, blocks=blocks,
                                        thread_ts=origin.get("thread_ts"))
            entry["ts"] = message["ts"]
            entry["replaced"] = True  # it lives on as the message
            return
        entry["ts"] = self._next_ts()
        entry["_seq"] = self._record("response", **public(entry))


def _parameters(spec: Any) -> list[dict[str, Any]]:
    """A manifest's ``{properties, required}`` as the event lists them: one dict per parameter."""
    spec = spec or {}
    required = set(spec.get("required") or [])
    return [{"name": name, "type": (p or {}).get("type"), "title": (p or {}).get("title", name),
             "description": (p or {}).get("description", ""), "is_required": name in required}
            for name, p in (spec.get("properties") or {}).items()]


def _type_ok(kind: str, value: Any) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "array":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "slack#/types/user_id":
        return isinstance(value, str) and value[:1] in ("U", "W")
    if kind == "slack#/types/channel_id":
        return isinstance(value, str) and value[:1] in ("C", "G", "D")
    return isinstance(value, str)


def check_outputs(definition: dict[str, Any], outputs: dict[str, Any]) -> list[str]:
    """What Slack would refuse in ``outputs`` for a function ``definition`` (manifest ``functions`` entry):
    a required output missing, an output the function does not declare, a value of the wrong type."""
    spec = definition.get("output_parameters") or {}
    properties = spec.get("properties") or {}
    problems = [f"missing required output {name!r}" for name in spec.get("required") or []
                if outputs.get(name) in (None, "")]
    for name, value in outputs.items():
        if name not in properties:
            problems.append(f"output {name!r} is not declared by the function")
            continue
        kind = str((properties[name] or {}).get("type") or "string")
        if value is not None and not _type_ok(kind, value):
            problems.append(f"output {name!r} must be of type {kind}")
        items = (properties[name] or {}).get("items") or {}
        if kind == "array" and isinstance(value, list) and items.get("type"):
            problems += [f"output {name!r}[{i}] must be of type {items['type']}" for i, v in enumerate(value)
                         if not _type_ok(str(items["type"]), v)]
    return problems


def _name_of(user_id: str) -> str:
    return user_id.removeprefix("U_").replace("_", " ").title()


def _with_query(url: str, **values: str | None) -> str:
    """``url`` with ``values`` (those not None) added to its query."""
    query = urlencode({k: v for k, v in values.items() if v is not None})
    return f"{url}{'&' if urlsplit(url).query else '?'}{query}"


def _take_cookies(response: httpx.Response, jar: dict[str, str]) -> None:
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        jar[name.strip()] = rest.split(";", 1)[0].strip()
