"""The first hour, round two (issue 23): the small rules behind what a newcomer saw, one by one."""

from dataclasses import replace

import pytest

from bot.blocks.board import board_message, screen_top_block
from sandbox.nimrobo_sim import NimroboSimulator
from services.privacy import mask_text
from services.screening import role_from
from tests.test_board_blocks import row, view_of


# -- 13. the role from the job description -------------------------------------------------------------
@pytest.mark.parametrize("jd, role", [
    ("Senior backend engineer: Python, distributed systems, mentoring, and on-call for payments.",
     "Senior backend engineer"),
    ("Staff data engineer: Python, statistics, mentoring", "Staff data engineer"),
    ("Platform engineer - Kubernetes, Terraform\nWe run 40 clusters.", "Platform engineer"),
    ("Site reliability engineer\nYou keep our payments up.", "Site reliability engineer"),
])
def test_the_role_is_the_first_line_up_to_a_colon_or_dash(jd, role):
    assert role_from(jd, "candidates.csv") == (role, "job description")


def test_the_file_name_is_the_role_only_without_a_description():
    assert role_from("", "backend_engineers.csv") == ("Backend engineers", "file name")


# -- 14. the shortlist's Voice-screen ----------------------------------------------------------------
def test_voice_screen_defaults_to_the_shortlists_n_and_offers_only_what_exists():
    block = screen_top_block("run1", default=3, total=6).to_dict()
    button, select = block["elements"]
    assert button["text"]["text"] == "Voice-screen top 3" and button["value"] == "run1|3"
    assert [o["text"]["text"] for o in select["options"]] == ["Top 5", "All 6"]
    only = screen_top_block("run1", default=10, total=2).to_dict()  # a shortlist of 10 from 2 candidates
    assert [e["text"]["text"] for e in only["elements"]] == ["Voice-screen top 2"]  # nothing else exists


# -- 15. masking by shape --------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["Room interview-20261206-095553 is ready", "room interview-1733480153",
                                  "run_1234567", "order 1234567"])
def test_names_and_short_numbers_are_not_masked_as_phones(text):
    assert mask_text(text) == text


@pytest.mark.parametrize("text, masked", [("call +1 415 555 0199", "call •••99"), ("(415) 555-0199", "•••99"),
                                          ("phone 4155550199", "phone •••99"), ("at 555-0199.", "at •••99.")])
def test_phones_are_still_masked(text, masked):
    assert mask_text(text) == masked


# -- 16. the combined ranking -----------------------------------------------------------------------
def test_interviewed_candidates_rank_first_and_the_not_interviewed_yet_have_their_own_group():
    base = row(0)
    interviewed = replace(base, candidate_id="i", name="Interviewed", pluto_score=80.0, evaluation_score=80.0,
                          combined=80.0, pluto_only=False, rank=3)
    top = replace(row(1, evaluation=False), candidate_id="t", name="Top of Pluto", pluto_score=91.0, combined=91.0,
                  rank=1)
    next_ = replace(row(2, evaluation=False), candidate_id="n", name="Next", pluto_score=82.0, combined=82.0, rank=2)
    view = view_of([top, next_, interviewed], "combined")
    assert [r.name for r in view.rows] == ["Interviewed", "Top of Pluto", "Next"]
    text = str(board_message(view).blocks)
    assert text.index("Interviewed") < text.index("*Not interviewed yet*") < text.index("Top of Pluto")
    assert "not interviewed yet (†) follow in their own group" in text
    assert [r.name for r in view_of([top, next_, interviewed], "pluto").rows] == ["Top of Pluto", "Next",
                                                                                 "Interviewed"]


def test_the_sandbox_simulator_varies_its_answers_by_participant():
    sim = NimroboSimulator(varied_answers=True)
    answers = {label: [sim._number_answer(label, i) for i in range(3)]
               for label in ("Ada Lovelace", "Alan Turing", "Katherine Johnson")}
    assert len({tuple(a) for a in answers.values()}) == 3
    assert all(3 <= v <= 9 for a in answers.values() for v in a)
    assert NimroboSimulator()._number_answer("Ada Lovelace", 0) == 7  # tests elsewhere keep their 7s


def test_the_sandbox_runs_the_simulator_with_varied_answers():
    from types import SimpleNamespace

    from sandbox.stack import sandbox_options

    options = sandbox_options(SimpleNamespace(progress_update_seconds=1.0, poll_interval_seconds=5.0))
    assert options.nimrobo["varied_answers"] is True


# -- 22. fallback text ---------------------------------------------------------------------------------
def test_the_test_bed_refuses_blocks_without_fallback_text():
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError
    from slack_sdk.webhook import WebhookClient

    from sandbox.slack_api import SlackStandIn

    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Hello*"}}]
    with SlackStandIn() as slack:
        client = WebClient(token=slack.bot_token, base_url=slack.url + "/api/")
        ts = client.chat_postMessage(channel="C1", text="Hello", blocks=blocks)["ts"]
        for call in (lambda: client.chat_postMessage(channel="C1", text=" ", blocks=blocks),
                     lambda: client.chat_update(channel="C1", ts=ts, text="", blocks=blocks),
                     lambda: client.chat_postEphemeral(channel="C1", user="U1", text="", blocks=blocks)):
            with pytest.warns(UserWarning, match="top-level `text` argument is missing"), \
                    pytest.raises(SlackApiError) as refused:
                call()
            assert refused.value.response["error"] == "no_text"
        webhook = WebhookClient(slack.new_response_url("U1", "C1"))  # a response_url post, as `respond` sends it
        assert (webhook.send(text=" ", blocks=blocks).status_code, webhook.send(blocks=blocks).body) == (400, "no_text")
        answer = webhook.send(text="Hello", blocks=blocks)
        assert (answer.status_code, answer.body) == (200, "ok")


def test_a_message_without_text_falls_back_to_the_words_of_its_blocks():
    from bot.blocks import Message, context, header, section

    kwargs = Message(text="", blocks=[header("Interview completed"), section("*Ada* finished"),
                                      context("session `s1`")]).kwargs()
    assert kwargs["text"] == "Interview completed Ada finished session `s1`"
    assert Message(text="Shortlist ready", blocks=[section("x")]).kwargs()["text"] == "Shortlist ready"
