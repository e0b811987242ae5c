"""Scoring messages stay inside Slack's limits for any N, and mask personal data in channels."""

import pytest

from bot.blocks import paginate
from bot.blocks.pluto import PER_PAGE, progress_message, shortlist_message
from sandbox.slack_api import validate_blocks
from services.pluto import Candidate, read_progress


def candidates(n):
    return [Candidate.from_api({"id": f"c{i}", "rank": i + 1, "name": f"Candidate {i} " + "X" * 200,
                                "final_score": 100 - i % 100, "ai_score": 50, "algo_score": 60, "tier": "Good",
                                "one_line_summary": "Reach me at jane.doe@example.com or +1 415 555 0199 " + "y" * 4000})
            for i in range(n)]


@pytest.mark.parametrize("n", [1, 10, 11, 50, 200])
def test_every_page_fits_slack_limits(n):
    pool = candidates(n)
    run = {"id": "r1", "filename": "f.csv", "top_n": n}
    pages = paginate(pool, 1, PER_PAGE).pages
    for number in range(1, pages + 1):
        message = shortlist_message(run, pool, paginate(pool, number, PER_PAGE)).kwargs()
        assert len(message["blocks"]) <= 50
        assert validate_blocks(message["blocks"]) == []
        assert message["metadata"]["event_type"] == "pluto_scoring_completed"


def test_public_channels_get_masked_contact_details():
    pool = candidates(1)
    run = {"id": "r1", "filename": "f.csv", "top_n": 1}
    public = str(shortlist_message(run, pool, paginate(pool, 1, 10), public=True).kwargs())
    assert "jane.doe@example.com" not in public and "555 0199" not in public and "j•••@example.com" in public
    private = str(shortlist_message(run, pool, paginate(pool, 1, 10), public=False).kwargs())
    assert "jane.doe@example.com" in private


def test_progress_message_shows_phase_bar_counts_and_preview():
    snap = read_progress({"status": "scoring", "progress": 70, "candidates_total": 50, "candidates_scored": 30,
                          "scored_candidates": [{"name": "Ada", "final_score": 91}]})
    text = str(progress_message("f.csv", snap).kwargs())
    assert "AI scoring" in text and "70%" in text and "scoring 30 of 50" in text and "1. Ada (91)" in text
