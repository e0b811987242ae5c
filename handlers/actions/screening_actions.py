"""Buttons and selects of the hiring loop: Voice-screen (top N, or one candidate) and the Screening board
(sort, pages, details, transcript, Advance / Reject / Undo, export, DM choice, retry a save to Pluto).

Each listener acks at once; the rest runs on the work pool (handlers/clicks.py). Only people who may see
the run (services/access.py: its channel's members, its starter, admins) may use its board; a transcript
also needs the right to see that interview. Everything personal answers privately.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk.models.views import View

from bot.blocks import Message
from bot.blocks.board import details_view, screen_modal
from bot.context import Services
from bot.flows import screening as flow
from bot.flows.home import refresh_home
from handlers import inject
from handlers.clicks import Click, deferred, listener
from services.screening import DECISION_NAMES, DEFAULT_TOP_N, ScreeningBoard


def load_board(click: Click, board_id: str) -> ScreeningBoard:
    """The board, for someone who may see its run (a refusal otherwise)."""
    board = click.services.screening.board(board_id)
    flow.require_run(click.services, click.client, click.user, board.run_id)
    return board


def _screen_form(click: Click, run_id: str, *, top_n: int = DEFAULT_TOP_N, candidate_id: str | None = None) -> View:
    """The /voicelink create modal, Interview pattern, prefilled for the run."""
    services = click.services
    flow.require_run(services, click.client, click.user, run_id)
    run = services.screening.run(run_id)
    prefill = services.screening.prefill(run_id, top_n, [candidate_id] if candidate_id else None)
    return screen_modal(prefill, run.channel, run.thread_ts, ai=services.screening.ai_drafting)


@listener
def on_screen_top(click: Click) -> None:
    """"Voice-screen top N" (the button: the default N; the select: another N). Nothing is created yet."""
    run_id, n = click.pair()
    open_form(click, run_id, top_n=int(n) if n.isdigit() else DEFAULT_TOP_N)


def open_form(click: Click, run_id: str, **choice: Any) -> None:
    """The form in a loading modal (a trigger id lasts 3 s), filled from the work pool."""
    click.open_modal("Voice-screen", "Drafting the interview form…", "voice-screen form",
                     lambda click: _screen_form(click, run_id, **choice))


@listener
def on_screen_one(click: Click) -> None:
    """One candidate: a link on the run's screening project at once, or the form when there is none yet."""
    run_id, candidate_id = click.pair()
    board = click.services.screening.board_for_run(run_id)
    if board is None or not board.request.get("prompt"):
        open_form(click, run_id, candidate_id=candidate_id)
        return

    def screen(click: Click) -> None:
        flow.require_run(click.services, click.client, click.user, run_id)
        flow.screen_one(click.services, click.out, run_id=run_id, candidate_id=candidate_id, user=click.user,
                        channel=board.channel)

    click.defer("voice-screen", screen)


# -- the board ---------------------------------------------------------------------------------
@deferred("sort the board")
def on_sort(click: Click) -> None:
    board_id, sort = click.pair()
    board = load_board(click, board_id)
    click.services.screening.set_sort(board.id, sort)
    flow.show_board(click.services, click.out, board.id)


@deferred("board page")
def on_page(click: Click) -> None:
    board_id, page = click.pair()
    board = load_board(click, board_id)
    click.services.screening.set_page(board.id, int(page) if page.isdigit() else 1)
    flow.show_board(click.services, click.out, board.id)


@listener
def on_details(click: Click) -> None:
    board_id, candidate_id = click.pair()

    def details(click: Click) -> View:
        board = load_board(click, board_id)
        screening = click.services.screening
        view = screening.board_view(board_id)
        row = screening.row(board_id, candidate_id)
        click.services.audit.record(click.user, "board_details", channel=click.channel, delivery="modal",
                                    run_id=board.run_id, board_id=board_id, candidate_id=candidate_id,
                                    session_id=row.session_id or "")
        return details_view(view, row)

    click.open_modal("Screened candidate", "Loading both signals…", "candidate details", details)


@deferred("transcript")
def on_transcript(click: Click) -> Message | None:
    """The transcript goes to the presser's DM as a file, never to the channel."""
    board_id, candidate_id = click.pair()
    board = load_board(click, board_id)
    row = click.services.screening.row(board.id, candidate_id)
    if row.session_id:
        flow.require_session(click.services, click.client, click.user, row.session_id)
    return flow.transcript(click.services, click.out, board_id=board.id, candidate_id=candidate_id, user=click.user)


@listener
def on_decide(click: Click) -> None:
    """Advance / Reject: recorded with who and when, shown on the board (in place), undoable."""
    board_id, candidate_id = click.pair()
    decision = "advance" if click.action["action_id"] == "board_advance" else "reject"

    def decide(click: Click) -> None:
        board = load_board(click, board_id)
        click.services.screening.decide(board.id, candidate_id, decision, click.user)
        flow.show_board(click.services, click.out, board.id)
        refresh_home(click.services, click.client, click.user)

    click.defer(DECISION_NAMES[decision].lower(), decide)


@deferred("undo")
def on_undo(click: Click) -> None:
    board_id, candidate_id = click.pair()
    board = load_board(click, board_id)
    click.services.screening.undo(board.id, candidate_id, click.user)
    flow.show_board(click.services, click.out, board.id)
    refresh_home(click.services, click.client, click.user)


@deferred("export the board")
def on_export(click: Click) -> Message:
    board = load_board(click, click.value)
    return flow.export(click.services, click.out, board_id=board.id, user=click.user)


@deferred("board chart")
def on_chart(click: Click) -> Message | None:
    """The board as a chart, drawn on the work pool: numbered in a public thread, with names only privately."""
    board = load_board(click, click.value)
    return flow.chart(click.services, click.out, board_id=board.id, user=click.user)


@deferred("DM choice")
def on_dm_choice(click: Click) -> Message:
    """Completions of interviews the presser created on this board, by DM too (pressing again stops them)."""
    board = load_board(click, click.value)
    on = not click.services.screening.dm_enabled(board.id, click.user)
    click.services.screening.set_dm(board.id, click.user, on)
    return flow.dm_choice_message(on)


@deferred("save to Pluto")
def on_retry_save(click: Click) -> Message:
    """Try again to save an interview's evaluation to the candidate in Pluto (a person asked)."""
    load_board(click, click.services.screening.board_of_link(click.value))
    return flow.retry_save(click.services, click.out, click.value)


def register(app: App, services: Services) -> None:
    for action_id, listener_fn in (
            ("screen_top", on_screen_top), ("screen_top_pick", on_screen_top), ("screen_one", on_screen_one),
            ("board_sort", on_sort), ("board_page_prev", on_page), ("board_page_next", on_page),
            ("board_details", on_details), ("board_transcript", on_transcript), ("board_advance", on_decide),
            ("board_reject", on_decide), ("board_undo", on_undo), ("board_export", on_export), ("board_chart", on_chart),
            ("board_dm", on_dm_choice), ("board_analytics_retry", on_retry_save)):
        app.action(action_id)(inject(listener_fn, services))
