"""The Nimrobo client against the simulator, over real HTTP."""

import httpx
import pytest

import config
from sandbox.nimrobo_sim import ALL_SCOPES
from services.http import RetryPolicy
from services.nimrobo import (
    REQUIRED_SCOPES,
    Evaluator,
    EvaluatorQuestion,
    NimroboClient,
    NimroboError,
    VoiceLink,
    features_needing,
    public_link_url,
)
from tests.conftest import NIMROBO_KEY as KEY
from tests.conftest import eventually

NIMROBO_DELAY = 0.3  # summaries and evaluations appear this long after an interview ends
EVALUATOR = {"prompt": "Rate the candidate", "questions": [
    {"id": "communication", "label": "Communication", "type": "number"},
    {"id": "highlights", "label": "Highlights", "type": "text"}]}
PROMPT = "## Goal\nScreen\n\n## Role\nInterviewer\n\n## Guidelines\nBe kind\n\n## Constraints\n10 minutes"


@pytest.fixture()
def client(nimrobo):
    """The conftest's client of the module's simulator (``sim``)."""
    return nimrobo


def make_project(client, name="Backend Engineer", evaluator=EVALUATOR):
    return client.create_project(name, PROMPT, landing_page_title="Welcome", time_limit_minutes=15,
                                 evaluator=evaluator)


def test_profile_and_scopes(sim, client):
    profile = client.get_profile()
    assert profile.email == "recruiter@example.com"
    assert client.missing_scopes() == []
    sim.add_key("api_readonly", ("user:read", "projects:read"))
    with NimroboClient(sim.url + "/api", "api_readonly") as limited:
        assert set(limited.missing_scopes()) == {"projects:write", "voice_links:read", "voice_links:write",
                                                 "sessions:read", "sessions:write"}
        assert limited.missing_scopes(["projects:read"]) == []
        with pytest.raises(NimroboError) as err:
            limited.create_project("x", PROMPT)
    assert err.value.status == 403
    assert "lacks the `projects:write` scope" in err.value.user_message
    assert set(REQUIRED_SCOPES.values()) == set(ALL_SCOPES)  # the bot needs every scope the API has
    assert any("create projects" in feature for feature in features_needing("projects:write"))
    assert sim.count("POST /api/v1/projects") == 3  # probes and the refused create; nothing was made
    assert not sim.projects


def test_defaults_come_from_config_and_key_is_never_shown(monkeypatch, sim):
    monkeypatch.setattr(config, "API_BASE_URL", sim.url + "/api")
    monkeypatch.setattr(config, "API_KEY", config.Secret(KEY))
    client = NimroboClient()
    assert client.get_profile().id
    assert KEY not in repr(client)
    client.close()


def test_bad_key_and_missing_key(sim):
    with NimroboClient(sim.url + "/api", "api_wrong") as c, pytest.raises(NimroboError) as err:
        c.list_projects()
    assert err.value.status == 401 and "invalid or revoked" in err.value.user_message
    with NimroboClient(sim.url + "/api", "") as c, pytest.raises(NimroboError) as err:
        c.list_projects()
    assert "NIMROBO_API_KEY" in err.value.user_message


def test_projects_crud_and_validation(client):
    project = make_project(client)
    assert project.time_limit_minutes == 15 and project.evaluator["questions"][0]["id"] == "communication"
    assert [p.id for p in client.list_projects()] == [project.id]
    assert client.get_project(project.id).name == "Backend Engineer"
    updated = client.update_project(project.id, name="Backend Engineer II", prompt=PROMPT, evaluator=None)
    assert updated.name == "Backend Engineer II" and updated.evaluator is None
    assert client.find_project("Backend Engineer II").id == project.id
    with pytest.raises(NimroboError) as err:
        client.get_project("proj_missing")
    assert err.value.status == 404 and err.value.message == "Project not found"
    assert "Project `proj_missing` was not found" in err.value.user_message
    assert err.value.endpoint == "GET /v1/projects/proj_missing"
    with pytest.raises(NimroboError) as err:
        client.update_project("proj_missing", name="x", prompt=PROMPT)
    assert err.value.status == 404
    with pytest.raises(NimroboError) as err:
        client.update_project(project.id, name="", prompt=PROMPT)
    assert err.value.message == "Name and prompt are required"
    with pytest.raises(NimroboError) as err:
        client.create_project("", PROMPT)
    assert err.value.message == "Name and prompt are required"
    with pytest.raises(NimroboError) as err:
        client.create_project("x", PROMPT, evaluator={"prompt": "p", "questions": [{"id": "a", "label": "A",
                                                                                    "type": "bool"}]})
    assert err.value.message == "Invalid evaluator question format"
    with pytest.raises(NimroboError) as err:
        client.create_project("x", PROMPT, evaluator={"prompt": 3})
    assert err.value.message == "Invalid evaluator format"


def test_project_links_create_list_cancel(sim, client):
    project = make_project(client)
    links = client.create_links(project.id, ["Ada Lovelace", "Alan Turing"], "1_week")
    assert [link.label for link in links] == ["Ada Lovelace", "Alan Turing"]
    assert all(link.is_active and link.url.endswith("/link/" + link.token) for link in links)
    assert sim.count("POST /api/v1/projects/{project_id}/links") == 1  # one request for many labels
    assert {link.id for link in client.list_links(project.id)} == {link.id for link in links}
    assert client.cancel_link(project.id, links[0].id) == "Link cancelled successfully"
    with pytest.raises(NimroboError) as err:
        client.cancel_link(project.id, links[0].id)
    assert err.value.message == "Cannot cancel link with status: cancelled"
    with pytest.raises(NimroboError) as err:
        client.cancel_link(project.id, "lnk_missing")
    assert err.value.status == 404 and err.value.message == "Link not found"
    with pytest.raises(NimroboError) as err:
        client.create_links(project.id, ["x"], "1_year")
    assert err.value.message == "Invalid expiry preset"
    with pytest.raises(NimroboError) as err:
        client.create_links("proj_missing", ["x"], "1_day")
    assert err.value.status == 404


def test_instant_links_get_a_public_url_and_only_active_ones_can_be_edited(sim, client):
    links = client.create_instant_links(["Interview 1"], "1_day", PROMPT, time_limit_minutes=500)
    link = links[0]
    assert link.kind == "instant" and link.raw.get("url") is None
    assert link.url == public_link_url(sim.url + "/api", link.token) == f"{sim.url}/link/{link.token}"
    assert client.list_instant_links()[0].time_limit_minutes == 60  # clamped
    client.update_instant_link(link.id, label="Renamed", time_limit_minutes=0.5)
    listed = client.list_instant_links()[0]
    assert listed.label == "Renamed" and listed.time_limit_minutes == 1
    with pytest.raises(NimroboError) as err:
        client.update_instant_link(link.id, prompt="  ")
    assert err.value.message == "Prompt must be a non-empty string"
    sim.expire_link(link.id)
    assert client.list_instant_links()[0].status == "expired"
    with pytest.raises(NimroboError) as err:
        client.update_instant_link(link.id, label="Again")
    assert err.value.message == "Only active links can be edited"
    with pytest.raises(NimroboError) as err:
        client.create_instant_links(["ok", " "], "1_day", PROMPT)
    assert err.value.message == "All labels must be non-empty strings"
    with pytest.raises(NimroboError) as err:
        client.create_instant_links(["ok"], "1_day", "")
    assert err.value.message == "Prompt is required"


def test_unknown_link_status_is_not_active():
    link = VoiceLink.from_api({"id": "l", "label": "x", "status": "archived", "token": "t"}, "project",
                              "https://app.nimroboai.com/api")
    assert not link.is_active
    assert link.url == "https://app.nimroboai.com/link/t"


def test_session_lifecycle_summary_202_then_200_and_late_evaluation(sim, client):
    project = make_project(client)
    link = client.create_links(project.id, ["Grace Hopper"], "1_day")[0]
    session_id = sim.start_session(link.id)
    used = client.list_links(project.id)[0]
    assert used.status == "used" and used.session_id == session_id and not used.is_active
    status = client.session_status(session_id, "project", project.id)
    assert status.status == "active" and not status.is_finished
    with pytest.raises(NimroboError) as err:
        client.session_audio_url(session_id, "project", project.id)
    assert err.value.status == 404 and "recording is not ready yet" in err.value.user_message
    with pytest.raises(NimroboError) as err:
        client.session_transcript(session_id, "project", project.id)
    assert err.value.message == f"conversation.json not found for session {session_id}"
    with pytest.raises(NimroboError) as err:
        client.cancel_link(project.id, link.id)
    assert err.value.message == "Cannot cancel link with status: used"
    assert "Only active links can be cancelled" in err.value.user_message
    sim.complete_session(session_id)
    assert client.session_status(session_id, "project", project.id).is_finished
    transcript = client.session_transcript(session_id, "project", project.id)
    assert transcript[0]["role"] == "agent" and "Grace Hopper" in transcript[0]["text"]
    assert "expires=" in client.session_audio_url(session_id, "project", project.id)
    first = client.session_summary(session_id, project_id=project.id)
    assert first.generating and first.summary is None
    evaluation = client.session_evaluation(session_id, "project", project.id)
    assert evaluation.results is None and not evaluation.has_error and not evaluation.ready
    summary = eventually(lambda: (s := client.session_summary(session_id, project_id=project.id)).summary and s)
    assert not summary.generating and "billing migration" in summary.summary["overview"]
    evaluation = client.session_evaluation(session_id, "project", project.id)
    assert evaluation.ready and set(evaluation.results) == {"communication", "highlights"}
    assert isinstance(evaluation.results["communication"], int)
    assert client.regenerate_summary(session_id, project_id=project.id).generating


def test_sessions_move_pending_then_active(sim, client):
    sim.pending_seconds = 0.3
    link = client.create_instant_links(["Caller"], "1_day", PROMPT)[0]
    session_id = sim.start_session(link.id)
    assert client.session_status(session_id, "instant").status == "pending"
    eventually(lambda: client.session_status(session_id, "instant").status == "active")


def test_no_evaluator_means_no_evaluation_and_failed_sessions_finish(sim, client):
    sim.evaluation_delay = 0  # an evaluation would exist at once: none means no evaluator
    link = client.create_instant_links(["Walk-in"], "1_day", PROMPT)[0]
    session_id = sim.start_session(link.id)
    sim.complete_session(session_id)
    assert client.session_evaluation(session_id, "instant").results is None
    assert client.session_summary(session_id, instant=True).generating  # first ask starts generation
    other = client.create_instant_links(["Second"], "1_day", PROMPT)[0]
    failed = sim.start_session(other.id)
    sim.fail_session(failed)
    assert client.session_status(failed, "instant").status == "failed"


@pytest.mark.parametrize(
    ("params", "message"),
    [({"type": "project"}, "projectId is required when type=project"),
     ({"type": "video"}, 'type must be "project" or "instant"')],
)
def test_session_query_errors(client, params, message):
    with pytest.raises(NimroboError) as err:
        client.session_status("sess_x", params["type"], params.get("project_id"))
    assert err.value.message == message and err.value.status == 400


def test_unknown_session_is_404(client):
    with pytest.raises(NimroboError) as err:
        client.session_status("sess_nope", "instant")
    assert err.value.status == 404 and err.value.message == "Session not found"


def test_gets_retry_through_500_429_and_dropped_connections(sim, client):
    make_project(client)
    sim.faults.script("GET /api/v1/projects", "error_500", "rate_limit", "drop")
    assert len(client.list_projects()) == 1
    assert sim.calls["GET /api/v1/projects"] >= 4


def test_gets_give_up_in_bounded_time(sim):
    sim.faults.configure(error_rate=1.0)
    with NimroboClient(sim.url + "/api", KEY, retry=RetryPolicy(attempts=3, base_delay=0.01)) as c, \
            pytest.raises(NimroboError) as err:
        c.list_projects()
    assert err.value.status == 500 and "try again" in err.value.user_message
    assert sim.calls["GET /api/v1/projects"] == 3


def test_lost_create_response_leaves_exactly_one_set_of_links(sim, client):
    project = make_project(client)
    labels = [f"Candidate {i}" for i in range(5)]
    sim.faults.script("POST /api/v1/projects/{project_id}/links", "drop_response")
    links = client.create_links(project.id, labels, "1_day")
    assert [link.label for link in links] == labels
    on_server = client.list_links(project.id)
    assert sorted(link.label for link in on_server) == sorted(labels)  # no duplicates
    assert sim.calls["POST /api/v1/projects/{project_id}/links"] == 1


def test_create_after_a_500_creates_only_what_is_missing(sim, client):
    project = make_project(client)
    sim.faults.script("POST /api/v1/projects/{project_id}/links", "error_500")  # nothing was created
    links = client.create_links(project.id, ["A", "B"], "1_day")
    assert [link.label for link in links] == ["A", "B"]
    assert len(client.list_links(project.id)) == 2


def test_lost_project_create_is_found_by_name(sim, client):
    sim.faults.script("POST /api/v1/projects", "drop_response")
    project = make_project(client, name="Data Analyst")
    assert [p.name for p in client.list_projects()] == ["Data Analyst"]
    assert project.name == "Data Analyst"


def test_lost_instant_create_is_reconciled(sim, client):
    sim.faults.script("POST /api/v1/instant-voice-links", "drop_response")
    links = client.create_instant_links(["One", "Two"], "1_week", PROMPT)
    assert sorted(link.label for link in links) == ["One", "Two"]
    assert len(client.list_instant_links()) == 2


def test_posts_are_not_retried_blindly_on_500(sim, client):
    sim.faults.script("POST /api/v1/projects", "error_500")
    # The project create reconciles: nothing was created by the failed call, so it is sent once more.
    make_project(client)
    assert len(client.list_projects()) == 1
    assert sim.calls["POST /api/v1/projects"] == 2


def test_evaluator_dataclass_round_trips_and_evaluation_answers_its_questions(sim, client):
    evaluator = Evaluator("Score the call", [EvaluatorQuestion("years", "Years of experience", "number"),
                                             EvaluatorQuestion("stack", "Main stack")])
    project = client.create_project("Platform Engineer", PROMPT, evaluator=evaluator)
    assert project.evaluator_config == evaluator
    assert client.get_project(project.id).evaluator == evaluator.to_api()
    link = client.create_links(project.id, ["Linus"], "1_month")[0]
    session_id = sim.start_session(link.id)
    sim.complete_session(session_id)
    results = eventually(lambda: client.session_evaluation(session_id, "project", project.id).results)
    assert isinstance(results["years"], int | float) and isinstance(results["stack"], str)


@pytest.mark.parametrize(
    ("fields", "message"),
    [({"label": ""}, "Label must be a non-empty string"),
     ({"expiry_preset": "2_days"}, "Invalid expiry preset"),
     ({"landing_page_title": 5}, "landingPageTitle must be a string"),
     ({"landing_page_info": None}, "landingPageInfo must be a string"),
     ({"time_limit_minutes": -3}, "timeLimitMinutes must be a positive number"),
     ({"evaluator": {"questions": []}}, "Invalid evaluator format")],
)
def test_instant_link_edit_errors(client, fields, message):
    link = client.create_instant_links(["Edit me"], "1_day", PROMPT)[0]
    with pytest.raises(NimroboError) as err:
        client.update_instant_link(link.id, **fields)
    assert err.value.status == 400 and err.value.message == message


def test_missing_ids_and_required_parameters(client):
    with pytest.raises(NimroboError) as err:
        client.update_instant_link("lnk_gone", label="x")
    assert err.value.status == 404 and "Instant link `lnk_gone` was not found" in err.value.user_message
    with pytest.raises(NimroboError) as err:
        client.cancel_link("", "lnk_gone")
    assert err.value.message == "projectId is required"
    with pytest.raises(NimroboError) as err:
        client.session_summary("")
    assert err.value.status == 400 and err.value.message == "sessionId is required"
    with pytest.raises(NimroboError) as err:
        client.regenerate_summary("sess_gone")
    assert err.value.status == 404 and "Session `sess_gone` was not found" in err.value.user_message
    with pytest.raises(NimroboError) as err:
        client.session_evaluation("sess_gone", "project", "proj_1")
    assert "Session `sess_gone` was not found as a project session in project `proj_1`" in err.value.user_message


def test_gets_survive_a_share_of_random_500s_429s_and_drops(sim, client):
    make_project(client)
    sim.faults.configure(error_rate=0.2, rate_limit_rate=0.15, drop_rate=0.1)
    # 45% of requests fail: with 5 attempts about 1 call in 50 would fail all of them, so give
    # this client enough attempts that the outcome doesn't hang on the fault sequence.
    patient = NimroboClient(sim.url + "/api", KEY, retry=RetryPolicy(base_delay=0.01, attempts=12, max_total=20))
    for _ in range(15):
        assert len(patient.list_projects()) == 1
    patient.close()
    assert sim.calls["GET /api/v1/projects"] > 15  # some calls were faulted and retried


def test_retry_after_is_honoured(sim):
    waits: list[float] = []
    sim.faults.retry_after = 7
    sim.faults.script("GET /api/v1/projects", "rate_limit")
    policy = RetryPolicy(base_delay=0.01, sleep=waits.append)
    with NimroboClient(sim.url + "/api", KEY, retry=policy) as c:
        assert c.list_projects() == []
    assert waits == [7.0]


def test_a_rate_limited_create_is_retried_once_and_leaves_one_set(sim, client):
    project = make_project(client)
    sim.faults.script("POST /api/v1/projects/{project_id}/links", "rate_limit")
    links = client.create_links(project.id, ["P", "Q"], "1_day")
    assert [link.label for link in links] == ["P", "Q"]
    assert len(client.list_links(project.id)) == 2
    assert sim.calls["POST /api/v1/projects/{project_id}/links"] == 2


def test_duplicate_labels_are_kept_when_reconciling(sim, client):
    project = make_project(client)
    sim.faults.script("POST /api/v1/projects/{project_id}/links", "drop_response")
    links = client.create_links(project.id, ["Sam Lee", "Sam Lee", "Kim"], "1_day")
    assert sorted(link.label for link in links) == ["Kim", "Sam Lee", "Sam Lee"]
    assert len(client.list_links(project.id)) == 3


def test_a_body_too_large_is_split_and_nothing_is_duplicated(sim, client):
    project = make_project(client)
    sim.max_body_bytes = 400
    labels = [f"Candidate number {i:03d}" for i in range(40)]
    links = client.create_links(project.id, labels, "1_week")
    assert [link.label for link in links] == labels
    assert sorted(link.label for link in client.list_links(project.id)) == labels
    assert sim.calls["POST /api/v1/projects/{project_id}/links"] > 1


class _SecondPartIsLost(httpx.HTTPTransport):
    """Real HTTP, except that the fourth POST dies before reaching the server."""

    posts = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            self.posts += 1
            if self.posts == 4:
                raise httpx.ReadError("connection reset", request=request)
        return super().handle_request(request)


def test_after_a_partial_create_only_the_missing_labels_are_sent(sim):
    with NimroboClient(sim.url + "/api", KEY, transport=_SecondPartIsLost(),
                       retry=RetryPolicy(attempts=2, base_delay=0.01)) as c:
        project = c.get_project(c.create_project("Role", PROMPT).id)  # POST 1
        sim.max_body_bytes = 300
        labels = [f"Applicant {i:02d}" for i in range(20)]
        # POST 2: 413; 3: the first half is created; 4: the second half is lost on the way
        links = c.create_links(project.id, labels, "1_day")
        assert [link.label for link in links] == labels
        assert sorted(link.label for link in c.list_links(project.id)) == labels
    assert sim.calls["POST /api/v1/projects/{project_id}/links"] == 3  # the lost part, then only it, once more


class _ReadsFailAfterAPost(httpx.HTTPTransport):
    """Real HTTP, except that Nimrobo stops answering reads once a POST has gone out."""

    posted = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and self.posted:
            raise httpx.ConnectError("connection refused", request=request)
        self.posted = self.posted or request.method == "POST"
        return super().handle_request(request)


def test_a_create_that_cannot_be_checked_stays_outcome_unknown(sim):
    with NimroboClient(sim.url + "/api", KEY, retry=RetryPolicy(attempts=2, base_delay=0.01)) as c:
        project = c.create_project("Role", PROMPT)
    transport = _ReadsFailAfterAPost()
    sim.faults.script("POST /api/v1/projects/{project_id}/links", "drop_response")
    with NimroboClient(sim.url + "/api", KEY, transport=transport,
                       retry=RetryPolicy(attempts=2, base_delay=0.01)) as c, pytest.raises(NimroboError) as err:
        c.create_links(project.id, ["A", "B", "C"], "1_day")
    assert err.value.outcome_unknown and "look before trying again" in err.value.user_message
    assert sorted(link["label"] for link in sim.all_links()) == ["A", "B", "C"]  # created once, not re-sent
    assert sim.calls["POST /api/v1/projects/{project_id}/links"] == 1


def test_control_surface_over_http_drives_a_session(sim, client):
    link = client.create_instant_links(["Remote"], "1_day", PROMPT)[0]
    assert link.url == f"{sim.url}/link/{link.token}"
    with httpx.Client(base_url=sim.url) as http:
        assert http.post("/_control/nimrobo/add_key", json={"key": "api_other", "scopes": ["user:read"]}).json()["ok"]
        session_id = http.post("/_control/nimrobo/start_session", json={"link_id": link.id}).json()["result"]
        assert http.post("/_control/nimrobo/complete_session", json={"session_id": session_id}).json()["ok"]
        refused = http.post("/_control/nimrobo/start_session", json={"link_id": link.id})
        assert refused.status_code == 400 and "used" in refused.json()["error"]
        http.post("/_control/faults", json={"script": {"GET /api/v1/instant-voice-links": ["error_500"]}})
        assert http.get("/_control/calls").json() == {"POST /api/v1/instant-voice-links": 1,
                                                      "GET /api/v1/instant-voice-links": 1}
    assert client.session_status(session_id, "instant").is_finished
    assert client.list_instant_links()[0].session_id == session_id  # after one retried 500
    with NimroboClient(sim.url + "/api", "api_other") as other:
        assert other.get_profile().id
