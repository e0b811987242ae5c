"""Settings and the doctor as a newcomer meets them (issue 23): the sandbox is a mode, not a failure; half-set
Slack credentials get one line naming what is missing; every bad value is reported at once."""

import subprocess
import sys

import pytest

from config import load_settings_reporting, slack_credentials_problem
from tests.test_doctor import ROOT, clean_env, run_doctor


def test_doctor_without_credentials_reports_the_sandbox_and_exits_0(tmp_path):
    result = run_doctor({"DATABASE_PATH": str(tmp_path / "bot.db")})
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert out.startswith("OK    Mode: sandbox: no Slack credentials, so `python3 dev.py run` starts")
    assert "FAIL" not in out
    assert "INFO  Slack: not used by the sandbox" in out and "INFO  Nimrobo: not used by the sandbox" in out


def test_doctor_reports_every_bad_setting_and_still_runs_the_other_checks(tmp_path):
    result = run_doctor({"DATABASE_PATH": str(tmp_path / "bot.db"), "PORT": "abc", "POLL_INTERVAL_SECONDS": "soon"})
    lines = result.stdout.splitlines()
    assert result.returncode == 1
    assert "FAIL  Settings: PORT='abc' is not a number" in result.stdout
    assert "FAIL  Settings: POLL_INTERVAL_SECONDS='soon' is not a number" in result.stdout
    assert any(line.startswith("OK    DATABASE_PATH:") for line in lines)  # the rest was checked too
    assert "Traceback" not in result.stdout + result.stderr
    assert not any(line.startswith("OK    PORT") for line in lines)  # never an OK with the default it fell back to


def test_a_bad_port_with_half_set_credentials_claims_no_mode(tmp_path):
    result = run_doctor({"DATABASE_PATH": str(tmp_path / "bot.db"), "SLACK_BOT_TOKEN": "xoxb-x", "PORT": "abc"})
    lines = result.stdout.splitlines()
    assert "FAIL  Settings: PORT='abc' is not a number" in result.stdout
    assert any(line.startswith("FAIL  Mode:") for line in lines)
    assert not any(line.startswith("OK    PORT") for line in lines) and "sandbox mode" not in result.stdout
    good = run_doctor({"DATABASE_PATH": str(tmp_path / "bot.db"), "SLACK_BOT_TOKEN": "xoxb-x", "PORT": "3100"})
    assert "OK    PORT: 3100 (used in HTTP mode; GET /health in Socket Mode)" in good.stdout  # the mode is unknown


@pytest.mark.parametrize("env, missing", [
    ({"SLACK_BOT_TOKEN": "xoxb-1-2-abc"}, "SLACK_BOT_TOKEN is set but SLACK_SIGNING_SECRET is not"),
    ({"SLACK_APP_TOKEN": "xapp-1-A1-2-abc"}, "SLACK_APP_TOKEN is set but SLACK_BOT_TOKEN is not"),
    ({"SLACK_SIGNING_SECRET": "s3cret"}, "SLACK_SIGNING_SECRET is set but SLACK_BOT_TOKEN is not"),
])
def test_half_set_slack_credentials_stop_with_one_line_naming_what_is_missing(tmp_path, env, missing):
    env = {**env, "DATABASE_PATH": str(tmp_path / "bot.db"), "SANDBOX_DATA_DIR": str(tmp_path / "sandbox")}
    result = subprocess.run([sys.executable, "-m", "bot"], cwd=ROOT, env=clean_env(env), input="quit\n",
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]  # one line, no traceback
    assert missing in result.stderr and "Pluto Bot sandbox" not in result.stdout  # never silently the sandbox
    doctor = run_doctor(env)
    assert doctor.returncode == 1 and f"FAIL  Mode: {missing}" in doctor.stdout


def test_settings_problems_are_collected_and_credentials_pick_a_mode():
    settings, problems = load_settings_reporting({"PORT": "abc", "API_BASE_URL": "nope"}, env_file=None)
    assert settings.port == 3000 and len(problems) == 2
    both = load_settings_reporting({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}, env_file=None)[0]
    socket = load_settings_reporting({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}, env_file=None)[0]
    none = load_settings_reporting({}, env_file=None)[0]
    assert [slack_credentials_problem(s) for s in (both, socket, none)] == [None, None, None]
