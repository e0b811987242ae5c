"""The real bot in OAuth mode on the Slack test bed's two workspaces (sandbox/stack.py ``oauth=True``):
installed in each through its own ``/slack/install`` page, answering each workspace with that workspace's
token while tokens rotate on every request, and forgetting a workspace that uninstalls."""

import os
from pathlib import Path

import httpx
import pytest
import yaml

from sandbox.slack_api import authorize_query, find_authorize_url
from sandbox.stack import Stack, StackOptions
from tests.conftest import module_database

ACME, BETA = "T0SANDBOX", "T0BETA"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stack(request):
    # Tokens live 60 s, well inside SLACK_TOKEN_ROTATION_MINUTES (120): every use refreshes them first.
    database = module_database(request, "oauth")  # the installation store in the bot's own database
    options = StackOptions(scheduler=False, oauth=True, token_rotation=True, token_lifetime=60,
                           workspaces={BETA: "Beta"}, **database)
    with Stack(options) as s:
        yield s


@pytest.fixture()
def installed(stack):
    """Both workspaces installed (each test may run alone on its own worker: it installs what it needs)."""
    store = stack.services.installs.installation_store
    for team_id in (ACME, BETA):
        if store.find_installation(enterprise_id=None, team_id=team_id) is None:
            assert stack.install(team_id).status_code == 200
    return stack


def open_home(stack: Stack, team_id: str, user: str = "U_ALICE") -> dict:
    standin, signer = stack.workspace(team_id)
    assert signer.event({"type": "app_home_opened", "user": user, "channel": "D1", "tab": "home"}).status_code == 200
    return standin.wait_for(lambda: standin.home(user))


def test_the_bot_runs_without_a_bot_token_and_installs_in_two_workspaces(stack):
    assert not stack.settings.slack_bot_token and stack.settings.slack_client_id == stack.slack.client_id
    page = httpx.get(stack.bot_url + "/slack/install")
    assert page.status_code == 200 and "/oauth/v2/authorize" in page.text
    for team_id in (ACME, BETA):
        done = stack.install(team_id)
        assert done.status_code == 200, done.text
        assert done.authorize_url.startswith(stack.slack.url + "/oauth/v2/authorize?")
        store = stack.services.installs.installation_store
        assert store.find_installation(enterprise_id=None, team_id=team_id).bot_token.startswith("xoxe.xoxb-1-")
    kept = store.find_installation(enterprise_id=None, team_id=BETA)
    assert stack.install(BETA, deny=True).status_code == 200  # a cancel: Bolt's failure page ...
    after = store.find_installation(enterprise_id=None, team_id=BETA)  # ... and Beta's install as it was
    assert (after.bot_token, after.installed_at) == (kept.bot_token, kept.installed_at)


def test_the_install_asks_for_exactly_the_manifests_scopes(stack):
    """"Add to Slack" requests manifest.yml's ``oauth_config.scopes`` (bot, and user scopes if any), nothing more
    or less; the test bed, set up with those scopes as the app's, refuses an authorize URL asking for others."""
    manifest = yaml.safe_load((Path(__file__).resolve().parents[1] / "manifest.yml").read_text(encoding="utf-8"))
    scopes = manifest["oauth_config"]["scopes"]
    authorize = find_authorize_url(httpx.get(stack.bot_url + "/slack/install"))
    query = authorize_query(authorize)
    assert query["scope"].split(",") == scopes["bot"]
    assert [s for s in query.get("user_scope", "").split(",") if s] == list(scopes.get("user") or [])
    greedy = authorize.replace("scope=", "scope=admin%2C", 1)
    with pytest.raises(ValueError, match="invalid_scope"):
        stack.slack.approve_install(greedy, ACME)


def test_each_workspace_is_served_with_its_own_rotating_token(installed):
    stack = installed
    refreshes = len([c for c in stack.slack.api_calls("oauth.v2.access")
                     if c["params"].get("grant_type") == "refresh_token"])
    beta = stack.slack.workspace(BETA)
    before = len(stack.slack.api_calls("views.publish")), len(beta.api_calls("views.publish"))
    for team_id in (ACME, BETA):
        home = open_home(stack, team_id)
        assert home["team_id"] == team_id
    assert stack.slack.home("U_ALICE")["id"] != beta.home("U_ALICE")["id"]
    # Each workspace's publish came with its own token: one call landed in each.
    after_publish = len(stack.slack.api_calls("views.publish")), len(beta.api_calls("views.publish"))
    assert (after_publish[0] - before[0], after_publish[1] - before[1]) == (1, 1)
    after = [c for c in stack.slack.api_calls("oauth.v2.access") if c["params"].get("grant_type") == "refresh_token"]
    assert len(after) > refreshes  # the 60-second tokens were refreshed on the way


def test_a_workspace_that_uninstalls_is_forgotten_and_the_other_goes_on(installed):
    stack = installed
    beta = stack.slack.workspace(BETA)
    acks = stack.uninstall(BETA)
    assert [a.status_code for a in acks] == [200, 200]
    store = stack.services.installs.installation_store
    beta.wait_for(lambda: store.find_installation(enterprise_id=None, team_id=BETA) is None)
    assert beta.tokens() == []
    assert open_home(stack, ACME, user="U_BOB")["team_id"] == ACME


def test_an_org_wide_install_serves_every_workspace_of_the_org(stack):
    one = stack.add_workspace("T0GRID1", "Grid One", enterprise_id="E0ORG")
    two = stack.add_workspace("T0GRID2", "Grid Two", enterprise_id="E0ORG")
    assert stack.install("T0GRID1", "U_ORG_ADMIN", org_wide=True).status_code == 200
    store = stack.services.installs.installation_store
    assert store.find_installation(enterprise_id="E0ORG", team_id=None, is_enterprise_install=True) is not None
    for team_id, standin, user in (("T0GRID1", one, "U_GRID_ONE"), ("T0GRID2", two, "U_GRID_TWO")):
        assert open_home(stack, team_id, user=user)["team_id"] == team_id
        assert standin.api_calls("views.publish")  # the org's token, acting in this workspace


def test_a_state_the_bot_did_not_sign_is_refused(stack):
    """The OAuth state is signed with SLACK_STATE_SECRET: one altered in the browser (cookie and query alike)
    installs nothing, though the state it was made from is still unused in the bot's state store."""
    team = f"T0FORGE{os.getpid()}"[:12].upper()
    stack.add_workspace(team, "Forged")
    with httpx.Client(timeout=15) as browser:
        authorize = find_authorize_url(browser.get(stack.bot_url + "/slack/install"))
        state = authorize_query(authorize)["state"]
        forged = state.rpartition(".")[0] + ".AAAAAAAAAAAAAAAAAAAAAAAA"
        target = stack.slack.approve_install(authorize.replace(state, forged), team)
        assert "code=" in target  # Slack approved: only the bot's state check stands in the way
        browser.get(target, headers={"Cookie": f"slack-app-oauth-state={forged}"})
    store = stack.services.installs.installation_store
    assert store.find_installation(enterprise_id=None, team_id=team) is None
