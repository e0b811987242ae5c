"""Live-interview endpoints: the Pluto client against the simulator over real HTTP, in both answer shapes.

``drift=False`` answers as the reference (pluto-api.md) shows; ``drift=True`` as the real server
does (wrapped pre-briefs, a candidate instead of a realtime session, naive timestamps, OpenAI's
nested client secret, flat analytics, refused intake tokens, ``url`` for LiveKit).
"""

import logging
import time

import httpx
import pytest

from sandbox.pluto_sim import PlutoSimulator
from services.http import RetryPolicy
from services.pluto import (
    Candidate,
    ChatTurn,
    IntakeValidation,
    InterviewAnalytics,
    LiveKitToken,
    PlutoClient,
    PlutoError,
    PreBrief,
    RealtimeSession,
    Room,
    RoomGoneError,
    parse_time,
)

CSV = (
    "name,email,current_title,years_experience,skills,resume\n"
    "Ada Lovelace,ada@example.com,Engineer,9,python|math,Wrote the first program\n"
    "Alan Turing,,Researcher,,crypto|math,Broke codes\n"
)
TRANSCRIPT = ("Interviewer: Tell me about a hard project.\n"
              "Candidate: I led a billing migration with zero downtime, running both systems in parallel.\n"
              "Interviewer: What would you change?\n"
              "Candidate: I would have load-tested the reconciliation job earlier.\n")


@pytest.fixture(params=[False, True], ids=["reference", "drift"])
def pluto(request, tmp_path):
    path = tmp_path / "candidates.csv"
    path.write_text(CSV)
    with PlutoSimulator(extract_seconds=0.05, score_seconds=0.05, drift=request.param) as sim:
        client = PlutoClient(sim.url + "/api", retry=RetryPolicy(base_delay=0.01, max_total=5))
        client.upload(path, job_description="Staff engineer. Python and payments.")
        deadline = time.monotonic() + 5
        while client.progress().status != "complete":
            assert time.monotonic() < deadline, "scoring never finished"
            time.sleep(0.02)
        by_name = {c.name: c for c in client.results()}
        yield sim, client, by_name["Ada Lovelace"], by_name["Alan Turing"]
        client.close()


def secrets_of(*values):
    return [v.reveal() for v in values if v]


def test_create_join_and_expire_rooms(pluto):
    sim, client, ada, _ = pluto
    room = client.create_room("Rita Recruiter", "Ada Lovelace")
    assert isinstance(room, Room) and room.room_name.startswith("interview-")
    assert room.room_url.reveal() == f"https://sim.daily.invalid/{room.room_name}"
    assert room.interviewer_token.reveal() == sim.rooms[room.room_name]["interviewer_token"]
    assert abs(room.expires_at - (sim.wall() + 2 * 3600)) < 60  # naive ISO (drift) is read as UTC
    assert client.room_info(room.room_name).expires_at == room.expires_at

    joined = client.join_room(room.room_name, "Ada Lovelace", "candidate")
    assert joined.token and joined.token.reveal() != room.interviewer_token.reveal()
    assert joined.room_url.reveal() == room.room_url.reveal()
    assert joined.join_url.reveal() == f"{room.room_url.reveal()}?t={joined.token.reveal()}"
    assert sim.rooms[room.room_name]["participants"][-1] == {"name": "Ada Lovelace", "type": "candidate",
                                                              "token": joined.token.reveal()}
    colleague = client.join_room(room.room_name, "Bob", "interviewer")
    assert sim.rooms[room.room_name]["participants"][-1]["type"] == "interviewer" and colleague.token

    with pytest.raises(ValueError):
        client.join_room(room.room_name, "Eve", "observer")
    assert sim.calls["POST /api/rooms/{room}/join"] == 2  # refused before sending
    with pytest.raises(RoomGoneError) as err:
        client.join_room("interview-nope", "Ada", "candidate")
    assert err.value.status == 404 and not err.value.expired and "start a new one" in err.value.user_message

    sim.advance_clock(2 * 3600 + 1)
    with pytest.raises(RoomGoneError) as err:
        client.join_room(room.room_name, "Ada", "candidate")
    assert err.value.expired and err.value.message == "Room has expired"


def test_clock_and_shape_are_controlled_over_http(pluto):
    sim, client, _, _ = pluto
    room = client.create_room("Rita")
    for body in ({"action": "configure", "flags": {"drift": not sim.drift}},
                 {"action": "advance_clock", "seconds": 2 * 3600 + 1}):
        assert httpx.post(sim.url + "/api/_control/pluto", json=body).json() == {"ok": True}
    with pytest.raises(RoomGoneError) as err:
        client.join_room(room.room_name, "Ada", "candidate")
    assert err.value.expired
    assert client.create_room("Rita").expires_at  # read in the other shape too


def test_create_room_needs_an_interviewer(pluto):
    _, client, _, _ = pluto
    with pytest.raises(PlutoError) as err:
        client.create_room("")
    assert err.value.status == 422 and "interviewer_name: field required" in err.value.message


def test_start_interview_with_the_candidate(pluto):
    sim, client, ada, _ = pluto
    room = client.start_interview(ada.id, "Rita Recruiter", use_prebrief=True)
    stored = sim.rooms[room.room_name]
    assert stored["candidate_id"] == ada.id and stored["use_prebrief"] is True
    assert room.interviewer_token.reveal() == stored["interviewer_token"]
    assert client.candidate(ada.id).interview_status == "briefing"
    if sim.drift:  # the real server: the candidate comes back, no realtime session, no expiry
        assert room.realtime is None and room.candidate.name == "Ada Lovelace" and room.expires_at is None
    else:
        assert room.realtime.session_id in sim.realtime_sessions
        assert room.realtime.client_secret.reveal() == sim.realtime_sessions[room.realtime.session_id][
            "client_secret"]
    # where the answer has no expiry, the room itself has one (an hour for candidate rooms)
    assert abs(client.room_info(room.room_name).expires_at - (sim.wall() + 3600)) < 60
    with pytest.raises(PlutoError) as err:
        client.start_interview("missing", "Rita")
    assert err.value.status == 404 and err.value.message == "Candidate not found"


def test_prebriefs_cached_and_generated(pluto):
    sim, client, ada, _ = pluto
    first = client.prebrief(ada.id)
    again = client.prebrief(ada.id)
    assert first.candidate_name == "Ada Lovelace" and first.overall_fit_score == ada.final_score
    if sim.drift:
        assert (first.cached, again.cached) == (False, True)
    assert set(first.score_breakdown) == {"technical_skills", "experience_relevance", "leadership_potential",
                                          "communication_signals", "culture_fit_signals", "growth_trajectory"}
    assert all(isinstance(v, int) for v in first.score_breakdown.values())
    assert first.strength_lines == ["Clear communicator", "Ships reliably"]
    assert first.concern_lines and first.topics_to_avoid_lines == ["Age", "Family plans"]
    assert first.questions[0].follow_up == "What would you do differently?"
    assert "Strengths: Clear communicator; Ships reliably" in first.as_context()

    generated = client.generate_prebrief("interview-x", "Staff engineer. Payments.",
                                         "Name: Grace Hopper\nCurrent Role: Admiral\nSkills: cobol, compilers")
    assert generated.candidate_name == "Grace Hopper" and generated.current_role == "Admiral"
    assert "Staff engineer" in generated.fit_summary
    assert sim.prebrief_requests[-1]["room"] == "interview-x"
    assert sim.prebrief_requests[-1]["job_description"] == "Staff engineer. Payments."


def test_prebrief_without_a_job_description_is_refused(pluto):
    sim, client, _, _ = pluto
    sim.configure(brief_requires_jd=True)
    sim.job_description = ""
    alan = next(c for c in client.results() if c.name == "Alan Turing")
    with pytest.raises(PlutoError) as err:
        client.prebrief(alan.id)
    assert err.value.status == 400 and err.value.message.startswith("No job description available")


def test_chat_sends_history_and_context(pluto):
    sim, client, _, _ = pluto
    room = client.create_room("Rita")
    history = [ChatTurn("user", "What should I ask first?"), ChatTurn("assistant", "Ask about payments.")]
    reply = client.chat(room.room_name, "And then?", context="Candidate: Ada", history=history)
    assert reply.text.startswith("[history=2 context=yes]")
    sent = sim.chat_requests[-1]
    assert sent["history"] == [{"role": "user", "content": "What should I ask first?"},
                               {"role": "assistant", "content": "Ask about payments."}]
    assert sent["context"] == "Candidate: Ada" and sent["room"] == room.room_name
    assert client.chat(room.room_name, "Hello").text.startswith("[history=0 context=no]")
    # nothing is created by a chat turn, so a server error is retried
    sim.faults.script("POST /api/rooms/{room}/chat", "error_500")
    assert client.chat(room.room_name, "Again?").text.startswith("[history=0")
    assert sim.calls["POST /api/rooms/{room}/chat"] == 4


def test_realtime_session_secret_and_expiry(pluto):
    sim, client, _, _ = pluto
    session = client.realtime_session("Ada Lovelace", "Staff engineer", "Resume", "JD")
    assert isinstance(session, RealtimeSession) and session.session_id in sim.realtime_sessions
    assert session.client_secret.reveal() == sim.realtime_sessions[session.session_id]["client_secret"]
    assert abs(session.expires_at - (sim.wall() + 60)) < 5 and session.model and "audio" in session.modalities
    assert session.client_secret.reveal() not in repr(session) and "client_secret" not in str(session.raw)
    assert sim.realtime_sessions[session.session_id]["request"]["role"] == "Staff engineer"


def test_analytics_read_in_either_shape_and_saved_to_the_candidate(pluto):
    sim, client, ada, _ = pluto
    analytics = client.analytics("interview-a", TRANSCRIPT, "Staff engineer", "Name: Ada")
    assert isinstance(analytics, InterviewAnalytics)
    assert 0 <= analytics.overall_score <= 100
    assert analytics.competencies and all(0 <= c.score <= 100 for c in analytics.competencies)
    assert any("billing migration" in h for h in analytics.highlights)
    assert analytics.concerns == ["Vague on team size"]
    assert analytics.recommendation in ("Strong Hire", "Hire", "Leaning Hire", "Maybe", "Leaning No Hire", "No Hire")
    assert any("system design" in q for q in analytics.next_round_questions)
    sent = sim.analytics_requests[-1]
    assert (sent["room"], sent["job_description"], sent["resume"]) == ("interview-a", "Staff engineer", "Name: Ada")

    saved = client.save_analytics(ada.id, "int-1", analytics, transcript=TRANSCRIPT)
    assert saved.interview_id == "int-1" and saved.status == "saved"
    body = sim.saved_analytics[ada.id][-1]
    assert body["analytics"] == analytics.raw and body["transcript"] == TRANSCRIPT
    after = client.candidate(ada.id)
    assert after.interviewed and after.interview_score == analytics.overall_score
    assert after.interview_status == ("completed" if sim.drift else "interviewed")

    with pytest.raises(PlutoError) as err:
        client.analytics("interview-a", "   ")
    assert err.value.status == 422 and "transcript: field required" in err.value.message
    with pytest.raises(PlutoError) as err:
        client.save_analytics("missing", "int-2", analytics, transcript=TRANSCRIPT)
    assert err.value.status == 404


def test_intake_validation_and_voice_intake(pluto):
    sim, client, ada, alan = pluto
    link = client.intake_link(alan.id)
    checked = client.validate_intake(alan.id, link.token)
    assert checked == IntakeValidation(True, "Alan Turing", ["phone", "email", "years_experience"], "")
    tampered = link.token.reveal()[:-1] + ("1" if link.token.reveal()[-1] == "0" else "0")
    refused = client.validate_intake(alan.id, tampered)
    assert refused.valid is False and refused.gaps == []
    assert refused.reason == ("Invalid or expired token" if sim.drift else "")
    sim.advance_clock(73 * 3600)
    assert client.validate_intake(alan.id, link.token).valid is False  # expired

    voice = client.livekit_token(alan.id)
    assert isinstance(voice, LiveKitToken) and voice.token.reveal() == sim.livekit_rooms[voice.room_name]["token"]
    assert voice.livekit_url == "wss://sim.livekit.invalid"
    assert voice.questions == ["What is your phone?", "What is your email?", "What is your years experience?"]
    assert client.livekit_token(ada.id).questions == ["What is your phone?"]
    with pytest.raises(PlutoError) as err:
        client.livekit_token("missing")
    assert err.value.status == 404


@pytest.mark.parametrize("fault", ["drop_response", "error_500"])
def test_creates_are_never_retried(pluto, fault):
    sim, client, ada, _ = pluto
    room = client.create_room("Rita")
    analytics = client.analytics(room.room_name, TRANSCRIPT)
    creates = [
        ("POST /api/rooms", lambda: client.create_room("Rita")),
        ("POST /api/rooms/{room}/join", lambda: client.join_room(room.room_name, "Ada", "candidate")),
        ("POST /api/pluto/candidates/{cid}/interview", lambda: client.start_interview(ada.id, "Rita")),
        ("POST /api/realtime/session", lambda: client.realtime_session("Ada", "Engineer")),
        ("POST /api/pluto/candidates/{cid}/analytics",
         lambda: client.save_analytics(ada.id, "int-9", analytics, transcript=TRANSCRIPT)),
        ("POST /api/livekit/token", lambda: client.livekit_token(ada.id)),
    ]
    for route, call in creates:
        before = sim.calls[route]
        sim.faults.script(route, fault)
        with pytest.raises(PlutoError) as err:
            call()
        assert err.value.outcome_unknown, route
        assert sim.calls[route] == before + 1, route


def test_secrets_stay_out_of_reprs_raw_and_our_logs(pluto, caplog):
    sim, client, ada, alan = pluto
    caplog.set_level(logging.DEBUG, logger="services")
    room = client.start_interview(ada.id, "Rita")
    joined = client.join_room(room.room_name, "Ada", "candidate")
    session = client.realtime_session("Ada", "Engineer")
    link = client.intake_link(alan.id)
    voice = client.livekit_token(alan.id)
    secrets = secrets_of(room.room_url, room.interviewer_token, joined.token, joined.join_url,
                         session.client_secret, link.url, link.token, voice.token)
    if room.realtime:
        secrets += secrets_of(room.realtime.client_secret)
    assert len(secrets) >= 8
    shown = " ".join(repr(x) + str(x) + str(getattr(x, "raw", "")) for x in (room, joined, session, link, voice))
    shown += " ".join(f"{s}" for s in (room.room_url, joined.token, session.client_secret))
    shown += caplog.text
    for secret in secrets:
        assert secret not in shown


def test_every_shape_is_read_and_unknown_fields_are_ignored():
    garbage = [None, "", "text", 7, [], [1, None, {"x": 1}], {"weird": {"nested": [1, 2]}}]
    for record in (Room, RealtimeSession, InterviewAnalytics, PreBrief):
        for value in garbage:
            record.from_api(value)  # never a crash
    brief = PreBrief.from_api({"prebrief": {"candidate_name": "Ada", "score_breakdown": {"technical_skills": {
        "score": 81, "reasoning": "x"}, "growth_trajectory": "70"}, "suggested_questions": ["Why us?"],
        "strengths": "Ships|Writes", "future_field": 1}, "cached": True})
    assert brief.cached is True and brief.score_breakdown == {"technical_skills": 81, "growth_trajectory": 70}
    assert brief.questions[0].question == "Why us?" and brief.strength_lines == ["Ships", "Writes"]
    room = Room.from_api({"name": "interview-1", "url": "https://x/interview-1", "token": "t0k3n-abc",
                          "expires_at": 1734048000000, "new": "field"})
    assert room.room_name == "interview-1" and room.interviewer_token.reveal() == "t0k3n-abc"
    assert room.expires_at == 1734048000.0 and "t0k3n" not in repr(room) + str(room.raw)
    flat = InterviewAnalytics.from_api({"analytics": {"overall_score": "72", "competency_scores": {"SQL": 80},
                                                      "recommendation": "strong_hire", "improvements": ["Tests"],
                                                      "follow_up_questions": [{"question": "Why Rust?"}]}})
    assert (flat.overall_score, flat.recommendation, flat.concerns) == (72.0, "Strong Hire", ["Tests"])
    assert flat.competencies[0].name == "SQL" and flat.next_round_questions == ["Why Rust?"]
    assert Candidate.from_api({"id": "1", "interview_status": "completed", "interview_score": "81"}).interviewed
    for value in ("2024-12-13T00:00:00", "2024-12-13T00:00:00Z", "2024-12-13T01:00:00+01:00", 1734048000,
                  "1734048000"):
        assert parse_time(value) == 1734048000.0
    assert parse_time("soon") is None and parse_time(True) is None
