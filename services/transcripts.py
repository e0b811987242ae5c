"""One reading of a voice transcript, whatever shape the API gave it.

Nimrobo documents the transcript as "any JSON". Seen in practice: a list of turns with the
speaker under ``role`` or ``speaker`` and the words under ``text``, ``content`` (the common
chat shape, sometimes a list of ``{"type": "text", "text": ...}`` parts) or ``message``,
optionally with a timestamp; the same list inside ``{"messages": [...]}`` (or ``turns``,
``conversation`` ...); or plain text. :func:`transcript_text` turns each of these into
``Interviewer: ...`` / ``Candidate: ...`` lines, with ``[mm:ss]`` or ``[hh:mm:ss]`` in front
where a turn has a time. Anything it does not recognise is shown as formatted JSON, never
as empty lines. It is the one function behind the transcript file, any excerpt of it, and the
text sent for analysis.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

SPEAKER_KEYS = ("role", "speaker", "from", "author", "participant")
TEXT_KEYS = ("content", "text", "message", "transcript", "utterance", "words")
TIME_KEYS = ("timestamp", "time", "start", "startTime", "start_time", "offset", "createdAt", "created_at", "ts")
CONTAINER_KEYS = ("messages", "turns", "transcript", "conversation", "items", "entries", "utterances")
INTERVIEWER_ROLES = ("agent", "assistant", "interviewer", "ai", "bot", "system")
CANDIDATE_ROLES = ("user", "candidate", "human", "participant", "interviewee")


def _words(value: Any) -> str:
    """The words of a turn's text field: a string, or a list of content parts."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        parts = [_words(part.get("text") if isinstance(part, Mapping) else part) for part in value]
        return " ".join(p for p in parts if p)
    if isinstance(value, Mapping):
        return _words(value.get("text"))
    return ""


def _speaker(turn: Mapping[str, Any]) -> str:
    raw = next((turn[k] for k in SPEAKER_KEYS if isinstance(turn.get(k), str) and turn[k].strip()), "")
    role = raw.strip().lower()
    if role in INTERVIEWER_ROLES:
        return "Interviewer"
    if role in CANDIDATE_ROLES:
        return "Candidate"
    return raw.strip()[:1].upper() + raw.strip()[1:] if raw else "Speaker"


def _clock(seconds: float) -> str:
    seconds = int(max(0, seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


def _when(turn: Mapping[str, Any]) -> str:
    """``[mm:ss]`` for an offset in seconds, ``[hh:mm:ss]`` (UTC) for a point in time, "" for none."""
    value = next((turn[k] for k in TIME_KEYS if turn.get(k) not in (None, "")), None)
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, (int, float)):
        if value > 1e11:  # epoch milliseconds
            value = value / 1000
        if value > 1e8:  # epoch seconds
            return f"[{datetime.fromtimestamp(value, UTC).strftime('%H:%M:%S')}]"
        return f"[{_clock(value)}]"
    text = str(value).strip()
    try:
        return f"[{datetime.fromisoformat(text.replace('Z', '+00:00')).strftime('%H:%M:%S')}]"
    except ValueError:
        return f"[{text[:20]}]"


def _turn_line(turn: Any) -> str:
    if turn is None:
        return ""
    if isinstance(turn, str):
        return turn.strip()
    if not isinstance(turn, Mapping):
        return json.dumps(turn, ensure_ascii=False, default=str)
    words = next((w for w in (_words(turn.get(k)) for k in TEXT_KEYS if k in turn) if w), "")
    if not words:
        rest = {k: v for k, v in turn.items() if k not in SPEAKER_KEYS and k not in TIME_KEYS}
        # a turn with a speaker and no words is an empty turn; anything else we do not know is shown as it is
        return json.dumps(dict(turn), ensure_ascii=False, default=str) if rest else ""
    when = _when(turn)
    return f"{when + ' ' if when else ''}{_speaker(turn)}: {words}"


def _turns(transcript: Any) -> Sequence[Any] | None:
    """The list of turns inside ``transcript``, or None when it has no shape we know."""
    if isinstance(transcript, Mapping):
        for key in CONTAINER_KEYS:
            inner = transcript.get(key)
            if isinstance(inner, (list, tuple)):
                return inner
            if isinstance(inner, Mapping):
                return _turns(inner)
        return None
    if isinstance(transcript, (list, tuple)):
        return transcript
    return None


def transcript_text(transcript: Any, *, max_lines: int | None = None) -> str:
    """The transcript as readable lines (see the module); "" only when it is empty.

    ``max_lines`` makes an excerpt: the first lines, then "…" when more were left out.
    """
    if transcript is None:
        return ""
    if isinstance(transcript, str):
        lines = [line for line in transcript.strip().splitlines()]
    else:
        turns = _turns(transcript)
        lines = [line for line in (_turn_line(t) for t in turns) if line] if turns is not None else []
        if not lines and (turns is None or any(t not in (None, "") for t in turns)):
            if not transcript:
                return ""
            lines = json.dumps(transcript, ensure_ascii=False, indent=2, default=str).splitlines()
    if max_lines is not None and len(lines) > max_lines:
        lines = lines[:max_lines] + ["…"]
    return "\n".join(lines).strip()
