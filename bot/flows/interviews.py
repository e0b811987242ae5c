"""Live interviews in Slack, after the ack: rooms, the Interview card, private links, the assistant, analytics.

Every function here runs on the work pool (``bot.work.defer``), never on the ack path.

* **One card.** Starting a room posts a "working…" card in the thread, replaced in place by
  the Interview card (:func:`bot.blocks.interviews.interview_card`), which is updated in place
  as the room changes (interviewers added, closed, analyzed). It never carries a secret.
* **Secrets go to one person.** The interviewer's room link and token, a candidate join link
  and a colleague's link go out with ``SlackOut.reply_privately`` or ``SlackOut.dm``; a
  realtime client secret and the brief in a modal. None is logged or stored.
* **Who may.** The room's interviewers and whoever may see its scoring run: the members of the
  room's channel (asked of Slack each time), the run's starter, and the access service's rules
  where ``services.interviews`` has one.
* **The assistant.** A mention in the card's thread while the room is open: the thread's earlier
  assistant turns (each answer carries its question's ts in its metadata) go as history.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.blocks import Message, error_message, when
from bot.blocks.interviews import (
    ANSWER_EVENT,
    add_interviewer_modal,
    analysis_message,
    analyze_modal,
    analyzing_message,
    answer_message,
    colleague_added_private,
    colleague_dm,
    intake_private,
    interview_card,
    invitation_private,
    room_brief_view,
    started_private,
    starting_card,
    thinking_message,
    voice_intake_private,
    voice_session_view,
)
from bot.blocks.pluto import shortlist_message, shortlist_page_of
from bot.context import Services
from bot.delivery import Deliveries
from bot.flows.scoring import SHORTLIST
from bot.slack_out import SlackOut
from bot.work import Reply
from services.errors import Refusal, ServiceError
from services.interviews import (
    AnalysisResult,
    ChatTurn,
    InterviewRoom,
    RoomExpiredError,
    StartedInterview,
    TranscriptError,
)
from services.records import CandidateRef, ScoringRun

log = logging.getLogger(__name__)

MENTION = re.compile(r"<@[A-Z0-9]+(\|[^>]*)?>")


def strip_mentions(text: str) -> str:
    return MENTION.sub(" ", text or "").strip()


def thread_of(room: InterviewRoom) -> str | None:
    """Where the room's card is: a reply in the run's thread, or (ad-hoc) a message starting its own."""
    return room.thread_ts or room.card_ts


def members(out: SlackOut, channel: str | None) -> set[str] | None:
    """Who is in the room's channel now: they may see its run, so they may use the room."""
    return out.members(channel) if channel else None


def refresh_card(services: Services, out: SlackOut, room: InterviewRoom) -> None:
    """Show the room as it is now on its Interview card (state, interviewers, score)."""
    if not (room.channel and room.card_ts):
        return
    at = services.interviews.clock()
    # through the outbox (bot/delivery.py): paced, coalesced with updates not yet sent, sent again if lost;
    # the card's new state is noted in the same transaction
    message = interview_card(room, at)
    out.is_public(room.channel)  # asked before the transaction, not inside it
    with services.outbox.transaction():
        Deliveries(services, out).update(room.channel, room.card_ts, message)
        services.interviews.card_shown(room.id, room.status(at))


def close_expired_cards(services: Services, out: SlackOut) -> None:
    """Rooms that closed by themselves: their cards say so, and lose the buttons that need an open room."""
    for room in services.interviews.cards_to_close():
        if services.stopping.is_set():
            return
        refresh_card(services, out, room)


def interviewed_for(services: Services, run: ScoringRun) -> dict[str, InterviewRoom]:
    """The analyzed interviews of a run's candidates: their cards show "interviewed" and the score."""
    return services.interviews.interviewed([c.id for c in run.candidates])


# -- starting ---------------------------------------------------------------------------------
def _open_room(services: Services, out: SlackOut, *, channel: str, thread_ts: str | None, user: str,
               candidate_name: str, make: Callable[[str], StartedInterview]) -> InterviewRoom | None:
    """Post the "working…" card, make the room, turn the card into the Interview card, and give the
    interviewer their way in privately. On failure the working card says why."""
    try:
        ts = out.post(channel, starting_card(candidate_name), thread_ts)
    except SlackApiError as exc:
        if exc.response.get("error") in ("not_in_channel", "channel_not_found", "is_archived"):
            raise Refusal("I can't post in this conversation, so there is nowhere to put the Interview card.",
                          hint="Invite me to the channel (`/invite @Pluto Bot`) and try again.") from exc
        raise
    try:
        started = make(ts)
    except ServiceError as exc:
        out.update(channel, ts, error_message(f"Couldn't start the interview room for "
                                              f"{candidate_name or 'the interview'}.", hint=exc.user_message))
        return None
    except Exception:
        out.update(channel, ts, error_message("Couldn't start the interview room.", hint="Please try again."))
        raise
    room = services.interviews.set_card(started.room.id, channel, ts)
    out.update(channel, ts, interview_card(room, services.interviews.clock()))
    out.reply_privately(channel, user, started_private(started), thread_ts or ts)
    return room


def start_from_candidate(services: Services, out: SlackOut, ref: CandidateRef, user: str) -> InterviewRoom | None:
    """**Start interview** on a candidate card: the Interview card goes in the run's thread. Someone
    who may not see the run is refused (the access service's words) before anything is posted."""
    run = services.scoring.allowed_run(ref.run_id, user)
    allowed = members(out, run.channel)
    name = services.scoring.candidate_name(ref, user=user)
    interviewer_name = out.display_name(user)
    return _open_room(services, out, channel=run.channel, thread_ts=run.thread_ts, user=user, candidate_name=name,
                      make=lambda _ts: services.interviews.start(
                          run.id, ref.candidate_id, interviewer=user, interviewer_name=interviewer_name,
                          channel=run.channel, thread_ts=run.thread_ts, members=allowed))


def start_adhoc(services: Services, out: SlackOut, *, user: str, channel: str, candidate_name: str) -> None:
    """``/pluto room [candidate name]``: a room outside a scoring run, its card starting a thread.
    A name that is exactly one candidate of the channel's latest shortlist ties the room to them."""
    run_id = candidate_id = None
    run = services.scoring.latest(channel) if candidate_name else None
    if run is not None and services.access.may_see_run(user, run.id).allowed:  # else the room stays ad-hoc
        exact = [c for c in services.scoring.find(run, candidate_name)
                 if c.name.casefold() == candidate_name.casefold()]
        if len(exact) == 1:
            run_id, candidate_id, candidate_name = run.id, exact[0].id, exact[0].name
    interviewer_name = out.display_name(user)
    _open_room(services, out, channel=channel, thread_ts=None, user=user, candidate_name=candidate_name,
               make=lambda _ts: services.interviews.create_adhoc(
                   interviewer=user, interviewer_name=interviewer_name, candidate_name=candidate_name or None,
                   channel=channel, run_id=run_id, candidate_id=candidate_id))


# -- people --------------------------------------------------------------------------------------
def _live(services: Services, out: SlackOut, room_id: str, action: Callable[[], Any]) -> Any:
    """Run ``action``; when the room turns out closed, show that on its card before saying so."""
    try:
        return action()
    except RoomExpiredError:
        refresh_card(services, out, services.interviews.get(room_id))
        raise


def invite_candidate(services: Services, out: SlackOut, room_id: str, user: str, reply: Reply) -> None:
    room = services.interviews.get(room_id)
    invite = _live(services, out, room_id, lambda: services.interviews.invite_candidate(
        room_id, user=user, members=members(out, room.channel)))
    reply(invitation_private(invite))


def open_add_interviewer(services: Services, client: Any, trigger_id: str, room_id: str, channel: str,
                         thread_ts: str | None) -> None:
    """The colleague picker (opened right after the ack, while the trigger id is fresh)."""
    room = services.interviews.get(room_id)
    client.views_open(trigger_id=trigger_id, view=add_interviewer_modal(room, channel, thread_ts).to_dict())


def add_interviewer(services: Services, out: SlackOut, room_id: str, user: str, colleague: str,
                    reply: Reply) -> None:
    room = services.interviews.get(room_id)
    invite = _live(services, out, room_id, lambda: services.interviews.add_interviewer(
        room_id, user=user, colleague=colleague, colleague_name=out.display_name(colleague),
        members=members(out, room.channel)))
    out.dm(colleague, colleague_dm(invite))
    reply(colleague_added_private(invite))
    refresh_card(services, out, invite.room)


# -- during ----------------------------------------------------------------------------------------
def brief_view_for(services: Services, out: SlackOut, room_id: str, user: str) -> Any:
    room = services.interviews.get(room_id)
    brief = services.interviews.brief(room_id, user=user, members=members(out, room.channel))
    services.audit.record(user, "room_brief", channel=room.channel, delivery="modal", room_id=room_id,
                          run_id=room.run_id or "", candidate_id=room.candidate_id or "")
    return room_brief_view(brief)


def voice_view_for(services: Services, out: SlackOut, room_id: str, user: str) -> Any:
    room = services.interviews.get(room_id)
    session = _live(services, out, room_id, lambda: services.interviews.voice_assistant(
        room_id, user=user, members=members(out, room.channel)))
    return voice_session_view(room, session)


def history_from_thread(messages: list[dict[str, Any]], room_id: str, before_ts: str) -> list[ChatTurn]:
    """The assistant's earlier turns for this room in the thread, oldest first: each answer (found by
    its metadata) with the question it answered (found by the ts the metadata names)."""
    by_ts = {str(m.get("ts")): m for m in messages}
    turns: list[ChatTurn] = []
    for message in messages:
        meta = message.get("metadata") or {}
        payload = meta.get("event_payload") or {}
        if meta.get("event_type") != ANSWER_EVENT or payload.get("room_id") != room_id or not message.get("bot_id"):
            continue
        if float(message.get("ts") or 0) >= float(before_ts):
            continue
        question = by_ts.get(str(payload.get("question_ts")))
        asked = strip_mentions((question or {}).get("text") or "")
        if not asked:  # the question was deleted: its answer alone would mislead
            continue
        turns += [ChatTurn("user", asked), ChatTurn("assistant", str(message.get("text") or ""))]
    return turns


def assistant_room(services: Services, event: dict[str, Any]) -> InterviewRoom | None:
    """The room whose card is in the thread this message was posted in, if any."""
    thread = event.get("thread_ts")
    if not thread or event.get("files"):
        return None
    return services.interviews.for_thread(event.get("channel") or "", thread, event.get("user"))


def ask_assistant(services: Services, out: SlackOut, room: InterviewRoom, event: dict[str, Any]) -> None:
    """One assistant turn: refuse privately, or "working…" in the thread replaced by the answer."""
    channel, ts, thread, user = event["channel"], event["ts"], event["thread_ts"], event.get("user") or ""
    question = strip_mentions(event.get("text") or "")
    in_channel = members(out, channel)

    def privately(message: Message) -> None:
        out.reply_privately(channel, user, message, thread)

    try:
        _live(services, out, room.id, lambda: services.interviews.allowed(
            room.id, user=user, members=in_channel, live=True, what="ask the interview assistant"))
    except ServiceError as exc:
        privately(error_message(exc.user_message))
        return
    if not question:
        privately(error_message("Ask the assistant something after mentioning me.",
                                hint="For example: what should I ask about their last project?"))
        return
    try:
        history = history_from_thread(out.thread(channel, thread), room.id, ts)
    except SlackApiError as exc:  # without the thread the assistant still answers, without history
        log.warning("could not read the interview thread %s: %s", thread, exc.response.get("error"))
        history = []
    working = out.post(channel, thinking_message(question), thread)
    services.lifecycle.record_message(channel, working, "assistant", room_id=room.id, run_id=room.run_id,
                                      candidate_id=room.candidate_id)
    try:
        reply = services.interviews.chat(room.id, user=user, message=question, history=history, members=in_channel)
    except ServiceError as exc:
        out.update(channel, working, error_message(f"The assistant couldn't answer: {exc.user_message}"))
        if isinstance(exc, RoomExpiredError):
            refresh_card(services, out, services.interviews.get(room.id))
        return
    out.update(channel, working, answer_message(reply.room, reply.text, ts))


# -- after -------------------------------------------------------------------------------------------
def analyze_form(services: Services, out: SlackOut, room_id: str, user: str, channel: str,
                 thread_ts: str | None) -> Any:
    """The transcript form: paste, file, or one of the candidate's completed voice interviews."""
    room = services.interviews.allowed(room_id, user=user, members=members(out, channel),
                                       what="analyze this interview")
    note = ""
    try:
        sessions = services.interviews.voice_sessions(room.id)
    except TranscriptError as exc:
        sessions, note = [], exc.user_message
    return analyze_modal(room, sessions, channel, thread_ts, note)


def analyze(services: Services, out: SlackOut, *, room_id: str, user: str, text: str = "",
            file_id: str | None = None, session_id: str | None = None) -> AnalysisResult | None:
    """"Analyzing…" in the card's thread, replaced by the result; then the card and the shortlist say
    "interviewed" with the score. A refusal is private; a failure replaces the working message."""
    interviews = services.interviews
    room = interviews.get(room_id)
    allowed = members(out, room.channel)
    room = interviews.allowed(room_id, user=user, members=allowed, what="analyze this interview")
    if not room.channel:
        raise TranscriptError("This room has no channel to post the analysis in.")
    source = "nimrobo" if session_id else "file" if file_id else "pasted"
    ts = out.post(room.channel, analyzing_message(room.candidate_name, source), thread_of(room))
    services.lifecycle.record_message(room.channel, ts, "analysis", room_id=room.id, run_id=room.run_id,
                                      candidate_id=room.candidate_id)
    try:
        if session_id:
            result = interviews.analyze_voice_session(room_id, session_id, user=user, members=allowed)
        elif file_id:
            result = interviews.analyze_file(room_id, out.file(file_id), user=user, members=allowed)
        else:
            result = interviews.analyze(room_id, text, user=user, members=allowed)
    except ServiceError as exc:
        out.update(room.channel, ts, error_message("I couldn't analyze the interview.", hint=exc.user_message))
        return None
    except Exception:
        out.update(room.channel, ts, error_message("I couldn't analyze the interview.", hint="Please try again."))
        raise
    out.update(room.channel, ts, analysis_message(result))
    refresh_card(services, out, result.room)
    if result.room.run_id and result.room.candidate_id:
        refresh_shortlist(services, out, result.room.run_id, result.room.candidate_id)
    return result


def refresh_shortlist(services: Services, out: SlackOut, run_id: str, candidate_id: str) -> None:
    """Show the candidate as interviewed, with the score, on the shortlist posted in the channel
    (the page they are on)."""
    run = services.scoring.get(run_id)
    posted = services.outbox.get(f"{SHORTLIST}:{run_id}") if run is not None else None
    if run is None or not posted or not posted.get("message_ts"):
        return
    message = shortlist_message(run, shortlist_page_of(run, candidate_id), interviewed=interviewed_for(services, run))
    Deliveries(services, out).update(run.channel, posted["message_ts"], message)


# -- intake (candidate card) --------------------------------------------------------------------------
def intake_link(services: Services, ref: CandidateRef, user: str, reply: Reply) -> None:
    """A new intake link, validated by Pluto first, with the gaps it will ask about; privately.
    Someone who may not see the run is refused before Pluto is asked."""
    name = services.scoring.candidate_name(ref, user=user)
    check = services.interviews.intake_link(ref.candidate_id)
    reply(intake_private(name, check, when.expiry(check.link.expires_at) or "soon"))  # "in 3 days (<date>)"


def voice_intake(services: Services, ref: CandidateRef, user: str, reply: Reply) -> None:
    """The voice intake's room and questions, privately (its LiveKit token is not shown)."""
    name = services.scoring.candidate_name(ref, user=user)
    reply(voice_intake_private(name, services.interviews.voice_intake(ref.candidate_id)))

