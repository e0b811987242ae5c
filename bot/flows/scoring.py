"""/pluto score after the ack, from either way in (the modal, or a CSV posted with a mention),
and showing a run's progress and results (called by the ``pluto_scoring`` job).

Start: download from Slack and check the file (a refusal goes privately to the sender; nothing
is said in the channel before the file passes), then announce the run, post the preview and the
single progress message in the thread, and queue the run. The scheduler job drives the run through
:meth:`services.scoring.ScoringService.tick` and :func:`show_update` renders each change.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from slack_sdk.errors import SlackApiError

from bot import once
from bot.blocks import Message, error_message
from bot.blocks.pluto import (
    cancelled_message,
    done_message,
    failure_message,
    preview_message,
    progress_message,
    queued_message,
    root_message,
    shortlist_message,
    starting_message,
)
from bot.charts import Chart, score_distribution
from bot.context import Services
from bot.slack_out import SlackOut
from services.errors import ServiceError
from services.outbox import POSTED, POSTING
from services.records import RunUpdate, ScoringRun

log = logging.getLogger(__name__)


def start_from_modal(services: Services, out: SlackOut, *, file_id: str, channel: str, user: str,
                     job_description: str, top_n: int) -> ScoringRun | None:
    """The modal's way in: the file is checked first; a run that starts gets a root message in the
    channel and runs in its thread."""
    return start_scoring(services, out, file=out.file(file_id), channel=channel, thread_ts=None, user=user,
                         job_description=job_description, top_n=top_n)


def start_scoring(services: Services, out: SlackOut, *, file: dict[str, Any], channel: str, thread_ts: str | None,
                  user: str, job_description: str = "", top_n: int = 10) -> ScoringRun | None:
    """Check the file, then announce and queue the run. Returns the run, or None when the file was refused.

    Nothing is said in the channel before the file passes its checks: a refusal goes privately to the
    person who shared it. A file that passes is announced (a root message when there is no thread yet,
    e.g. from the modal), previewed and queued in the thread.
    """
    scoring = services.scoring
    try:
        intake = scoring.check_file(file, user=user, channel=channel)
    except ServiceError as exc:
        out.reply_privately(channel, user, error_message(exc.user_message), thread_ts)
        return None
    if thread_ts is None:
        thread_ts = out.post(channel, root_message(user, intake.filename))
    out.post(channel, preview_message(intake.report), thread_ts)
    run = scoring.enqueue(intake, channel=channel, thread_ts=thread_ts, user=user,
                          job_description=job_description, top_n=top_n)
    position = scoring.position(run)
    first = queued_message(run, position) if position else starting_message(run)
    ts = out.post(channel, first, thread_ts)
    scoring.set_progress_message(run.id, ts)
    return scoring.run(run.id)


def cancel_run(services: Services, out: SlackOut, run_id: str, user: str) -> ScoringRun:
    """Take a waiting run out of the queue for ``user`` (the service's rules); its progress message says so."""
    run = services.scoring.cancel(run_id, user)
    _update_progress(out, run, cancelled_message(run))
    return run


def show_update(services: Services, out: SlackOut, update: RunUpdate) -> None:
    """Render one change of a run: its progress message, and at the end the shortlist and the export."""
    run = update.run
    if run.state == "cancelled":  # cancelled while this tick looked at it: the cancel has the last word
        _update_progress(out, run, cancelled_message(run))
    elif update.kind == "queued":
        _update_progress(out, run, queued_message(run, update.position))
    elif update.kind == "progress" and update.snapshot is not None:
        if _update_progress(out, run, progress_message(run.filename, update.snapshot)):
            services.scoring.mark_rendered(run.id)
    elif update.kind in ("failed", "stalled"):
        _update_progress(out, run, failure_message(run))
    elif update.kind == "complete":
        _update_progress(out, run, done_message(run.filename, len(update.candidates)))
        post_results(services, out, run)


SHORTLIST, EXPORT, EXPORT_DM = "pluto_scoring_completed", "pluto_export", "pluto_export_dm"
DISTRIBUTION = "pluto_score_chart"
_charting: set[str] = set()  # runs whose chart is being drawn on the work pool in this process
_charting_lock = threading.Lock()


def post_results(services: Services, out: SlackOut, run: ScoringRun) -> None:
    """The shortlist (with metadata for other apps), then the full ranking as a CSV, in the run's thread.

    Each is claimed -> posted -> confirmed in the outbox, so it appears exactly once whatever
    happens: another replica, a restart, or a post whose answer was lost (looked up in the
    thread by its metadata or file name after the claim timeout, never sent twice).
    """
    by_name = lambda m: any(f.get("name") == run.export_name for f in m.get("files") or [])  # noqa: E731
    if not _once(services, out, run, SHORTLIST,
                 lambda: {"ts": out.post(run.channel, shortlist_message(run), run.thread_ts)},
                 once.metadata_matches(SHORTLIST, {"run_id": run.id})):
        return
    post_distribution(services, out, run)
    public = out.is_public(run.channel)
    if _once(services, out, run, EXPORT, lambda: _upload_export(services, out, run, masked=public), by_name) \
            and public:  # the full export to the person who started the run, by DM, once too
        dm = out.dm_channel(run.user)
        _once(services, out, run, EXPORT_DM, lambda: {"ts": out.upload_privately(
            run.user, services.scoring.export_csv(run), run.export_name, f"Full ranking · {run.filename}",
            comment="The full ranking with contact details. Only you can see this file.")}, by_name, where=(dm, None))


def distribution_name(run: ScoringRun) -> str:
    stem = run.filename.rsplit(".", 1)[0] or "candidates"
    return f"{stem}-score-distribution.png"


def distribution_chart(run: ScoringRun) -> Chart:
    """The run's score distribution: every final score by tier, the shortlist cut-off marked, no names."""
    scores = [(c.final_score, c.tier) for c in run.candidates if c.final_score is not None]
    return score_distribution(scores, run.top_n, run_label=run.filename)


def post_distribution(services: Services, out: SlackOut, run: ScoringRun) -> None:
    """The score distribution image in the run's thread, with the shortlist, once (claimed in the outbox).

    The chart is drawn and uploaded on the work pool, never on a listener's or the scheduler's thread;
    a run whose chart is already on its way is left alone."""
    key = f"{DISTRIBUTION}:{run.id}"
    row = services.outbox.get(key)
    if row is not None and row["state"] != POSTING:
        return
    with _charting_lock:
        if key in _charting:
            return
        _charting.add(key)
    name = distribution_name(run)
    by_name = lambda m: any(f.get("name") == name for f in m.get("files") or [])  # noqa: E731

    def upload() -> dict[str, Any]:
        chart = distribution_chart(run)
        file_id = out.upload(run.channel, chart.png, name, chart.title, thread_ts=run.thread_ts, alt_text=chart.alt_text,
                             comment=f"How the {len(run.candidates)} scores fall; the red line is the shortlist's "
                                     f"cut-off (top {min(run.top_n, len(run.candidates))}).")
        return {"ts": file_id}

    def work() -> None:
        try:
            _once(services, out, run, DISTRIBUTION, upload, by_name)
        finally:
            with _charting_lock:
                _charting.discard(key)

    try:
        services.work.submit(run.user, work, what="score chart")
    except RuntimeError:  # shutting down: the next start posts it
        with _charting_lock:
            _charting.discard(key)


def deliver_results(services: Services, out: SlackOut) -> None:
    """Post what complete runs still lack: a replica may have died right after a run finished."""
    for run in services.scoring.undelivered():
        if services.stopping.is_set():
            return
        try:
            post_results(services, out, run)
        except Exception:
            log.exception("could not deliver the results of run %s", run.id)


def _upload_export(services: Services, out: SlackOut, run: ScoringRun, *, masked: bool) -> dict[str, Any]:
    comment = f"The full ranking, contact details masked; <@{run.user}> has the complete file by DM." if masked \
        else "The full ranking, every candidate (CSV)."
    file_id = out.upload(run.channel, services.scoring.export_csv(run, masked=masked), run.export_name,
                         f"Full ranking · {run.filename}", thread_ts=run.thread_ts, comment=comment)
    return {"ts": file_id}  # the file id stands in for a ts: a file message has none here


def share_export(services: Services, out: SlackOut, run: ScoringRun, channel: str, user: str, *,
                 thread_ts: str | None = None) -> str | None:
    """The full ranking as a CSV. In a public channel: the masked export there, the full one to
    ``user`` by DM. In a private channel or a DM: the full one, where it was asked for. The channel file's id."""
    title = f"Full ranking · {run.filename}"
    if not out.is_public(channel):
        return out.upload(channel, services.scoring.export_csv(run), run.export_name, title, thread_ts=thread_ts,
                          comment="The full ranking, every candidate (CSV).")
    out.upload_privately(user, services.scoring.export_csv(run), run.export_name, title,
                         comment="The full ranking with contact details. Only you can see this file.")
    return out.upload(channel, services.scoring.export_csv(run, masked=True), run.export_name, title,
                      thread_ts=thread_ts, comment=f"The full ranking, contact details masked; <@{user}> has the "
                                                   "complete file by DM.")


def _once(services: Services, out: SlackOut, run: ScoringRun, kind: str, call: Callable[[], Any],
          match: Callable[[dict[str, Any]], bool], where: tuple[str, str | None] | None = None) -> bool:
    """True once this post is confirmed (now or earlier). ``where``: the conversation (and thread)
    the post goes to, for the look-up; the run's thread by default."""
    channel, thread_ts = where or (run.channel, run.thread_ts)
    outbox, key = services.outbox, f"{kind}:{run.id}"
    row = outbox.get(key)
    if row is not None and row["state"] != POSTING:
        return row["state"] == POSTED
    if row is not None:  # claimed earlier and never confirmed: reconcile once it is stale
        if key in once.IN_FLIGHT or not outbox.retake_if_stale(row, services.settings.claim_timeout_seconds):
            return False
        try:
            ts = once.find_posted(out.client, channel, thread_ts, match,
                                  oldest=row["claimed_at"] - once.LOOKBACK_SECONDS)
        except Exception as exc:  # Slack can't be asked now; the next period asks again
            log.warning("scoring: looking up %s failed (%s); will try again", key, exc)
            return False
        if ts:
            log.info("scoring: %s was already posted (%s); recorded", key, ts)
            outbox.mark_posted(key, ts)
            return True
        log.info("scoring: %s was never posted; posting it", key)
    elif not outbox.claim(key, channel, thread_ts):
        return False  # another replica (or thread) has it
    sent = once.send(key, call)
    if sent.outcome == "posted":
        outbox.mark_posted(key, sent.ts)
        return True
    if sent.outcome == "undeliverable":
        outbox.give_up(key, sent.error)
    elif sent.outcome == "failed":
        outbox.release(key)
    return False


def _update_progress(out: SlackOut, run: ScoringRun, message: Message) -> bool:
    """Update the run's one progress message; False when there is none yet or Slack rate-limited us."""
    if not run.progress_ts:
        return False
    try:
        out.update(run.channel, run.progress_ts, message)
        return True
    except SlackApiError as exc:
        if exc.response.get("error") == "ratelimited":
            log.info("chat.update rate limited for run %s; will retry next period", run.id)
            return False
        raise
