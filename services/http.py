"""What both API clients share: the error base (``services.errors``) and a retry loop for safe requests.

Rules:

* GET (and other idempotent reads) retry on connection errors, 429 and 5xx, with
  exponential backoff and jitter, honouring ``Retry-After``, within a bounded total time.
* A POST that creates something is never retried once it may have reached the server.
  Only a failure to *connect* (nothing was sent) is retried. Anything else raises an
  error with ``outcome_unknown=True`` so the caller can reconcile (list and match)
  before trying again.
* A server that says "slow down" (429, or 503 with ``Retry-After``) is obeyed by every
  thread using that client (one host, one key), not only the one that was told: see
  :class:`HostGate`.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from services import metrics
from services.errors import ServiceError

__all__ = ["DEFAULT_TIMEOUT", "RetryPolicy", "ServiceError", "send"]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=5.0)

# Failures where the request certainly never reached the server.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class HostGate:
    """One per API host: while the server has asked for a pause, every request to it waits."""

    def __init__(self) -> None:
        self._until = 0.0
        self._lock = threading.Lock()

    def pause(self, seconds: float) -> None:
        with self._lock:
            self._until = max(self._until, time.monotonic() + seconds)

    def remaining(self) -> float:
        with self._lock:
            return max(0.0, self._until - time.monotonic())

    def wait(self, sleep: Callable[[float], None] = time.sleep) -> float:
        """Sleep out the pause, if any; the seconds waited."""
        left = self.remaining()
        if left > 0:
            sleep(left)
        return left


@dataclass
class RetryPolicy:
    """Backoff for safe requests. ``max_total`` bounds the whole loop in seconds."""

    attempts: int = 5
    base_delay: float = 0.3
    max_delay: float = 8.0
    max_total: float = 30.0
    max_retry_after: float = 30.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    # One per client (so per host and key): a Retry-After pauses every thread using this client.
    gate: HostGate = field(default_factory=HostGate, repr=False)
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def backoff(self, attempt: int) -> float:
        raw = min(self.max_delay, self.base_delay * (2**attempt))
        return raw / 2 + self.rng.uniform(0, raw / 2)  # "equal jitter"


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Parse ``Retry-After`` (seconds or an HTTP date)."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def is_retryable_status(status: int) -> bool:
    return status == 429 or 500 <= status < 600


def send(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    policy: RetryPolicy,
    safe: bool | None = None,
    api: str = "",
    **kwargs: object,
) -> httpx.Response:
    """Send a request with the retry rules above.

    ``safe`` defaults to True for GET/HEAD/OPTIONS. Returns the final response (which may
    still be an error status); raises ``httpx.TransportError`` subclasses when the
    transport keeps failing, with ``request_maybe_sent`` set on the exception. ``api`` names the API
    in the metrics (services/metrics.py): each attempt, retry and Retry-After wait is counted.
    """
    safe = method.upper() in ("GET", "HEAD", "OPTIONS") if safe is None else safe
    gate = policy.gate
    started = time.monotonic()
    attempt = 0
    slept_out = False  # this thread just slept out the pause it set: don't wait for it twice
    endpoint = metrics.endpoint_group(method, url) if api else ""
    while True:
        if not slept_out:
            _wait_gate(gate, policy, api)
        slept_out = False
        try:
            response = _attempt(client, method, url, api, endpoint, attempt, kwargs)
        except httpx.TransportError as exc:
            maybe_sent = not isinstance(exc, _NOT_SENT)
            exc.request_maybe_sent = maybe_sent  # type: ignore[attr-defined]
            if (not safe and maybe_sent) or not _may_retry(policy, attempt, started, 0):
                raise
            delay = policy.backoff(attempt)
            log.info("%s %s: %s; retrying in %.2fs", method, url, type(exc).__name__, delay)
        else:
            if not is_retryable_status(response.status_code):
                return response
            # A 429 means the server refused without acting, so even a create may retry.
            # A 5xx on a create may have half-happened: hand it back to the caller.
            if not safe and response.status_code != 429:
                return response
            wait = retry_after_seconds(response) if response.status_code in (429, 503) else None
            delay = min(wait, policy.max_retry_after) if wait is not None else policy.backoff(attempt)
            if wait is not None:
                gate.pause(delay)  # everyone talking to this host waits, not only this thread
                if api:
                    metrics.api_retry_after(api, delay)
            if not _may_retry(policy, attempt, started, delay):
                return response
            log.info("%s %s: HTTP %s; retrying in %.2fs", method, url, response.status_code, delay)
            response.close()
            slept_out = wait is not None
        policy.sleep(delay)
        attempt += 1


def _wait_gate(gate: HostGate, policy: RetryPolicy, api: str) -> None:
    waited = gate.wait(policy.sleep)
    if waited and api:
        metrics.api_retry_after(api, waited)


def _attempt(client: httpx.Client, method: str, url: str, api: str, endpoint: str, attempt: int,
             kwargs: dict[str, object]) -> httpx.Response:
    """One request, counted in the metrics when ``api`` is named."""
    if not api:
        return client.request(method, url, **kwargs)  # type: ignore[arg-type]  # send()'s kwargs pass through
    if attempt:
        metrics.api_retry(api, endpoint)
    with metrics.timed_api(api, endpoint) as box:
        response = client.request(method, url, **kwargs)  # type: ignore[arg-type]  # as above
        box["status"] = response.status_code
    return response


def _may_retry(policy: RetryPolicy, attempt: int, started: float, delay: float) -> bool:
    return attempt + 1 < policy.attempts and (time.monotonic() - started + delay) <= policy.max_total
