"""``python -m bot doctor``: one line per setting and backend, OK or FAIL with the reason and the fix.

Each check is a small function ``check_x(settings, transport) -> Check``; :func:`run_checks`
runs them in order. Settings first (token shapes, PORT, DATABASE_PATH), then each backend,
whose failure names the URL that was tried (Slack's Socket Mode too, when it is set or could be). OpenAI is optional: unset, it is shown as such.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from config import Secret, Settings
from services.http import RetryPolicy, ServiceError
from services.workspaces import WorkspaceKeyUnreadable

# A doctor answers in seconds: one quick retry, not the services' patient backoff.
DOCTOR_RETRY = RetryPolicy(attempts=2, base_delay=0.2, max_total=5.0)
DOCTOR_TIMEOUT = 10.0
TOKEN_KINDS = {"xoxb-": "a bot token (xoxb-…)", "xapp-": "an app-level token (xapp-…)",
               "xoxp-": "a user token (xoxp-…)", "xoxe": "a refresh or config token (xoxe…)"}


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    optional: bool = False  # not configured, and not needed: shown as INFO, never a failure

    def line(self) -> str:
        if self.optional:
            return f"INFO  {self.name}: {self.detail}" + (f" — {self.fix}" if self.fix else "")
        if self.ok:
            return f"OK    {self.name}: {self.detail}"
        return f"FAIL  {self.name}: {self.detail}" + (f" — fix: {self.fix}" if self.fix else "")


def _token_kind(value: str) -> str:
    return next((kind for prefix, kind in TOKEN_KINDS.items() if value.startswith(prefix)), "")


def _tried(exc: BaseException, fallback: str) -> str:
    """The URL a failed request went to (from the transport error behind ``exc``), else ``fallback``."""
    for error in (exc, exc.__cause__, exc.__context__):
        try:
            return str(error.request.url)  # type: ignore[union-attr]  # None or no .request: caught below
        except (AttributeError, RuntimeError):
            continue
    return fallback


def check_tokens(settings: Settings, transport: Any = None) -> Check:
    """Slack token shapes: ``xoxb-`` in SLACK_BOT_TOKEN, ``xapp-`` in SLACK_APP_TOKEN (never printed)."""
    problems, fixes = [], []
    bot, app = Secret(settings.slack_bot_token).reveal(), Secret(settings.slack_app_token).reveal()
    if bot and not bot.startswith("xoxb-"):
        kind = _token_kind(bot)
        problems.append(f"SLACK_BOT_TOKEN holds {kind}" if kind else "SLACK_BOT_TOKEN does not start with xoxb-")
        fixes.append("copy the Bot User OAuth Token (xoxb-…) from OAuth & Permissions")
    if app and not app.startswith("xapp-"):
        kind = _token_kind(app)
        problems.append(f"SLACK_APP_TOKEN holds {kind}, not an app-level token" if kind
                        else "SLACK_APP_TOKEN does not start with xapp-")
        fixes.append("create an app-level token with connections:write under Basic Information (xapp-…)")
    if problems:
        return Check("Slack tokens", False, "; ".join(problems), "; ".join(fixes))
    present = [name for name, value in (("SLACK_BOT_TOKEN", bot), ("SLACK_APP_TOKEN", app)) if value]
    if not present and settings.multi_workspace:
        return Check("Slack tokens", True, "none set: several workspaces, each with the token of its own install")
    if not present:
        return Check("Slack tokens", True, "none set (the sandbox runs without them)")
    return Check("Slack tokens", True, " and ".join(present) + (" have" if len(present) > 1 else " has")
                 + " the right shape")


def check_port(settings: Settings, transport: Any = None, *, mode_known: bool = True) -> Check:
    """PORT is a TCP port number (1-65535); it matters in HTTP mode only. ``mode_known`` False (the Mode check
    failed): what the port is for in each mode, never a claim about the mode."""
    port = settings.port
    used = {"http": "used in HTTP mode", "socket": "GET /health in Socket Mode"}.get(settings.mode,
                                                                                  f"unused in {settings.mode} mode")
    if not mode_known:
        used = "used in HTTP mode; GET /health in Socket Mode"
    if not isinstance(port, int) or not 1 <= port <= 65535:
        return Check("PORT", False, f"{port} is not a TCP port", "set PORT to a number from 1 to 65535 (e.g. 3000)")
    return Check("PORT", True, f"{port} ({used})")


def check_database_path(settings: Settings, transport: Any = None) -> Check:
    """The DATABASE_PATH folder exists and is writable, or can be created (nothing is left behind)."""
    path = Path(settings.database_path).expanduser()
    if path.is_dir():
        return Check("DATABASE_PATH", False, f"{path} is a folder, not a file", "name a file, e.g. data/bot.db")
    folder = path.parent
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return Check("DATABASE_PATH", False, f"cannot make {folder}: {existing} is a file",
                     "choose a DATABASE_PATH in a folder that can be created")
    try:  # a real probe: os.access says yes to root even on read-only file systems
        with tempfile.TemporaryDirectory(dir=existing, prefix=".doctor-"):
            pass
    except OSError as exc:
        what = "write to" if existing == folder else f"create {folder} in"
        return Check("DATABASE_PATH", False, f"cannot {what} {existing} ({exc.strerror or exc})",
                     "choose a writable place for DATABASE_PATH or fix the folder's permissions")
    if path.exists() and not os.access(path, os.W_OK):
        return Check("DATABASE_PATH", False, f"{path} is read-only", "make the database file writable")
    state = "exists" if path.exists() else ("will be created" if folder.exists() else
                                            f"will be created with the folder {folder}")
    return Check("DATABASE_PATH", True, f"{path} {state}; the folder is writable")


def check_slack(settings: Settings, transport: Any = None) -> Check:
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    if not settings.slack_bot_token and settings.multi_workspace:
        return Check("Slack", True, "several workspaces (OAuth): each workspace's token comes from its install "
                                    "(GET /slack/install)")
    if not settings.slack_bot_token:
        return Check("Slack", False, "SLACK_BOT_TOKEN is not set",
                     "install the app from manifest.yml and set SLACK_BOT_TOKEN (xoxb-…)")
    client = WebClient(token=settings.slack_bot_token.reveal(), base_url=settings.slack_api_url,
                       timeout=int(DOCTOR_TIMEOUT))
    try:
        auth = client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error", "error")
        return Check("Slack", False, f"auth.test answered {error}",
                     "check SLACK_BOT_TOKEN; reinstall the app if the token was revoked")
    except Exception as exc:  # network and TLS errors
        tried = settings.slack_api_url.rstrip("/") + "/auth.test"
        return Check("Slack", False, f"no answer from {tried} ({type(exc).__name__})",
                     "check SLACK_API_URL and the network")
    mode = settings.mode
    extra = ""
    if mode == "http" and not settings.slack_signing_secret:
        extra = " (no signing secret)"
    return Check("Slack", True, f"auth.test ok as {auth.get('user')} in {auth.get('team')}; mode={mode}{extra}")


def check_nimrobo(settings: Settings, transport: Any = None) -> Check:
    if not settings.nimrobo_api_key:
        return Check("Nimrobo", False, "NIMROBO_API_KEY is not set",
                     "create an API key in Nimrobo and set NIMROBO_API_KEY (api_…)")
    return probe_nimrobo(settings.nimrobo_api_base_url, settings.nimrobo_api_key, transport)


def probe_nimrobo(base_url: str, key: Secret | str, transport: Any = None, *, name: str = "Nimrobo",
                  fix: str | None = None) -> Check:
    """Whose account ``key`` is (``/v1/user/profile``) and which scopes it lacks; the key is never printed.
    ``fix``: where this key is set, when it is not ``NIMROBO_API_KEY`` (a workspace's own key)."""
    from services.nimrobo import NimroboClient

    client = NimroboClient(base_url, Secret(key).reveal(), transport=transport, timeout=DOCTOR_TIMEOUT,
                           retry=DOCTOR_RETRY)
    try:
        profile = client.get_profile()
        missing = client.missing_scopes()
    except ServiceError as exc:
        if isinstance(exc.__cause__, httpx.TransportError):
            tried = _tried(exc, base_url + "/v1/user/profile")
            return Check(name, False, f"no answer from {tried} ({type(exc.__cause__).__name__})",
                         "check NIMROBO_API_BASE_URL and the network")
        return Check(name, False, exc.message, fix or exc.hint or "check NIMROBO_API_BASE_URL and NIMROBO_API_KEY")
    finally:
        client.close()
    who = getattr(profile, "email", None) or getattr(profile, "name", None) or getattr(profile, "id", "")
    if missing:
        return Check(name, False, f"signed in as {who}, but the key lacks: {', '.join(missing)}",
                     fix or "create a key with those scopes and set NIMROBO_API_KEY")
    return Check(name, True, f"/v1/user/profile ok as {who}; every scope the bot needs is granted")


def check_pluto(settings: Settings, transport: Any = None) -> Check:
    return probe_pluto(settings.pluto_api_base_url, transport,
                       fix=f"start Pluto or set PLUTO_API_BASE_URL (now {settings.pluto_api_base_url})")


def probe_pluto(base_url: str, transport: Any = None, *, name: str = "Pluto", fix: str = "start Pluto") -> Check:
    """Does a Pluto server answer ``GET /pluto/status`` at ``base_url``?"""
    from services.pluto import PlutoClient

    client = PlutoClient(base_url, transport=transport, timeout=DOCTOR_TIMEOUT, retry=DOCTOR_RETRY)
    try:
        status = client.status()
    except ServiceError as exc:
        detail = exc.message
        if isinstance(exc.__cause__, httpx.TransportError):
            tried = _tried(exc, base_url.rstrip("/") + "/pluto/status")
            detail = f"no answer from {tried} ({type(exc.__cause__).__name__})"
        return Check(name, False, detail, fix)
    finally:
        client.close()
    state = status.get("status", "?") if isinstance(status, dict) else getattr(status, "status", "?")
    return Check(name, True, f"{base_url} reachable; pipeline is {state}")


# -- several workspaces: each one's own backends ------------------------------------------------
SET_IN_HOME = "a workspace admin sets it again in App Home (Workspace backends)"


def workspace_backend_checks(settings: Settings, workspace: Any, registry: Any,
                             transports: dict[str, Any] | None = None) -> list[Check]:
    """The Nimrobo key and the Pluto server ``workspace`` runs with (its own, else the environment's)."""
    transports = transports or {}
    results = []
    try:
        own_key, unreadable = registry.nimrobo_key(workspace.key), False
    except WorkspaceKeyUnreadable:
        own_key, unreadable = None, True
    if unreadable:
        results.append(Check("Nimrobo (its own key)", False, "its key can't be read (ENCRYPTION_KEY changed or "
                             "unset), so its Nimrobo calls are refused (never run on the default key)", SET_IN_HOME))
    elif own_key is not None:
        results.append(probe_nimrobo(settings.nimrobo_api_base_url, own_key, transports.get("nimrobo"),
                                     name="Nimrobo (its own key)", fix=SET_IN_HOME + " (with every scope)"))
    elif settings.nimrobo_api_key:
        results.append(probe_nimrobo(settings.nimrobo_api_base_url, settings.nimrobo_api_key,
                                     transports.get("nimrobo"), name="Nimrobo (the default key)"))
    else:
        results.append(Check("Nimrobo (no key)", False, "neither its own key nor NIMROBO_API_KEY is set",
                             "a workspace admin sets one in App Home, or the operator sets NIMROBO_API_KEY"))
    own_server = registry.pluto_server(workspace.key)
    results.append(probe_pluto(own_server or settings.pluto_api_base_url, transports.get("pluto"),
                               name="Pluto (its own server)" if own_server else "Pluto (the default server)",
                               fix="start that Pluto server, or " + ("a workspace admin names another in App Home"
                                                                     if own_server else "fix PLUTO_API_BASE_URL")))
    return results


def workspace_line(workspace: Any, checks: list[Check]) -> Check:
    """One line for a workspace: OK when every backend check is."""
    failed = [c for c in checks if not c.ok]
    return Check(f"Workspace {workspace.name} ({workspace.key})" if workspace.name != workspace.key
                 else f"Workspace {workspace.key}", not failed,
                 "; ".join(f"{c.name}: {c.detail}" for c in checks), "; ".join(f"{c.name}: {c.fix}" for c in failed))


def check_workspaces(settings: Settings, transports: dict[str, Any] | None = None,
                     registry: Any = None) -> list[Check]:
    """Several workspaces: a line per installed workspace with its backends; one failing hides no other."""
    if not settings.multi_workspace:
        return []
    store = None
    try:
        if registry is None:
            from services.store import Store
            from services.workspaces import Workspaces

            store = Store(settings.database_target, migrate=False)
            registry = Workspaces(store, enabled=True, encryption_key=settings.encryption_key)
        installed = [w for w in registry.all() if w.installed]
    except Exception as exc:  # no registry yet: the bot has not started on this database
        if store is not None:
            store.close()
        return [Check("Workspaces", False, f"cannot read the workspace registry ({type(exc).__name__})",
                      "start the bot once (it creates the tables), then run the doctor again")]
    try:
        if not installed:
            return [Check("Workspaces", True, "none installed yet", "install through /slack/install", optional=True)]
        results = [Check("Workspaces", True, f"{len(installed)} installed")]
        for workspace in installed:
            try:
                results.append(workspace_line(workspace, workspace_backend_checks(settings, workspace, registry,
                                                                                  transports)))
            except Exception as exc:  # a doctor never crashes, and one workspace never hides the next
                results.append(Check(f"Workspace {workspace.key}", False, f"{type(exc).__name__}: {exc}"))
        return results
    finally:
        if store is not None:
            store.close()


def check_stored_slack_tokens(settings: Settings) -> list[Check]:
    """Several workspaces: every Slack credential in the installation tables is encrypted, and readable with this
    ``ENCRYPTION_KEY`` (nothing when the key itself is wrong: its own line says so)."""
    from services.crypto import Cipher, stored_credentials
    from services.store import Store

    cipher = Cipher.from_setting(settings.encryption_key)
    if not settings.multi_workspace or cipher is None:
        return []
    name = "Slack tokens at rest"
    plain = unreadable = total = 0
    store = None
    try:
        store = Store(settings.database_target, migrate=False)
        opened = store
        for _, row, column in stored_credentials(lambda t: opened.rows(t) if opened.table(t) is not None else []):
            total += 1
            if not Cipher.is_encrypted(row[column]):
                plain += 1
            elif cipher.decrypt(row[column]) is None:
                unreadable += 1
    except Exception as exc:  # a doctor never crashes
        return [Check(name, False, f"cannot read the installation tables ({type(exc).__name__})",
                      "check DATABASE_URL (or DATABASE_PATH)")]
    finally:
        if store is not None:
            store.close()
    if plain:
        return [Check(name, False, f"{plain} stored Slack credential(s) in plain text",
                      "start the bot with ENCRYPTION_KEY set: migration m960 encrypts them")]
    if unreadable:
        return [Check(name, False, f"{unreadable} stored Slack credential(s) can't be read with this ENCRYPTION_KEY",
                      "set the ENCRYPTION_KEY they were stored with, or have those workspaces install again")]
    return [Check(name, True, f"{total} stored Slack credential(s), every one encrypted and readable"
                  if total else "none stored yet")]


def check_openai(settings: Settings, transport: Any = None) -> Check:
    import openai

    if not settings.openai_api_key:
        return Check("OpenAI", True, "not set (optional): prompts are drafted from templates",
                     "set OPENAI_API_KEY to draft them with AI", optional=True)
    client = openai.OpenAI(api_key=settings.openai_api_key.reveal(), base_url=settings.openai_base_url or None,
                           timeout=DOCTOR_TIMEOUT, max_retries=1,
                           http_client=httpx.Client(transport=transport) if transport else None)  # type: ignore[arg-type]  # openai types it against its own httpx copy
    try:
        client.models.list()
    except openai.AuthenticationError:
        return Check("OpenAI", False, "the key was refused", "check OPENAI_API_KEY")
    except openai.APIConnectionError as exc:
        tried = str(client.base_url).rstrip("/") + "/models"
        return Check("OpenAI", False, f"no answer from {tried} ({type(exc).__name__})",
                     "check OPENAI_BASE_URL and the network")
    except openai.APIError as exc:
        return Check("OpenAI", False, f"{type(exc).__name__}: {getattr(exc, 'message', exc)}",
                     "check OPENAI_BASE_URL and the network")
    return Check("OpenAI", True, f"models list ok; drafting uses {settings.openai_model}")


def check_database(settings: Settings, transport: Any = None) -> Check:
    """Can the bot reach its database (DATABASE_URL, else the SQLite file, see :func:`check_database_path`),
    and is the schema current? Changes nothing (migrations run at start-up)."""
    import sqlalchemy as sa

    from services.store import _migration_modules, describe_target, engine_url, is_postgres_url

    target = settings.database_target
    where = describe_target(target)
    postgres = is_postgres_url(target)
    name = "DATABASE_URL" if postgres else "DATABASE_PATH"
    if not postgres:
        path_check = check_database_path(settings)
        if not path_check.ok or not Path(target).exists():
            return path_check
    args = {"connect_timeout": 5} if postgres else {"timeout": 5}
    engine = sa.create_engine(engine_url(target), connect_args=args, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            version = conn.execute(sa.text("select version()" if postgres else "select sqlite_version()")).scalar()
            tables = sa.inspect(conn).get_table_names()
            applied = ({r[0] for r in conn.execute(sa.text("select name from schema_migrations"))}
                       if "schema_migrations" in tables else set())
    except sa.exc.OperationalError as exc:
        return Check(name, False, f"cannot use {where}: {_first_line(exc.orig or exc)}", _database_fix(exc, target))
    except sa.exc.SQLAlchemyError as exc:
        return Check(name, False, f"cannot use {where}: {type(exc).__name__}", _database_fix(exc, target))
    finally:
        engine.dispose()
    pending = [n for n, _ in _migration_modules() if n not in applied]
    kind = f"PostgreSQL {str(version).split()[1]}" if postgres else f"SQLite {version}"
    state = f"{len(pending)} migration(s) to apply at start-up" if pending else "schema current"
    return Check(name, True, f"{kind} at {where}; {state}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def _database_fix(exc: Exception, target: str) -> str:
    text = str(exc).lower()
    if "password authentication failed" in text or "no password supplied" in text:
        return "check the user and password in DATABASE_URL"
    if "does not exist" in text and "database" in text:
        import sqlalchemy as sa

        from services.store import engine_url

        return f"create the database (createdb {sa.engine.make_url(engine_url(target)).database}) or fix DATABASE_URL"
    if "connection refused" in text or "could not connect" in text or "timeout" in text or "resolve" in text:
        return "start PostgreSQL or fix the host and port in DATABASE_URL"
    if "permission denied" in text:
        return "grant the DATABASE_URL user CREATE and USAGE on the schema (or use the database owner)"
    if "unable to open" in text or "readonly" in text:
        return "set DATABASE_PATH to a writable file"
    return "check DATABASE_URL (or DATABASE_PATH)"


def check_encryption_key(settings: Settings, transport: Any = None) -> Check:
    """ENCRYPTION_KEY: a Fernet key. Optional with one workspace (recruiters' own Nimrobo keys); required with
    several (OAuth mode), whose Slack tokens are stored encrypted with it."""
    from services.keys import MAKE_KEY
    from services.keys import check_encryption_key as problem_with

    value = Secret(settings.encryption_key).reveal()
    if settings.multi_workspace and problem_with(value):
        return Check("ENCRYPTION_KEY", False, f"{problem_with(value)} Several workspaces (OAuth) need it: each "
                     "install's Slack tokens are stored encrypted with it", f"make one with {MAKE_KEY}")
    if settings.multi_workspace:
        return Check("ENCRYPTION_KEY", True, "a valid Fernet key: every workspace's Slack tokens and Nimrobo keys "
                     "are stored encrypted")
    if not value:
        return Check("ENCRYPTION_KEY", True, "not set: /voicelink login is off and everyone uses the shared key",
                     f"to let recruiters use their own Nimrobo keys, set ENCRYPTION_KEY to the output of {MAKE_KEY}",
                     optional=True)
    problem = problem_with(value)
    if problem:
        return Check("ENCRYPTION_KEY", False, problem, f"make one with {MAKE_KEY} (keys saved with an older "
                                                       "ENCRYPTION_KEY can't be read: recruiters log in again)")
    return Check("ENCRYPTION_KEY", True, "a valid Fernet key: recruiters' own Nimrobo keys are stored encrypted")


# -- Socket Mode ------------------------------------------------------------------------------
MANIFEST = Path(__file__).resolve().parents[1] / "manifest.yml"


def manifest_socket_mode(path: Path = MANIFEST) -> bool | None:
    """``settings.socket_mode_enabled`` in the app manifest (None when there is no manifest)."""
    import yaml

    try:
        manifest = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return None
    value = (manifest.get("settings") or {}).get("socket_mode_enabled")
    return bool(value) if value is not None else None


def check_socket_mode(settings: Settings, transport: Any = None, manifest: Path = MANIFEST) -> Check:
    """The app-level token against ``apps.connections.open``, and Socket Mode in the environment
    against Socket Mode in the app: what Slack answers, or (in HTTP mode, where there is no app
    token to ask with) what the manifest says."""
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    from bot.socket_mode import FATAL_ERRORS

    name = "Socket Mode"
    in_manifest = manifest_socket_mode(manifest)
    if not settings.slack_app_token:
        if in_manifest:
            return Check(name, True, f"SLACK_APP_TOKEN is not set (HTTP mode), but {manifest.name} turns Socket "
                         "Mode on: if the app has it on, Slack sends nothing to /slack/events",
                         "turn Socket Mode off in the app's settings and set socket_mode_enabled: false in "
                         f"{manifest.name}, or set SLACK_APP_TOKEN to run in Socket Mode", optional=True)
        return Check(name, True, "off (HTTP mode)" + (", as in the manifest" if in_manifest is False else ""))
    app_token = settings.slack_app_token.reveal()
    client = WebClient(base_url=settings.slack_api_url, timeout=int(DOCTOR_TIMEOUT))
    try:
        client.apps_connections_open(app_token=app_token)
    except SlackApiError as exc:
        error = str(exc.response.get("error", "error"))
        if error == "socket_mode_not_enabled":
            return Check(name, False, "SLACK_APP_TOKEN is set, but Socket Mode is off in the app "
                         f"(apps.connections.open answered {error})",
                         "turn Socket Mode on in the app's settings (socket_mode_enabled: true in "
                         f"{manifest.name}), or unset SLACK_APP_TOKEN and set up HTTP mode")
        kind = _token_kind(app_token)
        held = f": SLACK_APP_TOKEN holds {kind}" if kind and not app_token.startswith("xapp-") else ""
        return Check(name, False, f"apps.connections.open answered {error}{held}",
                     FATAL_ERRORS.get(error, "check SLACK_APP_TOKEN and SLACK_API_URL"))
    except Exception as exc:  # network and TLS errors
        tried = settings.slack_api_url.rstrip("/") + "/apps.connections.open"
        return Check(name, False, f"no answer from {tried} ({type(exc).__name__})",
                     "check SLACK_API_URL and the network")
    note = f"; {manifest.name} says socket_mode_enabled: false, update it to match" if in_manifest is False else ""
    return Check(name, True, f"apps.connections.open accepts SLACK_APP_TOKEN; Socket Mode is on in the app{note}")


SANDBOX_MODE = ("sandbox: no Slack credentials, so `python3 dev.py run` starts the bot against local stand-ins "
                "of Slack, Nimrobo and Pluto")
SANDBOX_FIX = "for a workspace set SLACK_APP_TOKEN and SLACK_BOT_TOKEN (Socket Mode), or SLACK_BOT_TOKEN and " \
              "SLACK_SIGNING_SECRET (HTTP)"


def _not_in_sandbox(name: str, what: str) -> Callable[[Settings, Any], Check]:
    def check(settings: Settings, transport: Any = None) -> Check:
        return Check(name, True, f"not used by the sandbox (it runs a stand-in); {what}", optional=True)
    return check


def run_checks(settings: Settings, transports: dict[str, Any] | None = None,
               problems: list[str] | tuple[str, ...] = ()) -> list[Check]:
    """Every check, in order. ``problems``: invalid settings (already replaced by their defaults), shown first,
    so one bad value never hides the rest. Without Slack credentials the mode is the sandbox: the checks of
    backends it replaces with stand-ins are shown as INFO, unless that backend is configured."""
    from config import DEFAULT_PLUTO_URL, slack_credentials_problem

    transports = transports or {}
    results = [Check("Settings", False, problem, "correct the value (or unset it for the default)")
               for problem in problems]
    half_set = slack_credentials_problem(settings)
    if half_set:
        detail, _, fix = half_set.partition(": ")
        results.append(Check("Mode", False, detail, fix))
    elif settings.mode == "sandbox":
        results.append(Check("Mode", True, SANDBOX_MODE + f" ({SANDBOX_FIX})"))
    failed = {problem.partition("=")[0] for problem in problems}  # a setting that failed: its FAIL line only
    results += _run_checks(settings, transports, sandbox=settings.mode == "sandbox" and not half_set,
                           default_pluto=settings.pluto_api_base_url == DEFAULT_PLUTO_URL,
                           mode_known=not half_set, skip={"port"} if "PORT" in failed else set())
    return results + check_stored_slack_tokens(settings) + check_workspaces(settings, transports)


def _run_checks(settings: Settings, transports: dict[str, Any], *, sandbox: bool, default_pluto: bool,
                mode_known: bool = True, skip: set[str] | None = None) -> list[Check]:
    port: Callable[[Settings, Any], Check] = partial(check_port, mode_known=mode_known)
    checks: list[tuple[str, Callable[[Settings, Any], Check]]] = [
        ("tokens", check_tokens), ("port", port), ("database", check_database),
        ("encryption", check_encryption_key),
        ("slack", check_slack), ("nimrobo", check_nimrobo), ("pluto", check_pluto), ("openai", check_openai)]
    checks = [(key, fn) for key, fn in checks if key not in (skip or set())]
    if settings.mode in ("socket", "http"):  # right after the Slack check
        checks.insert([key for key, _ in checks].index("slack") + 1, ("socket mode", check_socket_mode))
    if sandbox:
        replaced = {"tokens": None, "slack": _not_in_sandbox("Slack", SANDBOX_FIX)}
        if not settings.nimrobo_api_key:
            replaced["nimrobo"] = _not_in_sandbox("Nimrobo", "set NIMROBO_API_KEY to check the real one")
        if default_pluto:
            replaced["pluto"] = _not_in_sandbox("Pluto", "set PLUTO_API_BASE_URL to check a real one")
        checks = [(key, replaced.get(key) or fn) for key, fn in checks if key not in replaced or replaced[key]]
    results = []
    for key, fn in checks:
        try:
            results.append(fn(settings, transports.get(key)))
        except Exception as exc:  # a doctor never crashes
            results.append(Check(key.capitalize(), False, f"{type(exc).__name__}: {exc}"))
    return results


def run_doctor(settings: Settings, problems: list[str] | tuple[str, ...] = ()) -> int:
    results = run_checks(settings, problems=problems)
    for check in results:
        print(check.line())
    return 0 if all(c.ok for c in results) else 1
