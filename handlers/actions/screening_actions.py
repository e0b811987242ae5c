"""Buttons and selects of the hiring loop: Voice-screen (top N, or one candidate) and the Screening board
(sort, pages, details, transcript, Advance / Reject / Undo, export, DM choice, retry a save to Pluto).

Each listener acks at once; the rest runs on the work pool. Only people who may see the run
(services/access.py: its channel's members, its starter, admins) may use its board; a transcript
also needs the right to see that interview. Everything personal answers privately.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.blocks import error_message
from bot.blocks.board import SEP, details_view, screen_modal
from bot.context import Services
from bot.flows import screening as flow
from bot.flows.home import refresh_home
from bot.slack_out import SlackOut
from bot.work import defer, defer_modal
from handlers import inject
from handlers.actions.pluto_actions import private_reply, where
from services.errors import NotFoundHere
from services.records import STALE
from services.screening import DECISION_NAMES, DEFAULT_TOP_N


def _pair(client: WebClient, body: dict[str, Any], action: dict[str, Any]) -> tuple[str, str] | None:
    """``"a|b"`` from the button's or option's value; an old or forged value is told privately (None)."""
    value = action.get("value") or (action.get("selected_option") or {}).get("value") or ""
    first, sep, second = value.partition(SEP)
    if not sep or not first or not second:
        private_reply(client, body)(error_message(NotFoundHere(STALE).user_message))
        return None
    return first, second


def _open_form(services: Services, client: WebClient, body: dict[str, Any], run_id: str, *, top_n: int = DEFAULT_TOP_N,
               candidate_id: str | None = None) -> None:
    """The /voicelink create modal, Interview pattern, prefilled for the run (a loading modal first)."""
    user = body["user"]["id"]

    def build() -> Any:
        flow.require_run(services, client, user, run_id)
        run = services.screening.run(run_id)
        prefill = services.screening.prefill(run_id, top_n, [candidate_id] if candidate_id else None)
        return screen_modal(prefill, run.channel, run.thread_ts, ai=services.screening.ai_drafting)

    defer_modal(services.work, client, body, "Voice-screen", "Drafting the interview form…", build,
                private_reply(client, body), "voice-screen form")


def on_screen_top(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
                  services: Services) -> None:
    """"Voice-screen top N" (the button: the default N; the select: another N). Nothing is created yet."""
    ack()
    pair = _pair(client, body, action)
    if pair is None:
        return
    run_id, n = pair
    _open_form(services, client, body, run_id, top_n=int(n) if n.isdigit() else DEFAULT_TOP_N)


def on_screen_one(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
                  services: Services) -> None:
    """One candidate: a link on the run's screening project at once, or the form when there is none yet."""
    ack()
    pair = _pair(client, body, action)
    if pair is None:
        return
    run_id, candidate_id = pair
    board = services.screening.board_for_run(run_id)
    if board is None or not board.request.get("prompt"):
        _open_form(services, client, body, run_id, candidate_id=candidate_id)
        return
    user = body["user"]["id"]
    reply = private_reply(client, body)

    def work() -> None:
        flow.require_run(services, client, user, run_id)
        flow.screen_one(services, SlackOut(client), run_id=run_id, candidate_id=candidate_id, user=user,
                        channel=board.channel)

    defer(services.work, user, work, reply, "voice-screen")


# -- the board ---------------------------------------------------------------------------------
def _board_work(services: Services, client: WebClient, body: dict[str, Any], board_id: str, what: str,
                fn: Any) -> None:
    """Run ``fn(board, user, out)`` on the work pool for someone who may see the board's run."""
    user = body["user"]["id"]
    reply = private_reply(client, body)

    def work() -> None:
        board = services.screening.board(board_id)
        flow.require_run(services, client, user, board.run_id)
        message = fn(board, user, SlackOut(client))
        if message is not None:
            reply(message)

    defer(services.work, user, work, reply, what)


def on_sort(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, services: Services) -> None:
    ack()
    pair = _pair(client, body, action)
    if pair is None:
        return
    board_id, sort = pair

    def sort_board(board: Any, user: str, out: SlackOut) -> None:
        services.screening.set_sort(board.id, sort)
        flow.show_board(services, out, board.id)

    _board_work(services, client, body, board_id, "sort the board", sort_board)


def on_page(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, services: Services) -> None:
    ack()
    pair = _pair(client, body, action)
    if pair is None:
        return
    board_id, page = pair

    def turn(board: Any, user: str, out: SlackOut) -> None:
        services.screening.set_page(board.id, int(page) if page.isdigit() else 1)
        flow.show_board(services, out, board.id)

    _board_work(services, client, body, board_id, "board page", turn)


def on_details(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
               services: Services) -> None:
    ack()
    pair = _pair(client, body, action)
    if pair is None:
        return
    board_id, candidate_id = pair
    user = body["user"]["id"]

    def build() -> Any:
        board = services.screening.board(board_id)
        flow.require_run(services, client, user, board.run_id)
        view = services.screening.board_view(board_id)
        row = services.screening.row(board_id, candidate_id)
        services.audit.record(user, "board_details", channel=where(body)[0], delivery="modal", run_id=board.run_id,
                              board_id=board_id, candidate_id=candidate_id, session_id=row.session_id or "")
        return details_view(view, row)

    defer_modal(services.work, client, body, "Screened candidate", "Loading both signals…", build,
                private_reply(client, body), "candidate details")


def on_transcript(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
                  services: Services) -> None:
    """The transcript goes to the presser's DM as a file, never to the channel."""
    ack()
    pair = _pair(client, body, action)
    if pair is None:
        return
    board_id, candidate_id = pair

    def send(board: Any, user: str, out: SlackOut) -> Any:
        row = services.screening.row(board.id, candidate_id)
        if row.session_id:
            flow.require_session(services, client, user, row.session_id)
        return flow.transcript(services, out, board_id=board.id, candidate_id=candidate_id, user=user)

    _board_work(services, client, body, board_id, "transcript", send)


def on_decide(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
              services: Services) -> None:
    """Advance / Reject: recorded with who and when, shown on the board (in place), undoable."""
    ack()
    pair = _pair(client, body, action)
    if pair is None:
        return
    board_id, candidate_id = pair
    decision = "advance" if action["action_id"] == "board_advance" else "reject"

    def decide(board: Any, user: str, out: SlackOut) -> None:
        services.screening.decide(board.id, candidate_id, decision, user)
        flow.show_board(services, out, board.id)
        refresh_home(services, client, user)

    _board_work(services, client, body, board_id, DECISION_NAMES[decision].lower(), decide)


def on_undo(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, services: Services) -> None:
    ack()
    pair = _pair(client, body, action)
    if pair is None:
        return
    board_id, candidate_id = pair

    def undo(board: Any, user: str, out: SlackOut) -> None:
        services.screening.undo(board.id, candidate_id, user)
        flow.show_board(services, out, board.id)
        refresh_home(services, client, user)

    _board_work(services, client, body, board_id, "undo", undo)


def on_export(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
              services: Services) -> None:
    ack()
    _board_work(services, client, body, action.get("value", ""), "export the board",
                lambda board, user, out: flow.export(services, out, board_id=board.id, user=user))


def on_chart(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, services: Services) -> None:
    """The board as a chart, drawn on the work pool: numbered in a public thread, with names only privately."""
    ack()
    _board_work(services, client, body, action.get("value", ""), "board chart",
                lambda board, user, out: flow.chart(services, out, board_id=board.id, user=user))


def on_dm_choice(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
                 services: Services) -> None:
    """Completions of interviews the presser created on this board, by DM too (pressing again stops them)."""
    ack()

    def toggle(board: Any, user: str, out: SlackOut) -> Any:
        on = not services.screening.dm_enabled(board.id, user)
        services.screening.set_dm(board.id, user, on)
        return flow.dm_choice_message(on)

    _board_work(services, client, body, action.get("value", ""), "DM choice", toggle)


def on_retry_save(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
                  services: Services) -> None:
    """Try again to save an interview's evaluation to the candidate in Pluto (a person asked)."""
    ack()
    link_id = action.get("value", "")
    user = body["user"]["id"]
    reply = private_reply(client, body)

    def work() -> None:
        board_id = services.screening.board_of_link(link_id)
        board = services.screening.board(board_id)
        flow.require_run(services, client, user, board.run_id)
        reply(flow.retry_save(services, SlackOut(client), link_id))

    defer(services.work, user, work, reply, "save to Pluto")


def register(app: App, services: Services) -> None:
    for action_id, listener in (
            ("screen_top", on_screen_top), ("screen_top_pick", on_screen_top), ("screen_one", on_screen_one),
            ("board_sort", on_sort), ("board_page_prev", on_page), ("board_page_next", on_page),
            ("board_details", on_details), ("board_transcript", on_transcript), ("board_advance", on_decide),
            ("board_reject", on_decide), ("board_undo", on_undo), ("board_export", on_export), ("board_chart", on_chart),
            ("board_dm", on_dm_choice), ("board_analytics_retry", on_retry_save)):
        app.action(action_id)(inject(listener, services))
