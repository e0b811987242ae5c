"""Charts for Slack, where recruiters would rather look than read: PNGs made with matplotlib.

* :func:`score_distribution`: a histogram of a scoring run's final scores, stacked by tier,
  with the shortlist cut-off marked. It names nobody, so it is safe in any channel.
* :func:`screening_scatter`: Pluto score against the interview evaluation, one point per
  screened candidate, coloured by decision. ``names=False`` numbers the points as on the
  board (for a public channel); ``names=True`` writes each name (only for the asker, privately).

Both return a :class:`Chart`: the PNG and an alt text that says what the chart shows (Slack
reads it to screen readers). Figures are drawn with the Agg canvas on a private ``Figure``
(no pyplot, no display, no global state), so charts can be made on any worker thread; callers
make them on the work pool (``bot/work.py``), never on the ack path.

The plot area sits at :data:`PLOT_BOX` (figure fractions) and the score axes run over
:data:`SCORE_RANGE`, so a reader (or a test) can find where a score lands in the image.
"""

from __future__ import annotations

import io
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

WIDTH_IN, HEIGHT_IN, DPI = 8.0, 4.5, 100  # 800 x 450 px: readable in a Slack preview, small to upload
PLOT_BOX = (0.08, 0.13, 0.68, 0.74)  # left, bottom, width, height of the plot area (figure fractions)
SCORE_RANGE = (0.0, 100.0)
BIN_WIDTH = 5
CUTOFF_COLOUR = "#e01e5a"  # used for nothing else on the histogram, so the line can be found
TIER_ORDER = ("Top Tier", "Strong", "Good", "Evaluate", "Poor")
TIER_COLOURS = {"Top Tier": "#1264a3", "Strong": "#2eb67d", "Good": "#ecb22e", "Evaluate": "#9e9ea6",
                "Poor": "#4a154b"}
EXTRA_COLOURS = ("#36c5f0", "#8d6e63", "#6b8e23", "#bc8f8f", "#5f9ea0")
NO_TIER = "No tier"
DECISION_COLOURS = {"advance": "#2eb67d", "reject": "#e01e5a", None: "#616061"}
DECISION_LABELS = {"advance": "Advanced", "reject": "Rejected", None: "Undecided"}
NAME_LIMIT = 22  # characters of a name written next to its point
# matplotlib's text layout and font cache are shared by every figure: one chart is drawn at a time (each
# takes a fraction of a second), so two workers never draw into them together.
_DRAWING = threading.Lock()


@dataclass(frozen=True)
class Chart:
    """A chart ready to upload: PNG bytes, the alt text, and a file name."""

    png: bytes
    alt_text: str
    filename: str
    title: str


@dataclass(frozen=True)
class ScoredPoint:
    """One screened candidate on the scatter: the board's position, both scores and the decision."""

    position: int
    name: str
    pluto_score: float
    evaluation_score: float
    decision: str | None  # advance | reject | None


def _figure() -> tuple[Figure, Any]:
    # Imported here: the bot starts without loading matplotlib; the first chart loads it.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    axes = figure.add_axes(PLOT_BOX)
    axes.set_xlim(*SCORE_RANGE)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return figure, axes


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    # No timestamps in the file: the same data always gives the same bytes.
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _tier_colours(tiers: Sequence[str]) -> dict[str, str]:
    colours: dict[str, str] = {}
    extra = iter(EXTRA_COLOURS * 4)
    for tier in tiers:
        colours[tier] = TIER_COLOURS.get(tier) or next(extra, "#868686")
    return colours


def _ordered_tiers(scores: Sequence[tuple[float, str]]) -> list[str]:
    """Known tiers best first, then any others by their best score."""
    present = {tier or NO_TIER for _, tier in scores}
    known = [t for t in TIER_ORDER if t in present]
    best = {t: max(s for s, tier in scores if (tier or NO_TIER) == t) for t in present}
    return known + sorted((t for t in present if t not in TIER_ORDER), key=lambda t: -best[t])


def cutoff_score(scores: Sequence[float], top_n: int) -> float | None:
    """The lowest final score on the shortlist (the top ``top_n``); None with no scores."""
    ranked = sorted(scores, reverse=True)
    if not ranked or top_n < 1:
        return None
    return ranked[min(top_n, len(ranked)) - 1]


def score_distribution(scores: Sequence[tuple[float, str]], top_n: int, *, run_label: str = "") -> Chart:
    """A histogram of final scores (``(score, tier)`` pairs), stacked by tier, bins of 5 points, with a
    line at the shortlist cut-off (the lowest score in the top ``top_n``). No names anywhere."""
    with _DRAWING:
        return _score_distribution(scores, top_n, run_label)


def _score_distribution(scores: Sequence[tuple[float, str]], top_n: int, run_label: str) -> Chart:
    from matplotlib.patches import Patch

    scores = [(max(SCORE_RANGE[0], min(SCORE_RANGE[1], float(s))), t or "") for s, t in scores]
    figure, axes = _figure()
    tiers = _ordered_tiers(scores) if scores else []
    colours = _tier_colours(tiers)
    edges = list(range(int(SCORE_RANGE[0]), int(SCORE_RANGE[1]) + BIN_WIDTH, BIN_WIDTH))
    groups = [[s for s, t in scores if (t or NO_TIER) == tier] for tier in tiers]
    if groups:
        axes.hist(groups, bins=edges, stacked=True, color=[colours[t] for t in tiers], edgecolor="white",
                  linewidth=0.6, label=[f"{t} ({len(g)})" for t, g in zip(tiers, groups, strict=True)])
    cutoff = cutoff_score([s for s, _ in scores], top_n)
    shortlisted = sum(1 for s, _ in scores if cutoff is not None and s >= cutoff)
    handles, labels = axes.get_legend_handles_labels()
    if cutoff is not None:
        axes.axvline(cutoff, color=CUTOFF_COLOUR, linewidth=2.5, zorder=5)
        # The legend's sample of the line is a patch of another shape: the only upright red line is the cut-off.
        handles.append(Patch(facecolor="white", edgecolor=CUTOFF_COLOUR, hatch="||"))
        labels.append(f"Shortlist cut-off: {cutoff:g}")
    axes.set_xlabel("Final score (Pluto)")
    axes.set_ylabel("Candidates")
    axes.yaxis.get_major_locator().set_params(integer=True)
    if handles:
        axes.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, fontsize=9,
                    title="Tier", title_fontsize=9, alignment="left")
    title = f"Score distribution · {len(scores)} candidate{'s' if len(scores) != 1 else ''}"
    axes.set_title(title, loc="left", fontsize=12, fontweight="bold")
    png = _png(figure)
    counts = Counter(t or NO_TIER for _, t in scores)
    by_tier = ", ".join(f"{t} {counts[t]}" for t in tiers) or "none"
    if cutoff is None:
        alt = "Histogram of final scores: no candidate was scored."
    else:
        median = sorted(s for s, _ in scores)[len(scores) // 2]
        alt = (f"Histogram of the final scores of {len(scores)} candidates{' in ' + run_label if run_label else ''}, "
               f"in bins of {BIN_WIDTH} points from 0 to 100, coloured by tier ({by_tier}). A vertical red line "
               f"marks the shortlist cut-off at {cutoff:g}: the {shortlisted} shortlisted candidates scored "
               f"{cutoff:g} or more. Median score {median:g}. No candidate is named.")
    return Chart(png=png, alt_text=alt[:1000], filename="score-distribution.png", title=title)


def screening_scatter(points: Sequence[ScoredPoint], *, names: bool, board_label: str = "",
                      waiting: int = 0) -> Chart:
    """Pluto score (x) against the interview evaluation (y), one point per screened candidate with an
    evaluation, coloured by decision. ``names=False``: each point carries its number on the board;
    ``names=True``: its name (only ever for the person who asked, privately). ``waiting``: screened
    candidates without an evaluation yet (said in the alt text and the footnote)."""
    with _DRAWING:
        return _screening_scatter(points, names, board_label, waiting)


def _screening_scatter(points: Sequence[ScoredPoint], names: bool, board_label: str, waiting: int) -> Chart:
    figure, axes = _figure()
    axes.set_ylim(*SCORE_RANGE)
    for decision in ("advance", "reject", None):
        chosen = [p for p in points if p.decision == decision]
        if chosen:
            axes.scatter([p.pluto_score for p in chosen], [p.evaluation_score for p in chosen], s=60,
                         color=DECISION_COLOURS[decision], edgecolor="white", linewidth=0.8, zorder=3,
                         label=f"{DECISION_LABELS[decision]} ({len(chosen)})")
    for p in points:
        label = _short(p.name) if names else str(p.position)
        axes.annotate(label, (p.pluto_score, p.evaluation_score), xytext=(5, 4), textcoords="offset points",
                      fontsize=8, color="#1d1c1d")
    axes.plot(SCORE_RANGE, SCORE_RANGE, color="#dddddd", linewidth=1, zorder=1)  # equal scores
    axes.set_xlabel("Pluto final score")
    axes.set_ylabel("Interview evaluation")
    if points:
        axes.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, fontsize=9, title="Decision",
                    title_fontsize=9, alignment="left")
    title = f"Pluto score vs interview evaluation · {len(points)} screened"
    axes.set_title(title, loc="left", fontsize=12, fontweight="bold")
    note = "Numbers as on the Screening board." if not names else "Names shown: this copy is only for you."
    if waiting:
        note += f" {waiting} screened candidate{'s' if waiting != 1 else ''} without an evaluation yet."
    figure.text(PLOT_BOX[0], 0.015, note, fontsize=8, color="#616061")
    png = _png(figure)
    decided = Counter(p.decision for p in points)
    parts = ", ".join(f"{decided[d]} {DECISION_LABELS[d].lower()}" for d in ("advance", "reject", None) if decided[d])
    alt = (f"Scatter chart of {len(points)} screened candidate{'s' if len(points) != 1 else ''}"
           f"{' on ' + board_label if board_label else ''}: Pluto final score across, interview evaluation up, "
           f"both from 0 to 100, coloured by decision ({parts or 'none yet'}). ")
    if names:
        alt += "Each point is named: " + "; ".join(
            f"{_short(p.name)} {p.pluto_score:g}/{p.evaluation_score:g}" for p in points[:15]) + "."
    else:
        alt += "Each point carries the candidate's number on the Screening board; no one is named."
    if waiting:
        alt += f" {waiting} more without an evaluation yet {'is' if waiting == 1 else 'are'} not plotted."
    return Chart(png=png, alt_text=alt[:1000], filename="screening-chart.png", title=title)


def _short(name: str) -> str:
    return name if len(name) <= NAME_LIMIT else name[: NAME_LIMIT - 1] + "…"
