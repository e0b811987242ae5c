"""The board's score maths: the evaluation score from the number answers, the combined score, the sort.

Scales. Pluto scores are 0-100. The evaluator is asked for 0-10 number answers, so the
evaluation score is the mean of the number answers times 10 (when any answer is above 10 the
answers are read as 0-100). The combined score is the mean of the two; a candidate without an
evaluation is ranked by the Pluto score alone and marked (``pluto_only``).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable

from services.screening.records import BoardRow


def evaluation_score(numbers: list[tuple[str, float]], scale: float) -> float | None:
    if not numbers:
        return None
    return round(statistics.fmean(v for _, v in numbers) * (100.0 / scale), 1)


def combined_score(pluto: float | None, evaluation: float | None) -> float | None:
    if evaluation is None:
        return pluto
    if pluto is None:
        return evaluation
    return round((pluto + evaluation) / 2, 1)


def sort_rows(rows: list[BoardRow], sort: str) -> list[BoardRow]:
    """``pluto``: final score; ``evaluation``: evaluation score, then those without one by Pluto;
    ``combined``: those with an evaluation by combined score, then those without one (not interviewed
    yet) by Pluto score, as a group of their own (:data:`FORMULA`). Ties: Pluto rank, then name."""
    def low(value: float | None) -> float:
        return -(value if value is not None else -1.0)

    def tie(r: BoardRow) -> tuple[int, str]:
        return (r.rank if r.rank is not None else 10**9, r.name.casefold())

    if sort == "pluto":
        ordered = sorted(rows, key=lambda r: (low(r.pluto_score), *tie(r)))
    elif sort == "evaluation":
        ordered = sorted(rows, key=lambda r: (r.evaluation_score is None, low(r.evaluation_score),
                                              low(r.pluto_score), *tie(r)))
    else:  # the interviewed by combined score, then the not-interviewed-yet group by Pluto score
        ordered = sorted(rows, key=lambda r: (r.pluto_only, low(r.combined), *tie(r)))
    for i, row in enumerate(ordered, 1):
        row.position = i
    return ordered


def _scale(numbers: Iterable[tuple[str, float]]) -> float:
    """10 for the 0-10 answers the evaluator is asked for; 100 when any answer is above 10."""
    return 100.0 if any(v > 10 for _, v in numbers) else 10.0


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.1f}".rstrip("0").rstrip(".")
