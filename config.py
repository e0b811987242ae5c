"""Settings for Pluto Bot, read from the environment and an optional ``.env`` file.

The names are the bot's outer contract (the README's settings table). ``API_BASE_URL`` and
``API_KEY`` are the Nimrobo base URL and the user's Nimrobo key, exposed at module
level under exactly those names.

Secrets are :class:`Secret` values: they compare and concatenate like ``str`` but
print, format and repr as ``***`` so they cannot leak into a log line by accident.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlparse

from dotenv import dotenv_values

DEFAULT_NIMROBO_URL = "https://app.nimroboai.com/api"
DEFAULT_PLUTO_URL = "http://localhost:8000/api"
API_BASE_URL = "https://app.nimroboai.com/api"


class ConfigError(ValueError):
    """A setting is invalid. The message is one line naming the variable and what is expected."""


class Secret(str):
    """A string whose ``str()``/``repr()``/format output is masked.

    Use :meth:`reveal` (or concatenation) where the real value must be sent.
    """

    def __new__(cls, value: object = "") -> Secret:
        if isinstance(value, str):
            value = str.__getitem__(value, slice(None))  # the real characters, even from a Secret
        return super().__new__(cls, value)

    def __repr__(self) -> str:
        return "'***'" if self else "''"

    def __str__(self) -> str:
        return "***" if self else ""

    def reveal(self) -> str:
        return self[:]  # slicing yields a plain str with the real characters


def _env_file_values(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def _url(name: str, value: str) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(f"{name}={value!r} is not a valid URL; expected http(s)://host[:port]/path")
    return value


def _database_url(value: str) -> str:
    if not value:
        return ""
    parsed = urlparse(value)
    if parsed.scheme not in ("postgresql", "postgres", "postgresql+psycopg") or not (parsed.hostname or parsed.query):
        # never echo the value: it may hold a password
        raise ConfigError("DATABASE_URL is not a PostgreSQL URL; expected postgresql://user:password@host:5432/dbname")
    return value


def _flag(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}={value!r} is not a yes/no value; expected true or false")


def _timezone(name: str, value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{name}={value!r} is not a time zone; expected an IANA name such as "
                          "Europe/Berlin or UTC") from None
    return value


def _log_format(value: str) -> str:
    lowered = value.strip().lower()
    if lowered in ("text", "plain"):
        return "text"
    if lowered == "json":
        return "json"
    raise ConfigError(f"LOG_FORMAT={value!r} is not a log format; expected text or json")


def _number(name: str, value: str, kind: type = int, minimum: float = 0) -> int | float:
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}={value!r} is not a number; expected a {kind.__name__} >= {minimum}") from None
    if number < minimum:
        raise ConfigError(f"{name}={value!r} is too small; expected a {kind.__name__} >= {minimum}")
    return number


def _quiet_hours(value: str) -> str:
    """``QUIET_HOURS``: ``"20-8"`` (from 20:00 to 08:00), or ``off``."""
    text = value.strip().lower()
    if text in ("off", "none", ""):
        return "off"
    start, sep, end = text.partition("-")
    if not sep or not start.strip().isdigit() or not end.strip().isdigit() or not (
            0 <= int(start) <= 23 and 0 <= int(end) <= 23):
        raise ConfigError(f"QUIET_HOURS={value!r} is not an hour range; expected e.g. 20-8 (20:00 to 08:00) or off")
    return f"{int(start)}-{int(end)}"


@dataclass(frozen=True)
class Settings:
    slack_bot_token: Secret = Secret("")
    slack_signing_secret: Secret = Secret("")
    slack_app_token: Secret = Secret("")
    # Several workspaces (OAuth, README "Install it in several workspaces"): all three switch it on.
    slack_client_id: str = ""
    slack_client_secret: Secret = Secret("")
    slack_state_secret: Secret = Secret("")  # signs the OAuth state cookie (CSRF)
    slack_token_rotation_minutes: float = 120.0  # refresh a rotating token this long before it expires
    workspace_retention_days: float = 30.0  # an uninstalled workspace's data is kept this long, then deleted
    slack_api_url: str = "https://slack.com/api/"
    nimrobo_api_base_url: str = DEFAULT_NIMROBO_URL
    nimrobo_api_key: Secret = Secret("")
    pluto_api_base_url: str = "http://localhost:8000/api"
    openai_api_key: Secret = Secret("")
    openai_base_url: str = ""
    openai_model: str = "gpt-4o-mini"
    database_path: str = "data/bot.db"
    database_url: Secret = Secret("")  # postgresql://... (may hold a password); overrides database_path
    poll_interval_seconds: float = 30
    port: int = 3000
    # Not in the contract; tuning knobs with safe defaults.
    pluto_stall_seconds: float = 300
    max_csv_bytes: int = 50 * 1024 * 1024
    progress_update_seconds: float = 2.0
    log_level: str = "INFO"
    # Serving under load (see README "Serving under load").
    ack_threads: int = 32  # Bolt listener threads: they only ack and hand work on
    work_pool_size: int = 8  # threads for slow work after the ack
    work_per_user: int = 2  # at most this many of them busy for one person
    api_concurrency: int = 12  # requests in flight per backend for the scheduled jobs
    slack_posts_per_second: float = 1.0  # chat.postMessage per channel
    slack_updates_per_minute: float = 50.0  # chat.update per workspace (tier 3)
    http_backlog: int = 2048
    http_keepalive_seconds: float = 5.0
    encryption_key: Secret = Secret("")  # Fernet key: Nimrobo keys (services/keys.py); Slack tokens in OAuth mode
    admin_user_ids: tuple[str, ...] = ()  # Slack users who may see every run and session
    nimrobo_shared_key_fallback: bool = True  # a recruiter whose key was revoked falls back to NIMROBO_API_KEY
    # Running it as a service (README "Running it as a service").
    log_format: str = "text"  # text (plain lines) or json (one object a line)
    metrics_enabled: bool = True  # GET /metrics
    metrics_port: int | None = None  # None: /metrics on PORT; a number: on its own port instead
    shutdown_grace_seconds: float = 20.0  # after SIGTERM, how long running work may take to finish
    # Data lifecycle (README "Candidate data: retention, erasure, audit").
    data_retention_days: int = 180  # candidate data older than this is purged by the daily job
    audit_retention_days: int = 365  # audit entries older than this are purged
    retention_check_seconds: float = 86400  # how often the purge job runs (daily)
    # Reminders and digests (README "Reminders and the daily digest").
    reminder_first_after_seconds: float = 3600  # first feedback reminder after a room with no close time started
    reminder_repeat_seconds: float = 86400  # then again after this long (weekends and quiet hours skipped)
    reminder_max: int = 10  # at most this many feedback reminders per interviewer and room
    decision_nudge_after_seconds: float = 86400  # a completed, undecided interview waits this long before a nudge
    expiry_warning_seconds: float = 86400  # unused voice links expiring within this long are told to their creator
    quiet_hours: str = "20-8"  # no reminder from 20:00 to 08:00 in the person's time zone, nor on weekends
    reminder_check_seconds: int = 60  # how often due reminders and digests are looked for (a cron trigger)
    claim_timeout_seconds: float = 60.0  # last resort: a claim this old is looked up in Slack (see the outbox)
    # The outbox and its sender (services/outbox.py, bot/delivery.py; README "Delivery").
    outbox_grace_seconds: float = 3.0  # an unclear post (no answer, 5xx) is looked up in Slack after this
    outbox_poll_seconds: float = 0.5  # the sender looks for rows other replicas enqueued this often
    outbox_workers: int = 8  # channels served at once (each at Slack's per-channel pace)
    job_workspace_workers: int = 4  # several workspaces: how many workspaces' turns of one job run at once
    leader_election: bool = True  # off: every replica runs the jobs and the sender (claims still hold)
    scheduler_timezone: str = "UTC"  # the time zone of scheduled jobs' daily_at=/cron= times (bot/scheduler.py)
    step_stale_seconds: float = 300.0  # a Workflow Builder step left "working" this long was cut short: resume/fail
    extra: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def multi_workspace(self) -> bool:
        """Installed with "Add to Slack" in any number of workspaces: the OAuth app credentials are set."""
        return bool(self.slack_client_id and self.slack_client_secret and self.slack_state_secret)

    @property
    def mode(self) -> str:
        """``socket``, ``http`` or ``sandbox``, as the contract decides."""
        if self.slack_app_token:
            return "socket"
        if (self.slack_bot_token or self.multi_workspace) and self.slack_signing_secret:
            return "http"
        return "sandbox"

    @property
    def database_target(self) -> str:
        """What :class:`services.store.Store` opens: ``DATABASE_URL`` when set, else the SQLite file."""
        return self.database_url.reveal() or self.database_path

    @property
    def database_target_description(self) -> str:
        """The database for a log line: the SQLite path, or the PostgreSQL URL without its password."""
        if not self.database_url:
            return self.database_path
        from urllib.parse import urlsplit

        parts = urlsplit(self.database_url.reveal())
        host = parts.hostname or ""
        if parts.port:
            host += f":{parts.port}"
        user = f"{parts.username}@" if parts.username else ""
        return f"{parts.scheme}://{user}{host}{parts.path}"

    def replace(self, **changes: object) -> Settings:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        for key, value in changes.items():
            if key not in values:
                raise TypeError(f"unknown setting {key}")
            default = values[key]
            values[key] = Secret(value) if isinstance(default, Secret) else value
        return Settings(**values)

    def describe(self) -> str:
        """One line for the start-up log: mode and every backend URL, never a key."""
        parts = [f"mode={self.mode}", f"slack={self.slack_api_url}", f"nimrobo={self.nimrobo_api_base_url}",
                 f"pluto={self.pluto_api_base_url}"]
        if self.openai_api_key or self.openai_base_url:
            parts.append(f"openai={self.openai_base_url or 'https://api.openai.com/v1'}")
        parts.append(f"db={self.database_target_description}")
        return " ".join(parts)


def load_settings(environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env") -> Settings:
    """Build :class:`Settings` from ``environ`` (default ``os.environ``) over an optional ``.env`` file.

    Raises :class:`ConfigError` with a one-line message on the first invalid value.
    """
    values: dict[str, str] = {}
    if env_file:
        values.update(_env_file_values(Path(env_file)))
    values.update(os.environ if environ is None else environ)

    def get(*names: str, default: str = "") -> str:
        for name in names:
            value = values.get(name)
            if value not in (None, ""):
                return value.strip()
        return default

    slack_api_url = _url("SLACK_API_URL", get("SLACK_API_URL", default="https://slack.com/api/"))
    if not slack_api_url.endswith("/"):
        slack_api_url += "/"
    return Settings(
        slack_bot_token=Secret(get("SLACK_BOT_TOKEN")),
        slack_signing_secret=Secret(get("SLACK_SIGNING_SECRET")),
        slack_app_token=Secret(get("SLACK_APP_TOKEN")),
        slack_client_id=get("SLACK_CLIENT_ID"),
        slack_client_secret=Secret(get("SLACK_CLIENT_SECRET")),
        slack_state_secret=Secret(get("SLACK_STATE_SECRET")),
        slack_token_rotation_minutes=_number("SLACK_TOKEN_ROTATION_MINUTES",
                                             get("SLACK_TOKEN_ROTATION_MINUTES", default="120"), float, 0.0),
        workspace_retention_days=_number("WORKSPACE_RETENTION_DAYS", get("WORKSPACE_RETENTION_DAYS", default="30"),
                                         float, 0.0),
        slack_api_url=slack_api_url,
        nimrobo_api_base_url=_url(
            "NIMROBO_API_BASE_URL", get("NIMROBO_API_BASE_URL", "API_BASE_URL", default=DEFAULT_NIMROBO_URL)
        ).rstrip("/"),
        nimrobo_api_key=Secret(get("NIMROBO_API_KEY", "API_KEY")),
        pluto_api_base_url=_url(
            "PLUTO_API_BASE_URL", get("PLUTO_API_BASE_URL", default=DEFAULT_PLUTO_URL)
        ).rstrip("/"),
        openai_api_key=Secret(get("OPENAI_API_KEY")),
        openai_base_url=_url("OPENAI_BASE_URL", get("OPENAI_BASE_URL")) if get("OPENAI_BASE_URL") else "",
        openai_model=get("OPENAI_MODEL", default="gpt-4o-mini"),
        database_path=get("DATABASE_PATH", default="data/bot.db"),
        database_url=Secret(_database_url(get("DATABASE_URL"))),
        poll_interval_seconds=_number("POLL_INTERVAL_SECONDS", get("POLL_INTERVAL_SECONDS", default="30"), float, 1),
        port=int(_number("PORT", get("PORT", default="3000"), int, 0)),
        pluto_stall_seconds=_number("PLUTO_STALL_SECONDS", get("PLUTO_STALL_SECONDS", default="300"), float, 1),
        max_csv_bytes=int(_number("MAX_CSV_BYTES", get("MAX_CSV_BYTES", default=str(50 * 1024 * 1024)), int, 1)),
        progress_update_seconds=_number(
            "PROGRESS_UPDATE_SECONDS", get("PROGRESS_UPDATE_SECONDS", default="2"), float, 0.05
        ),
        log_level=get("LOG_LEVEL", default="INFO").upper(),
        ack_threads=int(_number("ACK_THREADS", get("ACK_THREADS", default="32"), int, 1)),
        work_pool_size=int(_number("WORK_POOL_SIZE", get("WORK_POOL_SIZE", default="8"), int, 1)),
        work_per_user=int(_number("WORK_PER_USER", get("WORK_PER_USER", default="2"), int, 1)),
        api_concurrency=int(_number("API_CONCURRENCY", get("API_CONCURRENCY", default="12"), int, 1)),
        slack_posts_per_second=_number("SLACK_POSTS_PER_SECOND", get("SLACK_POSTS_PER_SECOND", default="1"),
                                       float, 0.01),
        slack_updates_per_minute=_number("SLACK_UPDATES_PER_MINUTE",
                                         get("SLACK_UPDATES_PER_MINUTE", default="50"), float, 1),
        http_backlog=int(_number("HTTP_BACKLOG", get("HTTP_BACKLOG", default="2048"), int, 1)),
        http_keepalive_seconds=_number("HTTP_KEEPALIVE_SECONDS", get("HTTP_KEEPALIVE_SECONDS", default="5"),
                                       float, 1),
        encryption_key=Secret(get("ENCRYPTION_KEY")),
        admin_user_ids=tuple(u for u in (x.strip() for x in get("ADMIN_USER_IDS").replace(";", ",").split(",")) if u),
        nimrobo_shared_key_fallback=_flag("NIMROBO_SHARED_KEY_FALLBACK", get("NIMROBO_SHARED_KEY_FALLBACK",
                                                                            default="true")),
        claim_timeout_seconds=_number("CLAIM_TIMEOUT_SECONDS", get("CLAIM_TIMEOUT_SECONDS", default="60"), float, 1),
        step_stale_seconds=_number("STEP_STALE_SECONDS", get("STEP_STALE_SECONDS", default="300"), float, 0.1),
        log_format=_log_format(get("LOG_FORMAT", default="text")),
        metrics_enabled=_flag("METRICS_ENABLED", get("METRICS_ENABLED", default="true")),
        metrics_port=int(_number("METRICS_PORT", get("METRICS_PORT"), int, 0)) if get("METRICS_PORT") else None,
        shutdown_grace_seconds=_number("SHUTDOWN_GRACE_SECONDS", get("SHUTDOWN_GRACE_SECONDS", default="20"),
                                       float, 0),
        data_retention_days=int(_number("DATA_RETENTION_DAYS", get("DATA_RETENTION_DAYS", default="180"), int, 1)),
        audit_retention_days=int(_number("AUDIT_RETENTION_DAYS", get("AUDIT_RETENTION_DAYS", default="365"), int, 1)),
        retention_check_seconds=_number("RETENTION_CHECK_SECONDS", get("RETENTION_CHECK_SECONDS",
                                                                       default="86400"), float, 1),
        reminder_first_after_seconds=_number("REMINDER_FIRST_AFTER_SECONDS",
                                             get("REMINDER_FIRST_AFTER_SECONDS", default="3600"), float, 0),
        reminder_repeat_seconds=_number("REMINDER_REPEAT_SECONDS", get("REMINDER_REPEAT_SECONDS", default="86400"),
                                        float, 1),
        reminder_max=int(_number("REMINDER_MAX", get("REMINDER_MAX", default="10"), int, 0)),
        decision_nudge_after_seconds=_number("DECISION_NUDGE_AFTER_SECONDS",
                                             get("DECISION_NUDGE_AFTER_SECONDS", default="86400"), float, 0),
        expiry_warning_seconds=_number("EXPIRY_WARNING_SECONDS", get("EXPIRY_WARNING_SECONDS", default="86400"),
                                       float, 0),
        quiet_hours=_quiet_hours(get("QUIET_HOURS", default="20-8")),
        reminder_check_seconds=int(_number("REMINDER_CHECK_SECONDS", get("REMINDER_CHECK_SECONDS", default="60"),
                                           int, 1)),
        outbox_grace_seconds=_number("OUTBOX_GRACE_SECONDS", get("OUTBOX_GRACE_SECONDS", default="3"), float, 0.05),
        outbox_poll_seconds=_number("OUTBOX_POLL_SECONDS", get("OUTBOX_POLL_SECONDS", default="0.5"), float, 0.01),
        outbox_workers=int(_number("OUTBOX_WORKERS", get("OUTBOX_WORKERS", default="8"), int, 1)),
        job_workspace_workers=int(_number("JOB_WORKSPACE_WORKERS", get("JOB_WORKSPACE_WORKERS", default="4"), int, 1)),
        leader_election=_flag("LEADER_ELECTION", get("LEADER_ELECTION", default="true")),
        scheduler_timezone=_timezone("SCHEDULER_TIMEZONE", get("SCHEDULER_TIMEZONE", default="UTC")),
    )


ALIASES = {"NIMROBO_API_BASE_URL": ("NIMROBO_API_BASE_URL", "API_BASE_URL"),
           "NIMROBO_API_KEY": ("NIMROBO_API_KEY", "API_KEY")}


def load_settings_reporting(environ: Mapping[str, str] | None = None,
                            env_file: str | Path | None = ".env") -> tuple[Settings, list[str]]:
    """:func:`load_settings`, but every invalid value is reported (one line each) and its default used,
    so ``doctor`` can show all the problems at once and go on to check the rest."""
    values: dict[str, str] = {}
    if env_file:
        values.update(_env_file_values(Path(env_file)))
    values.update(os.environ if environ is None else environ)
    problems: list[str] = []
    while True:
        try:
            return load_settings(values, env_file=None), problems
        except ConfigError as exc:
            name = str(exc).split("=", 1)[0].split(" ", 1)[0]
            dropped = [k for k in ALIASES.get(name, (name,)) if k in values]
            if not dropped:
                raise
            problems.append(str(exc))
            for key in dropped:
                del values[key]


MAKE_ENCRYPTION_KEY = 'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'


def encryption_key_problem(value: str, needed_for: str) -> str | None:
    """One line naming ``ENCRYPTION_KEY``, why it is needed and how to make one, when ``value`` is unset or not a
    Fernet key; None when it is one."""
    from cryptography.fernet import Fernet

    raw = Secret(value).reveal()
    if raw:
        try:
            Fernet(raw.encode())
            return None
        except (ValueError, TypeError):
            return f"ENCRYPTION_KEY is not a Fernet key: {needed_for}; make one with {MAKE_ENCRYPTION_KEY}"
    return f"ENCRYPTION_KEY is not set: {needed_for}; make one with {MAKE_ENCRYPTION_KEY}"


def slack_credentials_problem(settings: Settings) -> str | None:
    """One line naming what is missing when the Slack credentials are half set (the contract: a non-zero
    exit), or None when they pick a mode: Socket Mode, HTTP mode, or none at all (the sandbox)."""
    bot, secret, app = bool(settings.slack_bot_token), bool(settings.slack_signing_secret), \
        bool(settings.slack_app_token)
    oauth = {"SLACK_CLIENT_ID": settings.slack_client_id, "SLACK_CLIENT_SECRET": settings.slack_client_secret,
             "SLACK_STATE_SECRET": settings.slack_state_secret}
    if any(oauth.values()) and not all(oauth.values()):
        missing = ", ".join(name for name, value in oauth.items() if not value)
        return (f"{missing} not set: installing in several workspaces needs SLACK_CLIENT_ID, SLACK_CLIENT_SECRET "
                "(Basic Information → App Credentials) and SLACK_STATE_SECRET (any long random string)")
    if all(oauth.values()):
        if app:
            return ("SLACK_APP_TOKEN is set with the OAuth settings: several workspaces install over HTTP; "
                    "unset SLACK_APP_TOKEN (Socket Mode apps can't be distributed)")
        if not secret:
            return ("SLACK_CLIENT_ID is set but SLACK_SIGNING_SECRET is not: several workspaces run in HTTP mode "
                    "(Basic Information → Signing Secret)")
        return encryption_key_problem(settings.encryption_key, "installing in several workspaces keeps each "
                                                                "workspace's Slack tokens encrypted with it")
    if app and not bot:
        return ("SLACK_APP_TOKEN is set but SLACK_BOT_TOKEN is not: Socket Mode needs both; set SLACK_BOT_TOKEN "
                "(xoxb-…, OAuth & Permissions), or unset SLACK_APP_TOKEN to run the sandbox")
    if app:
        return None
    if bot and not secret:
        return ("SLACK_BOT_TOKEN is set but SLACK_SIGNING_SECRET is not: HTTP mode needs both (Basic Information → "
                "Signing Secret); for Socket Mode set SLACK_APP_TOKEN (xapp-…) instead; unset SLACK_BOT_TOKEN to run "
                "the sandbox")
    if secret and not bot and not getattr(settings, "slack_client_id", ""):  # (with a client id: multi-workspace)
        return ("SLACK_SIGNING_SECRET is set but SLACK_BOT_TOKEN is not: HTTP mode needs both; set SLACK_BOT_TOKEN "
                "(xoxb-…), or unset SLACK_SIGNING_SECRET to run the sandbox")
    return None


def _module_settings() -> Settings:
    try:
        return load_settings()
    except ConfigError:
        # Import must not fail; `python -m bot` re-validates and reports the error on one line.
        return Settings()


_settings = _module_settings()
# The contract's module-level names: the Nimrobo API base and the user's Nimrobo key.
API_BASE_URL = _settings.nimrobo_api_base_url or API_BASE_URL
API_KEY: Secret = _settings.nimrobo_api_key
