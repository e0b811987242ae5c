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

from bot.blocks import Message, error_message, info_message, loading_view
from bot.blocks.board import analytics_problem_message, board_message
from bot.blocks.voice import card_message, links_dm
from bot.blocks.voice_projects import done_view, review_view
from bot.charts import ScoredPoint, screening_scatter
from bot.context import Services
from bot.delivery import Deliveries, after_sent
from bot.flows.home import refresh_home
from bot.flows.voice import TITLE, show
from bot.slack_out import SlackOut
from services.errors import NotAllowed, Refusal, ServiceError
from services.records import BatchResult, Notification, SessionRef
from services.screening import ScreeningBoard, ScreenResult
from services.voice_forms import VoiceForm, validate_voice_form

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
def prepare(services: Services, out: SlackOut, client: Any, *, view_id: str, run_id: str, form: VoiceForm,
            user: str, channel: str) -> None:
    """The Voice-screen form was submitted: when a voice project for the role exists (and the board has none
    yet), ask in the form exactly as ``/voicelink create`` asks (as it is / update first, with the diff / new);
    else create at once. The outcome is said in the form."""
    require_run(services, out.client, user, run_id)
    try:
        review = services.screening.prepare(run_id, form, user=user)
    except ServiceError as exc:
        if not show(client, view_id, loading_view(TITLE, f":warning: {exc.user_message}")):
            raise
        return
    if review.needs_answer:
        if not show(client, view_id, review_view(review)):
            out.dm(user, error_message("I couldn't show you the choice about the role's voice project (the form "
                                       "was closed).", hint="Nothing was created; press Voice-screen again."))
        return
    confirm(services, out, client, view_id=view_id, batch_id=review.batch.id, user=user, channel=channel)


def confirm(services: Services, out: SlackOut, client: Any, *, view_id: str, batch_id: str, user: str,
            channel: str = "", choice: str | None = None) -> None:
    """Create a Voice-screen form as its creator chose; the links by DM, the board shown, the outcome in the form."""
    try:
        result = services.screening.confirm(batch_id, user, choice)
    except ServiceError as exc:
        if not show(client, view_id, loading_view(TITLE, f":warning: {exc.user_message}")):
            raise
        return
    _created(services, out, result, user, channel or result.board.channel)
    show(client, view_id, done_view(BatchResult(result.batch, result.links, result.error)))


def submit(services: Services, out: SlackOut, *, run_id: str, form: VoiceForm, user: str, channel: str) -> None:
    """Create the Voice-screen form's links at once (no question to ask): tied, sent to their creator by DM, the
    board shown. A partial failure leaves the batch's card (with Retry) privately with the creator."""
    require_run(services, out.client, user, run_id)
    _created(services, out, services.screening.screen(run_id, form, user=user), user, channel)


def screen_top(services: Services, out: SlackOut, *, run_id: str, top_n: int, user: str,
               channel: str | None = None) -> tuple[ScreeningBoard, list[str], ScreenResult | None]:
    """Voice-screen the top ``top_n`` of a run without the form (a Workflow Builder step, the assistant's
    button): the form as "Voice-screen top N" would prefill it, created at once for those of the top N not
    screened yet. The links go to ``user`` by DM, never anywhere else; the board is shown in the run's thread.

    Returns (the board, the link ids of the top N, what was made now or None when all were screened).
    Only someone who may see the run may do it (services/access.py).
    """
    require_run(services, None, user, run_id)
    run = services.screening.run(run_id)
    todo, already = services.screening.top_links(run_id, top_n)
    result = None
    if todo:
        prefill = services.screening.prefill(run_id, top_n)
        values = {**prefill.form_values(), "labels": "\n".join(todo)}
        form, errors = validate_voice_form("interview", values)
        if form is None:
            raise Refusal("The drafted interview form is incomplete (" + "; ".join(errors.values()) + ").",
                          hint="Use “Voice-screen top N” on the shortlist to fill it in yourself.")
        result = services.screening.screen(run_id, form, user=user)
        _created(services, out, result, user, channel or run.channel)
        if result.error is not None and not result.links:
            raise result.error if isinstance(result.error, ServiceError) else Refusal(str(result.error))
    board = services.screening.board_for_run(run_id)
    if board is None:  # nothing was made and nothing existed: screen() raised before
        raise Refusal("No screening board could be made for this run.")
    if not board.message_ts:  # queued for its first post (the outbox); its ts comes when it is sent
        show_board(services, out, board.id)
        board = services.screening.board(board.id)
    made = [link.id for link in result.links] if result else []
    return board, already + made, result


def _created(services: Services, out: SlackOut, result: ScreenResult, user: str, channel: str) -> None:
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
    require_run(services, out.client, user, run_id)
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
    file_id = out.upload_privately(user, data, name, f"Screening board · {view.filename}",
                                   comment=f"Both signals and the decisions, in the board's order ({view.sort_label}).")
    dm = out.dm_channel(user)
    services.lifecycle.record_file(file_id, dm, "board_export", run_id=view.board.run_id, board_id=board_id)
    services.audit.record(user, "board_export", channel=dm, delivery="dm", run_id=view.board.run_id,
                          board_id=board_id, file_id=file_id)
    return info_message(f":inbox_tray: The screening board of *{view.filename}* was sent to you by DM as a CSV "
                        "(it holds contact details, so it is not shared in the channel).")


def chart(services: Services, out: SlackOut, *, board_id: str, user: str) -> Message:
    """The board as a scatter (Pluto score against the interview evaluation, coloured by decision).

    In a public channel (``conversations.info``) it goes to the board's thread with the points numbered
    as on the board, no names. Anywhere else it goes privately to the person who asked, by DM (Slack
    has no ephemeral files), with names."""
    view = services.screening.board_view(board_id)
    board = view.board
    points = [ScoredPoint(r.position, r.name, r.pluto_score, r.evaluation_score,
                          r.decision.decision if r.decision else None)
              for r in view.rows if r.pluto_score is not None and r.evaluation_score is not None]
    if not points:
        return info_message(":bar_chart: No screened candidate has an interview evaluation yet; the chart shows "
                            "them once the first one has.")
    waiting = len(view.rows) - len(points)
    stem = (view.filename.rsplit(".", 1)[0] or "candidates")
    name, title = f"{stem}-screening-chart.png", f"Screening chart · {view.filename or board.project_name}"
    if out.is_public(board.channel):
        drawn = screening_scatter(points, names=False, waiting=waiting)
        out.upload(board.channel, drawn.png, name, title, thread_ts=board.thread_ts, alt_text=drawn.alt_text,
                   comment=f"<@{user}> asked for the board as a chart: points are numbered as on the board "
                           f"(sorted by {view.sort_label}).")
        return info_message(":bar_chart: The chart is in the thread, numbered as on the board: names stay off a "
                            "public channel.")
    drawn = screening_scatter(points, names=True, waiting=waiting)
    out.upload_privately(user, drawn.png, name, title, alt_text=drawn.alt_text,
                         comment="The Screening board as a chart, with names. Only you can see this file.")
    return info_message(":bar_chart: The chart, with names, was sent to you by DM.")


def transcript(services: Services, out: SlackOut, *, board_id: str, candidate_id: str, user: str) -> Message:
    """A screened interview's transcript, as a file in the presser's DM."""
    row = services.screening.row(board_id, candidate_id)
    if not row.session_id or row.voice_state != "completed":
        return info_message(f"{row.name}'s interview has not been completed yet.")
    text = services.sessions.transcript(SessionRef(row.kind, row.project_id, row.session_id, row.name), user=user)
    file_id = out.upload_privately(user, text or "(empty transcript)", f"transcript-{row.session_id}.txt",
                                   f"Transcript · {row.name}")
    dm = out.dm_channel(user)
    board = services.screening.board(board_id)
    services.lifecycle.record_file(file_id, dm, "transcript", run_id=board.run_id, board_id=board_id,
                                   session_id=row.session_id, candidate_id=candidate_id)
    services.audit.record(user, "transcript", channel=dm, delivery="dm", run_id=board.run_id, board_id=board_id,
                          candidate_id=candidate_id, session_id=row.session_id, file_id=file_id)
    return info_message(f":page_facing_up: {row.name}'s transcript was sent to you by DM.")
