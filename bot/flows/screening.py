"""The hiring loop in Slack: the Voice-screen form, the Screening board in the run's thread, interview
outcomes on the board (and by DM to whoever asked for it), saves to Pluto that failed told in the thread.

* :func:`show_board` posts the board in the run's thread once, then updates that one message in
  place (``chat.update`` goes through the write limiter in ``bot/slack_client.py``, which paces it
  to Slack's tier). In a public channel :class:`~bot.slack_out.SlackOut` masks personal data.
* :func:`on_interview` is the watcher's hook: the board changes, the DM goes out once to a link's
  creator who chose it on that board, the creator's Home tab refreshes.
* :func:`follow_up` is the ``screening`` job: late evaluations, saves to Pluto, failures reported.

Links (bearer secrets) reach only their creator, by DM. Who may use a board is
``services.access`` (members of the run's channel, its starter, admins), asked in the listeners.
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Any

from bot.blocks import Message, error_message, info_message
from bot.blocks.board import analytics_problem_message, board_message
from bot.blocks.voice import card_message, links_dm
from bot.context import Services
from bot.delivery import Deliveries, after_sent
from bot.flows.home import refresh_home
from bot.slack_out import SlackOut
from services.errors import NotAllowed
from services.records import Notification, SessionRef
from services.voice_forms import VoiceForm

log = logging.getLogger(__name__)

BOARD_POST = "screening_board"
_board_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


def _lock(board_id: str) -> threading.Lock:
    with _guard:
        return _board_locks.setdefault(board_id, threading.Lock())


def require_run(services: Services, client: Any, user: str, run_id: str) -> None:
    """Only people who may see the run may screen it or use its board (services/access.py)."""
    decision = services.access.may_see_run(user, run_id)
    if not decision.allowed:
        raise NotAllowed(decision.refusal("that shortlist"))


def require_session(services: Services, client: Any, user: str, session_id: str) -> None:
    decision = services.access.may_see_session(user, session_id)
    if not decision.allowed:
        raise NotAllowed(decision.refusal())


# -- the board message ----------------------------------------------------------------------------
def show_board(services: Services, out: SlackOut, board_id: str) -> str | None:
    """Post the board in the run's thread once, or update it in place, through the outbox (bot/delivery.py:
    paced to chat.update's tier, updates not yet sent coalesce into the newest); the message ts once known."""
    screening = services.screening
    with _lock(board_id):
        view = screening.board_view(board_id)
        board = view.board
        message = board_message(view, public=False)  # masked where the channel is public, when it is queued
        deliveries = Deliveries(services, out)
        if board.message_ts:
            deliveries.update(board.channel, board.message_ts, message)
            return board.message_ts
        deliveries.post(f"{BOARD_POST}:{board_id}", board.channel, message, board.thread_ts)
        return None


@after_sent(BOARD_POST)
def _board_posted(services: Services, out: SlackOut, row: dict[str, Any], ts: str | None) -> None:
    """The board is in the thread: its ts is kept, and what changed while it waited is shown."""
    board_id = row["key"].split(":", 1)[1]
    if ts:
        services.screening.set_message(board_id, ts)
        show_board(services, out, board_id)


def show_boards(services: Services, out: SlackOut, board_ids: list[str]) -> None:
    for board_id in dict.fromkeys(board_ids):
        try:
            show_board(services, out, board_id)
        except Exception:
            log.exception("could not show screening board %s", board_id)


# -- creating links ---------------------------------------------------------------------------------
def submit(services: Services, out: SlackOut, *, run_id: str, form: VoiceForm, user: str, channel: str) -> None:
    """The Voice-screen form was submitted: links created and tied, sent to their creator by DM, the board
    shown. A partial failure leaves the batch's card (with Retry) privately with the creator."""
    result = services.screening.screen(run_id, form, user=user)
    if result.links:
        out.dm(user, links_dm(result.batch, result.links))
    if result.error is not None:
        batch, lines = services.voicelinks.card(result.batch.id)
        out.reply_privately(channel, user, card_message(batch, lines), result.board.thread_ts)
    show_board(services, out, result.board.id)
    refresh_home(services, out.client, user)


def screen_one(services: Services, out: SlackOut, *, run_id: str, candidate_id: str, user: str,
               channel: str) -> None:
    """One more candidate on the run's screening project: the link by DM, the board updated."""
    result = services.screening.screen_one(run_id, candidate_id, user=user)
    if result.links:
        out.dm(user, links_dm(result.batch, result.links))
        out.reply_privately(channel, user, info_message(
            f":white_check_mark: Voice link for *{result.links[0].label}* sent to you by DM; the screening board "
            "in the thread follows the interview."), result.board.thread_ts)
    if result.error is not None:
        out.reply_privately(channel, user, error_message(getattr(result.error, "user_message", str(result.error))),
                            result.board.thread_ts)
    show_board(services, out, result.board.id)


# -- interviews finishing ------------------------------------------------------------------------
def on_interview(services: Services, out: SlackOut, note: Notification) -> None:
    """The watcher's hook for every finished interview: a screened one updates its board, once."""
    change = services.screening.record_outcome(note)
    if change is None:
        return
    show_board(services, out, change.board_id)
    if change.finished_now:  # the DM to whoever chose it: bot/flows/reminders.py completion_dms
        refresh_home(services, out.client, change.creator)
    report_problems(services, out)


def follow_up(services: Services, out: SlackOut) -> None:
    """Late evaluations and saves to Pluto (the ``screening`` job); failures told in the thread."""
    changes = services.screening.follow_up()
    show_boards(services, out, [c.board_id for c in changes])
    report_problems(services, out)


def report_problems(services: Services, out: SlackOut) -> None:
    """Every save to Pluto that failed or may not have landed, told once in its board's thread."""
    deliveries = Deliveries(services, out)
    for problem in services.screening.unreported_problems():
        board = services.screening.board(problem.board_id)
        message = analytics_problem_message(problem, public=False)
        out.is_public(board.channel)  # asked before the transaction
        with services.outbox.transaction():
            if services.screening.mark_reported(problem.link_id):  # each failure told once
                deliveries.post(f"pluto_save_problem:{problem.link_id}:{uuid.uuid4().hex[:12]}", board.channel,
                                message, board.thread_ts)


def retry_save(services: Services, out: SlackOut, link_id: str) -> Message:
    """A person asked to save an interview's evaluation to Pluto again; the board shows the outcome."""
    outcome = services.screening.retry_analytics(link_id)
    show_board(services, out, outcome.board_id)
    if outcome.state == "saved":
        return info_message(f":white_check_mark: {outcome.candidate_name}'s interview evaluation is saved in Pluto.")
    services.screening.mark_reported(link_id)  # told right here, privately
    return error_message(f"Saving {outcome.candidate_name}'s evaluation to Pluto did not work: {outcome.error}",
                         hint="Try again later.")


def dm_choice_message(on: bool) -> Message:
    if on:
        return info_message(":bell: You'll also get a DM when an interview you created on this board completes. "
                            "Press *DM me completions* again to stop.")
    return info_message(":no_bell: No more DMs for this board; completions still appear in the thread.")


# -- private things ---------------------------------------------------------------------------
def export(services: Services, out: SlackOut, *, board_id: str, user: str) -> Message:
    """The full board as CSV to the person who asked, by DM; the reply says so."""
    view = services.screening.board_view(board_id)
    data = services.screening.export_csv(board_id, public=False)
    name = (view.filename.rsplit(".", 1)[0] or "candidates") + "-screening.csv"
    out.upload_privately(user, data, name, f"Screening board · {view.filename}",
                         comment=f"Both signals and the decisions, in the board's order ({view.sort_label}).")
    return info_message(f":inbox_tray: The screening board of *{view.filename}* was sent to you by DM as a CSV "
                        "(it holds contact details, so it is not shared in the channel).")


def transcript(services: Services, out: SlackOut, *, board_id: str, candidate_id: str, user: str) -> Message:
    """A screened interview's transcript, as a file in the presser's DM."""
    row = services.screening.row(board_id, candidate_id)
    if not row.session_id or row.voice_state != "completed":
        return info_message(f"{row.name}'s interview has not been completed yet.")
    text = services.sessions.transcript(SessionRef(row.kind, row.project_id, row.session_id, row.name), user=user)
    out.upload_privately(user, text or "(empty transcript)", f"transcript-{row.session_id}.txt",
                         f"Transcript · {row.name}")
    return info_message(f":page_facing_up: {row.name}'s transcript was sent to you by DM.")
