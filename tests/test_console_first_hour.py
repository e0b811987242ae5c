"""The first hour, round two (issue 23): the console as a newcomer types into it.

Ctrl-C stops a wait and never the sandbox; a console command typed at a tour prompt runs there and
the step prompt comes back; a number after a button label means the row that shows that number."""

import io
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time

import pytest

from sandbox.console import CHANNEL, USER
from sandbox.stack import Stack
from tests.test_console import ROOT, Typist, fast_options, shortlisted

CTRL_C = "<Ctrl-C>"  # a Typist answer that presses Ctrl-C at the prompt


class Keys(Typist):
    """A Typist that can also press Ctrl-C at a prompt."""

    def input(self, prompt):
        answer = super().input(prompt)
        if answer == CTRL_C:
            raise KeyboardInterrupt
        return answer


@pytest.fixture()
def stack():
    with Stack(fast_options()) as s:
        yield s


# -- 1. Ctrl-C ---------------------------------------------------------------------------------------
def _reader(stream, lines):
    for line in iter(stream.readline, ""):
        lines.put(line)
    lines.put(None)


def _until(lines, text, seen, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        if line is None:
            break
        seen.append(line)
        if text in line:
            return
    pytest.fail(f"{text!r} not printed; output:\n{''.join(seen)[-3000:]}")


def test_ctrl_c_in_a_tour_wait_returns_to_the_prompt_and_the_sandbox_stays(tmp_path):
    """As in a terminal: `python3 dev.py run`, the tour's first step, Ctrl-C (SIGINT to the whole
    foreground group: dev.py and the sandbox) while it waits for the shortlist."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "NIMROBO_", "OPENAI_"))}
    env["SANDBOX_DATA_DIR"] = str(tmp_path / "sandbox")
    proc = subprocess.Popen([sys.executable, "dev.py", "run"], cwd=ROOT, env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_reader, args=(proc.stdout, lines), daemon=True).start()
    seen: list[str] = []
    try:
        # the tour, Enter at the step, Enter at the form's two suggested fields
        proc.stdin.write("tour\n\n\n\n")
        proc.stdin.flush()
        _until(lines, "… waiting for the shortlist", seen)
        os.killpg(proc.pid, signal.SIGINT)
        _until(lines, "Tour paused at step 1", seen)
        proc.stdin.write("tour\nstop\n/pluto help\nquit\n")
        proc.stdin.flush()
        _until(lines, "Going on with the tour at step 2 of", seen)  # `tour` goes on where it paused
        _until(lines, "/pluto candidate <id or name>", seen)  # the sandbox still answers
        proc.stdin.close()
        proc.wait(timeout=30)
        seen += [line for line in iter(lambda: lines.get(timeout=5), None)]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    out = "".join(seen)
    assert proc.returncode == 0, out[-3000:]
    assert "(stopped waiting)" in out
    assert "not seen within" not in out  # the wait was stopped, not timed out


def test_ctrl_c_at_the_prompt_once_stays_twice_leaves(stack):
    t = Keys(stack)
    t.type("> ", CTRL_C).type("> ", "/pluto help").type("> ", CTRL_C).type("> ", CTRL_C)
    out = t.run()  # returns: the second Ctrl-C in a row left the console
    assert "Ctrl-C again at an empty prompt, `quit` or Ctrl-D leaves" in out
    assert "/pluto candidate <id or name>" in out  # the first Ctrl-C did not leave
    assert t.prompts == ["> "] * 4


# -- 2. the tour's prompt ---------------------------------------------------------------------------
def test_a_console_command_at_a_tour_prompt_runs_and_the_step_prompt_comes_back(stack):
    t = Typist(stack)
    (t.type("> ", "tour")
     .type("Enter runs it", "files")
     .type("Enter runs it", "buttons")
     .type("Enter runs it", "stop"))
    out = t.run()
    assert "(no files yet)" in out and "(nothing to press yet)" in out
    assert out.count("(back in the tour) Type: /pluto score") == 2
    assert "… waiting" not in out and "not seen within" not in out
    assert not stack.slack.views(user=USER)  # the step's form never opened
    assert "Tour stopped" in out




# -- 3, 4, 14: rows by their number, controls by what the screen shows, the shortlist's N ---------------
def boards(stack):
    return [m for m in stack.slack.messages(CHANNEL) if (m.get("metadata") or {}).get("event_type") == "screening_board"]


def board_row(stack, number):
    board = boards(stack)[-1]
    return next(b["text"]["text"] for b in board["blocks"] if b["type"] == "section"
                and b["text"]["text"].startswith(f"*{number}. "))


def test_the_tour_top_5_then_voice_screen_top_3_advance_by_row_and_sort_by_what_is_shown(stack):
    t = Typist(stack)
    (t.type("> ", "tour").type("Enter runs it", "").type("Job description", "")
     .type("Top N to show (optional) (a number) [5]", "")  # the tour's 5, not the form's 10
     # at the next step's prompt: a console command; the shortlist's button says top 5, the select has Top 3
     .type("Enter runs it", "Voice-screen top 3", wait=lambda: shortlisted(stack))
     .type("Pattern", "submit")
     .type("read-only modal", "", wait=lambda: boards(stack))  # the outcome, in the form
     .type("Enter runs it", "stop")
     .type("> ", "Advance 1")
     .type("> ", "Advance 2", wait=lambda: "Advanced" in board_row(stack, 1))
     .type("> ", "Sort evaluation", wait=lambda: "Advanced" in board_row(stack, 2))
     .type("> ", "Sort", wait=lambda: boards(stack)[-1]["metadata"]["event_payload"]["sort"] == "evaluation")
     .type("Sort", "pluto"))
    out = t.run()
    [shortlist] = shortlisted(stack)
    assert "Top 5 of 6" in str(shortlist["blocks"])
    tools = next(b for b in shortlist["blocks"] if b.get("block_id", "").startswith("screen_top|"))
    assert tools["elements"][0]["text"]["text"] == "Voice-screen top 5"
    assert [o["text"]["text"] for o in tools["elements"][1]["options"]] == ["Top 3", "All 6"]
    project = next(iter(stack.nimrobo.projects.values()))
    assert project["name"] == "Senior backend engineer"  # the role from the job description (item 13)
    assert len(stack.nimrobo.all_links()) == 3
    stack.slack.wait_for(lambda: boards(stack)[-1]["metadata"]["event_payload"]["sort"] == "pluto")
    rows = [board_row(stack, n) for n in (1, 2, 3)]
    advanced = [r.split("*")[1] for r in rows if "Advanced" in r]
    assert advanced == ["1. Alan Turing", "2. Ada Lovelace"], rows  # row 2, not the 2nd [Advance] button
    assert "no [Voice-screen] next to text" not in out and "no button or command" not in out


def test_ctrl_c_while_the_console_fills_forms_returns_to_the_prompt(stack):
    """A Ctrl-C landing in fill_modals() at the top of the loop (a wait for the bot, not a prompt)."""
    t = Typist(stack)
    fill, calls = t.console.fill_modals, []

    def interrupted_once():
        calls.append(1)
        if len(calls) == 1:
            raise KeyboardInterrupt
        return fill()

    t.console.fill_modals = interrupted_once
    t.type("> ", "/pluto help")
    try:
        out = t.run()
    except KeyboardInterrupt:
        pytest.fail("a Ctrl-C while forms were filled left the sandbox")
    assert "(interrupted; the form stays open" in out and "/pluto score" in out  # the prompt came back


# -- 21. Draft with AI when the sections are empty ----------------------------------------------------------
def test_enter_at_draft_with_ai_drafts_when_the_sections_are_empty(stack):
    t = Typist(stack)
    (t.type("> ", "/voicelink create").type("Pattern", "").type("Job title", "Backend Engineer")
     .type("Candidates", "Ada Lovelace").type("file of names", "").type("brief", "")
     .type("[Draft with AI] press it? [Y/n]", ""))
    for _ in range(14):  # Enter through the drafted form
        t.type(None, lambda out: "" if "Your voice links" not in out else "quit")
    t.console.loop()
    assert t.error is None, t.error
    out = t.output
    assert "Please fill out this field" not in out
    [project] = stack.nimrobo.projects.values()
    assert project["name"] == "Backend Engineer" and "Goal" in project["prompt"] and "Constraints" in project["prompt"]


# -- 5-10: files, paths, rendering, usage lines, links, the banner ------------------------------------------
def test_paths_as_a_shell_takes_them_files_newest_first_all_columns_and_one_brief(stack, tmp_path):
    folder = tmp_path / "my files"
    folder.mkdir()
    wide = folder / "my candidates.csv"
    header = "name,email,current_title,current_company,years_experience,skills," + \
        ",".join(f"extra_column_{i}" for i in range(8))
    wide.write_text(header + "\n" + "\n".join(
        f"{n},{n.split()[0].lower()}@example.com,Engineer,Acme,{5 + i},python," + ",".join(f"x{i}{j}" for j in range(8))
        for i, n in enumerate(["Ada Lovelace", "Alan Turing", "Grace Hopper"])) + "\n")
    escaped = str(wide).replace(" ", "\\ ")
    t = Typist(stack)
    (t.type("> ", f'/pluto score "{folder}/missing file.csv"')
     .type("> ", f"/pluto score {escaped}").type("Job description", "").type("Top N", "3")
     .type("> ", "files", wait=lambda: shortlisted(stack) and len(stack.slack.uploads()) >= 2)
     .type("> ", "open my candidates-ranked")
     .type("> ", "open my candidates")
     .type("> ", "Pre-brief 1")
     .type("read-only modal", "", wait=lambda: "PRE-BRIEF ·" in t.output))
    out = t.run()
    assert f"! no such file: {folder}/missing file.csv" in out  # the quotes were taken as a shell takes them
    listed = out.replace("my candidates", "candidates")
    ranked = int(re.search(r"(\d+)\. candidates-ranked\.csv .* by the bot", listed).group(1))
    assert ranked < int(re.search(r"(\d+)\. candidates\.csv .* by you", listed).group(1))  # newest first
    ranked = out.split("┌ my candidates-ranked.csv ┐")[1].split("┌")[0]
    assert "Alan Turing" in ranked
    mine = out.split("┌ my candidates.csv ┐")[1].split("  >")[0]
    assert all(f"extra_column_{i}" in mine for i in range(8)) and "..." not in mine.splitlines()[1]
    assert out.count("PRE-BRIEF ·") == 1  # opened at "Preparing…", then the brief once


def test_missing_arguments_give_the_reason_and_one_usage_line(stack):
    t = Typist(stack)
    for line in ("sim complete", "press", "mention", "sim", "open"):
        t.type("> ", line)
    out = t.run()
    assert "Console commands:" not in out  # never the whole help
    assert "! sim complete needs whose interview\n    usage: sim complete <label | link id>" in out
    assert "! press needs a button\n    usage: press <n>" in out
    assert "! mention needs something to say to the bot\n    usage: mention <text>" in out
    assert "no link matches ''" not in out and "no button or command ''" not in out


def test_sim_links_show_the_project_and_an_ambiguous_label_is_asked(stack):
    from services.nimrobo import NimroboClient

    client = NimroboClient(stack.settings.nimrobo_api_base_url, stack.settings.nimrobo_api_key)
    try:
        for role in ("Backend Engineer", "Data Engineer"):
            project = client.create_project(role, "Goal\nRole\nGuidelines\nConstraints")
            client.create_links(project.id, ["Grace Hopper"], "1_week")
    finally:
        client.close()
    t = Typist(stack)
    (t.type("> ", "sim links").type("> ", "sim complete Grace Hopper").type("Which one?", "2"))
    out = t.run()
    assert "Grace Hopper  · project Backend Engineer · active" in out
    assert "Grace Hopper  · project Data Engineer · active" in out
    assert "Several links for 'Grace Hopper'" in out
    second = re.search(r"\n    2\. (\S+) · project (.+?) · active", out)
    done = [link for link in stack.nimrobo.all_links() if link.get("sessionId")]
    assert len(done) == 1 and done[0]["id"] == second.group(1)  # the one chosen: listed 2nd
    assert stack.nimrobo.projects[done[0]["projectId"]]["name"] == second.group(2)


def test_the_banner_says_which_mode_runs():
    from sandbox.console import Console

    class FakeStack:
        def __init__(self, mode):
            self.mode = mode

    for mode, said in (("http", "HTTP mode"), ("socket", "Socket Mode")):
        out = io.StringIO()
        console = Console(FakeStack(mode), input_fn=lambda prompt: (_ for _ in ()).throw(EOFError), output=out,
                          color=False)
        console.fill_modals = lambda: True
        console.flush_output = lambda: None
        console.loop()
        assert out.getvalue().startswith(f"Pluto Bot sandbox in {said}")


def test_channel_ids_and_slack_emoji_names_render_as_slack_shows_them():
    from sandbox.render import Renderer

    shown = Renderer("plain").mrkdwn(":large_green_circle: open · <#C_SANDBOX> has the card · <#C1|general>")
    assert shown == "🟢 open · #sandbox has the card · #general"


def test_enter_at_the_two_draft_buttons_of_project_new_drafts_when_the_sections_are_empty(stack):
    t = Typist(stack)
    (t.type("> ", "/voicelink project new").type("Name", "Data Engineer").type("Description", "")
     .type("brief", "Data engineer for a payments team: Python, SQL.")
     .type("[Draft with AI: interview]  [Draft with AI: research] type one to press it, "
           "Enter presses [Draft with AI: interview]", ""))
    for _ in range(14):  # Enter through the drafted form
        t.type(None, lambda out: "quit" if "Project Data Engineer created" in out else "")
    t.console.loop()
    assert t.error is None, t.error
    assert "Please fill out this field" not in t.output
    [project] = stack.nimrobo.projects.values()
    assert project["name"] == "Data Engineer" and "Goal" in project["prompt"] and "Constraints" in project["prompt"]
