"""The README opens with what the bot is, the two commands with the expected test time, and a sandbox
transcript; operator and internals material comes later, under its own headings (issue 23)."""

import re
from pathlib import Path

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
LINES = README.splitlines()
HEADINGS = [line[3:].strip() for line in LINES if line.startswith("## ")]


def line_of(text):
    return next(i for i, line in enumerate(LINES, 1) if text in line)


def test_the_two_commands_come_first_with_the_expected_test_time():
    assert line_of("python3 dev.py run") < 20 and line_of("python3 dev.py test") < 20
    assert re.search(r"python3 dev\.py test .*about \d+ minutes on 2 cores", README)
    assert HEADINGS[0].startswith("Try it")


def test_a_sandbox_transcript_follows_the_commands():
    start = line_of("> /pluto score examples/candidates.csv")
    assert start < 40 and line_of("SHORTLIST · CANDIDATES.CSV") < 60


def test_the_transcript_opens_with_the_consoles_real_banner():
    from sandbox.console import NEWCOMER_HINT, banner

    fence = next(i for i, line in enumerate(LINES, 1) if i > line_of("This is what a session looks like") and line == "```")
    opening = "\n".join(LINES[fence:])  # the transcript's code block
    first = banner("http").splitlines()
    assert opening.splitlines()[:2] == first  # what `python3 dev.py run` prints first, so it cannot drift
    assert NEWCOMER_HINT in opening.split("> /pluto score")[0]


def test_operator_and_internals_material_come_after_the_newcomer_material():
    newcomer = max(HEADINGS.index(h) for h in ("What it does", "In Slack", "The commands"))
    for later in ("Creating the Slack app", "Settings", "Several replicas", "The Socket Mode client", "Layout",
                  "Benchmarks"):
        assert HEADINGS.index(later) > newcomer, later
    internals = line_of("Three fixes sit on the built-in client's own hooks")
    assert internals > line_of("## The Socket Mode client") > line_of("## Settings")
