"""The browser sandbox's server without a browser: `python -m bot sandbox` serves the page next to the
console and prints its address; the page's API reaches the bot through the Slack test bed; live updates
arrive as server-sent events. (tests/test_web_sandbox_e2e.py drives the page in Chromium.)"""

import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from sandbox.stack import Stack, StackOptions
from sandbox.web import CHANNEL, OUTSIDER, USER, WebSandbox, prepare

ROOT = Path(__file__).resolve().parents[1]


def test_the_sandbox_prints_the_page_address_and_serves_it_next_to_the_console(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_", "CI"))}
    env.update(SANDBOX_DATA_DIR=str(tmp_path), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "bot", "sandbox"], cwd=ROOT, env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    found = threading.Event()

    def read() -> None:
        for line in proc.stdout:
            lines.append(line)
            if "The sandbox in your browser:" in line:
                found.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert found.wait(60), "".join(lines)
        url = re.search(r"(http://127\.0\.0\.1:\d+/)", "".join(lines)).group(1)
        page = httpx.get(url, timeout=10)
        assert page.status_code == 200 and "<title>Pluto Bot sandbox</title>" in page.text
        state = httpx.get(url + "api/state", params={"user": USER, "channel": CHANNEL}, timeout=10).json()
        assert state["ok"] and [c["name"] for c in state["channels"]][:2] == ["sandbox", "hiring"]
        assert {p["id"] for p in state["people"]} >= {USER, OUTSIDER}
        proc.stdin.write("quit\n")
        proc.stdin.flush()
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        reader.join(5)


@pytest.fixture(scope="module")
def web():
    with Stack(StackOptions(pluto={"extract_seconds": 0.2, "score_seconds": 0.3})) as stack:
        prepare(stack)
        server = WebSandbox(lambda: stack).start()
        try:
            yield stack, server
        finally:
            server.stop()


def test_commands_from_the_page_reach_the_bot_and_wrong_ones_are_told_privately(web):
    stack, server = web
    with httpx.Client(base_url=server.url, timeout=20) as http:
        assert http.post("/api/command", json={"user": USER, "channel": CHANNEL, "text": "/plutoo help"}).json()["ok"]
        answer = http.post("/api/command", json={"user": USER, "channel": CHANNEL, "text": "/pluto help"}).json()
        assert answer["status"] == 200
        state = http.get("/api/state", params={"user": USER, "channel": CHANNEL}).json()
        notes = [p for p in state["private"] if p["kind"] == "note"]
        assert "/plutoo is not a valid command" in notes[0]["text"] and notes[0]["by"] == "slackbot"
        assert any(p["by"] == "bot" and "/pluto score" in json.dumps(p["blocks"]) for p in notes)
        # what one person sees privately, another does not
        other = http.get("/api/state", params={"user": OUTSIDER, "channel": CHANNEL}).json()
        assert other["private"] == []


def test_a_change_reaches_the_page_as_a_server_sent_event(web):
    stack, server = web
    with httpx.Client(base_url=server.url, timeout=20) as http, http.stream("GET", "/api/events") as events:
        lines = events.iter_lines()
        first = next(line for line in lines if line.startswith("data:"))
        http.post("/api/post", json={"user": USER, "channel": CHANNEL, "text": "hello team"})
        second = next(line for line in lines if line.startswith("data:"))
        assert json.loads(second[5:]) != json.loads(first[5:])
    posted = [m for m in stack.slack.messages(CHANNEL) if m.get("text") == "hello team"]
    assert posted and posted[0]["user"] == USER



def test_the_score_form_from_the_page_checks_the_file_before_it_asks_for_the_rest(web):
    stack, server = web
    with httpx.Client(base_url=server.url, timeout=20) as http:
        def modal():
            return http.get("/api/state", params={"user": USER, "channel": CHANNEL}).json()["modal"]
        http.post("/api/command", json={"user": USER, "channel": CHANNEL, "text": "/pluto score"})
        step1 = stack.slack.wait_for(modal)
        assert "Job description" not in json.dumps(step1["blocks"])  # the file first
        file = http.post("/api/upload", json={"user": USER, "channel": CHANNEL, "example": True,
                                              "share": False}).json()["file"]
        sent = http.post("/api/submit", json={"user": USER, "view_id": step1["id"], "values": {
            "file": {"file": {"type": "file_input", "files": [file]}}}}).json()
        assert sent["outcome"] == "update"
        step2 = stack.slack.wait_for(lambda: (m := modal()) and m["callback_id"] == "pluto_score_details" and m)
        shown = json.dumps(step2["blocks"])
        assert "candidates.csv" in shown and " candidates, columns" in shown and "Job description" in shown
        done = http.post("/api/submit", json={"user": USER, "view_id": step2["id"], "values": {
            "jd": {"jd": {"type": "plain_text_input", "value": "Backend engineer"}}}}).json()
        assert done["outcome"] == "closed" and modal() is None
    stack.slack.wait_for(lambda: [m for m in stack.slack.messages(CHANNEL) if (m.get("metadata") or {})
                                  .get("event_type") == "pluto_scoring_completed"])


def test_the_sandbox_panel_drives_the_simulators(web):
    from services.nimrobo import NimroboClient

    stack, server = web
    client = NimroboClient(stack.nimrobo.url + "/api", stack.nimrobo_key)
    project = client.create_project("Panel test", "## Goal\nTalk")
    [link] = client.create_links(project.id, ["Ada Panel"], "1_week")
    with httpx.Client(base_url=server.url, timeout=20) as http:
        state = http.get("/api/state", params={"user": USER, "channel": CHANNEL}).json()
        assert {"id": link.id, "label": "Ada Panel", "status": "active", "session": None} in state["links"]
        said = http.post("/api/sim", json={"do": "fail", "link": link.id}).json()
        assert said["ok"] and "Ada Panel: interview failed" in said["said"]
        session = next(x for x in stack.nimrobo.all_links() if x["id"] == link.id)["sessionId"]
        assert stack.nimrobo.sessions[session]["status"] == "failed"
        offset = stack.pluto.clock_offset
        assert http.post("/api/sim", json={"do": "clock", "hours": 2}).json()["ok"]
        assert stack.pluto.clock_offset == offset + 7200
        assert http.post("/api/sim", json={"do": "pluto-fail"}).json()["ok"] and stack.pluto.state == "error"
        refused = http.post("/api/sim", json={"do": "complete", "link": "nope"}).json()
        assert refused["ok"] is False and "no such voice link" in refused["error"]


def test_reset_from_the_page_starts_over_on_a_fresh_stack():
    options = lambda: StackOptions(openai=False)  # noqa: E731
    holder = {"stack": Stack(options()).start()}

    def restart():
        holder["stack"].stop()
        holder["stack"] = Stack(options()).start()

    prepare(holder["stack"])
    server = WebSandbox(lambda: holder["stack"], restart=restart).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            http.post("/api/post", json={"user": USER, "channel": CHANNEL, "text": "before the reset"})
            http.post("/api/command", json={"user": USER, "channel": CHANNEL, "text": "/nope"})
            first = holder["stack"]
            assert http.post("/api/reset", json={}).json()["said"].startswith("Fresh start")
            assert holder["stack"] is not first
            state = http.get("/api/state", params={"user": USER, "channel": CHANNEL}).json()
            assert state["messages"] == [] and state["private"] == []  # the old stack's notes are gone too
            assert holder["stack"].slack.members[CHANNEL] >= {USER}
    finally:
        server.stop()
        holder["stack"].stop()
