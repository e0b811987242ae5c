"""The sandbox console end to end: typed lines go through its input function, the real bot answers
over HTTP from a Stack, and we check what the console printed and what the stand-ins recorded."""

import io
import logging
import re
import threading
import warnings
from collections import deque
from pathlib import Path

import pytest
from slack_sdk import WebClient

from sandbox.console import CHANNEL, USER, Console
from sandbox.stack import SandboxHome, Stack, StackOptions, attach_console_logs, route_logs

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "candidates.csv"
FAST = {"pluto": {"extract_seconds": 0.2, "score_seconds": 0.4},
        "nimrobo": {"evaluation_delay": 0.2, "summary_delay": 0.2}}


def fast_options():
    return StackOptions(pluto=dict(FAST["pluto"]), nimrobo=dict(FAST["nimrobo"]))


class Typist:
    """Types into the console as a person would: each answer is given only at the prompt it is meant
    for (``expect`` must be in the prompt), after ``wait`` (a condition) holds. An answer may be a
    function of the output so far. A wrong prompt stops the console and fails the test."""

    def __init__(self, stack):
        self.stack = stack
        self.out = io.StringIO()
        self.script = deque()
        self.prompts = []
        self.error = None
        self.console = Console(stack, input_fn=self.input, output=self.out, color=False, settle=0.3)

    def type(self, expect, answer, wait=None):
        self.script.append((expect, answer, wait))
        return self

    def input(self, prompt):
        self.prompts.append(prompt)
        if not self.script or self.error:
            raise EOFError
        expect, answer, wait = self.script.popleft()
        if expect is not None and expect not in prompt:
            self.error = AssertionError(f"expected a prompt with {expect!r}, got {prompt!r}; output:\n"
                                        + self.out.getvalue()[-3000:])
            raise EOFError
        if wait is not None:
            try:
                self.stack.slack.wait_for(wait, timeout=30)
            except AssertionError as exc:
                self.error = AssertionError(f"{exc}\nconsole output:\n{self.out.getvalue()[-3000:]}")
                raise EOFError from None
        return answer(self.output) if callable(answer) else answer

    @property
    def output(self):
        return self.out.getvalue()

    def run(self):
        self.console.loop()
        if self.error:
            raise self.error
        assert not self.script, f"unused answers {list(self.script)}; output:\n{self.output[-3000:]}"
        return self.output


@pytest.fixture()
def stack():
    with Stack(fast_options()) as s:
        yield s


def shortlisted(stack):
    return [m for m in stack.slack.messages(CHANNEL)
            if (m.get("metadata") or {}).get("event_type") == "pluto_scoring_completed"]


def score_example(typist, top_n="3"):
    return (typist.type("> ", f"/pluto score {EXAMPLE}")
            .type("Job description", "Senior engineer")
            .type("Top N to show", top_n))


def last_view(stack):
    return stack.slack.views(user=USER)[-1]


def header_of(view):
    return next(b["text"]["text"] for b in view["blocks"] if b["type"] == "header")


# -- forms -----------------------------------------------------------------------------------------------
def test_select_in_a_modal_keeps_what_was_typed_and_shows_the_update(stack):
    t = Typist(stack)
    (t.type("> ", "/voicelink create")
     .type("Pattern (1=Interview for a role, 2=Research study, 3=Instant links)", "2")
     .type("Study (type to search; Enter keeps [New study])", "")
     .type("New study", "Onboarding study")
     .type("Interview labels", "")
     .type("…or a number of interviews", "2")
     .type("file of names", "")
     .type("brief", "New hires in their first month")
     .type("[Draft with AI] press it?", "y")
     .type("Goal (optional) [Goal for Onboarding study", "")  # drafted from the study typed before the button
     .type("Role", "")
     .type("Guidelines", "")
     .type("Constraints", "A short one\\nat most ten minutes")  # \n types a new line
     .type("Landing page title", "")
     .type("Landing page info", "")
     .type("Time limit", "")
     .type("Links expire after (1=1 day, 2=1 week, 3=1 month) [1 week]", "1 day")
     .type("Evaluator prompt", "")
     .type("Evaluator questions", ""))
    out = t.run()
    assert out.count("modal updated (views.update)") == 2  # the pattern, then the draft
    project = next(iter(stack.nimrobo.projects.values()))
    assert project["name"] == "Onboarding study"
    assert "A short one\nat most ten minutes" in project["prompt"]
    links = list(stack.nimrobo.links.values())
    assert sorted(link["label"] for link in links) == ["Interview 1", "Interview 2"]
    assert {link["expiryPreset"] for link in links} == {"1_day"}
    assert "→ <Create>" in out and "modal closed: Create voice links" in out


def test_every_input_type_can_be_filled(stack, tmp_path):
    """Radio buttons, checkboxes, number, multi-line text, a date and a file, on a modal the stand-in holds."""
    def option(text, value):
        return {"text": {"type": "plain_text", "text": text}, "value": value}

    def block(block_id, label, element, optional=False):
        return {"type": "input", "block_id": block_id, "label": {"type": "plain_text", "text": label},
                "optional": optional, "element": {"action_id": block_id, **element}}

    view = {"type": "modal", "callback_id": "all_inputs", "title": {"type": "plain_text", "text": "Every input"},
            "submit": {"type": "plain_text", "text": "Send"}, "blocks": [
                block("style", "Style", {"type": "radio_buttons",
                                         "options": [option("Calm", "calm"), option("Brisk", "brisk")]}),
                block("topics", "Topics", {"type": "checkboxes", "options": [
                    option("Skills", "skills"), option("Salary", "salary"), option("Start date", "start")]}),
                block("count", "How many", {"type": "number_input", "is_decimal_allowed": False,
                                            "min_value": "1", "max_value": "9"}),
                block("notes", "Notes", {"type": "plain_text_input", "multiline": True}),
                block("day", "Day", {"type": "datepicker"}),
                block("sheet", "Sheet", {"type": "file_input", "filetypes": ["csv"]}),
            ]}
    trigger = stack.slack.issue_trigger_id(USER)
    WebClient(token=stack.bot_token, base_url=stack.slack.url + "/api/").views_open(trigger_id=trigger, view=view)
    sent = []
    submit = stack.signer.view_submission

    def capture(view, values, **kw):
        sent.append(values)
        return submit(view, values, **kw)

    stack.signer.view_submission = capture
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("name\nAda\n")
    t = Typist(stack)
    (t.type("Style (1=Calm, 2=Brisk)", "brisk")
     .type("Topics (any of 1=Skills, 2=Salary, 3=Start date; comma-separated)", "1, start date")
     .type("How many (a number)", "2.5").type("How many", "12").type("How many", "3")
     .type("Notes", "<<").type("…", "first line").type("…", "second line").type("…", ".")
     .type("Day", "tomorrow").type("Day", "2030-01-31")
     .type("Sheet (path to a local file)", str(tmp_path / "missing.csv"))
     .type("Sheet", str(sheet))
     .type("Try again?", "n"))  # no handler for this made-up modal: the bot does not answer 200
    out = t.run()
    assert "! Enter a whole number." in out and "! Enter a number from 1 to 9." in out
    assert "! Enter a date as YYYY-MM-DD." in out and "! No such file:" in out
    values = sent[0]
    assert values["style"]["style"]["selected_option"]["value"] == "brisk"
    assert [o["value"] for o in values["topics"]["topics"]["selected_options"]] == ["skills", "start"]
    assert values["count"]["count"] == {"type": "number_input", "value": "3"}
    assert values["notes"]["notes"]["value"] == "first line\nsecond line"
    assert values["day"]["day"]["selected_date"] == "2030-01-31"
    [file] = values["sheet"]["sheet"]["files"]
    assert file["name"] == "sheet.csv"
    assert not stack.slack.open_views(USER)


def test_inline_errors_name_the_field_and_only_that_field_is_asked_again(stack):
    t = Typist(stack)
    (t.type("> ", "/voicelink create").type("Pattern", "").type("Job title", "Backend Engineer")
     .type("Candidates", "Ada Lovelace").type("file of names", "").type("brief", "").type("[Draft with AI] press it?", "")
     .type("Goal", "g").type("Role", "r").type("Guidelines", "gu").type("Constraints", "c")
     .type("Landing page title", "").type("Landing page info", "")
     .type("Time limit", "90")
     .type("Links expire after", "").type("Evaluator prompt", "").type("Evaluator questions", "")
     .type("Time limit (1–60 minutes) [90]", "15"))
    out = t.run()
    assert "! Time limit (1–60 minutes): Choose 1 to 60 minutes." in out
    assert "time_limit~" not in out
    assert next(iter(stack.nimrobo.projects.values()))["timeLimitMinutes"] == 15


def test_the_score_form_checks_the_file_first_and_asks_again_for_one_it_refuses(stack, tmp_path):
    letter = tmp_path / "letter.csv"
    letter.write_text("Dear hiring team, I am writing to apply for the engineering role and attach my CV.\n"
                      "I have worked on compilers, databases and teams of every size for many years.\n")
    t = Typist(stack)
    (t.type("> ", f"/pluto score {letter}")
     .type("Candidate CSV (path to a local file)", str(EXAMPLE))  # step 1 again, under the reason
     .type("Job description", "Senior engineer")
     .type("Top N to show", "3")
     .type("> ", "quit", wait=lambda: shortlisted(stack)))
    out = t.run()
    refusal = out.index("this looks like text, not a table of candidates")
    assert out.index("Checking letter.csv") < refusal < out.index("→ <Choose another file>")
    assert "Job description" not in out[:refusal] and "Checking candidates.csv" in out[refusal:]
    assert re.search(r"candidates\.csv\*?: \d+ candidates, columns", out[refusal:])
    assert stack.pluto.uploads[0]["job_description"] == "Senior engineer" and len(stack.pluto.uploads) == 1


# -- modal updates, read-only modals, buttons, files --------------------------------------------------------
def test_buttons_by_label_number_and_word_modal_updates_read_only_close_and_files(stack):
    t = Typist(stack)
    score_example(t)
    # each modal opens "loading" and is filled by views.update: read it before closing it
    (t.type("> ", "Details 2", wait=lambda: shortlisted(stack))
     .type("read-only modal", "", wait=lambda: "\n    ADA LOVELACE\n" in t.output)
     .type("> ", "Details alan")
     .type("read-only modal", "", wait=lambda: "\n    ALAN TURING\n" in t.output)
     .type("> ", "Pre-brief Ada")
     # the modal opens at "Preparing…"; the brief arrives by views.update while the prompt waits
     .type("read-only modal", "", wait=lambda: "PRE-BRIEF · ADA LOVELACE" in t.output)
     .type("> ", "Detials")
     .type("> ", "buttons")
     .type("> ", lambda out: re.search(r"(\d+)\. \[Questions\] .*Katherine Johnson", out).group(1))
     .type("> ", "files", wait=lambda: "Interview questions for Katherine Johnson" in t.output)
     .type("> ", "open candidates-ranked"))
    out = t.run()
    views = stack.slack.views(user=USER)[1:]  # after the score form
    assert [header_of(v) for v in views[:2]] == ["Ada Lovelace", "Alan Turing"]
    brief = views[2]
    assert brief["closed"] and header_of(brief) == "Pre-brief · Ada Lovelace"
    assert "modal updated (views.update)" in out and "modal closed: Pre-interview brief" in out
    assert out.count("→ <") == 2  # only the score form's two steps were submitted; read-only modals are closed
    miss = next(line for line in out.splitlines() if "no button or command 'Detials'" in line)
    nearest = miss.split("Nearest: ")[1].split(".")[0].split(", ")
    assert "Details" in nearest and len(nearest) <= 5
    # newest first: the ranking the bot attached (and sent by DM), then the file you gave
    ranked = int(re.search(r"(\d+)\. candidates-ranked\.csv .* by the bot", out).group(1))
    assert ranked < int(re.search(r"(\d+)\. candidates\.csv .* by you", out).group(1))
    table = out.split("┌ candidates-ranked.csv ┐")[1]
    assert "Alan Turing" in table and "rows × " in table


def test_a_confirmation_dialog_is_shown_and_asked(stack):
    t = Typist(stack)
    (t.type("> ", "/voicelink create").type("Pattern", "").type("Job title", "Backend Engineer")
     .type("Candidates", "Ada Lovelace\\nAlan Turing").type("file of names", "")
     .type("brief", "").type("[Draft with AI] press it?", "y")
     .type("Goal", "submit")
     .type("read-only modal", "", wait=lambda: stack.slack.dms(USER))  # the outcome, in the form
     .type("> ", "/voicelink list")
     .type("> ", "Cancel Alan")
     .type("Yes? [y/N]", "n")
     .type("> ", "Cancel Alan")
     .type("Yes? [y/N]", "y"))
    out = t.run()
    assert "┌ Cancel this link? ┐" in out and "Alan Turing won't be able to use it." in out
    assert "(not pressed)" in out
    # "…this one is cancelled" (a refusal) would say "is cancelled" too: wait for the confirmation itself
    stack.slack.wait_for(lambda: any(r["text"].startswith(":white_check_mark: The link for *Alan Turing* is cancelled")
                                     for r in stack.slack.responses(USER)))
    status = {link["label"]: link["status"] for link in stack.nimrobo.links.values()}
    assert status == {"Ada Lovelace": "active", "Alan Turing": "cancelled"}


def test_home_renders_the_app_home_tab(stack):
    out = Typist(stack).type("> ", "home").run()
    assert stack.slack.home(USER) is not None  # the console opened the tab; the bot published it
    assert "⌂ App Home" in out and "PLUTO BOT" in out and "/voicelink create" in out


# -- the tour ----------------------------------------------------------------------------------------------
def test_the_tour_walks_through_scoring_a_voice_screen_a_completed_interview_and_the_board(stack):
    t = Typist(stack)
    t.type("> ", "tour")
    # a newcomer pressing Enter at every prompt until the tour is over (the create form has a file field
    # and shows its outcome before it closes)
    for _ in range(60):
        t.type(None, lambda out: "" if "That's the tour." not in out else "quit")
    t.console.loop()
    assert t.error is None, t.error
    out = t.output
    assert "That's the tour." in out, out[-3000:]
    assert "✓ The ranked shortlist is in the thread" in out
    assert "✓ The thread got an Interview card" in out
    assert "✓ Your links came by DM" in out
    assert "✓ The completed interview was posted" in out
    assert "✓ The Screening board is in the scoring thread" in out
    assert "✓ The board changed in place" in out
    assert shortlisted(stack)
    assert any("/link/" in str(m["blocks"]) for m in stack.slack.dms(USER))
    done = [m for m in stack.slack.messages(CHANNEL)
            if (m.get("metadata") or {}).get("event_type") == "voice_session_completed"]
    assert len(done) == 2 and next(iter(stack.nimrobo.projects.values()))["name"] == "Backend Engineer"
    boards = [m for m in stack.slack.messages(CHANNEL) if (m.get("metadata") or {}).get("event_type") ==
              "screening_board"]
    assert len(boards) == 1 and "completed" in str(boards[0]["blocks"])


# -- its own database, reset, logs --------------------------------------------------------------------------
def test_the_sandbox_database_starts_anew_with_the_stand_ins_and_reset_starts_over(tmp_path):
    home = SandboxHome(tmp_path / "sandbox")
    first = home.fresh_stack(fast_options())
    assert first.settings.database_path == str(tmp_path / "sandbox" / "bot.db")
    t = Typist(first)
    t.console.restart = lambda: home.fresh_stack(fast_options())
    (t.type("> ", "/voicelink create").type("Pattern", "").type("Job title", "Backend Engineer")
     .type("Candidates", "Ada Lovelace").type("file of names", "").type("brief", "").type("[Draft with AI] press it?", "y")
     .type("Goal", "submit")
     .type("read-only modal", "", wait=lambda: first.services.store.rows("voice_links"))
     .type("> ", "reset"))
    try:
        out = t.run()
        second = t.console.stack
        assert second is not first and first.runtime is None  # the old bot was stopped
        assert "Fresh start: a new database and empty stand-ins." in out
        assert second.settings.database_path == first.settings.database_path
        assert second.services.store.rows("voice_links") == [] and second.nimrobo.all_links() == []
    finally:
        t.console.stack.stop()
    third = home.fresh_stack(fast_options())  # a restart: both start anew, and agree
    try:
        assert third.services.store.rows("voice_links") == [] and third.nimrobo.all_links() == []
    finally:
        third.stop()


def test_logs_go_to_the_file_and_only_warnings_reach_the_console_above_the_prompt(tmp_path, stack):
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    out = io.StringIO()
    console = Console(stack, input_fn=lambda prompt: "", output=out, color=False)
    try:
        handler = route_logs(tmp_path / "sandbox.log", lambda: stack)
        root.setLevel(logging.INFO)
        attach_console_logs(console, handler)
        logging.getLogger("bot.x").info("an info line")
        logging.getLogger("bot.x").warning("a warning with %s", stack.bot_token)
        warnings.warn("a library's deprecation noise", UserWarning, stacklevel=1)
        handler.flush()
    finally:
        logging.captureWarnings(False)
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
    console.flush_output()
    text = (tmp_path / "sandbox.log").read_text()
    assert "an info line" in text and "a library's deprecation noise" in text and "a warning with ***" in text
    shown = out.getvalue()
    assert shown == "  log › warning bot.x: a warning with ***\n"
    assert stack.bot_token not in text + shown


def test_a_line_printed_while_a_prompt_waits_goes_above_it(stack):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    out = Terminal()
    printed = threading.Event()

    def type_slowly(prompt):
        out.write(prompt)  # the terminal shows the prompt, as input() does
        if printed.is_set():
            raise EOFError
        threading.Thread(target=lambda: (console.print("  #sandbox › hello"), printed.set())).start()
        printed.wait(5)
        return ""

    console = Console(stack, input_fn=type_slowly, output=out)
    console.ask("> ")
    assert out.getvalue() == "> \r\x1b[2K  #sandbox › hello\n> "


def test_a_pushed_modal_is_shown_and_filled_first_then_the_one_below(stack):
    client = WebClient(token=stack.bot_token, base_url=stack.slack.url + "/api/")

    def modal(title, text):
        return {"type": "modal", "title": {"type": "plain_text", "text": title},
                "close": {"type": "plain_text", "text": "Close"},
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}

    below = client.views_open(trigger_id=stack.slack.issue_trigger_id(USER), view=modal("Below", "first"))["view"]
    above = client.views_push(trigger_id=stack.slack.issue_trigger_id(USER), view=modal("Above", "second"))["view"]
    out = Typist(stack).type("read-only modal", "").type("read-only modal", "").run()
    assert "modal pushed on top (views.push)" in out
    assert out.index("modal closed: Above") < out.index("modal closed: Below")
    assert stack.slack.view(above["id"])["closed"] and stack.slack.view(below["id"])["closed"]


def test_slack_mrkdwn_is_rendered_for_the_terminal():
    from datetime import datetime

    from sandbox.render import Renderer, slack_date

    text = ("*Done* :white_check_mark: _soon_ ~old~ `code *stays*` <https://x.test/a_b|Open it> <@U1> "
            "snake_case_name &amp; <!date^1700000000^{date_num} at {time}|Nov 14>")
    when = datetime.fromtimestamp(1700000000).astimezone()
    stamp = f"{when:%Y-%m-%d} at {when.hour % 12 or 12}:{when.minute:02d} {'AM' if when.hour < 12 else 'PM'}"
    assert Renderer("plain").mrkdwn(text) == (f"Done ✅ soon old `code *stays*` Open it (https://x.test/a_b) @U1 "
                                              f"snake_case_name & {stamp}")
    ansi = Renderer("ansi").mrkdwn(text)
    assert "\x1b[1mDone\x1b[22m" in ansi and "\x1b[3msoon\x1b[23m" in ansi and "\x1b[36mcode *stays*\x1b[39m" in ansi
    assert Renderer("raw").mrkdwn("*Done* :x:") == "*Done* ❌"  # test output keeps the markers
    now = datetime(2024, 3, 10, 12, 0).astimezone()
    today = int(datetime(2024, 3, 10, 15, 5).astimezone().timestamp())
    assert slack_date(today, "{date_short_pretty} at {time}", now=now) == "Today at 3:05 PM"
    assert slack_date(today + 3 * 86400, "expires {ago}", now=now) == "expires in 3 days"
    assert slack_date(today, "{date_long}", now=now) == "Sunday, March 10th, 2024"
