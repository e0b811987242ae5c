"""The Slack test bed's Socket Mode: apps.connections.open, envelopes, acks, retries and disconnects.

Driven with a plain ``websockets`` client, so what is checked is the protocol, not the bot.
"""

import json
import threading

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from websockets.exceptions import ConnectionClosed, ConnectionClosedError, InvalidStatus
from websockets.sync.client import connect

from sandbox.signer import SocketModeSender
from sandbox.slack_api import SOCKET_MODE_OFF, SlackStandIn

BOT, APP = "xoxb-standin-bot", "xapp-1-A0SANDBOX-1-standin"


@pytest.fixture()
def standin():
    s = SlackStandIn(bot_token=BOT, app_token=APP).start()
    s.socket.ack_timeout = 0.3
    s.socket.disconnect_grace = 0.3
    yield s
    s.stop()


def web(standin, token):
    return WebClient(token=token, base_url=standin.url + "/api/")


def open_socket(standin):
    url = web(standin, APP).apps_connections_open(app_token=APP)["url"]
    ws = connect(url, open_timeout=5)
    hello = json.loads(ws.recv(timeout=5))
    return ws, hello


def test_connections_open_takes_the_app_token_only(standin):
    url = web(standin, APP).apps_connections_open(app_token=APP)["url"]
    assert url.startswith("ws://127.0.0.1:") and "ticket=" in url
    with pytest.raises(SlackApiError) as bot_token:
        web(standin, BOT).apps_connections_open(app_token=BOT)
    assert bot_token.value.response["error"] == "not_allowed_token_type"
    with pytest.raises(SlackApiError) as unknown:
        web(standin, "xapp-1-unknown").apps_connections_open(app_token="xapp-1-unknown")
    assert unknown.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as app_for_chat:
        web(standin, APP).chat_postMessage(channel="C_GENERAL", text="hi")
    assert app_for_chat.value.response["error"] == "not_allowed_token_type"
    standin.socket_mode_enabled = False
    with pytest.raises(SlackApiError) as off:
        web(standin, APP).apps_connections_open(app_token=APP)
    assert off.value.response["error"] == SOCKET_MODE_OFF


def test_hello_then_a_ticket_is_good_for_one_connection(standin):
    url = web(standin, APP).apps_connections_open(app_token=APP)["url"]
    with connect(url, open_timeout=5) as ws:
        hello = json.loads(ws.recv(timeout=5))
        assert hello["type"] == "hello" and hello["connection_info"]["app_id"] == standin.app_id
        assert hello["num_connections"] == 1
    with pytest.raises(InvalidStatus):
        connect(url, open_timeout=5)
    assert standin.socket.rejected_handshakes == 1


def test_a_command_envelope_waits_for_its_ack_and_carries_the_response_payload(standin):
    ws, _ = open_socket(standin)
    sender = SocketModeSender(standin)
    result = {}
    thread = threading.Thread(target=lambda: result.update(ack=sender.command("/pluto", "help")))
    thread.start()
    envelope = json.loads(ws.recv(timeout=5))
    assert envelope["type"] == "slash_commands" and envelope["accepts_response_payload"] is True
    assert envelope["payload"]["command"] == "/pluto" and envelope["payload"]["text"] == "help"
    assert envelope["payload"]["response_url"].startswith(standin.url)
    ws.send(json.dumps({"envelope_id": envelope["envelope_id"], "payload": {"text": "the help"}}))
    thread.join(5)
    ack = result["ack"]
    assert ack.status_code == 200 and ack.json() == {"text": "the help"} and ack.ack == {"text": "the help"}
    ws.close()


def test_a_button_ack_payload_is_ignored_as_slack_ignores_it(standin):
    ws, _ = open_socket(standin)
    result = {}
    sender = SocketModeSender(standin)
    thread = threading.Thread(target=lambda: result.update(ack=sender.block_action("go", "1")))
    thread.start()
    envelope = json.loads(ws.recv(timeout=5))
    assert envelope["type"] == "interactive" and envelope["accepts_response_payload"] is False
    ws.send(json.dumps({"envelope_id": envelope["envelope_id"], "payload": {"text": "ignored"}}))
    thread.join(5)
    assert result["ack"].status_code == 200 and result["ack"].ack is None and not result["ack"].content
    ws.close()


def test_an_unacknowledged_event_is_sent_again_with_retry_attempt(standin):
    ws, _ = open_socket(standin)
    envelope = standin.socket.deliver("events_api", {"type": "event_callback", "event_id": "Ev1",
                                                     "event": {"type": "app_home_opened"}}, wait=False)
    first = json.loads(ws.recv(timeout=5))
    assert first["retry_attempt"] == 0 and first["retry_reason"] == "" and first["accepts_response_payload"] is False
    second = json.loads(ws.recv(timeout=5))  # no ack: Slack tries again
    assert second["envelope_id"] == first["envelope_id"]
    assert second["retry_attempt"] == 1 and second["retry_reason"] == "timeout"
    ws.send(json.dumps({"envelope_id": second["envelope_id"]}))
    standin.socket.wait(envelope, timeout=5)
    assert envelope.outcome == "acked" and len(envelope.attempts) == 2
    ws.close()


def test_an_unacknowledged_command_times_out_and_is_not_sent_again(standin):
    ws, _ = open_socket(standin)
    ack = SocketModeSender(standin).command("/pluto", "help")
    assert ack.status_code == 504 and ack.outcome == "timeout"
    first = json.loads(ws.recv(timeout=5))
    assert first["type"] == "slash_commands"
    with pytest.raises(TimeoutError):
        ws.recv(timeout=0.5)
    ws.close()


def test_with_no_connection_a_command_fails_and_an_event_waits_for_the_next_connection(standin):
    assert SocketModeSender(standin).command("/pluto", "help").status_code == 503
    envelope = standin.socket.deliver("events_api", {"type": "event_callback", "event_id": "Ev2"}, wait=False)
    ws, _ = open_socket(standin)
    delivered = json.loads(ws.recv(timeout=5))
    assert delivered["envelope_id"] == envelope.envelope_id
    ws.send(json.dumps({"envelope_id": delivered["envelope_id"]}))
    assert standin.socket.wait(envelope, timeout=5).outcome == "acked"
    ws.close()


def test_refresh_requested_then_slack_closes_the_old_connection(standin):
    ws, _ = open_socket(standin)
    conn_id = standin.socket.disconnect("refresh_requested")
    message = json.loads(ws.recv(timeout=5))
    assert message["type"] == "disconnect" and message["reason"] == "refresh_requested"
    with pytest.raises(ConnectionClosed):  # the app did not close it: Slack does, after the grace period
        ws.recv(timeout=5)
    closed = standin.wait_for(lambda: [c for c in standin.socket.connections() if not c["open"]])[0]
    assert closed["id"] == conn_id and closed["closed_by"] == "refresh_requested" and not closed["open"]


def test_an_event_in_flight_on_a_dropped_connection_goes_out_on_the_next_one(standin):
    ws, _ = open_socket(standin)
    standin.socket.ack_timeout = 30  # only the drop can cause the re-send
    envelope = standin.socket.deliver("events_api", {"type": "event_callback", "event_id": "Ev3"}, wait=False)
    assert json.loads(ws.recv(timeout=5))["envelope_id"] == envelope.envelope_id
    standin.socket.close_abruptly()
    with pytest.raises(ConnectionClosedError) as closed:
        ws.recv(timeout=5)
    assert closed.value.rcvd is None  # no close frame: the TCP stream just ended
    ws2, hello = open_socket(standin)
    again = json.loads(ws2.recv(timeout=5))
    assert again["envelope_id"] == envelope.envelope_id and again["retry_attempt"] == 1
    ws2.send(json.dumps({"envelope_id": again["envelope_id"]}))
    assert standin.socket.wait(envelope, timeout=5).outcome == "acked"
    assert [c["closed_by"] for c in standin.socket.connections()] == ["abrupt", None]
    ws2.close()


def test_a_lost_ack_makes_slack_resend_the_event(standin):
    ws, _ = open_socket(standin)
    standin.socket.lose_next_acks(1)
    envelope = standin.socket.deliver("events_api", {"type": "event_callback", "event_id": "Ev4"}, wait=False)
    first = json.loads(ws.recv(timeout=5))
    ws.send(json.dumps({"envelope_id": first["envelope_id"]}))
    second = json.loads(ws.recv(timeout=5))
    assert second["envelope_id"] == first["envelope_id"] and second["retry_attempt"] == 1
    ws.send(json.dumps({"envelope_id": second["envelope_id"]}))
    assert standin.socket.wait(envelope, timeout=5).outcome == "acked"
    ws.close()
