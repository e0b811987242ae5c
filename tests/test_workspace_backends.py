"""Each workspace's own backends (issue 29): its Nimrobo key and Pluto server, used for its calls only.

Service level, on SQLite and PostgreSQL (the ``database`` fixture), against the Nimrobo and Pluto
simulators (real HTTP): the key that reached Nimrobo is read from the simulator's ``key_log``, the
server a call went to from each Pluto simulator's own call log.
"""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from bot.context import Services
from bot.doctor import check_workspaces
from config import Secret, Settings
from sandbox.nimrobo_sim import ALL_SCOPES, NimroboSimulator
from sandbox.pluto_sim import PlutoSimulator
from services.errors import BadInput, NotAllowed, Refusal, ServiceError
from services.keys import KeyVaultError
from services.pluto import on_server
from services.store import Store, in_workspace

ENV_KEY, KEY_A, KEY_B, PERSONAL = "api_env_key_0000", "api_team_a_key_AAAA", "api_team_b_key_BBBB", "api_mine_1234"
ADMIN, RECRUITER = "U_ADMIN", "U_RECRUITER"


@pytest.fixture(scope="module")
def sims():
    keys = {k: ALL_SCOPES for k in (ENV_KEY, KEY_A, KEY_B, PERSONAL)}
    with NimroboSimulator(keys=keys) as nimrobo, PlutoSimulator() as pluto_env, PlutoSimulator() as pluto_a:
        yield nimrobo, pluto_env, pluto_a


def settings_for(database: str, nimrobo: NimroboSimulator, pluto_url: str, *, multi: bool = True) -> Settings:
    values = {"nimrobo_api_base_url": nimrobo.url + "/api", "nimrobo_api_key": Secret(ENV_KEY),
              "pluto_api_base_url": pluto_url + "/api", "encryption_key": Secret(Fernet.generate_key().decode()),
              "admin_user_ids": (ADMIN,), "slack_bot_token": Secret("" if multi else "xoxb-one")}
    if database.startswith("postgresql:"):
        values["database_url"] = Secret(database)
    else:
        values["database_path"] = database
    if multi:
        values.update(slack_client_id=Secret("111.222"), slack_client_secret=Secret("shh"),
                      slack_state_secret=Secret("state"))
    return Settings().replace(**values)


@pytest.fixture()
def services(database, sims):
    nimrobo, pluto_env, pluto_a = sims
    nimrobo.reset()
    pluto_env.reset_calls(), pluto_a.reset_calls()
    settings = settings_for(database, nimrobo, pluto_env.url)
    services = Services(settings, Store(settings.database_target))
    for team in ("TA", "TB", "TC"):
        services.workspaces.installed(team_id=team, enterprise_id=None, is_enterprise_install=False, name=team)
    yield services
    services.close()


def keys_used(nimrobo: NimroboSimulator, path: str) -> list[str]:
    return [key for _, p, key in nimrobo.key_log if p == path]


def test_each_workspace_calls_nimrobo_with_its_own_key_and_unset_uses_the_environments(services, sims):
    nimrobo = sims[0]
    with in_workspace("TA"):
        services.backends.set_nimrobo_key(ADMIN, KEY_A)
    with in_workspace("TB"):
        services.backends.set_nimrobo_key(ADMIN, KEY_B)
    nimrobo.key_log.clear()
    for team in ("TA", "TB", "TC", "TA"):
        with in_workspace(team):
            services.nimrobo.get_profile()
    assert keys_used(nimrobo, "/api/v1/user/profile") == [KEY_A, KEY_B, ENV_KEY, KEY_A]


def test_a_personal_key_wins_over_the_workspaces_which_wins_over_the_environments(services, sims):
    nimrobo = sims[0]
    with in_workspace("TA"):
        services.backends.set_nimrobo_key(ADMIN, KEY_A)
        services.keys.login(RECRUITER, PERSONAL)
        nimrobo.key_log.clear()
        with services.keys.acting_as(RECRUITER):
            services.nimrobo.get_profile()
        with services.keys.acting_as("U_SOMEONE_ELSE"):
            services.nimrobo.get_profile()
    with in_workspace("TB"), services.keys.acting_as(RECRUITER):  # the login was in A: B's store has no key
        services.nimrobo.get_profile()
    assert keys_used(nimrobo, "/api/v1/user/profile") == [PERSONAL, KEY_A, ENV_KEY]


def test_a_project_list_read_for_one_workspace_never_serves_another(services, sims):
    nimrobo = sims[0]
    with in_workspace("TA"):
        services.backends.set_nimrobo_key(ADMIN, KEY_A)
    nimrobo.key_log.clear()
    with in_workspace("TA"):
        services.voicelinks.projects()
    with in_workspace("TB"):
        services.voicelinks.projects()  # a cache keyed by the acting user alone would answer from A's list
    assert keys_used(nimrobo, "/api/v1/projects") == [KEY_A, ENV_KEY]


def test_the_workspace_key_is_checked_kept_encrypted_and_shown_by_its_last_four_only(services, sims):
    with in_workspace("TA"):
        with pytest.raises(KeyVaultError):
            services.backends.set_nimrobo_key(ADMIN, "not-a-key")
        with pytest.raises(ServiceError):  # Nimrobo refuses it (401): nothing is kept
            services.backends.set_nimrobo_key(ADMIN, "api_unknown_key")
        assert services.backends.state().key_tail is None
        login = services.backends.set_nimrobo_key(ADMIN, KEY_A)
        assert login.account == "recruiter@example.com" and not login.missing_scopes
        state = services.backends.state()
    assert state.key_tail == "AAAA" and state.multi_workspace
    row = services.store.shared.get("workspaces", "TA")
    assert KEY_A not in str(row) and row["nimrobo_key_enc"]
    with in_workspace("TB"):
        assert services.backends.state().key_tail is None  # B still uses the environment's
    sims[0].revoke_key(KEY_A)  # Nimrobo stops accepting it: A's people are told who can fix it
    try:
        with in_workspace("TA"), pytest.raises(KeyVaultError) as refused:
            services.nimrobo.get_profile()
        assert "workspace's own key" in refused.value.user_message and "App Home" in refused.value.user_message
    finally:
        sims[0].add_key(KEY_A)
    with in_workspace("TA"):
        services.backends.clear_nimrobo_key(ADMIN)
        assert services.backends.state().key_tail is None
        services.nimrobo.get_profile()
    assert keys_used(sims[0], "/api/v1/user/profile")[-1] == ENV_KEY


def test_only_an_admin_changes_the_workspaces_backends(services, sims):
    with in_workspace("TA"):
        services.backends.set_nimrobo_key(ADMIN, KEY_A)
        for change in (lambda: services.backends.set_nimrobo_key(RECRUITER, KEY_B),
                       lambda: services.backends.clear_nimrobo_key(RECRUITER),
                       lambda: services.backends.set_pluto_server(RECRUITER, sims[2].url + "/api"),
                       lambda: services.backends.clear_pluto_server(RECRUITER)):
            with pytest.raises(NotAllowed):
                change()
        assert services.backends.state().key_tail == "AAAA" and services.backends.state().pluto_server is None


def test_each_workspace_scores_on_its_own_pluto_server(services, sims):
    _, pluto_env, pluto_a = sims
    with in_workspace("TA"):
        with pytest.raises(BadInput):
            services.backends.set_pluto_server(ADMIN, "ftp://pluto.example.com")
        with pytest.raises(ServiceError):  # nothing answers there: not kept
            services.backends.set_pluto_server(ADMIN, "http://127.0.0.1:9/api")
        checked = services.backends.set_pluto_server(ADMIN, pluto_a.url + "/api/")
        assert checked.url == pluto_a.url + "/api" and checked.status == "idle"
    pluto_env.reset_calls(), pluto_a.reset_calls()
    with in_workspace("TA"):
        assert services.scoring.base_url == pluto_a.url + "/api"
        services.pluto.status()
    with in_workspace("TB"):
        assert services.scoring.base_url == pluto_env.url + "/api"
        services.pluto.status()
        services.pluto.status()
    assert (pluto_a.count("GET"), pluto_env.count("GET")) == (1, 2)
    with in_workspace("TB"), on_server(pluto_a.url + "/api"):  # a run queued on A's server keeps talking to it
        services.pluto.status()
    assert (pluto_a.count("GET"), pluto_env.count("GET")) == (2, 2)


def test_the_doctor_checks_every_workspace_and_one_failing_hides_no_other(services, sims):
    nimrobo, _, pluto_a = sims
    with in_workspace("TA"):
        services.backends.set_nimrobo_key(ADMIN, KEY_A)
        services.backends.set_pluto_server(ADMIN, pluto_a.url + "/api")
    with in_workspace("TB"):
        services.backends.set_nimrobo_key(ADMIN, KEY_B)
    nimrobo.revoke_key(KEY_B)  # B's own key stops working in Nimrobo
    try:
        lines = check_workspaces(services.settings, registry=services.workspaces)
    finally:
        nimrobo.add_key(KEY_B)
    by_name = {c.name: c for c in lines}
    assert by_name["Workspaces"].detail == "3 installed"
    a, b, c = by_name["Workspace TA"], by_name["Workspace TB"], by_name["Workspace TC"]
    assert a.ok and "its own key" in a.detail and pluto_a.url in a.detail
    assert not b.ok and "Nimrobo (its own key)" in b.detail and "App Home" in b.fix
    assert c.ok and "the default key" in c.detail and "the default server" in c.detail
    assert not any(k in line.line() for line in lines for k in (KEY_A, KEY_B, ENV_KEY))


def test_single_workspace_mode_uses_the_environment_and_refuses_changes(database, sims):
    nimrobo, pluto_env, _ = sims
    settings = settings_for(database, nimrobo, pluto_env.url, multi=False)
    services = Services(settings, Store(settings.database_target))
    try:
        state = services.backends.state()
        assert not state.multi_workspace and state.pluto_in_use == pluto_env.url + "/api"
        with pytest.raises(Refusal):
            services.backends.set_nimrobo_key(ADMIN, KEY_A)
        nimrobo.key_log.clear()
        services.nimrobo.get_profile()
        assert keys_used(nimrobo, "/api/v1/user/profile") == [ENV_KEY]
        assert check_workspaces(settings) == []
    finally:
        services.close()


def test_the_admin_section_shows_at_most_the_keys_last_four_and_no_buttons_in_single_workspace_mode():
    from bot.blocks.workspace_admin import ACTIONS, admin_section
    from services.backends import BackendState

    own = str([b.to_dict() for b in admin_section(BackendState(True, "TA", "AAAA", "https://p.example/api",
                                                               "http://default/api", True))])
    assert "…AAAA" in own and "https://p.example/api" in own and all(a in own for a in ACTIONS)
    single = str([b.to_dict() for b in admin_section(BackendState(False, None, None, None, "http://default/api",
                                                                  True))])
    assert "NIMROBO_API_KEY" in single and not any(a in single for a in ACTIONS)


def test_a_workspace_admin_cannot_point_the_bot_at_internal_addresses():
    from services.backends import address_refusal

    public = "https://93.184.215.14/api"  # addresses, not names: no DNS in the test
    assert "not an address" in address_refusal("http://169.254.169.254/latest", public)  # cloud metadata
    assert "not an address" in address_refusal("http://169.254.169.254/latest", "http://127.0.0.1:8000/api")
    assert "internal address" in address_refusal("http://10.0.0.5/api", public)
    assert "internal address" in address_refusal("http://127.0.0.1:8000/api", public)
    assert address_refusal("http://93.184.215.14/api", public) is None
    # an operator whose own Pluto runs on a private network may let workspaces name private servers
    assert address_refusal("http://10.0.0.5/api", "http://127.0.0.1:8000/api") is None


def test_a_workspace_whose_own_key_cant_be_read_is_refused_never_put_on_the_shared_key(services, sims):
    """ENCRYPTION_KEY changed since A's admin kept A's key: A's calls are refused with a message saying who fixes
    it; none reaches Nimrobo with the environment's key (an account other workspaces share), and the shared
    account's projects are neither listed nor found by id. A personal key still works; App Home and the doctor
    flag it."""
    from bot.blocks.workspace_admin import admin_section
    from services.workspaces import WorkspaceKeyUnreadable

    nimrobo = sims[0]
    with in_workspace("TB"):  # a project of another workspace, on the shared (environment's) account
        other = services.voicelinks.nimrobo.create_project("Beta Secret Role", "## Goal\ng\n\n## Role\nr\n\n"
                                                           "## Guidelines\ng\n\n## Constraints\nc")
    with in_workspace("TA"):
        services.backends.set_nimrobo_key(ADMIN, KEY_A)
        services.keys.login(RECRUITER, PERSONAL)
    foreign = Fernet(Fernet.generate_key()).encrypt(KEY_A.encode()).decode()  # kept under another ENCRYPTION_KEY
    services.store.shared.update("workspaces", "TA", {"nimrobo_key_enc": foreign})
    nimrobo.key_log.clear()
    with in_workspace("TA"):
        for call in (services.nimrobo.get_profile, services.voicelinks.projects,
                     lambda: services.voicelinks.project_by_id(other.id)):
            with pytest.raises(WorkspaceKeyUnreadable) as refused:
                call()
            assert "can't be read; an admin must enter it again in App Home" in refused.value.user_message
        with services.keys.acting_as(RECRUITER):  # their own key: their own account, not the shared one
            assert not services.on_shared_nimrobo()
            services.nimrobo.get_profile()
        state = services.backends.state()
    assert [key for _, _, key in nimrobo.key_log] == [PERSONAL]
    assert state.key_unreadable and state.key_tail is None
    section = str([b.to_dict() for b in admin_section(state)])
    assert "can't be read" in section and "Use the default key" in section
    line = {c.name: c for c in check_workspaces(services.settings, registry=services.workspaces)}["Workspace TA"]
    assert not line.ok and "can't be read" in line.detail and "refused" in line.detail
    with in_workspace("TC"):  # a workspace on the environment's key is still filtered to its own projects ...
        assert services.on_shared_nimrobo() and other.id not in [p.id for p in services.voicelinks.projects()]
        services.keys.login(RECRUITER, PERSONAL)
        with services.keys.acting_as(RECRUITER):  # ... but not a person on their own key: their account's list
            # (the simulator has one account for every key, so theirs holds the project too)
            assert not services.on_shared_nimrobo() and other.id in [p.id for p in services.voicelinks.projects()]
    with in_workspace("TA"):  # entered again: A runs on its own key
        services.backends.set_nimrobo_key(ADMIN, KEY_A)
        assert not services.backends.state().key_unreadable
        services.nimrobo.get_profile()
    assert keys_used(nimrobo, "/api/v1/user/profile")[-1] == KEY_A


def test_a_workspace_whose_home_checks_hang_holds_up_no_other_workspaces_home(monkeypatch):
    """The admin section's checks call the workspace's own backends: while one workspace's hang (here: until the
    other's have run), another workspace's Home tab is still built."""
    import threading
    from types import SimpleNamespace

    from bot.flows import home

    both_inside = threading.Barrier(2, timeout=20)  # each workspace's checks wait here for the other's

    def checks_that_wait_for_the_other_workspace(services):
        both_inside.wait()
        return []

    monkeypatch.setattr(home, "_run_checks_here", checks_that_wait_for_the_other_workspace)
    monkeypatch.setattr(home, "_checks", {})
    stub = SimpleNamespace(settings=SimpleNamespace(multi_workspace=False))

    def open_home_in(key):
        with in_workspace(key):
            home.doctor_checks(stub)

    threads = [threading.Thread(target=open_home_in, args=(key,)) for key in ("T0ACME", "T0BETA")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not both_inside.broken  # one lock for every workspace made the second wait out the first
