"""The bot's Slack WebClient: one write budget for Slack's rate tiers, and no blind re-sends of creates.

Slack limits writes per method and workspace (https://api.slack.com/apis/rate-limits):
``chat.postMessage`` about one message per second per channel with short bursts, ``chat.update`` on tier 3 (about 50 a
minute), ``views.*``, ``chat.postEphemeral`` and the upload calls on tiers 3-4. Every outbound
call goes through :class:`SlackWriteLimiter`, so the bot paces itself instead of collecting
429s. When Slack still answers 429, ``Retry-After`` pauses that method for every thread at
once, and slack_sdk's own :class:`RateLimitErrorRetryHandler` re-sends the call (a 429 means
Slack did nothing, so that is safe even for a post).

A dropped connection is different: Slack may have stored the message before the answer was
lost, so :class:`ReadRetryHandler` re-sends only calls that create nothing.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlparse

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.http_retry.handler import RetryState
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse

from services import metrics

log = logging.getLogger(__name__)

# Calls that create or change something: never re-sent after a dropped connection.
WRITES = frozenset({
    "chat.postMessage", "chat.postEphemeral", "chat.update", "chat.delete", "chat.scheduleMessage",
    "files.completeUploadExternal", "files.upload", "reactions.add", "views.open", "views.push",
    "views.update", "views.publish",
})


# Slack's "short bursts": a few messages at once in a channel, a few updates at once in the workspace,
# whatever the pace (a faster pace set for tests does not make the bursts longer).
POST_BURST, UPDATE_BURST = 3.0, 10.0


def method_of(url: str) -> str:
    return urlparse(url).path.rstrip("/").rsplit("/", 1)[-1]


@dataclass
class _Bucket:
    """A token bucket: ``rate`` tokens a second, at most ``burst`` saved up."""

    rate: float
    burst: float
    tokens: float
    stamp: float
    paused_until: float = 0.0

    def take(self, now: float) -> float:
        """Take a token if one is there (0.0), else how long until one is."""
        if now < self.paused_until:
            return self.paused_until - now
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class SlackWriteLimiter:
    """Paces Slack calls per (method, channel) or per method, as Slack's tiers count them."""

    def __init__(self, posts_per_second: float = 1.0, updates_per_minute: float = 50.0,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        per_minute = {  # (rate per second, burst)
            "chat.update": (updates_per_minute / 60, UPDATE_BURST),
            "chat.delete": (updates_per_minute / 60, UPDATE_BURST),
            "chat.postEphemeral": (100 / 60, 20),
            "views.open": (100 / 60, 20), "views.push": (100 / 60, 20), "views.update": (100 / 60, 20),
            "views.publish": (100 / 60, 20),
            "files.getUploadURLExternal": (20 / 60, 10), "files.completeUploadExternal": (20 / 60, 10),
            "files.delete": (50 / 60, 10),  # tier 3; retention and erasure delete the bot's files in bulk
            "conversations.history": (50 / 60, 10), "conversations.replies": (50 / 60, 10),
        }
        self.rules: dict[str, tuple[float, float]] = {
            "chat.postMessage": (posts_per_second, POST_BURST), **per_minute}
        self.per_channel = {"chat.postMessage"}
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._lock = threading.Lock()
        self._clock, self._sleep = clock, sleep
        self._prepaid = threading.local()
        self.waited = 0.0  # seconds spent waiting, for benchmarks

    def _bucket(self, method: str, channel: str) -> _Bucket | None:
        rule = self.rules.get(method)
        if rule is None:
            return None
        key = (method, channel if method in self.per_channel else "")
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(rule[0], rule[1], rule[1], self._clock())
        return bucket

    def try_take(self, method: str, channel: str = "") -> float:
        """Take a token for ``method`` in ``channel`` without waiting: 0.0 when taken, else the seconds
        until one is there (nothing taken). The outbox sender paces channels with it, holding no
        thread while a channel waits; the call it then makes goes through :meth:`prepaid`."""
        with self._lock:
            bucket = self._bucket(method, channel)
            return 0.0 if bucket is None else bucket.take(self._clock())

    @contextmanager
    def prepaid(self, method: str) -> Iterator[None]:
        """Calls of ``method`` in this block (on this thread) already took their token (:meth:`try_take`)."""
        paid = getattr(self._prepaid, "methods", set())
        self._prepaid.methods = paid | {method}
        try:
            yield
        finally:
            self._prepaid.methods = paid

    def acquire(self, method: str, channel: str = "") -> float:
        """Wait until ``method`` may be called for ``channel``; return the seconds waited."""
        if method in getattr(self._prepaid, "methods", ()):
            return 0.0
        waited = 0.0
        while True:
            with self._lock:
                bucket = self._bucket(method, channel)
                delay = 0.0 if bucket is None else bucket.take(self._clock())
                if delay <= 0:
                    self.waited += waited
                    return waited
            self._sleep(delay)
            waited += delay

    def pause(self, method: str, seconds: float, channel: str = "") -> None:
        """Slack said 429: hold ``method`` for ``seconds``: in ``channel`` only where Slack counts it per
        channel (chat.postMessage), else every call of it (all channels, every thread)."""
        with self._lock:
            until = self._clock() + seconds
            rule = self.rules.get(method) or (1.0, 1.0)
            self.rules.setdefault(method, rule)
            if method in self.per_channel and channel:
                bucket = self._bucket(method, channel)
                if bucket is not None:
                    bucket.paused_until = max(bucket.paused_until, until)
            else:
                for (m, _), bucket in self._buckets.items():
                    if m == method:
                        bucket.paused_until = max(bucket.paused_until, until)
                bucket = self._bucket(method, "")
                if bucket is not None:
                    bucket.paused_until = max(bucket.paused_until, until)
        log.warning("Slack rate-limited %s%s: pausing it for %.1fs", method, f" in {channel}" if channel else "",
                    seconds)


def channel_of(request: HttpRequest) -> str:
    """The ``channel`` argument of a Web API request (a JSON or form body), or ""."""
    data = request.data or b""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)
    try:
        found = json.loads(text).get("channel") if text.startswith("{") else parse_qs(text).get("channel", [""])[0]
    except (ValueError, AttributeError):
        return ""
    return str(found or "")


class ReadRetryHandler(ConnectionErrorRetryHandler):
    """Re-send after a dropped connection, but only calls that create or change nothing."""

    def _can_retry(self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
                   error: Exception | None = None) -> bool:
        if method_of(request.url) in WRITES:
            return False
        retry = super()._can_retry(state=state, request=request, response=response, error=error)
        if retry:
            metrics.api_retry("slack", metrics.slack_method(method_of(request.url)))
        return retry


class PausingRateLimitHandler(RateLimitErrorRetryHandler):
    """slack_sdk's 429 handler (sleeps ``Retry-After``), telling the limiter so all threads pause."""

    def __init__(self, limiter: SlackWriteLimiter, max_retry_count: int = 8) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.limiter = limiter

    def prepare_for_next_attempt(self, *, state: RetryState, request: HttpRequest,
                                 response: HttpResponse | None = None, error: Exception | None = None) -> None:
        if response is not None:
            values = next((v for k, v in response.headers.items() if k.lower() == "retry-after"), ["1"])
            try:
                seconds = float(values[0] if isinstance(values, list) else values)
            except (TypeError, ValueError):
                seconds = 1.0
            method = method_of(request.url)
            self.limiter.pause(method, seconds, channel_of(request))
            metrics.api_retry("slack", metrics.slack_method(method))
            metrics.api_retry_after("slack", seconds)
            kind = metrics.slack_write_kind(method)
            if kind:
                metrics.outbox_rate_limited(kind)
        super().prepare_for_next_attempt(state=state, request=request, response=response, error=error)


class BotWebClient(WebClient):
    """A WebClient whose every call waits its turn in :class:`SlackWriteLimiter` first."""

    def __init__(self, *args: Any, limiter: SlackWriteLimiter | None = None, **kwargs: Any) -> None:
        self.limiter = limiter or SlackWriteLimiter()
        kwargs.setdefault("retry_handlers", [ReadRetryHandler(max_retry_count=2),
                                             PausingRateLimitHandler(self.limiter)])
        super().__init__(*args, **kwargs)

    def api_call(self, api_method: str, **kwargs: Any) -> Any:  # type: ignore[override]
        args = kwargs.get("json") or kwargs.get("data") or kwargs.get("params") or {}
        channel = str(args.get("channel") or args.get("channel_id") or "") if isinstance(args, dict) else ""
        self.limiter.acquire(api_method, channel)
        with metrics.timed_api("slack", metrics.slack_method(api_method)) as box:
            try:
                response = super().api_call(api_method, **kwargs)
            except SlackApiError as exc:
                status = getattr(exc.response, "status_code", None) or 400
                box["status"] = status if status >= 400 else 400  # ok: false counts as an error
                raise
            box["status"] = response.status_code if response.get("ok", True) else 400
        kind = metrics.slack_write_kind(api_method)
        if kind:
            metrics.outbox_sent(kind)
        return response
