"""Block Kit for candidate scoring. Every message stays inside Slack's limits for any N.

Builders show everything they are given; the output layer (``bot.slack_out``) masks personal
data where a conversation is public.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from slack_sdk.models.blocks import Block, InputBlock, NumberInputElement, PlainTextInputElement
from slack_sdk.models.blocks.block_elements import FileInputElement
from slack_sdk.models.views import View

from bot.blocks import (
    MAX_VIEW_BLOCKS,
    Message,
    actions,
    button,
    clip,
    confirm_dialog,
    context,
    error_message,
    header,
    loading_view,
    mrkdwn_escape,
    pager,
    paginate,
    section,
)
from bot.blocks.board import screen_one_button, screen_top_block
from bot.blocks.interviews import brief_view
from services.intake import IntakeReport
from services.interviews import InterviewRoom
from services.pluto import Candidate, PreBrief, ProgressSnapshot, Question, read_progress
from services.records import CandidateRef, ScoringRun

SCORE_MODAL = "pluto_score_modal"  # step 1: the file
SCORE_DETAILS = "pluto_score_details"  # step 2: the job description and Top N, once the file passed
SCORE_PROBLEM = "pluto_score_problem"  # the file did not pass: what is wrong, and choose another
SCORE_TITLE = "Score candidates"
MAX_TOP_N = 200
PER_PAGE = 10
BAR_WIDTH = 20


def score_modal(channel_id: str) -> View:
    """Step 1 of ``/pluto score``: the CSV only. It is checked before the form asks for anything else."""
    return View(
        type="modal", callback_id=SCORE_MODAL, title=SCORE_TITLE, submit="Next", close="Cancel",
        private_metadata=json.dumps({"channel": channel_id}),
        blocks=[
            section("Share a CSV of candidates. I check it first; then you add the job description and how many "
                    "to list, and I send it to Pluto and post the ranked shortlist in a thread in this channel."),
            InputBlock(block_id="file", label="Candidate CSV",
                       element=FileInputElement(action_id="file", filetypes=["csv"], max_files=1)),
        ],
    )


def score_checking_view(filename: str) -> View:
    """While the file is downloaded and checked (the step 1 submission's ack turns the form into this)."""
    return loading_view(SCORE_TITLE, f"Checking {clip(filename, 200)}…")


def top_n_bound(rows: int) -> int:
    """The most a shortlist can list: every candidate of the file, within Pluto's limit."""
    return max(1, min(rows, MAX_TOP_N))


def columns_text(columns: list[str], limit: int = 30) -> str:
    """A file's columns as code, the first ``limit`` of them and how many more."""
    shown = ", ".join(f"`{mrkdwn_escape(c)}`" for c in columns[:limit])
    return shown + (f" and {len(columns) - limit} more" if len(columns) > limit else "")


def score_details_modal(channel_id: str, file_id: str, report: IntakeReport, top_n: int = 10) -> View:
    """Step 2, once the file passed: what it holds, then the job description and Top N (``top_n`` by default,
    at most the number of candidates). Submitting starts the run."""
    bound = top_n_bound(report.rows)
    people = f"{report.rows} candidate{'s' if report.rows != 1 else ''}"
    blocks: list[Block] = [
        section(clip(f":white_check_mark: *{mrkdwn_escape(report.filename)}*: {people}, columns "
                     f"{columns_text(report.columns)}. Names from `{mrkdwn_escape(report.name_column)}`.", 3000)),
    ]
    if report.warnings:
        blocks.append(context(clip(":warning: " + "; ".join(report.warnings), 3000)))
    blocks += [
        InputBlock(block_id="jd", label="Job description", optional=True,
                   element=PlainTextInputElement(action_id="jd", multiline=True, max_length=3000,
                                                 placeholder="Paste the job description (optional)")),
        InputBlock(block_id="top_n", label="Top N to show", optional=True,
                   hint=f"1 to {bound}: the file has {people}.",
                   element=NumberInputElement(action_id="top_n", is_decimal_allowed=False,
                                              initial_value=str(max(1, min(top_n, bound))), min_value="1",
                                              max_value=str(bound))),
    ]
    return View(type="modal", callback_id=SCORE_DETAILS, title=SCORE_TITLE, submit="Score", close="Cancel",
                private_metadata=json.dumps({"channel": channel_id, "file": file_id, "name": report.filename,
                                             "rows": report.rows}),
                blocks=blocks)


def score_problem_modal(channel_id: str, filename: str, problem: str) -> View:
    """The file did not pass (or could not be fetched): the reason, plainly, and a way back to step 1."""
    return View(type="modal", callback_id=SCORE_PROBLEM, title=SCORE_TITLE, submit="Choose another file",
                close="Close", private_metadata=json.dumps({"channel": channel_id}),
                blocks=[section(clip(f":warning: *{mrkdwn_escape(clip(filename, 200))}* · {problem}", 3000)),
                        context("Nothing was sent to Pluto. Choose another file, or close this form.")])


def _fmt(score: float | None) -> str:
    return "–" if score is None else f"{score:.0f}"


def root_message(user: str, filename: str) -> Message:
    text = f"📄 <@{user}> shared *{mrkdwn_escape(filename)}* for scoring. Updates follow in the thread."
    return Message(text=text, blocks=[section(text)])


def preview_message(report: IntakeReport) -> Message:
    columns = columns_text(report.columns)
    lines = [f"*{report.rows}* candidate rows found in *{mrkdwn_escape(report.filename)}* "
             f"({report.encoding}, {report.delimiter_name}-separated).", f"Columns: {columns}",
             f"Names from: `{report.name_column}`"]
    blocks: list[Block] = [section("\n".join(lines))]
    if report.warnings:
        blocks.append(context(":warning: " + "; ".join(report.warnings)))
    return Message(text=f"{report.rows} candidates found; sending to Pluto.", blocks=blocks)


def progress_bar(percent: int) -> str:
    filled = round(BAR_WIDTH * max(0, min(100, percent)) / 100)
    return "█" * filled + "░" * (BAR_WIDTH - filled) + f" {percent}%"


def queue_place(position: int) -> str:
    """Where a waiting run stands: "next" (nothing ahead), else its place in the line."""
    if position <= 0:
        return "next"
    return f"queued, position {position} ({position} {'run' if position == 1 else 'runs'} ahead)"


def cancel_button(run: ScoringRun) -> Any:
    """Cancel a run that waits in the queue; Slack asks first."""
    return button("Cancel run", "pluto_cancel", run.id, style="danger", confirm=confirm_dialog(
        "Cancel this run?", f"*{mrkdwn_escape(clip(run.filename, 100))}* leaves the queue and is never sent to "
                            "Pluto.", yes="Cancel run", no="Keep it"))


def queued_message(run: ScoringRun, position: int) -> Message:
    """The run's progress message while it waits; ``position`` runs are ahead of it (0: it is next)."""
    name = f"*{mrkdwn_escape(run.filename)}*"
    if position <= 0:
        text = f"⏳ You're next: {name} starts as soon as Pluto is free (it scores one file at a time)."
        fallback = f"{run.filename}: you're next"
    else:
        text = f"⏳ {name} is {queue_place(position)}: Pluto scores one file at a time."
        fallback = f"{run.filename}: queued, position {position}"
    return Message(text=fallback, blocks=[section(text), actions(cancel_button(run))])


def cancelled_message(run: ScoringRun) -> Message:
    who = f" by <@{run.cancelled_by}>" if run.cancelled_by else ""
    text = f":heavy_multiplication_x: Scoring of *{mrkdwn_escape(run.filename)}* was cancelled{who} before it " \
           "reached Pluto. Nothing was scored."
    return Message(text=f"Scoring of {run.filename} was cancelled", blocks=[section(text)])


def cancel_prompt(run: ScoringRun, position: int) -> Message:
    """``/pluto cancel``: what would be cancelled, with the button (for the person who asked only)."""
    name = f"*{mrkdwn_escape(run.filename)}* (from <@{run.user}>, {queue_place(position)})"
    return Message(text=f"Cancel scoring of {run.filename}?", blocks=[
        section(f"Cancel the scoring of {name}? It leaves the queue and is never sent to Pluto."),
        actions(cancel_button(run))])


def progress_message(filename: str, snap: ProgressSnapshot) -> Message:
    phase = {"extracting": "Extracting candidate data", "waiting_confirmation": "Extraction done",
             "scoring": "AI scoring", "complete": "Done", "idle": "Starting"}.get(snap.status, snap.phase)
    blocks: list[Block] = [section(f"*{phase}* · {mrkdwn_escape(filename)}\n`{progress_bar(snap.percent)}`\n{snap.label}")]
    if snap.top_preview:
        top = " · ".join(f"{i + 1}. {mrkdwn_escape(n)} ({_fmt(s)})" for i, (n, s) in enumerate(snap.top_preview[:5]))
        blocks.append(context(f"Top so far: {top}"))
    return Message(text=f"{phase}: {snap.label} ({snap.percent}%)", blocks=blocks)


def starting_message(run: ScoringRun) -> Message:
    """The progress message before Pluto has said anything: the run is next, and can still be cancelled."""
    message = progress_message(run.filename, read_progress({"status": "idle"}))
    return Message(text=message.text, blocks=[*message.blocks, actions(cancel_button(run))])


def failure_message(run: ScoringRun) -> Message:
    title = "Scoring stalled" if run.state == "stalled" else "Scoring failed"
    error = run.error or "unknown error"
    return Message(text=f"{title}: {error}", blocks=[
        section(f":x: *{title}* · {mrkdwn_escape(run.filename)}\n{mrkdwn_escape(error)}"),
        actions(button("Retry", "pluto_retry", run.id, style="primary")),
    ])


def done_message(filename: str, count: int) -> Message:
    return Message(text=f"Scored {count} candidates.", blocks=[
        section(f":white_check_mark: *Done* · {mrkdwn_escape(filename)}\n`{progress_bar(100)}`\n"
                f"{count} candidates ranked; the shortlist is below.")])


def interviewed_line(room: InterviewRoom | None) -> str:
    """" · ✅ interviewed 72 (Hire)" for a candidate whose interview was analyzed; else nothing."""
    if room is None:
        return ""
    rec = f" ({mrkdwn_escape(room.recommendation)})" if room.recommendation else ""
    return f" · :white_check_mark: *interviewed* {_fmt(room.score)}{rec}"


def _candidate_rows(run_id: str, c: Candidate, interviewed: InterviewRoom | None = None) -> list[Any]:
    summary = c.one_line_summary or c.job_title or ""
    text = (f"*#{c.rank} {mrkdwn_escape(c.name)}* — *{_fmt(c.final_score)}* final · AI {_fmt(c.ai_score)} · "
            f"algo {_fmt(c.algo_score)} · {c.tier or 'untiered'}{interviewed_line(interviewed)}\n"
            f"{mrkdwn_escape(clip(summary, 300))}")
    value = CandidateRef(run_id, c.id).to_value()
    return [section(text), actions(
        button("Details", "pluto_details", value), button("Questions", "pluto_questions", value),
        button("Pre-brief", "pluto_prebrief", value), button("Intake link", "pluto_intake", value),
        button("Voice intake", "pluto_voice_intake", value), button("Start interview", "pluto_interview", value),
        screen_one_button(run_id, c.id))]


def shortlist_page_of(run: ScoringRun, candidate_id: str) -> int:
    """The shortlist page a candidate is on (1 when they are not in the top N)."""
    top = [c.id for c in run.candidates[: run.top_n]]
    return top.index(candidate_id) // PER_PAGE + 1 if candidate_id in top else 1


def shortlist_message(run: ScoringRun, page_number: int = 1, *, metadata: bool = True,
                      interviewed: Mapping[str, InterviewRoom] | None = None) -> Message:
    """One page of the top N: two blocks a candidate, ten a page, so ≤ 26 blocks whatever N is.
    ``interviewed``: the analyzed interview of each candidate that has one (shown on their card)."""
    candidates = run.candidates
    top = candidates[: run.top_n]
    page = paginate(top, page_number, PER_PAGE)
    blocks: list[Any] = [header(f"Shortlist · {clip(run.filename, 100)}"),
                         context(f"Top {len(top)} of {len(candidates)} ranked by final score. "
                                 "The full ranking is attached as a CSV."),
                         screen_top_block(run.id, default=len(top), total=len(candidates))]
    for c in page.items:
        blocks += _candidate_rows(run.id, c, (interviewed or {}).get(c.id))
    blocks += pager(page, "pluto_page", run.id)
    text = f"Shortlist for {run.filename}: " + ", ".join(f"#{c.rank} {c.name}" for c in page.items[:10])
    meta = None
    if metadata:
        meta = {"event_type": "pluto_scoring_completed",
                "event_payload": {"run_id": run.id, "filename": run.filename, "candidates": len(candidates),
                                  "top": [{"id": c.id, "rank": c.rank, "final_score": c.final_score}
                                          for c in candidates[:10]]}}
    return Message(text=text, blocks=blocks, metadata=meta)


def _bullets(items: list[Any], limit: int = 10) -> str:
    lines = []
    for item in items[:limit]:
        if isinstance(item, dict):
            item = " — ".join(str(v) for v in item.values() if v not in (None, ""))
        lines.append(f"• {mrkdwn_escape(str(item))}")
    return "\n".join(lines) or "—"


def details_view(c: Candidate) -> View:
    raw = c.raw
    fields = [f"*Final*\n{_fmt(c.final_score)}", f"*AI*\n{_fmt(c.ai_score)}", f"*Algo*\n{_fmt(c.algo_score)}",
              f"*Tier*\n{c.tier or '—'}", f"*Title*\n{mrkdwn_escape(c.job_title) or '—'}",
              f"*Company*\n{mrkdwn_escape(c.current_company) or '—'}",
              f"*Email*\n{mrkdwn_escape(c.email or '—')}", f"*Experience*\n{raw.get('years_experience') or '—'} years"]
    if c.interviewed:
        fields.append(f"*Interview*\ninterviewed · {_fmt(c.interview_score)}"
                      + (f" · {mrkdwn_escape(c.recommendation)}" if c.recommendation else ""))
    blocks: list[Any] = [header(clip(c.name, 150)), section("", fields=fields)]
    for label, key in (("Summary", "bio_summary"), ("Reasoning", "reasoning")):
        if raw.get(key):
            blocks.append(section(f"*{label}*\n{mrkdwn_escape(str(raw[key]))}"))
    for label, key in (("Skills", "skills"), ("Pros", "pros"), ("Cons", "cons"), ("Red flags", "red_flags"),
                       ("Missing (required)", "missing_required")):
        value = raw.get(key)
        if value:
            items = value if isinstance(value, list) else str(value).split("|")
            blocks.append(section(f"*{label}*\n{_bullets(items, 15)}"))
    note = raw.get("_stored_note")
    blocks.append(context(f":information_source: {note} Only you can see this view." if note
                          else "Only you can see this view."))
    return View(type="modal", title="Candidate", close="Close", blocks=blocks[:MAX_VIEW_BLOCKS])


def prebrief_view(brief: PreBrief) -> View:
    return brief_view(brief, "Pluto's pre-interview brief for this candidate.", title="Pre-brief",
                      modal_title="Pre-interview brief")


def questions_message(name: str, questions: list[Question]) -> Message:
    lines = [f"{i + 1}. *{mrkdwn_escape(q.question)}*" + (f"\n    _{mrkdwn_escape(q.purpose)}_" if q.purpose else "")
             for i, q in enumerate(questions[:20])]
    return Message(text=f"Interview questions for {name}", blocks=[
        section(f"*Interview questions for {mrkdwn_escape(name)}*"), section("\n".join(lines) or "No questions.")])


def spinner_message(text: str) -> Message:
    return Message(text=text, blocks=[section(f":hourglass_flowing_sand: {text}")])


def pick_candidate_message(run_id: str, matches: list[Candidate]) -> Message:
    blocks: list[Any] = [section("Several candidates match. Pick one:")]
    for c in matches[:10]:
        blocks.append(section(f"*#{c.rank} {mrkdwn_escape(c.name)}* · {_fmt(c.final_score)} · {c.tier}",
                              accessory=button("Details", "pluto_details", CandidateRef(run_id, c.id).to_value())))
    return Message(text="Several candidates match.", blocks=blocks)


def candidate_card(run_id: str, c: Candidate, interviewed: InterviewRoom | None = None) -> Message:
    return Message(text=f"#{c.rank} {c.name}", blocks=_candidate_rows(run_id, c, interviewed))


def no_candidate_message(query: str) -> Message:
    """The same words whether the name is in no shortlist or only in ones the person may not see."""
    return error_message(f"No candidate matching “{query}” in the shortlists you can see.",
                         hint="Try part of the name, or `/pluto results` to see the shortlist.")


def status_message(active: list[tuple[ScoringRun, int]], latest: ScoringRun | None, *, others: int = 0) -> Message:
    """``active``: runs the person may see; ``others``: how many more are queued or running elsewhere (not
    named: they belong to channels the person is not in)."""
    elsewhere = f" {others} other run{'s' if others != 1 else ''} in channels you're not in." if others else ""
    if not active:
        text = "No scoring run of yours is in progress." if others else "No scoring run is in progress."
        if latest:
            text += f" The last one was *{mrkdwn_escape(latest.filename)}* ({latest.state})."
        text += elsewhere
        return Message(text=text, blocks=[section(text)])
    lines = []
    for run, position in active:
        where = "running now" if run.state != "queued" else queue_place(position)
        lines.append(f"• *{mrkdwn_escape(run.filename)}* from <@{run.user}> in <#{run.channel}> — {where}")
    blocks: list[Any] = [section("*Scoring runs*\n" + "\n".join(lines[:40]) + (f"\n_Also queued or running:_{elsewhere}"
                                                                                if others else ""))]
    if any(run.state == "queued" for run, _ in active):
        blocks.append(context("`/pluto cancel <file>` takes a waiting run out of the queue. A run Pluto has "
                              "started can't be stopped: Pluto has no cancel call."))
    return Message(text="Scoring runs", blocks=blocks)

