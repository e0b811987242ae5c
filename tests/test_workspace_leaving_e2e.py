"""Leaving a workspace, end to end with several workspaces: the real bot over HTTP in OAuth mode against the Slack
test bed (two workspaces, "Add to Slack", uninstall events), on SQLite and PostgreSQL.

Both install and work; one uninstalls: its tokens are gone from slack_sdk's tables, its jobs and its outbox stop,
a command or event still arriving from it is answered by Bolt's "not installed" path; the other is unaffected
and its admin exports only its own data; the operator can still export the departed one's data; once the bot's
clock is past ``WORKSPACE_RETENTION_DAYS`` its store is dropped and its registry row deleted, and nothing from it
makes the store again."""

from pathlib import Path

import pytest

from bot import __main__ as cli
from bot.jobs.workspaces import purge_departed_workspaces
from bot.scheduler import JOBS, job
from services.store import current_workspace, in_workspace
from tests.test_workspace_export import unzip, workspace_exists

BETA, OWNER, USER = "T0BETA", "U_OWNER", "U_ALICE"
CHANNELS = {"T0SANDBOX": "C_ALPHA", BETA: "C_BETA"}
DAY = 86400.0
PROBE_RUNS: list[str | None] = []


@pytest.fixture(scope="module", autouse=True)
def probe_job():
    """A scheduled job that notes each workspace it runs for (the scheduler runs every job per workspace)."""
    job("test_workspace_probe", seconds=lambda services: 0.2)(lambda services, client: PROBE_RUNS.append(
        current_workspace()))
    yield
    JOBS.pop("test_workspace_probe", None)


@pytest.fixture()
def stack(database, tmp_path):
    from sandbox.stack import Stack, StackOptions
    from tests.conftest import db_options

    options = StackOptions(openai=False, oauth=True, workspaces={BETA: "Beta Corp"},
                           settings={"retention_check_seconds": 0.3, "workspace_retention_days": 30.0},
                           **db_options(database))
    with Stack(options) as s:
        yield s


def not_installed(standin, user):
    """Bolt's answer to a request from a workspace without an installation (privately, by response_url)."""
    return [r for r in standin.responses(user) if "reinstall this app" in r["text"]]


def runs_after(mark: int) -> list[str | None]:
    return PROBE_RUNS[mark:]


def test_uninstall_forgets_tokens_stops_jobs_and_deletes_the_data_after_retention(stack, database, tmp_path):
    alpha = stack.slack.team_id
    services, store = stack.services, stack.services.store
    PROBE_RUNS.clear()  # (the other database's run noted its own)
    for team in (alpha, BETA):
        standin, signer = stack.workspace(team)
        standin.add_user(OWNER, "Olive Owner", is_owner=True)
        standin.add_user(USER, "Alice Recruiter")
        assert stack.install(team).status_code == 200
        signer.command("/pluto", "digest 09:00", user=USER, channel=CHANNELS[team])

        def digests(team=team):
            with in_workspace(team):
                return store.count("channel_digests")
        standin.wait_for(digests)
    stack.slack.wait_for(lambda: {alpha, BETA} <= set(PROBE_RUNS))
    installations = services.installs.installation_store
    assert installations.find_bot(enterprise_id=None, team_id=BETA) is not None

    beta, beta_signer = stack.workspace(BETA)
    stack.advance_clock(DAY)  # the retention period counts on the bot's clock, from when the workspace left
    acks = stack.uninstall(BETA)
    assert [a.status_code for a in acks] == [200, 200]
    # its tokens are gone from slack_sdk's tables; the other's stay
    stack.slack.wait_for(lambda: not services.workspaces.get(BETA).installed)
    assert services.workspaces.serving() == [alpha]
    for table in ("slack_bots", "slack_installations"):
        assert store.shared.count(table, "team_id = ?", [BETA]) == 0
        assert store.shared.count(table, "team_id = ?", [alpha]) == 1
    # its jobs stop: every run that began after it left serves the other workspace only
    mark = len(PROBE_RUNS)
    stack.slack.wait_for(lambda: runs_after(mark).count(alpha) >= 3)
    later = runs_after(mark)
    second = [i for i, key in enumerate(later) if key == alpha][1]
    assert BETA not in later[second:]
    # its outbox is not sent; the other's is
    for team in (alpha, BETA):
        with in_workspace(team):
            services.outbox.enqueue(f"probe:{team}", USER, "dm", {"text": f"a DM for {team}"})
    services.notify_sender()
    alpha_standin = stack.workspace(alpha)[0]
    alpha_standin.wait_for(lambda: [m for m in alpha_standin.messages(alpha_standin.dm_channel(USER))
                                    if m["text"] == f"a DM for {alpha}"])
    with in_workspace(BETA):
        assert services.outbox.get(f"probe:{BETA}")["state"] == "waiting"
    assert not [m for m in beta.messages() if m["text"] == f"a DM for {BETA}"]
    # a command still arriving from it gets Bolt's "not installed" answer and reaches no listener
    with in_workspace(BETA):
        audit_before = store.count("audit_log")
    assert beta_signer.command("/pluto", "admin export", user=OWNER, channel=CHANNELS[BETA]).status_code == 200
    beta.wait_for(lambda: not_installed(beta, OWNER))
    with in_workspace(BETA):
        assert store.count("audit_log") == audit_before

    # the other workspace is unaffected: its admin exports its own data, and only its own
    stack.workspace(alpha)[1].command("/pluto", "admin export", user=OWNER, channel=CHANNELS[alpha])
    upload = alpha_standin.wait_for(lambda: [u for u in alpha_standin.uploads()
                                             if u["filename"].startswith("pluto-workspace-")])[-1]
    assert upload["channel"] == alpha_standin.dm_channel(OWNER)
    files = unzip(upload["content"])
    assert CHANNELS[alpha] in files["channel_digests.csv"] and CHANNELS[BETA] not in "\n".join(files.values())

    # the operator can still export the departed workspace's data within the retention period
    out = tmp_path / "beta.zip"
    assert cli.export_workspace(stack.settings, [BETA, str(out)]) == 0
    assert CHANNELS[BETA] in unzip(out.read_bytes())["channel_digests.csv"]

    # within the retention period the data stays; past it, its store and registry row go
    stack.advance_clock(29 * DAY)
    purge_departed_workspaces(services, None)  # what the job does every RETENTION_CHECK_SECONDS, now
    assert workspace_exists(store, database, BETA) and services.workspaces.get(BETA) is not None
    stack.advance_clock(2 * DAY)
    stack.slack.wait_for(lambda: services.workspaces.get(BETA) is None, timeout=30)
    assert not workspace_exists(store, database, BETA)
    with in_workspace(alpha):
        assert store.count("channel_digests") == 1
    # nothing arriving from it afterwards makes its store again: a command, a late uninstall event
    beta_signer.command("/pluto", "status", user=USER, channel=CHANNELS[BETA])
    beta.wait_for(lambda: not_installed(beta, USER))
    assert beta_signer.deliver(beta.event_envelope({"type": "app_uninstalled"})).status_code == 200
    assert not workspace_exists(store, database, BETA) and services.workspaces.get(BETA) is None
    assert cli.export_workspace(stack.settings, [BETA, str(tmp_path / "gone.zip")]) == 1
    assert not Path(tmp_path / "gone.zip").exists() and not workspace_exists(store, database, BETA)
