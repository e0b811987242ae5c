"""Leaving cleanly, in full, end to end: the real bot in OAuth mode on the Slack test bed, on SQLite and PostgreSQL.

* A workspace that uninstalls loses its own Nimrobo key at once (a credential, like its tokens), while its data
  stays until the retention purge.
* An org-wide Enterprise Grid install removed from one of the org's teams (``team_access_revoked``, as Slack sends
  it) serves nothing from that team, and goes on serving the others; ``team_access_granted`` brings it back.

One stack per database per worker; each test makes the workspaces it needs.
"""

import os

import pytest

from bot.app import NO_TEAM_ACCESS
from sandbox.stack import Stack, StackOptions
from services.store import in_workspace
from tests.conftest import module_database

USER = "U_ALICE"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stack(request, tmp_path_factory):
    database = module_database(request, "leave")
    with Stack(StackOptions(oauth=True, scheduler=False, openai=False, **database)) as s:
        yield s


def workspace(stack: Stack, team: str, name: str, *, enterprise_id: str | None = None):
    if team not in stack.slack.app.workspaces:
        stack.add_workspace(team, name, enterprise_id=enterprise_id)
    return stack.workspace(team)


def key_column(stack: Stack, key: str):
    return stack.services.store.shared.execute('select nimrobo_key_enc from workspaces where "key" = ?', [key])


def help_answer(signer, user: str = USER, **extra: str) -> str:
    response = signer.command("/pluto", "help", user=user, channel="C_GENERAL", **extra)
    assert response.status_code == 200
    return response.json()["text"]


def test_uninstalling_forgets_the_workspaces_nimrobo_key_at_once_and_keeps_its_data(stack):
    team = f"T0KEY{os.getpid() % 10000}"
    standin, signer = workspace(stack, team, "Keyed")
    assert stack.install(team).status_code == 200
    services = stack.services
    services.workspaces.set_nimrobo_key(team, stack.nimrobo_key)  # what its admin sets in App Home
    assert key_column(stack, team)[0]["nimrobo_key_enc"] and services.workspaces.nimrobo_key(team) == stack.nimrobo_key
    assert signer.command("/pluto", "digest 09:00", user=USER, channel="C_KEYED").status_code == 200

    def digests() -> int:
        with in_workspace(team):
            return services.store.count("channel_digests")
    standin.wait_for(digests)

    assert [a.status_code for a in stack.uninstall(team)] == [200, 200]
    standin.wait_for(lambda: not services.workspaces.get(team).installed)
    assert key_column(stack, team) == [{"nimrobo_key_enc": None}]  # gone from the database, not merely unused
    assert services.workspaces.nimrobo_key(team) is None
    left = services.workspaces.get(team)
    assert not left.has_nimrobo_key and left.purge_after > services.clock.now()
    assert digests() == 1  # the data stays until WORKSPACE_RETENTION_DAYS is over


def test_a_team_an_org_wide_install_lost_is_served_nothing_until_access_is_granted_again(stack):
    org, one, two = "E0TAR", "T0TARONE", "T0TARTWO"
    one_standin, one_signer = workspace(stack, one, "Org One", enterprise_id=org)
    two_standin, two_signer = workspace(stack, two, "Org Two", enterprise_id=org)
    if not stack.services.workspaces.is_installed(org):
        assert stack.install(one, "U_ORG_ADMIN", org_wide=True).status_code == 200
    for signer in (one_signer, two_signer):
        assert "/pluto score" in help_answer(signer)

    # An org admin removes the app from Org Two: Slack sends team_access_revoked naming it
    acks = [one_signer.deliver(envelope) for envelope in one_standin.revoke_team_access([two])]
    assert [a.status_code for a in acks] == [200]
    two_standin.wait_for(lambda: stack.services.workspaces.team_revoked(org, two))
    # Slack sends nothing more from Org Two; a request it sent while the install still reached the team (in flight,
    # a retry) names the org-wide install, which still exists: the bot refuses it and does nothing for it
    refused = help_answer(two_signer, is_enterprise_install="true")
    assert refused == NO_TEAM_ACCESS and "/pluto score" not in refused
    assert "/pluto score" in help_answer(one_signer)  # the org's other team is served as before
    assert stack.services.workspaces.is_installed(org)  # the install (and its data) stays

    # ... and adds it back: team_access_granted
    for envelope in one_standin.grant_team_access([two]):
        assert one_signer.deliver(envelope).status_code == 200
    two_standin.wait_for(lambda: not stack.services.workspaces.team_revoked(org, two))
    assert "/pluto score" in help_answer(two_signer)
