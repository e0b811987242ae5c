"""Each workspace's own backends, end to end (issue 29): the real bot over HTTP in OAuth mode, installed
in two workspaces of the Slack test bed, against the Nimrobo and Pluto simulators.

A's admin sets A's Nimrobo key and Pluto server from App Home; A's calls (and scoring runs) use them, B's keep the
environment's; a non-admin never sees the section and a forged click is refused; the doctor has a
line per workspace. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import os

import pytest
from cryptography.fernet import Fernet

from bot.doctor import check_workspaces
from config import Secret
from sandbox.pluto_sim import PlutoSimulator
from sandbox.signer import SlackSigner
from sandbox.stack import Stack, StackOptions
from services.store import in_workspace
from tests.conftest import eventually, module_database

A, B = "T0SANDBOX", "T0BETA"
ADMIN_A, ADMIN_B, RECRUITER = "U_ADMIN_A", "U_ADMIN_B", "U_ALICE"
KEY_A = "api_workspace_a_key_WXYZ"
SECTION = "Workspace backends"
CHANNEL = "C_GENERAL"
CSV = b"name,email,years_experience\nAda Lovelace,ada@example.com,9\nAlan Turing,alan@example.com,12\n"
SHORTLIST = "pluto_scoring_completed"


@pytest.fixture(scope="module")
def pluto_a():
    with PlutoSimulator(extract_seconds=0.3, score_seconds=0.3) as sim:
        yield sim


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stack(request, pluto_a):
    database = module_database(request, "backends")  # the registry (and its encrypted keys) in the shared database
    options = StackOptions(oauth=True, workspaces={B: "Beta"}, **database,
                           pluto={"extract_seconds": 0.3, "score_seconds": 0.3},
                           settings={"encryption_key": Secret(Fernet.generate_key().decode())})
    with Stack(options) as s:
        s.nimrobo.add_key(KEY_A)
        s.workspace(A)[0].add_user(ADMIN_A, "Ada Admin", is_admin=True)
        s.workspace(A)[0].add_user(RECRUITER, "Alice Recruiter")
        s.workspace(B)[0].add_user(ADMIN_B, "Bea Admin", is_owner=True)
        assert s.install(A, ADMIN_A).status_code == 200
        assert s.install(B, ADMIN_B).status_code == 200
        yield s


def open_home(stack, team, user):
    slack, signer = stack.workspace(team)
    before = slack.home(user)
    signer.event({"type": "app_home_opened", "user": user, "channel": "D" + user, "tab": "home"})
    return eventually(lambda: (h := slack.home(user)) is not None and h != before and h)


def home_text(stack, team, user):
    return str(stack.workspace(team)[0].home(user)["blocks"])


def submit_modal(stack, team, user, label, values):
    """Press ``label`` on the Home tab, fill the modal it opens, submit; the modal's outcome page."""
    slack, signer = stack.workspace(team)
    opened = len(slack.views(user=user))
    signer.press(label, user=user)
    form = eventually(lambda: slack.views(user=user)[opened:])[-1]
    signer.view_submission(form, values, user=user)
    def outcome():
        view = slack.view(form["id"])
        return view if view and ("Saved" in str(view["blocks"]) or "not saved" in str(view["blocks"])) else None

    return eventually(outcome)


def key_value(key):
    return {"workspace_nimrobo_key": {"key": SlackSigner.input_value(key)}}


def test_an_admin_sets_the_workspaces_key_and_server_and_only_that_workspace_uses_them(stack, pluto_a):
    home = str(open_home(stack, A, ADMIN_A)["blocks"])
    assert SECTION in home and "the bot's default" in home
    refused = submit_modal(stack, A, ADMIN_A, "Set Nimrobo key", key_value("api_wrong"))
    assert "not saved" in str(refused["blocks"])
    saved = submit_modal(stack, A, ADMIN_A, "Set Nimrobo key", key_value(KEY_A))
    assert "Saved" in str(saved["blocks"]) and KEY_A not in str(saved["blocks"])
    home = eventually(lambda: "…WXYZ" in home_text(stack, A, ADMIN_A) and home_text(stack, A, ADMIN_A))
    assert KEY_A not in home and "this workspace's own" in home
    saved = submit_modal(stack, A, ADMIN_A, "Set Pluto server",
                         {"workspace_pluto_server": {"url": SlackSigner.input_value(pluto_a.url + "/api")}})
    assert pluto_a.url in str(saved["blocks"])
    eventually(lambda: pluto_a.url in home_text(stack, A, ADMIN_A))

    # the calls follow the workspace: A's key and server in A, the environment's in B
    stack.nimrobo.key_log.clear()
    for team, user in ((A, RECRUITER), (B, ADMIN_B)):
        slack, signer = stack.workspace(team)
        signer.command("/voicelink", "whoami", user=user)
        eventually(lambda s=slack, u=user: any("shared key" in str(r) for r in s.responses(user=u) + s.ephemerals(u)))
    profile_keys = [key for _, path, key in stack.nimrobo.key_log if path == "/api/v1/user/profile"]
    assert profile_keys == [KEY_A, stack.nimrobo_key]
    with in_workspace(A):
        assert stack.services.scoring.base_url == pluto_a.url + "/api"
    with in_workspace(B):
        assert stack.services.scoring.base_url == stack.settings.pluto_api_base_url

    # B's admin sees B's own (unchanged) settings, never A's
    home_b = str(open_home(stack, B, ADMIN_B)["blocks"])
    assert SECTION in home_b and "…WXYZ" not in home_b and pluto_a.url not in home_b

    # the admin's health checks and the doctor: one line per workspace
    stack.workspace(A)[1].press("Run checks again", user=ADMIN_A)
    home = eventually(lambda: "Pluto (its own server)" in home_text(stack, A, ADMIN_A) and home_text(stack, A, ADMIN_A))
    assert ":white_check_mark: *Nimrobo (its own key)*" in home and ":white_check_mark: *Pluto (its own server)*" in home
    assert "DATABASE" not in home  # the operator's own settings stay with the command-line doctor
    lines = check_workspaces(stack.settings)
    line_a, line_b = (next(c for c in lines if c.name.startswith("Workspace") and team in c.name) for team in (A, B))
    assert line_a.ok and "its own key" in line_a.detail and pluto_a.url in line_a.detail
    assert line_b.ok and "the default key" in line_b.detail


def test_a_non_admin_never_sees_the_section_and_a_forged_click_is_refused(stack):
    home = str(open_home(stack, A, RECRUITER)["blocks"])
    assert SECTION not in home and "Set Nimrobo key" not in home
    slack, signer = stack.workspace(A)
    state_before = stack.services.workspaces.get(A)
    dms, views = len(slack.dms(RECRUITER)), len(slack.views(user=RECRUITER))
    for action_id in ("home_ws_nimrobo_set", "home_ws_nimrobo_clear", "home_ws_pluto_clear"):
        signer.block_action(action_id, "set", user=RECRUITER, view=slack.home(RECRUITER))
    refusals = eventually(lambda: len(slack.dms(RECRUITER)) >= dms + 3 and slack.dms(RECRUITER)[dms:])
    assert all("Only a workspace admin" in m["text"] for m in refusals)
    assert len(slack.views(user=RECRUITER)) == views  # no form opened
    assert stack.services.workspaces.get(A) == state_before  # nothing cleared


def test_an_admin_goes_back_to_the_default_key(stack):
    with in_workspace(A):
        if stack.services.backends.state().key_tail is None:
            stack.services.backends.set_nimrobo_key(ADMIN_A, KEY_A)
    open_home(stack, A, ADMIN_A)
    slack, signer = stack.workspace(A)
    signer.press("Use the default key", user=ADMIN_A)
    eventually(lambda: "Nimrobo key: *the bot's default*" in home_text(stack, A, ADMIN_A))  # the key's own line
    with in_workspace(A):
        assert stack.services.backends.state().key_tail is None


def test_a_file_scored_in_each_workspace_goes_to_that_workspaces_pluto_server(stack, pluto_a):
    with in_workspace(A):
        if stack.services.backends.state().pluto_server is None:
            stack.services.backends.set_pluto_server(ADMIN_A, pluto_a.url + "/api")
    for team, name in ((A, "acme-roles.csv"), (B, "beta-roles.csv")):
        slack, signer = stack.workspace(team)
        file = slack.add_file(name, CSV, user=RECRUITER)
        assert signer.app_mention("score", files=[file], user=RECRUITER, channel=CHANNEL).status_code == 200
    for team, name in ((A, "acme-roles.csv"), (B, "beta-roles.csv")):
        slack = stack.workspace(team)[0]
        slack.wait_for(lambda s=slack, n=name: [m for m in s.messages(CHANNEL) if n in str(m) and
                                                (m.get("metadata") or {}).get("event_type") == SHORTLIST], timeout=40)
    assert "acme-roles.csv" in [u["filename"] for u in pluto_a.uploads]
    assert "acme-roles.csv" not in [u["filename"] for u in stack.pluto.uploads]
    assert "beta-roles.csv" in [u["filename"] for u in stack.pluto.uploads]
    assert "beta-roles.csv" not in [u["filename"] for u in pluto_a.uploads]


UNREADABLE = "this workspace's nimrobo key can't be read; an admin must enter it again in app home"


def told(slack, user, text):
    """What ``user`` was told privately (command responses, ephemerals, DMs) that contains ``text``."""
    said = slack.responses(user=user) + slack.ephemerals(user) + slack.dms(user)
    return [m for m in said if text in str(m).lower()]


def test_a_workspace_whose_key_cant_be_read_is_refused_and_never_sees_the_shared_accounts_projects(stack):
    """A's own key was kept with another ENCRYPTION_KEY: A's voice requests are refused with a private message
    (never run on the shared default key, whose projects include other workspaces'), App Home and the doctor
    flag it, and entering the key again puts A back in business."""
    from services.nimrobo import NimroboClient

    with NimroboClient(stack.settings.nimrobo_api_base_url, stack.nimrobo_key) as shared:  # another workspace's
        other = shared.create_project(f"Beta Secret Role {os.getpid()}", "## Goal\ng\n\n## Role\nr\n\n"
                                      "## Guidelines\ng\n\n## Constraints\nc")
    with in_workspace(A):
        stack.services.backends.set_nimrobo_key(ADMIN_A, KEY_A)
    foreign = Fernet(Fernet.generate_key()).encrypt(KEY_A.encode()).decode()  # not this bot's ENCRYPTION_KEY
    stack.services.store.shared.update("workspaces", A, {"nimrobo_key_enc": foreign})
    slack, signer = stack.workspace(A)
    try:
        assert signer.command("/voicelink", "projects", user=RECRUITER).status_code == 200
        eventually(lambda: told(slack, RECRUITER, UNREADABLE))
        signer.block_action("voicelink_project", other.id, user=RECRUITER)
        eventually(lambda: len(told(slack, RECRUITER, UNREADABLE)) >= 2)
        said = slack.responses(user=RECRUITER) + slack.ephemerals(RECRUITER) + slack.dms(RECRUITER)
        assert other.name not in str(said)  # the shared account's project never reached A
        # App Home's admin section and the doctor flag it
        home = str(open_home(stack, A, ADMIN_A)["blocks"])
        assert "can't be read" in home and "Set Nimrobo key" in home and "…WXYZ" not in home
        line_a = next(c for c in check_workspaces(stack.settings) if c.name.startswith("Workspace") and A in c.name)
        assert not line_a.ok and "can't be read" in line_a.detail and "refused" in line_a.detail
        # the admin enters it again: A runs on its own key once more
        saved = submit_modal(stack, A, ADMIN_A, "Set Nimrobo key", key_value(KEY_A))
        assert "Saved" in str(saved["blocks"])
        home = str(open_home(stack, A, ADMIN_A)["blocks"])  # its health checks too: none of the old ones
        assert "can't be read" not in home and "…WXYZ" in home
        stack.nimrobo.key_log.clear()
        signer.command("/voicelink", "whoami", user=RECRUITER)
        eventually(lambda: [k for _, path, k in stack.nimrobo.key_log if path == "/api/v1/user/profile"] == [KEY_A])
    finally:
        with in_workspace(A):
            stack.services.backends.clear_nimrobo_key(ADMIN_A)  # the other tests start from the default key
