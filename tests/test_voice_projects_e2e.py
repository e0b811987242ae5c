"""Voice projects end to end (issue 15): the real bot over HTTP, the Slack test bed and the Nimrobo simulator.

The role's existing project (each choice in turn), the research study picked in a searchable select,
``/voicelink project new`` and project edit (every field, evaluator set/change/remove), instant link edit
(expiry, evaluator), the channel's default project, project search with 500 projects, 1,000 labels from a
file (in the form and with a mention), transcripts as text and JSON, summary regeneration, relative expiry.
"""

import json
import re
from datetime import UTC, datetime

import pytest

from sandbox.stack import Stack, StackOptions
from tests.test_voicelink_e2e import (
    SECTIONS,
    choose_pattern,
    created_dm,
    form,
    open_modal,
    submit_for,
    view_saying,
)

USER, CHANNEL = "U_ALICE", "C_HIRING"
LINKS_ROUTE = "POST /api/v1/projects/{project_id}/links"
RELATIVE = re.compile(r"<!date\^\d+\^\{ago\}\|[^>]+>")


@pytest.fixture(params=["http"])
def stack(request):
    with Stack(StackOptions(nimrobo={"evaluation_delay": 0.2, "summary_delay": 0.3}, mode=request.param)) as s:
        yield s


def responses_with(stack, text, user=USER, count=1):
    """The response_url answers to ``user`` that contain ``text``, once there are ``count`` of them."""
    return stack.slack.wait_for(lambda: len(found := [r for r in stack.slack.responses(user)
                                                      if text in r["text"] + str(r["blocks"])]) >= count and found)


def submit_interview(stack, role="Backend Engineer", labels="Ada Lovelace\nAlan Turing", then="are in your DMs",
                     **fields):
    """The interview form, submitted; the form the bot then shows, once it says ``then``."""
    view = open_modal(stack)
    return submit_for(stack, view, form(view, name=role, labels=labels, **{**SECTIONS, **fields}), then)


def card_for(stack, label):
    return stack.slack.wait_for(lambda: [m for m in stack.slack.messages(CHANNEL) if label in str(m["blocks"])])[-1]


def project_named(stack, name):
    return [p for p in stack.nimrobo.projects.values() if p["name"] == name]


# -- the interview pattern when the role's project exists: every choice in turn --------------------------
def test_an_existing_role_project_is_never_silently_reused_each_choice_in_turn(stack):
    submit_interview(stack)
    created_dm(stack)
    (project,) = project_named(stack, "Backend Engineer")
    original_prompt = project["prompt"]

    def second_form(labels, goal):
        return submit_interview(stack, labels=labels, goal=goal, eval_prompt="Rate the answers",
                                eval_questions="Communication | number", then="already exists")

    # 1. add the links to it as it is: the project keeps its prompt; the form's differences were shown first
    review = second_form("Grace Hopper", "Screen for Go and payments")
    text = str(review["blocks"])
    assert "*Backend Engineer* (`" in text and "with 2 links" in text and "<!date^" in text
    radio = next(b for b in review["blocks"] if b["type"] == "input")["element"]
    assert radio["type"] == "radio_buttons" and [o["value"] for o in radio["options"]] == ["reuse", "update", "new"]
    assert "*Goal*" in text and "- Screen for backend skills" in text and "+ Screen for Go and payments" in text
    assert "*Evaluator*" in text and "Unchanged: Role, Guidelines, Constraints" in text
    assert len(stack.nimrobo.links) == 2  # nothing made before the choice
    submit_for(stack, review, form(review, project_choice="reuse"), "are in your DMs")
    assert project["prompt"] == original_prompt and "evaluator" not in project
    assert len(project_named(stack, "Backend Engineer")) == 1 and len(stack.nimrobo.links) == 3
    assert "existing project, kept as it was" in str(card_for(stack, "Grace Hopper")["blocks"])

    # 2. update it first: its prompt and evaluator become the form's, then the links are added to it
    review = second_form("Katherine Johnson", "Screen for Go and payments")
    submit_for(stack, review, form(review, project_choice="update"), "are in your DMs")
    assert "## Goal\nScreen for Go and payments" in project["prompt"]
    assert project["evaluator"]["questions"] == [{"id": "communication", "label": "Communication", "type": "number"}]
    assert len(project_named(stack, "Backend Engineer")) == 1 and len(stack.nimrobo.links) == 4
    assert "prompt and evaluator updated first" in str(card_for(stack, "Katherine Johnson")["blocks"])

    # 3. a new project for the role: the existing one is left as it is
    review = second_form("Mary Jackson", "A second opening")
    assert "- Screen for Go and payments" in str(review["blocks"])  # the diff is against the project as it is now
    submit_for(stack, review, form(review, project_choice="new"), "are in your DMs")
    projects = project_named(stack, "Backend Engineer")
    assert len(projects) == 2 and "A second opening" in projects[1]["prompt"]
    assert [link["projectId"] for link in stack.nimrobo.links.values()
            if link["label"] == "Mary Jackson"] == [projects[1]["id"]]
    assert "(new project)" in str(card_for(stack, "Mary Jackson")["blocks"])


# -- research: an existing study from a searchable select, or a new one ----------------------------------
def test_research_adds_interviews_to_a_study_picked_in_the_search_select(stack):
    view = choose_pattern(stack, open_modal(stack), "research")
    stack.signer.view_submission(view, form(view, name="Onboarding study", count="2", **SECTIONS), user=USER)
    created_dm(stack)
    (study,) = project_named(stack, "Onboarding study")

    view = choose_pattern(stack, open_modal(stack), "research")
    options = stack.signer.suggest("voicelink_study", "onboard", user=USER)
    assert [o["text"]["text"] for o in options] == ["➕ New study", "Onboarding study"]
    stack.signer.choose("voicelink_study", options[1], user=USER, values=form(view, labels="Interview 3"))
    picked = view_saying(stack, view["id"], "Adding interviews to *Onboarding study*")
    inputs = {b["block_id"].split("~")[0] for b in picked["blocks"] if b["type"] == "input"}
    assert "goal" not in inputs and "name" not in inputs and {"labels", "count", "expiry"} <= inputs
    assert form(picked)[next(k for k in form(picked) if k.startswith("labels~"))]["labels"]["value"] == "Interview 3"
    stack.signer.view_submission(picked, form(picked), user=USER)
    created_dm(stack, count=2)
    assert len(project_named(stack, "Onboarding study")) == 1
    assert sorted(link["label"] for link in stack.nimrobo.links.values() if link["projectId"] == study["id"]) == \
        ["Interview 1", "Interview 2", "Interview 3"]
    assert "(existing project)" in str(card_for(stack, "Interview 3")["blocks"])

    # choosing "New study" brings the whole form back
    view = choose_pattern(stack, open_modal(stack), "research")
    stack.signer.choose("voicelink_study", stack.signer.suggest("voicelink_study", "onboard", user=USER)[1],
                        user=USER)
    picked = view_saying(stack, view["id"], "Adding interviews to")
    stack.signer.choose("voicelink_study", stack.signer.suggest("voicelink_study", "", user=USER)[0], user=USER)
    again = stack.slack.wait_for(lambda: [v for v in stack.slack.views(user=USER) if v["id"] == view["id"]
                                          and v["hash"] != picked["hash"] and "goal~" in str(v["blocks"])])[-1]
    assert "New study" in str(again["blocks"])


# -- projects on their own: every field, and every field editable -----------------------------------------
def test_project_new_takes_every_field_and_answers_privately(stack):
    stack.signer.command("/voicelink", "project new", user=USER, channel=CHANNEL)
    modal = stack.slack.wait_for(lambda: [v for v in stack.slack.views(user=USER)
                                          if v.get("callback_id") == "voicelink_project_new"])[-1]
    typed = form(modal, name="Data Analyst", brief="SQL and dashboards for the growth team")
    stack.signer.press("Draft with AI: interview", user=USER, values=typed)
    drafted = view_saying(stack, modal["id"], "Drafted with AI")
    prefilled = {b["block_id"].split("~")[0]: b["element"].get("initial_value") for b in drafted["blocks"]
                 if b["type"] == "input"}
    assert prefilled["name"] == "Data Analyst" and all(prefilled[k] for k in SECTIONS)
    stack.signer.view_submission(drafted, form(drafted, description="Growth team analyst", landing_title="Hello",
                                               landing_info="Ten minutes, by voice", time_limit="12",
                                               eval_prompt="Rate SQL depth",
                                               eval_questions="SQL | number\nNotes | text"), user=USER)
    answer = stack.slack.wait_for(lambda: [e for e in stack.slack.ephemerals(USER, CHANNEL)
                                           if "Project *Data Analyst* created" in e["text"] + str(e["blocks"])])[-1]
    (project,) = project_named(stack, "Data Analyst")
    assert project["id"] in str(answer["blocks"]) and not stack.nimrobo.links
    assert project["description"] == "Growth team analyst" and project["landingPageTitle"] == "Hello"
    assert project["landingPageInfo"] == "Ten minutes, by voice" and project["timeLimitMinutes"] == 12
    assert re.findall(r"^## (\w+)", project["prompt"], re.M) == ["Goal", "Role", "Guidelines", "Constraints"]
    assert project["evaluator"] == {"prompt": "Rate SQL depth", "questions": [
        {"id": "sql", "label": "SQL", "type": "number"}, {"id": "notes", "label": "Notes", "type": "text"}]}
    assert not stack.slack.messages(CHANNEL)  # nothing in the channel


def edit_project(stack, project_id, **fields):
    stack.signer.command("/voicelink", f"project edit {project_id}", user=USER, channel=CHANNEL)
    modal = stack.slack.wait_for(lambda: [v for v in stack.slack.open_views(USER)
                                          if v.get("callback_id") == "voicelink_edit_project"])[-1]
    dms = len(stack.slack.dms(USER))
    stack.signer.view_submission(modal, form(modal, **fields), user=USER)
    return created_dm(stack, count=dms + 1)["text"], modal


def test_project_edit_covers_description_and_evaluator_set_change_remove(stack):
    submit_interview(stack, role="QA Lead", labels="Ada")
    created_dm(stack)
    (project,) = project_named(stack, "QA Lead")
    said, modal = edit_project(stack, project["id"], description="Quality for the payments team",
                               eval_prompt="Rate testing depth", eval_questions="Test design | number")
    assert "description, evaluator (set)" in said
    assert project["description"] == "Quality for the payments team"
    assert project["evaluator"]["questions"] == [{"id": "test_design", "label": "Test design", "type": "number"}]
    said, modal = edit_project(stack, project["id"], eval_questions="Test design | number\nAutomation | text")
    prefilled = {b["block_id"]: b["element"].get("initial_value") for b in modal["blocks"] if b["type"] == "input"}
    assert prefilled["description~1"] == "Quality for the payments team"
    assert prefilled["eval_questions~1"] == "Test design | number" and "evaluator (changed)" in said
    assert [q["id"] for q in project["evaluator"]["questions"]] == ["test_design", "automation"]
    said, _ = edit_project(stack, project["id"], eval_prompt="", eval_questions="")
    assert "evaluator (removed)" in said and "evaluator" not in project
    assert project["name"] == "QA Lead" and project["description"] == "Quality for the payments team"


def test_instant_link_edit_sets_expiry_and_evaluator_then_removes_it(stack):
    view = choose_pattern(stack, open_modal(stack), "instant")
    stack.signer.view_submission(view, form(view, labels="Walk-in", expiry="1_day", **SECTIONS), user=USER)
    created_dm(stack)
    link = next(iter(stack.nimrobo.links.values()))
    first_expiry = link["expiresAt"]

    def edit(**fields):
        listed = len([r for r in stack.slack.responses(USER) if "Walk-in" in str(r["blocks"])])
        seen = {v["id"] for v in stack.slack.views(user=USER)}
        stack.signer.command("/voicelink", "list", user=USER, channel=CHANNEL)
        responses_with(stack, "Walk-in", count=listed + 1)
        stack.signer.press("Edit", user=USER)
        modal = stack.slack.wait_for(lambda: [v for v in stack.slack.open_views(USER) if v["id"] not in seen
                                              and v.get("callback_id") == "voicelink_edit_instant"])[-1]
        dms = len(stack.slack.dms(USER))
        stack.signer.view_submission(modal, form(modal, **fields), user=USER)
        return created_dm(stack, count=dms + 1)["text"], modal

    said, modal = edit(expiry="1_month", eval_prompt="Rate clarity", eval_questions="Clarity | number")
    keep = next(b for b in modal["blocks"] if b.get("block_id") == "expiry~1")["element"]["initial_option"]
    assert keep["value"] == "keep" and first_expiry[:10] in keep["text"]["text"]
    assert "expiry (1 month from now)" in said and "evaluator (set)" in said
    days = (datetime.fromisoformat(link["expiresAt"].replace("Z", "+00:00")) - datetime.now(UTC)).days
    assert days >= 29 and link["expiryPreset"] == "1_month"
    assert link["evaluator"] == {"prompt": "Rate clarity", "questions": [{"id": "clarity", "label": "Clarity",
                                                                          "type": "number"}]}
    said, modal = edit(eval_prompt="", eval_questions="")
    assert "evaluator (removed)" in said and link["evaluator"] is None and link["expiryPreset"] == "1_month"


# -- a channel's default project --------------------------------------------------------------------------
def test_a_channel_default_project_serves_create_list_and_subscribe(stack):
    submit_interview(stack, role="QA Lead", labels="Ada")
    created_dm(stack)
    view = choose_pattern(stack, open_modal(stack), "instant")
    stack.signer.view_submission(view, form(view, labels="Walk-in", **SECTIONS), user=USER)
    created_dm(stack, count=2)
    (qa,) = project_named(stack, "QA Lead")

    stack.signer.command("/voicelink", "use", user=USER, channel=CHANNEL)
    responses_with(stack, "This channel has no default project")
    stack.signer.command("/voicelink", "use qa lead", user=USER, channel=CHANNEL)
    responses_with(stack, "*QA Lead* is now this channel's default project")
    stack.signer.command("/voicelink", "use", user=USER, channel=CHANNEL)
    shown = responses_with(stack, "This channel's default project is *QA Lead*")[-1]
    assert qa["id"] in shown["text"] + str(shown["blocks"]) and "<@U_ALICE>" in str(shown["blocks"])

    stack.signer.command("/voicelink", "list", user=USER, channel=CHANNEL)
    listing = responses_with(stack, "(this channel's default; `list all` shows every project)")[-1]
    assert "Ada" in str(listing["blocks"]) and "Walk-in" not in str(listing["blocks"])
    stack.signer.command("/voicelink", "list all", user=USER, channel=CHANNEL)
    assert "Walk-in" in str(responses_with(stack, "Walk-in")[-1]["blocks"])

    stack.signer.command("/voicelink", "subscribe", user=USER, channel=CHANNEL)
    responses_with(stack, "QA Lead")
    stack.slack.wait_for(lambda: stack.services.store.get("project_subscriptions", (qa["id"], CHANNEL)))
    stack.signer.command("/voicelink", "subscribe", user=USER, channel="C_ELSEWHERE")
    responses_with(stack, "give this channel a default project")

    view = open_modal(stack)
    assert "default project is *QA Lead*" in str(view["blocks"])
    review = submit_for(stack, view, form(view, labels="Grace", **SECTIONS), "already exists")  # the role: QA Lead
    submit_for(stack, review, form(review), "are in your DMs")  # "add as it is" is the first choice
    assert len(project_named(stack, "QA Lead")) == 1 and sum(1 for x in stack.nimrobo.links.values()
                                                             if x.get("projectId") == qa["id"]) == 2
    research = choose_pattern(stack, open_modal(stack), "research")
    assert "Adding interviews to *QA Lead*" in str(research["blocks"])  # the default is the study

    # the select in /voicelink use changes it; Clear removes it
    submit_interview(stack, role="SRE", labels="Linus")
    created_dm(stack, count=4)
    stack.signer.command("/voicelink", "use", user=USER, channel=CHANNEL)
    responses_with(stack, "This channel's default project is *QA Lead*", count=2)
    stack.signer.choose("voicelink_use_pick", stack.signer.suggest("voicelink_use_pick", "sre", user=USER)[0],
                        user=USER)
    responses_with(stack, "*SRE* is now this channel's default project")
    assert stack.services.store.get("channel_projects", CHANNEL)["project_name"] == "SRE"
    stack.signer.press("Clear the default", user=USER)
    responses_with(stack, "*SRE* is no longer this channel's default project")
    assert stack.services.store.get("channel_projects", CHANNEL) is None


# -- project search with 500 projects ---------------------------------------------------------------------
def seed_projects(stack, count):
    sim = stack.nimrobo
    with sim._lock:
        for i in range(count):
            stamp = f"2025-01-{1 + i % 28:02d}T00:00:{i % 60:02d}Z"
            sim.projects[f"proj_seed{i:04d}"] = {
                "id": f"proj_seed{i:04d}", "name": f"Project {i:04d} {'Sales' if i % 2 else 'Engineering'}",
                "prompt": "## Goal\ng\n\n## Role\nr\n\n## Guidelines\ng\n\n## Constraints\nc", "description": "",
                "landingPageTitle": "", "landingPageInfo": "", "timeLimitMinutes": 5, "createdAt": stamp,
                "updatedAt": stamp}


@pytest.mark.parametrize("stack", ["http", "socket"], indirect=True)  # options come over Socket Mode too
def test_project_search_stays_usable_with_500_projects_from_one_list_call(stack):
    seed_projects(stack, 500)
    stack.nimrobo.reset_calls()
    stack.signer.command("/voicelink", "projects", user=USER, channel=CHANNEL)
    page = responses_with(stack, "500 voice projects")[-1]
    assert len(page["blocks"]) <= 50 and "search above for the other 480" in str(page["blocks"])
    everything = stack.signer.suggest("voicelink_project_find", "", user=USER)
    assert len(everything) == 100  # Slack shows at most 100
    found = stack.signer.suggest("voicelink_project_find", "project 0427", user=USER)
    assert found[0]["text"]["text"] == "Project 0427 Sales" and found[0]["value"] == "proj_seed0427"
    assert [o["value"] for o in stack.signer.suggest("voicelink_project_find", "proj_seed0031", user=USER)] == \
        ["proj_seed0031"]
    sales = stack.signer.suggest("voicelink_project_find", "sales", user=USER)
    assert len(sales) == 100 and all("Sales" in o["text"]["text"] for o in sales)
    assert stack.nimrobo.calls["GET /api/v1/projects"] == 1  # fetched once, every search served from it
    stack.signer.choose("voicelink_project_find", found[0], user=USER)
    details = responses_with(stack, "Project Project 0427 Sales")[-1]
    assert details["response_type"] == "ephemeral" and "proj_seed0427" in str(details["blocks"])


# -- bulk labels from a file ------------------------------------------------------------------------------
NAMES = [f"Candidate {i:04d}" for i in range(1000)]


def names_csv():
    rows = ["name,email"] + [f"{n},c{i}@example.com" for i, n in enumerate(NAMES)]
    rows.insert(5, "Candidate 0000,again@example.com")  # line 6: a duplicate of line 2
    rows.insert(9, "candidate 0007 ,third@example.com")  # line 10: the same name as line 11, in other case
    rows.insert(12, ",nobody@example.com")  # line 13: no name
    return ("\n".join(rows) + "\n").encode()


def test_a_file_of_1000_names_in_the_form_reports_then_creates_in_at_most_10_requests(stack):
    stack.nimrobo.max_body_bytes = 8000  # a server body limit: the labels must go in parts
    file = stack.slack.add_file("candidates.csv", names_csv(), user=USER)
    view = open_modal(stack)
    review = submit_for(stack, view, form(view, name="Sales Rep", labels="", labels_file=[file], **SECTIONS),
                        "candidates.csv")
    text = str(review["blocks"])
    assert "*candidates.csv*: 1,000 names read from the `name` column" in text
    assert "“Candidate 0000” (lines 2, 6)" in text and "“candidate 0007” (lines 10, 11)" in text
    assert "Left out 1 empty label: line 13" in text and not stack.nimrobo.links
    assert review["submit"]["text"] == "Create 1,000 links"
    submit_for(stack, review, form(review), "1,000 links for *Sales Rep*")
    kept = ["candidate 0007" if n == "Candidate 0007" else n for n in NAMES]  # the first spelling is kept
    assert sorted(link["label"] for link in stack.nimrobo.links.values()) == sorted(kept)
    creates = [path for route, path in stack.nimrobo.log if route == LINKS_ROUTE]
    assert 1 < len(creates) <= 10
    dm = created_dm(stack)
    assert dm["text"] == "Your 1000 voice links for Sales Rep" and len(dm["blocks"]) <= 50
    assert "1000 of 1000" in str(card_for(stack, "Sales Rep")["blocks"])


def test_a_file_with_more_than_1000_names_creates_nothing(stack):
    data = ("\n".join(f"Person {i}" for i in range(1001)) + "\n").encode()
    file = stack.slack.add_file("people.txt", data, filetype="text", mimetype="text/plain", user=USER)
    view = choose_pattern(stack, open_modal(stack), "research")
    review = submit_for(stack, view, form(view, name="Study", labels_file=[file], **SECTIONS), "people.txt")
    assert "has 1,001 names; at most 1,000" in str(review["blocks"]) and "submit" not in review
    assert not stack.nimrobo.projects and not stack.nimrobo.links


def test_a_file_shared_with_a_mention_reports_privately_then_creates_on_press(stack):
    submit_interview(stack, role="QA Lead", labels="Ada")
    created_dm(stack)
    (qa,) = project_named(stack, "QA Lead")
    file = stack.slack.add_file("names.txt", b"Grace Hopper\nAlan Turing\n\n-\nGrace Hopper\n", filetype="text",
                                mimetype="text/plain", user=USER)
    stack.signer.app_mention(f"<@{stack.slack.bot_user_id}> links QA Lead for 1 day", files=[file], user=USER,
                             channel=CHANNEL)
    report = stack.slack.wait_for(lambda: [e for e in stack.slack.ephemerals(USER, CHANNEL)
                                           if "names.txt" in str(e["blocks"])])[-1]
    text = str(report["blocks"])
    assert "“Grace Hopper” (lines 1, 5)" in text and "line 4" in text and "expiring after 1 day" in text
    assert len(stack.nimrobo.links) == 1  # nothing yet, and nothing in the channel about it
    assert not [m for m in stack.slack.messages(CHANNEL) if "Grace Hopper" in str(m["blocks"])]
    button = next(e for b in report["blocks"] if b["type"] == "actions" for e in b["elements"])
    stack.signer.press("Create 2 links", user=USER)
    created_dm(stack, count=2)
    mine = [x for x in stack.nimrobo.links.values() if x["label"] in ("Grace Hopper", "Alan Turing")]
    assert len(mine) == 2 and {x["projectId"] for x in mine} == {qa["id"]} and {x["expiryPreset"] for x in mine} == \
        {"1_day"}
    assert "2 of 2" in str(card_for(stack, "Grace Hopper")["blocks"])
    responses_with(stack, "2 links for *QA Lead* are in your DMs")
    # a second press (a double click, before the message was replaced) creates nothing more
    stack.signer.block_action("voicelink_file_create", button["value"], user=USER, channel=CHANNEL,
                              ephemeral=True, message_ts=report["ts"])
    responses_with(stack, "were created already")
    assert len(stack.nimrobo.links) == 3


# -- sessions: transcript formats, summary regeneration ----------------------------------------------------
def finished_session(stack):
    submit_interview(stack, role="QA Lead", labels="Ada")
    created_dm(stack)
    link = next(iter(stack.nimrobo.links.values()))
    session = stack.nimrobo.start_session(link["id"])
    stack.nimrobo.complete_session(session)
    stack.signer.command("/voicelink", f"status {session}", user=USER, channel=CHANNEL)
    responses_with(stack, "completed")
    return session, link


def test_transcript_as_readable_text_or_json(stack):
    session, _ = finished_session(stack)
    stack.signer.press("Transcript (JSON)", user=USER)
    upload = stack.slack.wait_for(lambda: stack.slack.uploads())[-1]
    data = json.loads(upload["content"])
    assert upload["filename"] == f"transcript-{session}.json" and data["sessionId"] == session
    assert data["transcript"][0] == {"role": "agent", "text": "Hi Ada, thanks for joining. Could you introduce "
                                                               "yourself?"}
    stack.signer.press("Transcript (text)", user=USER)
    text = stack.slack.wait_for(lambda: len(stack.slack.uploads()) == 2 and stack.slack.uploads())[-1]
    assert text["filename"] == f"transcript-{session}.txt"
    assert text["content"].decode().splitlines()[:2] == [
        "Interviewer: Hi Ada, thanks for joining. Could you introduce yourself?",
        "Candidate: Sure. I have six years of experience building data products."]


def test_summary_regeneration_is_asked_once_however_often_it_is_pressed(stack):
    session, link = finished_session(stack)
    stack.signer.press("Summary", user=USER)
    responses_with(stack, "being generated")
    nimrobo = stack.services.nimrobo
    stack.slack.wait_for(lambda: not nimrobo.session_summary(session, project_id=link["projectId"]).generating)
    stack.signer.press("Refresh", user=USER)
    responses_with(stack, "Summary:")
    regenerate = "POST /api/v1/sessions/summary/regenerate"
    stack.signer.press("Regenerate", user=USER)
    responses_with(stack, "being regenerated")
    assert stack.nimrobo.calls[regenerate] == 1
    stack.signer.press("Regenerate", user=USER)  # the summary's button is still there: a second press
    responses_with(stack, "Refresh in a minute instead of asking again")
    assert stack.nimrobo.calls[regenerate] == 1
    stack.slack.wait_for(lambda: not nimrobo.session_summary(session, project_id=link["projectId"]).generating)
    stack.signer.press("Refresh", user=USER)
    responses_with(stack, "Summary:", count=2)
    # the watcher posts the completed interview (it reads the summary) and never regenerates it
    stack.slack.wait_for(lambda: [m for m in stack.slack.messages(CHANNEL)
                                  if (m.get("metadata") or {}).get("event_type") == "voice_session_completed"])
    assert stack.nimrobo.calls[regenerate] == 1


# -- link time ------------------------------------------------------------------------------------------
def test_link_lists_show_expiry_as_relative_time_with_the_exact_date(stack):
    submit_interview(stack, role="QA Lead", labels="Ada", expiry="1_day")
    dm = created_dm(stack)
    assert RELATIVE.search(dm["text"] + str(dm["blocks"]))
    card = card_for(stack, "Ada")
    assert "1 day · expires <!date^" in str(card["blocks"])
    stack.signer.command("/voicelink", "list", user=USER, channel=CHANNEL)
    listing = responses_with(stack, "Ada")[-1]
    line = next(b["text"]["text"] for b in listing["blocks"] if "*Ada*" in str(b))
    # the list is read at once: "expires in 24 hours (<the exact date, in the reader's time zone>)"
    date = re.search(r"expires in 2[34] hours \((<!date\^(\d+)\^\{date_short_pretty\} at \{time\}\|[^>]+>)\)", line)
    expires = next(iter(stack.nimrobo.links.values()))["expiresAt"]
    assert date and f"|{expires[:10]} {expires[11:16]} UTC>" in date.group(1)
    assert abs(int(date.group(2)) - datetime.fromisoformat(expires.replace("Z", "+00:00")).timestamp()) < 1
