"""The Pluto client against the simulator, over real HTTP."""

import time

import pytest

from sandbox.pluto_sim import PlutoSimulator, score_row
from services.http import RetryPolicy
from services.pluto import PlutoClient, PlutoError, read_progress

CSV = (
    "name,email,current_title,years_experience,skills\n"
    "Ada Lovelace,ada@example.com,Engineer,9,python|math\n"
    "Alan Turing,alan@example.com,Researcher,12,crypto|math\n"
    "Grace Hopper,grace@example.com,Admiral,20,cobol|compilers\n"
    "Linus T,linus@example.com,Maintainer,3,=cmd|c\n"
)


@pytest.fixture()
def csv_file(tmp_path):
    path = tmp_path / "candidates.csv"
    path.write_text(CSV)
    return path


def sim(**kw):
    kw.setdefault("extract_seconds", 0.2)
    kw.setdefault("score_seconds", 0.3)
    return PlutoSimulator(**kw)


def client_for(s):
    return PlutoClient(s.url + "/api", retry=RetryPolicy(base_delay=0.01, max_total=5))


def wait_status(client, wanted, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        snap = client.progress()
        if snap.status == wanted:
            return snap
        time.sleep(0.05)
    raise AssertionError(f"never reached {wanted}; last {snap}")


def expected_ranking():
    rows = [line.split(",") for line in CSV.strip().splitlines()[1:]]
    scored = []
    for name, email, title, years, skills in rows:
        row = {"name": name, "email": email, "current_title": title, "years_experience": years, "skills": skills}
        scored.append((score_row(row)[2], name))
    return [name for _, name in sorted(scored, key=lambda s: (-s[0], s[1]))]


def test_full_pipeline_reference_shape(csv_file):
    with sim() as s, client_for(s) as client:
        upload = client.upload(csv_file, job_description="Senior engineer")
        assert upload.total_candidates == 4
        assert s.uploads[0]["job_description"] == "Senior engineer" and s.uploads[0]["filename"] == "candidates.csv"
        first = client.progress()
        assert first.status in ("extracting", "scoring") and first.total == 4
        done = wait_status(client, "complete")
        assert done.percent == 100 and done.label == "scored 4 of 4"
        results = client.results()
        assert [c.name for c in results] == expected_ranking()
        assert [c.rank for c in results] == [1, 2, 3, 4]
        top = results[0]
        assert top.final_score is not None and top.ai_score is not None and top.algo_score is not None and top.tier
        export = client.results_csv().decode()
        assert [line.split(",")[1] for line in export.strip().splitlines()[1:]] == expected_ranking()


def test_bare_list_results_and_upload_without_total(csv_file):
    with sim(bare_list=True, total_in_upload=False) as s, client_for(s) as client:
        assert client.upload(csv_file).total_candidates is None
        wait_status(client, "complete")
        assert [c.name for c in client.results()] == expected_ranking()


def test_waiting_confirmation_needs_post_score(csv_file):
    with sim(confirmation_step=True) as s, client_for(s) as client:
        client.upload(csv_file)
        with pytest.raises(PlutoError) as err:
            client.confirm_scoring()
        assert err.value.status == 400 and err.value.message == "Extraction not complete"
        snap = wait_status(client, "waiting_confirmation")
        assert "starting AI scoring" in snap.label
        time.sleep(0.4)
        assert client.progress().status == "waiting_confirmation"  # it waits for us
        client.confirm_scoring()
        with pytest.raises(PlutoError) as err:
            client.confirm_scoring()
        assert err.value.status == 409
        wait_status(client, "complete")


def test_busy_server_answers_409(csv_file):
    with sim(extract_seconds=5) as s, client_for(s) as client:
        client.upload(csv_file)
        with pytest.raises(PlutoError) as err:
            client.upload(csv_file)
        assert err.value.busy and err.value.message == "Processing already in progress"
        assert "queue" in err.value.user_message


def test_errors_are_fastapi_shaped(csv_file, tmp_path):
    with sim() as s, client_for(s) as client:
        with pytest.raises(PlutoError) as err:
            client.candidate("missing")
        assert err.value.status == 404 and err.value.message == "Candidate not found"
        bad = tmp_path / "list.csv"
        bad.write_text("email\nx@example.com\n")
        with pytest.raises(PlutoError) as err:
            client.upload(bad)
        assert err.value.message == "CSV must contain a name column"
        with pytest.raises(PlutoError) as err:
            client.create_room("")
        assert "interviewer_name: field required" in err.value.message


def test_run_error_is_reported_in_progress(csv_file):
    with sim(extract_seconds=5) as s, client_for(s) as client:
        client.upload(csv_file)
        s.fail_run("model quota exceeded")
        snap = client.progress()
        assert snap.status == "error" and snap.error == "model quota exceeded" and snap.finished


def test_candidate_features(csv_file):
    with sim() as s, client_for(s) as client:
        client.upload(csv_file)
        wait_status(client, "complete")
        ada = next(c for c in client.results() if c.name == "Ada Lovelace")
        assert client.candidate(ada.id).email == "ada@example.com"
        questions = client.questions(ada.id)
        assert len(questions) == 4 and "python" in questions[0].question and questions[0].purpose
        brief = client.prebrief(ada.id)
        assert brief.candidate_name == "Ada Lovelace" and set(brief.score_breakdown) >= {
            "technical_skills", "growth_trajectory"}
        assert brief.suggested_questions[0]["follow_up"] and brief.tldr and brief.topics_to_avoid
        link = client.intake_link(ada.id)
        assert link.url.reveal().startswith("https://sim.pluto.invalid/intake/") and link.expires_at
        assert client.validate_intake(ada.id, link.token).valid is True


def test_status_retries_through_faults(csv_file):
    with sim() as s, client_for(s) as client:
        s.faults.retry_after = 0.05
        s.faults.script("GET /api/pluto/status", "error_500", "rate_limit", "drop")
        assert client.progress().status == "idle"
        assert s.calls["GET /api/pluto/status"] == 4


def test_upload_is_never_resent_blindly(csv_file):
    with sim() as s, client_for(s) as client:
        s.faults.script("POST /api/pluto/upload", "drop_response")
        with pytest.raises(PlutoError) as err:
            client.upload(csv_file)
        assert err.value.outcome_unknown
        assert s.calls["POST /api/pluto/upload"] == 1
        assert client.progress().running  # it did land


def test_read_progress_handles_both_phases_and_preview():
    snap = read_progress({"status": "scoring", "progress": 75, "candidates_total": 50, "candidates_scored": 37,
                          "scored_candidates": [{"name": "B", "final_score": 70}, {"name": "A", "final_score": 90}]})
    assert snap.label == "scoring 37 of 50" and snap.percent == 75 and snap.top_preview[0] == ("A", 90.0)
    snap = read_progress({"status": "extracting", "candidates_total": 10, "candidates_extracted": 4})
    assert snap.label == "extracting 4 of 10"
    assert read_progress({"status": "error"}).error == "Pluto reported an error"
