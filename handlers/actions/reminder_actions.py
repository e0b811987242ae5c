"""Buttons on reminders (Snooze a day, Decide, Advance / Reject from a nudge, Extend or renew an
expiring link) and the notification settings on the App Home tab.

Each acks at once; the rest runs on the work pool and answers the clicker privately. Deciding from a
nudge goes through the same access rule as the board (services/access.py) and updates the board.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.blocks import Message, info_message
from bot.blocks.reminders import decide_choices, decision_nudge, nudge_done
from bot.blocks.voice import links_dm
from bot.blocks.when import slack_date
from bot.context import Services
from bot.flows import screening as board_flow
from bot.flows.home import publish_home
from handlers import inject
from handlers.clicks import Click, deferred
from services.errors import NotFoundHere
from services.reminders import Reminder


@deferred("snooze", threaded=False)
def on_snooze(click: Click) -> Message:
    until = click.services.reminders.snooze(click.value, click.user)
    return info_message(f":zzz: Snoozed: the next reminder comes {slack_date(until)} at the earliest "
                        "(never in your quiet hours).")


@deferred("decide", threaded=False)
def on_decide(click: Click) -> Message:
    """"Decide" on a feedback reminder: Advance or Reject, privately."""
    interviews = click.services.interviews
    room = interviews.get(click.value)
    interviews.allowed(room.id, user=click.user, what="decide on this interview")
    return decide_choices(room.id, room.candidate_name or "the candidate")


def _decision(click: Click) -> str:
    return "advance" if click.action["action_id"].endswith("advance") else "reject"


@deferred("decision", threaded=False)
def on_room_decision(click: Click) -> Message:
    """Advance / Reject from a feedback reminder: recorded on the room, and on its board when it has one;
    the feedback reminders stop."""
    services, user, decision = click.services, click.user, _decision(click)
    room = services.reminders.decide_room(click.value, decision, user)
    board = services.screening.board_for_run(room["run_id"]) if room.get("run_id") else None
    if board is not None and room.get("candidate_id"):
        try:
            services.screening.decide(board.id, room["candidate_id"], decision, user)
            board_flow.show_board(services, click.out, board.id)
        except NotFoundHere:  # the candidate was never screened on that board: the room holds it
            pass
    return nudge_done(room.get("candidate_name") or "The candidate", decision)


@deferred("decision", threaded=False)
def on_nudge_decision(click: Click) -> Message:
    """Advance / Reject from a decision nudge: the board is updated, the nudge lists who still waits."""
    services, user, decision = click.services, click.user, _decision(click)
    board_id, candidate_id = click.pair()
    board = services.screening.board(board_id)
    board_flow.require_run(services, click.client, user, board.run_id)
    services.screening.decide(board_id, candidate_id, decision, user)
    board_flow.show_board(services, click.out, board_id)
    name = services.screening.row(board_id, candidate_id).name
    waiting = services.reminders.waiting(board_id)
    now = services.clock.now()
    channel, ts = click.channel, click.message_ts
    if channel and ts:
        if waiting:
            message = decision_nudge(Reminder(f"decision|{board_id}|{user}", "decision", user, 0, now,
                                              subject=board_id, waiting=tuple(waiting)), None, now)
        else:
            message = info_message(":white_check_mark: Every interviewed candidate on that board has a "
                                   "decision now.")
        click.client.chat_update(channel=channel, ts=ts, text=message.text, blocks=message.kwargs().get("blocks", []))
    return nudge_done(name, decision)


@deferred("extend link", threaded=False)
def on_extend(click: Click) -> Message:
    row = click.services.voicelinks.extend_instant_link(click.value, click.user)
    return info_message(f":white_check_mark: *{row.label}* now expires {slack_date(row.expires_at)}.")


@deferred("new link", threaded=False)
def on_new_link(click: Click) -> None:
    """A fresh link for the same participant; the link itself (a secret) only by DM."""
    batch, link = click.services.voicelinks.renew_link(click.value, click.user)
    click.out.dm(click.user, links_dm(batch, [link]))


PREFS = {"prefs_completions": "completions", "prefs_reminders": "reminders", "prefs_quiet": "quiet_hours",
         "prefs_digest": "digest_dm"}


@deferred("notification settings", threaded=False)
def on_prefs(click: Click) -> None:
    """A notification setting changed on the Home tab: saved, and the tab shows it (a failure comes by DM)."""
    value = (click.action.get("selected_option") or {}).get("value") or ""
    name = PREFS[click.action["action_id"]]
    change: dict[str, Any] = {
        "completions": lambda: value,
        "reminders": lambda: value == "on",
        "quiet_hours": lambda: "" if value == "default" else value,
        "digest_dm": lambda: value == "dm",
    }
    click.services.reminders.set_prefs(click.user, **{name: change[name]()})
    publish_home(click.services, click.client, click.user)


def register(app: App, services: Services) -> None:
    for action_id, fn in (("reminder_snooze", on_snooze), ("reminder_decide", on_decide),
                                ("reminder_room_advance", on_room_decision),
                                ("reminder_room_reject", on_room_decision),
                                ("nudge_advance", on_nudge_decision), ("nudge_reject", on_nudge_decision),
                                ("expiry_extend", on_extend), ("expiry_new_link", on_new_link),
                                *((action_id, on_prefs) for action_id in PREFS)):
        app.action(action_id)(inject(fn, services))
