"""Live interviews from Slack, end to end: the real bot over HTTP, the Slack test bed, the Pluto
simulator (stateful rooms, briefs, chat, analytics) and the Nimrobo simulator.

The whole flow from a candidate card (start -> invite -> add interviewer -> brief -> two assistant
turns with history -> AI voice session -> analyze a pasted transcript and a Nimrobo voice interview
-> saved to the candidate, card and shortlist say "interviewed"), with every secret checked to be
only in private places: never in a channel message (any version of it), a log line or the database.
"""

import json
import logging
from pathlib import Path

import pytest

from bot.logging_setup import quiet_libraries
from sandbox.stack import Stack, StackOptions
from tests.conftest import db_options, not_queued

RITA, BOB, MALLORY, CHANNEL = "U_RITA", "U_BOB", "U_MALLORY", "C_HIRING"
JD = "Staff engineer, payments. Python, distributed systems, on-call."
CSV = (b"name,email,current_title,years_experience,skills,resume\n"
       b"Ada Lovelace,ada@example.com,Engineer,9,python|math,Wrote the first program\n"
       b"Alan Turing,,Researcher,,crypto|math,Broke codes\n")
TRANSCRIPT = ("Interviewer: Tell me about a hard project.\n"
              "Candidate: I led a billing migration with zero downtime, running both systems in parallel.\n"
              "Interviewer: What would you change?\n"
              "Candidate: I would have load-tested the reconciliation job earlier.\n")
SECTIONS = {"goal": "Screen for backend skills", "role": "A friendly recruiter",
            "guidelines": "One question at a time", "constraints": "Ten minutes"}
STAND_INS = ("sandbox",)


class Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        if not record.name.startswith(STAND_INS):  # the simulators are not the bot
            self.lines.append(f"{record.name} {record.getMessage()} {record.exc_text or ''}")


@pytest.fixture()
def logs():
    """Every log line the bot process writes, as with LOG_LEVEL=DEBUG in production (the bot's own
    loggers and Bolt at DEBUG; the libraries production quiets at WARNING)."""
    handler, root = Collect(), logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    quiet_libraries()
    yield handler.lines
    root.removeHandler(handler)
    root.setLevel(level)


def make_stack(database=None, drift=False):
    options = StackOptions(pluto={"extract_seconds": 0.1, "score_seconds": 0.2, "drift": drift},
                           nimrobo={"evaluation_delay": 0, "summary_delay": 0},
                           **(db_options(database) if database else {}))
    s = Stack(options).start()
    s.slack.members[CHANNEL] = {RITA, BOB, s.slack.bot_user_id}
    s.slack.add_user(RITA, "Rita Recruiter")
    s.slack.add_user(BOB, "Bob Builder")
    return s


@pytest.fixture()
def stack():
    s = make_stack()
    yield s
    s.stop()


@pytest.fixture(params=[False, True], ids=["reference", "drift"])
def any_shape_stack(request):  # Pluto answering in the reference's shapes, then in the real server's
    s = make_stack(drift=request.param)
    yield s
    s.stop()


@pytest.fixture()
def any_db_stack(database):  # on SQLite and on PostgreSQL
    s = make_stack(database)
    yield s
    s.stop()


def score(stack):
    """A shortlist of Ada and Alan in CHANNEL, as /pluto score would post it."""
    file = stack.slack.add_file("candidates.csv", CSV, user=RITA)
    stack.signer.say(f"score {JD}", files=[file], user=RITA, channel=CHANNEL)
    return stack.slack.wait_for(lambda: [m for m in stack.slack.messages(CHANNEL)
                                         if (m.get("metadata") or {}).get("event_type")
                                         == "pluto_scoring_completed"], timeout=30)[-1]


def candidate(stack, name):
    return next(c for c in stack.pluto.candidates if c["name"] == name)


def click(stack, label, *, user, ts=None, value=None, **kw):
    """Press the newest button labelled ``label`` that ``user`` sees (on message ``ts``; whose value holds ``value``)."""
    for surface in reversed(stack.slack.surfaces(user)):
        if ts is not None and surface["ts"] != ts:
            continue
        for block in surface["blocks"]:
            for element in block.get("elements") or []:
                if element.get("type") == "button" and element["text"]["text"] == label and \
                        (value is None or value in (element.get("value") or "")):
                    response = stack.signer.activate(surface, block, element, user=user, **kw)
                    assert response.status_code == 200
                    return response
    raise LookupError(f"no {label!r} button for {user}")


def card_of(stack, thread_ts=None):
    """The newest Interview card, once it is no longer the "working…" one."""
    def ready():
        cards = [m for m in stack.slack.messages(CHANNEL, thread_ts=thread_ts)
                 if (m.get("metadata") or {}).get("event_type") == "pluto_interview_card"]
        return cards[-1:]
    return stack.slack.wait_for(ready)[0]


def latest(stack, ts):
    return stack.slack.message(CHANNEL, ts)


def filled_view(stack, user, text):
    return stack.slack.wait_for(lambda: [v for v in stack.slack.views(user=user) if text in str(v["blocks"])])[-1]


def say(stack, text, *, user, thread_ts):
    posted, ack = stack.signer.say(text, user=user, channel=CHANNEL, thread_ts=thread_ts)
    assert ack.status_code == 200
    return posted


def answer_to(stack, question, thread_ts):
    """The assistant's answer to ``question`` (a message from :func:`say`), once the working message is replaced."""
    def found():
        return [m for m in stack.slack.messages(CHANNEL, thread_ts=thread_ts)
                if ((m.get("metadata") or {}).get("event_payload") or {}).get("question_ts") == question["ts"]]
    return stack.slack.wait_for(found)[0]


def voice_interview_of(stack, label):
    """A completed Nimrobo voice interview of ``label``: /voicelink create, the candidate talks, it ends."""
    before = len(stack.slack.views(user=RITA))
    stack.signer.command("/voicelink", "create", user=RITA, channel=CHANNEL)
    view = stack.slack.wait_for(lambda: stack.slack.views(user=RITA)[before:])[-1]
    values = {}
    # a role of its own per candidate: a second form for an existing role asks first what to do with its project
    fields = {"name": f"Staff engineer ({label})", "labels": label, "time_limit": "10", **SECTIONS}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        key, element = block["block_id"].split("~")[0], block["element"]
        if element["type"] == "static_select":
            values[block["block_id"]] = {element["action_id"]: {"type": "static_select",
                                                                "selected_option": element["initial_option"]}}
        elif key in fields:
            values[block["block_id"]] = {element["action_id"]: {"type": "plain_text_input", "value": fields[key]}}
    stack.signer.view_submission(view, values, user=RITA)
    link = stack.slack.wait_for(lambda: [v for v in stack.nimrobo.links.values() if v["label"] == label])[0]
    session = stack.nimrobo.start_session(link["id"])
    stack.nimrobo.complete_session(session)
    stack.slack.wait_for(lambda: [r for r in stack.services.store.rows("voice_links") if r["session_id"] == session])
    return session


def test_the_whole_flow_from_a_candidate_card_secrets_only_in_private(logs, any_shape_stack):
    stack = any_shape_stack
    sim, slack = stack.pluto, stack.slack
    shortlist = score(stack)
    ada = candidate(stack, "Ada Lovelace")

    # -- start: one Interview card in the run's thread, the way in privately --------------------
    click(stack, "Start interview", user=RITA, ts=shortlist["ts"], value=ada["id"])
    card = card_of(stack, thread_ts=shortlist["thread_ts"])
    [room] = sim.rooms.values()
    assert room["candidate_id"] == ada["id"] and room["use_prebrief"] and room["interviewer_name"] == "Rita Recruiter"
    assert "Starting an interview room for Ada Lovelace" in str(card["history"][0]["blocks"])  # replaced in place
    shown = str(card["blocks"])
    assert "Ada Lovelace" in shown and f"<@{RITA}>" in shown and room["room_name"] in shown and "Live" in shown
    assert "<!date^" in shown and "Closes" in shown
    for label in ("Invite candidate", "Add interviewer", "Brief", "AI voice session", "Analyze"):
        assert label in shown
    mine = slack.wait_for(lambda: [e for e in slack.ephemerals(user=RITA) if "is ready" in e["text"]])[0]
    assert room["interviewer_token"] in str(mine["blocks"])
    assert f"{room['room_url']}?t={room['interviewer_token']}" in str(mine["blocks"])

    # -- invite the candidate: their join link to Rita only ------------------------------------
    click(stack, "Invite candidate", user=RITA, ts=card["ts"])
    invite = slack.wait_for(lambda: [e for e in slack.ephemerals(user=RITA) if "Candidate join link" in e["text"]])[0]
    joined = room["participants"][-1]
    assert joined["type"] == "candidate" and joined["name"] == "Ada Lovelace"
    assert f"{room['room_url']}?t={joined['token']}" in str(invite["blocks"])

    # -- add an interviewer: Bob's own link by DM; Mallory can't see the run, so she is refused --
    click(stack, "Add interviewer", user=RITA, ts=card["ts"])
    picker = slack.wait_for(lambda: [v for v in slack.views(user=RITA) if v["title"]["text"] == "Add an interviewer"])[-1]
    pick = {"colleague": {"colleague": {"type": "users_select", "selected_user": MALLORY}}}
    assert stack.signer.view_submission(picker, pick, user=RITA).status_code == 200
    slack.wait_for(lambda: [e for e in slack.ephemerals(user=RITA) if "can't see this shortlist" in e["text"]])
    assert not slack.dms(MALLORY) and len(room["participants"]) == 2
    click(stack, "Add interviewer", user=RITA, ts=card["ts"])
    picker = slack.wait_for(lambda: [v for v in slack.views(user=RITA) if v["title"]["text"] == "Add an interviewer"
                                     and not v.get("closed")])[-1]
    pick = {"colleague": {"colleague": {"type": "users_select", "selected_user": BOB}}}
    stack.signer.view_submission(picker, pick, user=RITA)
    bob_dm = slack.wait_for(lambda: slack.dms(BOB))[0]
    bob = room["participants"][-1]
    assert bob == {"name": "Bob Builder", "type": "interviewer", "token": bob["token"]}
    assert bob["token"] in str(bob_dm["blocks"]) and f"<@{RITA}> added you" in str(bob_dm["blocks"])
    slack.wait_for(lambda: [e for e in slack.ephemerals(user=RITA) if f"Sent <@{BOB}>" in e["text"]])
    slack.wait_for(lambda: f"<@{BOB}>" in str(latest(stack, card["ts"])["blocks"]))  # the card lists him

    # -- brief: private modal, readable -------------------------------------------------------------
    click(stack, "Brief", user=BOB, ts=card["ts"])
    brief = filled_view(stack, BOB, "Suggested questions")
    text = str(brief["blocks"])
    for part in ("TL;DR", "Fit", "Score breakdown", "Technical skills", "█", "Strengths", "Clear communicator",
                 "Concerns", "Follow-up: What would you do differently?", "Topics to avoid", "Family plans"):
        assert part in text, part
    assert brief["title"]["text"] == "Interview brief"

    # -- the assistant: two turns in the card's thread, the first sent as history with the second ---
    thread = card["thread_ts"]
    first_q = say(stack, "What should I ask first?", user=RITA, thread_ts=thread)
    first = answer_to(stack, first_q, thread)
    assert first["text"].startswith("[history=0 context=yes]") and "What should I ask first?" in first["text"]
    assert "Thinking about" in str(first["history"][0]["blocks"])  # the working message, replaced in place
    assert "Candidate: Ada Lovelace" in sim.chat_requests[-1]["context"]
    second_q = say(stack, "And a follow-up?", user=BOB, thread_ts=thread)
    second = answer_to(stack, second_q, thread)
    assert second["text"].startswith("[history=2 context=yes]")
    assert sim.chat_requests[-1]["history"] == [{"role": "user", "content": "What should I ask first?"},
                                                {"role": "assistant", "content": first["text"]}]
    assert sim.chat_requests[-1]["message"] == "And a follow-up?"

    # -- AI voice session: the client secret in a modal for the clicker only ----------------------------
    click(stack, "AI voice session", user=RITA, ts=card["ts"])
    voice = filled_view(stack, RITA, "Client secret")
    sessions = [s for s in sim.realtime_sessions.values() if s["request"].get("job_description") == JD]
    assert len(sessions) == 1 and sessions[0]["client_secret"] in str(voice["blocks"])
    assert "Expires" in str(voice["blocks"])

    # -- analyze a pasted transcript: working message replaced by the result; saved; cards updated --
    click(stack, "Analyze", user=RITA, ts=card["ts"])
    form = filled_view(stack, RITA, "Paste the transcript")
    stack.signer.view_submission(form, {"transcript": {"transcript": {"type": "plain_text_input",
                                                                      "value": TRANSCRIPT}}}, user=RITA)

    def analyses():
        return [m for m in slack.messages(CHANNEL, thread_ts=shortlist["thread_ts"])
                if m["text"].startswith("Interview analysis")]
    analysis = slack.wait_for(analyses)[0]
    assert "Analyzing the pasted transcript" in str(analysis["history"][0]["blocks"])
    blocks = str(analysis["blocks"])
    saved = sim.saved_analytics[ada["id"]]
    score_value = ada["interview_score"]
    assert len(saved) == 1 and ada["interview_status"] in ("interviewed", "completed") and score_value is not None
    assert f"{score_value:3.0f}" in blocks and "/100" in blocks
    for part in ("Overall", "Recommendation:", "Competencies", "Communication", "Highlights", "Concerns",
                 "Next-round questions", "Depth of system design", "Saved to Ada Lovelace's profile"):
        assert part in blocks, part
    assert sim.analytics_requests[-1]["job_description"] == JD
    assert "Name: Ada Lovelace" in sim.analytics_requests[-1]["resume"]
    slack.wait_for(lambda: "Interviewed" in str(latest(stack, card["ts"])["blocks"]))
    updated = slack.wait_for(lambda: "interviewed" in str(latest(stack, shortlist["ts"])["blocks"])
                             and latest(stack, shortlist["ts"]))
    ada_row = next(b for b in updated["blocks"] if b["type"] == "section" and "Ada Lovelace" in str(b))
    assert f"*interviewed* {score_value:.0f}" in ada_row["text"]["text"]
    alan_row = next(b for b in updated["blocks"] if b["type"] == "section" and "Alan Turing" in str(b))
    assert "interviewed" not in alan_row["text"]["text"]
    # the candidate card asked for again also says so
    stack.signer.command("/pluto", "candidate Ada Lovelace", user=RITA, channel=CHANNEL)
    slack.wait_for(lambda: [r for r in slack.responses(user=RITA) if "*interviewed*" in str(r["blocks"])])

    # -- analyze again, from a completed Nimrobo voice interview of the same candidate --------------
    session = voice_interview_of(stack, "Ada Lovelace")
    voice_interview_of(stack, "Alan Turing")  # someone else's: not offered
    click(stack, "Analyze again", user=RITA, ts=card["ts"])
    form = filled_view(stack, RITA, "Or a completed voice interview")
    select = next(b for b in form["blocks"] if b.get("block_id") == "session")
    assert [o["value"] for o in select["element"]["options"]] == [session]
    stack.signer.view_submission(form, {"session": {"session": {"type": "static_select",
                                                                "selected_option": {"value": session}}}}, user=RITA)
    slack.wait_for(lambda: len(analyses()) == 2)
    assert "From a Nimrobo voice interview" in str(analyses()[-1]["blocks"])
    sent = sim.analytics_requests[-1]["transcript"]
    assert "Interviewer: Hi Ada Lovelace, thanks for joining." in sent and "Candidate: A billing migration" in sent
    assert len(sim.saved_analytics[ada["id"]]) == 2

    # -- secrets: private places have them; no public message, log line or stored row does ---------
    secrets = {room["interviewer_token"], f"{room['room_url']}?t={room['interviewer_token']}", room["room_url"]}
    secrets |= {p["token"] for p in room["participants"] if p.get("token")}
    secrets |= {s["client_secret"] for s in sim.realtime_sessions.values()}
    assert len(secrets) >= 6
    public = json.dumps([m for m in slack.messages() if not m["channel"].startswith("D")])  # every version too
    store = stack.services.store
    tables = [t["name"] for t in store.execute("select name from sqlite_master where type = 'table'")]
    stored = json.dumps([store.execute(f"select * from [{t}]") for t in tables], default=str)
    stored += b"".join(p.read_bytes() for p in Path(stack.settings.database_path).parent.glob("bot.db*")
                       ).decode("latin-1")
    for secret in secrets:
        assert secret not in public, secret
        assert not [line for line in logs if secret in line], secret
        assert secret not in stored, secret
    assert len(logs) > 100, sorted({line.split()[0] for line in logs})  # the scan saw the bot's logging
    private = json.dumps([slack.ephemerals(), slack.dms(BOB), slack.views()])
    assert all(s in private for s in secrets if s != room["room_url"])


def test_an_outsider_is_refused_everywhere_and_nothing_reaches_pluto(stack):
    sim, slack = stack.pluto, stack.slack
    shortlist = score(stack)
    ada = candidate(stack, "Ada Lovelace")
    click(stack, "Start interview", user=RITA, ts=shortlist["ts"], value=ada["id"])
    card = card_of(stack, thread_ts=shortlist["thread_ts"])
    calls = sum(sim.calls.values())

    # the brief and the voice session open in a modal: it says no
    click(stack, "Brief", user=MALLORY, ts=card["ts"])
    refused = filled_view(stack, MALLORY, "can read this brief")
    assert "Suggested questions" not in str(refused["blocks"])
    click(stack, "AI voice session", user=MALLORY, ts=card["ts"])
    refused = filled_view(stack, MALLORY, "can start an AI voice session")
    assert "Client secret" not in str(refused["blocks"])
    # the rest answer privately: by DM, since she is not in the channel
    click(stack, "Invite candidate", user=MALLORY, ts=card["ts"])
    question = say(stack, "What is her weakness?", user=MALLORY, thread_ts=card["thread_ts"])
    click(stack, "Start interview", user=MALLORY, ts=shortlist["ts"], value=ada["id"])
    # three refusals (a "queued" notice may come first when the work pool is busy: it is no answer)
    slack.wait_for(lambda: len(not_queued(slack.dms(MALLORY))) >= 3)
    texts = " ".join(m["text"] for m in not_queued(slack.dms(MALLORY)))
    assert "can invite the candidate" in texts and "can ask the interview assistant" in texts
    assert "I can't show you that shortlist" in texts  # the access service's words for a run
    assert sum(sim.calls.values()) == calls and len(sim.rooms) == 1 and not sim.chat_requests
    assert not [m for m in slack.messages(CHANNEL) if ((m.get("metadata") or {}).get("event_payload") or {})
                .get("question_ts") == question["ts"]]
    assert not not_queued(slack.ephemerals(user=MALLORY))


def test_adhoc_room_and_a_transcript_file(any_db_stack):
    stack = any_db_stack
    slack, sim = stack.slack, stack.pluto
    assert "room [candidate name]" in stack.signer.command("/pluto", "help", user=RITA, channel=CHANNEL).text
    stack.signer.command("/pluto", "room Grace Hopper", user=RITA, channel=CHANNEL)
    card = card_of(stack)
    assert card.get("thread_ts") is None  # it starts its own thread
    [room] = sim.rooms.values()
    assert room["candidate_name"] == "Grace Hopper" and room["candidate_id"] is None
    shown = str(card["blocks"])
    assert "Grace Hopper" in shown and "Brief" not in shown and room["interviewer_token"] not in shown
    slack.wait_for(lambda: [e for e in slack.ephemerals(user=RITA) if room["interviewer_token"] in str(e["blocks"])])
    # the assistant in its thread, without a brief
    question = say(stack, "Any tips?", user=RITA, thread_ts=card["ts"])
    assert answer_to(stack, question, card["ts"])["text"].startswith("[history=0 context=no]")
    # a WebVTT transcript uploaded in the form
    vtt = ("WEBVTT\n\n1\n00:00:01.000 --> 00:00:04.000\n<v Interviewer>Tell me about a hard project.\n\n"
           "2\n00:00:05.000 --> 00:00:09.000\n<v Candidate>I led a billing migration with zero downtime.\n")
    file = slack.add_file("interview.vtt", vtt.encode(), filetype="vtt", mimetype="text/vtt", user=RITA)
    click(stack, "Analyze", user=RITA, ts=card["ts"])
    form = filled_view(stack, RITA, "Or upload it")
    assert "No completed Nimrobo voice interview of Grace Hopper" in str(form["blocks"])
    errors = stack.signer.view_submission(form, {}, user=RITA).json()
    assert errors["response_action"] == "errors" and "Paste the transcript" in errors["errors"]["transcript"]
    stack.signer.view_submission(form, {"file": {"file": stack.signer.files([file])}}, user=RITA)
    analysis = slack.wait_for(lambda: [m for m in slack.messages(CHANNEL, thread_ts=card["ts"])
                                       if m["text"].startswith("Interview analysis")])[0]
    assert sim.analytics_requests[-1]["transcript"] == ("Interviewer: Tell me about a hard project.\n"
                                                        "Candidate: I led a billing migration with zero downtime.")
    assert "From an uploaded transcript" in str(analysis["blocks"]) and "Not saved to a profile" in str(analysis["blocks"])
    assert not sim.saved_analytics
    slack.wait_for(lambda: "Interviewed" in str(latest(stack, card["ts"])["blocks"]))


def test_intake_link_is_checked_and_lists_gaps_and_voice_intake_is_private(any_shape_stack):
    stack = any_shape_stack
    slack, sim = stack.slack, stack.pluto
    shortlist = score(stack)
    alan = candidate(stack, "Alan Turing")
    click(stack, "Intake link", user=RITA, ts=shortlist["ts"], value=alan["id"])
    intake = slack.wait_for(lambda: [e for e in slack.ephemerals(user=RITA)
                                     if e["text"].startswith("Intake link for Alan Turing")])[0]
    assert sim.calls["GET /api/intake/{cid}/validate"] == 1
    assert "phone, email, years experience" in str(intake["blocks"]) and "token=" in str(intake["blocks"])
    click(stack, "Voice intake", user=RITA, ts=shortlist["ts"], value=alan["id"])
    voice = slack.wait_for(lambda: [e for e in slack.ephemerals(user=RITA)
                                    if e["text"].startswith("Voice intake for Alan Turing is ready")])[0]
    [(name, lk)] = sim.livekit_rooms.items()
    assert name in str(voice["blocks"]) and "What is your phone?" in str(voice["blocks"])
    assert lk["token"] not in json.dumps([slack.messages(), slack.ephemerals()])
    assert "token=" not in json.dumps(slack.messages(CHANNEL))


def test_a_room_that_closes_by_itself_shows_closed_and_the_assistant_stops(any_db_stack):
    stack = any_db_stack
    slack, sim = stack.slack, stack.pluto
    shortlist = score(stack)
    sim.configure(interview_ttl_seconds=2)
    click(stack, "Start interview", user=RITA, ts=shortlist["ts"], value=candidate(stack, "Alan Turing")["id"])
    card = card_of(stack, thread_ts=shortlist["thread_ts"])
    closed = slack.wait_for(lambda: "Closed" in str(latest(stack, card["ts"])["blocks"]) and latest(stack, card["ts"]))
    shown = str(closed["blocks"])
    assert "Invite candidate" not in shown and "AI voice session" not in shown and "Analyze" in shown
    assert closed["metadata"]["event_payload"]["state"] == "expired"
    say(stack, "Still there?", user=RITA, thread_ts=card["thread_ts"])
    slack.wait_for(lambda: [e for e in slack.ephemerals(user=RITA) if "has closed" in e["text"]])
    assert not sim.chat_requests
