"""The "Ask Pluto" assistant pane (Bolt's ``Assistant``) after the ack: prompts, answers, proposed actions.

* :func:`thread_started`: a greeting and up to four suggested prompts fitted to the person.
* :func:`answer`: a status while working, then the answer (services/assistant.py: tools over the bot's
  data, each access-checked for the person asking) with its sources as permalinks and a button per
  proposed action.
* :func:`create_links` / :func:`decide`: a proposal's button was pressed; only now is anything done,
  through the same flows and checks as the app's own buttons.

The thread's context (the channel the pane was opened beside) is kept in the database
(:class:`StoredThreadContext`), so every replica reads the same.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.context.assistant.thread_context import AssistantThreadContext
from slack_bolt.context.assistant.thread_context_store.store import AssistantThreadContextStore
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks import Message
from bot.blocks import context as context_block
from bot.blocks.assistant import answer_message, outcome_message
from bot.context import Services
from bot.flows import screening as screening_flow
from bot.slack_out import SlackOut
from services.assistant import Answer, Cite
from services.errors import NotAllowed

log = logging.getLogger(__name__)

STATUS = "is looking through your runs and boards…"
TITLE = "Ask Pluto"
GREETING = ("Hi <@{user}>! I can tell you about your shortlists, screening boards and interviews, and set up "
            "voice links or decisions for you to confirm. What would you like to know?")
HISTORY = 6  # earlier messages of the thread sent along with a question


class StoredThreadContext(AssistantThreadContextStore):
    """Bolt's thread context store, kept in the bot's database (table ``assistant_threads``)."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def save(self, *, channel_id: str, thread_ts: str, context: dict[str, str]) -> None:
        self.services.assistant.save_context(channel_id, thread_ts, "", context)

    def find(self, *, channel_id: str, thread_ts: str) -> AssistantThreadContext | None:
        found = self.services.assistant.context(channel_id, thread_ts)
        return AssistantThreadContext(found) if found else None


def thread_started(services: Services, client: WebClient, *, user: str, channel: str, thread_ts: str,
                   context: dict[str, Any]) -> None:
    """The pane opened: greet, title the thread, and suggest prompts fitted to ``user``."""
    services.assistant.save_context(channel, thread_ts, user, context)
    beside = context.get("channel_id") or None
    prompts = services.assistant.suggested_prompts(user, beside)
    client.assistant_threads_setTitle(channel_id=channel, thread_ts=thread_ts, title=TITLE)
    client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=GREETING.format(user=user))
    client.assistant_threads_setSuggestedPrompts(
        channel_id=channel, thread_ts=thread_ts, title="Try one of these",
        prompts=[{"title": p.title[:75], "message": p.message} for p in prompts])


def answer(services: Services, client: WebClient, *, user: str, channel: str, thread_ts: str, text: str,
           message_ts: str) -> None:
    """A question in the pane: a status while working, then the answer in the thread."""
    _status(client, channel, thread_ts, STATUS)
    context = services.assistant.context(channel, thread_ts) or {}
    beside = context.get("channel_id") or None
    history = _history(SlackOut(client), channel, thread_ts, message_ts) if services.assistant.ai else []
    try:
        reply = services.assistant.answer(user, text, channel=beside, history=history)
    except Exception:
        _status(client, channel, thread_ts, "")
        raise
    message = render(client, reply)
    client.chat_postMessage(channel=channel, thread_ts=thread_ts, **message.kwargs())


def render(client: WebClient, reply: Answer) -> Message:
    """The answer with its sources as permalinks (a source Slack can't link is left out)."""
    return answer_message(reply, [s for s in (_link(client, c) for c in reply.cites) if s])


def create_links(services: Services, client: WebClient, *, user: str, run_id: str, top_n: int) -> Message:
    """The "Create voice links" button: the links to ``user`` by DM, the board in the run's thread."""
    out = SlackOut(client)
    board, link_ids, result = screening_flow.screen_top(services, out, run_id=run_id, top_n=top_n, user=user)
    made = len(result.links) if result else 0
    where = _link(client, Cite("the screening board", board.channel, board.message_ts or ""))
    board_text = f" <{where[1]}|Open the screening board>." if where else ""
    if not made:
        return outcome_message(f":information_source: The top {top_n} already have voice links "
                               f"({len(link_ids)}); nothing new was created.{board_text}")
    return outcome_message(f":white_check_mark: Created {made} voice link{'s' if made != 1 else ''}; they are in "
                           f"your DMs (they are private).{board_text}")


def decide(services: Services, client: WebClient, *, user: str, board_id: str, candidate_id: str,
           decision: str) -> Message:
    """The "Advance / Reject" button: recorded as the app's board buttons record it, the board updated."""
    board = services.screening.board(board_id)
    allowed = services.access.may_see_run(user, board.run_id)
    if not allowed.allowed:
        raise NotAllowed(allowed.refusal("that screening board"))
    row = services.screening.row(board_id, candidate_id)
    services.screening.decide(board_id, candidate_id, decision, user)
    screening_flow.show_board(services, SlackOut(client), board_id)
    verb = "advanced" if decision == "advance" else "rejected"
    return outcome_message(f":white_check_mark: {row.name} is {verb} on the screening board.")


def close_proposal(client: WebClient, channel: str, message: dict[str, Any], outcome: str) -> None:
    """The answer whose button was pressed loses its buttons and says what was done (best effort)."""
    if not message.get("ts"):
        return
    blocks = [b for b in message.get("blocks") or [] if b.get("block_id") != "assistant_actions"
              and "Nothing is done until you press" not in str(b)]
    blocks.append(context_block(outcome))
    try:
        client.chat_update(channel=channel, ts=message["ts"], text=message.get("text") or outcome,
                           blocks=[b if isinstance(b, dict) else b.to_dict() for b in blocks])
    except SlackApiError as exc:
        log.info("assistant: could not close the proposal (%s)", exc.response.get("error"))


def _status(client: WebClient, channel: str, thread_ts: str, status: str) -> None:
    """The pane's "is thinking…" line; a thread that is not an assistant thread has none (best effort)."""
    try:
        client.assistant_threads_setStatus(channel_id=channel, thread_ts=thread_ts, status=status)
    except SlackApiError as exc:
        log.info("assistant: no status for %s/%s (%s)", channel, thread_ts, exc.response.get("error"))


def _link(client: WebClient, cite: Cite) -> tuple[str, str] | None:
    if not cite.channel or not cite.ts:
        return None
    try:
        url = client.chat_getPermalink(channel=cite.channel, message_ts=cite.ts).get("permalink")
    except Exception as exc:
        log.info("assistant: no permalink for %s (%s)", cite.label, exc)
        return None
    return (cite.label, str(url)) if url else None


def _history(out: SlackOut, channel: str, thread_ts: str, message_ts: str) -> list[dict[str, str]]:
    """The thread's earlier messages as chat history (the question itself left out)."""
    try:
        messages = out.thread(channel, thread_ts, max_pages=1)
    except Exception as exc:
        log.info("assistant: could not read the thread (%s)", exc)
        return []
    history = [{"role": "assistant" if m.get("bot_id") else "user", "content": str(m.get("text") or "")}
               for m in messages if m.get("ts") != message_ts and m.get("text")]
    return history[-HISTORY:]
