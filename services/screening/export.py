"""The board as CSV: both signals and the decisions, formula-safe, masked for a channel."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.privacy import mask_email, mask_text, write_csv
from services.screening.records import DECISION_NAMES, BoardView
from services.screening.scores import _fmt


def board_csv(view: BoardView, *, public: bool = True) -> bytes:
    """The board as CSV, in the board's order: both signals, the decisions. ``public`` masks emails,
    phones and addresses (for a channel); every cell is formula-safe."""
    texts = []
    for row in view.rows:
        texts += [label for label, _ in row.text_answers if label not in texts]
    header = ["position", "name", "email", "pluto_rank", "pluto_final_score", "tier", "voice_state",
              *[f"eval: {label}" for label in view.number_questions], "evaluation_score",
              f"combined_score ({view.sort_label} order)" if view.sort == "combined" else "combined_score",
              "ranked_by_pluto_only", "recommendation", *[f"eval: {label}" for label in texts],
              "decision", "decided_by", "decided_at", "pluto_analytics", "session_id"]
    out = []
    for row in view.rows:
        numbers = dict(row.numbers)
        text_values = dict(row.text_answers)
        decision = row.decision
        cells: list[Any] = [
            row.position, row.name, row.email or "", row.rank, _fmt(row.pluto_score), row.tier, row.voice_state,
            *[_fmt(numbers.get(label)) for label in view.number_questions], _fmt(row.evaluation_score),
            _fmt(row.combined), "yes" if row.pluto_only else "no", row.recommendation,
            *[text_values.get(label, "") for label in texts],
            DECISION_NAMES[decision.decision].lower() if decision else "", decision.user if decision else "",
            _iso(decision.at) if decision else "", row.analytics_state, row.session_id or ""]
        if public:
            cells = [mask_email(c) if i == 2 and c else mask_text(c) if isinstance(c, str) else c
                     for i, c in enumerate(cells)]
        out.append(cells)
    return write_csv(header, out)


def _iso(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if ts else ""
