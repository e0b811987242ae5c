"""/voicelink end to end: the real bot (over HTTP and over Socket Mode), the Slack test bed, the Nimrobo simulator and the OpenAI stand-in."""

import re

import pytest

from sandbox.stack import Stack, StackOptions

USER, OTHER, CHANNEL = "U_ALICE", "U_MALLORY", "C_HIRING"
SECTIONS = {"goal": "Screen for backend skills", "role": "A friendly recruiter",
            "guidelines": "One question at a time", "constraints": "Ten minutes; no personal questions"}


#: The journeys that also run over Socket Mode; the rest exercise voice-link logic the transport does not touch.
BOTH_MODES = pytest.mark.parametrize("stack", ["http", "socket"], indirect=True)


@pytest.fixture(params=["http"])
def stack(request):
    with Stack(StackOptions(nimrobo={"evaluation_delay": 0.2, "summary_delay": 0.2}, mode=request.param)) as s:
        yield s


def open_modal(stack, user=USER):
    before = len(stack.slack.views(user=user))
    stack.signer.command("/voicelink", "create", user=user, channel=CHANNEL)
    return stack.slack.wait_for(lambda: stack.slack.views(user=user)[before:])[-1]


def value(text):
    return {"type": "plain_text_input", "value": text}


def form(view, **fields):
    """State values for ``view``'s input blocks from ``fields`` (key -> text)."""
    values = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        key = block["block_id"].split("~")[0]
        element = block["element"]
        if element["type"] in ("static_select", "radio_buttons"):
            chosen = fields.get(key) or element["initial_option"]["value"]
            values[block["block_id"]] = {element["action_id"]: {"type": element["type"],
                                                                "selected_option": {"value": chosen}}}
        elif element["type"] == "file_input":
            values[block["block_id"]] = {element["action_id"]: {"type": "file_input", "files": fields.get(key, [])}}
        else:
            default = element.get("initial_value")
            values[block["block_id"]] = {element["action_id"]: value(fields.get(key, default))}
    return values


def choose_pattern(stack, view, pattern):
    stack.signer.block_action("voicelink_pattern", block_id="pattern_pick", user=USER, view=view,
                              action_type="static_select", selected_option={"value": pattern})
    return stack.slack.wait_for(lambda: [v for v in stack.slack.views(user=USER)
                                         if v["id"] == view["id"] and v["hash"] != view["hash"]])[-1]


def created_dm(stack, user=USER, count=1):
    return stack.slack.wait_for(lambda: len(stack.slack.dms(user)) >= count and stack.slack.dms(user))[count - 1]


def view_saying(stack, view_id, text, user=USER):
    """The modal ``view_id`` once it shows ``text`` (it was updated in place)."""
    return stack.slack.wait_for(lambda: [v for v in stack.slack.views(user=user)
                                         if v["id"] == view_id and text in str(v["blocks"])])[-1]


def submit_for(stack, view, values, text, user=USER):
    """Submit ``view``; the form the bot opens next (checking, then a review or the outcome), once it says ``text``."""
    before = len(stack.slack.views(user=user))
    response = stack.signer.view_submission(view, values, user=user)
    assert response.status_code == 200 and not response.content  # the submitted form closes
    return stack.slack.wait_for(lambda: [v for v in stack.slack.views(user=user)[before:]
                                         if text in str(v["blocks"])])[-1]


@BOTH_MODES
def test_interview_pattern_links_privately_card_publicly_prompt_in_order(stack):
    view = open_modal(stack)
    done = submit_for(stack, view, form(view, name="Backend Engineer", labels="Ada Lovelace\nAlan Turing",
                                        **SECTIONS, time_limit="15", expiry="1_day"), "are in your DMs")
    opened = [e for e in stack.slack.timeline_since(0) if e["kind"] == "view_open"][-1]
    assert opened["view_id"] == done["id"] and "Looking for a project for Backend Engineer" in str(opened["blocks"])
    assert "2 links for *Backend Engineer*" in str(done["blocks"])
    dm = created_dm(stack)
    urls = re.findall(r"<(http[^>|]+)>", str(dm["blocks"]))
    assert len(urls) == 2 and all("/link/" in u for u in urls)
    card = stack.slack.wait_for(lambda: stack.slack.messages(CHANNEL))[0]
    card_text = str(card["blocks"])
    assert "Backend Engineer" in card_text and "Ada Lovelace — active" in card_text and "2 of 2" in card_text
    assert not any(u in card_text for u in urls) and "/link/" not in card_text
    project = next(iter(stack.nimrobo.projects.values()))
    headings = re.findall(r"^## (\w+)", project["prompt"], re.M)
    assert headings == ["Goal", "Role", "Guidelines", "Constraints"]
    assert project["timeLimitMinutes"] == 15
    rows = stack.services.store.rows("voice_links")
    assert {r["label"] for r in rows} == {"Ada Lovelace", "Alan Turing"}
    assert all(r["channel"] == CHANNEL and r["creator"] == USER for r in rows)
    assert "/link/" not in str(stack.services.store.rows("voice_links")) + str(stack.services.store.rows("voice_batches"))
    assert "new project" in card_text


def test_research_pattern_from_a_count(stack):
    view = choose_pattern(stack, open_modal(stack), "research")
    stack.signer.view_submission(view, form(view, name="Onboarding study", count="3", **SECTIONS), user=USER)
    created_dm(stack)
    labels = sorted(link["label"] for link in stack.nimrobo.links.values())
    assert labels == ["Interview 1", "Interview 2", "Interview 3"]
    assert [p["name"] for p in stack.nimrobo.projects.values()] == ["Onboarding study"]


def test_instant_pattern_has_no_project(stack):
    view = choose_pattern(stack, open_modal(stack), "instant")
    stack.signer.view_submission(view, form(view, labels="Walk-in 1", **SECTIONS), user=USER)
    dm = created_dm(stack)
    assert "/link/" in str(dm["blocks"]) and not stack.nimrobo.projects
    link = next(iter(stack.nimrobo.links.values()))
    assert link["_kind"] == "instant" and link["prompt"].startswith("## Goal")


@BOTH_MODES
def test_validation_errors_show_inline_and_nothing_is_created(stack):
    view = open_modal(stack)
    values = form(view, name="", labels="Ada\n-\nada", goal="", role="r", guidelines="g", constraints="c",
                  time_limit="90", eval_questions="Communication | boolean")
    body = stack.signer.view_submission(view, values, user=USER).json()
    assert body["response_action"] == "errors"
    errors = body["errors"]
    assert errors["name~1"] == "Name the role."
    assert "Line 2 is an empty label" in errors["labels~1"] and "listed twice" in errors["labels~1"]
    assert errors["goal~1"] == "The Goal section is required."
    assert errors["time_limit~1"] == "Choose 1 to 60 minutes."
    assert "type must be text or number" in errors["eval_questions~1"]
    assert errors["eval_prompt~1"] == "The evaluator needs a prompt too."
    assert not stack.nimrobo.projects and not stack.nimrobo.links


def test_evaluator_questions_get_unique_ids(stack):
    view = open_modal(stack)
    stack.signer.view_submission(view, form(view, name="Data Analyst", labels="Ada", **SECTIONS,
                                            eval_prompt="Rate the answers",
                                            eval_questions="Communication | number\nCommunication | text\nNotes"),
                                 user=USER)
    created_dm(stack)
    questions = next(iter(stack.nimrobo.projects.values()))["evaluator"]["questions"]
    assert [q["id"] for q in questions] == ["communication", "communication_2", "notes"]
    assert [q["type"] for q in questions] == ["number", "text", "text"]


@BOTH_MODES
def test_draft_with_ai_uses_structured_output(stack):
    view = open_modal(stack)
    view = choose_pattern(stack, view, "interview")
    values = form(view, name="Backend Engineer", brief="We need a Go engineer for payments")
    view = {**view, "state": {"values": values}}
    stack.signer.press("Draft with AI", user=USER)
    drafted = stack.slack.wait_for(lambda: [v for v in stack.slack.views(user=USER)
                                            if "Drafted with AI" in str(v["blocks"])])[-1]
    initial = {b["block_id"].split("~")[0]: b["element"].get("initial_value") for b in drafted["blocks"]
               if b["type"] == "input"}
    assert all(initial[k] for k in ("goal", "role", "guidelines", "constraints"))
    request = stack.openai.requests[-1]
    assert request["response_format"]["type"] == "json_schema"
    assert request["response_format"]["json_schema"]["schema"]["required"] == ["goal", "role", "guidelines",
                                                                              "constraints"]


def test_without_an_openai_key_the_button_fills_a_template():
    with Stack(StackOptions(openai=False)) as stack:
        view = open_modal(stack)
        assert "Fill from template" in str(view["blocks"])
        stack.signer.press("Fill from template", user=USER)
        filled = stack.slack.wait_for(lambda: [v for v in stack.slack.views(user=USER)
                                               if "Filled from a template" in str(v["blocks"])])[-1]
        initial = {b["block_id"].split("~")[0]: b["element"].get("initial_value") for b in filled["blocks"]
                   if b["type"] == "input"}
        assert "screening interview" in initial["goal"] and initial["constraints"]


def test_partial_failure_is_reported_and_retry_reuses_the_project(stack):
    route = "POST /api/v1/projects/{project_id}/links"
    stack.nimrobo.faults.script(route, "error_500", "error_500")
    view = open_modal(stack)
    stack.signer.view_submission(view, form(view, name="SRE", labels="Ada\nAlan", **SECTIONS), user=USER)
    card = stack.slack.wait_for(lambda: [m for m in stack.slack.messages(CHANNEL) if "Retry" in str(m["blocks"])])[0]
    assert "0 of 2" in str(card["blocks"]) and "Nimrobo" in str(card["blocks"])
    assert len(stack.nimrobo.projects) == 1 and not stack.nimrobo.links
    stack.signer.press("Retry creating links", user=USER)
    created_dm(stack)
    assert len(stack.nimrobo.projects) == 1 and len(stack.nimrobo.links) == 2
    updated = stack.slack.wait_for(lambda: "2 of 2" in str(stack.slack.message(CHANNEL, card["ts"])["blocks"]))
    assert updated


def make_links(stack, pattern="interview", labels="Ada\nAlan", name="QA Lead", **extra):
    """The links one create submission made (as the simulator holds them)."""
    before = set(stack.nimrobo.links)
    view = open_modal(stack)
    if pattern != "interview":
        view = choose_pattern(stack, view, pattern)
    stack.signer.view_submission(view, form(view, name=name, labels=labels, **{**SECTIONS, **extra}), user=USER)
    created_dm(stack, count=len(stack.slack.dms(USER)) + 1)
    return [link for link_id, link in stack.nimrobo.links.items() if link_id not in before]


@BOTH_MODES
def test_cancel_rules(stack):
    links = make_links(stack)
    first = links[0]
    stack.slack.members[CHANNEL] = {USER}
    stack.signer.command("/voicelink", f"cancel {first['id']}", user=OTHER, channel="C_OTHER")
    # someone who may not see the link is told what a link that does not exist gets
    stack.slack.wait_for(lambda: [r for r in stack.slack.responses(OTHER)
                                  if r["text"].startswith(f"Link `{first['id']}` was not found")])
    stack.signer.command("/voicelink", f"cancel {first['id']}", user=USER, channel=CHANNEL)
    stack.slack.wait_for(lambda: [r for r in stack.slack.responses(USER) if r["text"] == f"Cancel {first['label']}?"])
    stack.signer.press("Cancel link", user=USER)
    # not "is cancelled": the refusal "…this one is cancelled" says that too
    answered(stack, lambda t: t.startswith(f":white_check_mark: The link for *{first['label']}* is cancelled"))
    assert stack.nimrobo.links[first["id"]]["status"] == "cancelled"
    stack.signer.command("/voicelink", f"cancel {first['id']}", user=USER, channel=CHANNEL)
    stack.slack.wait_for(lambda: [r for r in stack.slack.responses(USER) if "this one is cancelled" in r["text"]])
    instant = make_links(stack, "instant", "Walk-in")[-1]
    stack.signer.command("/voicelink", f"cancel {instant['id']}", user=USER, channel=CHANNEL)
    stack.slack.wait_for(lambda: [r for r in stack.slack.responses(USER) if "can't be cancelled" in r["text"]])
    stack.signer.command("/voicelink", "cancel lnk_missing", user=USER, channel=CHANNEL)
    stack.slack.wait_for(lambda: [r for r in stack.slack.responses(USER)
                                  if r["text"].startswith("Link `lnk_missing` was not found")])


@BOTH_MODES
def test_list_and_edit_an_instant_link(stack):
    instant = make_links(stack, "instant", "Walk-in")[-1]
    stack.nimrobo.links[instant["id"]]["status"] = "archived"  # an unknown status shows as not active
    stack.signer.command("/voicelink", "list", user=USER, channel=CHANNEL)
    listing = stack.slack.wait_for(lambda: [r for r in stack.slack.responses(USER)
                                            if re.fullmatch(r"\d+ voice links", r["text"])])
    assert "not active (archived)" in str(listing[-1]["blocks"])
    stack.nimrobo.links[instant["id"]]["status"] = "active"
    stack.signer.command("/voicelink", "list", user=USER, channel=CHANNEL)
    stack.slack.wait_for(lambda: len([r for r in stack.slack.responses(USER)
                                      if re.fullmatch(r"\d+ voice links", r["text"])]) == 2)
    stack.signer.press("Edit", user=USER)
    modal = stack.slack.wait_for(lambda: [v for v in stack.slack.views(user=USER)
                                          if v.get("callback_id") == "voicelink_edit_instant"])[-1]
    prefilled = {b["block_id"]: b["element"].get("initial_value") for b in modal["blocks"] if b["type"] == "input"}
    assert prefilled["label~1"] == "Walk-in" and prefilled["goal~1"] == SECTIONS["goal"]
    stack.signer.view_submission(modal, form(modal, label="Walk-in (renamed)"), user=USER)
    stack.slack.wait_for(lambda: stack.nimrobo.links[instant["id"]]["label"] == "Walk-in (renamed)")


def test_projects_details_and_edit_sends_name_and_prompt(stack):
    make_links(stack)
    stack.signer.command("/voicelink", "projects", user=USER, channel=CHANNEL)
    stack.slack.wait_for(lambda: [r for r in stack.slack.responses(USER) if "1 voice projects" in r["text"]])
    stack.signer.press("Details", user=USER)
    stack.slack.wait_for(lambda: [r for r in stack.slack.responses(USER) if r["text"].startswith("Project QA Lead")])
    stack.signer.press("Edit", user=USER)
    modal = stack.slack.wait_for(lambda: [v for v in stack.slack.views(user=USER)
                                          if v.get("callback_id") == "voicelink_edit_project"])[-1]
    stack.signer.view_submission(modal, form(modal, constraints="Fifteen minutes"), user=USER)
    project = next(iter(stack.nimrobo.projects.values()))
    stack.slack.wait_for(lambda: "Fifteen minutes" in project["prompt"])
    assert project["name"] == "QA Lead" and project["prompt"].index("## Goal") < project["prompt"].index("## Constraints")


def shown(message):
    """Every text a message shows (its fallback text and each text object in its blocks)."""
    found = [message.get("text") or ""]

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.get("blocks") or [])
    return "\n".join(found)


def answered(stack, predicate, user=USER):
    """The newest private answer to ``user`` that ``predicate`` accepts (by what it shows)."""
    return stack.slack.wait_for(lambda: [r for r in stack.slack.responses(user) if predicate(shown(r))])[-1]


CHAT_TRANSCRIPT = [{"role": "assistant", "content": "Why do you want this role?", "timestamp": 3},
                   {"role": "user", "content": "Because I like building payment systems.", "timestamp": 9.5}]


def test_status_with_transcript_audio_evaluation_and_summary(stack):
    link = make_links(stack, labels="Ada", eval_prompt="Rate the answers",
                      eval_questions="Communication | number\nNotes | text")[0]
    session = stack.nimrobo.start_session(link["id"])
    stack.nimrobo.complete_session(session, transcript=CHAT_TRANSCRIPT)  # the chat shape: words under content
    stack.signer.command("/voicelink", f"status {session}", user=USER, channel=CHANNEL)
    status = answered(stack, lambda t: f"Session* `{session}`" in t)
    assert "Status: *completed*" in shown(status)
    stack.signer.press("Summary", user=USER)
    answered(stack, lambda t: ":hourglass_flowing_sand: The summary is being generated" in t)
    stack.signer.press("Audio", user=USER)
    audio = answered(stack, lambda t: t.startswith("Audio for"))
    assert "conversation.wav" in audio["text"]
    assert "conversation.wav" not in str(stack.services.store.rows("voice_links"))
    # Evaluation: Nimrobo's scores, read with the session's own type and project (not an error that says "evaluation")
    nimrobo = stack.services.nimrobo
    stack.slack.wait_for(lambda: nimrobo.session_evaluation(session, "project", link["projectId"]).ready)
    stack.signer.press("Evaluation", user=USER)
    evaluation = answered(stack, lambda t: "*Communication*\n7" in t)  # the evaluator's labels, not question ids
    assert "*Notes*\nClear answer about Notes" in shown(evaluation) and "error" not in shown(evaluation).lower()
    assert "*communication*" not in shown(evaluation)
    # Transcript: the words of every turn, whatever key carries them
    stack.signer.press("Transcript (text)", user=USER)
    upload = stack.slack.wait_for(lambda: stack.slack.uploads())[0]
    # a transcript is personal data: it goes to the presser's DM, never to the channel
    assert upload["channel"] == stack.slack.dm_channel(USER)
    assert upload["content"].decode().splitlines() == ["[00:03] Interviewer: Why do you want this role?",
                                                        "[00:09] Candidate: Because I like building payment systems."]
    # wait until Nimrobo has written the summary, then ask again
    stack.slack.wait_for(lambda: not nimrobo.session_summary(session, project_id=link["projectId"]).generating)
    stack.signer.press("Refresh", user=USER)
    summary = answered(stack, lambda t: t.startswith("Summary:"))
    assert "billing migration" in shown(summary)
    stack.signer.command("/voicelink", "status sess_unknown", user=USER, channel=CHANNEL)
    # an unknown session gets the same refusal as someone else's: it never says whether it exists
    answered(stack, lambda t: "can't show you" in t)


def test_a_summary_in_the_summary_and_key_points_shape_is_shown_whole(stack):
    """Nimrobo's summary under ``summary``/``key_points`` (FIELD-NOTES: every shape) reads as the usual one does."""
    link = make_links(stack, labels="Grace")[0]
    session = stack.nimrobo.start_session(link["id"])
    stack.nimrobo.complete_session(session)
    stack.nimrobo.sessions[session]["_summary"] = {"summary": "Strong candidate", "key_points": ["Python"]}
    stack.signer.command("/voicelink", f"status {session}", user=USER, channel=CHANNEL)
    answered(stack, lambda t: f"Session* `{session}`" in t)
    stack.signer.press("Summary", user=USER)
    answered(stack, lambda t: "The summary is being generated" in t)
    nimrobo = stack.services.nimrobo
    stack.slack.wait_for(lambda: not nimrobo.session_summary(session, project_id=link["projectId"]).generating)
    stack.signer.press("Refresh", user=USER)
    summary = answered(stack, lambda t: t.startswith("Summary:"))
    assert summary["text"] == "Summary: Strong candidate" and "• Python" in shown(summary)

def test_the_card_follows_link_statuses(stack):
    links = make_links(stack, labels="Ada\nAlan")
    card = stack.slack.wait_for(lambda: stack.slack.messages(CHANNEL))[0]
    ada = next(link for link in links if link["label"] == "Ada")
    stack.nimrobo.start_session(ada["id"])
    stack.slack.wait_for(lambda: "Ada — used" in str(stack.slack.message(CHANNEL, card["ts"])["blocks"]))
    alan = next(link for link in links if link["label"] == "Alan")
    stack.signer.command("/voicelink", f"cancel {alan['id']}", user=USER, channel=CHANNEL)
    stack.slack.wait_for(lambda: [r for r in stack.slack.responses(USER) if r["text"] == "Cancel Alan?"])
    stack.signer.press("Cancel link", user=USER)
    stack.slack.wait_for(lambda: "Alan — cancelled" in str(stack.slack.message(CHANNEL, card["ts"])["blocks"]))


def press_beside(stack, label, text, user=USER):
    """Press the ``label`` button of the newest section that shows ``text`` (a picker's row)."""
    for surface in reversed(stack.slack.surfaces(user)):
        for block in surface["blocks"]:
            button = block.get("accessory") or {}
            if button.get("type") == "button" and button["text"]["text"] == label and \
                    text in (block.get("text") or {}).get("text", ""):
                return stack.signer.activate(surface, block, button, user=user)
    raise LookupError(f"no [{label}] beside {text!r}")


def test_names_with_spaces_quoted_or_not_and_a_picker_when_several_match(stack):
    links = {link["label"]: link for link in make_links(stack, labels="Alan Turing\nAlan Kay\nAda Lovelace")}
    stack.signer.command("/voicelink", "cancel Alan Turing", user=USER, channel=CHANNEL)
    answered(stack, lambda t: t.startswith("Cancel Alan Turing?"))
    stack.signer.command("/voicelink", "cancel “alan kay”", user=USER, channel=CHANNEL)
    answered(stack, lambda t: t.startswith("Cancel Alan Kay?"))
    # several match: a private picker, one button each; the chosen one is confirmed and cancelled
    stack.signer.command("/voicelink", 'cancel "Alan"', user=USER, channel=CHANNEL)
    picker = answered(stack, lambda t: "2 links match “Alan”" in t)
    assert "Alan Turing · QA Lead · active" in shown(picker) and "Alan Kay · QA Lead · active" in shown(picker)
    assert not [m for m in stack.slack.messages(CHANNEL) if "match" in m["text"]]  # never in the channel
    press_beside(stack, "Cancel…", "Alan Kay")
    stack.slack.wait_for(lambda: len([r for r in stack.slack.responses(USER)
                                      if r["text"].startswith("Cancel Alan Kay?")]) == 2)
    stack.signer.press("Cancel link", user=USER)
    answered(stack, lambda t: t.startswith(":white_check_mark: The link for *Alan Kay* is cancelled"))
    assert stack.nimrobo.links[links["Alan Kay"]["id"]]["status"] == "cancelled"
    assert stack.nimrobo.links[links["Alan Turing"]["id"]]["status"] == "active"
    # status and watch: by the participant's whole name; two sessions of one name get a picker
    other = make_links(stack, labels="Alan Turing", name="SRE")[0]
    qa_session = stack.nimrobo.start_session(links["Alan Turing"]["id"])
    sre_session = stack.nimrobo.start_session(other["id"])
    ada_session = stack.nimrobo.start_session(links["Ada Lovelace"]["id"])
    stack.signer.command("/voicelink", "status Ada Lovelace", user=USER, channel=CHANNEL)
    answered(stack, lambda t: f"*Session* `{ada_session}` · Ada Lovelace" in t)
    stack.signer.command("/voicelink", "status Alan Turing", user=USER, channel=CHANNEL)
    picker = answered(stack, lambda t: "2 sessions match “Alan Turing”" in t)
    assert "Alan Turing · SRE" in shown(picker) and "Alan Turing · QA Lead" in shown(picker)
    press_beside(stack, "Show", "Alan Turing · SRE")
    answered(stack, lambda t: f"*Session* `{sre_session}` · Alan Turing" in t)
    stack.signer.command("/voicelink", "watch 'alan turing'", user=USER, channel="C_OTHER")
    answered(stack, lambda t: "2 sessions match “alan turing”" in t)
    press_beside(stack, "Watch", "Alan Turing · QA Lead")
    answered(stack, lambda t: f"I'll post the results of `{qa_session}`" in t)
    watches = stack.services.store.rows("session_watches")
    assert [(w["session_id"], w["channel"]) for w in watches] == [(qa_session, "C_OTHER")]
