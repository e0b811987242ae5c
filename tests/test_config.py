import logging
import subprocess
import sys

import pytest

import config
from bot.logging_setup import SecretFilter
from config import ConfigError, Secret, load_settings


def test_contract_names_and_defaults():
    assert config.API_BASE_URL == "https://app.nimroboai.com/api" or "NIMROBO_API_BASE_URL" in __import__("os").environ
    s = load_settings({}, env_file=None)
    assert s.nimrobo_api_base_url == "https://app.nimroboai.com/api"
    assert s.pluto_api_base_url == "http://localhost:8000/api"
    assert s.slack_api_url == "https://slack.com/api/"
    assert s.database_path == "data/bot.db"
    assert s.poll_interval_seconds == 30 and s.port == 3000
    assert s.mode == "sandbox"


def test_modes_follow_the_contract():
    assert load_settings({"SLACK_APP_TOKEN": "xapp-1", "SLACK_BOT_TOKEN": "xoxb-1"}, env_file=None).mode == "socket"
    assert load_settings({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}, env_file=None).mode == "http"
    assert load_settings({"SLACK_BOT_TOKEN": "xoxb-1"}, env_file=None).mode == "sandbox"


def test_aliases_for_the_nimrobo_settings():
    s = load_settings({"API_BASE_URL": "http://nim.local/api/", "API_KEY": "api_abc"}, env_file=None)
    assert s.nimrobo_api_base_url == "http://nim.local/api"
    assert s.nimrobo_api_key == "api_abc"
    s = load_settings({"NIMROBO_API_KEY": "api_new", "API_KEY": "api_old"}, env_file=None)
    assert s.nimrobo_api_key == "api_new"


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"POLL_INTERVAL_SECONDS": "soon"}, "POLL_INTERVAL_SECONDS"),
        ({"PORT": "eighty"}, "PORT"),
        ({"SLACK_API_URL": "slack.com/api"}, "SLACK_API_URL"),
        ({"PLUTO_API_BASE_URL": "ftp://x"}, "PLUTO_API_BASE_URL"),
        ({"NIMROBO_API_BASE_URL": "not a url"}, "NIMROBO_API_BASE_URL"),
        ({"POLL_INTERVAL_SECONDS": "0"}, "POLL_INTERVAL_SECONDS"),
    ],
)
def test_invalid_values_name_the_variable(env, name):
    with pytest.raises(ConfigError) as err:
        load_settings(env, env_file=None)
    message = str(err.value)
    assert name in message and "expected" in message and "\n" not in message


def test_env_file_is_read_and_environment_wins(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("PORT=4001\nPLUTO_API_BASE_URL=http://pluto.local/api\n")
    s = load_settings({"PORT": "4002"}, env_file=env_file)
    assert s.port == 4002 and s.pluto_api_base_url == "http://pluto.local/api"


def test_secrets_never_show_in_repr_str_or_logs(caplog):
    s = load_settings({"SLACK_BOT_TOKEN": "xoxb-very-secret", "NIMROBO_API_KEY": "api_topsecret",
                       "SLACK_SIGNING_SECRET": "signsecret"}, env_file=None)
    for text in (repr(s), str(s), f"{s.nimrobo_api_key}", "%s" % s.slack_bot_token, s.describe()):  # noqa: UP031
        assert "xoxb-very-secret" not in text and "api_topsecret" not in text and "signsecret" not in text
    assert isinstance(s.nimrobo_api_key, Secret)
    assert "Bearer " + s.nimrobo_api_key == "Bearer api_topsecret"
    assert s.nimrobo_api_key.reveal() == "api_topsecret"

    logger = logging.getLogger("test.secret")
    logger.addFilter(SecretFilter(["api_topsecret"]))
    with caplog.at_level(logging.INFO, logger="test.secret"):
        logger.info("calling with key %s", "api_topsecret")
    logger.filters.clear()
    assert "api_topsecret" not in caplog.text and "***" in caplog.text


def test_bad_setting_stops_start_up_with_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "bot"], capture_output=True, text=True, timeout=60,
                            env={"PATH": "", "POLL_INTERVAL_SECONDS": "often", "HOME": str(tmp_path)},
                            cwd=str(__import__("pathlib").Path(__file__).resolve().parents[1]))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "POLL_INTERVAL_SECONDS" in lines[0]


def test_reveal_gives_the_real_plain_string():
    secret = Secret("xoxb-123")
    revealed = secret.reveal()
    assert type(revealed) is str and revealed == "xoxb-123" and str(revealed) == "xoxb-123"
    assert Secret(secret).reveal() == "xoxb-123"  # re-wrapping keeps the value
    assert load_settings({}, env_file=None).replace(slack_bot_token=secret).slack_bot_token.reveal() == "xoxb-123"


def test_oauth_mode_needs_an_encryption_key_and_says_how_to_make_one(tmp_path):
    """The installs' Slack tokens are stored encrypted with ENCRYPTION_KEY: OAuth mode does not start without one."""
    from cryptography.fernet import Fernet

    from config import slack_credentials_problem

    oauth = {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "shh", "SLACK_STATE_SECRET": "state",
             "SLACK_SIGNING_SECRET": "signsecret"}
    unset = slack_credentials_problem(load_settings(oauth, env_file=None))
    assert unset is not None and unset.startswith("ENCRYPTION_KEY is not set") and "Fernet.generate_key()" in unset
    bad = slack_credentials_problem(load_settings({**oauth, "ENCRYPTION_KEY": "not-a-key"}, env_file=None))
    assert bad is not None and "not a Fernet key" in bad and "not-a-key" not in bad
    key = Fernet.generate_key().decode()
    assert slack_credentials_problem(load_settings({**oauth, "ENCRYPTION_KEY": key}, env_file=None)) is None
    # one workspace (a bot token) does not need it
    assert slack_credentials_problem(load_settings({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"},
                                                   env_file=None)) is None
    result = subprocess.run([sys.executable, "-m", "bot"], capture_output=True, text=True, timeout=60,
                            env={"PATH": "", "HOME": str(tmp_path), **oauth},
                            cwd=str(__import__("pathlib").Path(__file__).resolve().parents[1]))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "ENCRYPTION_KEY" in lines[0]
