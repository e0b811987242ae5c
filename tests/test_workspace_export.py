"""A workspace's data as a zip of CSVs (services/workspace_export.py), leaving a workspace (services/workspaces.py,
bot/jobs/workspaces.py) and the operator's ``python -m bot export-workspace``, on SQLite and PostgreSQL."""

import base64
import csv
import io
import json
import zipfile
from pathlib import Path
from types import SimpleNamespace

from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

from bot import __main__ as cli
from bot.jobs.workspaces import purge_departed_workspaces
from config import Secret, Settings
from services.clock import Clock
from services.outbox import Outbox
from services.store import Store, in_workspace
from services.workspace_export import export_workspace
from services.workspaces import Workspaces
from tests.conftest import db_options

DAY = 86400.0
EVIDENCE = b"\xff\xfename,email\n=cmd|' /C calc'!A0,ada@example.com\n"  # binary, formula-looking inside
SECRET_KEY = "gAAAAAB-encrypted-nimrobo-key-of-alice"
BOT_TOKEN = "xoxb-installed-bot-token"


def unzip(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist()}


def rows_of(files: dict[str, str], table: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(files[f"{table}.csv"])))


def seed(store: Store, marker: str) -> None:
    """One workspace's records: a run whose job description looks like a formula, a kept CSV (binary), a
    recruiter's encrypted key, a zip waiting in the outbox, the leader's heartbeat."""
    store.insert("scoring_runs", {"id": f"run-{marker}", "channel": "C1", "user": "U_ALICE", "state": "done",
                                  "job_description": f"=HYPERLINK(\"http://x\") {marker}", "filename": "@list.csv",
                                  "results_json": json.dumps([{"name": "Ada", "email": "ada@example.com"}]),
                                  "created_at": 1.0})
    store.save_file(f"F-{marker}", "candidates.csv", EVIDENCE)
    store.insert("user_keys", {"user_id": "U_ALICE", "ciphertext": SECRET_KEY, "account": f"alice-{marker}",
                               "created_at": 1.0})
    Outbox(store).enqueue(f"pluto_export_dm:{marker}", "U_ALICE", "upload_dm",
                          {"content_b64": base64.b64encode(b"PREVIOUS-EXPORT-BYTES").decode(), "filename": "x.zip",
                           "title": "t"})
    store.upsert("leader_heartbeat", {"name": "leader", "replica": "host:1", "epoch": 1, "beat_at": 1.0,
                                      "released": 0}, pk="name")


def test_the_zip_holds_every_table_escaped_without_secrets(database):
    store = Store(database)
    try:
        seed(store, "solo")
        installs = SQLAlchemyInstallationStore(client_id="1.2", engine=store.engine)  # the OAuth tables, as in OAuth mode
        installs.metadata.create_all(store.engine)
        installs.save(Installation(app_id="A1", team_id="T0SOLO", user_id="U1", bot_token=BOT_TOKEN, bot_id="B1",
                                   bot_user_id="UB"))
        export = export_workspace(store, None, at=0.0)
        files = unzip(export.data)
    finally:
        store.close()

    workspace_tables = {"scoring_runs", "files", "user_keys", "outbox", "audit_log", "kv", "voice_links",
                        "interview_rooms", "screening_boards", "intakes", "session_watches"}
    assert {f"{t}.csv" for t in workspace_tables} <= set(files)
    assert {f"{t.name}.csv" for t in export.tables} | {"README.txt"} == set(files)
    for deployment in ("leader_heartbeat", "schema_migrations", "slack_installations", "slack_bots",
                       "slack_oauth_states", "workspaces"):
        assert f"{deployment}.csv" not in files
    everything = "\n".join(files.values())
    # secrets, even encrypted, are not in it; nor an earlier file's content kept in the outbox
    assert SECRET_KEY not in everything and BOT_TOKEN not in everything
    assert "ciphertext" not in files["user_keys.csv"] and rows_of(files, "user_keys")[0]["account"] == "alice-solo"
    assert base64.b64encode(b"PREVIOUS-EXPORT-BYTES").decode() not in everything
    outbox = rows_of(files, "outbox")[0]
    assert json.loads(outbox["payload_json"])["content_left_out_bytes"] == len(b"PREVIOUS-EXPORT-BYTES")
    # formulas escaped; JSON kept; binary as base64
    run = rows_of(files, "scoring_runs")[0]
    assert run["job_description"].startswith("'=HYPERLINK") and run["filename"] == "'@list.csv"
    assert json.loads(run["results_json"])[0]["email"] == "ada@example.com"
    kept = rows_of(files, "files")[0]
    assert base64.b64decode(kept["content"].removeprefix("'")) == EVIDENCE
    assert not any(cell.startswith(("=", "+", "-", "@")) for name in files if name.endswith(".csv")
                   for row in csv.reader(io.StringIO(files[name])) for cell in row)
    # the README names every file with its rows, and what was left out
    readme = files["README.txt"]
    for table in export.tables:
        assert f"- {table.filename} ({table.rows} rows)" in readme
    assert "- scoring_runs.csv (1 rows): candidate scoring runs" in readme
    assert "left out: ciphertext" in readme and "base64: content" in readme


def two_workspaces(database: str, retention_days: float = 30.0) -> tuple[Store, Workspaces]:
    store = Store(database)
    workspaces = Workspaces(store, enabled=True, retention_days=retention_days)
    for key in ("T0ALPHA", "T0BETA"):
        workspaces.installed(team_id=key, enterprise_id=None, is_enterprise_install=False, name=key.lower())
        with in_workspace(key):
            seed(store, key)
    return store, workspaces


def workspace_exists(store: Store, database: str, key: str) -> bool:
    if store.is_postgres:
        return bool(store.shared.execute("select 1 from pg_namespace where nspname = ?", [f"ws_{key.lower()}"]))
    return (Path(database).parent / f"{Path(database).stem}.workspaces" / f"{key}.db").exists()


def test_a_workspace_export_holds_only_that_workspace(database):
    store, workspaces = two_workspaces(database)
    try:
        workspaces.set_pluto_server("T0ALPHA", "https://pluto.alpha.example/api")
        with in_workspace("T0ALPHA"):
            export = export_workspace(store, "T0ALPHA", name="alpha")
        files = unzip(export.data)
    finally:
        store.close()
    everything = "\n".join(files.values())
    assert "T0ALPHA" in everything and "T0BETA" not in everything
    assert "pluto.alpha.example" not in everything  # the registry is the deployment's, not a table of the workspace
    assert files["README.txt"].startswith("Pluto Bot: everything it holds for workspace alpha (T0ALPHA)")


def test_leaving_keeps_the_data_for_the_retention_period_then_deletes_it(database):
    store, workspaces = two_workspaces(database, retention_days=30)
    clock = Clock()
    services = SimpleNamespace(workspaces=workspaces, clock=clock)
    try:
        left_at = clock.now()
        workspaces.uninstalled("T0BETA", at=left_at)
        workspaces.uninstalled("T0BETA", at=left_at + 5 * DAY)  # tokens_revoked after app_uninstalled: same date
        assert workspaces.get("T0BETA").purge_after == left_at + 30 * DAY
        assert workspaces.serving() == ["T0ALPHA"]  # its jobs and its outbox stop now
        clock.advance(29 * DAY)
        purge_departed_workspaces(services, None)
        assert workspace_exists(store, database, "T0BETA")  # still within the retention period
        with in_workspace("T0BETA"):
            assert store.count("scoring_runs") == 1
        clock.advance(2 * DAY)
        purge_departed_workspaces(services, None)
        assert workspaces.get("T0BETA") is None and not workspace_exists(store, database, "T0BETA")
        with in_workspace("T0ALPHA"):  # the other workspace is untouched
            assert store.count("scoring_runs") == 1 and store.count("files") == 1
        assert workspaces.serving() == ["T0ALPHA"]
    finally:
        store.close()


def test_a_reinstall_within_the_retention_period_keeps_the_data(database):
    store, workspaces = two_workspaces(database, retention_days=1)
    clock = Clock()
    try:
        workspaces.uninstalled("T0BETA", at=clock.now())
        workspaces.installed(team_id="T0BETA", enterprise_id=None, is_enterprise_install=False)
        clock.advance(3 * DAY)
        purge_departed_workspaces(SimpleNamespace(workspaces=workspaces, clock=clock), None)
        assert workspaces.purge("T0BETA") is False  # installed: never deleted, even when asked
        assert workspace_exists(store, database, "T0BETA") and workspaces.serving() == ["T0ALPHA", "T0BETA"]
        with in_workspace("T0BETA"):
            assert store.count("scoring_runs") == 1
    finally:
        store.close()


def test_the_operator_exports_an_uninstalled_workspace_until_it_is_deleted(tmp_path, capsys):
    database = str(tmp_path / "bot.db")
    store, workspaces = two_workspaces(database)
    workspaces.uninstalled("T0BETA")
    store.close()
    settings = Settings().replace(**db_options(database), slack_client_id="1.2", slack_client_secret=Secret("s"),
                                  slack_state_secret=Secret("t"))
    out = tmp_path / "beta.zip"
    assert cli.export_workspace(settings, ["T0BETA", str(out)]) == 0
    files = unzip(out.read_bytes())
    assert "T0BETA" in files["scoring_runs.csv"] and "T0ALPHA" not in "\n".join(files.values())
    assert "is uninstalled; its data is deleted after" in capsys.readouterr().out
    store = Store(database)
    try:
        store.enable_workspaces()
        with in_workspace("T0BETA"):
            assert [e["user_id"] for e in store.rows("audit_log", "action = 'workspace_export'")] == ["operator"]
        Workspaces(store, enabled=True).purge("T0BETA")
    finally:
        store.close()
    assert cli.export_workspace(settings, ["T0BETA", str(tmp_path / "gone.zip")]) == 1
    assert "No data is held for workspace T0BETA" in capsys.readouterr().err
    assert not (tmp_path / "gone.zip").exists()
    assert not (tmp_path / "bot.workspaces" / "T0BETA.db").exists()  # asking never makes it again
    assert cli.export_workspace(settings, [str(out)]) == 2  # several workspaces: the team id is needed


def test_only_the_bots_own_tokens_revoked_means_leaving():
    from unittest.mock import Mock

    from slack_bolt import BoltContext

    from handlers.events.workspace import on_app_uninstalled, on_tokens_revoked

    services = Mock(name="services")
    context = BoltContext({"team_id": "T0BETA", "enterprise_id": None, "is_enterprise_install": False})
    on_tokens_revoked({"type": "tokens_revoked", "tokens": {"oauth": ["U_ALICE"]}}, context, services)
    services.workspace_left.assert_not_called()  # a person's own token: the bot stays
    on_tokens_revoked({"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT"]}}, context, services)
    on_app_uninstalled(context, services)
    assert [c.kwargs for c in services.workspace_left.call_args_list] == [
        {"enterprise_id": None, "team_id": "T0BETA", "is_enterprise_install": False, "reason": reason}
        for reason in ("tokens_revoked", "app_uninstalled")]


def test_pluto_admin_acks_at_once_gives_its_usage_and_refuses_non_admins(slack, services):
    from unittest.mock import Mock

    import handlers.commands.pluto_data  # noqa: F401 - attaches /pluto admin
    from handlers.commands import PLUTO

    services.workspaces = Mock(name="workspaces")

    def pluto(text):
        slack.reset_mock()
        PLUTO(ack=slack.ack, body={"command": "/pluto", "text": text, "user_id": "U_ALICE", "channel_id": "C1",
                                   "trigger_id": "t"}, client=slack.client, respond=slack.respond, services=services)

    pluto("admin")  # alone: its usage, on the ack, and nothing runs
    assert "`/pluto admin export`" in slack.ack.call_args.kwargs["text"] and services.work.done == []
    pluto("admin everything")
    assert slack.mock_calls[0][0] == "ack" and slack.mock_calls[0].kwargs == {}
    assert "Usage: `/pluto admin export`" in slack.respond.call_args.kwargs["text"]
    services.access.is_admin.return_value = False
    pluto("admin export")
    assert slack.mock_calls[0][0] == "ack" and services.work.done[-1] == "/pluto admin"
    answer = slack.respond.call_args.kwargs
    assert answer["response_type"] == "ephemeral" and "Only workspace admins" in answer["text"]
    services.access.is_admin.assert_called_with("U_ALICE")
    services.workspaces.data_store.assert_not_called()  # nothing is read for someone refused
