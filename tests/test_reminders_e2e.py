"""Reminders, nudges, expiry warnings, digests and notification settings, end to end: the real bot over
HTTP, the Slack test bed and the simulators, with the bot's clock moved the way ``sim clock +1d`` moves it
(``Stack.advance_clock`` also runs the due check at once, as the every-minute cron job would).
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sandbox.stack import Stack, StackOptions
from tests.conftest import db_options
from tests.test_screening_e2e import USER as ALICE
from tests.test_screening_e2e import board_message, form_values, open_screen_form, score
from tests.test_voicelink_e2e import SECTIONS, form, open_modal

RITA, BOB, CHANNEL = "U_RITA", "U_BOB", "C_HIRING"
HOUR, DAY = 3600, 86400
TRANSCRIPT = ("Interviewer: Tell me about a hard project.\n"
              "Candidate: I led a billing migration with zero downtime, running both systems in parallel.\n"
              "Interviewer: What would you change?\nCandidate: I would load-test the reconciliation job earlier.\n")


def make_stack(database=None, **settings):
    options = StackOptions(pluto={"extract_seconds": 0.1, "score_seconds": 0.2, "room_ttl_seconds": 60},
                           nimrobo={"evaluation_delay": 0, "summary_delay": 0},
                           settings={"reminder_check_seconds": 3600, **settings},  # the test moves time itself
                           **(db_options(database) if database else {}))
    s = Stack(options).start()
    s.slack.members[CHANNEL] = {RITA, BOB, ALICE, s.slack.bot_user_id}
    s.slack.add_user(RITA, "Rita Recruiter")
    s.slack.add_user(BOB, "Bob Builder")
    return s


@pytest.fixture()
def stack():
    s = make_stack()
    yield s
    s.stop()


def go_to(stack, when: datetime) -> None:
    """Move the bot's clock to ``when`` (forward only) and look for what is due."""
    now = stack.services.clock.now()
    assert when.timestamp() >= now, "the clock only moves forward"
    stack.advance_clock(when.timestamp() - now)
    stack.slack.wait_for(lambda: stack.services.outbox.stats().waiting == 0)  # what was due is delivered


def next_weekday(weekday: int, hour: int, minute: int = 0, tz=UTC) -> datetime:
    """The first ``weekday`` (0 = Monday) at ``hour`` that is at least a day from now, in ``tz``."""
    day = datetime.now(tz) + timedelta(days=1)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0)


def reminders_to(stack, user, kind="Feedback due"):
    return [m for m in stack.slack.dms(user) if m["text"].startswith(kind)]


def buttons(message):
    return [e["text"]["text"] for b in message["blocks"] for e in b.get("elements") or [] if e.get("type") == "button"]



def press(stack, message, label, user):
    for block in message["blocks"]:
        for element in [*(block.get("elements") or []), *([block["accessory"]] if block.get("accessory") else [])]:
            if element.get("type") == "button" and element["text"]["text"] == label:
                response = stack.signer.block_action(element["action_id"], element.get("value"),
                                                     block_id=block.get("block_id"), user=user,
                                                     channel=message["channel"], message=message)
                assert response.status_code == 200
                return
    raise LookupError(label)


def open_room(stack, name="Grace Hopper", user=RITA):
    """``/pluto room <name>``; the room's row once the bot has recorded it."""
    stack.signer.command("/pluto", f"room {name}", user=user, channel=CHANNEL)
    return stack.slack.wait_for(lambda: [r for r in stack.services.store.rows("interview_rooms")
                                         if r["candidate_name"] == name and r.get("card_ts")])[0]


# -- feedback reminders ----------------------------------------------------------------------------------
def test_a_feedback_reminder_arrives_repeats_snoozes_and_stops_after_analyze(stack):
    open_room(stack)
    tuesday = next_weekday(1, 10)
    go_to(stack, tuesday)  # the room (60 s) has closed: the first reminder
    [first] = reminders_to(stack, RITA)
    assert "Grace Hopper" in first["text"] and buttons(first) == ["Analyze", "Decide", "Snooze a day"]
    go_to(stack, tuesday + timedelta(hours=3))  # the same day: nothing new
    assert len(reminders_to(stack, RITA)) == 1
    go_to(stack, tuesday + timedelta(days=1, minutes=1))  # a business day later: again
    assert len(reminders_to(stack, RITA)) == 2
    press(stack, reminders_to(stack, RITA)[-1], "Snooze a day", RITA)
    stack.slack.wait_for(lambda: [e for e in stack.slack.ephemerals(user=RITA) if "Snoozed" in e["text"]])
    go_to(stack, tuesday + timedelta(days=2, minutes=2))  # Thursday: it would have come; snoozed
    assert len(reminders_to(stack, RITA)) == 2
    go_to(stack, tuesday + timedelta(days=3, minutes=3))  # Friday: it comes
    assert len(reminders_to(stack, RITA)) == 3
    # Analyze from the reminder: the transcript form, then the analysis; the reminders stop
    press(stack, reminders_to(stack, RITA)[-1], "Analyze", RITA)
    view = stack.slack.wait_for(lambda: [v for v in stack.slack.views(user=RITA) if "Or upload it" in str(v["blocks"])])[-1]
    stack.signer.view_submission(view, {"transcript": {"transcript": {"type": "plain_text_input",
                                                                      "value": TRANSCRIPT}}}, user=RITA)
    stack.slack.wait_for(lambda: stack.services.store.rows("interview_rooms")[-1]["state"] == "analyzed")
    go_to(stack, tuesday + timedelta(days=6, minutes=4))  # the next Monday: nothing more
    assert len(reminders_to(stack, RITA)) == 3


def test_quiet_hours_hold_a_reminder_until_morning_in_a_time_zone_far_from_utc(stack):
    stack.slack.add_user(RITA, "Rita Recruiter", tz="Asia/Tokyo", tz_offset=9 * HOUR)
    open_room(stack)
    tokyo = next_weekday(1, 22, tz=ZoneInfo("Asia/Tokyo"))  # Tuesday 22:00 in Tokyo
    go_to(stack, tokyo)
    assert reminders_to(stack, RITA) == []  # 22:00 there: it waits
    go_to(stack, tokyo + timedelta(hours=9, minutes=59))  # 07:59 there
    assert reminders_to(stack, RITA) == []
    go_to(stack, tokyo + timedelta(hours=10, minutes=1))  # 08:01 there: it arrives
    assert len(reminders_to(stack, RITA)) == 1


def test_a_decision_from_the_reminder_stops_it_and_settings_turn_reminders_off(stack):
    open_room(stack, "Grace Hopper")
    open_room(stack, "Alan Turing", user=BOB)
    tuesday = next_weekday(1, 10)
    # Bob turns reminders off in App Home before anything is due
    stack.signer.event({"type": "app_home_opened", "user": BOB, "channel": "D" + BOB, "tab": "home"})
    home = stack.slack.wait_for(lambda: stack.slack.home(BOB))
    [select] = [b["accessory"] for b in home["blocks"] if (b.get("accessory") or {}).get("action_id") ==
                "prefs_reminders"]
    stack.signer.block_action("prefs_reminders", user=BOB, view=home, action_type="static_select",
                              selected_option={"value": "off"})
    stack.slack.wait_for(lambda: not stack.services.reminders.prefs(BOB).reminders)
    go_to(stack, tuesday)
    assert len(reminders_to(stack, RITA)) == 1 and reminders_to(stack, BOB) == []
    press(stack, reminders_to(stack, RITA)[0], "Decide", RITA)
    choice = stack.slack.wait_for(lambda: [e for e in stack.slack.ephemerals(user=RITA) if "decision on" in
                                           str(e["blocks"])])[-1]
    stack.signer.block_action("reminder_room_advance", choice["blocks"][1]["elements"][0]["value"], user=RITA,
                              channel="D" + RITA, ephemeral=True, message_ts=choice["ts"])
    stack.slack.wait_for(lambda: [e for e in stack.slack.ephemerals(user=RITA) if "advanced" in e["text"]])
    go_to(stack, tuesday + timedelta(days=1, minutes=1))
    assert len(reminders_to(stack, RITA)) == 1 and reminders_to(stack, BOB) == []
    assert select["initial_option"]["value"] == "on"  # the default was on


# -- decisions waiting, through the hiring loop ------------------------------------------------------------
def test_a_decision_nudge_lists_who_waits_and_its_advance_updates_the_board(stack):
    shortlist = score(stack)  # Alice scores a CSV, then voice-screens the top 2 from the shortlist
    _, view = open_screen_form(stack, shortlist, 2)
    stack.signer.view_submission(view, form_values(view), user=ALICE)
    stack.slack.wait_for(lambda: len(stack.nimrobo.links) == 2)
    for link in list(stack.nimrobo.links.values()):
        stack.nimrobo.complete_session(stack.nimrobo.start_session(link["id"]))
    store = stack.services.store
    stack.slack.wait_for(lambda: len(store.rows("screening_links", "outcome = ?", ["completed"])) == 2, timeout=20)
    names = [r["candidate_name"] for r in store.rows("screening_links")]
    go_to(stack, next_weekday(2, 11))  # a business day later
    [nudge] = reminders_to(stack, ALICE, kind="2 candidates wait")
    assert all(name in str(nudge["blocks"]) for name in names)
    assert reminders_to(stack, RITA, kind="2 candidates wait") == []  # only the board's owner
    advance = next(b for b in nudge["blocks"] if b["type"] == "actions" and "nudge_advance" in str(b))
    value = advance["elements"][0]["value"]
    stack.signer.block_action("nudge_advance", value, user=ALICE, channel="D" + ALICE, message=nudge)
    board_id, candidate_id = value.split("|")
    stack.slack.wait_for(lambda: stack.services.screening.decision(board_id, candidate_id))
    board = board_message(stack)[0]
    stack.slack.wait_for(lambda: "Advanced" in str(stack.slack.message(CHANNEL, board["ts"])["blocks"]))
    stack.slack.wait_for(lambda: stack.slack.message("D" + ALICE, nudge["ts"])["text"].startswith("1 candidate"))
    go_to(stack, next_weekday(2, 11) + timedelta(days=1, minutes=1))  # again the next day, for the one left
    assert len(reminders_to(stack, ALICE, kind="1 candidate wait")) == 2  # the updated nudge and the new one


# -- links about to expire ------------------------------------------------------------------------------------
def test_an_expiry_warning_lists_unused_links_by_project_and_renews_one():
    stack = make_stack(expiry_warning_seconds=40 * DAY)  # month-long links are "about to expire" at once
    try:
        view = open_modal(stack, user=RITA)
        stack.signer.view_submission(view, form(view, name="QA Lead", labels="Ada\nAlan", expiry="1_month",
                                                **SECTIONS), user=RITA)
        stack.slack.wait_for(lambda: len(stack.services.store.rows("voice_links")) == 2)
        ada = next(link for link in stack.nimrobo.links.values() if link["label"] == "Ada")
        stack.nimrobo.start_session(ada["id"])  # Ada started hers: no warning for it
        stack.slack.wait_for(lambda: stack.services.voicelinks.refresh_statuses() is not None and
                             stack.services.store.rows("voice_links", "session_id is not null"))
        go_to(stack, next_weekday(1, 10))  # a Tuesday morning
        [warning] = [m for m in stack.slack.dms(RITA) if "expire unused" in m["text"]]
        shown = str(warning["blocks"])
        assert "QA Lead" in shown and "*Alan*" in shown and "*Ada*" not in shown
        go_to(stack, next_weekday(1, 12))
        assert len([m for m in stack.slack.dms(RITA) if "expire unused" in m["text"]]) == 1  # once
        before = len(stack.nimrobo.links)
        press(stack, warning, "New link", RITA)
        stack.slack.wait_for(lambda: len(stack.nimrobo.links) == before + 1)
        new = stack.slack.wait_for(lambda: [m for m in stack.slack.dms(RITA) if m["text"].startswith("Your 1 voice")])
        assert "Alan" in str(new[-1]["blocks"]) and "/link/" in str(new[-1]["blocks"])  # the secret, by DM only
    finally:
        stack.stop()


# -- completed interviews by DM, as each person chose ----------------------------------------------------------
def test_completions_by_dm_follow_the_home_setting(stack):
    view = open_modal(stack, user=RITA)
    stack.signer.view_submission(view, form(view, name="QA Lead", labels="Ada\nAlan", **SECTIONS), user=RITA)
    stack.slack.wait_for(lambda: len(stack.nimrobo.links) == 2)
    links = {link["label"]: link for link in stack.nimrobo.links.values()}
    before = len(stack.slack.dms(RITA))
    stack.nimrobo.complete_session(stack.nimrobo.start_session(links["Ada"]["id"]))
    first = stack.slack.wait_for(lambda: stack.slack.dms(RITA)[before:], timeout=30)  # "mine": the default
    assert "Ada" in str(first)
    stack.signer.event({"type": "app_home_opened", "user": RITA, "channel": "D" + RITA, "tab": "home"})
    home = stack.slack.wait_for(lambda: stack.slack.home(RITA))
    stack.signer.block_action("prefs_completions", user=RITA, view=home, action_type="static_select",
                              selected_option={"value": "off"})
    stack.slack.wait_for(lambda: stack.services.reminders.prefs(RITA).completions == "off")
    stack.slack.wait_for(lambda: "Off" in str(stack.slack.home(RITA)["blocks"]))
    count = len(stack.slack.dms(RITA))
    stack.nimrobo.complete_session(stack.nimrobo.start_session(links["Alan"]["id"]))
    stack.slack.wait_for(lambda: [m for m in stack.slack.messages(CHANNEL) if "Alan" in str(m.get("blocks"))
                                  and (m.get("metadata") or {}).get("event_type") == "voice_session_completed"],
                         timeout=30)  # the channel hears of it ...
    assert len(stack.slack.dms(RITA)) == count  # ... Rita, who chose Off, does not


# -- the daily digest -------------------------------------------------------------------------------------------
def test_the_digest_is_posted_once_per_channel_and_day_across_a_restart_and_a_lost_answer(database):
    stack = make_stack(database)
    try:
        answer = stack.signer.command("/pluto", "digest 09:00", user=RITA, channel=CHANNEL)
        assert answer.status_code == 200
        stack.slack.wait_for(lambda: stack.services.reminders.digest_setting(CHANNEL))
        score(stack)  # a finished scoring run in the channel
        now = datetime.now(UTC)
        morning = now.replace(hour=9, minute=0, second=0, microsecond=0) + timedelta(days=1)
        while morning.weekday() >= 5:
            morning += timedelta(days=1)
        go_to(stack, morning - timedelta(minutes=1))
        digests = lambda: [m for m in stack.slack.messages(CHANNEL)  # noqa: E731
                           if (m.get("metadata") or {}).get("event_type") == "pluto_digest"]
        assert digests() == []  # not yet 09:00
        go_to(stack, morning + timedelta(minutes=1))
        [digest] = digests()
        assert "Scoring runs finished" in str(digest["blocks"]) and "ada@example.com" not in str(digest)
        stack.stop_bot()  # a restart (on PostgreSQL: another replica taking over)
        stack.start_bot()
        go_to(stack, morning + timedelta(minutes=5))
        assert len(digests()) == 1
        # the answer to a post was lost: the claim stays "posting"; once stale it is looked up, not re-posted
        key = f"digest:{CHANNEL}:{morning.date().isoformat()}"
        stack.services.store.update("outbox", key, {"state": "unclear", "claimed_at": 1.0})
        stack.services.notify_sender()
        stack.slack.wait_for(lambda: stack.services.outbox.get(key)["state"] == "sent")
        assert len(digests()) == 1
        # the next business day: nothing new happened in the channel, so nothing is posted
        following = morning + timedelta(days=1)
        while following.weekday() >= 5:
            following += timedelta(days=1)
        go_to(stack, following + timedelta(minutes=1))
        assert len(digests()) == 1
        stack.signer.command("/pluto", "digest off", user=RITA, channel=CHANNEL)
        stack.slack.wait_for(lambda: stack.services.reminders.digest_setting(CHANNEL) is None)
    finally:
        stack.stop()
