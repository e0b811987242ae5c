"""Drive scoring runs and keep each run's one progress message current.

The job runs every ``progress_update_seconds`` (2 s by default, inside chat.update's
rate tier) and updates a message only when its run moved. slack_sdk's retry handler
honours 429's Retry-After; if Slack still refuses, the update waits for the next period.

A finished run's results (the shortlist with ``pluto_scoring_completed`` metadata, then the
CSV export) are posted exactly once through the outbox (services/outbox.py, bot/once.py):
:func:`deliver_results` posts whatever a complete run still lacks, so a run is delivered even
when the replica that saw it finish died before posting, and a post whose answer was lost is
looked up in the thread instead of being sent twice.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from bot import once
from bot.blocks.pluto import done_message, failure_message, progress_message, queued_message
from bot.context import Services
from bot.scheduler import job
from handlers.scoring_flow import shortlist_for
from services import outbox
from services.scoring import RunUpdate
from services.store import now

log = logging.getLogger(__name__)


def _update(client: Any, run: dict[str, Any], message: Any) -> bool:
    if not run.get("progress_ts"):
        return False
    try:
        client.chat_update(channel=run["channel"], ts=run["progress_ts"], **message.kwargs())
        return True
    except SlackApiError as exc:
        if exc.response.get("error") == "ratelimited":
            log.info("chat.update rate limited for run %s; will retry next period", run["id"])
            return False
        raise


def render(services: Services, client: Any, update: RunUpdate) -> None:
    run = update.run
    scoring = services.scoring
    if update.kind == "queued":
        _update(client, run, queued_message(run["filename"], update.position))
    elif update.kind == "progress" and update.snapshot is not None:
        if _update(client, run, progress_message(run["filename"], update.snapshot,
                                                 public=str(run["channel"]).startswith("C"))):
            scoring.mark_rendered(run["id"])
    elif update.kind in ("failed", "stalled"):
        _update(client, run, failure_message(run["filename"], run.get("error") or "unknown error", run["id"],
                                             stalled=update.kind == "stalled"))
    elif update.kind == "complete":
        run = scoring.get(run["id"])
        _update(client, run, done_message(run["filename"], len(update.candidates)))
        deliver(services, client, run)


def _export_name(filename: str) -> str:
    stem = filename.rsplit(".", 1)[0] or "candidates"
    return f"{stem}-ranked.csv"


@job("pluto_scoring", seconds=lambda services: services.settings.progress_update_seconds)
def drive_scoring(services: Services, client: Any) -> None:
    for update in services.scoring.tick():
        try:
            render(services, client, update)
        except Exception:
            log.exception("could not show the update of run %s", update.run.get("id"))
    deliver_results(services, client)


# -- results, exactly once --------------------------------------------------------------------
SHORTLIST, EXPORT = "pluto_scoring_completed", "pluto_export"


def deliver_results(services: Services, client: Any) -> None:
    """Post what complete runs still lack (claimed ones are reconciled after the claim timeout)."""
    for run in services.scoring.undelivered():
        if services.stopping.is_set():
            return
        try:
            deliver(services, client, run)
        except Exception:
            log.exception("could not deliver the results of run %s", run["id"])


def deliver(services: Services, client: Any, run: dict[str, Any]) -> None:
    """The shortlist, then the export, each claimed -> posted -> confirmed; stops at the first not done."""
    if _once(services, client, run, SHORTLIST, lambda: client.chat_postMessage(
            channel=run["channel"], thread_ts=run["thread_ts"], **shortlist_for(run, services).kwargs()),
            once.metadata_matches(SHORTLIST, {"run_id": run["id"]})):
        _once(services, client, run, EXPORT, lambda: _upload_export(services, client, run),
              lambda m: any(f.get("name") == _export_name(run["filename"]) for f in m.get("files") or []))


def _upload_export(services: Services, client: Any, run: dict[str, Any]) -> dict[str, Any]:
    response = client.files_upload_v2(channel=run["channel"], thread_ts=run["thread_ts"],
                                      content=services.scoring.export_csv(run), filename=_export_name(run["filename"]),
                                      title=f"Full ranking · {run['filename']}",
                                      initial_comment="The full ranking, every candidate (CSV).")
    files = response.get("files") or [{}]
    return {"ts": (files[0] or {}).get("id")}  # the file id stands in for a ts: a file message has none here


def _once(services: Services, client: Any, run: dict[str, Any], kind: str, call: Any, match: Any) -> bool:
    """True once this post is confirmed (now or earlier)."""
    store, key = services.store, f"{kind}:{run['id']}"
    row = outbox.get(store, key)
    if row is not None and row["state"] != outbox.POSTING:
        return row["state"] == outbox.POSTED
    if row is not None:  # claimed earlier and never confirmed: reconcile once it is stale
        if key in once.IN_FLIGHT or row["claimed_at"] > now() - services.settings.claim_timeout_seconds \
                or not outbox.retake(store, row):
            return False
        try:
            ts = once.find_posted(client, run["channel"], run["thread_ts"], match,
                                  oldest=row["claimed_at"] - once.LOOKBACK_SECONDS)
        except Exception as exc:  # Slack can't be asked now; the next period asks again
            log.warning("scoring: looking up %s failed (%s); will try again", key, exc)
            return False
        if ts:
            log.info("scoring: %s was already posted (%s); recorded", key, ts)
            outbox.mark_posted(store, key, ts)
            return True
        log.info("scoring: %s was never posted; posting it", key)
    elif not outbox.claim(store, key, run["channel"], run["thread_ts"]):
        return False  # another replica (or thread) has it
    sent = once.send(key, call)
    if sent.outcome == "posted":
        outbox.mark_posted(store, key, sent.ts)
        return True
    if sent.outcome == "undeliverable":
        outbox.give_up(store, key, sent.error)
    elif sent.outcome == "failed":
        outbox.release(store, key)
    return False
