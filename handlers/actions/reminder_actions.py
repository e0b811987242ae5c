"""Buttons on reminders (Snooze a day, Decide, Advance / Reject from a nudge, Extend or renew an
expiring link) and the notification settings on the App Home tab.

Each acks at once; the rest runs on the work pool and answers the clicker privately. Deciding from a
nudge goes through the same access rule as the board (services/access.py) and updates the board.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.blocks import info_message
from bot.blocks.reminders import SEP, decide_choices, decision_nudge, nudge_done
from bot.blocks.voice import links_dm
from bot.blocks.when import slack_date
from bot.context import Services
from bot.flows import screening as board_flow
from bot.flows.home import publish_home
from bot.slack_out import SlackOut
from bot.work import Reply, defer
from handlers import inject
from services.errors import NotFoundHere
from services.records import STALE
from services.reminders import Reminder


def _clicked(body: dict[str, Any]) -> tuple[str, str, str | None]:
    """(user, channel, message ts) of a click."""
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or ""
    return body["user"]["id"], channel, (body.get("message") or {}).get("ts")


def _reply(client: WebClient, body: dict[str, Any]) -> Reply:
    user, channel, _ = _clicked(body)
    out = SlackOut(client)
    return (lambda message: out.reply_privately(channel, user, message)) if channel else \
        (lambda message: out.dm(user, message))


def on_snooze(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
              services: Services) -> None:
    ack()
    user, reply = body["user"]["id"], _reply(client, body)

    def work() -> None:
        until = services.reminders.snooze(action.get("value") or "", user)
        reply(info_message(f":zzz: Snoozed: the next reminder comes {slack_date(until)} at the earliest "
                           "(never in your quiet hours)."))

    defer(services.work, user, work, reply, "snooze")


def on_decide(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
              services: Services) -> None:
    """"Decide" on a feedback reminder: Advance or Reject, privately."""
    ack()
    user, reply = body["user"]["id"], _reply(client, body)

    def work() -> None:
        room = services.interviews.get(action.get("value") or "")
        services.interviews.allowed(room.id, user=user, what="decide on this interview")
        reply(decide_choices(room.id, room.candidate_name or "the candidate"))

    defer(services.work, user, work, reply, "decide")


def on_room_decision(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
                     services: Services) -> None:
    """Advance / Reject from a feedback reminder: recorded on the room, and on its board when it has one;
    the feedback reminders stop."""
    ack()
    user, reply = body["user"]["id"], _reply(client, body)
    decision = "advance" if action["action_id"].endswith("advance") else "reject"

    def work() -> None:
        room = services.reminders.decide_room(action.get("value") or "", decision, user)
        board = services.screening.board_for_run(room["run_id"]) if room.get("run_id") else None
        if board is not None and room.get("candidate_id"):
            try:
                services.screening.decide(board.id, room["candidate_id"], decision, user)
                board_flow.show_board(services, SlackOut(client), board.id)
            except NotFoundHere:  # the candidate was never screened on that board: the room holds it
                pass
        reply(nudge_done(room.get("candidate_name") or "The candidate", decision))

    defer(services.work, user, work, reply, "decision")


def on_nudge_decision(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
                      services: Services) -> None:
    """Advance / Reject from a decision nudge: the board is updated, the nudge lists who still waits."""
    ack()
    user, channel, ts = _clicked(body)
    reply = _reply(client, body)
    board_id, sep, candidate_id = (action.get("value") or "").partition(SEP)
    decision = "advance" if action["action_id"].endswith("advance") else "reject"

    def work() -> None:
        if not sep:
            raise NotFoundHere(STALE)
        board = services.screening.board(board_id)
        board_flow.require_run(services, client, user, board.run_id)
        services.screening.decide(board_id, candidate_id, decision, user)
        out = SlackOut(client)
        board_flow.show_board(services, out, board_id)
        name = services.screening.row(board_id, candidate_id).name
        waiting = services.reminders.waiting(board_id)
        now = services.clock.now()
        if channel and ts:
            if waiting:
                message = decision_nudge(Reminder(f"decision|{board_id}|{user}", "decision", user, 0, now,
                                                  subject=board_id, waiting=tuple(waiting)), None, now)
            else:
                message = info_message(":white_check_mark: Every interviewed candidate on that board has a "
                                       "decision now.")
            client.chat_update(channel=channel, ts=ts, text=message.text,
                               blocks=message.kwargs().get("blocks", []))
        reply(nudge_done(name, decision))

    defer(services.work, user, work, reply, "decision")


def on_extend(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
              services: Services) -> None:
    ack()
    user, reply = body["user"]["id"], _reply(client, body)

    def work() -> None:
        row = services.voicelinks.extend_instant_link(action.get("value") or "", user)
        reply(info_message(f":white_check_mark: *{row.label}* now expires {slack_date(row.expires_at)}."))

    defer(services.work, user, work, reply, "extend link")


def on_new_link(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
                services: Services) -> None:
    """A fresh link for the same participant; the link itself (a secret) only by DM."""
    ack()
    user, reply = body["user"]["id"], _reply(client, body)

    def work() -> None:
        batch, link = services.voicelinks.renew_link(action.get("value") or "", user)
        SlackOut(client).dm(user, links_dm(batch, [link]))

    defer(services.work, user, work, reply, "new link")


PREFS = {"prefs_completions": "completions", "prefs_reminders": "reminders", "prefs_quiet": "quiet_hours",
         "prefs_digest": "digest_dm"}


def on_prefs(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
             services: Services) -> None:
    """A notification setting changed on the Home tab: saved, and the tab shows it."""
    ack()
    user = body["user"]["id"]
    value = (action.get("selected_option") or {}).get("value") or ""
    name = PREFS[action["action_id"]]
    change: dict[str, Any] = {
        "completions": lambda: value,
        "reminders": lambda: value == "on",
        "quiet_hours": lambda: "" if value == "default" else value,
        "digest_dm": lambda: value == "dm",
    }

    def work() -> None:
        services.reminders.set_prefs(user, **{name: change[name]()})
        publish_home(services, client, user)

    defer(services.work, user, work, lambda message: SlackOut(client).dm(user, message), "notification settings")


def register(app: App, services: Services) -> None:
    for action_id, listener in (("reminder_snooze", on_snooze), ("reminder_decide", on_decide),
                                ("reminder_room_advance", on_room_decision),
                                ("reminder_room_reject", on_room_decision),
                                ("nudge_advance", on_nudge_decision), ("nudge_reject", on_nudge_decision),
                                ("expiry_extend", on_extend), ("expiry_new_link", on_new_link),
                                *((action_id, on_prefs) for action_id in PREFS)):
        app.action(action_id)(inject(listener, services))
