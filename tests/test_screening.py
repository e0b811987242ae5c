"""The screening service against the Pluto and Nimrobo simulators over HTTP: prefill, links tied to
candidates, outcomes from the watcher, late evaluations, saves to Pluto, sorting, decisions, export."""

import csv
import io
import time

import pytest

from config import Secret, Settings
from sandbox.openai_stub import OpenAIStub
from sandbox.pluto_sim import PlutoSimulator
from services.clock import Clock
from services.home import HomeService
from services.http import RetryPolicy
from services.outbox import Outbox
from services.pluto import PlutoClient
from services.reminders import ReminderService
from services.scoring import ScoringService
from services.screening import (
    FORMULA,
    AlreadyScreened,
    LabelsNotInRun,
    NoBoardYet,
    NothingToUndo,
    RunNotReady,
    ScreeningService,
    criteria_from,
    role_from,
)
from services.store import Store
from services.voice.forms import validate_voice_form
from services.voice.links import VoiceLinkService
from services.voice.sessions import SessionService

CHANNEL, THREAD, RECRUITER = "C_HIRING", "1700000000.000100", "U_REC"
JD = """Title: Senior Data Engineer

We build the data platform for a fintech.

Requirements:
- 5+ years of Python and SQL
- Airflow or Dagster in production
- Clear written communication

Nice to have: Kafka."""
ROWS = [  # name, title, years, skills, email
    ("Ada Lovelace", "Data Engineer", 9, "Python|SQL|Airflow", "ada@example.com"),
    ("Grace Hopper", "Senior Data Engineer", 12, "Python|SQL|Kafka", "grace+jobs@example.org"),
    ("Alan Turing", "Data Engineer", 7, "Python|Airflow", "alan@example.com"),
    ("Sam Lee", "Analytics Engineer", 4, "SQL|dbt", "sam.one@example.com"),
    ("Sam Lee", "Data Engineer", 6, "Python|SQL", "sam.two@example.com"),
    ("=HYPERLINK(\"http://evil\")", "Data Engineer", 3, "Python", "x@example.com"),
    ("Joan Clarke", "BI Developer", 2, "Excel", "joan@example.com"),
]


@pytest.fixture()
def store(database):  # every test runs on SQLite and on PostgreSQL
    s = Store(database)
    yield s
    s.close()


@pytest.fixture(scope="module")
def pluto_server():
    with PlutoSimulator(extract_seconds=0, score_seconds=0) as s:
        yield s


@pytest.fixture()
def sims(sim, pluto_server):
    pluto_server.reset()
    pluto_server.faults.reset()
    pluto_server.saved_analytics.clear()
    return sim, pluto_server


@pytest.fixture()
def clients(sims, nimrobo):
    _, pluto_sim = sims
    with PlutoClient(pluto_sim.url + "/api", retry=RetryPolicy(base_delay=0.01, max_total=2)) as pluto:
        yield nimrobo, pluto


def make_service(store, clients, settings=None, **options):
    nimrobo, pluto = clients
    settings = settings or Settings()
    voicelinks = VoiceLinkService(store, nimrobo, settings)
    return ScreeningService(store, ScoringService(store, settings, pluto), voicelinks,
                            SessionService(store, nimrobo, voicelinks), pluto, **options)


@pytest.fixture()
def service(store, clients):
    return make_service(store, clients)


def score_file(store, pluto, tmp_path, *, jd=JD, filename="data-engineers_q3.csv", run_id="run1", rows=ROWS):
    """Score a CSV on the Pluto simulator and record the finished run as the scoring service does."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["name", "current_title", "years_experience", "skills", "email"])
    writer.writerows(rows)
    path = tmp_path / filename
    path.write_text(buffer.getvalue())
    pluto.upload(path, filename, jd)
    assert pluto.progress().status == "complete"
    results = [c.raw for c in pluto.results()]
    store.insert("scoring_runs", {"id": run_id, "queue_id": "q-" + run_id, "channel": CHANNEL, "thread_ts": THREAD,
                                  "user": RECRUITER, "filename": filename, "job_description": jd, "top_n": 10,
                                  "state": "complete", "results_json": results, "created_at": time.time(),
                                  "finished_at": time.time()})
    return results


def submit(service, run_id, prefill, **changes):
    values = {**prefill.form_values(), **changes}
    form, errors = validate_voice_form("interview", values)
    assert not errors, errors
    return service.screen(run_id, form, user=RECRUITER)


def sessions_by_name(sim, result):
    """Start a session on each link of ``result``: {candidate name: session id}."""
    return {link.label: sim.start_session(link.id) for link in result.links}


def deliver(store, nimrobo, service, wait_seconds=60.0, clock=time.time):
    """Two watcher polls (the first asks Nimrobo to write the summary), each note handed to the
    screening service as the watcher job does."""
    service.voicelinks.refresh_statuses()
    changes = []
    for _ in range(2):
        for note in service.sessions.poll(wait_seconds=wait_seconds, clock=clock):
            # queued once, as the watcher job does (bot/jobs/voice_watcher.py), and posted
            assert Outbox(store).enqueue(f"voice_session_completed:{note.session_id}:{note.channel}", note.channel,
                                         "post", {"text": "completed"})
            service.sessions.note_reported(note.session_id, note.channel)
            service.sessions.mark_posted(note.session_id, note.channel, "1.1")
            change = service.record_outcome(note)
            if change:
                changes.append(change)
    return changes


# -- prefill ---------------------------------------------------------------------------------------
def test_role_comes_from_the_job_description_else_the_file_name():
    assert role_from(JD, "x.csv") == ("Senior Data Engineer", "job description")
    assert role_from("We are hiring a Product Designer to lead our app.", "x.csv")[0] == "Product Designer"
    assert role_from("", "backend_engineers-2024.csv") == ("Backend engineers 2024", "file name")
    assert criteria_from(JD) == ["5+ years of Python and SQL", "Airflow or Dagster in production",
                                 "Clear written communication"]


def test_prefill_drafts_the_form_for_the_top_n_and_creates_nothing(service, store, sims, clients, tmp_path):
    nimrobo_sim, _ = sims
    results = score_file(store, clients[1], tmp_path)
    prefill = service.prefill("run1", 3)
    top3 = [c["name"] for c in results[:3]]
    assert prefill.labels == top3
    assert [c.candidate_id for c in prefill.candidates] == [c["id"] for c in results[:3]]
    assert prefill.role == "Senior Data Engineer" and prefill.role_source == "job description"
    assert prefill.draft_source == "template"
    assert "Senior Data Engineer" in prefill.sections.role and prefill.sections.constraints
    assert "5+ years of Python and SQL | number" in prefill.eval_questions
    assert {"Relevant experience | number", "Communication | number", "Red flags | text"} <= set(
        prefill.eval_questions)
    values = prefill.form_values()
    assert values["labels"].splitlines() == top3 and values["name"] == "Senior Data Engineer"
    form, errors = validate_voice_form("interview", values)
    assert not errors and [q["type"] for q in form.evaluator["questions"]][:2] == ["number", "number"]
    assert nimrobo_sim.all_links() == [] and service.board_for_run("run1") is None  # nothing created


def test_prefill_labels_repeated_names_with_their_rank(service, store, clients, tmp_path):
    score_file(store, clients[1], tmp_path)
    prefill = service.prefill("run1", 7)
    sams = [c for c in prefill.candidates if c.name == "Sam Lee"]
    assert len(sams) == 2 and {c.label for c in sams} == {f"Sam Lee (#{c.rank})" for c in sams}
    assert service.check_labels("run1", ["Sam Lee"]) == ["“Sam Lee”: several candidates have that name; add the rank"]
    assert service.check_labels("run1", [c.label for c in sams]) == []


def test_prefill_uses_the_file_name_without_a_job_description(service, store, clients, tmp_path):
    score_file(store, clients[1], tmp_path, jd="", filename="backend_hires.csv")
    prefill = service.prefill("run1")
    assert (prefill.role, prefill.role_source) == ("Backend hires", "file name")
    assert len(prefill.labels) == 5  # the default N


def test_prefill_drafts_with_ai_when_configured(store, clients, tmp_path):
    score_file(store, clients[1], tmp_path)
    with OpenAIStub() as stub:
        settings = Settings().replace(openai_api_key=Secret("sk-test"), openai_base_url=stub.url + "/v1")
        prefill = make_service(store, clients, settings).prefill("run1", 3)
        asked = stub.requests[-1]["messages"][-1]["content"]
    assert prefill.draft_source == "ai" and "drafted from the brief" in prefill.sections.goal
    assert "Airflow or Dagster" in asked and "Shared skills: Python" in asked  # JD and common profile


def test_an_unfinished_run_cannot_be_screened(service, store):
    store.insert("scoring_runs", {"id": "r0", "channel": CHANNEL, "state": "running", "created_at": 1.0})
    with pytest.raises(RunNotReady):
        service.prefill("r0")
    with pytest.raises(RunNotReady):
        service.prefill("nope")


# -- creating and tying links -----------------------------------------------------------------------
def test_submit_ties_each_link_to_its_candidate_and_run(service, store, sims, clients, tmp_path):
    nimrobo_sim, _ = sims
    results = score_file(store, clients[1], tmp_path)
    prefill = service.prefill("run1", 3)
    result = submit(service, "run1", prefill)
    assert result.new_board and len(result.links) == 3 and all(link.url for link in result.links)
    by_name = {c["name"]: c["id"] for c in results}
    assert sorted(result.tied) == sorted((name, by_name[name]) for name in prefill.labels)
    for link in result.links:
        assert service.candidate_of_link(link.id) == ("run1", by_name[link.label])
    project = {p["projectId"] for p in nimrobo_sim.all_links()}
    assert len(project) == 1 and result.board.project_id in project
    view = service.board_view(result.board.id)
    assert [r.voice_state for r in view.rows] == ["invited"] * 3
    assert view.counts["invited"] == 3 and view.board.channel == CHANNEL and view.board.thread_ts == THREAD


def test_labels_must_be_candidates_of_the_run_and_not_screened_twice(service, store, clients, tmp_path):
    score_file(store, clients[1], tmp_path)
    prefill = service.prefill("run1", 2)
    with pytest.raises(LabelsNotInRun) as refused:
        submit(service, "run1", prefill, labels="Ada Lovelace\nNobody Here")
    assert "“Nobody Here”: not a candidate of this run" in refused.value.user_message
    submit(service, "run1", prefill)
    with pytest.raises(AlreadyScreened):
        submit(service, "run1", prefill, labels=prefill.labels[0])


def test_one_candidate_is_added_to_the_runs_screening_project(service, store, sims, clients, tmp_path):
    nimrobo_sim, _ = sims
    results = score_file(store, clients[1], tmp_path)
    joan = next(c for c in results if c["name"] == "Joan Clarke")
    with pytest.raises(NoBoardYet):
        service.screen_one("run1", joan["id"], user=RECRUITER)
    first = submit(service, "run1", service.prefill("run1", 2))
    added = service.screen_one("run1", joan["id"], user="U_OTHER")
    assert [link.label for link in added.links] == ["Joan Clarke"]
    assert added.board.id == first.board.id and not added.new_board
    assert {link["projectId"] for link in nimrobo_sim.all_links()} == {first.board.project_id}
    rows = service.board_view(first.board.id).rows
    assert len(rows) == 3 and {r.creator for r in rows} == {RECRUITER, "U_OTHER"}


# -- outcomes, late evaluations, Pluto ------------------------------------------------------------------
def test_completed_failed_and_late_evaluations_reach_the_board_and_pluto(service, store, sims, clients, tmp_path):
    nimrobo_sim, pluto_sim = sims
    nimrobo, _ = clients
    results = score_file(store, clients[1], tmp_path)
    result = submit(service, "run1", service.prefill("run1", 3))
    ids = {c["name"]: c["id"] for c in results}
    first, second, third = service.prefill("run1", 3).labels
    sessions = sessions_by_name(nimrobo_sim, result)
    questions = {q["label"]: q["id"] for q in result.board.questions}
    nimrobo_sim.complete_session(sessions[first], evaluation={
        questions["Relevant experience"]: 9, questions["Communication"]: 8,
        questions["Recommendation (advance, hold or reject)"]: "Advance: strong platform work"})
    nimrobo_sim.complete_session(sessions[second], evaluation_delay=3600)  # written late
    nimrobo_sim.fail_session(sessions[third])

    clock = [time.time()]
    deliver(store, nimrobo, service, wait_seconds=60, clock=lambda: clock[0])  # first sight of both completions
    clock[0] += 61  # the watcher stops waiting for the late evaluation and posts without it
    deliver(store, nimrobo, service, wait_seconds=60, clock=lambda: clock[0])
    rows = {r.name: r for r in service.board_view(result.board.id).rows}
    assert rows[first].voice_state == "completed" and rows[first].recommendation == "advance"
    numbers = dict(rows[first].numbers)  # the run's three criteria (the simulator answers 7) and the defaults
    assert numbers == {"5+ years of Python and SQL": 7.0, "Airflow or Dagster in production": 7.0,
                       "Clear written communication": 7.0, "Relevant experience": 9.0, "Communication": 8.0}
    assert rows[first].evaluation_score == 76.0 and rows[first].analytics_state == "saved"
    assert rows[second].voice_state == "completed" and rows[second].evaluation_state == "pending"
    assert rows[second].pluto_only and rows[second].analytics_state == ""  # saved once the evaluation exists
    assert rows[third].voice_state == "failed" and rows[third].analytics_state == ""
    saved = pluto_sim.saved_analytics[ids[first]][0]
    assert saved["interview_id"] == service.interview_id(rows[first].link_id, sessions[first])
    assert saved["analytics"]["evaluation"]["Communication"] == 8
    assert saved["analytics"]["recommendation"] == "advance" and saved["analytics"]["evaluation_score"] == 76.0
    assert ids[third] not in pluto_sim.saved_analytics

    assert service.follow_up() == []  # not written yet
    nimrobo_sim.evaluate_session(sessions[second])  # the late evaluation arrives
    changes = service.follow_up()
    assert [c.candidate_name for c in changes] == [second] and changes[0].analytics.state == "saved"
    late = {r.name: r for r in service.board_view(result.board.id).rows}[second]
    assert late.evaluation_state == "ready" and late.evaluation_score == 70.0 and not late.pluto_only
    assert pluto_sim.saved_analytics[ids[second]][0]["analytics"]["evaluation"]["Communication"] == 7
    assert service.follow_up() == [] and len(pluto_sim.saved_analytics[ids[second]]) == 1  # once


def test_an_evaluation_that_never_comes_is_saved_without_one_after_the_wait(store, sims, clients, tmp_path):
    nimrobo_sim, pluto_sim = sims
    nimrobo, pluto = clients
    clock = [time.time()]
    service = make_service(store, clients, evaluation_wait_seconds=600, clock=lambda: clock[0])
    results = score_file(store, pluto, tmp_path)
    result = submit(service, "run1", service.prefill("run1", 1))
    session = sessions_by_name(nimrobo_sim, result)[results[0]["name"]]
    nimrobo_sim.complete_session(session, evaluation_delay=3600)
    deliver(store, nimrobo, service, wait_seconds=0, clock=lambda: clock[0])
    assert service.follow_up() == []  # still waiting
    clock[0] += 601
    changes = service.follow_up()
    assert changes[0].analytics.state == "saved"
    assert pluto_sim.saved_analytics[results[0]["id"]][0]["analytics"]["evaluation_state"] == "missing"


def test_a_failed_save_is_kept_until_reported_and_can_be_retried(service, store, sims, clients, tmp_path):
    nimrobo_sim, pluto_sim = sims
    nimrobo, pluto = clients
    results = score_file(store, pluto, tmp_path)
    result = submit(service, "run1", service.prefill("run1", 2))
    sessions = sessions_by_name(nimrobo_sim, result)
    pluto_sim.faults.script("POST /api/pluto/candidates/{cid}/analytics", "drop_response")
    nimrobo_sim.complete_session(sessions[results[0]["name"]])
    deliver(store, nimrobo, service)
    problems = service.unreported_problems()
    assert [(p.candidate_name, p.state) for p in problems] == [(results[0]["name"], "unknown")]
    assert "Pluto" in problems[0].error
    service.mark_reported(problems[0].link_id)
    assert service.unreported_problems() == []
    assert service.retry_analytics(problems[0].link_id).state == "saved"
    assert service.row(result.board.id, results[0]["id"]).analytics_state == "saved"

    pluto_sim.reset()  # a newer upload replaced Pluto's candidates: the save is refused (404)
    nimrobo_sim.complete_session(sessions[results[1]["name"]])
    deliver(store, nimrobo, service)
    [problem] = service.unreported_problems()
    assert problem.state == "failed" and "Candidate not found" in problem.error


# -- the board --------------------------------------------------------------------------------------
def test_the_board_sorts_by_pluto_by_evaluation_and_combined(service, store, sims, clients, tmp_path):
    nimrobo_sim, _ = sims
    nimrobo, _ = clients
    results = score_file(store, clients[1], tmp_path)
    prefill = service.prefill("run1", 4)
    result = submit(service, "run1", prefill)
    names = prefill.labels  # Pluto order
    questions = {q["label"]: q["id"] for q in result.board.questions}
    sessions = sessions_by_name(nimrobo_sim, result)
    low = {questions["Relevant experience"]: 2, questions["Communication"]: 2}
    high = {questions["Relevant experience"]: 10, questions["Communication"]: 10}
    nimrobo_sim.complete_session(sessions[names[0]], evaluation=low)
    nimrobo_sim.complete_session(sessions[names[3]], evaluation=high)
    nimrobo_sim.complete_session(sessions[names[1]], evaluation={questions["Relevant experience"]: 6,
                                                                 questions["Communication"]: 6})
    deliver(store, nimrobo, service)
    pluto = {c["name"]: c["final_score"] for c in results}

    by_pluto = [r.name for r in service.board_view(result.board.id, "pluto").rows]
    assert by_pluto == names
    by_eval = service.board_view(result.board.id, "evaluation").rows
    assert [r.name for r in by_eval] == [names[3], names[1], names[0], names[2]]
    assert by_eval[-1].evaluation_score is None and by_eval[-1].pluto_only
    combined = service.board_view(result.board.id, "combined")
    # five number questions: the run's three criteria (the simulator answers 7) and the two set here
    expected = {names[0]: (pluto[names[0]] + 50) / 2, names[1]: (pluto[names[1]] + 66) / 2,
                names[2]: pluto[names[2]], names[3]: (pluto[names[3]] + 82) / 2}
    # the three interviewed by combined score, then names[2] (not interviewed yet) in its own group
    interviewed = [names[0], names[1], names[3]]
    assert [r.name for r in combined.rows] == sorted(interviewed, key=lambda n: -expected[n]) + [names[2]]
    assert {r.name: r.combined for r in combined.rows} == pytest.approx(expected, abs=0.06)
    assert combined.formula == FORMULA and "mean" in FORMULA
    assert [r.position for r in combined.rows] == [1, 2, 3, 4]
    assert service.set_sort(result.board.id, "evaluation").sort == "evaluation"
    assert service.board_view(result.board.id).sort == "evaluation"


def test_advance_reject_and_undo_are_recorded_with_who_and_when(service, store, clients, tmp_path):
    score_file(store, clients[1], tmp_path)
    result = submit(service, "run1", service.prefill("run1", 2))
    board, rows = result.board.id, service.board_view(result.board.id).rows
    first = rows[0].candidate_id
    before = time.time()
    service.decide(board, first, "advance", "U_A")
    service.decide(board, first, "reject", "U_B")
    row = service.row(board, first)
    assert (row.decision.decision, row.decision.user) == ("reject", "U_B") and row.decision.at >= before
    assert service.undo(board, first, "U_B").decision == "advance"  # the earlier decision applies again
    assert service.undo(board, first, "U_A") is None
    with pytest.raises(NothingToUndo):
        service.undo(board, first, "U_A")
    service.decide(board, rows[1].candidate_id, "advance", "U_A")
    assert service.board_view(board).counts["advanced"] == 1


def test_the_export_has_both_signals_and_decisions_and_is_safe(service, store, sims, clients, tmp_path):
    nimrobo_sim, _ = sims
    nimrobo, _ = clients
    results = score_file(store, clients[1], tmp_path)
    formula = next(c for c in results if c["name"].startswith("="))
    submit(service, "run1", service.prefill("run1", 2))
    board = service.screen_one("run1", formula["id"], user=RECRUITER)
    sessions = sessions_by_name(nimrobo_sim, board)
    nimrobo_sim.complete_session(sessions[formula["name"]])
    deliver(store, nimrobo, service)
    service.decide(board.board.id, formula["id"], "advance", "U_A")

    public = list(csv.DictReader(io.StringIO(service.export_csv(board.board.id, "pluto").decode())))
    private = list(csv.DictReader(io.StringIO(service.export_csv(board.board.id, "pluto", public=False).decode())))
    assert [r["name"] for r in private][:2] == [c["name"] for c in results[:2]]
    row = next(r for r in private if r["name"].startswith("'="))  # the formula cell is escaped
    assert row["pluto_final_score"] == str(formula["final_score"]) and row["voice_state"] == "completed"
    assert row["eval: Relevant experience"] == "7" and row["evaluation_score"] == "70"
    assert row["decision"] == "advanced" and row["decided_by"] == "U_A" and row["decided_at"].endswith("Z")
    assert row["ranked_by_pluto_only"] == "no" and row["pluto_analytics"] == "saved"
    assert private[0]["email"] == results[0]["email"] and private[0]["ranked_by_pluto_only"] == "yes"
    raw = {c["email"] for c in results}
    assert not raw & {r["email"] for r in public} and not any(e in "".join(map(str, r.values())) for e in raw
                                                               for r in public)
    assert public[0]["email"] == results[0]["email"][0] + "•••@example.com"


def test_dm_choice_is_per_board_and_goes_to_the_links_creator(service, store, sims, clients, tmp_path):
    nimrobo_sim, _ = sims
    nimrobo, _ = clients
    score_file(store, clients[1], tmp_path)
    result = submit(service, "run1", service.prefill("run1", 1))
    session = sessions_by_name(nimrobo_sim, result)[result.links[0].label]
    service.voicelinks.refresh_statuses()  # the bot learns the session id, as the watcher does
    # who gets the completion by DM is decided in one place (services/reminders.py); the creator here has
    # set completions by DM to Off in App Home, so only a choice made on the board sends it
    reminders = ReminderService(store, Settings(), Clock(), lambda user: "UTC")
    reminders.set_prefs(RECRUITER, completions="off")
    assert reminders.completion_dm_targets(session) == []
    service.set_dm(result.board.id, "U_SOMEONE", True)
    assert reminders.completion_dm_targets(session) == []  # not their link
    service.set_dm(result.board.id, RECRUITER, True)
    assert reminders.completion_dm_targets(session) == [RECRUITER]
    service.set_dm(result.board.id, RECRUITER, False)
    assert reminders.completion_dm_targets(session) == []


def test_home_shows_my_runs_boards_projects_and_what_finished_since_i_looked(service, store, sims, clients,
                                                                            tmp_path):
    nimrobo_sim, _ = sims
    nimrobo, _ = clients
    score_file(store, clients[1], tmp_path)
    result = submit(service, "run1", service.prefill("run1", 3))
    home = HomeService(store, service)
    assert home.mark_seen(RECRUITER) is None
    sessions = sessions_by_name(nimrobo_sim, result)
    first = result.links[0].label
    nimrobo_sim.complete_session(sessions[first])
    deliver(store, nimrobo, service)
    service.sessions.subscribe(result.board.project_id, "C_OTHER", RECRUITER)
    service.decide(result.board.id, service.board_view(result.board.id).rows[0].candidate_id, "advance", RECRUITER)

    data = home.dashboard(RECRUITER)
    assert [r.id for r in data.runs] == ["run1"] and data.runs[0].board_id == result.board.id
    assert [(b.invited, b.completed, b.advanced) for b in data.boards] == [(3, 1, 1)]
    [project] = data.projects
    assert project.name == "Senior Data Engineer" and project.counts == {"used": 3}
    assert [(f.label, f.status) for f in data.finished] == [(first, "completed")]
    assert [(f.kind, f.channel) for f in data.follows] == [("project", "C_OTHER")]
    assert [f.label for f in home.dashboard(RECRUITER).finished] == [first]  # a refresh keeps them
    home.mark_seen(RECRUITER)  # opened again: it finished after the previous look, so it still counts
    assert [f.label for f in home.dashboard(RECRUITER).finished] == [first]
    home.mark_seen(RECRUITER)
    assert home.dashboard(RECRUITER).finished == []  # seen on the last look: nothing new
    assert home.dashboard("U_NEW").empty
