"""Score → voice-screen → one shortlist with both signals, without Slack.

A recruiter who scored a file can voice-screen the best candidates of that run. This service

* drafts the ``/voicelink create`` form for the top N of a run (:meth:`ScreeningService.prefill`):
  the role (from the job description, else the file name), the four prompt sections (by AI
  when configured, else the Interview template), evaluator questions drawn from the run's
  criteria, and the candidates' names as labels. Nothing is created until the recruiter submits.
* creates the links (through :class:`~services.voice.links.VoiceLinkService`) and ties each one
  to its Pluto candidate id and run (table ``screening_links``), on the run's one
  :class:`ScreeningBoard`;
* records each interview's outcome from the voice watcher (:meth:`record_outcome`, bot/jobs/voice_watcher.py),
  follows up on evaluations Nimrobo writes late (:meth:`follow_up`), and saves each completed interview's
  evaluation to the candidate in Pluto (``POST /pluto/candidates/{id}/analytics``); a failed
  save is kept until the Slack layer has reported it (:meth:`unreported_problems`);
* builds the board (:meth:`board_view`): Pluto final score and tier, voice state, the number
  answers, the recommendation, sorted by Pluto, by evaluation or combined (:data:`FORMULA`),
  with Advance / Reject decisions (who, when, undoable) and a formula-safe CSV export.

Scales. Pluto scores are 0-100. The evaluator is asked for 0-10 number answers, so the
evaluation score is the mean of the number answers times 10 (when any answer is above 10 the
answers are read as 0-100). The combined score is the mean of the two; candidates without an
evaluation (``pluto_only``) follow the evaluated ones in a group of their own, by Pluto score.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import PurePath
from typing import Any

from services.errors import BotError, Refusal
from services.lifecycle import removed_note
from services.nimrobo import NimroboError, VoiceLink
from services.pluto import Candidate, PlutoClient, PlutoError
from services.prompts import PromptSections, template
from services.records import BatchReview, ScoringRun, SessionRef, VoiceBatch, VoiceLinkRow
from services.scoring import ScoringService
from services.screening.export import board_csv
from services.screening.records import (
    DECISION_NAMES,
    DEFAULT_QUESTIONS,
    DEFAULT_SORT,
    DEFAULT_TOP_N,
    EVALUATION_WAIT_SECONDS,
    FORMULA,
    MAX_CRITERIA,
    MAX_TOP_N,
    RECOMMENDATIONS,
    SAVING_STUCK_SECONDS,
    SORTS,
    AlreadyScreened,
    AnalyticsOutcome,
    BoardNotFound,
    BoardRow,
    BoardSummary,
    BoardView,
    Decision,
    LabelsNotInRun,
    NoBoardYet,
    NothingToUndo,
    RunNotReady,
    ScreenCandidate,
    ScreeningBoard,
    ScreeningChange,
    ScreenPrefill,
    ScreenResult,
    SessionOutcome,
)
from services.screening.scores import _scale, combined_score, evaluation_score, sort_rows
from services.store import Store, now
from services.transcripts import (
    Answer,
    answer_number,
    evaluation_answers,
    number_answers,
    summary_parts,
    summary_text,
)
from services.voice.forms import VoiceForm
from services.voice.links import VoiceLinkService
from services.voice.sessions import SessionService

log = logging.getLogger(__name__)

BOARDS, LINKS, DECISIONS, DMS = "screening_boards", "screening_links", "screening_decisions", "screening_dm"


# -- pure helpers --------------------------------------------------------------------------------
_ROLE_LINE = re.compile(r"^\s*(?:job\s*title|title|role|position|opening|vacancy)\s*[:\-–—]\s*(.+)$", re.I)
_HIRING = re.compile(r"\b(?:hiring|looking for|seeking)\s+(?:an?\s+|our\s+(?:next|first)\s+)?(.+?)(?:[.!,;]|\s+to\s|"
                     r"\s+who\s|\s+with\s|$)", re.I)
_CRITERIA_HEADING = re.compile(r"requirement|qualification|must[\s-]have|what you(?:'ll)? (?:bring|need)|"
                               r"you have|skills|criteria", re.I)
_BULLET = re.compile(r"^\s*(?:[-*•▪◦]|\d+[.)])\s+(.+)$")
_NOISE = re.compile(r"[*_`#>]+")
_ROLE_HEAD = re.compile(r":|\s[-–—]\s|[–—]|[.!?](?:\s|$)")


def _clean(text: str, limit: int = 80) -> str:
    text = _NOISE.sub("", text or "").strip().strip(".:;,-–— ")
    text = re.sub(r"\s+", " ", text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def role_from(job_description: str, filename: str) -> tuple[str, str]:
    """(role, where it came from): a "Title:" line or "hiring a …" in the job description, else a short
    first line, else the file name without its extension."""
    lines = [line for line in (job_description or "").splitlines() if line.strip()]
    for line in lines[:15]:
        match = _ROLE_LINE.match(_NOISE.sub("", line))
        if match and _clean(match.group(1)):
            return _clean(match.group(1)), "job description"
    for line in lines[:5]:
        match = _HIRING.search(_NOISE.sub("", line))
        if match and 2 <= len(_clean(match.group(1))) <= 60:
            role = _clean(match.group(1))
            return role[:1].upper() + role[1:], "job description"
    if lines:
        # as a person reads a title: the first line up to its first colon or dash (or sentence end)
        head = _ROLE_HEAD.split(_NOISE.sub("", lines[0]), maxsplit=1)[0]
        words = _clean(head, 200).split()
        title = ""
        for word in words[:8]:
            if len(title) + len(word) + 1 > 60:
                break
            title = f"{title} {word}".strip()
        if title:
            return title[:1].upper() + title[1:], "job description"
    stem = PurePath(filename or "").stem
    stem = re.sub(r"[_\-.]+", " ", stem).strip()
    return (_clean(stem[:1].upper() + stem[1:]) or "Screening interview"), "file name"


def criteria_from(job_description: str, limit: int = MAX_CRITERIA) -> list[str]:
    """Bullet points under a "Requirements"-like heading of the job description (at most ``limit``)."""
    found: list[str] = []
    under = False
    for line in (job_description or "").splitlines():
        bullet = _BULLET.match(line)
        if bullet:
            if under:
                text = _clean(bullet.group(1).replace("|", "/"), 60)
                if text and text.casefold() not in (f.casefold() for f in found):
                    found.append(text)
            continue
        if line.strip():
            under = bool(_CRITERIA_HEADING.search(line)) and len(line.strip()) <= 80
    return found[:limit]


def evaluator_questions(job_description: str) -> list[str]:
    """``Label | type`` lines: up to three criteria from the job description, then the defaults."""
    lines = [f"{c} | number" for c in criteria_from(job_description)]
    return lines + [q for q in DEFAULT_QUESTIONS if q.split("|")[0].strip().casefold()
                    not in {line.split("|")[0].strip().casefold() for line in lines}]


def evaluator_prompt(role: str) -> str:
    return (f"Evaluate this screening interview for {role}. Score each number question from 0 (no evidence) to "
            "10 (excellent), from what the candidate said. Under Red flags list concerns, or write “none”. "
            "Recommend advance, hold or reject, with one sentence why.")


def common_profile(candidates: Sequence[Candidate]) -> str:
    """What the shortlist has in common: frequent titles, shared skills, years of experience."""
    if not candidates:
        return ""
    parts = [f"Shortlisted candidates: {len(candidates)}."]
    titles = Counter(c.job_title.strip() for c in candidates if c.job_title.strip())
    if titles:
        parts.append("Mostly " + ", ".join(t for t, _ in titles.most_common(3)) + ".")
    shared = shared_skills(candidates)
    if shared:
        parts.append("Shared skills: " + ", ".join(shared) + ".")
    years = [y for y in (answer_number(c.get("years_experience")) for c in candidates) if y is not None]
    if years:
        low, high = min(years), max(years)
        parts.append(f"Experience: {low:g}–{high:g} years." if low != high else f"Experience: {low:g} years.")
    return " ".join(parts)


def labels_for(candidates: Sequence[Candidate]) -> list[ScreenCandidate]:
    """A label per candidate: the name, or "Name (#rank)" when two candidates share a name."""
    counts = Counter(c.name.strip().casefold() for c in candidates)
    return [ScreenCandidate(c.id, c.name, c.name.strip() if counts[c.name.strip().casefold()] == 1
                            else f"{c.name.strip()} (#{c.rank})", c.rank, c.final_score, c.tier)
            for c in candidates]


def match_labels(pool: Sequence[Candidate], labels: Iterable[str]) -> tuple[dict[str, str], list[str]]:
    """({label: candidate id}, problems). A label is a candidate's name (unique in the run) or
    "Name (#rank)"; matching ignores case and surrounding spaces."""
    by_rank = {f"{c.name.strip()} (#{c.rank})".casefold(): c.id for c in pool}
    names = Counter(c.name.strip().casefold() for c in pool)
    by_name = {c.name.strip().casefold(): c.id for c in pool if names[c.name.strip().casefold()] == 1}
    matched: dict[str, str] = {}
    problems: list[str] = []
    seen: dict[str, str] = {}
    for label in labels:
        key = label.strip().casefold()
        candidate_id = by_rank.get(key) or by_name.get(key)
        if candidate_id is None:
            why = "several candidates have that name; add the rank" if names.get(key, 0) > 1 else \
                "not a candidate of this run"
            problems.append(f"“{label.strip()}”: {why}")
            continue
        if candidate_id in seen:
            problems.append(f"“{label.strip()}” is the same candidate as “{seen[candidate_id]}”")
            continue
        seen[candidate_id] = label.strip()
        matched[label] = candidate_id
    return matched, problems


def recommendation_of(summary: Any, answers: Sequence[Answer]) -> str:
    """The summary's recommendation, else the evaluator's "Recommendation" answer: advance, hold or reject
    when one of those words leads it, else the answer clipped."""
    raw: Any = summary_parts(summary).recommendation
    if not raw:
        raw = next((a.text for a in answers if a.label.strip().casefold().startswith("recommend")), "")
    text = str(raw or "").strip()
    first = re.split(r"[^a-z]+", text.casefold().lstrip(), maxsplit=1)[0] if text else ""
    for word in RECOMMENDATIONS:
        if first.startswith(word):
            return word
    return _clean(text, 40)


# -- the service ---------------------------------------------------------------------------------
class ScreeningService:
    """Plain inputs, typed records out; :class:`ScreeningError` for what a recruiter must read."""

    def __init__(self, store: Store, scoring: ScoringService, voicelinks: VoiceLinkService,
                 sessions: SessionService, pluto: PlutoClient, *,
                 evaluation_wait_seconds: float = EVALUATION_WAIT_SECONDS,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.scoring = scoring
        self.voicelinks = voicelinks
        self.sessions = sessions
        self.pluto = pluto
        self.evaluation_wait_seconds = evaluation_wait_seconds
        self.clock = clock

    # -- the run ---------------------------------------------------------------------------------
    def run(self, run_id: str) -> ScoringRun:
        """A finished run with ranked candidates (else :class:`RunNotReady`)."""
        run = self.scoring.get(run_id)
        if run is None:
            raise RunNotReady("That scoring run is not known here.", hint="Run `/pluto results` for the latest.")
        if run.state != "complete" or not run.results:
            raise RunNotReady("That scoring run has no ranked candidates yet.",
                              hint="Voice-screening starts from a finished shortlist.")
        return run

    def candidates(self, run_id: str) -> list[Candidate]:
        pool = self.run(run_id).candidates
        pool.sort(key=lambda c: (c.rank if c.rank is not None else 10**9, -(c.final_score or 0)))
        return pool

    @property
    def ai_drafting(self) -> bool:
        return self.voicelinks.ai_drafting

    # -- prefill ---------------------------------------------------------------------------------
    def prefill(self, run_id: str, top_n: int = DEFAULT_TOP_N, candidate_ids: Sequence[str] | None = None
                ) -> ScreenPrefill:
        """The create form for the top ``top_n`` (or the given candidates) of a run; creates nothing."""
        run = self.run(run_id)
        pool = self.candidates(run_id)
        if candidate_ids:
            wanted = set(candidate_ids)
            chosen = [c for c in pool if c.id in wanted]
            if not chosen:
                raise RunNotReady("That candidate is not part of this run.")
        else:
            top_n = max(1, min(MAX_TOP_N, int(top_n or DEFAULT_TOP_N)))
            chosen = pool[:top_n]
        jd = run.job_description or ""
        role, role_source = role_from(jd, run.filename or "")
        profile = common_profile(chosen)
        brief = "\n\n".join(p for p in (jd.strip(), profile) if p)
        sections, source, note = self._draft(role, brief, chosen)
        return ScreenPrefill(run_id=run_id, role=role, role_source=role_source, sections=sections,
                             draft_source=source, draft_note=note, eval_prompt=evaluator_prompt(role),
                             eval_questions=evaluator_questions(jd), candidates=labels_for(chosen), profile=profile,
                             brief=brief)

    def _draft(self, role: str, brief: str, chosen: Sequence[Candidate]) -> tuple[PromptSections, str, str]:
        note = ""
        if self.voicelinks.ai_drafting:
            try:
                sections, source = self.voicelinks.draft("interview", brief, role)
                return sections, source, ""
            except BotError as exc:
                log.warning("screening: AI draft failed, using the template: %s", exc)
                note = f"AI drafting failed ({exc.message}); the Interview template is filled in instead."
        sections = template("interview", role)
        focus = shared_skills(chosen)[:5]
        if focus:
            sections.guidelines += " Probe their hands-on depth in " + ", ".join(focus) + "."
        return sections, "template", note

    # -- boards ----------------------------------------------------------------------------------
    def board(self, board_id: str) -> ScreeningBoard:
        row = self.store.get(BOARDS, board_id)
        if row is None:
            note = removed_note(self.store, board_id)
            if note:
                raise BoardNotFound(note)
            raise BoardNotFound("That screening board is not known here.",
                                hint="It may belong to another installation; run `/pluto results`.")
        return ScreeningBoard.from_row(row)

    def board_for_run(self, run_id: str) -> ScreeningBoard | None:
        rows = self.store.rows(BOARDS, "run_id = ?", [run_id], limit=1)
        return ScreeningBoard.from_row(rows[0]) if rows else None

    def all_boards(self, channel: str | None = None, limit: int | None = 200) -> list[ScreeningBoard]:
        """Boards (of ``channel`` when given), newest first. Callers check access on each (its run's rules)."""
        where, params = ("channel = ?", [channel]) if channel else (None, [])
        rows = self.store.rows(BOARDS, where, params, order_by="created_at desc", limit=limit)
        return [ScreeningBoard.from_row(r) for r in rows]

    def finished_at(self, board_id: str, candidate_id: str) -> float | None:
        """When the bot first saw the candidate's latest interview finish (None: not finished)."""
        rows = self.store.rows(LINKS, "board_id = ? and candidate_id = ?", [board_id, candidate_id],
                               order_by="created_at desc", limit=1)
        return rows[0].get("finished_seen_at") if rows else None

    def boards_of(self, user: str, limit: int | None = None) -> list[ScreeningBoard]:
        rows = self.store.rows(BOARDS, "created_by = ?", [user], order_by="created_at desc", limit=limit)
        return [ScreeningBoard.from_row(r) for r in rows]

    def set_message(self, board_id: str, ts: str) -> None:
        self.store.update(BOARDS, board_id, {"message_ts": ts, "updated_at": now()})

    def set_sort(self, board_id: str, sort: str, page: int = 1) -> ScreeningBoard:
        if sort not in SORTS:
            sort = DEFAULT_SORT
        self.board(board_id)
        self.store.update(BOARDS, board_id, {"sort": sort, "page": max(1, int(page)), "updated_at": now()})
        return self.board(board_id)

    def set_page(self, board_id: str, page: int) -> ScreeningBoard:
        self.board(board_id)
        self.store.update(BOARDS, board_id, {"page": max(1, int(page)), "updated_at": now()})
        return self.board(board_id)

    def _board_for(self, run: ScoringRun, user: str, project_name: str, request: dict[str, Any]
                   ) -> tuple[ScreeningBoard, bool]:
        with self.store.transaction():
            existing = self.board_for_run(run.id)
            if existing is not None:
                return existing, False
            row: dict[str, Any] = {"id": uuid.uuid4().hex[:12], "run_id": run.id, "channel": run.channel,
                   "thread_ts": run.thread_ts, "message_ts": None, "created_by": user,
                   "project_name": project_name, "project_id": None, "request_json": request,
                   "batch_ids_json": [], "sort": DEFAULT_SORT, "page": 1, "created_at": now(), "updated_at": now()}
            self.store.insert(BOARDS, row)
            return ScreeningBoard.from_row(row), True

    # -- creating links --------------------------------------------------------------------------
    def check_labels(self, run_id: str, labels: Iterable[str]) -> list[str]:
        """Problems with the form's labels (empty when each is a distinct candidate of the run)."""
        return match_labels(self.candidates(run_id), labels)[1]

    def _screen_form(self, run_id: str, form: VoiceForm, user: str) -> tuple[ScoringRun, ScreeningBoard, bool,
                                                                               VoiceForm, list[Candidate]]:
        """Check a submitted form against the run (labels, candidates already invited); the run's board (made
        now when it is the first screening) and the form as the board's project takes it."""
        run = self.run(run_id)
        pool = self.candidates(run_id)
        matched, problems = match_labels(pool, form.labels)
        if problems:
            raise LabelsNotInRun(problems)
        request = {"prompt": form.prompt, "landing_page_title": form.landing_page_title,
                   "landing_page_info": form.landing_page_info, "time_limit_minutes": form.time_limit_minutes,
                   "evaluator": form.evaluator, "expiry_preset": form.expiry_preset}
        board, new = self._board_for(run, user, form.name, request)
        if not board.request.get("prompt"):
            self.store.update(BOARDS, board.id, {"request_json": request})
        # One screening project per run, on the Interview pattern (one link per candidate).
        form = replace(form, pattern="interview", name=board.project_name or form.name,
                       project_id=board.project_id or form.project_id)
        active = self._active_candidates(board)
        again = [label for label, cid in matched.items() if cid in active]
        if again:
            raise AlreadyScreened("Already invited: " + ", ".join(f"“{label}”" for label in again) + ".",
                                  hint="Remove them from the list; a new link is possible once theirs expired "
                                       "or the interview failed.")
        return run, board, new, form, pool

    def screen(self, run_id: str, form: VoiceForm, *, user: str) -> ScreenResult:
        """Create the submitted links on the run's board, each tied to its Pluto candidate."""
        run, board, new, form, pool = self._screen_form(run_id, form, user)
        result = self.voicelinks.create(form, channel=run.channel, creator=user, thread_ts=run.thread_ts)
        return self._on_board(board, result.batch, list(result.links), result.error, new, pool)

    def prepare(self, run_id: str, form: VoiceForm, *, user: str) -> BatchReview:
        """The Voice-screen form, kept for its creator to confirm, as ``/voicelink create`` keeps one: when the
        board has no project yet and a voice project for the role exists, :attr:`BatchReview.existing` says so
        (with the diff), and :meth:`confirm` takes the choice (as it is / update first / new). Nothing is made."""
        run, board, new, form, _ = self._screen_form(run_id, form, user)
        review = self.voicelinks.prepare(form, channel=run.channel, creator=user, thread_ts=run.thread_ts,
                                         extra={"screening_board_id": board.id, "new_board": new})
        return review

    def is_screening_batch(self, batch_id: str) -> bool:
        """Whether a kept form is a Voice-screen form (its confirmation goes through :meth:`confirm`)."""
        return bool(self.voicelinks.batch(batch_id).request.get("screening_board_id"))

    def confirm(self, batch_id: str, user: str, choice: str | None = None) -> ScreenResult:
        """Create a Voice-screen form :meth:`prepare` kept, as its creator chose, on the run's board."""
        batch = self.voicelinks.batch(batch_id)
        board = self.board(str(batch.request.get("screening_board_id") or ""))
        result = self.voicelinks.confirm(batch_id, user, choice)
        return self._on_board(board, result.batch, list(result.links), result.error,
                              bool(batch.request.get("new_board")))

    def _on_board(self, board: ScreeningBoard, batch: VoiceBatch, links: list[VoiceLink], error: Exception | None,
                  new: bool, pool: Sequence[Candidate] | None = None) -> ScreenResult:
        with self.store.transaction():
            current = self.board(board.id)
            values: dict[str, Any] = {"updated_at": now()}
            if batch.id not in current.batch_ids:
                values["batch_ids_json"] = [*current.batch_ids, batch.id]
            if batch.project_id and not current.project_id:
                values["project_id"] = batch.project_id
            self.store.update(BOARDS, board.id, values)
        tied = self._tie(self.board(board.id), pool)
        return ScreenResult(self.board(board.id), batch, links, tied, error, new)

    def screen_one(self, run_id: str, candidate_id: str, *, user: str) -> ScreenResult:
        """Add one candidate to the run's screening project (the board must have one)."""
        board = self.board_for_run(run_id)
        if board is None or not board.request.get("prompt"):
            raise NoBoardYet("This run has no screening project yet.",
                             hint="Use “Voice-screen top N” first, or screen this candidate from the form.")
        pool = self.candidates(run_id)
        candidate = next((c for c in pool if c.id == candidate_id), None)
        if candidate is None:
            raise RunNotReady("That candidate is not part of this run.")
        label = next(s.label for s in labels_for(pool) if s.candidate_id == candidate_id)
        request = board.request
        form = VoiceForm(pattern="interview", name=board.project_name, labels=[label], prompt=request["prompt"],
                         expiry_preset=request.get("expiry_preset") or "1_week",
                         time_limit_minutes=int(request.get("time_limit_minutes") or 10),
                         landing_page_title=request.get("landing_page_title") or "",
                         landing_page_info=request.get("landing_page_info") or "",
                         evaluator=request.get("evaluator"))
        return self.screen(run_id, form, user=user)

    def top_links(self, run_id: str, top_n: int) -> tuple[list[str], list[str]]:
        """(labels still to screen, link ids of those screened already) among the run's top ``top_n``:
        a candidate whose latest link is still usable or was used gets no second one."""
        top_n = max(1, min(MAX_TOP_N, int(top_n or DEFAULT_TOP_N)))
        chosen = labels_for(self.candidates(run_id)[:top_n])
        board = self.board_for_run(run_id)
        rows: dict[str, BoardRow] = {}
        if board is not None:
            self._tie(board)
            rows = {r.candidate_id: r for r in self._rows(board)}
        screened = [rows[c.candidate_id].link_id or "" for c in chosen if c.candidate_id in rows
                    and rows[c.candidate_id].voice_state in ("invited", "started", "completed")]
        todo = [c.label for c in chosen if c.candidate_id not in rows
                or rows[c.candidate_id].voice_state not in ("invited", "started", "completed")]
        return todo, [s for s in screened if s]

    def _active_candidates(self, board: ScreeningBoard) -> set[str]:
        """Candidates whose latest link is still usable or was used (no second link for them)."""
        self._tie(board)
        return {r.candidate_id for r in self._rows(board) if r.voice_state in ("invited", "started", "completed")}

    def _tie(self, board: ScreeningBoard, pool: Sequence[Candidate] | None = None) -> list[tuple[str, str]]:
        """Tie every link of the board's batches (including ones a Retry made later) to its candidate."""
        if not board.batch_ids:
            return []
        known = {r["link_id"] for r in self.store.rows(LINKS, "board_id = ?", [board.id])}
        fresh = [r for batch_id in board.batch_ids for r in self.voicelinks.links_of(batch_id) if r.id not in known]
        if not fresh:
            return []
        pool = pool if pool is not None else self.candidates(board.run_id)
        matched, _ = match_labels(pool, [r.label for r in fresh])
        names = {c.id: c.name for c in pool}
        tied = []
        for row in fresh:
            candidate_id = matched.get(row.label)
            if candidate_id is None:
                log.warning("screening: link %s (%s) matches no candidate of run %s", row.id, row.label,
                            board.run_id)
                continue
            inserted = self.store.insert_if_absent(LINKS, {
                "link_id": row.id, "board_id": board.id, "run_id": board.run_id, "candidate_id": candidate_id,
                "candidate_name": names.get(candidate_id, row.label), "label": row.label,
                "batch_id": row.batch_id, "creator": row.creator or board.created_by, "outcome": "",
                "session_id": row.session_id, "evaluation_json": None, "evaluation_state": "",
                "summary": "", "recommendation": "", "completed_at": None, "finished_seen_at": None,
                "analytics_state": "", "analytics_error": "", "analytics_reported": 0, "created_at": now(),
                "updated_at": now()})
            if inserted:
                tied.append((row.label, candidate_id))
        return tied

    def boards_for_batches(self, batch_ids: Iterable[str]) -> list[str]:
        """Boards that made any of these voice-link batches (their links changed: re-render them)."""
        wanted = set(batch_ids)
        if not wanted:
            return []
        return [row["id"] for row in self.store.rows(BOARDS, order_by="created_at")
                if wanted & set(row.get("batch_ids_json") or [])]

    def board_of_link(self, link_id: str) -> str:
        row = self.store.get(LINKS, link_id)
        if row is None:
            raise BoardNotFound("That interview is not on a screening board here.")
        return str(row["board_id"])

    def candidate_of_link(self, link_id: str) -> tuple[str, str] | None:
        """(run id, Pluto candidate id) a voice link was made for, or None."""
        row = self.store.get(LINKS, link_id)
        return (row["run_id"], row["candidate_id"]) if row else None

    # -- outcomes --------------------------------------------------------------------------------
    def _link_for_session(self, session_id: str) -> dict[str, Any] | None:
        rows = self.store.rows(LINKS, "session_id = ?", [session_id], limit=1)
        if rows:
            return rows[0]
        row = self.voicelinks.session_row(session_id)
        link = self.store.get(LINKS, row.id) if row else None
        if row is None or link is None:
            return None
        self.store.update(LINKS, row.id, {"session_id": session_id})
        return {**link, "session_id": session_id}

    def record_outcome(self, note: SessionOutcome) -> ScreeningChange | None:
        """Take a finished interview from the watcher; None when it is not a screening link or nothing
        changed. Saves the evaluation to Pluto once it is final (ready, failed, or never coming)."""
        link = self._link_for_session(note.session_id)
        if link is None:
            return None
        board = self.board(link["board_id"])
        answers = evaluation_answers(note.evaluation, _questions(board, note.questions))
        if note.status != "completed":
            state = ""
        elif note.evaluation is not None:
            state = "ready"
        else:
            state = {"pending": "pending", "error": "error", "none": "none"}.get(note.evaluation_note, "pending")
        values: dict[str, Any] = {"outcome": note.status, "evaluation_json": [a.as_json() for a in answers] if answers else None,
                  "evaluation_state": state, "summary": summary_text(note.summary),
                  "recommendation": recommendation_of(note.summary, answers), "completed_at": note.completed_at}
        same = all(link.get(k) == v for k, v in values.items())
        if same:
            return None
        if link["outcome"] == note.status and link["evaluation_state"] == "ready" and state != "ready":
            return None  # an older view of the same interview: keep what we have
        values.update(updated_at=now(), finished_seen_at=link.get("finished_seen_at") or self.clock())
        self.store.update(LINKS, link["link_id"], values)
        analytics = self._save_if_final(link["link_id"])
        return ScreeningChange(board.id, link["link_id"], link["candidate_name"], analytics,
                               finished_now=not link.get("outcome"), creator=link.get("creator") or "")

    def follow_up(self) -> list[ScreeningChange]:
        """Once per poll: read evaluations still pending, give up waiting after ``evaluation_wait_seconds``,
        save what is final and unsaved, and turn saves a crash interrupted into "unknown"."""
        changes: list[ScreeningChange] = []
        for link in self.store.rows(LINKS, "outcome = ? and evaluation_state = ?", ["completed", "pending"]):
            change = self._check_evaluation(link)
            if change is not None:
                changes.append(change)
        for link in self.store.rows(LINKS, "outcome = ? and (analytics_state = ? or analytics_state is null)",
                                    ["completed", ""]):
            outcome = self._save_if_final(link["link_id"])
            if outcome is not None:
                changes.append(ScreeningChange(link["board_id"], link["link_id"], link["candidate_name"], outcome))
        stuck_before = now() - SAVING_STUCK_SECONDS
        for link in self.store.rows(LINKS, "analytics_state = ? and updated_at < ?", ["saving", stuck_before]):
            self.store.update(LINKS, link["link_id"], {
                "analytics_state": "unknown", "analytics_reported": 0, "updated_at": now(),
                "analytics_error": "The save to Pluto was interrupted; it may or may not have landed."})
            changes.append(ScreeningChange(link["board_id"], link["link_id"], link["candidate_name"],
                                           self._outcome(self.store.get(LINKS, link["link_id"]))))
        return changes

    def _check_evaluation(self, link: dict[str, Any]) -> ScreeningChange | None:
        voice = self.voicelinks.link_row(link["link_id"])
        waited = self.clock() - (link.get("finished_seen_at") or self.clock())
        values: dict[str, Any] = {}
        if voice is not None and link.get("session_id"):
            try:
                evaluation = self.sessions.evaluation(SessionRef(voice.kind, voice.project_id, link["session_id"]),
                                                      user=voice.creator or "")  # read as the link's creator
            except NimroboError as exc:
                log.warning("screening: evaluation of session %s unreadable: %s", link["session_id"], exc)
                evaluation = None
            if evaluation is not None and evaluation.ready:
                answers = evaluation_answers(evaluation.results, _questions(self.board(link["board_id"])))
                summary: Any = link.get("summary") or ""
                values = {"evaluation_json": [a.as_json() for a in answers], "evaluation_state": "ready",
                          "recommendation": link.get("recommendation") or recommendation_of(summary, answers)}
            elif evaluation is not None and evaluation.has_error:
                values = {"evaluation_state": "error"}
        if not values and waited >= self.evaluation_wait_seconds:
            values = {"evaluation_state": "missing"}
        if not values:
            return None
        values["updated_at"] = now()
        self.store.update(LINKS, link["link_id"], values)
        return ScreeningChange(link["board_id"], link["link_id"], link["candidate_name"],
                               self._save_if_final(link["link_id"]))

    # -- saving to Pluto -------------------------------------------------------------------------
    @staticmethod
    def interview_id(link_id: str, session_id: str) -> str:
        """The same id on every try, so Pluto can tell a repeat from a second interview."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"pluto-bot:voice-screen:{link_id}:{session_id}"))

    def analytics_payload(self, link: dict[str, Any]) -> dict[str, Any]:
        answers = evaluation_answers(link.get("evaluation_json"), _questions(self.board(link["board_id"])))
        numbers = number_answers(answers)
        score = evaluation_score(numbers, _scale(numbers))
        return {"source": "nimrobo_voice_screen", "session_id": link.get("session_id"),
                "voice_link_id": link["link_id"], "run_id": link["run_id"], "completed_at": link.get("completed_at"),
                "evaluation": {a.label: a.number if a.counted else a.text for a in answers},
                "evaluation_answers": [{"question": a.label, "answer": a.text, "score": a.number if a.counted
                                        else None} for a in answers],
                "evaluation_state": link.get("evaluation_state"),
                "evaluation_score": score, "overall_score": score, "summary": link.get("summary") or "",
                "recommendation": link.get("recommendation") or ""}

    def _save_if_final(self, link_id: str) -> AnalyticsOutcome | None:
        with self.store.transaction():  # the claim: only one caller moves "" -> saving
            link = self.store.get(LINKS, link_id)
            if link is None or link["outcome"] != "completed" or (link.get("analytics_state") or "") != "":
                return None
            if link["evaluation_state"] not in ("ready", "error", "none", "missing"):
                return None
            self.store.update(LINKS, link_id, {"analytics_state": "saving", "updated_at": now()})
        return self._save(link)

    def retry_analytics(self, link_id: str) -> AnalyticsOutcome:
        """A person asked to try again after a failed or unknown save (the same interview id is sent)."""
        with self.store.transaction():
            link = self.store.get(LINKS, link_id)
            if link is None:
                raise BoardNotFound("That interview is not on a screening board here.")
            if link.get("analytics_state") in ("saved", "saving"):
                return self._outcome(link)
            self.store.update(LINKS, link_id, {"analytics_state": "saving", "updated_at": now()})
        return self._save(link)

    def _save(self, link: dict[str, Any]) -> AnalyticsOutcome:
        state, error = "saved", ""
        try:
            self.pluto.save_analytics(link["candidate_id"], self.interview_id(link["link_id"], link.get("session_id")
                                                                              or ""), self.analytics_payload(link))
        except PlutoError as exc:
            state, error = ("unknown" if exc.outcome_unknown else "failed"), exc.user_message
        except Exception as exc:  # never lose the outcome: a bug here is reported like a failure
            log.exception("screening: saving analytics of link %s", link["link_id"])
            state, error = "unknown", f"Saving to Pluto broke unexpectedly ({type(exc).__name__})."
        self.store.update(LINKS, link["link_id"], {"analytics_state": state, "analytics_error": error,
                                                   "analytics_reported": 0, "updated_at": now()})
        return self._outcome({**link, "analytics_state": state, "analytics_error": error})

    @staticmethod
    def _outcome(link: dict[str, Any] | None) -> AnalyticsOutcome:
        link = link or {}
        return AnalyticsOutcome(link.get("link_id", ""), link.get("board_id", ""), link.get("candidate_id", ""),
                                link.get("candidate_name", ""), link.get("analytics_state") or "",
                                link.get("analytics_error") or "")

    def unreported_problems(self) -> list[AnalyticsOutcome]:
        """Failed or unknown saves not yet told in their board's thread (never silently dropped)."""
        rows = self.store.rows(LINKS, "analytics_state in (?, ?) and (analytics_reported = 0 or "
                                      "analytics_reported is null)", ["failed", "unknown"], order_by="updated_at")
        return [self._outcome(r) for r in rows]

    def mark_reported(self, link_id: str) -> bool:
        """Note the problem as told; False when it already was (by another replica)."""
        return self.store.update_where(LINKS, {"analytics_reported": 1}, "link_id = ? and (analytics_reported = 0 "
                                       "or analytics_reported is null)", [link_id]) == 1

    # -- decisions -------------------------------------------------------------------------------
    def decide(self, board_id: str, candidate_id: str, decision: str, user: str) -> Decision:
        if decision not in DECISION_NAMES:
            raise Refusal("Choose Advance or Reject.")
        board = self.board(board_id)
        if candidate_id not in {r.candidate_id for r in self._rows(board)}:
            raise BoardNotFound("That candidate is not on this board.")
        at = now()
        self.store.insert(DECISIONS, {"id": uuid.uuid4().hex, "board_id": board_id, "candidate_id": candidate_id,
                                      "decision": decision, "decided_by": user, "decided_at": at,
                                      "undone_by": None, "undone_at": None})
        return Decision(decision, user, at)

    def undo(self, board_id: str, candidate_id: str, user: str) -> Decision | None:
        """Take back the latest decision; the one before it (or none) applies again."""
        with self.store.transaction():
            rows = self._decision_rows(board_id, candidate_id)
            if not rows:
                raise NothingToUndo("There is no decision to undo for that candidate.")
            self.store.update(DECISIONS, rows[0]["id"], {"undone_by": user, "undone_at": now()})
        return self.decision(board_id, candidate_id)

    def _decision_rows(self, board_id: str, candidate_id: str) -> list[dict[str, Any]]:
        return self.store.rows(DECISIONS, "board_id = ? and candidate_id = ? and undone_at is null",
                               [board_id, candidate_id], order_by="decided_at desc")

    def decision(self, board_id: str, candidate_id: str) -> Decision | None:
        rows = self._decision_rows(board_id, candidate_id)
        return Decision(rows[0]["decision"], rows[0]["decided_by"], rows[0]["decided_at"]) if rows else None

    def _decisions(self, board_id: str) -> dict[str, Decision]:
        out: dict[str, Decision] = {}
        for row in self.store.rows(DECISIONS, "board_id = ? and undone_at is null", [board_id],
                                   order_by="decided_at"):
            out[row["candidate_id"]] = Decision(row["decision"], row["decided_by"], row["decided_at"])
        return out

    # -- DMs -----------------------------------------------------------------------------------
    def set_dm(self, board_id: str, user: str, enabled: bool) -> None:
        self.board(board_id)
        self.store.upsert(DMS, {"id": f"{board_id}|{user}", "board_id": board_id, "user_id": user,
                                "enabled": int(bool(enabled)), "updated_at": now()}, pk="id")

    def dm_enabled(self, board_id: str, user: str) -> bool:
        row = self.store.get(DMS, f"{board_id}|{user}")
        return bool(row and row["enabled"])

    # -- the board ---------------------------------------------------------------------------------
    def _rows(self, board: ScreeningBoard) -> list[BoardRow]:
        links = self.store.rows(LINKS, "board_id = ?", [board.id], order_by="created_at")
        run = self.scoring.get(board.run_id)
        pluto = {c.id: c for c in (run.candidates if run else [])}
        decisions = self._decisions(board.id)
        questions = _questions(board)
        latest: dict[str, dict[str, Any]] = {}
        for link in links:  # a candidate's newest link speaks for them
            latest[link["candidate_id"]] = link
        built = []
        for candidate_id, link in latest.items():
            v = self.voicelinks.link_row(link["link_id"])
            c = pluto.get(candidate_id)
            read = evaluation_answers(link.get("evaluation_json"), questions)
            built.append((link, v, c, [(a.label, a.text) for a in read], number_answers(read)))
        scale = _scale([n for *_, numbers in built for n in numbers])
        rows = []
        for link, v, c, answers, numbers in built:
            score = evaluation_score(numbers, scale)
            pluto_score = c.final_score if c else None
            rows.append(BoardRow(
                candidate_id=link["candidate_id"], name=c.name if c else link["candidate_name"],
                email=c.email if c else None, rank=c.rank if c else None, pluto_score=pluto_score,
                tier=c.tier if c else "", voice_state=_voice_state(link, v), link_id=link["link_id"],
                session_id=(v.session_id if v else None) or link.get("session_id"),
                kind=v.kind if v else "project", project_id=(v.project_id if v else None) or board.project_id,
                creator=link.get("creator") or "",
                answers=answers, numbers=numbers, evaluation_state=link.get("evaluation_state") or "",
                evaluation_score=score, combined=combined_score(pluto_score, score), pluto_only=score is None,
                recommendation=link.get("recommendation") or "", summary=link.get("summary") or "",
                decision=decisions.get(link["candidate_id"]), analytics_state=link.get("analytics_state") or "",
                analytics_error=link.get("analytics_error") or ""))
        return rows

    def link_evaluation(self, link: dict[str, Any]) -> tuple[list[Answer], float | None]:
        """A screening link's stored answers (read by the one reader) and their evaluation score (0-100)."""
        board = self.board(link["board_id"])
        answers = evaluation_answers(link.get("evaluation_json"), _questions(board))
        numbers = number_answers(answers)
        return answers, evaluation_score(numbers, _scale(numbers))

    def board_view(self, board_id: str, sort: str | None = None) -> BoardView:
        board = self.board(board_id)
        self._tie(board)
        sort = sort if sort in SORTS else board.sort
        rows = sort_rows(self._rows(board), sort)
        counts = Counter(r.voice_state for r in rows)
        counts.update(advanced=sum(1 for r in rows if r.decision and r.decision.decision == "advance"),
                      rejected=sum(1 for r in rows if r.decision and r.decision.decision == "reject"),
                      screened=len(rows))
        labels = [str(q.get("label")) for q in board.questions if q.get("type") == "number"]
        for row in rows:
            labels += [label for label, _ in row.numbers if label not in labels]
        answered = {label for row in rows for label, _ in row.numbers}
        if answered:  # results that name a question their own way: no empty column for the evaluator's wording
            labels = [label for label in labels if label in answered]
        run = self.scoring.get(board.run_id)
        return BoardView(board, run.filename if run else "", rows, sort, FORMULA, labels, dict(counts))

    def row(self, board_id: str, candidate_id: str) -> BoardRow:
        view = self.board_view(board_id)
        for row in view.rows:
            if row.candidate_id == candidate_id:
                return row
        raise BoardNotFound("That candidate is not on this board.")

    def summaries(self, user: str, limit: int | None = None) -> list[BoardSummary]:
        out = []
        for board in self.boards_of(user, limit):
            view = self.board_view(board.id)
            out.append(BoardSummary(board, view.filename, view.counts.get("screened", 0),
                                    view.counts.get("completed", 0), view.counts.get("advanced", 0)))
        return out

    # -- export ----------------------------------------------------------------------------------
    def export_csv(self, board_id: str, sort: str | None = None, *, public: bool = True) -> bytes:
        """The board as CSV, in the board's order (services/screening/export.py)."""
        return board_csv(self.board_view(board_id, sort), public=public)


def shared_skills(candidates: Sequence[Candidate]) -> list[str]:
    """Skills at least half of the candidates list (most common first, at most eight)."""
    skills = Counter(s.strip().casefold() for c in candidates for s in dict.fromkeys(c.skills) if s.strip())
    names = {s.strip().casefold(): s.strip() for c in candidates for s in c.skills}
    threshold = max(1, len(candidates) // 2)
    return [names[s] for s, n in skills.most_common(8) if n >= threshold]


def _questions(board: ScreeningBoard, extra: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The board's evaluator questions (with their types), then any others the watcher named."""
    questions = [q for q in board.questions if isinstance(q, dict)]
    known = {str(q.get("id")) for q in questions}
    return questions + [{"id": k, "label": v} for k, v in (extra or {}).items() if k not in known]


def _voice_state(link: dict[str, Any], voice: VoiceLinkRow | None) -> str:
    if link.get("outcome") in ("completed", "failed"):
        return link["outcome"]
    if voice is None:
        return "not sent"
    if voice.session_id or voice.status == "used":
        return "started"
    if voice.status in ("expired", "cancelled"):
        return voice.status
    return "invited"


