"""``python -m bot doctor`` (and ``python3 dev.py doctor``) against the stand-ins, and each check on its own."""

import os
import subprocess
import sys
from pathlib import Path

from bot.doctor import (
    check_database_path,
    check_openai,
    check_port,
    check_socket_mode,
    check_tokens,
    run_checks,
)
from config import Settings
from sandbox.stack import Stack, StackOptions

ROOT = Path(__file__).resolve().parents[1]
FERNET_KEY = "S5WN5_VLhjqKNc1PLTxScyeC6WMILIJLXiN6UUUiUns="  # a test-only Fernet key
NAMES = ["Slack tokens", "PORT", "DATABASE_PATH", "ENCRYPTION_KEY", "Slack", "Nimrobo", "Pluto", "OpenAI"]


def clean_env(env_extra, *prefixes):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "NIMROBO_", "OPENAI_", "PLUTO_", "DATABASE_", "PORT", "API_", "ENCRYPTION_",
                                     *prefixes))}
    env.update(env_extra)
    return env


def run_doctor(env_extra, command=(sys.executable, "-m", "bot", "doctor")):
    return subprocess.run(list(command), cwd=ROOT, env=clean_env(env_extra), capture_output=True, text=True,
                          timeout=60)


def stack_env(stack, tmp_path, **overrides):
    s = stack.settings
    env = {"SLACK_BOT_TOKEN": s.slack_bot_token.reveal(), "SLACK_SIGNING_SECRET": s.slack_signing_secret.reveal(),
           "SLACK_API_URL": s.slack_api_url, "NIMROBO_API_BASE_URL": s.nimrobo_api_base_url,
           "NIMROBO_API_KEY": s.nimrobo_api_key.reveal(), "PLUTO_API_BASE_URL": s.pluto_api_base_url,
           "OPENAI_API_KEY": s.openai_api_key.reveal(), "OPENAI_BASE_URL": s.openai_base_url,
           "DATABASE_PATH": str(tmp_path / "db" / "bot.db"), "ENCRYPTION_KEY": FERNET_KEY}
    env.update(overrides)
    return {k: v for k, v in env.items() if v}


def names(output):
    return [line[6:].split(":", 1)[0] for line in output.strip().splitlines()]


def test_all_backends_ok(tmp_path):
    with Stack(StackOptions(scheduler=False)) as stack:
        result = run_doctor(stack_env(stack, tmp_path))
    lines = result.stdout.strip().splitlines()
    assert result.returncode == 0, result.stdout + result.stderr
    at = NAMES.index("Slack") + 1  # the Socket Mode line comes right after Slack's
    assert names(result.stdout) == NAMES[:at] + ["Socket Mode"] + NAMES[at:]
    # HTTP mode while the repository's manifest.yml turns Socket Mode on: said, never a failure
    assert lines[at].startswith("INFO  Socket Mode: SLACK_APP_TOKEN is not set (HTTP mode), but manifest.yml")
    assert all(line.startswith("OK") for line in lines[:at] + lines[at + 1:])
    assert stack.nimrobo_key not in result.stdout and stack.bot_token not in result.stdout
    assert not (tmp_path / "db").exists()  # the doctor only probes; it creates nothing


def test_missing_scope_bad_token_and_unreachable_pluto_fail_with_a_fix(tmp_path):
    with Stack(StackOptions(scheduler=False)) as stack:
        stack.nimrobo.add_key("api_limited", ("user:read", "projects:read"))
        result = run_doctor(stack_env(stack, tmp_path, NIMROBO_API_KEY="api_limited", SLACK_BOT_TOKEN="xoxb-wrong",
                                      PLUTO_API_BASE_URL="http://127.0.0.1:9/api"))
    assert result.returncode == 1
    out = result.stdout
    assert "FAIL  Slack: auth.test answered invalid_auth — fix:" in out
    assert "FAIL  Nimrobo:" in out and "projects:write" in out and "sessions:write" in out and "fix:" in out
    assert "FAIL  Pluto:" in out and "PLUTO_API_BASE_URL" in out


def test_an_unreachable_backend_names_the_url_tried(tmp_path):
    dead = "http://127.0.0.1:9"
    env = {"SLACK_BOT_TOKEN": "xoxb-1-2-3", "SLACK_SIGNING_SECRET": "s" * 32, "SLACK_API_URL": f"{dead}/slackapi/",
           "NIMROBO_API_KEY": "api_key123", "NIMROBO_API_BASE_URL": f"{dead}/nimrobo",
           "PLUTO_API_BASE_URL": f"{dead}/pluto-api", "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": f"{dead}/oai/v1",
           "DATABASE_PATH": str(tmp_path / "bot.db")}
    result = run_doctor(env)
    out = result.stdout
    assert result.returncode == 1
    assert f"FAIL  Slack: no answer from {dead}/slackapi/auth.test" in out
    assert f"FAIL  Nimrobo: no answer from {dead}/nimrobo/v1/user/profile" in out
    assert f"FAIL  Pluto: no answer from {dead}/pluto-api/pluto/status" in out
    assert f"FAIL  OpenAI: no answer from {dead}/oai/v1/models" in out
    assert "api_key123" not in out + result.stderr and "xoxb-1-2-3" not in out + result.stderr


def test_dev_py_doctor_runs_it_and_exits_non_zero_on_a_failure(tmp_path):
    result = run_doctor({"PORT": "70000", "DATABASE_PATH": str(tmp_path / "bot.db")},
                        command=(sys.executable, "dev.py", "doctor"))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL  PORT: 70000 is not a TCP port" in result.stdout
    assert "OK    DATABASE_PATH:" in result.stdout
    assert "INFO  OpenAI: not set (optional)" in result.stdout


# -- each check on its own ------------------------------------------------------------------------
def test_token_shapes_name_what_each_token_holds():
    secret_app, secret_bot = "xapp-1-A0-123-abcdef", "xoxb-1-2-abcdef"
    swapped = check_tokens(Settings().replace(slack_bot_token=secret_app, slack_app_token=secret_bot))
    assert not swapped.ok
    assert "SLACK_APP_TOKEN holds a bot token (xoxb-…)" in swapped.detail
    assert "SLACK_BOT_TOKEN holds an app-level token (xapp-…)" in swapped.detail
    assert secret_app not in swapped.line() and secret_bot not in swapped.line()
    user_token = check_tokens(Settings().replace(slack_bot_token="xoxp-123"))
    assert not user_token.ok and "SLACK_BOT_TOKEN holds a user token (xoxp-…)" in user_token.detail
    garbage = check_tokens(Settings().replace(slack_app_token="hello"))
    assert not garbage.ok and "SLACK_APP_TOKEN does not start with xapp-" in garbage.detail
    good = check_tokens(Settings().replace(slack_bot_token=secret_bot, slack_app_token=secret_app))
    assert good.ok and good.line().startswith("OK    Slack tokens: SLACK_BOT_TOKEN and SLACK_APP_TOKEN")


def test_port_must_be_a_tcp_port():
    for bad in (0, 65536, 70000):
        check = check_port(Settings(port=bad))
        assert not check.ok and f"{bad} is not a TCP port" in check.detail and "1 to 65535" in check.fix
    assert check_port(Settings().replace(port=3000, slack_bot_token="xoxb-1", slack_signing_secret="s")).line() == \
        "OK    PORT: 3000 (used in HTTP mode)"


def test_database_path_folder_writable_or_creatable(tmp_path):
    existing = check_database_path(Settings(database_path=str(tmp_path / "bot.db")))
    assert existing.ok and "will be created" in existing.detail
    deep = check_database_path(Settings(database_path=str(tmp_path / "a" / "b" / "bot.db")))
    assert deep.ok and f"will be created with the folder {tmp_path / 'a' / 'b'}" in deep.detail
    assert not (tmp_path / "a").exists() and list(tmp_path.iterdir()) == []  # nothing made, nothing left
    (tmp_path / "plain.txt").write_text("x")
    under_a_file = check_database_path(Settings(database_path=str(tmp_path / "plain.txt" / "bot.db")))
    assert not under_a_file.ok and "plain.txt is a file" in under_a_file.detail
    folder = check_database_path(Settings(database_path=str(tmp_path)))
    assert not folder.ok and "is a folder, not a file" in folder.detail
    read_only = check_database_path(Settings(database_path="/proc/pluto-bot/bot.db"))  # /proc takes no new folder
    assert not read_only.ok and "cannot create /proc/pluto-bot in /proc" in read_only.detail


def test_openai_unset_is_optional_not_a_failure():
    check = check_openai(Settings())
    assert check.ok and check.line().startswith("INFO  OpenAI: not set (optional)")
    assert "OPENAI_API_KEY" in check.line()
    results = run_checks(Settings(database_path="/proc/x/bot.db", port=0))
    assert [r.name for r in results] == ["Mode"] + NAMES[1:]  # no credentials: the sandbox is the mode
def test_database_check_on_both_databases_names_the_fix(database, tmp_path):
    from bot.doctor import check_database
    from config import Settings
    from services.store import Store

    if database.startswith("postgresql:"):
        settings = Settings().replace(database_url=database)
    else:
        settings = Settings().replace(database_path=database)
    fresh = check_database(settings)
    assert fresh.ok and ("migration(s) to apply" in fresh.detail or "will be created" in fresh.detail)
    Store(settings.database_target).close()
    current = check_database(settings)
    assert current.ok and "schema current" in current.detail, current.line()
    if database.startswith("postgresql:"):
        base = database.rsplit("/", 1)[0].replace("postgres@", "postgres:hunter2@")
        missing = check_database(Settings().replace(database_url=base + "/no_such_db"))
        assert not missing.ok and "createdb no_such_db" in missing.fix
        assert "hunter2" not in missing.line()
        down = check_database(Settings().replace(database_url="postgresql://bot:hunter2@127.0.0.1:9/bot"))
        assert not down.ok and "start PostgreSQL" in down.fix and "hunter2" not in down.line()
    else:
        (tmp_path / "a-file").write_text("in the way")
        check = check_database(Settings().replace(database_path=str(tmp_path / "a-file" / "bot.db")))
        assert not check.ok and "DATABASE_PATH" in check.fix


def test_encryption_key_is_optional_named_when_bad_and_ok_when_valid():
    from cryptography.fernet import Fernet

    from bot.doctor import check_encryption_key
    from config import Settings

    unset = check_encryption_key(Settings())
    assert unset.optional and "Fernet.generate_key" in unset.fix
    bad = check_encryption_key(Settings().replace(encryption_key="not-a-key"))
    assert not bad.ok and "Fernet" in bad.detail and "not-a-key" not in bad.line()
    good = Fernet.generate_key().decode()
    valid = check_encryption_key(Settings().replace(encryption_key=good))
    assert valid.ok and good not in valid.line()
    # several workspaces (OAuth): required, as their Slack tokens are stored encrypted with it
    oauth = Settings().replace(slack_client_id="1.2", slack_client_secret="s", slack_state_secret="t")
    required = check_encryption_key(oauth)
    assert not required.ok and not required.optional and "Slack tokens" in required.detail
    assert "Fernet.generate_key" in required.fix
    assert check_encryption_key(oauth.replace(encryption_key=good)).ok


# -- Socket Mode ----------------------------------------------------------------------------------
def test_socket_mode_app_token_is_checked_and_wrong_token_types_are_named(tmp_path):
    with Stack(StackOptions(mode="socket", scheduler=False)) as stack:
        ok = run_doctor(stack_env(stack, tmp_path, SLACK_APP_TOKEN=stack.app_token))
        swapped = run_doctor(stack_env(stack, tmp_path, SLACK_APP_TOKEN=stack.bot_token,
                                       SLACK_BOT_TOKEN=stack.app_token))
        unknown = check_socket_mode(stack.settings.replace(slack_app_token="xapp-1-A0-unknown"))
    assert "OK    Socket Mode: apps.connections.open accepts SLACK_APP_TOKEN" in ok.stdout, ok.stdout + ok.stderr
    assert "OK    PORT: 3000 (GET /health in Socket Mode)" in ok.stdout
    assert stack.app_token not in ok.stdout + ok.stderr
    line = next(ln for ln in swapped.stdout.splitlines() if "Socket Mode:" in ln)
    assert line.startswith("FAIL  Socket Mode: apps.connections.open answered not_allowed_token_type")
    assert "SLACK_APP_TOKEN holds a bot token (xoxb-…)" in line and "xapp-" in line
    assert "SLACK_BOT_TOKEN holds an app-level token (xapp-…)" in swapped.stdout  # the shapes line names both
    assert swapped.returncode == 1
    assert stack.bot_token not in swapped.stdout + swapped.stderr
    assert stack.app_token not in swapped.stdout + swapped.stderr
    assert not unknown.ok and "invalid_auth" in unknown.detail and "xapp-" in unknown.fix


def test_socket_mode_set_in_the_environment_but_off_in_the_app():
    with Stack(StackOptions(mode="socket", scheduler=False)) as stack:
        stack.slack.socket_mode_enabled = False
        check = check_socket_mode(stack.settings)
    assert not check.ok and "Socket Mode is off in the app" in check.detail and "turn Socket Mode on" in check.fix


def test_http_mode_while_the_manifest_turns_socket_mode_on(tmp_path):
    settings = Settings().replace(slack_bot_token="xoxb-1", slack_signing_secret="s")
    on, off = tmp_path / "on.yml", tmp_path / "off.yml"
    on.write_text("settings:\n  socket_mode_enabled: true\n")
    off.write_text("settings:\n  socket_mode_enabled: false\n")
    check = check_socket_mode(settings, manifest=on)
    assert check.ok and check.line().startswith("INFO  Socket Mode:")
    assert "Slack sends nothing to /slack/events" in check.detail
    assert "socket_mode_enabled: false" in check.fix and "SLACK_APP_TOKEN" in check.fix
    assert check_socket_mode(settings, manifest=off).line() == "OK    Socket Mode: off (HTTP mode), as in the manifest"


def test_stored_slack_tokens_must_be_encrypted_and_readable_with_the_key(tmp_path):
    """Several workspaces: the doctor reads slack_sdk's installation tables and fails on a token in plain text, or
    one another ENCRYPTION_KEY made; never printing one."""
    import sqlalchemy as sa
    from cryptography.fernet import Fernet
    from slack_sdk.oauth.installation_store import Installation
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

    from bot.doctor import check_stored_slack_tokens
    from bot.installs import EncryptedInstallationStore
    from config import Settings
    from services.crypto import Cipher

    key, other = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    database = str(tmp_path / "bot.db")
    settings = Settings().replace(slack_client_id="1.2", slack_client_secret="s", slack_state_secret="t",
                                  database_path=database, encryption_key=key)
    assert check_stored_slack_tokens(Settings().replace(database_path=database)) == []  # one workspace: no line
    engine = sa.create_engine(f"sqlite:///{database}")
    store = EncryptedInstallationStore(cipher=Cipher(key), client_id="1.2", engine=engine)
    store.create_tables()
    store.save(Installation(app_id="A1", team_id="T1", user_id="U1", bot_token="xoxb-1-secret",
                            bot_refresh_token="xoxe-1-refresh", bot_token_expires_in=3600, bot_id="B1",
                            bot_user_id="UB1"))
    [ok] = check_stored_slack_tokens(settings)
    assert ok.ok and "every one encrypted" in ok.detail
    [wrong] = check_stored_slack_tokens(settings.replace(encryption_key=other))
    assert not wrong.ok and "can't be read with this ENCRYPTION_KEY" in wrong.detail
    SQLAlchemyInstallationStore(client_id="1.2", engine=engine).save(
        Installation(app_id="A1", team_id="T2", user_id="U2", bot_token="xoxb-2-plain", bot_id="B2", bot_user_id="UB2"))
    [plain] = check_stored_slack_tokens(settings)
    assert not plain.ok and "plain text" in plain.detail and "m960" in plain.fix
    assert "xoxb" not in plain.line() + ok.line() + wrong.line()
    engine.dispose()
