"""Voice prompts in four sections — Goal, Role, Guidelines, Constraints, in that order — and AI drafting.

:func:`assemble_prompt` never returns a prompt missing a section. :func:`draft_sections`
fills the sections from a job description or research brief through the ``openai``
package with structured output (a strict JSON schema); without an OpenAI key it returns
a template for the pattern instead and makes no network call.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from services import metrics
from services.http import ServiceError

SECTIONS = ("Goal", "Role", "Guidelines", "Constraints")
FIELDS = ("goal", "role", "guidelines", "constraints")
PATTERNS = {"interview": "Interview for a role", "research": "Research study", "instant": "Instant links"}


class PromptError(ServiceError):
    service = "Prompt"


@dataclass
class PromptSections:
    goal: str = ""
    role: str = ""
    guidelines: str = ""
    constraints: str = ""

    def missing(self) -> list[str]:
        return [title for title, key in zip(SECTIONS, FIELDS, strict=True) if not getattr(self, key).strip()]


def assemble_prompt(sections: PromptSections) -> str:
    missing = sections.missing()
    if missing:
        raise PromptError(f"the prompt is missing: {', '.join(missing)}.",
                          hint="Every voice prompt needs Goal, Role, Guidelines and Constraints.")
    return "\n\n".join(f"## {title}\n{getattr(sections, key).strip()}"
                       for title, key in zip(SECTIONS, FIELDS, strict=True))


_HEADING = re.compile(r"^\s*(?:#+\s*)?(goal|role|guidelines|constraints)\s*:?\s*$", re.IGNORECASE | re.MULTILINE)


def parse_prompt(text: str) -> PromptSections:
    """Split a prompt back into sections (``## Goal`` or ``Goal:`` headings); no headings → all in Goal."""
    text = text or ""
    marks = list(_HEADING.finditer(text))
    if not marks:
        return PromptSections(goal=text.strip())
    values: dict[str, str] = {}
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        values[mark.group(1).lower()] = text[mark.end():end].strip()
    return PromptSections(**{k: values.get(k, "") for k in FIELDS})


def template(pattern: str, subject: str = "") -> PromptSections:
    """A good starting prompt for each pattern (``subject`` is the role or the study)."""
    if pattern == "interview":
        role = subject or "the role"
        return PromptSections(
            goal=f"Run a 10-minute first-round screening interview for {role} and learn whether the candidate's "
                 "experience, motivation and availability fit.",
            role=f"You are a friendly, professional recruiter screening candidates for {role}.",
            guidelines="Introduce yourself and the role briefly. Ask about their most relevant experience, one "
                       "concrete project and its outcome, why this role, and their notice period and salary "
                       "expectations. Ask one question at a time and follow up when answers are vague.",
            constraints="Stay within the time limit. Do not ask about age, family, health, religion or other "
                        "protected characteristics. Do not promise an offer or discuss other candidates.")
    if pattern == "research":
        study = subject or "this study"
        return PromptSections(
            goal=f"Understand how participants experience the problem behind {study}: what they do today, what "
                 "frustrates them, and what they have tried.",
            role="You are a neutral, curious customer researcher running a one-to-one interview.",
            guidelines="Ask open questions about recent, specific situations (\"Tell me about the last time…\"). "
                       "Follow up with \"why\" and \"what happened next\". Summarise what you heard before moving "
                       "on.",
            constraints="Do not pitch or describe any product. Do not lead the participant or suggest answers. "
                        "Keep the conversation within the time limit and thank them at the end.")
    return PromptSections(
        goal=f"Hold a short voice conversation about {subject or 'the topic'} and capture the key points.",
        role="You are a clear, polite interviewer.",
        guidelines="Ask one question at a time, listen, and follow up on anything unclear.",
        constraints="Stay on topic, keep within the time limit, and collect no sensitive personal data.")


SCHEMA = {
    "type": "object",
    "properties": {key: {"type": "string", "description": f"The {title} section"}
                   for key, title in zip(FIELDS, SECTIONS, strict=True)},
    "required": list(FIELDS),
    "additionalProperties": False,
}


class DraftError(ServiceError):
    service = "AI draft"


ENDPOINT = "POST /chat/completions"


def _metered_http(transport: httpx.BaseTransport | None, timeout: float) -> httpx.Client:
    """The OpenAI client's HTTP client, counting each attempt, retry and Retry-After in the metrics."""
    attempts = [0]

    def on_request(request: httpx.Request) -> None:
        attempts[0] += 1
        if attempts[0] > 1:
            metrics.api_retry("openai", ENDPOINT)
        request.extensions["pluto_started"] = time.perf_counter()

    def on_response(response: httpx.Response) -> None:
        started = response.request.extensions.get("pluto_started", time.perf_counter())
        metrics.api_call("openai", ENDPOINT, time.perf_counter() - started, response.status_code)
        if response.status_code == 429 and response.headers.get("retry-after"):
            try:
                metrics.api_retry_after("openai", float(response.headers["retry-after"]))
            except ValueError:
                pass

    return httpx.Client(transport=transport, timeout=timeout,
                        event_hooks={"request": [on_request], "response": [on_response]})


def draft_sections(pattern: str, brief: str, subject: str = "", *, api_key: str = "", base_url: str = "",
                   model: str = "gpt-4o-mini", transport: httpx.BaseTransport | None = None,
                   timeout: float = 30) -> tuple[PromptSections, str]:
    """(sections, source) where source is ``"ai"`` or ``"template"`` (no key: no network call)."""
    if not api_key:
        return template(pattern, subject), "template"
    import openai

    client = openai.OpenAI(api_key=api_key, base_url=base_url or None, timeout=timeout, max_retries=1,
                           http_client=_metered_http(transport, timeout))
    kind = PATTERNS.get(pattern, pattern)
    messages = [
        {"role": "system", "content": "You write prompts for an AI voice interviewer. Write four sections: Goal, "
                                      "Role, Guidelines, Constraints. Be specific and concise."},
        {"role": "user", "content": f"Pattern: {kind}\nSubject: {subject or '-'}\nBrief:\n{brief or '-'}"},
    ]
    try:
        response = client.chat.completions.create(
            model=model, messages=messages,  # type: ignore[arg-type]
            response_format={"type": "json_schema",
                             "json_schema": {"name": "voice_prompt", "strict": True, "schema": SCHEMA}})
        data: Any = json.loads(response.choices[0].message.content or "{}")
    except openai.AuthenticationError:
        raise DraftError("the OpenAI key was refused.", hint="Check OPENAI_API_KEY, or use the template.") from None
    except openai.APIConnectionError as exc:
        metrics.api_call("openai", ENDPOINT, 0.0, None)
        raise DraftError(f"drafting failed ({type(exc).__name__}).", hint="Try again, or use the template.") from None
    except openai.APIError as exc:
        raise DraftError(f"drafting failed ({type(exc).__name__}).", hint="Try again, or use the template.") from None
    except (ValueError, IndexError):
        raise DraftError("the AI answer was not in the expected shape.", hint="Try again.") from None
    finally:
        client.close()
    sections = PromptSections(**{k: str(data.get(k, "")).strip() for k in FIELDS})
    if sections.missing():
        raise DraftError(f"the draft left out: {', '.join(sections.missing())}.", hint="Try again.")
    return sections, "ai"


def as_dict(sections: PromptSections) -> dict[str, str]:
    return asdict(sections)
