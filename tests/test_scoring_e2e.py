"""/pluto score end to end: the real bot (over HTTP and over Socket Mode), the Slack test bed and the Pluto simulator."""

import csv
import io
import re

import pytest

from sandbox.stack import Stack, StackOptions
from tests.conftest import db_options, score_with_form

USER, CHANNEL = "U_ALICE", "C_GENERAL"
CSV = (
    b"name,email,current_title,years_experience,skills\n"
    b"Ada Lovelace,ada@example.com,Engineer,9,python|math\n"
    b"Alan Turing,alan@example.com,Researcher,12,crypto|math\n"
    b"=HYPERLINK(\"http://evil\"),evil@example.com,Hacker,1,+cmd\n"
    b"Grace Hopper,grace@example.com,Admiral,20,cobol|compilers\n"
)
LETTER = (b"Dear hiring team, I am writing to apply for the engineering role, and I attach my CV.\n"
          b"I have worked on compilers, databases and teams of every size for many years now.\n")


def make_stack(database=None, mode="http", stall=2.0, **pluto):
    pluto = {"extract_seconds": 0.3, "score_seconds": 0.6, **pluto}
    return Stack(StackOptions(pluto=pluto, settings={"pluto_stall_seconds": stall}, mode=mode,
                              **(db_options(database) if database else {})))


VARIANTS = {"sqlite-http": ("sqlite", "http"), "postgresql-http": ("postgresql", "http"),
            "sqlite-socket": ("sqlite", "socket")}
#: The journeys that also run over Socket Mode (on SQLite: the transport and the database are
#: independent). The rest of the suite exercises scoring logic the transport does not touch.
BOTH_MODES = pytest.mark.parametrize("stack", list(VARIANTS), indirect=True)


def csv_uploads(stack):
    """Files the bot uploaded that are CSVs (the run's score chart is a PNG)."""
    return [u for u in stack.slack.uploads() if u["filename"].endswith(".csv")]


@pytest.fixture(params=["sqlite-http", "postgresql-http"])
def stack(request, tmp_path):  # each test using it runs on SQLite and on PostgreSQL
    kind, mode = VARIANTS[request.param]
    database = str(tmp_path / "bot.db") if kind == "sqlite" else request.getfixturevalue("pg_url")
    with make_stack(database, mode) as s:
        yield s


def thread_messages(stack, thread_ts):
    return stack.slack.messages(channel=CHANNEL, thread_ts=thread_ts)


def wait_shortlist(stack, timeout=30):
    return stack.slack.wait_for(lambda: [m for m in stack.slack.messages(CHANNEL)
                                         if (m.get("metadata") or {}).get("event_type") == "pluto_scoring_completed"],
                                timeout=timeout)[-1]


def submit_modal(stack, data=CSV, name="candidates.csv", jd="Senior engineer", top_n="3"):
    """/pluto score through both steps of the form (``top_n`` None keeps the form's default); the ack of step 2."""
    file = stack.slack.add_file(name, data, user=USER)
    form = score_with_form(stack.signer, file, jd=jd, top_n=top_n, user=USER, channel=CHANNEL)
    assert form.problem is None, form.problem
    return form.submitted


@BOTH_MODES
def test_modal_path_from_csv_to_shortlist_and_escaped_export(stack):
    response = submit_modal(stack)
    assert response.status_code == 200 and not response.content  # the modal closes at once
    root = stack.slack.wait_for(lambda: [m for m in stack.slack.messages(CHANNEL) if "for scoring" in m["text"]])[0]
    shortlist = wait_shortlist(stack)
    assert shortlist["thread_ts"] == root["ts"]
    thread = thread_messages(stack, root["ts"])
    preview = thread[0]["text"] + str(thread[0]["blocks"])
    assert "4 candidates found" in thread[0]["text"] and "`current_title`" in preview
    progress = thread[1]
    assert progress["updates"] >= 2  # one message, updated in place
    assert "Done" in progress["blocks"][0]["text"]["text"] and "100%" in progress["blocks"][0]["text"]["text"]
    history = " ".join(str(h["blocks"]) for h in progress["history"])
    assert "of 4" in history and "█" in history
    # the shortlist: top 3 with rank, scores, tier; metadata for other apps
    text = str(shortlist["blocks"])
    assert shortlist["metadata"]["event_payload"]["candidates"] == 4
    assert text.count("pluto_details") == 3 and "AI " in text and "algo " in text and "#1 " in text
    assert "ada@example.com" not in text
    assert stack.pluto.uploads[0]["job_description"] == "Senior engineer"
    # the export, attached in the thread (a public channel: contacts masked), with formula cells escaped;
    # the full one goes to the person who started the run, by DM
    upload = stack.slack.wait_for(lambda: [u for u in csv_uploads(stack) if u["channel"] == CHANNEL])[0]
    assert upload["thread_ts"] == root["ts"] and upload["filename"] == "candidates-ranked.csv"
    rows = list(csv.reader(io.StringIO(upload["content"].decode())))
    assert len(rows) == 5
    cells = [cell for row in rows for cell in row]
    assert "'=HYPERLINK(\"http://evil\")" in cells
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)
    assert "ada@example.com" not in upload["content"].decode() and "a•••@example.com" in upload["content"].decode()
    full = stack.slack.wait_for(lambda: [u for u in csv_uploads(stack) if u["channel"] == stack.slack.dm_channel(USER)])[0]
    assert "ada@example.com" in full["content"].decode()


def test_contact_details_are_masked_in_the_channel_and_shown_in_private_answers(stack):
    data = CSV.replace(b"Ada Lovelace,ada@example.com,Engineer,",
                       b"Ada Lovelace,ada@example.com,\"Engineer, ada.lovelace@example.com, +1 415 555 0199\",")
    submit_modal(stack, data=data, top_n=None)
    shortlist = str(wait_shortlist(stack))  # posted in C_GENERAL, a public channel
    assert "Engineer, a•••@example.com, •••99" in shortlist
    assert "ada.lovelace@example.com" not in shortlist and "555 0199" not in shortlist
    # the same shortlist asked for privately is not masked
    stack.signer.command("/pluto", "results", user=USER, channel=CHANNEL)
    private = stack.slack.wait_for(lambda: [r for r in stack.slack.responses(user=USER)
                                            if r["text"].startswith("Shortlist")])[-1]
    assert "ada.lovelace@example.com, +1 415 555 0199" in str(private["blocks"])


@BOTH_MODES
def test_modal_validation_errors_are_inline(stack):
    before = len(stack.slack.views(user=USER))
    stack.signer.command("/pluto", "score", user=USER, channel=CHANNEL)
    view = stack.slack.wait_for(lambda: stack.slack.views(user=USER)[before:])[-1]
    body = stack.signer.view_submission(view, {"file": {"file": {"type": "file_input", "files": []}}},
                                        user=USER).json()
    assert body["response_action"] == "errors" and body["errors"] == {"file": "Attach one CSV file."}
    assert stack.pluto.calls["POST /api/pluto/upload"] == 0


def test_mention_with_csv_and_the_waiting_confirmation_variant(mode):
    with make_stack(mode=mode, confirmation_step=True, bare_list=True, total_in_upload=False) as stack:
        file = stack.slack.add_file("team.csv", CSV, user=USER)
        text = f"<@{stack.slack.bot_user_id}> score for a Staff Data Engineer"
        ts = "1795400000.000100"
        stack.signer.app_mention(text, files=[file], user=USER, channel=CHANNEL, ts=ts)
        stack.signer.message_with_files(text, [file], user=USER, channel=CHANNEL, ts=ts)  # Slack sends both
        shortlist = wait_shortlist(stack)
        assert stack.pluto.calls["POST /api/pluto/score"] >= 1
        assert stack.pluto.uploads[0]["job_description"] == "for a Staff Data Engineer"
        assert len(stack.pluto.uploads) == 1  # handled once
        assert shortlist["metadata"]["event_payload"]["candidates"] == 4


def test_a_broken_csv_gets_a_clear_private_message_and_nothing_reaches_pluto(stack):
    file = stack.slack.add_file("bad.csv", b"email,title\nx@y.com,Eng\n", user=USER)
    stack.signer.app_mention(f"<@{stack.slack.bot_user_id}> score", files=[file], user=USER, channel=CHANNEL)
    message = stack.slack.wait_for(lambda: [e for e in stack.slack.ephemerals(user=USER) if "can't score" in e["text"]])[0]
    assert "no column names the candidate" in message["text"] and "name,email" in message["text"]
    assert not stack.slack.messages(CHANNEL)  # nothing public: not the refusal, not an announcement
    assert stack.pluto.calls["POST /api/pluto/upload"] == 0


def test_the_form_checks_the_file_before_it_asks_for_the_job_description(stack):
    """Step 1 is the CSV alone. A letter saved as .csv is refused in the form, plainly, and never reaches the
    job description; "Choose another file" goes back to step 1; a good file shows what it holds and a Top N
    bounded by its candidates; the run then starts as before."""
    letter = stack.slack.add_file("candidates.csv", LETTER, user=USER)
    refused = score_with_form(stack.signer, letter, user=USER, channel=CHANNEL)
    assert refused.checked.json()["response_action"] == "update"  # "Checking…" rides on the ack
    assert "Checking candidates.csv" in str(refused.checked.json()["view"])
    assert refused.problem and "this looks like text, not a table of candidates" in refused.problem
    assert "no name" not in refused.problem and "Dear hiring team" in refused.problem
    shown = [v for v in stack.slack.timeline_since(0) if v.get("view_id") == refused.form["id"]]
    assert not any("Job description" in str(v["blocks"]) for v in shown)  # the form never asked for it
    assert not stack.slack.messages(CHANNEL) and stack.pluto.calls["POST /api/pluto/upload"] == 0

    # back to step 1 in the same form; a good file this time
    again = stack.signer.view_submission(refused.form, {}, user=USER)
    assert again.view_outcome["outcome"] == "update"
    step1 = stack.slack.view(refused.form["id"])
    assert step1["callback_id"] == "pluto_score_modal" and step1["submit"]["text"] == "Next"
    good = stack.slack.add_file("candidates.csv", CSV, user=USER)
    stack.signer.view_submission(step1, {"file": {"file": stack.signer.files([good])}}, user=USER)
    details = stack.slack.wait_for(lambda: (v := stack.slack.view(step1["id"])) and v["callback_id"]
                                   == "pluto_score_details" and v)
    summary = details["blocks"][0]["text"]["text"]
    assert "*candidates.csv*: 4 candidates, columns `name`, `email`, `current_title`" in summary
    top_n = next(b for b in details["blocks"] if b.get("block_id") == "top_n")["element"]
    assert top_n["initial_value"] == "4" and top_n["max_value"] == "4"  # min(10, 4), and never more than 4
    refused_n = stack.signer.view_submission(details, {"top_n": {"top_n": {"type": "number_input", "value": "5"}}},
                                             user=USER).json()
    assert refused_n == {"response_action": "errors",
                         "errors": {"top_n": "Choose between 1 and 4: the file has 4 candidates."}}
    done = stack.signer.view_submission(details, {"jd": {"jd": stack.signer.input_value("Staff engineer")}},
                                        user=USER)
    assert done.status_code == 200 and not done.content  # closes; the run starts after the ack
    root = stack.slack.wait_for(lambda: [m for m in stack.slack.messages(CHANNEL) if "for scoring" in m["text"]])[0]
    assert wait_shortlist(stack)["thread_ts"] == root["ts"]
    assert stack.pluto.uploads[0]["job_description"] == "Staff engineer"
    assert stack.services.scoring.run(stack.services.store.rows("scoring_runs")[0]["id"]).top_n == 4


def test_a_second_run_is_queued_with_its_position():
    with make_stack(extract_seconds=1.0, score_seconds=1.0) as stack:
        for name in ("first.csv", "second.csv"):
            file = stack.slack.add_file(name, CSV, user=USER)
            stack.signer.app_mention(f"<@{stack.slack.bot_user_id}> score", files=[file], user=USER,
                                     channel=CHANNEL)
        queued = stack.slack.wait_for(lambda: [m for m in stack.slack.timeline_since(0)
                                               if "queued, position 1" in str(m.get("text")).lower()])
        assert queued
        stack.slack.wait_for(lambda: len([m for m in stack.slack.messages(CHANNEL)
                                          if (m.get("metadata") or {}).get("event_type")]) == 2, timeout=20)
        assert len(stack.pluto.uploads) == 2


def test_stall_then_retry(stack):
    stack.pluto.configure(extract_seconds=30)
    file = stack.slack.add_file("slow.csv", CSV, user=USER)
    stack.signer.app_mention(f"<@{stack.slack.bot_user_id}> score", files=[file], user=USER, channel=CHANNEL)
    stack.slack.wait_for(lambda: stack.pluto.calls["POST /api/pluto/upload"])
    stack.pluto.stall()
    stalled = stack.slack.wait_for(lambda: [m for m in stack.slack.messages(CHANNEL)
                                            if "Scoring stalled" in m["text"]], timeout=15)[0]
    assert "no progress" in stalled["text"] and "Retry" in str(stalled["blocks"])
    stack.pluto.reset()
    stack.pluto.configure(extract_seconds=0.3)
    stack.signer.press("Retry", user=USER)
    wait_shortlist(stack)
    progress = stack.slack.message(CHANNEL, stalled["ts"])
    retried = [h["text"] for h in progress["history"]] + [progress["text"]]
    assert "slow.csv: you're next" in retried  # the retried run waits first in line: "next", never "position 0"
    assert not [t for t in retried if "position 0" in t]


def test_pluto_error_is_reported_with_retry(stack):
    stack.pluto.configure(extract_seconds=30)
    file = stack.slack.add_file("c.csv", CSV, user=USER)
    stack.signer.app_mention(f"<@{stack.slack.bot_user_id}> score", files=[file], user=USER, channel=CHANNEL)
    stack.slack.wait_for(lambda: stack.pluto.calls["POST /api/pluto/upload"])
    stack.pluto.fail_run("the scoring model is unavailable")
    failed = stack.slack.wait_for(lambda: [m for m in stack.slack.messages(CHANNEL)
                                           if "Scoring failed" in m["text"]])[0]
    assert "the scoring model is unavailable" in failed["text"] and "pluto_retry" in str(failed["blocks"])


@BOTH_MODES
def test_each_candidate_action(stack):
    submit_modal(stack, top_n=None)
    wait_shortlist(stack)
    # Details: a private modal with the full profile
    stack.signer.press("Details", user=USER)
    # a loading modal opens at once (the trigger lasts 3 s), then fills with the full profile
    details = stack.slack.wait_for(lambda: [v for v in stack.slack.views(user=USER) if v["title"]["text"] == "Candidate"
                                            and "Final" in str(v["blocks"])])
    assert details
    # Questions: a spinner message replaced by the result
    stack.signer.press("Questions", user=USER)
    answered = stack.slack.wait_for(lambda: [m for m in stack.slack.messages(CHANNEL)
                                             if m["text"].startswith("Interview questions for")])[0]
    assert answered["updates"] == 1 and "Generating interview questions" in str(answered["history"][0]["blocks"])
    # Pre-brief: a loading modal updated with the full brief
    stack.signer.press("Pre-brief", user=USER)
    brief = stack.slack.wait_for(lambda: [v for v in stack.slack.views(user=USER)
                                          if "Suggested questions" in str(v["blocks"])])[-1]
    for part in ("TL;DR", "Score breakdown", "Strengths", "Concerns", "Topics to avoid", "Follow-up"):
        assert part in str(brief["blocks"])
    # Intake link and the interview room's link: only to the person who clicked
    stack.signer.press("Intake link", user=USER)
    intake = stack.slack.wait_for(lambda: [e for e in stack.slack.ephemerals(user=USER)
                                           if e["text"].startswith("Intake link for ") and "token=" in str(e["blocks"])])
    # it says whose link it is, and when it expires: counted from now, and as a Slack date
    names = ("Ada Lovelace", "Alan Turing", "Grace Hopper", '=HYPERLINK("http://evil")')
    assert any(intake[0]["text"].startswith(f"Intake link for {name} ") for name in names)
    assert re.search(r"It expires in \d+ days \(<!date\^\d+\^\{date_short_pretty\} at \{time\}\|",
                     str(intake[0]["blocks"])), intake[0]["blocks"]
    stack.signer.press("Start interview", user=USER)
    room = stack.slack.wait_for(lambda: [e for e in stack.slack.ephemerals(user=USER) if "is ready" in e["text"]])
    assert "?t=dly_" in str(room[0]["blocks"])
    assert not [m for m in stack.slack.messages(CHANNEL) if "token=" in str(m) or "?t=" in str(m)]


@BOTH_MODES
def test_status_results_candidate_and_export_commands(stack):
    body = stack.signer.command("/pluto", "results", user=USER, channel=CHANNEL)
    assert body.status_code == 200
    stack.slack.wait_for(lambda: [r for r in stack.slack.responses(user=USER) if "no finished scoring run" in r["text"]])
    submit_modal(stack, top_n=None)
    wait_shortlist(stack)
    stack.signer.command("/pluto", "status", user=USER, channel=CHANNEL)
    stack.slack.wait_for(lambda: [r for r in stack.slack.responses(user=USER) if "No scoring run is in progress" in r["text"]])
    stack.signer.command("/pluto", "results", user=USER, channel=CHANNEL)
    stack.slack.wait_for(lambda: [r for r in stack.slack.responses(user=USER) if r["text"].startswith("Shortlist")])
    stack.signer.command("/pluto", "candidate grace hoper", user=USER, channel=CHANNEL)  # fuzzy
    stack.slack.wait_for(lambda: [r for r in stack.slack.responses(user=USER)
                                  if re.fullmatch(r"#\d+ Grace Hopper", r["text"])])  # the card, not a refusal
    stack.signer.command("/pluto", "candidate a", user=USER, channel=CHANNEL)  # several: pick one
    stack.slack.wait_for(lambda: [r for r in stack.slack.responses(user=USER) if "Several candidates" in r["text"]])
    stack.signer.command("/pluto", "candidate Nobody Here", user=USER, channel=CHANNEL)
    stack.slack.wait_for(lambda: [r for r in stack.slack.responses(user=USER) if "No candidate" in r["text"]])
    # the run's own export, masked in the channel and full by DM, first (both are posted after the shortlist)
    before = len(stack.slack.wait_for(lambda: len(csv_uploads(stack)) >= 2 and csv_uploads(stack)))
    stack.signer.command("/pluto", "export", user=USER, channel=CHANNEL)
    stack.slack.wait_for(lambda: len(csv_uploads(stack)) == before + 2)
    channel_copy, dm_copy = sorted(csv_uploads(stack)[before:], key=lambda u: u["channel"] != CHANNEL)
    assert channel_copy["channel"] == CHANNEL and dm_copy["channel"] == stack.slack.dm_channel(USER)
    assert "@example.com" in dm_copy["content"].decode()
    assert "•••@" in channel_copy["content"].decode() and "ada@example.com" not in channel_copy["content"].decode()


def test_rate_limited_updates_back_off_and_the_run_still_finishes(stack):
    # One update per 3 s: the run's progress updates come faster, so some are refused (429) and retried.
    stack.slack.rate_limit("chat.update", burst=1, retry_after=1, window=3.0)
    try:
        file = stack.slack.add_file("c.csv", CSV, user=USER)
        stack.signer.app_mention(f"<@{stack.slack.bot_user_id}> score", files=[file], user=USER, channel=CHANNEL)
        wait_shortlist(stack, timeout=30)
    finally:
        stack.slack.clear_rate_limits()  # the module's other tests share this Slack
    progress = [m for m in stack.slack.messages(CHANNEL) if m["text"].startswith("Scored 4 candidates")]
    assert progress, "the progress message reached its final state despite 429s"
    limited = [c for c in stack.slack.api_calls("chat.update")]
    assert len(limited) > progress[0]["updates"]  # some calls were refused with 429 and retried


def test_a_restart_mid_run_loses_nothing(stack):
    stack.pluto.configure(extract_seconds=1.0)
    file = stack.slack.add_file("c.csv", CSV, user=USER)
    stack.signer.app_mention(f"<@{stack.slack.bot_user_id}> score", files=[file], user=USER, channel=CHANNEL)
    stack.slack.wait_for(lambda: stack.pluto.calls["POST /api/pluto/upload"])
    stack.stop_bot()
    stack.start_bot()
    wait_shortlist(stack)
    assert stack.pluto.calls["POST /api/pluto/upload"] == 1


def press_on(stack, label, text, user=USER):
    """Press the ``label`` button of the newest channel message that shows ``text``."""
    for surface in reversed(stack.slack.surfaces(user)):
        if text in str(surface["blocks"]):
            for block in surface["blocks"]:
                for element in block.get("elements") or []:
                    if element.get("type") == "button" and element["text"]["text"] == label:
                        return stack.signer.activate(surface, block, element, user=user)
    raise LookupError(f"no [{label}] on a message showing {text!r}")


def progress_of(stack, filename):
    """The current progress message of the waiting run of ``filename``."""
    return next((m for m in stack.slack.messages(CHANNEL) if m["text"].startswith(f"{filename}:")
                 or m["text"] == f"Scoring of {filename} was cancelled"), {"text": "", "blocks": []})


def queue_up(stack, *names):
    """Start a run for each file, one after the other (so they queue in this order)."""
    for name in names:
        file = stack.slack.add_file(name, CSV, user=USER)
        stack.signer.app_mention(f"<@{stack.slack.bot_user_id}> score", files=[file], user=USER, channel=CHANNEL)
        stack.slack.wait_for(lambda n=name: stack.services.store.rows("scoring_runs", "filename = ?", [n]))


def privately(stack, user, text):
    """What ``user`` alone was told (ephemeral, or a DM when they are not in the channel) that shows ``text``."""
    return stack.slack.wait_for(lambda: [m for m in stack.slack.ephemerals(user=user) + stack.slack.dms(user)
                                         if text in m["text"]])


def test_a_waiting_run_can_be_cancelled_and_a_running_one_says_why_not():
    with make_stack(extract_seconds=60, stall=300) as stack:  # the first run holds Pluto until the test lets it go
        mallory = "U_MALLORY"
        stack.slack.members[CHANNEL] = {USER, "U_BOB"}
        queue_up(stack, "first.csv", "second.csv", "third.csv")
        stack.slack.wait_for(lambda: stack.pluto.calls["POST /api/pluto/upload"] == 1)
        stack.slack.wait_for(lambda: progress_of(stack, "third.csv")["text"] == "third.csv: queued, position 2")
        # someone outside the channel may not cancel it
        press_on(stack, "Cancel run", "second.csv", user=mallory)
        privately(stack, mallory, "Only the person who started this run")
        assert progress_of(stack, "second.csv")["text"] == "second.csv: queued, position 1"
        # a member of the channel may: the run leaves the queue, the one behind it moves up
        press_on(stack, "Cancel run", "second.csv", user="U_BOB")
        stack.slack.wait_for(lambda: "was cancelled by <@U_BOB>" in str(progress_of(stack, "second.csv")["blocks"]))
        stack.slack.wait_for(lambda: progress_of(stack, "third.csv")["text"] == "third.csv: queued, position 1")
        # a run Pluto already has can't be stopped: Pluto has no cancel call, and the bot says so
        stack.signer.command("/pluto", "cancel first.csv", user=USER, channel=CHANNEL)
        stack.slack.wait_for(lambda: [r for r in stack.slack.responses(user=USER)
                                      if "Pluto has no way to stop a run once it has started" in r["text"]])
        # /pluto cancel without a name, with two unfinished runs here: a private picker
        stack.signer.command("/pluto", "cancel", user=USER, channel=CHANNEL)
        picker = stack.slack.wait_for(lambda: [r for r in stack.slack.responses(user=USER)
                                               if r["text"].startswith("2 runs could be meant")])[-1]
        assert "first.csv · running" in str(picker["blocks"]) and "third.csv · position 1" in str(picker["blocks"])
        # first and third are scored; second never reached Pluto
        stack.pluto.configure(extract_seconds=0.3, score_seconds=0.3)
        stack.slack.wait_for(lambda: len([m for m in stack.slack.messages(CHANNEL)
                                          if (m.get("metadata") or {}).get("event_type")]) == 2, timeout=30)
        assert [u["filename"] for u in stack.pluto.uploads] == ["first.csv", "third.csv"]
        states = {r["filename"]: (r["state"], r["cancelled_by"]) for r in stack.services.store.rows("scoring_runs")}
        assert states["second.csv"] == ("cancelled", "U_BOB")


def test_pluto_cancel_asks_first_then_cancels():
    with make_stack(extract_seconds=60, stall=300) as stack:
        queue_up(stack, "first.csv", "second.csv")
        stack.slack.wait_for(lambda: progress_of(stack, "second.csv")["text"] == "second.csv: queued, position 1")
        stack.signer.command("/pluto", "cancel “second”", user=USER, channel=CHANNEL)
        question = stack.slack.wait_for(lambda: [r for r in stack.slack.responses(user=USER)
                                                 if r["text"] == "Cancel scoring of second.csv?"])[-1]
        button = question["blocks"][-1]["elements"][0]
        assert button["confirm"]["confirm"]["text"] == "Cancel run"  # Slack asks again before it acts
        assert stack.services.store.rows("scoring_runs", "filename = ?", ["second.csv"])[0]["state"] == "queued"
        stack.signer.press("Cancel run", user=USER)
        privately(stack, USER, "The scoring of *second.csv* is cancelled")
        stack.slack.wait_for(lambda: "was cancelled by <@U_ALICE>" in str(progress_of(stack, "second.csv")["blocks"]))
        stack.pluto.configure(extract_seconds=0.3, score_seconds=0.3)
        wait_shortlist(stack)
        assert [u["filename"] for u in stack.pluto.uploads] == ["first.csv"]
