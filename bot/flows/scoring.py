"""/pluto score after the ack, from either way in (the modal, or a CSV posted with a mention that says
"score": :func:`score_from_message`, for the ``app_mention`` router and the ``message`` listener both), and showing a run's progress and results (called by the ``pluto_scoring`` job).

Start: download from Slack and check the file (a refusal goes privately to the sender; nothing
is said in the channel before the file passes), then announce the run, post the preview and the
single progress message in the thread, and queue the run. The scheduler job drives the run through
:meth:`services.scoring.ScoringService.tick` and :func:`show_update` renders each change.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import uuid
from collections.abc import Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View

from bot.blocks import Message, error_message
from bot.blocks.pluto import (
    cancelled_message,
    done_message,
    failure_message,
    preview_message,
    progress_message,
    queued_message,
    root_message,
    score_details_modal,
    score_problem_modal,
    shortlist_message,
    starting_message,
)
from bot.charts import Chart, score_distribution
from bot.context import Services
from bot.delivery import Deliveries, after_sent
from bot.slack_out import SlackOut
from bot.work import defer
from services.errors import BotError
from services.records import RunUpdate, ScoringRun

log = logging.getLogger(__name__)
SCORE_WORD = re.compile(r"\bscore\b", re.IGNORECASE)
MAX_FILES = 3  # CSVs scored from one message


def says_score(text: str) -> bool:
    """A message that asks for scoring (the word "score")."""
    return bool(SCORE_WORD.search(text or ""))


def job_description(text: str) -> str:
    """What a mention says after "score": the job description."""
    text = re.sub(r"<@[A-Z0-9]+>", " ", text or "")
    match = SCORE_WORD.search(text)
    return text[match.end():].strip(" :,-\n") if match else ""


def score_from_message(services: Services, out: SlackOut, event: dict[str, Any], bot_user_id: str) -> None:
    """Start a run for each CSV (up to three) attached to a message that mentions the bot and says score
    (after the ack: each run starts on the work pool)."""
    text = event.get("text") or ""
    if f"<@{bot_user_id}>" not in text or not says_score(text):
        return
    channel, ts, user = event["channel"], event.get("thread_ts") or event["ts"], event.get("user", "")
    # Slack sends both app_mention and message for the same post: handle it once.
    if not services.events.first_time(f"score:{channel}:{event['ts']}"):
        return
    csvs = [f for f in event.get("files") or [] if str(f.get("name", "")).lower().endswith(".csv")
            or f.get("filetype") == "csv"]
    if not csvs:
        out.reply_privately(channel, user, error_message("Attach a CSV of candidates to the message that says score.",
                                                         hint="Or use `/pluto score` to pick a file in a form."), ts)
        return
    for file in csvs[:MAX_FILES]:
        defer(services.work, user,
              functools.partial(start_scoring, services, out, file=file, channel=channel, thread_ts=ts, user=user,
                                job_description=job_description(text)),
              lambda m: out.reply_privately(channel, user, m), "score from a message")


def start_from_modal(services: Services, out: SlackOut, *, file_id: str, channel: str, user: str,
                     job_description: str, top_n: int) -> ScoringRun | None:
    """The modal's way in: the file is checked first; a run that starts gets a root message in the
    channel and runs in its thread."""
    return start_scoring(services, out, file=out.file(file_id), channel=channel, thread_ts=None, user=user,
                         job_description=job_description, top_n=top_n)


def check_for_form(services: Services, out: SlackOut, *, external_id: str, file_id: str, channel: str,
                   filename: str) -> bool:
    """After step 1 of the score form was acked with "Checking…" (a view with ``external_id``): check the file
    as a run would (the same download and checks, nothing kept), then turn the form into step 2 (what the
    file holds; the job description and Top N) or into the problem with a way back.

    The outcome replaces the "Checking…" view by its external id (:meth:`SlackOut.show_after_ack`): it can
    only land after the ack's view, and never on a newer one (each check has its own id; the outcome
    drops it). False when that view was gone (the form closed)."""
    shown = out.show_after_ack(external_id, _checked_form(services, out, file_id, channel, filename))
    if not shown:
        log.info("the score form %s was closed before its check finished", external_id)
    return shown


def _checked_form(services: Services, out: SlackOut, file_id: str, channel: str, filename: str) -> View:
    """Step 2 for a file that passes; else the problem, said as the mention path says it."""
    try:
        report = services.scoring.inspect_file(out.file(file_id))
    except BotError as exc:
        return score_problem_modal(channel, filename, exc.user_message)
    except SlackApiError as exc:
        error = exc.response.get("error")
        log.info("the score form's file %s could not be fetched (%s)", file_id, error)
        return score_problem_modal(channel, filename, f"I couldn't fetch that file from Slack ({error}). Upload it again, or "
                                            "choose another one.")
    except Exception:
        ref = uuid.uuid4().hex[:8]
        log.exception("checking the score form's file %s crashed (ref %s)", file_id, ref)
        return score_problem_modal(channel, filename, "Something went wrong on our side while checking the file. Nothing was "
                                            f"lost; please try again. Reference: {ref}")
    return score_details_modal(channel, file_id, report)


def start_scoring(services: Services, out: SlackOut, *, file: dict[str, Any], channel: str, thread_ts: str | None,
                  user: str, job_description: str = "", top_n: int = 10,
                  on_refusal: Callable[[BotError], None] | None = None) -> ScoringRun | None:
    """Check the file, then announce and queue the run. Returns the run, or None when the file was refused.

    Nothing is said in the channel before the file passes its checks: a refusal goes privately to the
    person who shared it. A file that passes is announced (a root message when there is no thread yet,
    e.g. from the modal), previewed and queued in the thread. ``on_refusal`` hears a refusal too (a
    Workflow Builder step fails with it).
    """
    scoring = services.scoring
    try:
        intake = scoring.check_file(file, user=user, channel=channel)
    except BotError as exc:
        out.reply_privately(channel, user, error_message(exc.user_message), thread_ts)
        if on_refusal is not None:
            on_refusal(exc)
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
    _update_progress(services, out, run, cancelled_message(run))
    return run


def show_update(services: Services, out: SlackOut, update: RunUpdate) -> None:
    """Render one change of a run: its progress message, and at the end the shortlist and the export."""
    run = update.run
    if run.state == "cancelled":  # cancelled while this tick looked at it: the cancel has the last word
        _update_progress(services, out, run, cancelled_message(run))
    elif update.kind == "queued":
        _update_progress(services, out, run, queued_message(run, update.position))
    elif update.kind == "progress" and update.snapshot is not None:
        if _update_progress(services, out, run, progress_message(run.filename, update.snapshot)):
            services.scoring.mark_rendered(run.id)
    elif update.kind in ("failed", "stalled"):
        _update_progress(services, out, run, failure_message(run))
    elif update.kind == "complete":
        _update_progress(services, out, run, done_message(run.filename, len(update.candidates)))
        post_results(services, out, run)


SHORTLIST, EXPORT, EXPORT_DM = "pluto_scoring_completed", "pluto_export", "pluto_export_dm"
DISTRIBUTION = "pluto_score_chart"
_charting: set[str] = set()  # runs whose chart is being drawn on the work pool in this process
_charting_lock = threading.Lock()


def post_results(services: Services, out: SlackOut, run: ScoringRun) -> None:
    """The shortlist (with metadata for other apps), then the full ranking as a CSV, in the run's thread;
    in a public channel the export is masked there and the full one goes to the run's starter by DM.

    All three are written to the outbox in one transaction, under keys of the run (enqueueing them
    again does nothing); the sender posts them once, in this order (bot/delivery.py).
    """
    public = out.is_public(run.channel)  # asked before the transaction, not inside it
    deliveries = Deliveries(services, out)
    shortlist = shortlist_message(run)
    export = services.scoring.export_csv(run, masked=public).decode("utf-8")
    full = services.scoring.export_csv(run).decode("utf-8") if public else None
    title = f"Full ranking · {run.filename}"
    comment = f"The full ranking, contact details masked; <@{run.user}> has the complete file by DM." if public \
        else "The full ranking, every candidate (CSV)."
    with services.outbox.transaction():
        deliveries.post(f"{SHORTLIST}:{run.id}", run.channel, shortlist, run.thread_ts)
        deliveries.upload(f"{EXPORT}:{run.id}", run.channel, export, run.export_name, title,
                          thread_ts=run.thread_ts, comment=comment)
        if full is not None:
            deliveries.upload_dm(f"{EXPORT_DM}:{run.id}", run.user, full, run.export_name, title,
                                 comment="The full ranking with contact details. Only you can see this file.")
    queue_distribution(services, out, run)


def distribution_name(run: ScoringRun) -> str:
    stem = run.filename.rsplit(".", 1)[0] or "candidates"
    return f"{stem}-score-distribution.png"


def distribution_chart(run: ScoringRun) -> Chart:
    """The run's score distribution: every final score by tier, the shortlist cut-off marked, no names."""
    scores = [(c.final_score, c.tier) for c in run.candidates if c.final_score is not None]
    return score_distribution(scores, run.top_n, run_label=run.filename)


def queue_distribution(services: Services, out: SlackOut, run: ScoringRun) -> None:
    """The score distribution image, after the shortlist and the export in the run's thread, once.

    The chart is drawn on the work pool (never on a listener's or the scheduler's thread), then written
    to the outbox under the run's key like the rest of the results (enqueueing it twice does nothing;
    the sender uploads it, after the export: a channel's posts go out in order). A run whose chart is
    queued, or being drawn in this process, is left alone."""
    key = f"{DISTRIBUTION}:{run.id}"
    if services.outbox.get(key) is not None:
        return
    with _charting_lock:
        if key in _charting:
            return
        _charting.add(key)

    def draw() -> None:
        try:
            chart = distribution_chart(run)
            shown = min(run.top_n, len(run.candidates))
            Deliveries(services, out).upload(
                key, run.channel, chart.png, distribution_name(run), chart.title, thread_ts=run.thread_ts,
                alt_text=chart.alt_text,
                comment=f"How the {len(run.candidates)} scores fall; the red line is the shortlist's cut-off "
                        f"(top {shown}).")
        finally:
            with _charting_lock:
                _charting.discard(key)

    try:
        services.work.submit(run.user, draw, what="score chart")
    except RuntimeError:  # shutting down: the next start queues it
        with _charting_lock:
            _charting.discard(key)


def deliver_results(services: Services, out: SlackOut) -> None:
    """Queue the results of complete runs not yet in the outbox: a replica may have died right after a
    run finished, before it queued them."""
    for run in services.scoring.undelivered():
        if services.stopping.is_set():
            return
        try:
            post_results(services, out, run)
        except Exception:
            log.exception("could not queue the results of run %s", run.id)


def share_export(services: Services, out: SlackOut, run: ScoringRun, channel: str, user: str, *,
                 thread_ts: str | None = None) -> str | None:
    """The full ranking as a CSV. In a public channel: the masked export there, the full one to
    ``user`` by DM. In a private channel or a DM: the full one, where it was asked for. The channel file's id."""
    title = f"Full ranking · {run.filename}"
    lifecycle, audit = services.lifecycle, services.audit
    if not out.is_public(channel):
        file_id = out.upload(channel, services.scoring.export_csv(run), run.export_name, title, thread_ts=thread_ts,
                             comment="The full ranking, every candidate (CSV).")
        lifecycle.record_file(file_id, channel, "export", run_id=run.id)
        audit.record(user, "export_channel", channel=channel, delivery="channel", run_id=run.id, file_id=file_id)
        return file_id
    dm_file = out.upload_privately(user, services.scoring.export_csv(run), run.export_name, title,
                                   comment="The full ranking with contact details. Only you can see this file.")
    dm = out.dm_channel(user)
    lifecycle.record_file(dm_file, dm, "export_dm", run_id=run.id)
    audit.record(user, "export_full_dm", channel=dm, delivery="dm", run_id=run.id, file_id=dm_file)
    file_id = out.upload(channel, services.scoring.export_csv(run, masked=True), run.export_name, title,
                         thread_ts=thread_ts, comment=f"The full ranking, contact details masked; <@{user}> has the "
                                                      "complete file by DM.")
    lifecycle.record_file(file_id, channel, "export", run_id=run.id)
    return file_id


def _update_progress(services: Services, out: SlackOut, run: ScoringRun, message: Message) -> bool:
    """Show ``message`` on the run's one progress message (through the outbox, where repeated updates
    coalesce into the newest); False when there is none yet."""
    if not run.progress_ts:
        return False
    out.is_public(run.channel)  # asked (and cached) before the transaction, never with the writer lock held
    with services.outbox.transaction():  # writers are serial: the state read here is the newest
        current = services.scoring.get(run.id)
        if current is not None and current.state == "cancelled" and run.state != "cancelled":
            # a tick read the run just before someone cancelled it: its render is stale and must not
            # overwrite the cancel (the cancel renders after its state commit, so one order always wins)
            message = cancelled_message(current)
        Deliveries(services, out).update(run.channel, run.progress_ts, message)
    return True


@after_sent(EXPORT_DM)
def _full_export_sent(services: Services, out: SlackOut, row: dict[str, Any], ts: str | None) -> None:
    """The full ranking reached the run's starter by DM: a read of personal data, audited with its file."""
    run_id = row["key"].split(":", 1)[1]
    user = row["channel"]  # a DM row names the person; the DM is opened when it is sent
    services.audit.record(user, "export_full_dm", channel=out.dm_channel(user), delivery="dm", run_id=run_id,
                          file_id=ts)
