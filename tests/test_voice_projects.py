"""Voice projects without Slack: labels from a file, project search, the project list cache, the diff a choice
shows, the create-request budget, and the review/confirm rules of VoiceLinkService."""

import threading

import pytest

from services.errors import NotAllowed
from services.nimrobo import NimroboClient, Project
from services.voice.forms import MAX_LABELS, VoiceForm, keep_question_ids, read_label_file, validate_edit_form
from services.voice.links import VoiceLinkService
from services.voice.projects import ProjectCache, StillLoading, project_diff, rank
from tests.conftest import NIMROBO_KEY

PROMPT = "## Goal\nScreen for Go\n\n## Role\nA recruiter\n\n## Guidelines\nOne at a time\n\n## Constraints\nTen minutes"
LINKS_ROUTE = "POST /api/v1/projects/{project_id}/links"


# -- labels from a file ------------------------------------------------------------------------------------
def test_a_csv_is_read_from_its_name_column_with_duplicates_and_empty_labels_reported():
    data = b"email,Full Name\na@x.com,Ada Lovelace\nb@x.com,\nc@x.com,ada  lovelace\nd@x.com,Alan Turing\n"
    file = read_label_file(data, "people.csv")
    assert file.labels == ["Ada Lovelace", "Alan Turing"] and file.source == "the `Full Name` column"
    assert file.duplicates == [("Ada Lovelace", [2, 4])] and file.empty == [3] and file.left_out == 2


def test_first_and_last_name_columns_semicolons_and_windows_1252():
    data = "first_name;last_name\nJosé;Núñez\nAda;Lovelace\n".encode("cp1252")
    file = read_label_file(data, "export.csv")
    assert file.labels == ["José Núñez", "Ada Lovelace"] and "first_name" in file.source


def test_a_text_file_is_one_label_a_line_and_a_header_word_is_skipped():
    file = read_label_file(b"\xef\xbb\xbfNames\nAda\n\n  Alan  \n--\n", "names.txt")
    assert file.labels == ["Ada", "Alan"] and file.source == "each line" and file.empty == [5]


def test_without_a_name_column_the_first_column_is_read_and_said():
    file = read_label_file(b"id,score\np1,3\np2,4\n", "scores.csv")
    assert file.labels == ["p1", "p2"] and file.source == "the first column (`id`)"


def test_too_many_names_and_binary_files_are_refused_with_the_reason():
    many = read_label_file(("\n".join(f"P{i}" for i in range(MAX_LABELS + 1))).encode(), "many.txt")
    assert many.too_many and "1,001 names; at most 1,000" in many.problem
    from services.voice.forms import LabelFileError

    with pytest.raises(LabelFileError, match="I can't read book.xlsx: it looks like an Excel workbook"):
        read_label_file(b"PK\x03\x04rest", "book.xlsx")


# -- evaluator edits -------------------------------------------------------------------------------------
def test_an_edit_keeps_the_ids_of_unchanged_questions_and_empty_fields_remove_the_evaluator():
    old = {"prompt": "p", "questions": [{"id": "q_comm", "label": "Communication", "type": "number"}]}
    new = {"prompt": "p2", "questions": [{"id": "communication", "label": "communication", "type": "number"},
                                         {"id": "depth", "label": "Depth", "type": "text"}]}
    assert [q["id"] for q in keep_question_ids(new, old)["questions"]] == ["q_comm", "depth"]
    values = {"label": "QA", "goal": "g", "role": "r", "guidelines": "x", "constraints": "c", "time_limit": "5",
              "eval_prompt": "", "eval_questions": "", "expiry": "1_month"}
    fields, errors = validate_edit_form(values, "label")
    assert not errors and fields["evaluator"] is None and fields["expiry_preset"] == "1_month"
    fields, _ = validate_edit_form({**values, "expiry": "keep"}, "label")
    assert "expiry_preset" not in fields


# -- search and the cache ----------------------------------------------------------------------------------
def projects(*names):
    return [Project(id=f"p{i}", name=n, updated_at=f"2025-01-{i + 1:02d}") for i, n in enumerate(names)]


def test_rank_puts_exact_then_prefix_then_word_then_anywhere_and_empty_is_newest_first():
    items = projects("Sales lead", "Lead engineer", "Team lead", "Misleading", "Lead")
    assert [p.name for p in rank(items, "lead")] == ["Lead", "Lead engineer", "Team lead", "Sales lead",
                                                     "Misleading"]
    assert [p.name for p in rank(items, "", limit=2)] == ["Lead", "Misleading"]
    assert [p.id for p in rank(items, "p3")] == ["p3"]


def test_the_cache_fetches_once_for_many_askers_and_a_failure_is_not_kept():
    calls, gate = [], threading.Event()

    def fetch():
        calls.append(1)
        gate.wait(5)
        if len(calls) == 1:
            return projects("A", "B")
        raise RuntimeError("down")

    now = [0.0]
    cache = ProjectCache(fetch, ttl=60, clock=lambda: now[0])
    with pytest.raises(StillLoading):
        cache.get(wait=0.05)  # a select asking while Nimrobo is slow is told to type again
    results = []
    askers = [threading.Thread(target=lambda: results.append(cache.get())) for _ in range(5)]
    for t in askers:
        t.start()
    gate.set()
    for t in askers:
        t.join(5)
    assert len(calls) == 1 and len(results) == 5 and all(len(r) == 2 for r in results)
    now[0] = 61.0  # stale: the next ask fetches again; that fetch fails and nothing is cached
    with pytest.raises(RuntimeError):
        cache.get()
    with pytest.raises(RuntimeError):
        cache.get()
    assert len(calls) == 3


def test_the_diff_names_each_section_and_the_evaluator():
    project = Project(id="p1", name="Role", prompt=PROMPT, time_limit_minutes=10)
    new_prompt = PROMPT.replace("Screen for Go", "Screen for Rust")
    diff = {d.title: d for d in project_diff(project, new_prompt, {"prompt": "Rate", "questions": []},
                                             time_limit=10, landing_title="", landing_info="")}
    assert [t for t, d in diff.items() if d.changed] == ["Goal", "Evaluator"]
    assert diff["Goal"].old == "Screen for Go" and diff["Goal"].new == "Screen for Rust"


# -- the create-request budget -------------------------------------------------------------------------------
def test_1000_labels_against_a_small_body_limit_take_at_most_10_create_requests(sim, nimrobo):
    project = nimrobo.create_project("Role", PROMPT)
    sim.max_body_bytes = 3000
    labels = [f"Candidate number {i:04d}" for i in range(1000)]
    with pytest.raises(Exception) as err:
        nimrobo.create_links(project.id, labels, "1_week")
    created = err.value.created
    assert sim.calls[LINKS_ROUTE] == 10 and 0 < len(created) < 1000
    assert sorted(link.label for link in created) == sorted(link["label"] for link in sim.all_links())
    assert "in 10 requests" in err.value.user_message


# -- review and confirm ----------------------------------------------------------------------------------
@pytest.fixture()
def voicelinks(store, sim):
    from config import Settings

    sim.add_key(NIMROBO_KEY)
    client = NimroboClient(sim.url + "/api", NIMROBO_KEY)
    yield VoiceLinkService(store, client, Settings())
    client.close()


def form(name="Backend Engineer", labels=("Ada",), prompt=PROMPT):
    return VoiceForm(pattern="interview", name=name, labels=list(labels), prompt=prompt, expiry_preset="1_week",
                     time_limit_minutes=10)


def test_a_review_is_confirmed_once_by_its_creator_only_with_a_choice(voicelinks, sim):
    first = voicelinks.prepare(form(), channel="C1", creator="U1")
    assert first.existing is None and not first.needs_answer
    voicelinks.confirm(first.batch.id, "U1")
    review = voicelinks.prepare(form(name=" backend  engineer ", labels=("Alan",)), channel="C1", creator="U1")
    assert review.existing is not None and review.existing.link_count == 1 and review.needs_answer
    with pytest.raises(NotAllowed):
        voicelinks.confirm(review.batch.id, "U2", "reuse")
    with pytest.raises(NotAllowed, match="Choose"):
        voicelinks.confirm(review.batch.id, "U1")
    result = voicelinks.confirm(review.batch.id, "U1", "reuse")
    assert [link.label for link in result.links] == ["Alan"] and len(sim.projects) == 1
    assert voicelinks.confirm(review.batch.id, "U1", "reuse").links == []  # a second confirm creates nothing
    assert len(sim.links) == 2


def test_on_a_shared_account_a_workspace_sees_only_the_projects_it_knows(voicelinks, sim):
    """Several workspaces on the environment's Nimrobo key: a project this store knows nothing of (another
    workspace's, or one made in Nimrobo directly) is not listed, found or opened; on a key of its own, all are."""
    from services.errors import NotFoundHere

    made = voicelinks.create_project({"name": "Made here", "prompt": PROMPT})
    with NimroboClient(sim.url + "/api", NIMROBO_KEY) as other:
        elsewhere = other.create_project("Another workspace's", PROMPT)
    voicelinks.shared_account = lambda: True
    assert [p.name for p in voicelinks.projects(fresh=True)] == ["Made here"]
    assert [p.name for p in voicelinks.search_projects("workspace")] == []
    with pytest.raises(NotFoundHere):
        voicelinks.project_by_id(elsewhere.id)
    with pytest.raises(NotFoundHere):
        voicelinks.project(elsewhere.id)
    assert voicelinks.project_by_id(made.id).name == "Made here"
    voicelinks.shared_account = lambda: False  # single-workspace mode, or the workspace's own Nimrobo key
    assert sorted(p.name for p in voicelinks.projects(fresh=True)) == ["Another workspace's", "Made here"]
    assert voicelinks.project_by_id(elsewhere.id).name == "Another workspace's"
