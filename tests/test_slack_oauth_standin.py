"""The Slack test bed with several workspaces and OAuth v2, over real HTTP and with no bot of ours:
slack_sdk's WebClient and TokenRotator against oauth.v2.access, team-scoped tokens, uninstalling, Enterprise
Grid ids in payloads (read back by Bolt's own request parsing), and a small Bolt app with Bolt's OAuthFlow
installed in two workspaces through the browser redirect, served per workspace, rotated and uninstalled."""

import json
import threading
import time
from urllib.parse import parse_qs, urlencode, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, make_server

import httpx
import pytest
import sqlalchemy
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from slack_sdk.oauth.token_rotation import TokenRotator

from sandbox.signer import SlackPayloads, SlackSigner
from sandbox.slack_api import SlackStandIn, find_authorize_url

TOKEN = "xoxb-static-primary"
SECRET = "5f742231b10e8888abcd99yyyzzz85a5"
REDIRECT = "https://bot.example/slack/oauth_redirect"


def web(standin: SlackStandIn, token: str | None = None) -> WebClient:
    return WebClient(token=token, base_url=standin.url + "/api/")


def error_of(call) -> str:
    with pytest.raises(SlackApiError) as info:
        call()
    return info.value.response["error"]


def authorize_url(standin: SlackStandIn, *, scope: str = "chat:write,commands", user_scope: str = "",
                  state: str = "s-1", redirect_uri: str | None = REDIRECT, client_id: str | None = None) -> str:
    query = {"client_id": client_id or standin.client_id, "scope": scope, "user_scope": user_scope, "state": state}
    if redirect_uri:
        query["redirect_uri"] = redirect_uri
    return f"https://slack.com/oauth/v2/authorize?{urlencode(query)}"


def code_of(redirect: str) -> str:
    return parse_qs(urlsplit(redirect).query)["code"][0]


def install(standin: SlackStandIn, team_id: str, **kw) -> dict:
    """Allow in ``team_id`` and exchange the code as Bolt's OAuthFlow does; the oauth.v2.access answer."""
    user = kw.pop("user", "U_ALICE")
    org_wide = kw.pop("org_wide", False)
    redirect = standin.approve_install(authorize_url(standin, **kw), team_id, user, org_wide=org_wide)
    return web(standin).oauth_v2_access(client_id=standin.client_id, client_secret=standin.client_secret,
                                        code=code_of(redirect), redirect_uri=REDIRECT).data


@pytest.fixture(scope="module")
def bed():
    """The primary workspace (installed up front with a static token, as single-workspace tests run), a
    second one, and two workspaces of one Enterprise Grid org."""
    with SlackStandIn(bot_token=TOKEN, team_id="T_ACME", team_name="Acme") as primary:
        primary.add_workspace("T_BETA", "Beta")
        primary.add_workspace("T_GRID1", "Grid One", enterprise_id="E_ORG")
        primary.add_workspace("T_GRID2", "Grid Two", enterprise_id="E_ORG")
        yield primary


def test_a_code_becomes_a_bot_token_of_that_workspace_only(bed):
    beta = bed.workspace("T_BETA")
    answer = install(bed, "T_BETA", user="U_BETA_ADMIN")
    assert answer["ok"] is True
    assert answer["app_id"] == bed.app_id and answer["token_type"] == "bot"
    assert answer["access_token"].startswith("xoxb-") and answer["bot_user_id"] == beta.bot_user_id
    assert answer["team"] == {"id": "T_BETA", "name": "Beta"}
    assert answer["enterprise"] is None and answer["is_enterprise_install"] is False
    assert answer["authed_user"] == {"id": "U_BETA_ADMIN"} and answer["scope"] == "chat:write,commands"
    assert "refresh_token" not in answer and "expires_in" not in answer and "incoming_webhook" not in answer
    token_b = answer["access_token"]

    who = web(bed, token_b).auth_test()
    assert (who["team_id"], who["team"], who["user_id"], who["bot_id"]) == ("T_BETA", "Beta", beta.bot_user_id,
                                                                          beta.bot_id)
    assert who.headers.get("x-oauth-scopes") == "chat:write,commands"
    assert web(bed, TOKEN).auth_test()["team_id"] == "T_ACME"  # the static token is still the primary's

    # Calls with B's token land in B's timeline, through the one API URL; A sees none of them.
    acme_before = len(bed.timeline)
    posted = web(bed, token_b).chat_postMessage(channel="C_GENERAL", text="hello Beta")
    assert [m["text"] for m in beta.messages("C_GENERAL")] == ["hello Beta"]
    assert len(bed.timeline) == acme_before and not bed.message("C_GENERAL", posted["ts"])
    assert [c["method"] for c in beta.api_calls()] == ["auth.test", "chat.postMessage"]
    assert not any(c["params"].get("text") == "hello Beta" for c in bed.api_calls())

    # B's token can't read or change A's messages.
    secret = web(bed, TOKEN).chat_postMessage(channel="C_HIRING", text="Acme's shortlist")
    history = web(bed, token_b).conversations_history(channel="C_HIRING")
    assert history["messages"] == []
    assert error_of(lambda: web(bed, token_b).conversations_replies(channel="C_HIRING", ts=secret["ts"])) \
        == "thread_not_found"
    assert error_of(lambda: web(bed, token_b).chat_update(channel="C_HIRING", ts=secret["ts"], text="x")) \
        == "message_not_found"
    assert bed.message("C_HIRING", secret["ts"])["text"] == "Acme's shortlist"


def test_files_download_with_their_own_workspaces_token(bed):
    token_b = install(bed, "T_BETA")["access_token"]
    beta = bed.workspace("T_BETA")
    file = beta.add_file("beta.csv", b"name\nAda\n")
    assert file["url_private_download"].startswith(beta.url) and beta.url != bed.url
    good = httpx.get(file["url_private_download"], headers={"Authorization": f"Bearer {token_b}"})
    assert good.status_code == 200 and good.content == b"name\nAda\n"
    other = httpx.get(file["url_private_download"], headers={"Authorization": f"Bearer {TOKEN}"})
    assert other.status_code == 302  # A's token: Slack's sign-in page
    assert error_of(lambda: web(bed, TOKEN).files_info(file=file["id"])) == "file_not_found"


def test_a_code_is_single_use_expires_and_needs_the_apps_secret(bed):
    client = web(bed)
    redirect = bed.approve_install(authorize_url(bed), "T_BETA")
    assert redirect.startswith(REDIRECT + "?") and parse_qs(urlsplit(redirect).query)["state"] == ["s-1"]
    code = code_of(redirect)
    assert error_of(lambda: client.oauth_v2_access(client_id=bed.client_id, client_secret="wrong",
                                                   code=code)) == "bad_client_secret"
    assert error_of(lambda: client.oauth_v2_access(client_id="1.2", client_secret=bed.client_secret,
                                                   code=code)) == "invalid_client_id"
    assert error_of(lambda: client.oauth_v2_access(client_id=bed.client_id, client_secret=bed.client_secret,
                                                   code=code, redirect_uri="https://evil.example/")) \
        == "bad_redirect_uri"
    # The credentials as form fields work too (not only HTTP Basic, as slack_sdk sends them).
    form = httpx.post(bed.url + "/api/oauth.v2.access", data={"client_id": bed.client_id, "code": code,
                                                              "client_secret": bed.client_secret,
                                                              "redirect_uri": REDIRECT}).json()
    assert form["ok"] is True and form["team"]["id"] == "T_BETA"
    assert error_of(lambda: client.oauth_v2_access(client_id=bed.client_id, client_secret=bed.client_secret,
                                                   code=code, redirect_uri=REDIRECT)) == "invalid_code"
    assert not any("client_secret" in c["params"] for c in bed.api_calls("oauth.v2.access"))

    stale = code_of(bed.approve_install(authorize_url(bed), "T_BETA"))
    bed.app.code_ttl = 0.0
    try:
        assert error_of(lambda: client.oauth_v2_access(client_id=bed.client_id, client_secret=bed.client_secret,
                                                       code=stale, redirect_uri=REDIRECT)) == "invalid_code"
    finally:
        bed.app.code_ttl = 600.0
    with pytest.raises(ValueError, match="invalid_client_id"):
        bed.approve_install(authorize_url(bed, client_id="999.999"), "T_BETA")


def test_the_authorize_page_allows_in_a_chosen_workspace_or_cancels(bed):
    url = authorize_url(bed, state="st-9").replace("https://slack.com", bed.url)
    page = httpx.get(url)
    assert page.status_code == 200 and "chat:write,commands" in page.text
    assert "Allow in Beta (T_BETA)" in page.text and "Allow in Acme (T_ACME)" in page.text
    allow = httpx.get(bed.url + "/oauth/v2/approve?" + urlsplit(url).query + "&team=T_BETA")
    assert allow.status_code == 302 and allow.headers["location"].startswith(REDIRECT + "?code=")
    answer = web(bed).oauth_v2_access(client_id=bed.client_id, client_secret=bed.client_secret,
                                      code=code_of(allow.headers["location"]), redirect_uri=REDIRECT)
    assert answer["team"]["id"] == "T_BETA"
    cancel = httpx.get(bed.url + "/oauth/v2/deny?" + urlsplit(url).query)
    assert cancel.headers["location"] == f"{REDIRECT}?error=access_denied&state=st-9"
    assert bed.deny_install(url) == f"{REDIRECT}?error=access_denied&state=st-9"
    assert httpx.get(url.replace(bed.client_id, "1.1")).status_code == 400


def test_token_rotation_refreshes_once_and_tokens_expire():
    with SlackStandIn(bot_token="", team_id="T_ROT", token_rotation_enabled=True) as slack:
        answer = install(slack, "T_ROT", user_scope="identify")
        bot, refresh = answer["access_token"], answer["refresh_token"]
        assert bot.startswith("xoxe.xoxb-1-") and refresh.startswith("xoxe-1-") and answer["expires_in"] == 43200
        user = answer["authed_user"]
        assert user["access_token"].startswith("xoxe.xoxp-1-") and user["refresh_token"].startswith("xoxe-1-")
        assert user["token_type"] == "user" and user["scope"] == "identify" and user["expires_in"] == 43200

        client = web(slack)
        renewed = client.oauth_v2_access(client_id=slack.client_id, client_secret=slack.client_secret,
                                         grant_type="refresh_token", refresh_token=refresh)
        assert renewed["token_type"] == "bot" and renewed["access_token"] not in (bot, None)
        assert renewed["refresh_token"] != refresh and renewed["team"] == {"id": "T_ROT", "name": "Sandbox"}
        assert error_of(lambda: client.oauth_v2_access(
            client_id=slack.client_id, client_secret=slack.client_secret, grant_type="refresh_token",
            refresh_token=refresh)) == "invalid_refresh_token"
        # The old access token lives until its own expiry, as in Slack.
        assert web(slack, bot).auth_test()["team_id"] == "T_ROT"
        slack.expire_token(bot)
        assert error_of(lambda: web(slack, bot).chat_postMessage(channel="C1", text="late")) == "token_expired"
        assert web(slack, renewed["access_token"]).chat_postMessage(channel="C1", text="on time")["ok"]
        assert [m["text"] for m in slack.messages("C1")] == ["on time"]
        assert error_of(lambda: web(slack, renewed["refresh_token"]).auth_test()) == "invalid_auth"

        # slack_sdk's own TokenRotator renews what is about to expire and reads the answer's shape.
        slack.token_lifetime = 0  # tokens from now on are born expired
        installation = Installation(app_id=slack.app_id, team_id="T_ROT", user_id="U_ALICE",
                                    bot_token=renewed["access_token"], bot_refresh_token=renewed["refresh_token"],
                                    bot_token_expires_in=30, bot_user_id=slack.bot_user_id,
                                    user_token=user["access_token"], user_refresh_token=user["refresh_token"],
                                    user_token_expires_in=30)
        rotated = TokenRotator(client_id=slack.client_id, client_secret=slack.client_secret,
                               client=client).perform_token_rotation(installation=installation,
                                                                     minutes_before_expiration=1)
        assert rotated is not None and rotated.bot_token != renewed["access_token"]
        assert rotated.user_token != user["access_token"] and rotated.user_refresh_token != user["refresh_token"]
        assert error_of(lambda: web(slack, rotated.bot_token).auth_test()) == "token_expired"


def test_uninstall_revokes_the_workspaces_tokens_and_returns_slacks_events():
    with SlackStandIn(bot_token="", team_id="T_ONE", team_name="One") as slack:
        two = slack.add_workspace("T_TWO", "Two")
        token_one = install(slack, "T_ONE")["access_token"]
        answer = install(slack, "T_TWO", user_scope="identify", user="U_TWO_ADMIN")
        token_two, user_two = answer["access_token"], answer["authed_user"]["access_token"]

        uninstalled, revoked = slack.uninstall("T_TWO")
        assert uninstalled["type"] == revoked["type"] == "event_callback"
        assert uninstalled["event"]["type"] == "app_uninstalled" and uninstalled["team_id"] == "T_TWO"
        assert revoked["event"]["type"] == "tokens_revoked"
        assert revoked["event"]["tokens"] == {"oauth": ["U_TWO_ADMIN"], "bot": [two.bot_user_id]}
        assert revoked["api_app_id"] == slack.app_id and revoked["authorizations"][0]["team_id"] == "T_TWO"
        assert error_of(lambda: web(slack, token_two).chat_postMessage(channel="C1", text="x")) \
            == "account_inactive"
        assert error_of(lambda: web(slack, user_two).auth_test()) == "token_revoked"
        assert two.messages() == [] and two.tokens() == []
        assert web(slack, token_one).auth_test()["team_id"] == "T_ONE"  # the other workspace is untouched

        # The app can leave by itself too: apps.uninstall (its credentials and a token), auth.revoke.
        token_two = install(slack, "T_TWO")["access_token"]
        assert web(slack, token_two).auth_revoke(test=True)["revoked"] is False
        assert web(slack, token_two).auth_revoke()["revoked"] is True
        events = two.take_events()
        assert [e["event"]["type"] for e in events] == ["app_uninstalled", "tokens_revoked"]
        assert two.take_events() == []
        assert error_of(lambda: web(slack, token_one).apps_uninstall(client_id=slack.client_id,
                                                                     client_secret="nope")) == "bad_client_secret"
        web(slack, token_one).apps_uninstall(client_id=slack.client_id, client_secret=slack.client_secret)
        assert [e["event"]["type"] for e in slack.take_events()] == ["app_uninstalled", "tokens_revoked"]
        assert error_of(lambda: web(slack, token_one).auth_test()) == "account_inactive"


def test_unknown_tokens_and_token_types_are_refused_as_before(bed):
    assert error_of(lambda: web(bed, "xoxb-never-issued").auth_test()) == "invalid_auth"
    assert error_of(lambda: web(bed).auth_test()) == "not_authed"
    with SlackStandIn(bot_token="xoxb-b", app_token="xapp-1-a") as slack:
        assert error_of(lambda: web(slack, "xapp-1-a").chat_postMessage(channel="C1", text="x")) \
            == "not_allowed_token_type"
        assert web(slack, "xoxb-b").chat_postMessage(channel="C1", text="x")["ok"]
        # One app-level token and Socket Mode connection serve every workspace.
        other = slack.add_workspace("T_OTHER", "Other")
        assert other.socket is slack.socket and other.app_token == "xapp-1-a"
        assert web(other).apps_connections_open(app_token="xapp-1-a")["url"].startswith("ws")


class Parsed(SlackPayloads):
    """Payloads handed to Bolt's own request parsing instead of being sent: what Bolt makes of them."""

    def _deliver_command(self, form, **kw):
        return BoltRequest(body=urlencode(form), headers={"content-type": ["application/x-www-form-urlencoded"]})

    def _deliver_interaction(self, payload, **kw):
        return BoltRequest(body=urlencode({"payload": json.dumps(payload)}),
                           headers={"content-type": ["application/x-www-form-urlencoded"]})

    def _deliver_event(self, envelope, **kw):
        return BoltRequest(body=json.dumps(envelope), headers={"content-type": ["application/json"]})


def ids(request: BoltRequest) -> tuple:
    context = request.context
    return context.enterprise_id, context.team_id, context.is_enterprise_install


def every_kind(payloads: Parsed) -> list[BoltRequest]:
    return [payloads.command("/pluto", "help"), payloads.block_action("act", "v"),
            payloads.message("hi"), payloads.app_mention("hello")]


def test_event_ids_are_unique_across_workspaces_and_signers(bed):
    """A bot drops an event id it has seen (Slack's retries): two workspaces' events must never share one."""
    ids_seen = [Parsed(bed).message("a").body["event_id"], Parsed(bed.workspace("T_BETA")).message("b").body["event_id"],
                Parsed(bed).message("c").body["event_id"]]
    with SlackStandIn(bot_token="", team_id="T_ONE") as one:
        one.add_workspace("T_TWO", "Two")
        install(one, "T_TWO")
        ids_seen += [e["event_id"] for e in one.uninstall("T_TWO")]
    assert len(set(ids_seen)) == len(ids_seen) == 5


def test_payloads_carry_each_workspaces_team_and_enterprise_as_bolt_reads_them(bed):
    assert {ids(r) for r in every_kind(Parsed(bed))} == {(None, "T_ACME", False)}
    assert {ids(r) for r in every_kind(Parsed(bed.workspace("T_BETA")))} == {(None, "T_BETA", False)}
    grid = bed.workspace("T_GRID1")
    assert {ids(r) for r in every_kind(Parsed(grid))} == {("E_ORG", "T_GRID1", False)}
    envelope = Parsed(grid).message("hi").body
    assert envelope["enterprise_id"] == envelope["context_enterprise_id"] == "E_ORG"
    assert envelope["authorizations"] == [{"enterprise_id": "E_ORG", "team_id": "T_GRID1",
                                           "user_id": grid.bot_user_id, "is_bot": True,
                                           "is_enterprise_install": False}]

    answer = install(bed, "T_GRID1")  # a workspace-level install in a Grid org
    assert answer["enterprise"] == {"id": "E_ORG", "name": "Grid One Org"} and answer["team"]["id"] == "T_GRID1"
    assert web(bed, answer["access_token"]).auth_test()["enterprise_id"] == "E_ORG"


def test_an_org_wide_install_speaks_for_every_workspace_of_the_org():
    with SlackStandIn(bot_token="", team_id="T_G1", team_name="G One", enterprise_id="E_BIG",
                      enterprise_name="Big Org") as slack:
        g2 = slack.add_workspace("T_G2", "G Two", enterprise_id="E_BIG")
        lone = slack.add_workspace("T_LONE", "Lone")
        with pytest.raises(ValueError, match="Enterprise Grid"):
            slack.approve_install(authorize_url(slack), "T_LONE", org_wide=True)
        answer = install(slack, "T_G1", org_wide=True)
        assert answer["is_enterprise_install"] is True and answer["team"] is None
        assert answer["enterprise"] == {"id": "E_BIG", "name": "Big Org"}
        who = web(slack, answer["access_token"]).auth_test()
        assert who["is_enterprise_install"] is True and who["enterprise_id"] == who["team_id"] == "E_BIG"
        for workspace in (slack, g2):
            for request in every_kind(Parsed(workspace)):
                assert request.context.enterprise_id == "E_BIG" and request.context.is_enterprise_install is True
            assert Parsed(workspace).message("x").body["authorizations"][0]["team_id"] is None
        assert Parsed(lone).command("/pluto").context.is_enterprise_install is False
        # An org token acts in the workspace its team_id names, or the one its channel or user is in.
        org = web(slack, answer["access_token"])
        org.chat_postMessage(channel="C1", text="to G2", team_id="T_G2")
        assert [m["text"] for m in g2.messages("C1")] == ["to G2"] and slack.messages("C1") == []
        org.chat_postMessage(channel="C1", text="C1 is G2's")
        assert [m["text"] for m in g2.messages("C1")] == ["to G2", "C1 is G2's"]
        g2.add_user("U_G2_ONLY")
        org.views_publish(user_id="U_G2_ONLY", view={"type": "home", "blocks": []})
        assert g2.home("U_G2_ONLY") is not None and slack.home("U_G2_ONLY") is None
        org.chat_postMessage(channel="C_NOWHERE", text="unknown channel: where it was installed")
        assert [m["text"] for m in slack.messages("C_NOWHERE")] == ["unknown channel: where it was installed"]
        slack.uninstall("T_G1")
        assert Parsed(g2).command("/pluto").context.is_enterprise_install is False


# -- Bolt's own OAuth flow against the test bed -------------------------------------------------------------
class _Quiet(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def bolt(tmp_path_factory):
    """A small Bolt app with OAuthFlow (SQLAlchemy installation and state stores, token rotation) served over
    HTTP, and a test bed with two workspaces, rotation on. Nothing is installed yet."""
    slack = SlackStandIn(bot_token="", team_id="T_ACME", team_name="Acme", token_rotation_enabled=True).start()
    slack.add_workspace("T_BETA", "Beta")
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path_factory.mktemp('bolt') / 'bolt.db'}")
    store = SQLAlchemyInstallationStore(client_id=slack.client_id, engine=engine)
    store.create_tables()
    states = SQLAlchemyOAuthStateStore(expiration_seconds=600, engine=engine)
    states.metadata.create_all(engine)
    # installation_store= too: only then does Bolt's token rotator use this client (and so the test bed's URL)
    app = App(signing_secret=SECRET, client=WebClient(base_url=slack.url + "/api/"), installation_store=store,
              oauth_settings=OAuthSettings(client_id=slack.client_id, client_secret=slack.client_secret,
                                           scopes=["chat:write", "commands"], installation_store=store,
                                           state_store=states, authorization_url=slack.url + "/oauth/v2/authorize",
                                           token_rotation_expiration_minutes=2))
    app.enable_token_revocation_listeners()

    @app.command("/hello")
    def hello(ack, command, client, context):
        ack()
        client.chat_postMessage(channel=command["channel_id"], text=f"hello {context.team_id}")

    server = make_server("127.0.0.1", 0, SlackRequestHandler(app), handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    slack.app.redirect_urls = [url + "/slack/oauth_redirect"]  # the app's Redirect URL (Bolt sends none)
    yield slack, store, url
    server.shutdown()
    slack.stop()


@pytest.fixture()
def bolt_installed(bolt):
    """Both workspaces installed (tests are spread over workers one by one: each installs what it needs)."""
    slack, store, url = bolt
    for team_id in ("T_ACME", "T_BETA"):
        if store.find_installation(enterprise_id=None, team_id=team_id) is None:
            assert slack.install_via_browser(url + "/slack/install", team_id, "U_ADMIN").status_code == 200
    return bolt


def signer_for(bolt, team_id: str) -> SlackSigner:
    slack, _, url = bolt
    return SlackSigner(url, SECRET, slack.workspace(team_id))


def test_bolt_installs_in_two_workspaces_through_the_browser(bolt):
    slack, store, url = bolt
    for team_id, name in (("T_ACME", "Acme"), ("T_BETA", "Beta")):
        done = slack.install_via_browser(url + "/slack/install", team_id, "U_ADMIN")
        assert done.status_code == 200, done.text
        assert done.authorize_url.startswith(slack.url + "/oauth/v2/authorize?")
        installed = store.find_installation(enterprise_id=None, team_id=team_id)
        assert installed is not None and installed.team_name == name
        assert installed.bot_token.startswith("xoxe.xoxb-1-") and installed.bot_refresh_token.startswith("xoxe-1-")
        assert installed.bot_user_id == slack.workspace(team_id).bot_user_id
        assert installed.bot_id == slack.workspace(team_id).bot_id  # Bolt asked auth.test with the new token
    assert store.find_installation(enterprise_id=None, team_id="T_ACME").bot_token != \
        store.find_installation(enterprise_id=None, team_id="T_BETA").bot_token

    # Without the state cookie the browser got, Bolt refuses the redirect (the CSRF check works end to end).
    with httpx.Client() as browser:
        page = browser.get(url + "/slack/install")
        assert page.status_code == 200 and "set-cookie" in page.headers
        bare = httpx.get(slack.approve_install(find_authorize_url(page), "T_BETA"))
    assert bare.status_code >= 400
    kept = store.find_installation(enterprise_id=None, team_id="T_BETA").bot_token
    refused = slack.install_via_browser(url + "/slack/install", "T_BETA", deny=True)
    assert "access_denied" in refused.text  # Bolt's failure page (HTTP 200, as Bolt answers a cancel)
    assert store.find_installation(enterprise_id=None, team_id="T_BETA").bot_token == kept


def test_bolt_serves_each_workspace_with_its_own_token(bolt_installed):
    bolt = bolt_installed
    slack, store, url = bolt
    beta = slack.workspace("T_BETA")
    for team_id, standin in (("T_ACME", slack), ("T_BETA", beta)):
        assert signer_for(bolt, team_id).command("/hello", channel="C_TEAM").status_code == 200
        standin.wait_for(lambda s=standin, t=team_id: [m for m in s.messages("C_TEAM") if m["text"] == f"hello {t}"])
    assert [m["text"] for m in slack.messages("C_TEAM")] == ["hello T_ACME"]
    assert [m["text"] for m in beta.messages("C_TEAM")] == ["hello T_BETA"]


def test_bolt_rotates_an_expiring_token_mid_run(bolt):
    slack, store, url = bolt
    slack.token_lifetime = 60  # tokens now live a minute: inside Bolt's 2-minute margin, every request rotates
    try:
        assert slack.install_via_browser(url + "/slack/install", "T_BETA").status_code == 200
        before = store.find_installation(enterprise_id=None, team_id="T_BETA")
        assert before.bot_token_expires_at <= int(time.time()) + 61
        calls = len(slack.api_calls("oauth.v2.access"))
        signer_for(bolt, "T_BETA").command("/hello", channel="C_ROT")
        beta = slack.workspace("T_BETA")
        beta.wait_for(lambda: beta.messages("C_ROT"))
    finally:
        slack.token_lifetime = 43200
    after = store.find_installation(enterprise_id=None, team_id="T_BETA")
    assert after.bot_token != before.bot_token and after.bot_refresh_token != before.bot_refresh_token
    assert [c["params"].get("grant_type") for c in slack.api_calls("oauth.v2.access")[calls:]] == ["refresh_token"]
    assert error_of(lambda: web(slack).oauth_v2_access(client_id=slack.client_id, client_secret=slack.client_secret,
                                                       grant_type="refresh_token",
                                                       refresh_token=before.bot_refresh_token)) \
        == "invalid_refresh_token"
    assert after.bot_token_expires_at <= int(time.time()) + 61


def test_bolt_forgets_a_workspace_that_uninstalls(bolt_installed):
    bolt = bolt_installed
    slack, store, url = bolt
    beta_token = store.find_installation(enterprise_id=None, team_id="T_BETA").bot_token
    acks = [signer_for(bolt, "T_BETA").deliver(envelope) for envelope in slack.uninstall("T_BETA")]
    assert [a.status_code for a in acks] == [200, 200]
    slack.wait_for(lambda: store.find_installation(enterprise_id=None, team_id="T_BETA") is None)
    assert error_of(lambda: web(slack, beta_token).auth_test()) == "account_inactive"
    assert store.find_installation(enterprise_id=None, team_id="T_ACME") is not None
    signer_for(bolt, "T_ACME").command("/hello", channel="C_AFTER")
    slack.wait_for(lambda: slack.messages("C_AFTER"))
    assert slack.install_via_browser(url + "/slack/install", "T_BETA").status_code == 200  # back, for the next test
