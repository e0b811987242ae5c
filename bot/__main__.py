"""``python -m bot [run|doctor|sandbox|export-workspace]``.

``run`` (the default) picks the mode from the settings, as the contract says:
Socket Mode with ``SLACK_APP_TOKEN``; HTTP mode with ``SLACK_BOT_TOKEN`` and
``SLACK_SIGNING_SECRET``; otherwise the sandbox with local stand-ins and a console.

``export-workspace [TEAM_ID] OUT.zip`` writes a workspace's data as a zip of CSVs (the same zip
``/pluto admin export`` sends), for the operator: after an uninstall, until
``WORKSPACE_RETENTION_DAYS`` have passed. The team id is needed when the bot serves several workspaces.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
from collections.abc import Callable

from config import ConfigError, Settings, load_settings_reporting, slack_credentials_problem

log = logging.getLogger("bot")


def _settings_or_exit() -> Settings:
    """The settings, or every invalid one named on its own line and exit 2 (never a traceback)."""
    settings, problems = _settings_and_problems()
    for problem in problems:
        print(f"pluto-bot: configuration error: {problem}", file=sys.stderr)
    if problems:
        raise SystemExit(2)
    return settings


def _settings_and_problems() -> tuple[Settings, list[str]]:
    try:
        return load_settings_reporting()
    except ConfigError as exc:
        return Settings(), [str(exc)]


NO_SANDBOX = (
    "pluto-bot: no Slack credentials are set, and the sandbox (the local stand-ins for Slack, Nimrobo, Pluto "
    "and OpenAI) is not installed: it comes with a checkout of the source, not with the bot's package.\n"
    "  - to run against Slack: set SLACK_APP_TOKEN (Socket Mode), or SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET "
    "(HTTP mode); `python -m bot doctor` checks them;\n"
    "  - to try the bot without Slack: in a checkout, run `python3 dev.py run`."
)


def _sandbox_runner() -> Callable[..., int] | None:
    """``sandbox.stack.run_sandbox`` from a checkout, or None when the sandbox is not there (an installed
    bot: the wheel ships without it)."""
    try:
        from sandbox.stack import run_sandbox
    except ModuleNotFoundError as exc:
        if exc.name in ("sandbox", "sandbox.stack"):
            return None
        raise SystemExit(f"pluto-bot: the sandbox needs {exc.name}, one of the development dependencies: "
                         "run `python3 dev.py run`, or pip install -e '.[dev]' first") from None
    return run_sandbox


def _install_signal_handlers(stop: Callable[[], object]) -> None:
    def handler(signum: int, _frame: object) -> None:
        log.info("received %s, shutting down", signal.Signals(signum).name)
        stop()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def run(settings: Settings, sandbox_mode: str = "http", workspaces: int = 1) -> int:
    from bot.logging_setup import configure_logging

    configure_logging(settings)
    mode = settings.mode
    if mode == "sandbox":
        run_sandbox = _sandbox_runner()
        if run_sandbox is None:
            print(NO_SANDBOX, file=sys.stderr)
            return 2
        return run_sandbox(settings, sandbox_mode, workspaces)

    from bot.runtime import BotRuntime

    runtime = BotRuntime(settings)
    log.info("starting Pluto Bot: %s", settings.describe())
    _install_signal_handlers(runtime.stop)
    try:
        if mode == "socket":
            return runtime.run_socket_mode()
        else:
            server = runtime.start_http()
            try:
                log.info("listening on port %s (POST /slack/events, GET /health, /ready, /metrics)", server.port)
            except OSError:  # a SIGTERM during start-up already closed the socket
                pass
            runtime.wait()
    finally:
        runtime.stop()
    return 0


EXPORT_USAGE = ("usage: python -m bot export-workspace [TEAM_ID] OUT.zip (TEAM_ID, the workspace's team or "
                "enterprise id, when the bot serves several workspaces)")


def export_workspace(settings: Settings, args: list[str]) -> int:
    """Write a workspace's data (installed, or uninstalled and within its retention period) to a zip."""
    from pathlib import Path

    from services.audit import AuditLog
    from services.errors import BotError
    from services.store import Store
    from services.workspace_export import export_workspace as build
    from services.workspaces import Workspaces

    wanted = 2 if settings.multi_workspace else 1
    if len(args) != wanted:
        print(f"pluto-bot: {EXPORT_USAGE}", file=sys.stderr)
        return 2
    key, out = (args[0], Path(args[1])) if wanted == 2 else (None, Path(args[0]))
    store = Store(settings.database_target)
    try:
        workspaces = Workspaces(store, enabled=settings.multi_workspace)
        try:
            target = workspaces.data_store(key)
        except BotError as exc:
            print(f"pluto-bot: {exc.user_message}", file=sys.stderr)
            return 1
        workspace = workspaces.get(key) if key else None
        export = build(target, key, name=workspace.name if workspace else "")
        out.write_bytes(export.data)
        AuditLog(target).record("operator", "workspace_export", delivery="file")
        print(f"wrote {out}: {len(export.tables)} tables, {export.rows} rows")
        if workspace is not None and not workspace.installed:
            when = time.strftime("%Y-%m-%d", time.gmtime(workspace.purge_after or 0))
            print(f"workspace {key} is uninstalled; its data is deleted after {when}")
    finally:
        store.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Pluto Bot for Slack")
    parser.add_argument("command", nargs="?", default="run", choices=["run", "doctor", "sandbox", "export-workspace"],
                        help="run the bot (default), check every backend, force the sandbox, or write a "
                             "workspace's data to a zip (export-workspace [TEAM_ID] OUT.zip)")
    parser.add_argument("args", nargs="*", help="export-workspace: [TEAM_ID] OUT.zip")
    parser.add_argument("--socket", action="store_true",
                        help="the sandbox with the bot in Socket Mode (with real credentials, SLACK_APP_TOKEN "
                             "picks Socket Mode)")
    parser.add_argument("--workspaces", type=int, default=1, metavar="N",
                        help="the sandbox with the bot installed in N workspaces through OAuth (2: Acme and Beta "
                             "side by side)")
    args = parser.parse_args(argv)
    if args.args and args.command != "export-workspace":
        parser.error(f"{args.command} takes no arguments")
    if args.command == "doctor":  # every problem at once, the settings' own first
        from bot.doctor import run_doctor

        settings, problems = _settings_and_problems()
        return run_doctor(settings, problems)
    settings = _settings_or_exit()
    if args.command == "export-workspace":
        return export_workspace(settings, args.args)
    if args.command == "sandbox":
        settings = settings.replace(slack_app_token="", slack_bot_token="", slack_signing_secret="")
    half_set = slack_credentials_problem(settings)
    if half_set:
        print(f"pluto-bot: {half_set}", file=sys.stderr)
        return 2
    if args.socket and settings.mode != "sandbox":
        print("pluto-bot: --socket runs the sandbox in Socket Mode; with Slack credentials set, SLACK_APP_TOKEN "
              "picks Socket Mode (use `python -m bot sandbox --socket` for the sandbox)", file=sys.stderr)
        return 2
    if args.workspaces != 1:
        problem = _workspaces_problem(settings, args.workspaces, "socket" if args.socket else "http")
        if problem:
            print(f"pluto-bot: {problem}", file=sys.stderr)
            return 2
    return run(settings, "socket" if args.socket else "http", args.workspaces)


def _workspaces_problem(settings: Settings, count: int, mode: str) -> str | None:
    """Why ``--workspaces count`` can't run here, or None."""
    if settings.mode != "sandbox":
        return ("--workspaces is for the sandbox; with Slack credentials set the bot serves the workspaces it is "
                "installed in (SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_STATE_SECRET switch OAuth on)")
    try:
        from sandbox.stack import check_workspaces
    except ModuleNotFoundError:
        return None  # run() says the sandbox is missing
    try:
        check_workspaces(count, mode)
    except ValueError as exc:
        return str(exc)
    return None


if __name__ == "__main__":
    sys.exit(main())
