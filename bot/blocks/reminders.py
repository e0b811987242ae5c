"""Reminders by DM (feedback, decisions waiting, links about to expire), the channel's daily digest, and
the notification settings on the App Home tab."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import Option, StaticSelectElement
from slack_sdk.models.blocks.basic_components import PlainTextObject

from bot.blocks import (
    MAX_MESSAGE_BLOCKS,
    Message,
    actions,
    button,
    context,
    divider,
    header,
    mrkdwn_escape,
    section,
)
from bot.blocks.when import slack_date
from services.records import SEP
from services.reminders import COMPLETIONS, Digest, Prefs, QuietHours, Reminder

QUIET_CHOICES = {"": "Default", "off": "None (weekends only)", "21-7": "21:00–07:00", "22-8": "22:00–08:00",
                 "19-9": "19:00–09:00", "18-8": "18:00–08:00"}


def _span(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 90 * 60:
        return f"{max(1, round(seconds / 60))} min"
    if seconds < 36 * 3600:
        return f"{round(seconds / 3600)} h"
    return f"{round(seconds / 86400)} days"


def feedback_reminder(reminder: Reminder, now: float) -> Message:
    """To one interviewer: the candidate, the role, how long ago; Analyze, Decide, Snooze a day."""
    who = mrkdwn_escape(reminder.candidate)
    role = f" for *{mrkdwn_escape(reminder.role)}*" if reminder.role else ""
    text = (f":memo: Your feedback on *{who}*{role} is still open: the interview ended {_span(now - reminder.since)} "
            "ago. Analyze it, or record a decision, and this reminder stops.")
    count = f"Reminder {reminder.n + 1}" + (" · next one in a business day unless it's done" if reminder.n else "")
    return Message(text=f"Feedback due: {reminder.candidate}", blocks=[
        section(text),
        actions(button("Analyze", "interview_analyze", reminder.subject, style="primary"),
                button("Decide", "reminder_decide", reminder.subject),
                button("Snooze a day", "reminder_snooze", reminder.key), block_id=f"reminder{SEP}{reminder.key}"),
        context(count),
    ], metadata={"event_type": "pluto_reminder", "event_payload": {"key": reminder.occurrence}})


def decide_choices(room_id: str, candidate: str) -> Message:
    return Message(text=f"Decide on {candidate}", blocks=[
        section(f"What is your decision on *{mrkdwn_escape(candidate)}*?"),
        actions(button("Advance", "reminder_room_advance", room_id, style="primary"),
                button("Reject", "reminder_room_reject", room_id, style="danger")),
    ])


def decision_nudge(reminder: Reminder, board_url: str | None, now: float) -> Message:
    """To a board's owner: every completed, undecided candidate, each with Advance and Reject."""
    count = len(reminder.waiting)
    lead = (f":hourglass_flowing_sand: {count} candidate{'s' if count != 1 else ''} on your Screening board "
            f"{'have' if count != 1 else 'has'} finished the voice interview and wait for your decision.")
    blocks: list[Any] = [section(lead)]
    shown = reminder.waiting[: (MAX_MESSAGE_BLOCKS - 4) // 2]
    for row in shown:
        value = f"{row.board_id}{SEP}{row.candidate_id}"
        blocks.append(section(f"*{mrkdwn_escape(row.name)}* · {mrkdwn_escape(row.headline)} · waiting "
                              f"{_span(now - row.since)}"))
        blocks.append(actions(button("Advance", "nudge_advance", value, style="primary"),
                              button("Reject", "nudge_reject", value, style="danger"),
                              block_id=f"nudge{SEP}{value}"))
    if len(reminder.waiting) > len(shown):
        blocks.append(context(f"…and {len(reminder.waiting) - len(shown)} more on the board."))
    tail = [button("Snooze a day", "reminder_snooze", reminder.key)]
    if board_url:
        tail.insert(0, button("Open board", "home_open_board", reminder.subject, url=board_url))
    blocks.append(actions(*tail))
    return Message(text=f"{count} candidate{'s' if count != 1 else ''} wait for your decision", blocks=blocks,
                   metadata={"event_type": "pluto_reminder", "event_payload": {"key": reminder.occurrence}})


def nudge_done(name: str, decision: str) -> Message:
    word = "advanced" if decision == "advance" else "rejected"
    return Message(text=f"{name} {word}", blocks=[section(f":white_check_mark: *{mrkdwn_escape(name)}* {word}; "
                                                         "the board is updated.")])


def expiry_warning(reminder: Reminder) -> Message:
    """To a creator: their unused links about to expire, by project; Extend (instant) or a new link."""
    links = reminder.links
    blocks: list[Any] = [section(f":alarm_clock: {len(links)} of your voice link{'s' if len(links) != 1 else ''} "
                                 f"will expire unused soon. Nobody has started {'them' if len(links) != 1 else 'it'}.")]
    project = None
    for link in links:
        if len(blocks) >= MAX_MESSAGE_BLOCKS - 2:
            blocks.append(context("…more links expire soon; see `/voicelink list`."))
            break
        if link.project_name != project:
            project = link.project_name
            blocks.append(header(project))
        accessory = (button("Extend a week", "expiry_extend", link.link_id) if link.kind == "instant"
                     else button("New link", "expiry_new_link", link.link_id))
        blocks.append(section(f"*{mrkdwn_escape(link.label)}* · expires {slack_date(link.expires_at)}",
                              accessory=accessory))
    return Message(text=f"{len(links)} voice link(s) expire unused soon", blocks=blocks,
                   metadata={"event_type": "pluto_reminder", "event_payload": {"key": reminder.occurrence}})


def digest_message(digest: Digest, *, names: dict[str, str] | None = None) -> Message:
    """The channel's daily digest."""
    names = names or {}
    blocks: list[Any] = [header(f"Daily hiring digest · {digest.day}")]

    def part(title: str, lines: Sequence[str]) -> None:
        if lines:
            shown = list(lines[:15]) + ([f"…and {len(lines) - 15} more"] if len(lines) > 15 else [])
            blocks.append(section(f"*{title}*\n" + "\n".join(f"• {line}" for line in shown)))

    part("Interviews completed", [f"*{mrkdwn_escape(n)}*: {mrkdwn_escape(h)}" for n, h in digest.completed])
    part("Scoring runs finished", [f"{mrkdwn_escape(role)}: {count} candidates ranked" for role, count in digest.runs])
    part("Decisions taken", [f"*{mrkdwn_escape(n)}* {'advanced' if d == 'advance' else 'rejected'} by <@{who}>"
                             for n, d, who in digest.decisions])
    part("Waiting for a decision", [f"*{mrkdwn_escape(w.name)}* · {mrkdwn_escape(w.headline)}"
                                    for w in digest.waiting])
    part("Voice links expiring soon", [f"{mrkdwn_escape(link.label)} ({mrkdwn_escape(link.project_name)}) · "
                                       f"{slack_date(link.expires_at)}" for link in digest.expiring])
    blocks.append(context("Posted on business days. Change it with `/pluto digest HH:MM` or stop it with "
                          "`/pluto digest off`."))
    summary = (f"{len(digest.completed)} interviews completed, {len(digest.runs)} runs finished, "
               f"{len(digest.decisions)} decisions, {len(digest.waiting)} waiting")
    return Message(text=f"Daily hiring digest {digest.day}: {summary}", blocks=blocks,
                   metadata={"event_type": "pluto_digest", "event_payload": {"channel": digest.channel,
                                                                             "day": digest.day}})


def _select(action_id: str, choices: dict[str, str], current: str) -> StaticSelectElement:
    options = [Option(value=value or "default", text=PlainTextObject(text=label)) for value, label in choices.items()]
    initial = next((o for o in options if o.value == (current or "default")), options[0])
    return StaticSelectElement(action_id=action_id, options=options, initial_option=initial)


def settings_blocks(prefs: Prefs, default_quiet: str) -> list[Any]:
    """The "Notifications" part of the Home tab: four choices, each saved as soon as it is made."""
    default = QuietHours.parse(default_quiet).describe()
    quiet = {**QUIET_CHOICES, "": f"Default ({default})"}
    if prefs.quiet_hours and prefs.quiet_hours not in quiet:
        quiet[prefs.quiet_hours] = prefs.quiet_hours
    return [
        divider(),
        section("*Notifications* · what reaches you by DM"),
        section("Completed interviews by DM", accessory=_select("prefs_completions", COMPLETIONS, prefs.completions)),
        section("Reminders (feedback, decisions, expiring links)",
                accessory=_select("prefs_reminders", {"on": "On", "off": "Off"}, "on" if prefs.reminders else "off")),
        section("Quiet hours (your time zone)", accessory=_select("prefs_quiet", quiet, prefs.quiet_hours)),
        section("Channel digests", accessory=_select("prefs_digest", {"channel": "In the channel only",
                                                                      "dm": "Also by DM"},
                                                     "dm" if prefs.digest_dm else "channel")),
    ]
