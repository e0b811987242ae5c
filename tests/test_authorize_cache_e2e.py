"""Acks in OAuth mode (issue 29): the real bot on the Slack test bed, tokens rotating as Slack issues them (12 h).

A request waits on no Slack call: Bolt's authorize cache asks ``auth.test`` once per token, so a burst of commands
from one workspace costs at most one ``auth.test`` and each is still answered. A token due for rotation is refreshed
once however many requests arrive together (the workspace's lock is taken only then), and the new token serves
them. A workspace that uninstalled is refused although its token was cached.

One stack per worker (SQLite); each test installs a workspace of its own, so it stands alone.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from itertools import count

import pytest

from sandbox.stack import Stack, StackOptions

_numbers = count(1)


@pytest.fixture(scope="module")
def stack():
    with Stack(StackOptions(scheduler=False, oauth=True, token_rotation=True)) as s:
        yield s


def new_workspace(stack: Stack) -> tuple[str, object, object]:
    """A workspace of its own, installed: (team id, stand-in, signer)."""
    team = f"T0AC{os.getpid()}{next(_numbers)}"[:14].upper()
    stack.add_workspace(team, f"Cache {team}")
    assert stack.install(team).status_code == 200
    standin, signer = stack.workspace(team)
    return team, standin, signer


def help_answered(standin, response, user: str) -> bool:
    """The user got /pluto help's answer (its `/pluto score` line, which no error message has): in the ack
    itself, or through the response URL."""
    if response.status_code != 200:
        return False
    return "/pluto score" in response.text or any("/pluto score" in str(r) for r in standin.responses(user))


def installation(stack: Stack, team: str):
    return stack.services.installs.installation_store.find_installation(enterprise_id=None, team_id=team)


def test_a_burst_of_commands_costs_at_most_one_auth_test_and_each_is_answered(stack):
    team, standin, signer = new_workspace(stack)
    before = len(standin.api_calls("auth.test"))
    users = [f"U_BURST{i}" for i in range(12)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(lambda user: signer.command("/pluto", "help", user=user), users))
    assert all(help_answered(standin, r, u) for r, u in zip(responses, users, strict=True)), \
        [r.status_code for r in responses]
    # and one after the burst, with everything cached
    assert help_answered(standin, signer.command("/pluto", "help", user="U_AFTER"), "U_AFTER")
    assert len(standin.api_calls("auth.test")) - before <= 1


def test_a_request_reads_the_installation_once(stack, monkeypatch):
    """The app asks for no user scopes: Bolt's second look-up per request ("this user's installation", for anyone
    but the installer) is answered without the database."""
    team, standin, signer = new_workspace(stack)
    store = stack.services.installs.installation_store
    reads = []
    real = store.find_installation
    monkeypatch.setattr(store, "find_installation", lambda **kw: reads.append(kw) or real(**kw))
    users = [f"U_READ{i}" for i in range(5)]
    for user in users:
        assert help_answered(standin, signer.command("/pluto", "help", user=user), user)
    mine = [kw for kw in reads if kw.get("team_id") == team]
    assert len(mine) == len(users) and not any(kw.get("user_id") for kw in mine)


def test_a_token_due_for_rotation_is_refreshed_once_and_the_new_one_serves(stack):
    team, standin, signer = new_workspace(stack)
    assert help_answered(standin, signer.command("/pluto", "help", user="U_FIRST"), "U_FIRST")  # cached now
    old = installation(stack, team)
    # The token is an hour from expiry, inside SLACK_TOKEN_ROTATION_MINUTES (120): the next requests rotate it;
    # Slack has already stopped taking it (so whatever still used it would be refused).
    old.bot_token_expires_at = int(time.time()) + 3600
    stack.services.installs.installation_store.save(old)
    standin.expire_token(old.bot_token)
    refreshes = len(stack.slack.api_calls("oauth.v2.access"))
    publishes = len(standin.api_calls("views.publish"))
    users = [f"U_ROT{i}" for i in range(6)]

    def open_home(user: str) -> int:
        return signer.event({"type": "app_home_opened", "user": user, "channel": "D1", "tab": "home"}).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert list(pool.map(open_home, users)) == [200] * len(users)
    for user in users:  # each Home was published, with the new token (the old one answers token_expired)
        assert standin.wait_for(lambda u=user: standin.home(u)), user
    assert len(stack.slack.api_calls("oauth.v2.access")) - refreshes == 1  # one refresh for the six requests
    new = installation(stack, team)
    assert new.bot_token != old.bot_token and new.bot_token_expires_at > time.time() + 7200
    assert len(standin.api_calls("views.publish")) - publishes >= len(users)
    # The jobs and the outbox pick up the rotated token too.
    stack.services.clients.forget(team)
    assert stack.services.clients.client_for(team).token == new.bot_token


def test_an_uninstalled_workspace_is_refused_though_its_token_was_cached(stack):
    team, standin, signer = new_workspace(stack)
    assert help_answered(standin, signer.command("/pluto", "help", user="U_BEFORE"), "U_BEFORE")
    assert [a.status_code for a in stack.uninstall(team)] == [200, 200]
    standin.wait_for(lambda: installation(stack, team) is None)
    response = signer.command("/pluto", "help", user="U_GONE")
    assert not help_answered(standin, response, "U_GONE")
    assert any("reinstall" in (r.get("text") or "") for r in standin.responses("U_GONE"))  # Bolt's refusal
    publishes = len(standin.api_calls("views.publish"))
    signer.event({"type": "app_home_opened", "user": "U_GONE", "channel": "D1", "tab": "home"})
    assert len(standin.api_calls("views.publish")) == publishes  # nothing is done there any more
