"""Every common transcript shape reads as speech; an unknown one as formatted JSON, never as empty lines."""

import json

import pytest

from services.transcripts import summary_parts, summary_text, transcript_text


def test_role_and_text():
    assert transcript_text([{"role": "agent", "text": "Hi"}, {"role": "user", "text": "Hello"}]) == \
        "Interviewer: Hi\nCandidate: Hello"


def test_the_chat_shape_with_content():
    turns = [{"role": "assistant", "content": "Tell me about yourself."},
             {"role": "user", "content": "I build data products."}]
    assert transcript_text(turns) == "Interviewer: Tell me about yourself.\nCandidate: I build data products."


def test_content_as_a_list_of_parts():
    turns = [{"role": "user", "content": [{"type": "text", "text": "First part."}, {"type": "text", "text": "Second."}]}]
    assert transcript_text(turns) == "Candidate: First part. Second."


def test_speaker_and_message_inside_a_container():
    data = {"messages": [{"speaker": "Interviewer", "message": "Q"}, {"speaker": "Ada", "message": "A"}]}
    assert transcript_text(data) == "Interviewer: Q\nAda: A"
    assert transcript_text({"conversation": {"turns": [{"role": "bot", "text": "Hi"}]}}) == "Interviewer: Hi"


def test_timestamps_where_present():
    turns = [{"role": "agent", "text": "Hi", "timestamp": 0}, {"role": "user", "text": "Hello", "start": 75.4},
             {"role": "agent", "text": "Bye", "time": "2025-03-01T10:15:30Z"},
             {"role": "user", "text": "Later", "timestamp": 4000}]
    assert transcript_text(turns).splitlines() == ["[00:00] Interviewer: Hi", "[01:15] Candidate: Hello",
                                                   "[10:15:30] Interviewer: Bye", "[1:06:40] Candidate: Later"]


def test_plain_text_and_empty():
    assert transcript_text("  plain text  ") == "plain text"
    assert transcript_text(None) == "" and transcript_text([]) == "" and transcript_text({}) == ""


def test_an_unknown_shape_is_formatted_json_not_empty_lines():
    data = {"dialogue": [{"who": "A", "said": "hello there"}]}
    text = transcript_text(data)
    assert json.loads(text) == data and "\n  " in text  # indented
    turns = [{"who": "A", "said": "hello"}, {"who": "B", "said": "hi"}]
    text = transcript_text(turns)
    assert "hello" in text and "hi" in text and "" not in text.splitlines()


def test_unknown_turns_among_known_ones_are_kept_as_json():
    turns = [{"role": "moderator", "text": "x"}, None, 3, {"role": "user"}, {"note": "muted"}]
    assert transcript_text(turns) == 'Moderator: x\n3\n{"note": "muted"}'


def test_an_excerpt_is_the_first_lines_of_the_same_reading():
    turns = [{"role": "agent", "content": f"line {i}"} for i in range(10)]
    full = transcript_text(turns)
    excerpt = transcript_text(turns, max_lines=3)
    assert excerpt.splitlines()[:3] == full.splitlines()[:3] and excerpt.endswith("…")


# -- the summary: one reading for the status answer, the completed-interview post and the board ----------------
SUMMARY_SHAPES = [
    ({"overview": "Strong candidate", "keyPoints": ["Python"]}, "Strong candidate", ("Python",)),
    ({"summary": "Strong candidate", "key_points": ["Python"]}, "Strong candidate", ("Python",)),
    ({"text": "Strong candidate", "key_points": "Python"}, "Strong candidate", ("Python",)),
    ({"summary": {"overview": "Strong candidate", "keyPoints": ["Python"]}}, "Strong candidate", ("Python",)),
    ("Strong candidate", "Strong candidate", ()),
    (None, "", ()),
]


@pytest.mark.parametrize(("summary", "overview", "points"), SUMMARY_SHAPES)
def test_every_summary_shape_gives_its_overview_and_points(summary, overview, points):
    parts = summary_parts(summary)
    assert (parts.overview, parts.points) == (overview, points)


def test_the_status_answer_and_the_post_read_the_summary_alike():
    from bot.blocks.voice import summary_message
    from services.nimrobo import Summary
    from services.records import SessionRef

    shown = summary_message(Summary(session_id="s1", generating=False, summary={
        "summary": "Strong candidate", "key_points": ["Python"]}), SessionRef("project", "p1", "s1"))
    assert shown.text == "Summary: Strong candidate" and "• Python" in str(shown.blocks[0].text.text)
    assert summary_text({"summary": "Strong candidate", "key_points": ["Python"]}) == "Strong candidate\n• Python"


def test_the_recommendation_is_read_from_the_summary_in_either_shape():
    from services.screening.service import recommendation_of

    assert recommendation_of({"summary": "Good", "recommendation": "Advance: strong"}, []) == "advance"
    assert recommendation_of({"summary": {"overview": "Good", "recommendation": "reject"}}, []) == "reject"
    assert summary_parts("plain text").recommendation == ""
