"""Every read of candidate data goes through AccessService: the real bot over HTTP, the Slack test bed and the
simulators. A run is scored in #hiring by Alice; Mallory is not in #hiring. For each path (commands, buttons,
App Home, mentions) Mallory gets nothing of it, in the same words a name or id that does not exist gets."""


import pytest

from sandbox.stack import Stack, StackOptions
from services.records import CandidateRef, PageRef
from tests.conftest import score_with_form
from tests.test_scoring_e2e import CSV

USER, OUTSIDER, CHANNEL, ELSEWHERE = "U_ALICE", "U_MALLORY", "C_HIRING", "C_ELSEWHERE"
SECRETS = ("Ada", "Lovelace", "candidates.csv", "tier")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    options = StackOptions(openai=False, pluto={"extract_seconds": 0.1, "score_seconds": 0.1},
                           database_path=str(tmp_path_factory.mktemp("db") / "bot.db"))
    with Stack(options) as s:
        s.slack.members[CHANNEL] = {USER, s.slack.bot_user_id}
        s.slack.members[ELSEWHERE] = {USER, OUTSIDER, s.slack.bot_user_id}
        file = s.slack.add_file("candidates.csv", CSV, user=USER)
        score_with_form(s.signer, file, jd="Title: Data Engineer", top_n=3, user=USER, channel=CHANNEL)
        s.slack.wait_for(lambda: [m for m in s.slack.messages(CHANNEL) if (m.get("metadata") or {})
                                  .get("event_type") == "pluto_scoring_completed"], timeout=30)
        yield s


def said(stack, user, count):
    """The user's private answers once there are ``count`` of them (responses, ephemerals and DMs)."""
    def everything():
        return (stack.slack.responses(user) + stack.slack.ephemerals(user) + stack.slack.dms(user))
    return stack.slack.wait_for(lambda: len(everything()) >= count and everything())[count - 1:]


def text_of(messages):
    return " ".join(m.get("text", "") + str(m.get("blocks", "")) for m in messages)


def run_and_candidate(stack):
    run = stack.services.scoring.latest(CHANNEL)
    return run, next(c for c in run.candidates if c.name == "Ada Lovelace")


def ask(stack, user, command, text, channel=ELSEWHERE):
    start = len(stack.slack.responses(user) + stack.slack.ephemerals(user) + stack.slack.dms(user))
    stack.signer.command(command, text, user=user, channel=channel)
    return text_of(said(stack, user, start + 1))


def test_pluto_candidate_searches_only_runs_the_person_may_see(stack):
    for_outsider = ask(stack, OUTSIDER, "/pluto", "candidate Ada Lovelace")
    nobody = ask(stack, OUTSIDER, "/pluto", "candidate Zed Nobody")
    assert for_outsider.replace("Ada Lovelace", "X") == nobody.replace("Zed Nobody", "X")
    assert "final" not in for_outsider.lower() and "candidates.csv" not in for_outsider
    # the member finds her from any channel (the run is visible to its starter)
    stack.signer.command("/pluto", "candidate Ada Lovelace", user=USER, channel=ELSEWHERE)
    stack.slack.wait_for(lambda: [r for r in stack.slack.responses(USER) if "pluto_details" in str(r["blocks"])])


def test_pluto_results_export_and_status_show_an_outsider_no_run(stack):
    results = ask(stack, OUTSIDER, "/pluto", "results")
    assert "no finished scoring run" in results and not any(s in results for s in SECRETS)
    export = ask(stack, OUTSIDER, "/pluto", "export")
    assert "no finished scoring run" in export
    assert not [u for u in stack.slack.uploads() if u["channel"] in (ELSEWHERE, stack.slack.dm_channel(OUTSIDER))]
    status = ask(stack, OUTSIDER, "/pluto", "status")
    assert "candidates.csv" not in status
    stack.signer.command("/pluto", "status", user=USER, channel=CHANNEL)
    stack.slack.wait_for(lambda: [r for r in stack.slack.responses(USER) if "candidates.csv" in r["text"]])


def test_buttons_with_a_run_or_board_id_refuse_an_outsider_as_for_an_unknown_id(stack):
    run, ada = run_and_candidate(stack)
    presses = [("pluto_page_next", PageRef(run.id, 2).to_value(), PageRef("nope", 2).to_value()),
               ("pluto_retry", run.id, "nope")]
    for action, value, unknown in presses:
        start = len(stack.slack.ephemerals(OUTSIDER) + stack.slack.responses(OUTSIDER) + stack.slack.dms(OUTSIDER))
        stack.signer.block_action(action, value, user=OUTSIDER, channel=ELSEWHERE)
        real = text_of(said(stack, OUTSIDER, start + 1))
        stack.signer.block_action(action, unknown, user=OUTSIDER, channel=ELSEWHERE)
        fake = text_of(said(stack, OUTSIDER, start + 2))
        assert "can't show you" in real and real == fake, action
        assert not any(s in real for s in SECRETS)
    # Details opens a modal: it says the same for the real run and an unknown one, and nothing of Ada
    for n, value in enumerate((CandidateRef(run.id, ada.id).to_value(), CandidateRef("nope", ada.id).to_value()), 1):
        stack.signer.block_action("pluto_details", value, user=OUTSIDER, channel=ELSEWHERE)
        stack.slack.wait_for(lambda n=n: len([v for v in stack.slack.views(user=OUTSIDER)
                                              if "can't show you" in str(v["blocks"])]) == n)
    shown = [str(v["blocks"]) for v in stack.slack.views(user=OUTSIDER)]
    assert len(set(shown)) == 1 and not any("Lovelace" in v for v in shown)


def test_app_home_shows_an_outsider_nothing_and_show_board_refuses(stack):
    stack.signer.event({"type": "app_home_opened", "user": OUTSIDER, "channel": "D1", "tab": "home"})
    home = str(stack.slack.wait_for(lambda: stack.slack.home(OUTSIDER))["blocks"])
    assert "candidates.csv" not in home and "Ada" not in home
    start = len(stack.slack.dms(OUTSIDER))
    stack.signer.block_action("home_show_board", "nope", user=OUTSIDER, view=stack.slack.home(OUTSIDER))
    refusal = stack.slack.wait_for(lambda: stack.slack.dms(OUTSIDER)[start:])[-1]["text"]
    assert "can't show you that screening board" in refusal


def test_pluto_room_by_name_ties_a_room_only_to_a_candidate_the_person_may_see(stack):
    stack.signer.command("/pluto", "room Ada Lovelace", user=OUTSIDER, channel=CHANNEL)
    room = stack.slack.wait_for(lambda: [r for r in stack.services.store.rows("interview_rooms")
                                         if r["interviewer"] == OUTSIDER])[-1]
    assert room["run_id"] is None and room["candidate_id"] is None and room["kind"] == "adhoc"
    _, ada = run_and_candidate(stack)
    stack.signer.command("/pluto", "room Ada Lovelace", user=USER, channel=CHANNEL)
    mine = stack.slack.wait_for(lambda: [r for r in stack.services.store.rows("interview_rooms")
                                         if r["interviewer"] == USER])[-1]
    assert mine["candidate_id"] == ada.id


def test_a_mention_in_an_interview_cards_thread_by_someone_outside_its_channel_is_refused(stack):
    stack.signer.command("/pluto", "room Grace Hopper", user=USER, channel=CHANNEL)
    room = stack.slack.wait_for(lambda: [r for r in stack.services.store.rows("interview_rooms")
                                         if r["candidate_name"] == "Grace Hopper" and r.get("card_ts")])[-1]
    start = len(stack.slack.ephemerals(OUTSIDER) + stack.slack.dms(OUTSIDER))
    stack.signer.event({"type": "app_mention", "user": OUTSIDER, "channel": CHANNEL, "ts": "1999.000001",
                        "thread_ts": room["card_ts"], "text": f"<@{stack.slack.bot_user_id}> what about Grace?"})
    refusal = stack.slack.wait_for(lambda: (stack.slack.ephemerals(OUTSIDER) + stack.slack.dms(OUTSIDER))[start:])
    assert "Only the interviewers" in refusal[-1]["text"]
    replies = [m for m in stack.slack.messages(CHANNEL) if m.get("thread_ts") == room["card_ts"]
               and m.get("ts") != room["card_ts"]]
    assert replies == []  # no "working…", no answer in the thread
