"""The foundation end to end: the real bot over HTTP against the Slack stand-in."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from sandbox.stack import Stack, StackOptions

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def stack():
    with Stack(StackOptions(scheduler=False)) as s:
        yield s


def test_health_answers_200(stack):
    response = httpx.get(stack.bot_url + "/health", timeout=5)
    assert response.status_code == 200
    assert response.json()["ok"] is True


def test_signed_pluto_help_is_answered_privately_in_the_ack(stack):
    response = stack.signer.command("/pluto", "help")
    assert response.status_code == 200
    body = response.json()
    assert body["response_type"] == "ephemeral"
    text = body["text"]
    for sub in ("score", "status", "results", "candidate <id or name>", "export"):
        assert f"/pluto {sub}" in text


def test_voicelink_help_lists_every_contract_subcommand(stack):
    body = stack.signer.command("/voicelink", "help").json()
    for sub in ("create", "list [project]", "cancel <link>", "projects", "status <session>", "watch <session>",
                "subscribe <project>", "unsubscribe <project>", "subscriptions"):
        assert f"/voicelink {sub}" in body["text"]
    assert body["response_type"] == "ephemeral"


def test_unknown_subcommand_and_missing_argument_answer_with_help(stack):
    body = stack.signer.command("/pluto", "frobnicate").json()
    assert "I don't know `/pluto frobnicate`" in body["text"] and "/pluto score" in body["text"]
    assert "Did you mean" not in body["text"]  # nothing is close to it


@pytest.mark.parametrize(("command", "typed", "meant"), [
    ("/pluto", "scor", "/pluto score"), ("/pluto", "Stauts", "/pluto status"), ("/pluto", "exprot", "/pluto export"),
    ("/voicelink", "lsit", "/voicelink list"), ("/voicelink", "subscirbe proj_1", "/voicelink subscribe"),
    ("/voicelink", "canel Alan Turing", "/voicelink cancel"),
])
def test_a_typo_gets_a_did_you_mean_in_the_help(stack, command, typed, meant):
    body = stack.signer.command(command, typed).json()
    assert body["response_type"] == "ephemeral"
    assert f"I don't know `{command} {typed.split()[0].lower()}`. Did you mean `{meant}`?" in body["text"]
    assert f"Did you mean `{meant}`?" in str(body["blocks"])
    body = stack.signer.command("/voicelink", "cancel").json()
    assert "needs an argument" in body["text"] and "/voicelink cancel <link>" in body["text"]
    body = stack.signer.command("/pluto", "").json()
    assert "/pluto export" in body["text"]


def published_home(stack, user):
    return [c for c in stack.slack.api_calls("views.publish") if c["params"].get("user_id") == user]


def refused_then_genuine(stack, user, **refused):
    """Send an App Home event with ``refused`` signing options (expect 401), then a genuine one for another
    user; once the genuine one is answered, the refused one would have been too."""
    response = stack.signer.event({"type": "app_home_opened", "user": user, "channel": "D9", "tab": "home"},
                                  **refused)
    assert response.status_code == 401
    marker = user + "_MARKER"
    stack.signer.event({"type": "app_home_opened", "user": marker, "channel": "D8", "tab": "home"})
    stack.slack.wait_for(lambda: published_home(stack, marker))
    assert published_home(stack, user) == []


def test_forged_signature_gets_401_and_nothing_is_posted(stack):
    refused_then_genuine(stack, "U_FORGED", secret="not-the-signing-secret")


def test_replayed_request_older_than_five_minutes_gets_401(stack):
    refused_then_genuine(stack, "U_REPLAYED", timestamp=int(time.time()) - 6 * 60)


def test_unknown_path_is_404(stack):
    assert httpx.post(stack.bot_url + "/elsewhere", content=b"x").status_code == 404


def test_app_home_is_published(stack):
    stack.signer.event({"type": "app_home_opened", "user": "U_ALICE", "channel": "D1", "tab": "home"})
    call = stack.slack.wait_for(lambda: [c for c in stack.slack.api_calls("views.publish")])
    assert call


def test_duplicate_event_delivery_is_handled_once(stack):
    event = {"type": "app_home_opened", "user": "U_BOB", "channel": "D2", "tab": "home"}
    first = stack.signer.event(event, event_id="EvDUPLICATE1")
    second = stack.signer.event(event, event_id="EvDUPLICATE1")
    assert first.status_code == second.status_code == 200
    stack.signer.event({**event, "user": "U_CAROL"}, event_id="EvAFTER1")  # once this is answered, so is Bob's
    stack.slack.wait_for(lambda: published_home(stack, "U_CAROL") and published_home(stack, "U_BOB"))
    assert len(published_home(stack, "U_BOB")) == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_http_mode_process_logs_mode_without_keys_and_stops_cleanly_on_sigterm(tmp_path):
    port = _free_port()
    env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-supersecret-123", "SLACK_SIGNING_SECRET": "signing-secret-456",
           "NIMROBO_API_KEY": "api_privatekey789", "PORT": str(port), "DATABASE_PATH": str(tmp_path / "db" / "b.db"),
           "SLACK_API_URL": "http://127.0.0.1:9/api/"}
    env.pop("SLACK_APP_TOKEN", None)
    proc = subprocess.Popen([sys.executable, "-m", "bot"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        for _ in range(100):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("bot did not answer /health")
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, output[-3000:]
    assert "mode=http" in output and "nimrobo=https://app.nimroboai.com/api" in output
    assert "stopped cleanly" in output
    for secret in ("xoxb-supersecret-123", "signing-secret-456", "api_privatekey789"):
        assert secret not in output
    assert (tmp_path / "db" / "b.db").exists()


def test_sandbox_console_answers_pluto_help(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "NIMROBO_", "OPENAI_"))}
    env["DATABASE_PATH"] = str(tmp_path / "production.db")  # the sandbox never touches the real database
    env["SANDBOX_DATA_DIR"] = str(tmp_path / "sandbox")
    proc = subprocess.run([sys.executable, "-m", "bot"], cwd=ROOT, env=env, input="/pluto help\nquit\n",
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "/pluto score" in proc.stdout and "/pluto candidate <id or name>" in proc.stdout
    assert (tmp_path / "sandbox" / "bot.db").exists() and not (tmp_path / "production.db").exists()
    log = (tmp_path / "sandbox" / "sandbox.log").read_text()
    assert "sandbox started: mode=http" in log
    assert " INFO " not in proc.stdout + proc.stderr  # log lines go to the file, not into the conversation


def test_dev_py_run_socket_runs_the_sandbox_in_socket_mode(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "NIMROBO_", "OPENAI_"))}
    env["SANDBOX_DATA_DIR"] = str(tmp_path / "sandbox")
    proc = subprocess.run([sys.executable, "dev.py", "run", "--socket"], cwd=ROOT, env=env,
                          input="/pluto help\nquit\n", capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, proc.stderr
    assert "/pluto score" in proc.stdout and "/pluto candidate <id or name>" in proc.stdout
    log = (tmp_path / "sandbox" / "sandbox.log").read_text()
    assert "sandbox started: mode=socket" in log and "Socket Mode connected" in log
    assert "xapp-1-A0SANDBOX-" not in log  # no app token in the log


def test_a_sigterm_while_the_scheduler_starts_stops_the_bot_cleanly(monkeypatch):
    """A signal's handler runs ``stop()`` in the main thread between two steps of ``start_scheduler``:
    the scheduler it stopped must not be stopped a second time (that raised and the process exited 1)."""
    import bot.runtime
    from bot.delivery import Sender

    with Stack(StackOptions(scheduler=False)) as s:
        runtime = s.runtime

        class SignalledSender(Sender):
            def start(self) -> Sender:  # the SIGTERM lands right after the scheduler was started
                runtime.stop()
                return super().start()

        monkeypatch.setattr(bot.runtime, "Sender", SignalledSender)
        runtime.start_scheduler()
        assert runtime.scheduler is not None and not runtime.scheduler.running
        runtime.stop()  # and a second stop (the process's finally) is harmless
