"""An OpenAI-compatible stand-in: ``POST /v1/chat/completions`` (with structured output) and ``GET /v1/models``."""

from __future__ import annotations

import json
import time
from typing import Any

from sandbox.httpserver import Request, Response, SimServer, json_response


class OpenAIStub(SimServer):
    name = "openai"

    def __init__(self, bad_keys: tuple[str, ...] = ("sk-bad",), host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self.bad_keys = set(bad_keys)
        self.requests: list[dict[str, Any]] = []
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
