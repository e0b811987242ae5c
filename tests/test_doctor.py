"""``python -m bot doctor`` against the stand-ins."""

import os
import subprocess
import sys
from pathlib import Path

from sandbox.stack import Stack, StackOptions

ROOT = Path(__file__).resolve().parents[1]


def run_doctor(env_extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "NIMROBO_", "OPENAI_", "PLUTO_"))}
    env.update(env_extra)
    return subprocess.run([sys.executable, "-m", "bot", "doctor"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)


def stack_env(stack, **overrides):
    s = stack.settings
    env = {"SLACK_BOT_TOKEN": s.slack_bot_token.reveal(), "SLACK_SIGNING_SECRET": s.slack_signing_secret.reveal(),
           "SLACK_API_URL": s.slack_api_url, "NIMROBO_API_BASE_URL": s.nimrobo_api_base_url,
           "NIMROBO_API_KEY": s.nimrobo_api_key.reveal(), "PLUTO_API_BASE_URL": s.pluto_api_base_url,
           "OPENAI_API_KEY": s.openai_api_key.reveal(), "OPENAI_BASE_URL": s.openai_base_url}
    env.update(overrides)
    return {k: v for k, v in env.items() if v}


def test_all_backends_ok():
    with Stack(StackOptions(scheduler=False)) as stack:
        result = run_doctor(stack_env(stack))
    lines = result.stdout.strip().splitlines()
    assert result.returncode == 0, result.stdout + result.stderr
    assert [line.split()[1].rstrip(":") for line in lines][:3] == ["Slack", "Nimrobo", "Pluto"]
    assert all(line.startswith("OK") for line in lines)
    assert stack.nimrobo_key not in result.stdout


def test_missing_scope_bad_token_and_unreachable_pluto_fail_with_a_fix():
    with Stack(StackOptions(scheduler=False)) as stack:
        stack.nimrobo.add_key("api_limited", ("user:read", "projects:read"))
        result = run_doctor(stack_env(stack, NIMROBO_API_KEY="api_limited", SLACK_BOT_TOKEN="xoxb-wrong",
                                      PLUTO_API_BASE_URL="http://127.0.0.1:9/api"))
    assert result.returncode == 1
    out = result.stdout
    assert "FAIL  Slack: auth.test answered invalid_auth — fix:" in out
    assert "FAIL  Nimrobo:" in out and "projects:write" in out and "sessions:write" in out and "fix:" in out
    assert "FAIL  Pluto:" in out and "PLUTO_API_BASE_URL" in out
