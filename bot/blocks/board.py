"""Block Kit for the hiring loop: the Screening board, its create modal, and the App Home dashboard.

* :func:`board_message`: one message in the run's thread, updated in place. Two blocks a
  candidate, ten candidates a page, so it stays far below 50 blocks whatever the size.
  In a public channel (``public=True``) emails, phones and addresses are masked.
* :func:`screen_modal`: the ``/voicelink create`` modal on the Interview pattern, prefilled.
* :func:`home_dashboard`: the Home tab, every list paged, capped at 100 blocks.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Option, StaticSelectElement
from slack_sdk.models.views import View

from bot.blocks import (
    MAX_VIEW_BLOCKS,
    Message,
    actions,
    button,
    clip,
    confirm_dialog,
    context,
    divider,
    fit_blocks,
    header,
    mrkdwn_escape,
    paginate,
    section,
    when,
)
from bot.blocks.voice import create_modal
from services.home import Dashboard
from services.privacy import mask_text
from services.records import SEP
from services.screening import (
    DECISION_NAMES,
    DEFAULT_TOP_N,
    MAX_TOP_N,
    SORTS,
    AnalyticsOutcome,
    BoardRow,
    BoardView,
    ScreenPrefill,
)

EVENT_TYPE = "screening_board"
PER_PAGE = 10
TOP_N_CHOICES = (3, 5, 10, 15, 20, 25)
HOME_PER_PAGE = 5
HOME_HELP = ("Score candidates: share a CSV in a channel and mention me with *score*, or `/pluto score`. "
             "Voice interviews: `/voicelink create`. Everything else: `/pluto help` and `/voicelink help`.")
STATE_ICONS = {"invited": ":envelope:", "started": ":studio_microphone:", "completed": ":white_check_mark:",
               "failed": ":x:", "expired": ":hourglass:", "cancelled": ":no_entry_sign:", "not sent": ":warning:"}
RUN_ICONS = {"queued": ":hourglass_flowing_sand:", "uploading": ":arrow_up:", "running": ":gear:",
             "complete": ":white_check_mark:", "failed": ":x:", "stalled": ":double_vertical_bar:"}


def slack_date(ts: float | None) -> str:
    """A date every reader sees in their own time zone (bot/blocks/when.py); "" when there is none."""
    return when.slack_date(ts or None)


def _score(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def _text(value: Any, public: bool, limit: int | None = None) -> str:
    """Masked (in public) first, then clipped, then escaped: a clip never leaves half an email."""
    text = str(value if value is not None else "")
    text = mask_text(text) if public else text
    return mrkdwn_escape(clip(text, limit) if limit else text)


# -- entry points on other messages ----------------------------------------------------------------
def screen_value(run_id: str, n: int) -> str:
    return f"{run_id}{SEP}{n}"


def screen_top_choices(default: int, total: int | None = None) -> tuple[int, list[int]]:
    """The button's N and the select's other Ns for a run of ``total`` candidates whose shortlist shows
    ``default``: the button screens the shortlist (never more than exist), the select offers only
    numbers that exist (and "all" when the run is smaller than the next choice)."""
    cap = min(MAX_TOP_N, total) if total else MAX_TOP_N
    n = max(1, min(default, cap))
    others = [c for c in TOP_N_CHOICES if c <= cap and c != n]
    if total and cap == total and n != cap and cap not in others:
        others.append(cap)
    return n, others


def screen_top_block(run_id: str, default: int = DEFAULT_TOP_N, total: int | None = None) -> ActionsBlock:
    """For the shortlist: "Voice-screen top N" (the shortlist's N) and a select for another N that exists."""
    n, others = screen_top_choices(default, total)
    elements: list[Any] = [button(f"Voice-screen top {n}", "screen_top", screen_value(run_id, n), style="primary")]
    if others:
        options = [Option(value=screen_value(run_id, k), label=f"All {k}" if total and k == total else f"Top {k}")
                   for k in others]
        elements.append(StaticSelectElement(action_id="screen_top_pick", placeholder="Voice-screen another number…",
                                            options=options))
    return ActionsBlock(block_id=f"screen_top{SEP}{run_id}", elements=elements)


def screen_one_button(run_id: str, candidate_id: str) -> Any:
    """For a candidate card: add one link to the run's screening project."""
    return button("Voice-screen", "screen_one", f"{run_id}{SEP}{candidate_id}")


# -- the create modal ----------------------------------------------------------------------------
def screen_modal(prefill: ScreenPrefill, channel: str, thread_ts: str | None = None, v: int = 1,
                 ai: bool = False) -> View:
    """The ``/voicelink create`` modal, Interview pattern, prefilled for the run's top candidates.

    Same callback and fields as ``/voicelink create``; ``private_metadata`` also carries the run,
    so the submission creates the links on the run's screening board. Nothing exists before submit.
    """
    drafted = "drafted with AI" if prefill.draft_source == "ai" else "from the Interview template"
    note = (f"Role from the {prefill.role_source}; prompt {drafted}; evaluator questions from the run's "
            f"criteria. {len(prefill.candidates)} candidates as labels. Review, edit, then *Create links*: "
            "nothing is created before that.")
    if prefill.draft_note:
        note += f" :warning: {prefill.draft_note}"
    title = f"Voice-screen top {len(prefill.candidates)}" if len(prefill.candidates) > 1 else "Voice-screen"
    return create_modal(channel, "interview", values=prefill.form_values(), v=v, note=note, ai=ai,
                        meta={"run_id": prefill.run_id, "thread_ts": thread_ts}, title=title, submit="Create links")


# -- the board ---------------------------------------------------------------------------------
def board_value(board_id: str, candidate_id: str) -> str:
    return f"{board_id}{SEP}{candidate_id}"


def sort_select(view: BoardView) -> StaticSelectElement:
    options = [Option(value=f"{view.board.id}{SEP}{key}", label=f"Sort: {label}") for key, label in SORTS.items()]
    chosen = next(o for o in options if o.value.endswith(SEP + view.sort))
    return StaticSelectElement(action_id="board_sort", options=options, initial_option=chosen,
                               placeholder="Sort by")


def counts_text(counts: dict[str, int]) -> str:
    order = ("invited", "started", "completed", "failed", "expired", "cancelled", "not sent")
    parts = [f"{counts[k]} {k}" for k in order if counts.get(k)]
    decided = [f"{counts[k]} {k}" for k in ("advanced", "rejected") if counts.get(k)]
    return " · ".join(parts + decided) or "no links yet"


def _decision_text(row: BoardRow) -> str:
    if row.decision is None:
        return ""
    icon = ":arrow_forward:" if row.decision.decision == "advance" else ":no_entry:"
    return f"{icon} *{DECISION_NAMES[row.decision.decision]}* by <@{row.decision.user}> {slack_date(row.decision.at)}"


def row_text(row: BoardRow, public: bool) -> str:
    icon = STATE_ICONS.get(row.voice_state, "")
    first = (f"*{row.position}. {_text(row.name, public, 80)}* · Pluto *{_score(row.pluto_score)}*"
             f"{' (' + mrkdwn_escape(row.tier) + ')' if row.tier else ''} · voice: {icon} {row.voice_state}")
    lines = [first]
    if row.numbers:
        answers = " · ".join(f"{_text(label, public, 40)} {value:g}" for label, value in row.numbers[:8])
        lines.append(f"Evaluation *{_score(row.evaluation_score)}* — {answers}")
    elif row.voice_state == "completed":
        lines.append({"pending": "_Evaluation not written yet; the board updates when it is._",
                      "error": "_Nimrobo could not evaluate this interview._",
                      "none": "_No evaluator on this interview._",
                      "missing": "_No evaluation arrived._"}.get(row.evaluation_state, "_No evaluation._"))
    if row.recommendation:
        lines.append(f"Recommendation: *{_text(row.recommendation, public, 150)}*")
    marker = "†" if row.pluto_only else ""
    tail = f"Combined *{_score(row.combined)}{marker}*"
    decision = _decision_text(row)
    lines.append(tail + (f" · {decision}" if decision else ""))
    if row.analytics_state in ("failed", "unknown"):
        lines.append(":warning: _Not saved to Pluto yet; see the thread._")
    return "\n".join(lines)


def row_actions(board_id: str, row: BoardRow) -> ActionsBlock:
    value = board_value(board_id, row.candidate_id)
    elements = [button("Details", "board_details", value)]
    if row.voice_state == "completed":
        elements.append(button("Transcript (private)", "board_transcript", value))
    if row.decision is None or row.decision.decision != "advance":
        elements.append(button("Advance", "board_advance", value, style="primary"))
    if row.decision is None or row.decision.decision != "reject":
        elements.append(button("Reject", "board_reject", value, style="danger",
                               confirm=confirm_dialog("Reject this candidate?",
                                                      "It is recorded with your name; you can undo it.",
                                                      yes="Reject")))
    if row.decision is not None:
        elements.append(button("Undo", "board_undo", value))
    return actions(*elements, block_id=f"board_row{SEP}{row.candidate_id}")


def board_message(view: BoardView, *, page: int | None = None, public: bool = True) -> Message:
    """The Screening board: both signals per candidate, sorted, paged, with its actions."""
    board = view.board
    current = paginate(view.rows, page or board.page, PER_PAGE)
    title = clip(view.filename or board.project_name or "candidates", 100)
    blocks: list[Any] = [
        header(f"Screening board · {title}"),
        context(f"Voice project *{_text(board.project_name, public)}* · {counts_text(view.counts)} · "
                f"sorted by *{view.sort_label}*"),
        ActionsBlock(block_id=f"board_tools{SEP}{board.id}", elements=[
            sort_select(view), button("Chart", "board_chart", board.id), button("Export CSV", "board_export", board.id),
            button("DM me completions", "board_dm", board.id)]),
        context(view.formula),
    ]
    grouped = view.sort == "combined" and any(not r.pluto_only for r in view.rows)
    headed = False
    for row in current.items:
        if grouped and row.pluto_only and not headed:  # the group's heading, on each page it is on
            headed = True
            blocks.append(context("*Not interviewed yet* · ranked by Pluto score until their evaluation arrives"))
        blocks += [section(row_text(row, public)), row_actions(board.id, row)]
    if not view.rows:
        blocks.append(section("No voice links yet. They appear here as soon as they are created."))
    if current.pages > 1:
        nav = []
        if current.has_prev:
            nav.append(button("◀ Previous", "board_page_prev", f"{board.id}{SEP}{current.number - 1}"))
        if current.has_next:
            nav.append(button("Next ▶", "board_page_next", f"{board.id}{SEP}{current.number + 1}"))
        blocks += [context(f"Page {current.number} of {current.pages} · {current.total} candidates"), actions(*nav)]
    names = ", ".join(f"{r.position}. {r.name}" for r in current.items[:10])
    text = f"Screening board for {view.filename or board.project_name}: {names or 'no links yet'}"
    metadata = {"event_type": EVENT_TYPE, "event_payload": {"board_id": board.id, "run_id": board.run_id,
                                                            "sort": view.sort, "page": current.number}}
    return Message(text=mask_text(text) if public else text, blocks=fit_blocks(blocks), metadata=metadata)


def details_view(view: BoardView, row: BoardRow) -> View:
    """Both signals of one candidate, privately (a modal only the presser sees)."""
    fields = [f"*Pluto final*\n{_score(row.pluto_score)}", f"*Tier*\n{mrkdwn_escape(row.tier) or '—'}",
              f"*Pluto rank*\n{row.rank if row.rank is not None else '—'}",
              f"*Voice*\n{STATE_ICONS.get(row.voice_state, '')} {row.voice_state}",
              f"*Evaluation*\n{_score(row.evaluation_score)}",
              f"*Combined*\n{_score(row.combined)}{'†' if row.pluto_only else ''}"]
    blocks: list[Any] = [header(clip(row.name, 150)), section("", fields=fields)]
    if row.answers:
        lines = [f"• *{mrkdwn_escape(str(label))}*: {mrkdwn_escape(clip(str(value), 400))}"
                 for label, value in row.answers[:20]]
        blocks.append(section("*Evaluation answers*\n" + "\n".join(lines)))
    if row.recommendation:
        blocks.append(section(f"*Recommendation*: {mrkdwn_escape(row.recommendation)}"))
    if row.summary:
        blocks.append(section(f"*Interview summary*\n{mrkdwn_escape(clip(row.summary, 2800))}"))
    decision = _decision_text(row)
    if decision:
        blocks.append(section(decision))
    if row.analytics_state:
        saved = {"saved": "saved to the candidate in Pluto", "failed": "not saved to Pluto (see the thread)",
                 "unknown": "may not have reached Pluto (see the thread)", "saving": "being saved to Pluto"}
        blocks.append(context(f"Evaluation {saved.get(row.analytics_state, row.analytics_state)}."))
    if row.session_id:
        blocks.append(context(f"Session `{row.session_id}`"))
    blocks.append(context(view.formula))
    return View(type="modal", title="Screened candidate", close="Close", blocks=fit_blocks(blocks, MAX_VIEW_BLOCKS))


def analytics_problem_message(problem: AnalyticsOutcome, public: bool = True) -> Message:
    """A save to Pluto that failed (or may not have landed), told in the board's thread, with Retry."""
    name = _text(problem.candidate_name, public)
    if problem.state == "unknown":
        what = f"I could not confirm that {name}'s interview evaluation reached Pluto."
        hint = "Retrying sends it with the same interview id."
    else:
        what = f"Saving {name}'s interview evaluation to Pluto failed."
        hint = "Nothing was saved; try again."
    error = _text(problem.error, public, 500)
    return Message(text=f"{what} {problem.error}", blocks=[
        section(f":warning: {what}\n{error}"), context(hint),
        actions(button("Retry saving to Pluto", "board_analytics_retry", problem.link_id, style="primary"))])


# -- App Home ------------------------------------------------------------------------------------
def page_value(section_key: str, page: int) -> str:
    return f"{section_key}{SEP}{page}"


def _pager(section_key: str, number: int, pages: int) -> list[Any]:
    if pages <= 1:
        return []
    nav = []
    if number > 1:
        nav.append(button("◀ Previous", f"home_page_prev_{section_key}", page_value(section_key, number - 1)))
    if number < pages:
        nav.append(button("More ▶", f"home_page_next_{section_key}", page_value(section_key, number + 1)))
    return [context(f"Page {number} of {pages}"), actions(*nav)]


def link_counts(counts: dict[str, int]) -> str:
    order = ("active", "used", "expired", "cancelled")
    keys = [k for k in order if counts.get(k)] + sorted(k for k in counts if k not in order and counts[k])
    return " · ".join(f"{counts[k]} {k}" for k in keys) or "no links"


def home_dashboard(data: Dashboard, *, pages: dict[str, int] | None = None, checks: Sequence[Any] | None = None,
                   board_urls: dict[str, str] | None = None, help_text: str = HOME_HELP,
                   settings: Sequence[Any] = (), admin: Sequence[Any] = ()) -> View:
    """The Home tab: the person's runs, boards, voice projects, finished interviews, follows, and for
    admins the doctor's checks (objects with ``name``, ``ok``, ``detail``, ``optional``).

    ``pages`` holds the page of each list (key: runs, boards, projects, finished, follows);
    ``board_urls`` the permalinks of board messages (by board id); ``admin`` the workspace's backends
    (admins only, bot/blocks/workspace_admin.py). Names and texts are masked:
    a Home tab is private, but the rule is the same everywhere.
    """
    pages = pages or {}
    urls = board_urls or {}
    blocks: list[Any] = [header("Pluto Bot · your hiring")]
    seen = f"since {slack_date(data.last_seen)}" if data.last_seen else "since your first visit"
    blocks.append(context(f"Scoring with Pluto, voice interviews with Nimrobo. New finished interviews are "
                          f"counted {seen}."))
    blocks.append(actions(button("New voice links", "home_voicelink_create", "home", style="primary"),
                          button("Refresh", "home_refresh", "home")))
    if data.empty:
        blocks += [divider(), section(
            "*Nothing here yet.* Start with a candidate file: share a CSV in a channel, mention me and say "
            "*score* (or run `/pluto score`). When the shortlist is ready, press *Voice-screen top 5* to invite "
            "the best to a voice interview; the board in the thread ranks them on both signals.")]
    blocks += _home_runs(data, pages.get("runs", 1), urls)
    blocks += _home_boards(data, pages.get("boards", 1), urls)
    blocks += _home_projects(data, pages.get("projects", 1))
    blocks += _home_finished(data, pages.get("finished", 1))
    blocks += _home_follows(data, pages.get("follows", 1))
    blocks += list(settings)
    blocks += list(admin)
    if checks is not None:
        lines = []
        for check in checks:
            icon = ":information_source:" if getattr(check, "optional", False) else \
                (":white_check_mark:" if check.ok else ":x:")
            fix = f" — fix: {check.fix}" if not check.ok and str(getattr(check, "fix", "")) else ""
            lines.append(f"{icon} *{mrkdwn_escape(check.name)}*: {mrkdwn_escape(clip(check.detail, 200))}"
                         f"{mrkdwn_escape(fix)}")
        blocks += [divider(), section("*Health checks* (admins only)\n" + "\n".join(lines[:20])),
                   actions(button("Run checks again", "home_doctor", "home"))]
    if help_text:
        blocks += [divider(), context(clip(help_text, 2900))]
    return View(type="home", blocks=fit_blocks(blocks, MAX_VIEW_BLOCKS), private_metadata=json.dumps({"pages": pages}))


def home_pages(view: dict[str, Any] | None) -> dict[str, int]:
    """The page of each list on a published Home tab (from its ``private_metadata``)."""
    try:
        pages = json.loads((view or {}).get("private_metadata") or "{}").get("pages") or {}
    except (ValueError, AttributeError):
        return {}
    return {str(k): int(v) for k, v in pages.items() if str(v).isdigit()}


def _home_runs(data: Dashboard, page: int, urls: dict[str, str]) -> list[Any]:
    if not data.runs:
        return []
    current = paginate(data.runs, page, HOME_PER_PAGE)
    blocks: list[Any] = [divider(), section(f"*Your latest scoring runs* ({current.total})")]
    for run in current.items:
        icon = RUN_ICONS.get(run.state, "")
        size = f" · {run.candidates} candidates" if run.candidates else ""
        error = f"\n_{_text(run.error, True, 200)}_" if run.error else ""
        text = (f"{icon} *{_text(run.filename, True, 80)}* · {run.state}{size} · "
                f"<#{run.channel}> · {slack_date(run.created_at)}{error}")
        accessory = None
        if run.board_id and urls.get(run.board_id):
            accessory = button("Open board", "home_open_board", run.board_id, url=urls[run.board_id])
        elif run.state == "complete":
            n, _ = screen_top_choices(DEFAULT_TOP_N, run.candidates or None)
            accessory = button(f"Voice-screen top {n}", "screen_top", screen_value(run.id, n))
        elif run.state in ("failed", "stalled"):
            accessory = button("Rescore", "pluto_retry", run.id)
        blocks.append(section(text, accessory=accessory))
    return blocks + _pager("runs", current.number, current.pages)


def _home_boards(data: Dashboard, page: int, urls: dict[str, str]) -> list[Any]:
    if not data.boards:
        return []
    current = paginate(data.boards, page, HOME_PER_PAGE)
    blocks: list[Any] = [divider(), section(f"*Your screening boards* ({current.total})")]
    for summary in current.items:
        board = summary.board
        text = (f"*{_text(summary.filename or board.project_name, True, 80)}* · "
                f"{summary.invited} invited · {summary.completed} completed · {summary.advanced} advanced · "
                f"<#{board.channel}>")
        url = urls.get(board.id)
        accessory = button("Open board", "home_open_board", board.id, url=url) if url else \
            button("Show board", "home_show_board", board.id)
        blocks.append(section(text, accessory=accessory))
    return blocks + _pager("boards", current.number, current.pages)


def _home_projects(data: Dashboard, page: int) -> list[Any]:
    active = [p for p in data.projects if p.active]
    if not active:
        return []
    current = paginate(active, page, HOME_PER_PAGE)
    blocks: list[Any] = [divider(), section(f"*Active voice projects* ({current.total})")]
    for project in current.items:
        text = f"*{_text(project.name, True, 80)}* · {link_counts(project.counts)}"
        value = project.name if project.key != "instant" else ""
        blocks.append(section(text, accessory=button("New voice link", "home_voicelink_create", value or "home")))
    return blocks + _pager("projects", current.number, current.pages)


def _home_finished(data: Dashboard, page: int) -> list[Any]:
    title = "*Interviews finished since you last looked*"
    if not data.finished:
        return [divider(), section(f"{title}\nNone yet.")] if not data.empty else []
    current = paginate(data.finished, page, HOME_PER_PAGE * 2)
    lines = []
    for item in current.items:
        icon = {"completed": ":white_check_mark:", "failed": ":x:"}.get(item.status, ":checkered_flag:")
        project = f" · {_text(item.project, True, 80)}" if item.project else ""
        evaluation = f"\n      {_text(item.evaluation, True, 200)}" if item.evaluation else ""
        lines.append(f"{icon} *{_text(item.label, True, 80)}*{project} · {item.status} · "
                     f"<#{item.channel}> · {slack_date(item.at)} · `{item.session_id}`{evaluation}")
    return [divider(), section(f"{title} ({current.total})\n" + "\n".join(lines))] + \
        _pager("finished", current.number, current.pages)


def _home_follows(data: Dashboard, page: int) -> list[Any]:
    if not data.follows:
        return []
    current = paginate(data.follows, page, HOME_PER_PAGE * 2)
    lines = []
    for follow in current.items:
        what = "project" if follow.kind == "project" else "session"
        name = f"*{_text(follow.label, True, 80)}* " if follow.label else ""
        lines.append(f"• {what} {name}`{follow.id}` → <#{follow.channel}>")
    return [divider(), section(f"*Your subscriptions* ({current.total})\n" + "\n".join(lines)),
            context("`/voicelink unsubscribe <project>` in the channel stops one.")] + \
        _pager("follows", current.number, current.pages)
