""""Ask Pluto": answers about the bot's own data, without Slack.

A question is answered through **tools**: read-only functions over the feature services, each of which
checks access (:class:`~services.access.AccessService`) for the person asking before it reads
anything. There is no free-form database access, and a tool's refusal reads the same whether or not
the thing exists. With OpenAI configured the model picks the tools (OpenAI tool calling); without it
a plain matcher answers the suggested prompts and anything else gets a short help answer.

Every tool records what it used as a :class:`Cite` (the shortlist or board message it came from); the
Slack layer turns those into permalinks under the answer, so the answer always cites its sources,
whatever the model wrote. Actions (voice links for the top N, a decision on a board) are never done
by a tool: ``propose_*`` tools return a :class:`Proposal` that the Slack layer shows as a button, and
only the press does it (through the same flows as the app's own buttons, with the same checks).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from config import Settings
from services.access import AccessService
from services.errors import ServiceError
from services.records import ScoringRun
from services.scoring import ScoringService
from services.screening import DECISION_NAMES, BoardRow, ScreeningBoard, ScreeningService
from services.store import Store
from services.voicelinks import VoiceLinkService

log = logging.getLogger(__name__)

MAX_ROUNDS = 5  # model turns per question (tool calls in between)
MAX_LIST = 10
SUMMARY_CHARS = 400
TODAY_HOURS = 24
PROMPT_TOP = "Top candidates of my last run"
PROMPT_DECISIONS = "What is waiting for my decision?"
PROMPT_INTERVIEWS = "How did the interviews go today?"
PROMPT_LINKS = "Create voice links for the top 3 of my last run"
HELP = ("I answer from Pluto Bot's own runs, shortlists, screening boards and interviews, for what you may see. "
        f"Try “{PROMPT_TOP}”, “{PROMPT_DECISIONS}”, “{PROMPT_INTERVIEWS}” or “{PROMPT_LINKS}”. "
        "To score a new file use `/pluto score`; for voice links `/voicelink create`.")


@dataclass(frozen=True)
class Cite:
    """A message the answer drew on: the Slack layer links it (``chat.getPermalink``)."""

    label: str
    channel: str
    ts: str


@dataclass(frozen=True)
class Proposal:
    """An action the assistant suggests; done only when the person presses its button."""

    kind: str  # create_links | decision
    label: str  # the button's text
    value: str  # what the button carries: "run_id|n" or "board_id|candidate_id|decision"
    summary: str


@dataclass(frozen=True)
class Prompt:
    title: str
    message: str


@dataclass
class Answer:
    text: str
    cites: list[Cite] = field(default_factory=list)
    proposals: list[Proposal] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (tool, arguments), in order
    source: str = "matcher"  # openai | matcher | help


# -- the tools ---------------------------------------------------------------------------------------
TOOL_SPECS: list[dict[str, Any]] = [
    {"name": "list_runs", "description": "The scoring runs the user may see, newest first: file, state, "
     "channel, number of candidates. Without a channel: the pane's channel when it was opened beside one.",
     "parameters": {"type": "object", "properties": {
         "channel": {"type": "string", "description": "A Slack channel id (C...) to limit to."},
         "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIST}}, "additionalProperties": False}},
    {"name": "run_candidates", "description": "The ranked candidates of one finished scoring run (rank, name, "
     "Pluto final score, tier, one-line summary). Without run_id: the latest finished run the user may see.",
     "parameters": {"type": "object", "properties": {
         "run_id": {"type": "string"}, "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIST}},
         "additionalProperties": False}},
    {"name": "list_boards", "description": "Screening boards (voice-screened shortlists) the user may see, "
     "with how many were invited, completed, advanced and wait for a decision.",
     "parameters": {"type": "object", "properties": {"channel": {"type": "string"}}, "additionalProperties": False}},
    {"name": "board_candidates", "description": "One screening board: each candidate's voice interview state, "
     "evaluation score, combined score, recommendation and decision.",
     "parameters": {"type": "object", "properties": {"board_id": {"type": "string"}}, "required": ["board_id"],
                    "additionalProperties": False}},
    {"name": "pending_decisions", "description": "Candidates whose voice interview is completed and who have no "
     "Advance/Reject decision yet, on the boards the user may see.",
     "parameters": {"type": "object", "properties": {}, "additionalProperties": False}},
    {"name": "interviews", "description": "Voice interviews that finished in the last hours (default 24), with "
     "outcome, evaluation score, recommendation and a short summary.",
     "parameters": {"type": "object", "properties": {"since_hours": {"type": "integer", "minimum": 1,
                                                                     "maximum": 24 * 14}},
                    "additionalProperties": False}},
    {"name": "voice_sessions", "description": "Voice interview links the user may see that changed in the last "
     "hours (default 168): label, status (active, completed, expired, cancelled ...), session id, project. "
     "Includes links made with /voicelink create, not only screening boards.",
     "parameters": {"type": "object", "properties": {"since_hours": {"type": "integer", "minimum": 1,
                                                                     "maximum": 24 * 90}},
                    "additionalProperties": False}},
    {"name": "interview_details", "description": "One candidate's voice interview on a board: the summary and "
     "every evaluation answer.",
     "parameters": {"type": "object", "properties": {"board_id": {"type": "string"},
                                                     "candidate_id": {"type": "string"}},
                    "required": ["board_id", "candidate_id"], "additionalProperties": False}},
    {"name": "propose_voice_links", "description": "Propose creating voice interview links for the top N of a "
     "finished run. Creates nothing: the user gets a button to confirm.",
     "parameters": {"type": "object", "properties": {"run_id": {"type": "string"},
                                                     "top_n": {"type": "integer", "minimum": 1, "maximum": 25}},
                    "required": ["top_n"], "additionalProperties": False}},
    {"name": "propose_decision", "description": "Propose recording Advance or Reject for a candidate on a "
     "board. Records nothing: the user gets a button to confirm.",
     "parameters": {"type": "object", "properties": {
         "board_id": {"type": "string"}, "candidate_id": {"type": "string"},
         "decision": {"type": "string", "enum": ["advance", "reject"]}},
         "required": ["board_id", "candidate_id", "decision"], "additionalProperties": False}},
]


class Tools:
    """The tools for one question of one person; every read checks that person's access first."""

    def __init__(self, service: AssistantService, user: str, channel: str | None = None) -> None:
        self.s = service
        self.user = user
        self.channel = channel  # the conversation the pane was opened beside, if any
        self.cites: list[Cite] = []
        self.proposals: list[Proposal] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def call(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """Run tool ``name``; its result as JSON-able data (``error`` says what went wrong)."""
        arguments = dict(arguments) if isinstance(arguments, dict) else {}
        self.calls.append((name, arguments))
        method: Callable[..., dict[str, Any]] | None = getattr(self, f"tool_{name}", None) \
            if re.fullmatch(r"[a-z_]{1,40}", name or "") else None
        if method is None:
            return {"error": f"There is no tool called {name}."}
        try:
            return method(**arguments)
        except (TypeError, ValueError) as exc:
            return {"error": f"Wrong arguments for {name}: {exc}"}
        except ServiceError as exc:
            return {"error": exc.user_message}

    # -- reading -----------------------------------------------------------------------------
    def _may_see(self, run_id: str) -> bool:
        return self.s.access.may_see_run(self.user, run_id).allowed

    def _refusal(self, what: str) -> dict[str, Any]:
        return {"error": self.s.access.may_see_run(self.user, "").refusal(what)}

    def _runs(self, channel: str | None = None, state: str | None = None) -> list[ScoringRun]:
        where, params = [], []
        if channel:
            where.append("channel = ?")
            params.append(channel)
        if state:
            where.append("state = ?")
            params.append(state)
        runs = self.s.scoring.list_runs(" and ".join(where) or None, params)
        return [r for r in runs if self._may_see(r.id)]

    def _cite_run(self, run: ScoringRun) -> None:
        if run.thread_ts:
            self._cite(Cite(f"Shortlist · {run.filename}", run.channel, run.thread_ts))

    def _cite(self, cite: Cite) -> None:
        if cite not in self.cites:
            self.cites.append(cite)

    def _latest_run(self) -> ScoringRun | None:
        for channel in ([self.channel] if self.channel else []) + [None]:
            runs = self._runs(channel, "complete")
            mine = [r for r in runs if r.user == self.user]
            if mine or runs:
                return (mine or runs)[0]
        return None

    def tool_list_runs(self, channel: str | None = None, limit: int = 5) -> dict[str, Any]:
        if not channel and self.channel:  # the pane's channel first; everything they may see when it has none
            channel = self.channel if self._runs(self.channel) else None
        runs = self._runs(channel)[:_limit(limit)]
        for run in runs:
            self._cite_run(run)
        items = [{"run_id": r.id, "file": r.filename, "state": r.state, "channel": r.channel,
                  "started_by": r.user, "candidates": len(r.results), "started": _when(r.created_at)} for r in runs]
        where = f" in <#{channel}>" if channel else ""
        summary = "; ".join(f"{i['file']} ({i['state']}, {i['candidates']} candidates)" for i in items) or \
            f"No scoring runs{where} that you may see."
        return {"runs": items, "summary": summary}

    def tool_run_candidates(self, run_id: str | None = None, limit: int = 5) -> dict[str, Any]:
        run = self.s.scoring.get(run_id) if run_id else self._latest_run()
        if run_id and (run is None or not self._may_see(run_id)):
            return self._refusal("that shortlist")
        if run is None:
            return {"candidates": [], "summary": "You have no finished scoring run yet. Start one with "
                                                 "`/pluto score`."}
        if run.state != "complete":
            return {"run_id": run.id, "file": run.filename, "state": run.state, "candidates": [],
                    "summary": f"{run.filename} is {run.state}; its shortlist is not ready yet."}
        ranked = _ranked(run)[:_limit(limit)]
        self._cite_run(run)
        items = [{"candidate_id": c.id, "rank": c.rank, "name": c.name, "final_score": c.final_score,
                  "tier": c.tier, "summary": c.one_line_summary[:200]} for c in ranked]
        summary = f"Top of {run.filename}: " + "; ".join(
            f"{i['rank'] or '?'}. {i['name']} ({_score(i['final_score'])}, {i['tier'] or 'no tier'})" for i in items)
        return {"run_id": run.id, "file": run.filename, "channel": run.channel, "candidates": items,
                "summary": summary}

    def _boards(self, channel: str | None = None) -> list[tuple[ScreeningBoard, ScoringRun]]:
        found = []
        for board in self.s.screening.all_boards(channel):
            if not self._may_see(board.run_id):
                continue
            run = self.s.scoring.get(board.run_id)
            if run is not None:
                found.append((board, run))
        return found

    def _cite_board(self, board: ScreeningBoard, run: ScoringRun) -> None:
        if board.message_ts:
            self._cite(Cite(f"Screening board · {run.filename}", board.channel, board.message_ts))

    def tool_list_boards(self, channel: str | None = None) -> dict[str, Any]:
        items = []
        for board, run in (self._boards(channel) if channel else self._boards(self.channel) or self._boards())[:MAX_LIST]:
            rows = self.s.screening.board_view(board.id).rows
            self._cite_board(board, run)
            items.append({"board_id": board.id, "run_id": run.id, "file": run.filename, "channel": board.channel,
                          "invited": len(rows), "completed": sum(r.voice_state == "completed" for r in rows),
                          "advanced": sum(bool(r.decision and r.decision.decision == "advance") for r in rows),
                          "waiting_for_decision": len(_pending(rows))})
        summary = "; ".join(f"{i['file']}: {i['completed']}/{i['invited']} interviews done, "
                            f"{i['waiting_for_decision']} waiting for a decision" for i in items) or \
            "No screening boards that you may see."
        return {"boards": items, "summary": summary}

    def _board(self, board_id: str) -> tuple[ScreeningBoard, ScoringRun] | None:
        try:
            board = self.s.screening.board(board_id)
        except ServiceError:
            return None
        run = self.s.scoring.get(board.run_id)
        if run is None or not self._may_see(board.run_id):
            return None
        return board, run

    def tool_board_candidates(self, board_id: str) -> dict[str, Any]:
        found = self._board(board_id)
        if found is None:
            return self._refusal("that screening board")
        board, run = found
        self._cite_board(board, run)
        rows = self.s.screening.board_view(board.id).rows
        items = [_row(r) for r in rows]
        summary = f"{run.filename}: " + "; ".join(
            f"{i['name']} ({i['voice_state']}, evaluation {_score(i['evaluation_score'])}, "
            f"{i['decision'] or 'no decision'})" for i in items)
        return {"board_id": board.id, "file": run.filename, "candidates": items, "summary": summary}

    def tool_pending_decisions(self) -> dict[str, Any]:
        items = []
        for board, run in self._boards(self.channel) or self._boards():
            pending = _pending(self.s.screening.board_view(board.id).rows)
            if pending:
                self._cite_board(board, run)
            items += [{**_row(r), "board_id": board.id, "file": run.filename} for r in pending]
        summary = "; ".join(f"{i['name']} ({i['file']}, evaluation {_score(i['evaluation_score'])}, "
                            f"recommends {i['recommendation'] or 'nothing yet'})" for i in items) or \
            "Nothing is waiting for your decision."
        return {"pending": items[:MAX_LIST * 2], "summary": summary}

    def tool_interviews(self, since_hours: int = TODAY_HOURS) -> dict[str, Any]:
        since = time.time() - max(1, min(int(since_hours), 24 * 14)) * 3600
        items = []
        for board, run in self._boards(self.channel) or self._boards():
            done = [r for r in self.s.screening.board_view(board.id).rows
                    if r.voice_state in ("completed", "failed", "expired")
                    and (self.s.screening.finished_at(board.id, r.candidate_id) or 0) >= since]
            if done:
                self._cite_board(board, run)
            items += [{**_row(r), "board_id": board.id, "file": run.filename} for r in done]
        summary = "; ".join(f"{i['name']} ({i['file']}): {i['voice_state']}, evaluation "
                            f"{_score(i['evaluation_score'])}, recommends {i['recommendation'] or '—'}"
                            for i in items) or "No voice interviews finished in that time on boards you may see."
        return {"interviews": items[:MAX_LIST * 2], "summary": summary}

    def tool_voice_sessions(self, since_hours: int = 168) -> dict[str, Any]:
        if self.s.voicelinks is None:
            return {"sessions": [], "summary": "Voice links are not available here."}
        since = time.time() - max(1, min(int(since_hours), 24 * 90)) * 3600
        items = []
        for row in self.s.voicelinks.recent_links(since):
            if not self.s.access.may_see_link(self.user, row.id).allowed:
                continue
            if row.channel and self.channel and row.channel != self.channel:
                continue
            batch = self.s.voicelinks.batch(row.batch_id)
            if batch.card_ts and batch.channel:
                self._cite(Cite(f"Voice links · {batch.project_name}", batch.channel, batch.card_ts))
            items.append({"link_id": row.id, "label": row.label, "status": row.status, "session_id": row.session_id,
                          "project": batch.project_name, "changed": _when(row.updated_at)})
            if len(items) >= MAX_LIST * 2:
                break
        summary = "; ".join(f"{i['label']} ({i['project']}): {i['status']}" for i in items) or \
            "No voice links you may see changed in that time."
        return {"sessions": items, "summary": summary}

    def tool_interview_details(self, board_id: str, candidate_id: str) -> dict[str, Any]:
        found = self._board(board_id)
        if found is None:
            return self._refusal("that interview")
        board, run = found
        try:
            row = self.s.screening.row(board.id, candidate_id)
        except ServiceError:
            return self._refusal("that interview")
        self._cite_board(board, run)
        return {**_row(row, summary_chars=2000), "answers": [[str(k), v] for k, v in row.answers],
                "summary_text": row.summary[:2000],
                "summary": f"{row.name}: {row.voice_state}; {row.summary[:SUMMARY_CHARS] or 'no summary yet'}"}

    # -- proposing (nothing is done here) -----------------------------------------------------------
    def tool_propose_voice_links(self, top_n: int, run_id: str | None = None) -> dict[str, Any]:
        run = self.s.scoring.get(run_id) if run_id else self._latest_run()
        if run_id and (run is None or not self._may_see(run_id)):
            return self._refusal("that shortlist")
        if run is None or run.state != "complete":
            return {"error": "There is no finished scoring run to voice-screen yet."}
        n = max(1, min(25, int(top_n)))
        names = [c.name for c in _ranked(run)[:n]]
        self._cite_run(run)
        proposal = Proposal("create_links", f"Create {len(names)} voice link{'s' if len(names) != 1 else ''}",
                            f"{run.id}|{n}", f"Voice links for the top {n} of {run.filename}: " + ", ".join(names))
        self.proposals.append(proposal)
        return {"proposed": True, "summary": proposal.summary + ". Press the button to create them; nothing is "
                                                                "created before."}

    def tool_propose_decision(self, board_id: str, candidate_id: str, decision: str) -> dict[str, Any]:
        if decision not in DECISION_NAMES:
            return {"error": "The decision is advance or reject."}
        found = self._board(board_id)
        if found is None:
            return self._refusal("that screening board")
        board, run = found
        try:
            row = self.s.screening.row(board.id, candidate_id)
        except ServiceError:
            return {"error": "That candidate is not on this board."}
        self._cite_board(board, run)
        verb = "Advance" if decision == "advance" else "Reject"
        proposal = Proposal("decision", f"{verb} {row.name}"[:75], f"{board.id}|{candidate_id}|{decision}",
                            f"{verb} {row.name} on the board of {run.filename}")
        self.proposals.append(proposal)
        return {"proposed": True, "summary": proposal.summary + ". Press the button to record it."}


# -- the service ---------------------------------------------------------------------------------------
class AssistantService:
    def __init__(self, store: Store, scoring: ScoringService, screening: ScreeningService, access: AccessService,
                 settings: Settings, *, voicelinks: VoiceLinkService | None = None, transport: Any = None) -> None:
        self.voicelinks = voicelinks
        self.store = store
        self.scoring = scoring
        self.screening = screening
        self.access = access
        self.settings = settings
        self.transport = transport

    @property
    def ai(self) -> bool:
        return bool(self.settings.openai_api_key)

    def tools(self, user: str, channel: str | None = None) -> Tools:
        return Tools(self, user, channel)

    # -- thread context (Bolt's Assistant reads it through the Slack layer's store) -----------------------
    def save_context(self, channel_id: str, thread_ts: str, user: str, context: dict[str, Any]) -> None:
        """Keep the thread's context (``user`` "" keeps the one known: Bolt's store does not say who)."""
        key = f"{channel_id}:{thread_ts}"
        if not user:
            user = (self.store.get("assistant_threads", key) or {}).get("user") or ""
        self.store.upsert("assistant_threads", {"id": key, "user": user, "context_json": dict(context),
                                                "updated_at": time.time()}, pk="id")

    def context(self, channel_id: str, thread_ts: str) -> dict[str, Any] | None:
        row = self.store.get("assistant_threads", f"{channel_id}:{thread_ts}")
        return dict(row["context_json"] or {}) if row else None

    # -- suggested prompts -------------------------------------------------------------------------------
    def suggested_prompts(self, user: str, channel: str | None = None) -> list[Prompt]:
        """Up to four prompts fitted to what ``user`` has: their last run, decisions waiting, today's interviews."""
        tools = self.tools(user, channel)
        run = tools._latest_run()
        pending = tools.tool_pending_decisions()["pending"]
        today = tools.tool_interviews(TODAY_HOURS)["interviews"]
        prompts = []
        if run is not None:
            prompts.append(Prompt(f"Top candidates of {_short(run.filename)}", PROMPT_TOP))
        if pending:
            prompts.append(Prompt(f"{len(pending)} waiting for your decision", PROMPT_DECISIONS))
        if today:
            prompts.append(Prompt(f"{len(today)} interview{'s' if len(today) != 1 else ''} today: how did they go?",
                                  PROMPT_INTERVIEWS))
        if run is not None:
            prompts.append(Prompt(f"Create voice links for the top 3 of {_short(run.filename)}", PROMPT_LINKS))
        if run is None:
            prompts.append(Prompt("How do I score candidates?", "How do I score candidates?"))
        for title, message in ((PROMPT_DECISIONS, PROMPT_DECISIONS), (PROMPT_INTERVIEWS, PROMPT_INTERVIEWS),
                               (PROMPT_TOP, PROMPT_TOP)):
            if len(prompts) < 4 and all(p.message != message for p in prompts):
                prompts.append(Prompt(title, message))
        return prompts[:4]

    # -- answering -----------------------------------------------------------------------------------------
    def answer(self, user: str, text: str, *, channel: str | None = None,
               history: list[dict[str, str]] | None = None) -> Answer:
        """Answer ``text`` for ``user`` (with ``channel``: the conversation the pane was opened beside)."""
        if self.ai:
            try:
                return self._answer_ai(user, text, channel, history or [])
            except ServiceError as exc:
                log.warning("assistant: OpenAI failed (%s); answering with the matcher", exc)
        return self.answer_plain(user, text, channel=channel)

    def answer_plain(self, user: str, text: str, *, channel: str | None = None) -> Answer:
        """Without OpenAI: the suggested prompts through a plain matcher, anything else a short help answer."""
        tools = self.tools(user, channel)
        lowered = " ".join(text.lower().split())
        if re.search(r"\btop candidates?\b|\bbest candidates?\b|\bshortlist\b", lowered):
            result = tools.call("run_candidates", {"limit": 5})
        elif re.search(r"\bdecision|\bdecide|\bwaiting\b", lowered):
            result = tools.call("pending_decisions", {})
        elif re.search(r"\binterviews?\b.*\b(today|go|went)\b|\bhow did\b", lowered):
            result = tools.call("interviews", {"since_hours": TODAY_HOURS})
        elif re.search(r"\b(create|make|send)\b.*\bvoice links?\b|\bvoice[- ]screen\b", lowered):
            n = re.search(r"\btop\s+(\d{1,2})\b", lowered)
            result = tools.call("propose_voice_links", {"top_n": int(n.group(1)) if n else 3})
        else:
            return Answer(HELP, source="help")
        text = result.get("error") or result.get("summary") or HELP
        return Answer(text, tools.cites, tools.proposals, tools.calls, "matcher")

    def _answer_ai(self, user: str, text: str, channel: str | None, history: list[dict[str, str]]) -> Answer:
        import openai

        settings = self.settings
        http_client = None
        if self.transport is not None:
            import httpx

            http_client = httpx.Client(transport=self.transport)
        client = openai.OpenAI(api_key=settings.openai_api_key.reveal(), base_url=settings.openai_base_url or None,
                               timeout=30, max_retries=1, http_client=http_client)  # type: ignore[arg-type]
        tools = self.tools(user, channel)
        messages: list[dict[str, Any]] = [{"role": "system", "content": _system_prompt(user, channel)},
                                          *history[-6:], {"role": "user", "content": text}]
        specs = [{"type": "function", "function": spec} for spec in TOOL_SPECS]
        try:
            for _ in range(MAX_ROUNDS):
                reply = client.chat.completions.create(  # type: ignore[call-overload]
                    model=settings.openai_model, messages=messages, tools=specs, tool_choice="auto")
                message = reply.choices[0].message
                calls = message.tool_calls or []
                if not calls:
                    return Answer((message.content or "").strip() or HELP, tools.cites, tools.proposals, tools.calls,
                                  "openai")
                messages.append({"role": "assistant", "content": message.content or "", "tool_calls": [
                    {"id": c.id, "type": "function", "function": {"name": c.function.name,
                                                                  "arguments": c.function.arguments}}
                    for c in calls]})
                for call in calls:
                    try:
                        arguments = json.loads(call.function.arguments or "{}")
                    except ValueError:
                        arguments = None
                    result = tools.call(call.function.name, arguments if isinstance(arguments, dict) else {})
                    messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)})
        except openai.APIError as exc:
            raise ServiceError(f"OpenAI failed: {exc.__class__.__name__}", endpoint="chat/completions") from exc
        finally:
            client.close()
        summaries = [str(r) for r in (m.get("content") for m in messages if m.get("role") == "tool") if r]
        return Answer("I looked at your data but could not finish the answer; here is what I found: "
                      + " ".join(json.loads(s).get("summary", "") for s in summaries[-3:]),
                      tools.cites, tools.proposals, tools.calls, "openai")


# -- helpers ---------------------------------------------------------------------------------------------
def _system_prompt(user: str, channel: str | None) -> str:
    where = f" The user opened this pane beside <#{channel}>: start from that channel's runs and boards." \
        if channel else ""
    return ("You are Pluto, the recruiting assistant inside Slack of a team that scores candidates with Pluto and "
            "voice-screens them with Nimrobo. Answer only from the tools' results, briefly, in Slack mrkdwn; never "
            "invent candidates, scores or outcomes. If a tool returns an error, say so plainly. To create voice "
            "links or record a decision, call the propose_* tool: the user confirms with a button. "
            f"The user is <@{user}>; today is {datetime.now(UTC).date().isoformat()}.{where}")


def _ranked(run: ScoringRun) -> list[Any]:
    return sorted(run.candidates, key=lambda c: (c.rank if c.rank is not None else 10**9, -(c.final_score or 0)))


def _pending(rows: list[BoardRow]) -> list[BoardRow]:
    return [r for r in rows if r.voice_state == "completed" and r.decision is None]


def _row(r: BoardRow, summary_chars: int = SUMMARY_CHARS) -> dict[str, Any]:
    return {"candidate_id": r.candidate_id, "name": r.name, "pluto_score": r.pluto_score,
            "voice_state": r.voice_state, "evaluation_score": r.evaluation_score, "combined": r.combined,
            "recommendation": r.recommendation,
            "decision": DECISION_NAMES.get(r.decision.decision, "") if r.decision else "",
            "interview_summary": r.summary[:summary_chars]}


def _limit(value: Any) -> int:
    try:
        return max(1, min(MAX_LIST, int(value)))
    except (TypeError, ValueError):
        return 5


def _score(value: Any) -> str:
    return "—" if value is None else f"{float(value):.0f}"


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="minutes") if ts else ""


def _short(filename: str, limit: int = 30) -> str:
    return filename if len(filename) <= limit else filename[:limit - 1] + "…"
