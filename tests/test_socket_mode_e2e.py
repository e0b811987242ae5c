"""Socket Mode end to end: the real bot connected to the Slack test bed's Socket Mode server.

The /pluto and /voicelink journeys run in both modes in test_scoring_e2e.py and
test_voicelink_e2e.py; this file covers what only Socket Mode has: /health with the socket's
state, Slack's refreshes and dropped connections, re-sent envelopes, backoff, start-up refusals.
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from slack_sdk import WebClient

from bot.socket_mode import MAX_BACKOFF, BackoffSocketModeClient
from sandbox.slack_api import SlackStandIn
from sandbox.stack import Stack, StackOptions

ROOT = Path(__file__).resolve().parents[1]
USER, CHANNEL = "U_ALICE", "C_GENERAL"
CSV = (b"name,email,current_title,years_experience,skills\n"
       b"Ada Lovelace,ada@example.com,Engineer,9,python|math\n"
       b"Alan Turing,alan@example.com,Researcher,12,crypto|math\n"
       b"Grace Hopper,grace@example.com,Admiral,20,cobol|compilers\n")


def health(stack):
    response = httpx.get(stack.bot_url + "/health", timeout=5)
    return response.status_code, response.json()


def shortlists(stack):
    return [m for m in stack.slack.messages(CHANNEL)
            if (m.get("metadata") or {}).get("event_type") == "pluto_scoring_completed"]


@pytest.fixture()
def stack():
    with Stack(StackOptions(mode="socket", scheduler=False)) as s:
        yield s


def test_health_reports_the_socket_and_there_is_no_request_url(stack):
    status, body = health(stack)
    assert status == 200 and body["ok"] is True and body["mode"] == "socket"
    assert body["socket"]["state"] == "connected" and body["socket"]["connected"] is True
    assert body["socket"]["since"].endswith("Z") and body["socket"]["reconnects"] == 0
    assert httpx.post(stack.bot_url + "/slack/events", content=b"{}").status_code == 404
    assert stack.app_token not in str(body)


def test_a_refresh_in_the_middle_of_a_scoring_run():
    with Stack(StackOptions(mode="socket", pluto={"extract_seconds": 1.0, "score_seconds": 2.0})) as stack:
        server = stack.slack.socket
        server.ack_timeout = 1.0
        server.lose_next_acks(1)  # the ack of the mention is lost in the refresh: Slack re-sends the event
        file = stack.slack.add_file("candidates.csv", CSV, user=USER)
        mention = stack.signer.app_mention("score", files=[file], user=USER, channel=CHANNEL, wait=False)
        progress = stack.slack.wait_for(lambda: [m for m in stack.slack.messages(CHANNEL)
                                                 if m.get("thread_ts") and "of 3" in str(m["blocks"])])[0]
        old = server.disconnect("refresh_requested")
        server.wait_for_connection(count=2)
        stack.slack.wait_for(lambda: health(stack)[1]["socket"]["reconnects"] == 1)
        status, body = health(stack)
        assert status == 200 and body["socket"]["state"] == "connected"
        assert body["socket"]["last_disconnect"] == "refresh_requested"
        # the re-sent mention is acknowledged and not handled twice
        envelope = server.wait(mention.envelope, timeout=10)
        assert envelope.outcome == "acked" and envelope.attempts[-1]["retry_attempt"] >= 1
        # progress goes on being updated after the refresh
        updates = stack.slack.message(CHANNEL, progress["ts"])["updates"]
        stack.slack.wait_for(lambda: stack.slack.message(CHANNEL, progress["ts"])["updates"] > updates)
        # a command over the new connection is answered
        assert stack.signer.command("/pluto", "status", user=USER, channel=CHANNEL).status_code == 200
        stack.slack.wait_for(lambda: [r for r in stack.slack.responses(USER) if "candidates.csv" in str(r["blocks"])
                                      and "running now" in str(r["blocks"])])
        stack.slack.wait_for(lambda: shortlists(stack), timeout=20)
        stack.slack.wait_for(lambda: stack.slack.uploads())  # the export comes last
        assert len(shortlists(stack)) == 1 and len(stack.pluto.uploads) == 1
        old_conn = next(c for c in server.connections() if c["id"] == old)
        assert old_conn["closed_by"] == "app"  # the bot closed the old connection itself


def test_an_abrupt_close_then_a_command_after_the_reconnect_is_answered(stack):
    server = stack.slack.socket
    stack.slack.rate_limit("apps.connections.open", burst=0, retry_after=1)  # Slack holds the reconnect back
    server.close_abruptly()
    stack.slack.wait_for(lambda: health(stack)[1]["socket"]["state"] == "reconnecting")
    status, body = health(stack)
    assert status == 200 and body["ok"] is True  # a short outage is not a failed bot
    assert body["socket"]["connected"] is False and body["socket"]["since"].endswith("Z")
    assert stack.signer.command("/pluto", "help").status_code == 503  # nothing to deliver to, as in Slack
    stack.slack.wait_for(lambda: len(stack.slack.api_calls("apps.connections.open")) >= 3)  # retrying
    stack.slack.clear_rate_limits()
    server.wait_for_connection(count=2)
    stack.slack.wait_for(lambda: health(stack)[1]["socket"]["state"] == "connected")
    assert health(stack)[1]["socket"]["reconnects"] == 1
    response = stack.signer.command("/pluto", "help")
    assert response.status_code == 200 and "/pluto score" in response.json()["text"]
    assert [c["closed_by"] for c in server.connections()] == ["abrupt", None]


def test_the_bot_stops_promptly_while_slack_rate_limits_its_reconnect(stack):
    stack.slack.rate_limit("apps.connections.open", burst=0, retry_after=30)
    stack.slack.socket.close_abruptly()
    stack.slack.wait_for(lambda: stack.slack.api_calls("apps.connections.open")[1:])  # waiting out Retry-After
    stopping = threading.Thread(target=stack.stop_bot)
    stopping.start()
    stopping.join(timeout=10)  # far less than the 30 s Retry-After
    assert not stopping.is_alive()


def test_a_reset_connection_and_a_warning_are_both_survived(stack):
    server = stack.slack.socket
    server.close_abruptly(reset=True)
    server.wait_for_connection(count=2)
    assert "/voicelink create" in stack.signer.command("/voicelink", "help").json()["text"]
    server.disconnect("warning")
    server.wait_for_connection(count=3)
    assert "/pluto score" in stack.signer.command("/pluto", "help").json()["text"]
    stack.slack.wait_for(lambda: server.connections()[1]["closed_by"] == "app")


def test_an_event_whose_ack_is_lost_is_resent_and_handled_once(stack):
    stack.slack.socket.ack_timeout = 0.5
    stack.slack.socket.lose_next_acks(1)
    ack = stack.signer.event({"type": "app_home_opened", "user": "U_BOB", "channel": "DU_BOB", "tab": "home"})
    assert ack.status_code == 200
    assert [a["retry_attempt"] for a in ack.envelope.attempts] == [0, 1]
    stack.slack.wait_for(lambda: stack.slack.home("U_BOB"))
    time.sleep(0.5)  # give a second handling the chance to show up (there must be none)
    published = [c for c in stack.slack.api_calls("views.publish") if c["params"].get("user_id") == "U_BOB"]
    assert len(published) == 1


def test_slow_work_never_holds_a_socket_mode_ack():
    with Stack(StackOptions(mode="socket", scheduler=False)) as stack:
        stack.nimrobo.faults.configure(latency=3.2)  # longer than Slack waits for an ack
        users = [f"U_RECRUITER{i}" for i in range(6)]
        acks = [stack.signer.command("/voicelink", "list", user=user, channel=CHANNEL) for user in users]
        assert [a.status_code for a in acks] == [200] * 6  # each acked within Slack's 3 s
        help_ack = stack.signer.command("/pluto", "help", user=USER, channel=CHANNEL)
        assert help_ack.status_code == 200 and "/pluto score" in help_ack.json()["text"]
        for user in users:
            stack.slack.wait_for(lambda u=user: stack.slack.responses(u) + stack.slack.ephemerals(u), timeout=30)


def test_reconnect_attempts_back_off_while_slack_refuses():
    standin = SlackStandIn(bot_token="xoxb-b", app_token="xapp-1-backoff").start()
    standin.socket_mode_enabled = False  # apps.connections.open refuses
    client = BackoffSocketModeClient(app_token="xapp-1-backoff", web_client=WebClient(base_url=standin.url + "/api/"))
    try:
        delays = []
        for _ in range(10):
            with pytest.raises(Exception):  # noqa: B017 - the client raises Slack's refusal
                client.connect_to_new_endpoint()
            delays.append(client._retry_at - time.monotonic())
            client.connect_to_new_endpoint()  # within the backoff: no attempt at all
            client._retry_at = 0.0  # as if that wait were over
        assert len(standin.api_calls("apps.connections.open")) == 10
        assert delays[0] < 1.6 and delays[3] > 3.9 and delays[-1] == pytest.approx(MAX_BACKOFF, abs=0.1)
        standin.socket_mode_enabled = True
        client.connect_to_new_endpoint()
        assert client.is_connected() and client._failures == 0
    finally:
        client.close()
        standin.stop()


def test_a_bot_token_in_slack_app_token_stops_start_up_with_the_fix(tmp_path):
    standin = SlackStandIn(bot_token="xoxb-real-bot-token", app_token="xapp-1-the-app-token").start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "NIMROBO_", "OPENAI_"))}
    env.update(SLACK_APP_TOKEN="xoxb-real-bot-token", SLACK_BOT_TOKEN="xoxb-real-bot-token",
               SLACK_API_URL=standin.url + "/api/", DATABASE_PATH=str(tmp_path / "b.db"), PORT="0")
    try:
        proc = subprocess.run([sys.executable, "-m", "bot"], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=60)
    finally:
        standin.stop()
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert "not_allowed_token_type" in output and "xapp-" in output and "stopped cleanly" in output
    assert "xoxb-real-bot-token" not in output


def test_socket_mode_process_serves_health_on_port_and_stops_cleanly_on_sigterm(tmp_path):
    standin = SlackStandIn(bot_token="xoxb-process-bot-token", app_token="xapp-1-process-app-token").start()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "NIMROBO_", "OPENAI_"))}
    env.update(SLACK_APP_TOKEN="xapp-1-process-app-token", SLACK_BOT_TOKEN="xoxb-process-bot-token",
               SLACK_API_URL=standin.url + "/api/", DATABASE_PATH=str(tmp_path / "b.db"), PORT=str(port))
    proc = subprocess.Popen([sys.executable, "-m", "bot"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)

    def socket_state():
        try:
            return httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).json()["socket"]["state"]
        except (httpx.TransportError, ValueError, KeyError):
            return None

    try:
        standin.wait_for(lambda: socket_state() == "connected", timeout=30)
        assert httpx.post(f"http://127.0.0.1:{port}/slack/events", content=b"{}").status_code == 404
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
        standin.stop()
    assert proc.returncode == 0, output
    assert "mode=socket" in output and "Socket Mode connected" in output and "stopped cleanly" in output
    assert "xapp-1-process-app-token" not in output and "xoxb-process-bot-token" not in output
