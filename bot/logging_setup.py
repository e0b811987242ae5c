"""Logging an operator can query, that never prints a secret, even one passed through by a library.

* ``LOG_FORMAT=plain`` (the default): one line, ``time level logger: message [context]``.
* ``LOG_FORMAT=json``: one JSON object a line with ``time``, ``level``, ``logger``, ``message`` and the
  context of the request or job the line belongs to: ``team``, ``channel``, ``user``, ``command``,
  ``action``, ``view``, ``event``, ``job``, ``run``, ``session``, ``batch`` (those that apply), and
  ``exception`` with the traceback.

The context is a :mod:`contextvars` value set by :func:`log_context`: the Bolt app sets it for each
Slack request (bot/app.py), the scheduler for each job run (bot/scheduler.py), and it travels with the
work handed to the ack threads and the work pool (:func:`carry_context`).

:class:`SecretFilter` masks the configured secrets and anything shaped like a Slack, Nimrobo or
OpenAI token in the message, its arguments, the context and the traceback, whatever the format.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from config import Settings

CONTEXT: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("pluto_log_context", default={})  # noqa: B039
CONTEXT_KEYS = ("team", "channel", "user", "command", "action", "view", "event", "job", "run", "session", "batch")
# Token shapes: Slack (xoxb-, xoxp-, xapp-, xoxe-...), Nimrobo keys (api_...), OpenAI keys (sk-...), bearer headers.
TOKEN_PATTERN = re.compile(r"\b(?:xox[abeprs]-[A-Za-z0-9-]{6,}|xapp-[A-Za-z0-9-]{6,}|api_[A-Za-z0-9_]{8,}|"
                           r"sk-[A-Za-z0-9_-]{8,})|(?<=Bearer )[A-Za-z0-9._~+/=-]{8,}")
MASK = "***"


@contextlib.contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Add ``fields`` (empty ones are left out) to every log line in this block, on this thread and on
    the work it hands on through :func:`carry_context`."""
    values = {k: str(v) for k, v in fields.items() if v not in (None, "")}
    token = CONTEXT.set({**CONTEXT.get(), **values})
    try:
        yield
    finally:
        CONTEXT.reset(token)


def context_from_body(body: dict[str, Any] | None) -> dict[str, str]:
    """The log context of a Slack payload: ids only (a user id, never a name or any text)."""
    body = body or {}

    def part(name: str) -> dict[str, Any]:
        value = body.get(name)
        return value if isinstance(value, dict) else {}

    event, user, team, channel, view = part("event"), part("user"), part("team"), part("channel"), part("view")
    actions = body.get("actions") if isinstance(body.get("actions"), list) else []
    out = {
        "team": body.get("team_id") or team.get("id"),
        "channel": body.get("channel_id") or channel.get("id") or event.get("channel"),
        "user": body.get("user_id") or user.get("id") or (event.get("user") if isinstance(event.get("user"), str)
                                                          else None),
        "command": body.get("command"),
        "action": (actions[0].get("action_id") if actions and isinstance(actions[0], dict) else None)
        or body.get("action_id") or body.get("callback_id"),
        "view": view.get("callback_id") if str(body.get("type") or "").startswith("view") else None,
        "event": event.get("type"),
    }
    return {k: str(v) for k, v in out.items() if v}


def carry_context(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` bound to the caller's log context, for running on another thread."""
    ctx = contextvars.copy_context()
    return lambda *args, **kwargs: ctx.run(fn, *args, **kwargs)


class ContextExecutor(ThreadPoolExecutor):
    """A thread pool whose tasks keep the submitter's log context (Bolt's listener executor)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return super().submit(carry_context(fn), *args, **kwargs)


class SecretFilter(logging.Filter):
    """Masks secrets in each record before any handler formats it (both formats)."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return TOKEN_PATTERN.sub(MASK, text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep the record as it is
            message = str(record.msg)
        masked = self.redact(message)
        if masked != message or record.args:
            record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        record.pluto_context = {k: self.redact(v) for k, v in CONTEXT.get().items()}
        return True


def _context(record: logging.LogRecord) -> dict[str, str]:
    return getattr(record, "pluto_context", None) or CONTEXT.get()


class PlainFormatter(logging.Formatter):
    """``2026-01-01 10:00:00,000 INFO bot.jobs.voice_watcher: message [job=voice_watcher channel=C1]``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        line = super().formatMessage(record)
        context = _context(record)
        if context:
            line += " [" + " ".join(f"{k}={context[k]}" for k in CONTEXT_KEYS if k in context) + "]"
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object a line."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        out.update({k: v for k, v in _context(record).items() if k in CONTEXT_KEYS})
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            out["exception"] = record.exc_text
        if record.stack_info:
            out["stack"] = record.stack_info
        return json.dumps(out, ensure_ascii=False, default=str)


def secrets_of(settings: Settings) -> list[str]:
    return [s.reveal() for s in (settings.slack_bot_token, settings.slack_signing_secret, settings.slack_app_token,
                                 settings.nimrobo_api_key, settings.openai_api_key, settings.encryption_key,
                                 settings.database_url)]


def make_handler(settings: Settings, stream: Any = None) -> logging.Handler:
    """A stream handler in ``settings.log_format`` with the secret filter."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else PlainFormatter())
    handler.addFilter(SecretFilter(secrets_of(settings)))
    return handler


def configure_logging(settings: Settings) -> None:
    root = logging.getLogger()
    root.handlers[:] = [make_handler(settings)]
    root.setLevel(settings.log_level if settings.log_level in logging.getLevelNamesMapping() else "INFO")
    quiet_libraries()


# Libraries whose INFO/DEBUG lines carry request URLs or bodies: a query-string token, a message
# with a private link. Their warnings and errors still show.
NOISY = ("httpx", "httpcore", "apscheduler.executors.default", "apscheduler.scheduler", "slack_bolt.App",
         "slack_sdk")


def quiet_libraries() -> None:
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
