"""Bolt's authorize cache as the bot sets it up (bot/installs.py), without Slack: a failed ``auth.test`` never
makes the request wait on its own claim, and a result found in the cache is returned even if another thread
drops it before Bolt reads it."""

from __future__ import annotations

import logging
import threading
from unittest.mock import MagicMock

import pytest
from slack_bolt import BoltContext
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store import Installation

import bot.installs
from bot.installs import AuthTestCache, SerializedAuthorize


class RecordingEvent(threading.Event):
    """An Event whose waits are recorded (and return at once, as a timed-out wait would)."""

    waits: list[int] = []

    def wait(self, timeout: float | None = None) -> bool:
        RecordingEvent.waits.append(threading.get_ident())
        return self.is_set()


@pytest.fixture()
def authorize(monkeypatch):
    monkeypatch.setattr(bot.installs.threading, "Event", RecordingEvent)
    RecordingEvent.waits = []
    store = MagicMock()
    store.find_installation.return_value = Installation(user_id="U1", team_id="T1", bot_token="xoxb-1",
                                                        bot_id="B1", bot_user_id="UB")
    client = MagicMock()
    client.auth_test.side_effect = SlackApiError("invalid_auth", {"ok": False, "error": "invalid_auth"})
    return SerializedAuthorize(locks=lambda key: threading.Lock(), logger=logging.getLogger("test"),
                               installation_store=store, client_id="c", client_secret="s", client=client), client


def test_a_failed_auth_test_does_not_make_the_request_wait_on_its_own_claim(authorize):
    auth, client = authorize
    context = BoltContext({"client": client, "is_enterprise_install": False})
    assert auth(context=context, enterprise_id=None, team_id="T1", user_id="U1") is None
    assert client.auth_test.call_count == 2  # the retry asked again instead of waiting for itself
    assert threading.get_ident() not in RecordingEvent.waits
    assert not auth.authorize_result_cache._pending  # and left no claim behind for the next request


def test_a_result_dropped_between_bolts_check_and_its_read_is_still_returned():
    cache = AuthTestCache()
    result = AuthorizeResult(enterprise_id=None, team_id="T1", bot_token="xoxb-1")
    cache["xoxb-1"] = result
    assert "xoxb-1" in cache
    cache.pop("xoxb-1")  # another thread: a leaving workspace forgotten, or the size limit
    assert cache["xoxb-1"] is result
    with pytest.raises(KeyError):
        cache["xoxb-other"]
