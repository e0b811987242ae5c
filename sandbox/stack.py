"""The whole bot on loopback: Slack, Nimrobo, Pluto and OpenAI stand-ins plus the real bot.

The sandbox (``python -m bot`` with no Slack credentials) and the end-to-end tests both
run on a :class:`Stack`, so what a newcomer sees is what the tests check. The bot runs in
HTTP mode (``mode="http"``: signed POSTs to ``/slack/events``) or in Socket Mode
(``mode="socket"``: the bot connects to the stand-in's Socket Mode server with an app-level
token and serves only ``GET /health`` on its port). ``stack.signer`` sends Slack's payloads
either way, with the same methods.
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config import Secret, Settings

log = logging.getLogger(__name__)


@dataclass
class StackOptions:
    database_path: str | None = None
    database_url: str | None = None  # postgresql://...: run the bot on PostgreSQL instead of SQLite
    pluto: dict[str, Any] = field(default_factory=dict)  # PlutoSimulator keyword arguments
    nimrobo: dict[str, Any] = field(default_factory=dict)  # NimroboSimulator keyword arguments
    openai: bool = True  # start the OpenAI-compatible stand-in and set OPENAI_* to it
    settings: dict[str, Any] = field(default_factory=dict)  # Settings overrides
    scheduler: bool = True
    mode: str = "http"  # "http" or "socket"
    socket_ping_interval: float = 1.0  # Socket Mode: how often the bot pings (and notices a dead connection)
    #: multi-workspace OAuth (HTTP mode): the bot gets SLACK_CLIENT_ID / SLACK_CLIENT_SECRET / SLACK_STATE_SECRET
    #: and no SLACK_BOT_TOKEN; nothing is installed until ``stack.install(team_id)``
    oauth: bool = False
    token_rotation: bool = False  # the app's "token rotation" setting (installs get expiring tokens)
    token_lifetime: float | None = None  # seconds a rotating access token lives (Slack: 43200)
    workspaces: dict[str, str] = field(default_factory=dict)  # more workspaces of the test bed: team id -> name
    team_name: str = "Sandbox"  # the first workspace's name (the sandbox with several calls it "Acme")


class Stack:
    """Start with :meth:`start` (or as a context manager); everything binds 127.0.0.1, ephemeral ports."""

    def __init__(self, options: StackOptions | None = None, **settings_overrides: Any) -> None:
        self.options = options or StackOptions()
        self.options.settings.update(settings_overrides)
        if self.options.mode not in ("http", "socket"):
            raise ValueError(f"mode must be 'http' or 'socket', not {self.options.mode!r}")
        if self.options.oauth and self.options.mode != "http":
            raise ValueError("OAuth mode runs over HTTP (the install redirect needs the bot's URL)")
        self.mode = self.options.mode
        self.bot_token = "xoxb-sandbox-" + secrets.token_hex(8)
        self.app_token = "xapp-1-A0SANDBOX-" + secrets.token_hex(8)
        self.signing_secret = secrets.token_hex(16)
        self.nimrobo_key = "api_sandbox_" + secrets.token_hex(8)
        self.state_secret = secrets.token_hex(16)  # OAuth mode: SLACK_STATE_SECRET
        # OAuth mode: ENCRYPTION_KEY (required there: the installs' Slack tokens are stored encrypted with it)
        self.encryption_key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        self._signers: dict[str, Any] = {}  # team id -> the signer of another workspace
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.runtime: Any = None
        self.clock_offset = 0.0  # how far ``advance_clock`` moved the bot's clock

    def start(self) -> Stack:
        from sandbox.slack_api import SlackStandIn

        opts = self.options
        app_settings: dict[str, Any] = {"token_rotation_enabled": opts.token_rotation}
        if opts.token_lifetime is not None:
            app_settings["token_lifetime"] = opts.token_lifetime
        # In OAuth mode the app is installed nowhere until stack.install(): no bot token up front.
        self.slack = SlackStandIn(bot_token="" if opts.oauth else self.bot_token,
                                  app_token=self.app_token if self.mode == "socket" else None,
                                  functions=manifest_functions(), team_name=opts.team_name,
                                  **app_settings).start()
        for team_id, name in opts.workspaces.items():
            self.slack.add_workspace(team_id, name)
        self.nimrobo = self.pluto = self.openai = None
        nimrobo_sim = _optional("sandbox.nimrobo_sim", "NimroboSimulator")
        if nimrobo_sim is not None:
            self.nimrobo = nimrobo_sim(**{"keys": {}, **opts.nimrobo}).start()
            self.nimrobo.add_key(self.nimrobo_key)
        pluto_sim = _optional("sandbox.pluto_sim", "PlutoSimulator")
        if pluto_sim is not None:
            self.pluto = pluto_sim(**opts.pluto).start()
        openai_stub = _optional("sandbox.openai_stub", "OpenAIStub") if opts.openai else None
        if openai_stub is not None:
            self.openai = openai_stub().start()

        db_path = opts.database_path
        if db_path is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="pluto-bot-")
            db_path = str(Path(self._tmp.name) / "bot.db")
        values: dict[str, Any] = {
            "slack_bot_token": Secret(self.bot_token),
            "slack_signing_secret": Secret(self.signing_secret),
            "slack_api_url": self.slack.url + "/api/",
            "database_path": db_path,
            "database_url": Secret(opts.database_url or ""),
            "poll_interval_seconds": 1.0,
            "progress_update_seconds": 0.2,
            "port": 0,
        }
        if self.mode == "socket":  # an app-level token and no Request URL, as a Socket Mode app is set up
            values["slack_app_token"] = Secret(self.app_token)
            values["slack_signing_secret"] = Secret("")
        if self.nimrobo is not None:
            values["nimrobo_api_base_url"] = self.nimrobo.url + "/api"
            values["nimrobo_api_key"] = Secret(self.nimrobo_key)
        if self.pluto is not None:
            values["pluto_api_base_url"] = self.pluto.url + "/api"
        if self.openai is not None:
            values["openai_api_key"] = Secret("sk-sandbox-" + secrets.token_hex(6))
            values["openai_base_url"] = self.openai.url + "/v1"
        if opts.oauth:
            values.update(slack_bot_token=Secret(""), slack_client_id=self.slack.client_id,
                          slack_client_secret=Secret(self.slack.client_secret),
                          slack_state_secret=Secret(self.state_secret), encryption_key=Secret(self.encryption_key))
        values.update(opts.settings)
        self.settings = Settings().replace(**values)
        self.start_bot()
        return self

    def start_bot(self) -> None:
        """(Re)start the bot against the running stand-ins, e.g. to test a restart."""
        from bot.runtime import BotRuntime
        from sandbox.signer import SlackSigner, SocketModeSender

        self._signers.clear()  # a restarted bot has a new URL
        self.runtime = BotRuntime(self.settings)
        self.runtime.services.clock.advance(self.clock_offset)  # a restarted bot keeps the moved clock
        if self.mode == "socket":
            assert self.slack.socket is not None
            before = len(self.slack.socket.connections())
            self.server = self.runtime.start_socket_mode(port=0, host="127.0.0.1", scheduler=self.options.scheduler,
                                                         ping_interval=self.options.socket_ping_interval)
            self.slack.socket.wait_for_connection(count=before + 1)
            # ... and until the bot has read the hello: it is connected on its side too
            self.slack.wait_for(lambda: self.runtime.socket.state.state == "connected", timeout=15)
            self.signer = SocketModeSender(self.slack)
        else:
            self.server = self.runtime.start_http(port=0, host="127.0.0.1", scheduler=self.options.scheduler)
            self.signer = SlackSigner(self.server.url, self.signing_secret, self.slack)
            if self.options.oauth:  # the app's Redirect URL (OAuth & Permissions) is the bot's
                self.slack.app.redirect_urls = [self.server.url + "/slack/oauth_redirect"]
                from bot.installs import (  # and its scopes are the manifest's
                    manifest_bot_scopes,
                    manifest_user_scopes,
                )

                self.slack.app.bot_scopes, self.slack.app.user_scopes = set(manifest_bot_scopes()), set(manifest_user_scopes())

    def advance_clock(self, seconds: float) -> float:
        """Move the bot's notion of time forward (``sim clock +1d``) and look for what is due now,
        as the ``reminders`` job does every minute; the bot's new now."""
        from bot.flows.reminders import run_due

        self.clock_offset += seconds
        now = self.runtime.services.clock.advance(seconds)
        if self.runtime.services.leadership.is_leader:
            run_due(self.runtime.services, self.runtime.client)
        return now

    def stop_bot(self) -> None:
        if self.runtime is not None:
            self.runtime.stop()
            self.runtime = None

    # -- several workspaces -------------------------------------------------------------------------
    @property
    def team_ids(self) -> list[str]:
        """Every workspace of the test bed, the first one first (one unless ``workspaces`` adds some)."""
        with self.slack.app.lock:
            return list(self.slack.app.workspaces)

    def add_workspace(self, team_id: str, name: str, *, enterprise_id: str | None = None) -> Any:
        """Another workspace on the Slack test bed (see :meth:`SlackStandIn.add_workspace`); its stand-in."""
        return self.slack.add_workspace(team_id, name, enterprise_id=enterprise_id)

    def workspace(self, team_id: str) -> tuple[Any, Any]:
        """(stand-in, signer) of workspace ``team_id``: what the bot posts there, and Slack's payloads from it."""
        from sandbox.signer import SlackSigner, SocketModeSender

        standin = self.slack.workspace(team_id)
        if standin is self.slack:
            return standin, self.signer
        if team_id not in self._signers:
            self._signers[team_id] = SocketModeSender(standin) if self.mode == "socket" else \
                SlackSigner(self.server.url, self.signing_secret, standin)
        return standin, self._signers[team_id]

    def install(self, team_id: str | None = None, user: str = "U_ALICE", *, org_wide: bool = False,
                deny: bool = False) -> Any:
        """``user`` installs the bot in ``team_id`` (default: the first workspace) from the bot's own
        ``/slack/install`` page, as a browser does; the bot's answer at ``/slack/oauth_redirect``."""
        return self.slack.install_via_browser(self.bot_url + "/slack/install", team_id or self.slack.team_id, user,
                                              org_wide=org_wide, deny=deny)

    def uninstall(self, team_id: str) -> list[Any]:
        """Workspace ``team_id`` removes the app: its tokens stop working and the bot gets ``app_uninstalled``
        and ``tokens_revoked``; the bot's acks."""
        events = self.slack.uninstall(team_id)
        signer = self.workspace(team_id)[1]
        return [signer.deliver(envelope) for envelope in events]

    @property
    def services(self) -> Any:
        return self.runtime.services

    @property
    def bot_url(self) -> str:
        return self.server.url

    def stop(self) -> None:
        self.stop_bot()
        for name in ("openai", "pluto", "nimrobo", "slack"):
            server = getattr(self, name, None)
            if server is not None:
                server.stop()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def manifest_functions() -> dict[str, Any]:
    """The app's Workflow Builder steps as ``manifest.yml`` defines them (the test bed checks outputs by them)."""
    import yaml

    path = Path(__file__).resolve().parents[1] / "manifest.yml"
    try:
        return dict((yaml.safe_load(path.read_text()) or {}).get("functions") or {})
    except OSError:
        return {}


def _optional(module: str, name: str) -> Any:
    """A stand-in class, or None while that stand-in is not part of the tree."""
    import importlib

    try:
        return getattr(importlib.import_module(module), name)
    except ImportError:
        log.warning("%s is not available; the sandbox runs without it", module)
        return None


SANDBOX_DIR = "data/sandbox"


class SandboxHome:
    """Where the sandbox keeps its state: ``bot.db`` and ``sandbox.log`` in one folder of its own
    (``data/sandbox``, or ``SANDBOX_DATA_DIR``), never the production ``DATABASE_PATH``.

    The stand-ins keep everything in memory, so the database starts anew with them: at every
    start and on ``reset``. Database and stand-ins always agree.
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    @property
    def db_path(self) -> Path:
        return self.folder / "bot.db"

    @property
    def log_path(self) -> Path:
        return self.folder / "sandbox.log"

    def wipe(self) -> None:
        """Remove the sandbox database (its WAL files, and the workspaces' own databases); nothing else."""
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.db_path}{suffix}").unlink(missing_ok=True)
        # several workspaces on SQLite: each workspace's own database beside the main one (services/store.py)
        shutil.rmtree(self.folder / f"{self.db_path.stem}.workspaces", ignore_errors=True)

    def fresh_stack(self, options: StackOptions) -> Stack:
        """A started Stack on an empty database in this folder."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.wipe()
        options.database_path = str(self.db_path)
        return Stack(options).start()


class _StackSecrets(logging.Filter):
    """Masks the running stack's tokens and keys in every log record."""

    def __init__(self, stack: Callable[[], Stack | None]) -> None:
        super().__init__()
        self.stack = stack

    def filter(self, record: logging.LogRecord) -> bool:
        from bot.logging_setup import SecretFilter

        stack = self.stack()
        if stack is None:
            return True
        openai_key = stack.settings.openai_api_key.reveal() if getattr(stack, "settings", None) else ""
        slack = getattr(stack, "slack", None)
        return SecretFilter([stack.bot_token, stack.app_token, stack.signing_secret, stack.nimrobo_key,
                             openai_key, stack.state_secret, stack.encryption_key,
                             slack.client_secret if slack else ""]).filter(record)


def route_logs(log_path: Path, stack: Callable[[], Stack | None]) -> logging.Handler:
    """Every log record to ``log_path`` (tokens masked); Python warnings too, never to the terminal."""
    from bot.logging_setup import SecretFilter

    root = logging.getLogger()
    old_filters = [f for h in root.handlers for f in h.filters if isinstance(f, SecretFilter)]
    handler = logging.FileHandler(log_path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for f in [*old_filters, _StackSecrets(stack)]:
        handler.addFilter(f)
    root.handlers[:] = [handler]
    logging.captureWarnings(True)
    warnings_log = logging.getLogger("py.warnings")
    warnings_log.handlers[:] = [handler]
    warnings_log.propagate = False
    return handler


def attach_console_logs(console: Any, file_handler: logging.Handler) -> logging.Handler:
    """WARNING and above also to the console, above its prompt, masked like the file."""
    from sandbox.console import ConsoleLogHandler

    handler = ConsoleLogHandler(console)
    for f in file_handler.filters:
        handler.addFilter(f)
    logging.getLogger().addHandler(handler)
    return handler


#: the sandbox's workspaces when it shows several (``--workspaces N``): team id -> name, the first one first
SANDBOX_WORKSPACES = {"T0SANDBOX": "Acme", "T0BETA": "Beta", "T0GAMMA": "Gamma", "T0DELTA": "Delta"}


def sandbox_options(settings: Settings, mode: str = "http", workspaces: int = 1) -> StackOptions:
    """The sandbox's stack; with ``workspaces`` > 1 the bot runs in OAuth mode (no bot token: installed per
    workspace) on that many workspaces of the Slack test bed (:data:`SANDBOX_WORKSPACES`)."""
    options = StackOptions(mode=mode, socket_ping_interval=5.0,
                           pluto={"extract_seconds": 2.0, "score_seconds": 6.0},
                           nimrobo={"evaluation_delay": 3.0, "summary_delay": 2.0, "varied_answers": True},
                           # the real throttle for progress updates; a short watcher period for the demo
                           settings={"progress_update_seconds": settings.progress_update_seconds,
                                     "poll_interval_seconds": min(settings.poll_interval_seconds, 5.0)})
    if workspaces > 1:
        check_workspaces(workspaces, mode)
        teams = list(SANDBOX_WORKSPACES.items())[:workspaces]
        options.oauth = True
        options.team_name = teams[0][1]
        options.workspaces = dict(teams[1:])
    return options


def check_workspaces(count: int, mode: str = "http") -> None:
    """``--workspaces N`` the sandbox can show: ValueError with the reason otherwise."""
    if not 1 <= count <= len(SANDBOX_WORKSPACES):
        raise ValueError(f"--workspaces takes 1 to {len(SANDBOX_WORKSPACES)}, not {count}")
    if count > 1 and mode != "http":
        raise ValueError("several workspaces install the bot through OAuth, which runs over HTTP: "
                         "leave out --socket")


def install_everywhere(stack: Stack, user: str) -> list[str]:
    """``user`` installs the bot in every workspace of the test bed through the bot's own ``/slack/install``
    page (Add to Slack, Allow, back to ``/slack/oauth_redirect``), as a browser would; one line per workspace."""
    lines = []
    for team_id in stack.team_ids:
        lines.append(install_line(stack, team_id, stack.install(team_id, user)))
    return lines


def install_line(stack: Stack, team_id: str, response: Any) -> str:
    """What an install through ``/slack/install`` came to, in a sentence."""
    name = stack.slack.workspace(team_id).team_name
    if response.status_code == 200 and stack.services.workspaces.is_installed(team_id):
        return f"Installed in {name} ({team_id}) through the bot's /slack/install: Add to Slack → Allow → " \
               "/slack/oauth_redirect"
    return f"Installing in {name} ({team_id}) failed: the bot answered HTTP {response.status_code}"


def run_sandbox(settings: Settings, mode: str = "http", workspaces: int = 1) -> int:
    """``python -m bot`` with no Slack credentials: the stack plus a terminal console.

    ``mode="socket"`` (``python -m bot --socket``) runs the bot over Socket Mode, as most teams deploy it.
    ``workspaces=2`` (``--workspaces 2``): the bot in OAuth mode, installed in two workspaces (Acme and Beta)
    shown side by side in the browser; the console switches between them with ``ws``.
    """
    from sandbox.console import USER, Console

    home = SandboxHome(os.environ.get("SANDBOX_DATA_DIR") or SANDBOX_DIR)
    home.folder.mkdir(parents=True, exist_ok=True)
    console: Console | None = None
    file_handler = route_logs(home.log_path, lambda: console.stack if console else None)

    from sandbox.web import WebSandbox, open_browser, prepare

    installed: list[str] = []

    def fresh() -> Stack:
        started = home.fresh_stack(sandbox_options(settings, mode, workspaces))
        prepare(started)
        if workspaces > 1:
            installed[:] = install_everywhere(started, USER)
            for line in installed:
                log.info("%s", line)
        return started

    stack = fresh()
    log.info("sandbox started: %s", stack.settings.describe())
    web = WebSandbox(lambda: console.stack if console else stack, restart=lambda: console.reset() if console else None,
                     port=int(os.environ.get("SANDBOX_WEB_PORT") or 0))
    try:
        web.start()
        opened = open_browser(web.url)
        page = f"The sandbox in your browser: {web.url}" + (" (opened)" if opened else "")
    except Exception as exc:  # the console works without the page
        log.warning("the sandbox page could not start: %s", exc)
        page = f"(The sandbox page could not start: {exc}; the console works as usual.)"
    intro = (f"{page}\nEvery start is a fresh start: the sandbox database ({home.db_path}) and the stand-ins begin "
             f"empty;\n`reset` starts over. Logs go to {home.log_path} (`logs`); warnings also show here.")
    if workspaces > 1:
        intro += ("\n" + "\n".join(installed) + "\nThe page shows the workspaces side by side; here `ws` switches "
                  "which one you type into (`ws beta`), `uninstall beta` / `install beta` show leaving and coming back.")
    console = Console(stack, restart=fresh, log_path=home.log_path, intro=intro)
    console_handler = attach_console_logs(console, file_handler)
    try:
        console.loop()
    finally:
        logging.getLogger().removeHandler(console_handler)
        web.stop()
        console.stack.stop()
    return 0
