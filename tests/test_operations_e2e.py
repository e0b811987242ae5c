"""Running it as a service, end to end: ``/metrics``, JSON logs, ``/ready`` and where /metrics is served.

One stack for the module (the real bot over HTTP with the stand-ins); metrics are read over HTTP
from ``GET /metrics`` and compared before and after, since counters only grow.
"""

import io
import json
import logging
import socket
import threading

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.logging_setup import make_handler
from sandbox.stack import Stack, StackOptions
from services import metrics
from tests.conftest import eventually
from tests.test_scoring_e2e import CHANNEL, USER, submit_modal, wait_shortlist

CANDIDATES = ("Ada Lovelace", "Alan Turing", "Grace Hopper")


@pytest.fixture(scope="module")
def stack():
    with Stack(StackOptions(pluto={"extract_seconds": 0.2, "score_seconds": 0.3})) as s:
        yield s


def scrape(url):
    response = httpx.get(url + "/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def samples(text):
    """{(name, frozenset(labels)): value} for every sample."""
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def value(text, name, **labels):
    """The sum of ``name``'s samples whose labels include ``labels``."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples(text).items() if n == name and want <= ls)


def test_metrics_move_when_commands_are_sent_posts_go_out_and_pluto_fails(stack):
    before = scrape(stack.bot_url)
    assert stack.signer.command("/pluto", "help", user=USER, channel=CHANNEL).status_code == 200
    assert stack.signer.command("/pluto", "help", user=USER, channel=CHANNEL, secret="wrong").status_code == 401
    # Pluto answers 500, then 429 with Retry-After, on its status call; the bot retries and scores anyway.
    stack.pluto.faults.retry_after = 0.05
    stack.pluto.faults.script("GET /api/pluto/status", "error_500", "rate_limit")
    assert submit_modal(stack).status_code == 200
    wait_shortlist(stack)

    def moved():
        after = scrape(stack.bot_url)
        sent = value(after, "pluto_bot_outbox_sent_total", kind="post") > \
            value(before, "pluto_bot_outbox_sent_total", kind="post")
        return after if sent and value(after, "pluto_bot_outbox_waiting") == 0 else None  # the export too
    after = eventually(moved)

    def grew(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("pluto_bot_ack_seconds_count", kind="command") >= 2  # /pluto help and /pluto score
    assert grew("pluto_bot_ack_seconds_count", kind="view") >= 1
    assert grew("pluto_bot_ack_errors_total", kind="command", status="401") == 1
    assert grew("pluto_bot_api_errors_total", api="pluto", endpoint="GET /pluto/status") >= 2
    assert grew("pluto_bot_api_retries_total", api="pluto", endpoint="GET /pluto/status") >= 2
    assert grew("pluto_bot_api_retry_after_waits_total", api="pluto") >= 1
    assert grew("pluto_bot_api_requests_total", api="pluto", endpoint="POST /pluto/upload", outcome="200") == 1
    assert grew("pluto_bot_api_requests_total", api="slack", endpoint="chat.postMessage") >= 1
    assert grew("pluto_bot_scoring_run_seconds_count", outcome="complete") == 1
    assert grew("pluto_bot_job_duration_seconds_count", job_name="pluto_scoring") >= 1
    assert value(after, "pluto_bot_job_last_run_timestamp_seconds", job_name="pluto_scoring") > 0
    assert value(after, "pluto_bot_leader") == 1
    assert value(after, "pluto_bot_leader_epoch") >= 1
    assert 0 <= value(after, "pluto_bot_leader_heartbeat_age_seconds") < 10
    assert value(after, "pluto_bot_outbox_oldest_age_seconds") == 0
    assert ("pluto_bot_scoring_queue_length", frozenset({("server", "127.0.0.1:" + stack.pluto.url.rsplit(":", 1)[1].split("/")[0])})) in \
        samples(after)
    assert value(after, "pluto_bot_work_wait_seconds_count") > value(before, "pluto_bot_work_wait_seconds_count")
    # Label values never carry a user, a channel, a candidate or a secret.
    for private in (USER, CHANNEL, *CANDIDATES, stack.bot_token, stack.nimrobo_key, stack.signing_secret):
        assert private not in after


def test_every_exported_family_is_documented_in_the_module(stack):
    exported = {s.name for f in text_string_to_metric_families(scrape(stack.bot_url)) for s in f.samples}
    ours = {name for name in exported if name.startswith("pluto_bot_")}
    assert ours and ours <= metrics.families()


def test_json_logs_parse_line_by_line_with_the_request_context_and_no_secret(stack):
    stream = io.StringIO()
    handler = make_handler(stack.settings.replace(log_format="json"), stream)
    plain_stream = io.StringIO()
    plain = make_handler(stack.settings.replace(log_format="text"), plain_stream)
    root = logging.getLogger()
    old_level = root.level
    for h in (handler, plain):
        root.addHandler(h)
    logging.getLogger("bot.app").setLevel(logging.DEBUG)
    root.setLevel(logging.DEBUG)
    try:
        stack.signer.command("/voicelink", "status nosuchsession", user=USER, channel=CHANNEL)
        stack.slack.wait_for(lambda: "acknowledged" in stream.getvalue() and '"logger": "bot.work"' in stream.getvalue())
        logging.getLogger("bot.test").warning("calling Slack with %s and Nimrobo with %s", stack.bot_token,
                                              "Bearer " + stack.nimrobo_key)
        try:
            raise RuntimeError(f"token {stack.bot_token} in a traceback")
        except RuntimeError:
            logging.getLogger("bot.test").exception("failed")
    finally:
        for h in (handler, plain):
            root.removeHandler(h)
        root.setLevel(old_level)
        logging.getLogger("bot.app").setLevel(logging.NOTSET)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    acked = [line for line in lines if "acknowledged" in line["message"]]
    assert acked and acked[0]["command"] == "/voicelink" and acked[0]["user"] == USER
    assert acked[0]["channel"] == CHANNEL and acked[0]["team"]
    assert any("exception" in line and "RuntimeError" in line["exception"] for line in lines)
    # the slow work after the ack, on a pool thread, logs with the request's context too
    pooled = [line for line in lines if line["logger"] == "bot.work"]
    assert pooled and pooled[0]["command"] == "/voicelink" and pooled[0]["user"] == USER
    for text in (stream.getvalue(), plain_stream.getvalue()):  # both formats, whatever the path in
        assert "***" in text
        for secret in (stack.bot_token, stack.nimrobo_key, stack.signing_secret):
            assert secret not in text
    assert f"user={USER}" in plain_stream.getvalue()


def test_a_scheduled_job_logs_under_its_own_name_and_counts_its_failures(stack):
    from bot.scheduler import JobSpec
    from bot.scheduler import run_job as _guarded

    def nightly(services, client):
        logging.getLogger("bot.jobs.nightly").warning("half way")
        raise RuntimeError("boom")

    before = scrape(stack.bot_url)
    stream = io.StringIO()
    handler = make_handler(stack.settings.replace(log_format="json"), stream)
    logging.getLogger().addHandler(handler)
    try:
        _guarded(JobSpec("nightly_digest", nightly, lambda services: 60), stack.services, stack.runtime.client)
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["job"] for line in lines] == ["nightly_digest", "nightly_digest"]
    assert lines[1]["logger"] == "bot.jobs.nightly_digest" and lines[1]["level"] == "ERROR"
    after = scrape(stack.bot_url)
    assert value(after, "pluto_bot_job_failures_total", job_name="nightly_digest") == \
        value(before, "pluto_bot_job_failures_total", job_name="nightly_digest") + 1


class CuttableProxy:
    """A TCP forwarder to PostgreSQL that the test can cut (the database is "down") and restore."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = True
        self.conns = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            server = socket.create_connection(("127.0.0.1", self.target_port))
            with self.lock:
                self.conns += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a, b):
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        self.up = False
        with self.lock:
            conns, self.conns = self.conns, []
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def restore(self):
        self.up = True

    def close(self):
        self.cut()
        self.listener.close()


def test_ready_flips_while_the_database_is_down_and_back(pg_url):
    from urllib.parse import urlsplit
    parts = urlsplit(pg_url)
    proxy = CuttableProxy(parts.port)
    url = pg_url.replace(f":{parts.port}/", f":{proxy.port}/")
    try:
        with Stack(StackOptions(database_url=url, nimrobo={}, openai=False)) as s:
            ready = httpx.get(s.bot_url + "/ready", timeout=10)
            assert ready.status_code == 200, ready.json()
            assert ready.json()["database"] and ready.json()["migrations"]
            proxy.cut()
            down = eventually(lambda: (r := httpx.get(s.bot_url + "/ready", timeout=20)).status_code == 503 and r)
            assert down.json()["database"] is False
            assert httpx.get(s.bot_url + "/health", timeout=20).status_code == 503  # liveness says so too
            assert httpx.get(s.bot_url + "/metrics", timeout=20).status_code == 200  # a scrape still answers
            proxy.restore()
            back = eventually(lambda: (r := httpx.get(s.bot_url + "/ready", timeout=20)).status_code == 200 and r,
                              timeout=30)
            assert back.json()["database"] and back.json()["migrations"]
    finally:
        proxy.close()


def test_a_follower_is_ready_only_while_the_leader_beats(tmp_path):
    from services.store import Store

    db = str(tmp_path / "bot.db")
    with Stack(StackOptions(database_path=db, nimrobo={}, openai=False)) as leader:
        assert leader.runtime.ready()["ok"] and leader.runtime.is_leader
        follower = Stack(StackOptions(database_path=db, nimrobo={}, openai=False)).start()
        try:
            state = follower.runtime.ready()
            assert not follower.runtime.is_leader and state["leader_heartbeat"] and state["ok"]
            store = Store(db)
            leader.runtime.scheduler.pause()  # the leader stops beating (as a hung process would)

            def stale():  # (a beat already under way when the scheduler paused may land once more)
                store.update("leader_heartbeat", "leader", {"beat_at": 0.0})
                return (r := httpx.get(follower.bot_url + "/ready", timeout=10)).status_code == 503 and r
            state = eventually(stale)
            assert state.json()["leader_heartbeat"] is False and state.json()["database"]
            leader.runtime.scheduler.resume()
            eventually(lambda: follower.runtime.ready()["ok"], timeout=30)
            store.close()
        finally:
            follower.stop()


def test_socket_mode_serves_metrics_and_is_ready_only_while_connected():
    with Stack(StackOptions(mode="socket", nimrobo={}, openai=False)) as s:
        before = scrape(s.bot_url)
        s.signer.command("/pluto", "help", user=USER, channel=CHANNEL)
        after = eventually(lambda: (t := scrape(s.bot_url)) and value(t, "pluto_bot_ack_seconds_count", kind="command")
                           > value(before, "pluto_bot_ack_seconds_count", kind="command") and t)
        assert value(after, "pluto_bot_ack_errors_total") == value(before, "pluto_bot_ack_errors_total")
        state = httpx.get(s.bot_url + "/ready", timeout=10)
        assert state.status_code == 200 and state.json()["socket"] is True
        s.runtime.socket.state.lost("test")  # as the client's listener reports a dropped connection
        state = httpx.get(s.bot_url + "/ready", timeout=10)
        assert state.status_code == 503 and state.json()["socket"] is False


def test_metrics_on_their_own_port_or_switched_off():
    with Stack(StackOptions(nimrobo={}, openai=False, settings={"metrics_port": 0})) as s:
        assert httpx.get(s.bot_url + "/metrics", timeout=10).status_code == 404
        own = s.runtime.metrics_server.url
        assert "pluto_bot_ack_seconds" in scrape(own)
        s.stop_bot()
        s.options.settings["metrics_port"] = None
        s.settings = s.settings.replace(metrics_port=None, metrics_enabled=False)
        s.start_bot()
        assert httpx.get(s.bot_url + "/metrics", timeout=10).status_code == 404
        assert httpx.get(s.bot_url + "/ready", timeout=10).status_code == 200

