"""Candidate data and interview recordings reach only the people who should see them: the real bot over
HTTP against the Slack test bed and the simulators."""

import pytest
from cryptography.fernet import Fernet

from sandbox.stack import Stack, StackOptions
from services.records import CandidateRef, SessionRef
from tests.conftest import score_with_form
from tests.test_scoring_e2e import CSV, wait_shortlist
from tests.test_voicelink_e2e import SECTIONS, created_dm, form, open_modal

USER, OUTSIDER, ADMIN = "U_ALICE", "U_MALLORY", "U_BOSS"
CHANNEL = "C_HIRING"
REFUSED = "can't show you"


@pytest.fixture()
def stack():
    options = StackOptions(openai=False, nimrobo={"evaluation_delay": 0.2, "summary_delay": 0.2},
                           settings={"encryption_key": Fernet.generate_key().decode(), "admin_user_ids": (ADMIN,)})
    with Stack(options) as s:
        s.slack.members[CHANNEL] = {USER, s.slack.bot_user_id}
        yield s


def make_session(stack, label="Ada Lovelace"):
    view = open_modal(stack)
    stack.signer.view_submission(view, form(view, name="Backend Engineer", labels=label, **SECTIONS), user=USER)
    created_dm(stack)
    link = next(iter(stack.nimrobo.links.values()))
    session = stack.nimrobo.start_session(link["id"])
    stack.nimrobo.complete_session(session)
    return link, session


def answers(stack, user, text):
    return [r for r in stack.slack.responses(user) if text in r["text"]]


def test_an_outsider_is_refused_every_session_surface_by_command_and_by_button(stack):
    stack.slack.members[CHANNEL].add("U_BOB")
    link, session = make_session(stack)
    ref = SessionRef("project", link["projectId"], session, "Ada Lovelace").to_value()
    stack.signer.command("/voicelink", f"status {session}", user=OUTSIDER, channel="C_ELSEWHERE")
    stack.signer.command("/voicelink", f"watch {session}", user=OUTSIDER, channel="C_ELSEWHERE")
    for action in ("voicelink_audio", "voicelink_transcript", "voicelink_evaluation", "voicelink_summary"):
        stack.signer.block_action(action, ref, user=OUTSIDER, channel="C_ELSEWHERE")
    refusals = stack.slack.wait_for(lambda: len(answers(stack, OUTSIDER, REFUSED)) == 6
                                    and answers(stack, OUTSIDER, REFUSED))
    everything = str(stack.slack.responses(OUTSIDER)) + str(stack.slack.dms(OUTSIDER)) + str(stack.slack.uploads())
    assert "conversation.wav" not in everything and "agent:" not in everything and "Ada" not in everything
    assert all(r["response_type"] == "ephemeral" for r in refusals)
    assert all(f"<@{ADMIN}>" in r["text"] for r in refusals)  # names who can help
    # the creator and a workspace admin get them
    stack.signer.block_action("voicelink_audio", ref, user=USER, channel=CHANNEL)
    stack.signer.block_action("voicelink_audio", ref, user=ADMIN, channel="C_ELSEWHERE")
    stack.slack.wait_for(lambda: answers(stack, USER, "conversation.wav") and answers(stack, ADMIN, "conversation.wav"))
    # a member of the link's channel gets them too (membership is cached briefly, so Bob joined earlier)
    stack.signer.command("/voicelink", f"status {session}", user="U_BOB", channel=CHANNEL)
    stack.slack.wait_for(lambda: answers(stack, "U_BOB", "completed"))


def test_a_private_channel_with_a_c_id_shows_contacts_and_a_public_one_masks_them(stack):
    # whether a channel is public comes from conversations.info, not from the id
    stack.slack.private_channels.add("C_SECRET")
    stack.slack.members["C_SECRET"] = {USER, stack.slack.bot_user_id}
    data = CSV.replace(b"Ada Lovelace,ada@example.com,Engineer,",
                       b"Ada Lovelace,ada@example.com,\"Engineer, ada.lovelace@example.com\",")
    for channel in ("C_SECRET", "C_GENERAL"):
        file = stack.slack.add_file("c.csv", data, user=USER)
        score_with_form(stack.signer, file, top_n=3, user=USER, channel=channel)
        stack.slack.wait_for(lambda ch=channel: [m for m in stack.slack.messages(ch)
                                                 if (m.get("metadata") or {}).get("event_type")
                                                 == "pluto_scoring_completed"], timeout=30)
    shortlist = {ch: str([m["blocks"] for m in stack.slack.messages(ch)]) for ch in ("C_SECRET", "C_GENERAL")}
    assert "ada.lovelace@example.com" in shortlist["C_SECRET"]
    assert "ada.lovelace@example.com" not in shortlist["C_GENERAL"] and "a•••@example.com" in shortlist["C_GENERAL"]
    info_calls = [c["params"].get("channel") for c in stack.slack.api_calls("conversations.info")]
    assert "C_SECRET" in info_calls and "C_GENERAL" in info_calls


def test_login_whoami_logout_and_the_key_is_encrypted_at_rest(stack):
    personal = "api_alice_personal_key_9c1"
    stack.nimrobo.add_key(personal)
    stack.signer.command("/voicelink", "login", user=USER, channel=CHANNEL)
    modal = stack.slack.wait_for(lambda: [v for v in stack.slack.views(user=USER)
                                          if v.get("callback_id") == "voicelink_login"])[-1]
    stack.signer.view_submission(modal, {"nimrobo_key": {"key": stack.signer.input_value(personal)}}, user=USER)
    done = stack.slack.wait_for(lambda: [v for v in stack.slack.views(user=USER)
                                         if ":white_check_mark: Saved. Your requests now run as" in str(v["blocks"])])
    assert personal not in str(done) and personal not in str(stack.slack.timeline_since(0))
    database = stack.settings.database_path
    for suffix in ("", "-wal"):
        try:
            with open(database + suffix, "rb") as handle:
                assert personal.encode() not in handle.read()
        except FileNotFoundError:
            pass
    assert personal not in str(stack.services.store.rows("user_keys"))
    stack.signer.command("/voicelink", "whoami", user=USER, channel=CHANNEL)
    stack.slack.wait_for(lambda: answers(stack, USER, "your own key"))
    # the user's requests now run with their key
    stack.nimrobo.key_log.clear()
    stack.signer.command("/voicelink", "projects", user=USER, channel=CHANNEL)
    stack.slack.wait_for(lambda: [k for _, path, k in stack.nimrobo.key_log if path.endswith("/projects")])
    assert {k for _, path, k in stack.nimrobo.key_log if path.endswith("/projects")} == {personal}
    stack.signer.command("/voicelink", "logout", user=USER, channel=CHANNEL)
    stack.slack.wait_for(lambda: answers(stack, USER, "key is deleted"))
    assert stack.services.store.rows("user_keys") == []


def test_a_bad_key_is_rejected_with_its_reason(stack):
    stack.signer.command("/voicelink", "login", user=USER, channel=CHANNEL)
    modal = stack.slack.wait_for(lambda: [v for v in stack.slack.views(user=USER)
                                          if v.get("callback_id") == "voicelink_login"])[-1]
    stack.signer.view_submission(modal, {"nimrobo_key": {"key": stack.signer.input_value("api_not_a_real_key")}},
                                 user=USER)
    refused = stack.slack.wait_for(lambda: [v for v in stack.slack.views(user=USER) if "not saved" in str(v["blocks"])])
    assert "Invalid API token" in str(refused[-1]["blocks"]) or "401" in str(refused[-1]["blocks"])
    assert stack.services.store.rows("user_keys") == []


def test_the_outcome_of_a_key_check_is_never_overwritten_by_checking(stack, monkeypatch):
    """Slack may apply the submission's ack ("Checking…") after the bot's own update of the modal arrives; the
    outcome must be what stays on screen all the same."""
    apply = stack.slack.apply_view_ack

    def late(view_id, status, ack):  # Slack handles the ack only once the bot has tried to show the outcome
        stack.slack.wait_for(lambda: stack.slack.api_calls("views.update"))
        return apply(view_id, status, ack)

    monkeypatch.setattr(stack.slack, "apply_view_ack", late)
    stack.signer.command("/voicelink", "login", user=USER, channel=CHANNEL)
    modal = stack.slack.wait_for(lambda: [v for v in stack.slack.views(user=USER)
                                          if v.get("callback_id") == "voicelink_login"])[-1]
    stack.signer.view_submission(modal, {"nimrobo_key": {"key": stack.signer.input_value("api_not_a_real_key")}},
                                 user=USER)
    shown = stack.slack.wait_for(lambda: "not saved" in str(stack.slack.view(modal["id"])["blocks"])
                                 and stack.slack.view(modal["id"]))
    assert "Checking" not in str(shown["blocks"]) and not shown["closed"]


def test_the_watcher_reads_with_the_creators_key_and_a_revoked_key_is_told_once(stack):
    personal = "api_alice_watch_key_77"
    stack.nimrobo.add_key(personal)
    stack.services.keys.login(USER, personal)
    link, session = make_session(stack)
    post = stack.slack.wait_for(lambda: [m for m in stack.slack.messages(CHANNEL)
                                         if (m.get("metadata") or {}).get("event_type") == "voice_session_completed"],
                                timeout=30)
    assert post
    session_calls = {k for _, path, k in stack.nimrobo.key_log if "/session" in path}
    assert session_calls == {personal}  # the watcher read Alice's session with Alice's key
    # Alice deletes the key in Nimrobo: she is told once, by DM, and the shared key takes over
    stack.nimrobo.revoke_key(personal)
    before = len(stack.slack.dms(USER))
    stack.signer.command("/voicelink", "projects", user=USER, channel=CHANNEL)
    stack.signer.command("/voicelink", "projects", user=USER, channel=CHANNEL)
    stack.slack.wait_for(lambda: len(answers(stack, USER, "voice projects")) >= 2 or
                         len([r for r in stack.slack.responses(USER) if "Backend Engineer" in str(r["blocks"])]) >= 2)
    warned = [m for m in stack.slack.dms(USER)[before:] if "no longer accepts your API key" in m["text"]]
    assert len(warned) == 1


def test_stale_shortlist_buttons_answer_from_the_stored_results(stack):
    from tests.test_scoring_e2e import submit_modal

    submit_modal(stack)
    first = wait_shortlist(stack)
    run_id = first["metadata"]["event_payload"]["run_id"]
    candidate = stack.services.scoring.run(run_id).candidates[0]
    # a newer run replaces Pluto's single state: the old run's candidates are gone there
    stack.pluto.reset()
    stack.signer.block_action("pluto_details", CandidateRef(run_id, candidate.id).to_value(), user=USER,
                              channel="C_GENERAL")
    view = stack.slack.wait_for(lambda: [v for v in stack.slack.views(user=USER)
                                         if v["title"]["text"] == "Candidate" and "stored shortlist" in str(v)])
    assert candidate.name in str(view[-1]["blocks"])
