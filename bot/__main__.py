"""``python -m bot [run|doctor|sandbox]``.

``run`` (the default) picks the mode from the settings, as the contract says:
Socket Mode with ``SLACK_APP_TOKEN``; HTTP mode with ``SLACK_BOT_TOKEN`` and
``SLACK_SIGNING_SECRET``; otherwise the sandbox with local stand-ins and a console.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from config import ConfigError, Settings, load_settings

log = logging.getLogger("bot")


def _settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        print(f"pluto-bot: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _install_signal_handlers(stop: callable) -> None:  # type: ignore[valid-type]
    def handler(signum: int, _frame: object) -> None:
        log.info("received %s, shutting down", signal.Signals(signum).name)
        stop()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def run(settings: Settings, sandbox_mode: str = "http") -> int:
    from bot.logging_setup import configure_logging

    configure_logging(settings)
    mode = settings.mode
    if mode == "sandbox":
        from sandbox.stack import run_sandbox

        return run_sandbox(settings, sandbox_mode)

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Pluto Bot for Slack")
    parser.add_argument("command", nargs="?", default="run", choices=["run", "doctor", "sandbox"],
                        help="run the bot (default), check every backend, or force the sandbox")
    parser.add_argument("--socket", action="store_true",
                        help="the sandbox with the bot in Socket Mode (with real credentials, SLACK_APP_TOKEN "
                             "picks Socket Mode)")
    args = parser.parse_args(argv)
    settings = _settings_or_exit()
    if args.command == "doctor":
        from bot.doctor import run_doctor

        return run_doctor(settings)
    if args.command == "sandbox":
        settings = settings.replace(slack_app_token="", slack_bot_token="", slack_signing_secret="")
    if args.socket and settings.mode != "sandbox":
        print("pluto-bot: --socket runs the sandbox in Socket Mode; with Slack credentials set, SLACK_APP_TOKEN "
              "picks Socket Mode (use `python -m bot sandbox --socket` for the sandbox)", file=sys.stderr)
        return 2
    return run(settings, "socket" if args.socket else "http")


if __name__ == "__main__":
    sys.exit(main())
