"""/pluto score end to end: the real bot over HTTP, the Slack test bed and the Pluto simulator."""

import csv
import io

import pytest

from sandbox.stack import Stack, StackOptions
from tests.conftest import db_options

USER, CHANNEL = "U_ALICE", "C_GENERAL"
CSV = (
    b"name,email,current_title,years_experience,skills\n"
    b"Ada Lovelace,ada@example.com,Engineer,9,python|math\n"
    b"Alan Turing,alan@example.com,Researcher,12,crypto|math\n"
    b"=HYPERLINK(\"http://evil\"),evil@example.com,Hacker,1,+cmd\n"
    b"Grace Hopper,grace@example.com,Admiral,20,cobol|compilers\n"
)


def make_stack(database=None, **pluto):
    pluto = {"extract_seconds": 0.3, "score_seconds": 0.6, **pluto}
    return Stack(StackOptions(pluto=pluto, settings={"pluto_stall_seconds": 2.0},
                              **(db_options(database) if database else {})))


@pytest.fixture()
def stack(database):  # each test using it runs on SQLite and on PostgreSQL
    with make_stack(database) as s:
        yield s


def thread_messages(stack, thread_ts):
    return stack.slack.messages(channel=CHANNEL, thread_ts=thread_ts)


def wait_shortlist(stack, timeout=15):
    return stack.slack.wait_for(lambda: [m for m in stack.slack.messages(CHANNEL)
                                         if (m.get("metadata") or {}).get("event_type") == "pluto_scoring_completed"],
                                timeout=timeout)[-1]


def submit_modal(stack, data=CSV, name="candidates.csv", jd="Senior engineer", top_n="3"):
    assert stack.signer.command("/pluto", "score", user=USER, channel=CHANNEL).status_code == 200
    view = stack.slack.wait_for(lambda: stack.slack.views(user=USER))[-1]
    file = stack.slack.add_file(name, data, user=USER)
    values = {"file": {"file": stack.signer.files([file])}, "jd": {"jd": stack.signer.input_value(jd)},
              "top_n": {"top_n": {"type": "number_input", "value": top_n}}}
    return stack.signer.view_submission(view, values, user=USER)


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
    upload = stack.slack.wait_for(lambda: [u for u in stack.slack.uploads() if u["channel"] == CHANNEL])[0]
    assert upload["thread_ts"] == root["ts"] and upload["filename"] == "candidates-ranked.csv"
    rows = list(csv.reader(io.StringIO(upload["content"].decode())))
    assert len(rows) == 5
    cells = [cell for row in rows for cell in row]
    assert "'=HYPERLINK(\"http://evil\")" in cells
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)
    assert "ada@example.com" not in upload["content"].decode() and "a•••@example.com" in upload["content"].decode()
    full = stack.slack.wait_for(lambda: [u for u in stack.slack.uploads() if u["channel"] == stack.slack.dm_channel(USER)])[0]
    assert "ada@example.com" in full["content"].decode()


def test_contact_details_are_masked_in_the_channel_and_shown_in_private_answers(stack):
    data = CSV.replace(b"Ada Lovelace,ada@example.com,Engineer,",
                       b"Ada Lovelace,ada@example.com,\"Engineer, ada.lovelace@example.com, +1 415 555 0199\",")
    submit_modal(stack, data=data, top_n="10")
    shortlist = str(wait_shortlist(stack))  # posted in C_GENERAL, a public channel
    assert "Engineer, a•••@example.com, •••99" in shortlist
    assert "ada.lovelace@example.com" not in shortlist and "555 0199" not in shortlist
    # the same shortlist asked for privately is not masked
    stack.signer.command("/pluto", "results", user=USER, channel=CHANNEL)
    private = stack.slack.wait_for(lambda: [r for r in stack.slack.responses(user=USER)
                                            if r["text"].startswith("Shortlist")])[-1]
    assert "ada.lovelace@example.com, +1 415 555 0199" in str(private["blocks"])


def test_modal_validation_errors_are_inline(stack):
    stack.signer.command("/pluto", "score", user=USER, channel=CHANNEL)
    view = stack.slack.wait_for(lambda: stack.slack.views(user=USER))[-1]
    body = stack.signer.view_submission(view, {"file": {"file": {"type": "file_input", "files": []}},
                                               "top_n": {"top_n": {"type": "number_input", "value": "500"}}},
                                        user=USER).json()
    assert body["response_action"] == "errors"
    assert body["errors"] == {"file": "Attach one CSV file.", "top_n": "Choose between 1 and 200."}
    assert stack.pluto.calls["POST /api/pluto/upload"] == 0


def test_mention_with_csv_and_the_waiting_confirmation_variant():
    with make_stack(confirmation_step=True, bare_list=True, total_in_upload=False) as stack:
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


def test_a_broken_csv_gets_a_clear_message_and_nothing_reaches_pluto(stack):
    file = stack.slack.add_file("bad.csv", b"email,title\nx@y.com,Eng\n", user=USER)
    stack.signer.app_mention(f"<@{stack.slack.bot_user_id}> score", files=[file], user=USER, channel=CHANNEL)
    message = stack.slack.wait_for(lambda: [m for m in stack.slack.messages(CHANNEL) if "can't score" in m["text"]])[0]
    assert "no column names the candidate" in message["text"] and "name,email" in message["text"]
    assert stack.pluto.calls["POST /api/pluto/upload"] == 0


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


def test_pluto_error_is_reported_with_retry(stack):
    stack.pluto.configure(extract_seconds=30)
    file = stack.slack.add_file("c.csv", CSV, user=USER)
    stack.signer.app_mention(f"<@{stack.slack.bot_user_id}> score", files=[file], user=USER, channel=CHANNEL)
    stack.slack.wait_for(lambda: stack.pluto.calls["POST /api/pluto/upload"])
    stack.pluto.fail_run("the scoring model is unavailable")
    failed = stack.slack.wait_for(lambda: [m for m in stack.slack.messages(CHANNEL)
                                           if "Scoring failed" in m["text"]])[0]
    assert "the scoring model is unavailable" in failed["text"] and "pluto_retry" in str(failed["blocks"])


def test_each_candidate_action(stack):
    submit_modal(stack, top_n="10")
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
    intake = stack.slack.wait_for(lambda: [e for e in stack.slack.ephemerals(user=USER) if "Intake link" in e["text"]])
    assert "token=" in str(intake[0]["blocks"])
    stack.signer.press("Start interview", user=USER)
    room = stack.slack.wait_for(lambda: [e for e in stack.slack.ephemerals(user=USER) if "is ready" in e["text"]])
    assert "?t=dly_" in str(room[0]["blocks"])
    assert not [m for m in stack.slack.messages(CHANNEL) if "token=" in str(m) or "?t=" in str(m)]


def test_status_results_candidate_and_export_commands(stack):
    body = stack.signer.command("/pluto", "results", user=USER, channel=CHANNEL)
    assert body.status_code == 200
    stack.slack.wait_for(lambda: [r for r in stack.slack.responses(user=USER) if "no finished scoring run" in r["text"]])
    submit_modal(stack, top_n="10")
    wait_shortlist(stack)
    stack.signer.command("/pluto", "status", user=USER, channel=CHANNEL)
    stack.slack.wait_for(lambda: [r for r in stack.slack.responses(user=USER) if "No scoring run is in progress" in r["text"]])
    stack.signer.command("/pluto", "results", user=USER, channel=CHANNEL)
    stack.slack.wait_for(lambda: [r for r in stack.slack.responses(user=USER) if r["text"].startswith("Shortlist")])
    stack.signer.command("/pluto", "candidate grace hoper", user=USER, channel=CHANNEL)  # fuzzy
    stack.slack.wait_for(lambda: [r for r in stack.slack.responses(user=USER) if "Grace Hopper" in r["text"]])
    stack.signer.command("/pluto", "candidate a", user=USER, channel=CHANNEL)  # several: pick one
    stack.slack.wait_for(lambda: [r for r in stack.slack.responses(user=USER) if "Several candidates" in r["text"]])
    stack.signer.command("/pluto", "candidate Nobody Here", user=USER, channel=CHANNEL)
    stack.slack.wait_for(lambda: [r for r in stack.slack.responses(user=USER) if "No candidate" in r["text"]])
    before = len(stack.slack.uploads())  # the run's own export: masked in the channel, full by DM
    stack.signer.command("/pluto", "export", user=USER, channel=CHANNEL)
    stack.slack.wait_for(lambda: len(stack.slack.uploads()) == before + 2)
    channel_copy, dm_copy = sorted(stack.slack.uploads()[before:], key=lambda u: u["channel"] != CHANNEL)
    assert channel_copy["channel"] == CHANNEL and dm_copy["channel"] == stack.slack.dm_channel(USER)
    assert "@example.com" in dm_copy["content"].decode()
    assert "•••@" in channel_copy["content"].decode() and "ada@example.com" not in channel_copy["content"].decode()


def test_rate_limited_updates_back_off_and_the_run_still_finishes(stack):
    stack.slack.rate_limit("chat.update", burst=3, retry_after=1, window=1.0)
    file = stack.slack.add_file("c.csv", CSV, user=USER)
    stack.signer.app_mention(f"<@{stack.slack.bot_user_id}> score", files=[file], user=USER, channel=CHANNEL)
    wait_shortlist(stack, timeout=30)
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
