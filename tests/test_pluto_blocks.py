"""Scoring messages stay inside Slack's limits for any N, and mask personal data in channels."""

import pytest

from bot.blocks.pluto import PER_PAGE, progress_message, shortlist_message
from bot.slack_out import masked_kwargs, private_kwargs
from sandbox.slack_api import validate_blocks
from services.pluto import read_progress
from services.records import ScoringRun


def scored_run(n, top_n=None):
    results = [{"id": f"c{i}", "rank": i + 1, "name": f"Candidate {i} " + "X" * 200,
                "final_score": 100 - i % 100, "ai_score": 50, "algo_score": 60, "tier": "Good",
                "one_line_summary": "Reach me at jane.doe@example.com or +1 415 555 0199 " + "y" * 4000}
               for i in range(n)]
    return ScoringRun(id="r1", channel="C1", thread_ts="1.1", user="U1", filename="f.csv", state="complete",
                      top_n=top_n or n, results=results)


@pytest.mark.parametrize("n", [1, 10, 11, 50, 200])
def test_every_page_fits_slack_limits(n):
    run = scored_run(n)
    pages = -(-n // PER_PAGE)
    for number in range(1, pages + 1):
        message = masked_kwargs(shortlist_message(run, number))
        assert len(message["blocks"]) <= 50
        assert validate_blocks(message["blocks"]) == []
        assert message["metadata"]["event_type"] == "pluto_scoring_completed"
    last = str(shortlist_message(run, pages).kwargs())
    assert f"Candidate {n - 1} " in last


def test_masking_for_public_conversations_keeps_every_text_inside_slack_limits():
    run = scored_run(1)
    public = str(masked_kwargs(shortlist_message(run)))
    assert "jane.doe@example.com" not in public and "555 0199" not in public and "j•••@example.com" in public
    private = private_kwargs(shortlist_message(run))
    assert "jane.doe@example.com" in str(private) and "metadata" not in private
    short = scored_run(1)
    short.filename = "a@b.co " * 20  # masking lengthens short addresses; the header stays ≤ 150
    assert validate_blocks(masked_kwargs(shortlist_message(short))["blocks"]) == []


def test_progress_message_shows_phase_bar_counts_and_preview():
    snap = read_progress({"status": "scoring", "progress": 70, "candidates_total": 50, "candidates_scored": 30,
                          "scored_candidates": [{"name": "Ada", "final_score": 91}]})
    text = str(progress_message("f.csv", snap).kwargs())
    assert "AI scoring" in text and "70%" in text and "scoring 30 of 50" in text and "1. Ada (91)" in text
