"""The bot's Prometheus metrics (``prometheus_client``), and the small functions the code calls to move them.

Every family is defined here, once per process; ``GET /metrics`` (bot/server.py) renders them with
:func:`render`, together with a collector per running bot that reads gauges from the database when
scraped (rows waiting in the outbox, the scoring queue per Pluto server, the leadership).

Scheduled jobs are labelled ``job_name`` (Prometheus keeps ``job`` for the scrape job). Label values are
chosen from short fixed sets: a request kind, a job id, an API name, an endpoint
group with every id replaced by ``{id}`` (:func:`endpoint_group`), a Pluto server's host. They never
carry a user, a candidate, a channel or a secret.

Names (all start with ``pluto_bot_``) are listed in :data:`FAMILIES`; the alert rules and the
Grafana dashboard under ``deploy/`` name only these (tests/test_deploy.py checks it).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

disable_created_metrics()  # no *_created series: nothing here needs them, and they double the output

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
FAST = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 3.0, 5.0)
SLOW = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
RUNS = (1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200)

ACK_KINDS = ("command", "action", "view", "event", "options", "shortcut", "other")
APIS = ("nimrobo", "pluto", "slack", "openai")

# -- acks ------------------------------------------------------------------------------------------
ACK_SECONDS = Histogram("pluto_bot_ack_seconds", "Time from a Slack request's arrival to its acknowledgement",
                        ["kind"], buckets=FAST, registry=None)
ACK_ERRORS = Counter("pluto_bot_ack_errors_total", "Slack requests answered with a status other than 200",
                     ["kind", "status"], registry=None)
# -- the work pool ----------------------------------------------------------------------------------
WORK_QUEUED = Gauge("pluto_bot_work_queued", "Slow work waiting for a worker, by kind", ["kind"], registry=None)
WORK_RUNNING = Gauge("pluto_bot_work_running", "Slow work running on the pool", registry=None)
WORK_WAIT = Histogram("pluto_bot_work_wait_seconds", "Time slow work waited in the queue before it started",
                      ["kind"], buckets=SLOW, registry=None)
WORK_REJECTED = Counter("pluto_bot_work_rejected_total", "Work refused because the pool was shut down", ["kind"],
                        registry=None)
WORK_USER_CAP = Counter("pluto_bot_work_user_cap_total",
                        "Times a person's work waited because they already had the per-user maximum running",
                        registry=None)
WORK_DROPPED = Counter("pluto_bot_work_dropped_total",
                       "Queued work that never started before the shutdown grace ended (its person was told)",
                       ["kind"], registry=None)
# -- the outbox ----------------------------------------------------------------------------------------
OUTBOX_SENT = Counter("pluto_bot_outbox_sent_total", "Slack posts and updates the bot sent", ["kind"], registry=None)
OUTBOX_429 = Counter("pluto_bot_outbox_rate_limited_total", "429 answers Slack gave to posts and updates",
                     ["kind"], registry=None)
OUTBOX_SETTLED = Counter("pluto_bot_outbox_unclear_settled_total",
                         "Posts whose outcome was unclear, settled by a history lookup", ["result"], registry=None)
# -- the jobs -------------------------------------------------------------------------------------------
JOB_LAST_RUN = Gauge("pluto_bot_job_last_run_timestamp_seconds", "When each scheduled job last ran (Unix time)",
                     ["job_name"], registry=None)
JOB_LAST_SUCCESS = Gauge("pluto_bot_job_last_success_timestamp_seconds",
                         "When each scheduled job last finished without an error (Unix time)", ["job_name"],
                         registry=None)
JOB_SECONDS = Histogram("pluto_bot_job_duration_seconds", "How long each run of a scheduled job took", ["job_name"],
                        buckets=SLOW, registry=None)
JOB_FAILURES = Counter("pluto_bot_job_failures_total", "Runs of a scheduled job that raised", ["job_name"],
                       registry=None)
LEADER_CHANGES = Counter("pluto_bot_leader_changes_total", "Times this replica became or stopped being the leader",
                         ["to"], registry=None)
# -- the APIs -------------------------------------------------------------------------------------------
API_REQUESTS = Counter("pluto_bot_api_requests_total", "Requests to an API, by endpoint group and outcome",
                       ["api", "endpoint", "outcome"], registry=None)
API_ERRORS = Counter("pluto_bot_api_errors_total", "Requests to an API that failed (transport error or 4xx/5xx)",
                     ["api", "endpoint"], registry=None)
API_SECONDS = Histogram("pluto_bot_api_request_seconds", "Latency of API requests (each attempt)",
                        ["api", "endpoint"], buckets=SLOW, registry=None)
API_RETRIES = Counter("pluto_bot_api_retries_total", "Requests sent again after a failure", ["api", "endpoint"],
                      registry=None)
API_RETRY_AFTER = Counter("pluto_bot_api_retry_after_seconds_total",
                          "Seconds waited because an API answered with Retry-After", ["api"], registry=None)
API_RETRY_AFTER_WAITS = Counter("pluto_bot_api_retry_after_waits_total",
                                "Times an API answered with Retry-After", ["api"], registry=None)
# -- the watcher ---------------------------------------------------------------------------------------
WATCHER_CYCLE = Histogram("pluto_bot_watcher_cycle_seconds", "How long one cycle of the interview watcher took",
                          buckets=SLOW, registry=None)
WATCHER_POSTED = Counter("pluto_bot_watcher_completed_posted_total", "Completed interviews posted", registry=None)
# -- scoring --------------------------------------------------------------------------------------------
SCORING_RUN = Histogram("pluto_bot_scoring_run_seconds", "From upload to the end of a scoring run, by outcome",
                        ["outcome"], buckets=RUNS, registry=None)

STATIC = (ACK_SECONDS, ACK_ERRORS, WORK_QUEUED, WORK_RUNNING, WORK_WAIT, WORK_REJECTED, WORK_USER_CAP, WORK_DROPPED,
          OUTBOX_SENT, OUTBOX_429, OUTBOX_SETTLED, JOB_LAST_RUN, JOB_LAST_SUCCESS, JOB_SECONDS, JOB_FAILURES,
          LEADER_CHANGES, API_REQUESTS, API_ERRORS, API_SECONDS, API_RETRIES, API_RETRY_AFTER, API_RETRY_AFTER_WAITS,
          WATCHER_CYCLE, WATCHER_POSTED, SCORING_RUN)

# Gauges read from the running bot when scraped (see StateCollector); name -> help
SCRAPED = {
    "pluto_bot_outbox_waiting": "Outbox rows (posts, updates, uploads, DMs) not yet sent",
    "pluto_bot_outbox_oldest_age_seconds": "Age of the oldest outbox row not yet sent (0 when none)",
    "pluto_bot_leader": "1 while this replica leads (runs the scheduled jobs)",
    "pluto_bot_leader_epoch": "The leadership epoch this replica last saw",
    "pluto_bot_leader_heartbeat_age_seconds": "Seconds since the leader last wrote its heartbeat",
    "pluto_bot_watcher_sessions_followed": "Voice sessions the watcher follows until they are posted",
    "pluto_bot_scoring_queue_length": "Scoring runs waiting or running, per Pluto server",
    "pluto_bot_ready": "1 while GET /ready answers 200",
    "pluto_bot_draining": "1 after SIGTERM, while the replica finishes its work",
}


def families() -> set[str]:
    """Every metric family name the bot exports (what a dashboard or an alert may use)."""
    names = set(SCRAPED)
    for metric in STATIC:
        for family in metric.describe():
            names.add(family.name)
            if family.type == "counter":
                names.add(family.name + "_total")
            if family.type == "histogram":
                names.update(family.name + s for s in ("_bucket", "_sum", "_count"))
    return names


# -- acks ------------------------------------------------------------------------------------------
def ack_kind(body: dict[str, Any] | None) -> str:
    """``command``, ``action``, ``view``, ``event``, ``options``, ``shortcut`` or ``other`` for a Slack payload."""
    body = body or {}
    if body.get("command"):
        return "command"
    kind = body.get("type") or ""
    if kind in ("block_actions", "interactive_message"):
        return "action"
    if kind in ("view_submission", "view_closed"):
        return "view"
    if kind in ("event_callback", "url_verification", "app_rate_limited"):
        return "event"
    if kind in ("block_suggestion", "dialog_suggestion"):
        return "options"
    if kind in ("shortcut", "message_action"):
        return "shortcut"
    return "other"


def observe_ack(kind: str, seconds: float, status: int) -> None:
    kind = kind if kind in ACK_KINDS else "other"
    ACK_SECONDS.labels(kind).observe(seconds)
    if status != 200:
        ACK_ERRORS.labels(kind, str(status)).inc()


# -- APIs ------------------------------------------------------------------------------------------
# Path segments that are words of the APIs (docs: ../shared/specs/); anything else is an id.
_WORDS = frozenset({
    "api", "v1", "projects", "links", "instant-voice-links", "session", "sessions", "audio", "evaluation", "status",
    "transcript", "summary", "regenerate", "user", "profile", "pluto", "results", "csv", "candidates", "prebrief",
    "questions", "rooms", "intake", "validate", "livekit", "token", "score", "upload", "analytics", "intake-link",
    "interview", "chat", "join", "cancel", "completions", "models", "health",
})
_SLACK_METHOD = re.compile(r"^[a-z]+(\.[A-Za-z]+)+$")


def endpoint_group(method: str, path: str) -> str:
    """``GET /v1/projects/{id}/links``: the path with every segment that is not an API word replaced."""
    path = urlsplit(path).path if "://" in path else path.split("?", 1)[0]
    parts = [p if p in _WORDS else "{id}" for p in path.strip("/").split("/") if p]
    return f"{method.upper()} /{'/'.join(parts)}"


def slack_method(method: str) -> str:
    """A Slack Web API method name as a label (``chat.postMessage``); anything odd becomes ``other``."""
    return method if _SLACK_METHOD.match(method or "") and len(method) < 60 else "other"


def api_call(api: str, endpoint: str, seconds: float, status: int | None) -> None:
    """One attempt at an API: ``status`` None when no HTTP answer came."""
    outcome = "error" if status is None else str(status)
    API_REQUESTS.labels(api, endpoint, outcome).inc()
    API_SECONDS.labels(api, endpoint).observe(seconds)
    if status is None or status >= 400:
        API_ERRORS.labels(api, endpoint).inc()


def api_retry(api: str, endpoint: str) -> None:
    API_RETRIES.labels(api, endpoint).inc()


def api_retry_after(api: str, seconds: float) -> None:
    API_RETRY_AFTER_WAITS.labels(api).inc()
    API_RETRY_AFTER.labels(api).inc(max(0.0, seconds))


@contextmanager
def timed_api(api: str, endpoint: str) -> Iterator[dict[str, Any]]:
    """Time one call; set ``box["status"]`` inside (left None: no answer)."""
    box: dict[str, Any] = {"status": None}
    started = time.perf_counter()
    try:
        yield box
    finally:
        api_call(api, endpoint, time.perf_counter() - started, box["status"])


# -- outbox hooks (called by the sending code) -------------------------------------------------------
def outbox_sent(kind: str) -> None:
    """A post (``post``) or an update (``update``) Slack accepted."""
    OUTBOX_SENT.labels(kind).inc()


def outbox_rate_limited(kind: str) -> None:
    OUTBOX_429.labels(kind).inc()


def outbox_settled(found: bool) -> None:
    """A post with an unclear outcome looked up in Slack: ``found`` there, or not (then posted again)."""
    OUTBOX_SETTLED.labels("found" if found else "not_found").inc()


def slack_write_kind(method: str) -> str | None:
    return {"chat.postMessage": "post", "chat.update": "update", "chat.postEphemeral": "post",
            "files.completeUploadExternal": "post"}.get(method)


# -- jobs ------------------------------------------------------------------------------------------
@contextmanager
def job_run(job: str) -> Iterator[None]:
    started = time.perf_counter()
    JOB_LAST_RUN.labels(job).set(time.time())
    try:
        yield
    except BaseException:
        JOB_FAILURES.labels(job).inc()
        raise
    else:
        JOB_LAST_SUCCESS.labels(job).set(time.time())
    finally:
        JOB_SECONDS.labels(job).observe(time.perf_counter() - started)


def leader_changed(leads: bool) -> None:
    LEADER_CHANGES.labels("leader" if leads else "follower").inc()


def scoring_run_finished(outcome: str, seconds: float | None) -> None:
    if seconds is not None and seconds >= 0:
        SCORING_RUN.labels(outcome).observe(seconds)


def server_label(base_url: str) -> str:
    """A Pluto server as a label: its host and port, never a path or credentials."""
    parts = urlsplit(base_url)
    return parts.hostname + (f":{parts.port}" if parts.port else "") if parts.hostname else "unknown"


# -- rendering -------------------------------------------------------------------------------------
class StateCollector(Collector):
    """Gauges read when scraped from a callable returning ``{name: value or [(labels, value)]}``."""

    def __init__(self, read: Callable[[], dict[str, Any]]) -> None:
        self.read = read

    def describe(self) -> Iterable[Any]:
        return []

    def collect(self) -> Iterable[Any]:
        try:
            values = self.read()
        except Exception:  # a scrape must answer even when the database does not
            values = {}
        for name, help_text in SCRAPED.items():
            value = values.get(name)
            if value is None:
                continue
            if isinstance(value, list):
                label_names = sorted(value[0][0]) if value else []
                family = GaugeMetricFamily(name, help_text, labels=label_names)
                for labels, number in value:
                    family.add_metric([labels[k] for k in label_names], float(number))
            else:
                family = GaugeMetricFamily(name, help_text, value=float(value))
            yield family


_lock = threading.Lock()


def registry(read: Callable[[], dict[str, Any]] | None = None) -> CollectorRegistry:
    """A registry with every family, plus the state gauges ``read`` returns when scraped."""
    from prometheus_client import GC_COLLECTOR, PLATFORM_COLLECTOR, PROCESS_COLLECTOR

    reg = CollectorRegistry(auto_describe=False)
    with _lock:
        for metric in (*STATIC, PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
            reg.register(metric)
    if read is not None:
        reg.register(StateCollector(read))
    return reg


def render(reg: CollectorRegistry) -> bytes:
    return generate_latest(reg)
