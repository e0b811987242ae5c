"""InterviewService (no Slack) against the Pluto and Nimrobo simulators over HTTP, in both Pluto shapes."""

import json
import logging
import time
from types import SimpleNamespace

import pytest

from bot.context import Services
from config import Settings
from sandbox.nimrobo_sim import ALL_SCOPES, NimroboSimulator
from sandbox.pluto_sim import PlutoSimulator
from services.access import AccessService
from services.errors import NotAllowed, NotFoundHere
from services.http import RetryPolicy
from services.interviews import (
    IntakeLinkError,
    InterviewService,
    NoCandidateError,
    RoomExpiredError,
    TranscriptError,
    transcript_text,
)
from services.nimrobo import NimroboClient
from services.pluto import ChatTurn, PlutoClient, PlutoError
from services.scoring import ScoringService
from services.store import Store
from services.voice.links import VoiceLinkService

KEY = "api_interviews_key"
PROMPT = "## Goal\nScreen\n\n## Role\nInterviewer\n\n## Guidelines\nBe kind\n\n## Constraints\n10 minutes"
JD = "Staff engineer, payments.\nPython, distributed systems, on-call."
CSV = (
    "name,email,current_title,years_experience,skills,resume\n"
    "Ada Lovelace,ada@example.com,Engineer,9,python|math,Wrote the first program\n"
    "Alan Turing,,Researcher,,crypto|math,Broke codes\n"
)
TRANSCRIPT = ("Interviewer: Tell me about a hard project.\n"
              "Candidate: I led a billing migration with zero downtime, running both systems in parallel.\n"
              "Interviewer: What would you change?\n"
              "Candidate: I would have load-tested the reconciliation job earlier.\n")
RITA, BOB, MALLORY, CHANNEL = "U_RITA", "U_BOB", "U_MALLORY", "C_HIRING"
SAVE = "POST /api/pluto/candidates/{cid}/analytics"


@pytest.fixture(params=[False, True], ids=["reference", "drift"])
def env(request, tmp_path):
    csv = tmp_path / "candidates.csv"
    csv.write_text(CSV)
    with PlutoSimulator(extract_seconds=0.05, score_seconds=0.05, drift=request.param) as sim, \
            NimroboSimulator(keys={KEY: ALL_SCOPES}, evaluation_delay=0, summary_delay=0) as nim:
        pluto = PlutoClient(sim.url + "/api", retry=RetryPolicy(base_delay=0.01, max_total=3))
        nimrobo = NimroboClient(nim.url + "/api", KEY, retry=RetryPolicy(base_delay=0.01, max_total=3))
        pluto.upload(csv, job_description=JD)
        deadline = time.monotonic() + 5
        while pluto.progress().status != "complete":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        results = pluto.results()
        store = Store(tmp_path / "bot.db")
        store.insert("scoring_runs", {"id": "run1", "channel": CHANNEL, "thread_ts": "100.1", "user": RITA,
                                      "filename": "candidates.csv", "job_description": JD, "state": "complete",
                                      "results_json": [c.raw for c in results], "created_at": 0.0})
        scoring = ScoringService(store, Settings(), lambda _: pluto)
        service = InterviewService(store, pluto, scoring, lambda: nimrobo, clock=sim.wall)
        by_name = {c.name: c for c in results}
        yield SimpleNamespace(sim=sim, nim=nim, pluto=pluto, nimrobo=nimrobo, store=store, svc=service,
                              ada=by_name["Ada Lovelace"], alan=by_name["Alan Turing"], tmp=tmp_path)
        store.close()
        pluto.close()
        nimrobo.close()


def start(env, candidate=None):
    return env.svc.start("run1", (candidate or env.ada).id, interviewer=RITA, interviewer_name="Rita Recruiter",
                         channel=CHANNEL, thread_ts="100.1")


def stored_text(env):
    """Every row of every table, and the database files' bytes, as one string."""
    tables = [r["name"] for r in env.store.execute("select name from sqlite_master where type = 'table'")]
    rows = " ".join(str(env.store.execute(f"select * from [{t}]")) for t in tables)
    files = b"".join(p.read_bytes() for p in env.tmp.glob("bot.db*"))
    return rows + files.decode("latin-1")


def test_the_whole_flow_and_no_secret_is_stored_or_logged(env, caplog):
    caplog.set_level(logging.DEBUG, logger="services")
    sim, svc, ada = env.sim, env.svc, env.ada
    started = start(env)
    room = started.room
    assert (room.kind, room.candidate_id, room.candidate_name, room.interviewer) == (
        "candidate", ada.id, "Ada Lovelace", RITA)
    assert room.status(sim.wall()) == "live" and not room.expiry_estimated
    assert abs(room.expires_at - (sim.wall() + 3600)) < 60
    assert started.access.token.reveal() == sim.rooms[room.room_name]["interviewer_token"]
    assert started.access.room_url.reveal() == sim.rooms[room.room_name]["room_url"]
    assert (started.realtime is None) == sim.drift
    assert svc.set_card(room.id, CHANNEL, "200.1").card_ts == "200.1"
    assert svc.for_thread(CHANNEL, "200.1").id == room.id

    invite = svc.invite_candidate(room.id, user=RITA)
    assert sim.rooms[room.room_name]["participants"][-1] == {
        "name": "Ada Lovelace", "type": "candidate", "token": invite.access.token.reveal()}
    assert invite.access.join_url.reveal().endswith("?t=" + invite.access.token.reveal())
    colleague = svc.add_interviewer(room.id, user=RITA, colleague=BOB, colleague_name="Bob",
                                    members={RITA, BOB})
    assert colleague.for_user == BOB and BOB in colleague.room.interviewers
    assert sim.rooms[room.room_name]["participants"][-1]["type"] == "interviewer"

    brief = svc.brief(room.id, user=BOB)  # Bob is an interviewer now: no membership needed
    assert brief.source == "cached" and brief.brief.candidate_name == "Ada Lovelace" and brief.brief.questions
    first = svc.chat(room.id, user=RITA, message="What should I ask first?")
    assert first.text.startswith("[history=0 context=yes]") and first.context_sent
    assert "Candidate: Ada Lovelace" in sim.chat_requests[-1]["context"]
    history = [ChatTurn("user", "What should I ask first?"), ChatTurn("assistant", first.text)]
    second = svc.chat(room.id, user=BOB, message="And a follow-up?", history=history)
    assert second.text.startswith("[history=2 context=yes]") and second.history_sent == 2
    assert sim.chat_requests[-1]["history"][1] == {"role": "assistant", "content": first.text}

    voice = svc.voice_assistant(room.id, user=RITA)
    asked = sim.realtime_sessions[voice.session_id]["request"]
    assert voice.client_secret.reveal() == sim.realtime_sessions[voice.session_id]["client_secret"]
    assert asked["job_description"] == JD and asked["role"] == "Staff engineer, payments."
    assert "Name: Ada Lovelace" in asked["resume"] and voice.expires_at

    result = svc.analyze(room.id, TRANSCRIPT, user=RITA)
    sent = sim.analytics_requests[-1]
    assert sent["room"] == room.room_name and sent["job_description"] == JD and "Name: Ada Lovelace" in sent["resume"]
    assert result.saved is not None and result.save_error is None and result.save_state == "saved"
    assert sim.saved_analytics[ada.id][-1]["interview_id"] == result.saved.interview_id
    assert result.candidate.interviewed and result.candidate.interview_score == result.analytics.overall_score
    assert result.room.status(sim.wall()) == "analyzed" and result.room.score == result.analytics.overall_score
    assert svc.latest_analysis(ada.id).id == room.id
    assert svc.analytics_of(room.id).recommendation == result.analytics.recommendation

    secrets = [s.reveal() for s in (started.access.token, started.access.room_url, started.access.join_url,
                                    invite.access.token, invite.access.join_url, colleague.access.token,
                                    voice.client_secret)]
    if started.realtime:
        secrets.append(started.realtime.client_secret.reveal())
    kept = stored_text(env)
    assert room.room_name in kept  # the room is recorded...
    for secret in secrets:  # ...but none of what lets anyone in
        assert secret not in kept and secret not in caplog.text
        assert secret not in repr(started) + repr(invite) + repr(colleague) + repr(voice)


def test_brief_is_generated_when_pluto_has_none(env):
    sim, svc = env.sim, env.svc
    sim.configure(brief_requires_jd=True)
    sim.job_description = ""  # Pluto lost the job description: it answers 400
    room = start(env).room
    brief = svc.brief(room.id, user=RITA)
    assert brief.source == "generated" and brief.brief.candidate_name == "Ada Lovelace"
    sent = sim.prebrief_requests[-1]
    assert sent["room"] == room.room_name and sent["job_description"] == JD
    assert "Skills: python, math" in sent["resume"] and "Wrote the first program" in sent["resume"]
    assert svc.brief(room.id, user=RITA).source == "generated"
    assert len(sim.prebrief_requests) == 1  # kept with the room, not asked again


def test_a_newer_run_replaced_the_candidate_room_and_brief_still_work(env):
    sim, svc = env.sim, env.svc
    sim.reset()  # Pluto runs one pipeline: a new upload forgets the old candidates
    started = start(env)
    assert started.fallback and started.room.candidate_name == "Ada Lovelace"
    assert sim.rooms[started.room.room_name]["candidate_name"] == "Ada Lovelace"
    brief = svc.brief(started.room.id, user=RITA)
    assert brief.source == "generated" and "Name: Ada Lovelace" in sim.prebrief_requests[-1]["resume"]


def test_pluto_trouble_on_the_brief_is_reported_not_papered_over(env):
    sim, svc = env.sim, env.svc
    room = start(env).room
    sim.faults.script("GET /api/pluto/candidates/{cid}/prebrief", *["error_500"] * 5)
    with pytest.raises(PlutoError) as err:
        svc.brief(room.id, user=RITA)
    assert err.value.status == 500 and "try again" in err.value.user_message
    assert sim.prebrief_requests == []


def test_outsiders_are_refused(env):
    sim, svc = env.sim, env.svc
    room = start(env).room
    calls = sum(sim.calls.values())
    for action in (lambda: svc.invite_candidate(room.id, user=MALLORY, members={RITA, BOB}),
                   lambda: svc.brief(room.id, user=MALLORY, members={RITA}),
                   lambda: svc.chat(room.id, user=MALLORY, message="Hi"),
                   lambda: svc.voice_assistant(room.id, user=MALLORY, members=set()),
                   lambda: svc.analyze(room.id, TRANSCRIPT, user=MALLORY),
                   lambda: svc.add_interviewer(room.id, user=MALLORY, colleague=BOB, colleague_name="Bob",
                                               members={RITA, BOB})):
        with pytest.raises(NotAllowed):
            action()
    with pytest.raises(NotAllowed) as err:  # the colleague must be able to see the run
        svc.add_interviewer(room.id, user=RITA, colleague=MALLORY, colleague_name="Mallory", members={RITA, BOB})
    assert "Mallory can't see this shortlist" in err.value.user_message
    with pytest.raises(NotAllowed):
        svc.add_interviewer(room.id, user=RITA, colleague=BOB, colleague_name="Bob", members=None)
    assert sum(sim.calls.values()) == calls  # nothing reached Pluto
    # someone who can see the run may act
    assert svc.chat(room.id, user=BOB, message="Hi", members={RITA, BOB}).text
    with pytest.raises(NotFoundHere):
        svc.get("nope")


class Directory:
    def __init__(self, members, admins=()):
        self._members, self._admins = members, set(admins)

    def members(self, channel):
        return set(self._members.get(channel, ()))

    def is_admin(self, user):
        return user in self._admins


def test_who_may_see_the_run_comes_from_the_access_service(env):
    env.svc.access = AccessService(env.store, Directory({CHANNEL: {RITA, BOB}}, admins={"U_ADMIN"}))
    room = start(env).room
    assert env.svc.chat(room.id, user=BOB, message="Hi").text  # a member of the run's channel
    assert env.svc.brief(room.id, user="U_ADMIN").brief.candidate_name == "Ada Lovelace"  # an admin
    with pytest.raises(NotAllowed):
        env.svc.chat(room.id, user=MALLORY, message="Hi")
    with pytest.raises(NotAllowed):
        env.svc.add_interviewer(room.id, user=RITA, colleague=MALLORY, colleague_name="Mallory", members=None)
    invite = env.svc.add_interviewer(room.id, user=RITA, colleague=BOB, colleague_name="Bob", members=None)
    assert invite.for_user == BOB


def test_an_expired_room_refuses_live_actions_but_can_be_analyzed(env):
    sim, svc = env.sim, env.svc
    room = start(env).room
    other = start(env).room
    sim.advance_clock(3601)
    assert svc.get(room.id).status(sim.wall()) == "expired"
    for action in (lambda: svc.chat(room.id, user=RITA, message="Hi"),
                   lambda: svc.invite_candidate(room.id, user=RITA),
                   lambda: svc.voice_assistant(room.id, user=RITA)):
        with pytest.raises(RoomExpiredError) as err:
            action()
        assert "has closed" in err.value.user_message
    assert svc.analyze(room.id, TRANSCRIPT, user=RITA).save_state == "saved"
    # Pluto closed a room earlier than we recorded: its 410 reads the same way
    sim.advance_clock(-3601)
    sim.rooms[other.room_name]["expires_at"] = sim.wall() - 1
    with pytest.raises(RoomExpiredError) as err:
        svc.invite_candidate(other.id, user=RITA)
    assert err.value.status == 410


def test_adhoc_rooms(env):
    sim, svc = env.sim, env.svc
    adhoc = svc.create_adhoc(interviewer=RITA, interviewer_name="Rita", candidate_name="Grace Hopper",
                             channel=CHANNEL)
    room = adhoc.room
    assert room.kind == "adhoc" and room.candidate_id is None and room.candidate_name == "Grace Hopper"
    assert abs(room.expires_at - (sim.wall() + 2 * 3600)) < 60 and not room.expiry_estimated
    assert sim.rooms[room.room_name]["candidate_name"] == "Grace Hopper"
    with pytest.raises(NoCandidateError):
        svc.brief(room.id, user=RITA)
    assert svc.chat(room.id, user=RITA, message="Any tips?").text.startswith("[history=0 context=no]")
    result = svc.analyze(room.id, TRANSCRIPT, user=RITA)
    assert result.analytics.overall_score is not None and result.saved is None and result.save_state == "none"
    assert sim.calls[SAVE] == 0
    # a name that matched a shortlisted candidate: analytics go to them
    matched = svc.create_adhoc(interviewer=RITA, interviewer_name="Rita", run_id="run1", candidate_id=env.alan.id)
    assert matched.room.candidate_name == "Alan Turing"
    assert svc.analyze(matched.room.id, TRANSCRIPT, user=RITA).candidate.interviewed


def test_analyze_a_completed_nimrobo_voice_interview_of_the_same_candidate(env):
    sim, svc, nimrobo = env.sim, env.svc, env.nimrobo
    project = nimrobo.create_project("Staff engineer", PROMPT)
    links = nimrobo.create_links(project.id, ["Ada Lovelace", "Alan Turing"], "1_week")
    for link in links:
        env.store.insert("voice_links", {"id": link.id, "batch_id": "b1", "kind": "project", "project_id": project.id,
                                         "label": link.label, "status": link.status, "session_id": None,
                                         "channel": CHANNEL, "thread_ts": "100.1", "creator": RITA,
                                         "created_at": 0.0, "updated_at": 0.0})
    sessions = {link.label: env.nim.start_session(link.id) for link in links}
    room = start(env).room
    VoiceLinkService(env.store, nimrobo, Settings()).refresh_statuses()
    assert svc.voice_sessions(room.id) == []  # not completed yet
    env.nim.complete_session(sessions["Ada Lovelace"])
    env.nim.complete_session(sessions["Alan Turing"])
    [ref] = svc.voice_sessions(room.id)
    assert ref.session_id == sessions["Ada Lovelace"] and ref.label == "Ada Lovelace"
    with pytest.raises(TranscriptError):  # another candidate's interview is not offered
        svc.analyze_voice_session(room.id, sessions["Alan Turing"], user=RITA)
    result = svc.analyze_voice_session(room.id, ref.session_id, user=RITA)
    sent = sim.analytics_requests[-1]["transcript"]
    assert "Interviewer: Hi Ada Lovelace, thanks for joining." in sent
    assert "Candidate: A billing migration with zero downtime" in sent
    assert result.source == "nimrobo" and result.candidate.interviewed


@pytest.mark.parametrize("fault", ["drop_response", "error_500"])
def test_a_save_with_an_unknown_outcome_is_checked_not_resent(env, fault):
    sim, svc = env.sim, env.svc
    room = start(env).room
    sim.faults.script(SAVE, fault)
    result = svc.analyze(room.id, TRANSCRIPT, user=RITA)
    assert sim.calls[SAVE] == 1
    if fault == "drop_response":  # it landed: the candidate says so
        assert result.save_state == "saved" and result.save_error is None and result.candidate.interviewed
    else:  # it did not: say the outcome is unknown, don't claim it failed or worked
        assert result.save_state == "unknown" and result.save_error.outcome_unknown
        assert not result.candidate.interviewed
    assert result.room.state == "analyzed"


def test_transcripts_too_short_are_refused(env):
    room = start(env).room
    with pytest.raises(TranscriptError):
        env.svc.analyze(room.id, "  hello  ", user=RITA)
    assert env.sim.analytics_requests == []


def test_intake_link_is_validated_with_its_gaps_and_voice_intake(env, monkeypatch):
    sim, svc = env.sim, env.svc
    check = svc.intake_link(env.alan.id)
    assert check.link.url.reveal().startswith(f"https://sim.pluto.invalid/intake/{env.alan.id}?token=")
    assert check.gaps == ["phone", "email", "years_experience"] and check.validation.candidate_name == "Alan Turing"
    assert sim.calls["GET /api/intake/{cid}/validate"] == 1
    assert check.link.token.reveal() not in repr(check)
    issued = iter(range(100))
    monkeypatch.setattr(sim, "_token", lambda cid, expires: f"{expires}.bad{next(issued)}")
    with pytest.raises(IntakeLinkError) as err:
        svc.intake_link(env.alan.id)
    assert "does not accept" in err.value.user_message
    assert err.value.user_message.startswith("Pluto error: ")  # an API error names its service (services/errors.py)
    voice = svc.voice_intake(env.alan.id)
    assert voice.questions == ["What is your phone?", "What is your email?", "What is your years experience?"]
    assert voice.room_name in sim.livekit_rooms and voice.token.reveal() not in repr(voice)


def test_services_wire_the_interview_service(env, tmp_path):
    settings = Settings().replace(pluto_api_base_url=env.sim.url + "/api", database_path=str(tmp_path / "w.db"))
    services = Services(settings)
    try:
        assert isinstance(services.interviews, InterviewService) and services.interviews.store is services.store
        adhoc = services.interviews.create_adhoc(interviewer=RITA, interviewer_name="Rita")
        assert services.interviews.get(adhoc.room.id).room_name == adhoc.room.room_name
    finally:
        services.close()


def test_transcript_text_reads_the_shapes_seen():
    assert transcript_text([{"role": "agent", "text": "Hi"}, {"role": "user", "text": "Hello"}]) == \
        "Interviewer: Hi\nCandidate: Hello"
    assert transcript_text({"messages": [{"speaker": "assistant", "content": "Q"}, {"role": "candidate",
                                                                                   "message": "A"}]}) == \
        "Interviewer: Q\nCandidate: A"
    assert transcript_text("  plain text  ") == "plain text"
    assert transcript_text([{"role": "moderator", "text": "x"}, None, 3, {"role": "user"}]) == "Moderator: x\n3"
    assert transcript_text(None) == "" and transcript_text({"other": 1}) == '{\n  "other": 1\n}'  # shown as it is


def test_only_someone_who_may_see_the_run_starts_an_interview(env):
    sim, svc = env.sim, env.svc
    with pytest.raises(NotAllowed) as err:
        svc.start("run1", env.ada.id, interviewer=MALLORY, interviewer_name="Mallory", members={RITA, BOB})
    assert "can see this shortlist" in err.value.user_message and not sim.rooms
    assert svc.start("run1", env.ada.id, interviewer=RITA, interviewer_name="Rita").room  # who started the run
    assert svc.start("run1", env.ada.id, interviewer=BOB, interviewer_name="Bob", members={RITA, BOB}).room


VTT = ("WEBVTT\n\n1\n00:00:01.000 --> 00:00:04.000\n<v Interviewer>Tell me about a hard project.\n\n"
       "2\n00:00:05.000 --> 00:00:09.500\n<v Candidate>I led a billing migration with zero downtime.\n")


def test_analyze_a_transcript_shared_as_a_file(env):
    sim, svc = env.sim, env.svc
    files = {"F1": VTT.encode(), "F2": json.dumps([{"role": "agent", "text": "Why payments?"},
                                                   {"role": "user", "text": "I like hard correctness problems."}
                                                   ]).encode(), "F3": TRANSCRIPT.encode("cp1252")}
    fetched = []
    svc.download = lambda f: fetched.append(f["id"]) or files[f["id"]]
    room = start(env).room
    svc.analyze_file(room.id, {"id": "F1", "name": "call.vtt", "size": 200}, user=RITA)
    assert sim.analytics_requests[-1]["transcript"] == ("Interviewer: Tell me about a hard project.\n"
                                                        "Candidate: I led a billing migration with zero downtime.")
    result = svc.analyze_file(room.id, {"id": "F2", "name": "turns.json", "size": 90}, user=RITA)
    assert sim.analytics_requests[-1]["transcript"] == \
        "Interviewer: Why payments?\nCandidate: I like hard correctness problems."
    assert result.source == "file" and result.save_state == "saved"
    svc.analyze_file(room.id, {"id": "F3", "name": "notes.txt", "size": 300}, user=RITA)
    assert sim.analytics_requests[-1]["transcript"] == TRANSCRIPT.strip()
    # refused before anything is fetched: not a transcript, too big, an outsider
    for file, user in (({"id": "F9", "name": "cv.pdf", "mimetype": "application/pdf", "size": 10}, RITA),
                       ({"id": "F9", "name": "huge.txt", "size": 50 * 1024 * 1024}, RITA),
                       ({"id": "F1", "name": "call.vtt", "size": 200}, MALLORY)):
        with pytest.raises((TranscriptError, NotAllowed)):
            svc.analyze_file(room.id, file, user=user)
    assert fetched == ["F1", "F2", "F3"]


def test_interviewed_gives_each_candidate_their_latest_analysis(env):
    svc = env.svc
    assert svc.interviewed([env.ada.id, env.alan.id]) == {}
    first = start(env).room
    svc.analyze(first.id, TRANSCRIPT, user=RITA)
    second = start(env).room
    svc.analyze(second.id, TRANSCRIPT + "Candidate: One more thing about on-call rotations.\n", user=RITA)
    start(env, env.alan)  # started, never analyzed
    found = svc.interviewed([env.ada.id, env.alan.id])
    assert list(found) == [env.ada.id] and found[env.ada.id].id == second.id and found[env.ada.id].score is not None
    assert svc.allowed(second.id, user=RITA).id == second.id
    with pytest.raises(NotAllowed):
        svc.allowed(second.id, user=MALLORY, members={RITA})


def test_in_a_thread_with_several_cards_the_assistant_takes_your_own_open_room(env):
    svc = env.svc
    ada = svc.start("run1", env.ada.id, interviewer=RITA, interviewer_name="Rita", members={RITA, BOB}).room
    alan = svc.start("run1", env.alan.id, interviewer=BOB, interviewer_name="Bob", members={RITA, BOB}).room
    for room in (ada, alan):
        svc.set_card(room.id, CHANNEL, f"card-{room.id}")
    assert svc.for_thread(CHANNEL, "100.1", RITA).id == ada.id  # hers, though Bob's is newer
    assert svc.for_thread(CHANNEL, "100.1", BOB).id == alan.id
    assert svc.for_thread(CHANNEL, "100.1", MALLORY).id == alan.id  # the newest open one
    assert svc.for_thread(CHANNEL, f"card-{ada.id}").id == ada.id  # a card's own thread
    svc.analyze(alan.id, TRANSCRIPT, user=BOB)
    assert svc.for_thread(CHANNEL, "100.1", BOB).id == ada.id  # Bob's is analyzed: the open one
    assert svc.for_thread(CHANNEL, "nope") is None
