"""An OpenAI-compatible stand-in: ``POST /v1/chat/completions`` (with structured output and tool calling)
and ``GET /v1/models``.

Tool calling is a scripted, deterministic flow (:data:`TOOL_PLANS`): the question picks a plan of tool
calls; each call's arguments may come from the previous tools' results (the latest run's id, a candidate
named in the question), the way a model chains them. When the plan is done (or a tool said ``error``),
the answer is the tools' ``summary`` fields. :attr:`OpenAIStub.tool_calls` lists every call it asked
for, in order, and :attr:`OpenAIStub.requests` every request (so a test sees the tool results the bot
sent back).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

from sandbox.httpserver import Request, Response, SimServer, json_response

Args = Callable[[str, list[dict[str, Any]]], "dict[str, Any] | None"]  # (question, results so far) -> arguments


def _first_run(question: str, results: list[dict[str, Any]]) -> str | None:
    runs = (results[-1] if results else {}).get("runs") or []
    return runs[0]["run_id"] if runs else None


def _named(question: str, results: list[dict[str, Any]]) -> dict[str, Any] | None:
    pending = (results[-1] if results else {}).get("pending") or []
    lowered = question.lower()
    found = next((p for p in pending if p["name"].lower() in lowered or p["name"].split()[0].lower() in lowered),
                 None)
    if found is None:
        return None
    decision = "reject" if re.search(r"\breject", lowered) else "advance"
    return {"board_id": found["board_id"], "candidate_id": found["candidate_id"], "decision": decision}


def _top_n(question: str) -> int:
    match = re.search(r"\btop\s+(\d{1,2})\b", question.lower())
    return int(match.group(1)) if match else 3


#: (pattern on the question, [(tool, arguments from (question, results))]); the first pattern that matches
TOOL_PLANS: list[tuple[str, list[tuple[str, Args]]]] = [
    (r"\brun ([0-9a-f]{12})\b", [("run_candidates", lambda q, r: {
        "run_id": re.search(r"\brun ([0-9a-f]{12})\b", q.lower()).group(1), "limit": 5})]),  # type: ignore[union-attr]
    (r"\bboard ([0-9a-f]{12})\b", [("board_candidates", lambda q, r: {
        "board_id": re.search(r"\bboard ([0-9a-f]{12})\b", q.lower()).group(1)})]),  # type: ignore[union-attr]
    (r"\b(advance|reject)\b", [("pending_decisions", lambda q, r: {}), ("propose_decision", _named)]),
    (r"\b(create|make|send)\b.*\bvoice links?\b", [
        ("list_runs", lambda q, r: {"limit": 1}),
        ("propose_voice_links", lambda q, r: {"run_id": run, "top_n": _top_n(q)} if (run := _first_run(q, r))
         else None)]),
    (r"\b(top|best) candidates?\b|\bshortlist\b", [
        ("list_runs", lambda q, r: {"limit": 1}),
        ("run_candidates", lambda q, r: {"run_id": run, "limit": 5} if (run := _first_run(q, r)) else None)]),
    (r"\bdecision|\bwaiting\b", [("pending_decisions", lambda q, r: {})]),
    (r"\bvoice (links|sessions)\b", [("voice_sessions", lambda q, r: {"since_hours": 168})]),
    (r"\binterviews?\b", [("interviews", lambda q, r: {"since_hours": 24})]),
    (r"\bboards?\b", [("list_boards", lambda q, r: {})]),
]


class OpenAIStub(SimServer):
    name = "openai"

    def __init__(self, bad_keys: tuple[str, ...] = ("sk-bad",), host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self.bad_keys = set(bad_keys)
        self.requests: list[dict[str, Any]] = []
        self.tool_calls: list[tuple[str, dict[str, Any]]] = []  # every tool call it asked for, in order
        self.add_route("POST", "/v1/chat/completions", self._completions)
        self.add_route("GET", "/v1/models", self._models)

    def _unauthorized(self, request: Request) -> Response | None:
        key = request.headers.get("authorization", "")[7:]
        if not key or key in self.bad_keys:
            return json_response({"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error",
                                            "code": "invalid_api_key"}}, 401)
        return None

    def _models(self, request: Request) -> Response:
        return self._unauthorized(request) or json_response(
            {"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model", "owned_by": "stub"}]})

    def _completions(self, request: Request) -> Response:
        denied = self._unauthorized(request)
        if denied:
            return denied
        body = request.json() or {}
        self.requests.append(body)
        if body.get("tools"):
            return self._with_tools(body)
        user = next((m.get("content", "") for m in reversed(body.get("messages", [])) if m.get("role") == "user"), "")
        subject = next((line.split(":", 1)[1].strip() for line in user.splitlines() if line.startswith("Subject:")),
                       "the topic")
        schema = ((body.get("response_format") or {}).get("json_schema") or {}).get("schema") or {}
        if schema:
            content = json.dumps({key: f"{key.capitalize()} for {subject}: drafted from the brief "
                                       f"({len(user)} characters)." for key in schema.get("properties", {})})
        else:
            content = f"A reply about {subject}."
        return json_response({
            "id": f"chatcmpl-{len(self.requests)}", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", "gpt-4o-mini"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "refusal": None},
                         "finish_reason": "stop", "logprobs": None}],
            "usage": {"prompt_tokens": len(user) // 4, "completion_tokens": len(content) // 4,
                      "total_tokens": (len(user) + len(content)) // 4}})

    def _with_tools(self, body: dict[str, Any]) -> Response:
        """The scripted tool-calling flow (see :data:`TOOL_PLANS`)."""
        messages = body.get("messages") or []
        last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
        question = str(messages[last_user].get("content") or "") if last_user >= 0 else ""
        since = messages[last_user + 1:]
        results = []
        for m in since:
            if m.get("role") == "tool":
                try:
                    results.append(json.loads(m.get("content") or "{}"))
                except ValueError:
                    results.append({"error": "unreadable tool result"})
        asked = sum(len(m.get("tool_calls") or []) for m in since if m.get("role") == "assistant")
        offered = {t.get("function", {}).get("name") for t in body.get("tools") or []}
        plan = next((steps for pattern, steps in TOOL_PLANS if re.search(pattern, question.lower())), [])
        if asked < len(plan) and not any("error" in r for r in results):
            name, make = plan[asked]
            arguments = make(question, results) if name in offered else None
            if arguments is not None:
                self.tool_calls.append((name, arguments))
                call = {"id": f"call_{len(self.tool_calls)}", "type": "function",
                        "function": {"name": name, "arguments": json.dumps(arguments)}}
                return self._choice({"role": "assistant", "content": None, "tool_calls": [call], "refusal": None},
                                    "tool_calls", body)
        if not plan:
            content = "I can answer questions about your runs, candidates, screening boards and interviews."
        else:
            lines = [str(r.get("error") or r.get("summary") or "") for r in results]
            content = "\n".join(line for line in lines if line) or "I found nothing about that."
        return self._choice({"role": "assistant", "content": content, "refusal": None}, "stop", body)

    def _choice(self, message: dict[str, Any], finish: str, body: dict[str, Any]) -> Response:
        return json_response({
            "id": f"chatcmpl-{len(self.requests)}", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", "gpt-4o-mini"),
            "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}})
