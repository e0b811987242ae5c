"""The sandbox console with two workspaces (``python3 dev.py run --workspaces 2``): the real bot in OAuth
mode, installed in Acme and Beta through its own /slack/install, driven as a person types (``ws beta``
switches where the typing goes); each answer shows, and lands, only in its own workspace."""

import json
import os
from types import SimpleNamespace

import pytest

from sandbox.console import USER
from sandbox.stack import Stack, install_everywhere, sandbox_options
from sandbox.web import prepare
from tests.test_console import Typist

ACME, BETA = "T0SANDBOX", "T0BETA"


@pytest.fixture(scope="module")
def stack():
    options = sandbox_options(SimpleNamespace(progress_update_seconds=1.0, poll_interval_seconds=5.0),
                              workspaces=2)  # as `python3 dev.py run --workspaces 2` sets it up
    options.scheduler = False
    with Stack(options) as s:
        prepare(s)
        installed = install_everywhere(s, USER)
        assert [line.split(" (")[0] for line in installed] == ["Installed in Acme", "Installed in Beta"], installed
        yield s


@pytest.fixture()
def both(stack):
    """Both workspaces installed (a test on another worker, or before this one, may have uninstalled Beta)."""
    for team_id in (ACME, BETA):
        if not stack.services.workspaces.is_installed(team_id):
            assert stack.install(team_id, USER).status_code == 200
    return stack


def bot_ephemerals(standin, text):
    """What the bot posted to the sandbox user with chat.postEphemeral in ``standin``'s workspace, with ``text``."""
    return [e for e in standin.ephemerals(USER) if text in json.dumps(e)]


def test_each_workspace_answers_only_in_itself(both):
    stack = both
    acme, beta = stack.slack, stack.slack.workspace(BETA)
    typist = Typist(stack)
    typist.type("acme> ", "/pluto help").type("acme> ", "ws beta").type("beta> ", "/pluto help")
    typist.type("beta> ", "mention help").type("beta> ", "quit")
    out = typist.run()
    assert "  [Acme] only you ›\n    PLUTO — CANDIDATE SCORING" in out
    assert "  Now typing into Beta." in out
    assert "  [Beta] only you ›\n    PLUTO — CANDIDATE SCORING" in out
    # the mention's answer is posted with Beta's token: it is in Beta's Slack, and printed from there
    assert len(bot_ephemerals(beta, "Mention me with")) == 1
    assert bot_ephemerals(acme, "Mention me with") == []
    assert "  [Beta] only you ›\n    Mention me with score" in out
    assert "[Acme] only you ›\n    Mention me" not in out


def test_a_workspace_leaves_and_comes_back(both):
    stack = both
    beta = stack.slack.workspace(BETA)
    typist = Typist(stack)
    typist.type("acme> ", "ws beta").type("beta> ", "uninstall beta").type("beta> ", "/pluto help")
    typist.type("beta> ", "ws")
    typist.type("beta> ", "install beta").type("beta> ", "/pluto help").type("beta> ", "ws acme")
    typist.type("acme> ", "/pluto help").type("acme> ", "quit")
    out = typist.run()
    assert "Beta removed the app: Slack revoked its tokens" in out
    assert "The bot forgot Beta's tokens and stopped serving it" in out
    assert "  [Beta] ✕ the app was removed from Beta" in out
    left, back = out.split("Beta removed the app", 1)[1].split("  Installed in Beta (T0BETA)", 1)
    # while uninstalled, Beta gets Slack's not-installed answer (Bolt's) instead of the help
    assert "[Beta] only you ›\n    PLUTO" not in left
    assert "[Beta] only you ›" in left and "Please reinstall this app into your workspace" in left
    assert "    acme     T0SANDBOX  the bot is installed" in out
    assert "  * beta     T0BETA     the bot is not installed" in out
    assert "  Installed in Beta (T0BETA) through the bot's /slack/install" in out
    assert stack.services.workspaces.is_installed(BETA) and beta.tokens("bot")
    assert "[Beta] only you ›\n    PLUTO" in back and "[Acme] only you ›\n    PLUTO" in back



def test_workspaces_option_is_checked_before_anything_starts(capsys, monkeypatch):
    from bot.__main__ import main

    for name in [n for n in os.environ if n.startswith("SLACK_")]:
        monkeypatch.delenv(name)
    assert main(["--workspaces", "9"]) == 2
    assert "--workspaces takes 1 to 4, not 9" in capsys.readouterr().err
    assert main(["--workspaces", "2", "--socket"]) == 2
    assert "OAuth, which runs over HTTP" in capsys.readouterr().err
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-real")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s" * 32)
    assert main(["--workspaces", "2"]) == 2  # with real credentials: no sandbox to show
    assert "--workspaces is for the sandbox" in capsys.readouterr().err


def test_a_fresh_sandbox_forgets_the_workspaces_databases_too(tmp_path):
    from sandbox.stack import SandboxHome

    home = SandboxHome(tmp_path)
    home.db_path.write_bytes(b"old")
    (tmp_path / "bot.workspaces").mkdir()
    (tmp_path / "bot.workspaces" / "T0BETA.db").write_bytes(b"Beta's candidates")
    (tmp_path / "notes.txt").write_text("mine")
    home.wipe()
    assert not home.db_path.exists() and not (tmp_path / "bot.workspaces").exists()
    assert (tmp_path / "notes.txt").read_text() == "mine"
