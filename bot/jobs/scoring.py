"""Drive scoring runs and keep each run's one progress message current.

The job runs every ``progress_update_seconds`` (2 s by default, inside chat.update's
rate tier) and updates a message only when its run moved. slack_sdk's retry handler
honours 429's Retry-After; if Slack still refuses, the update waits for the next period.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.blocks.pluto import done_message, failure_message, progress_message, queued_message
from bot.context import Services
from bot.scheduler import job
from handlers.scoring_flow import post, shortlist_for
from services.scoring import RunUpdate

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
        post(client, run["channel"], shortlist_for(run, services), run["thread_ts"])
        client.files_upload_v2(channel=run["channel"], thread_ts=run["thread_ts"],
                               content=scoring.export_csv(run), filename=_export_name(run["filename"]),
                               title=f"Full ranking · {run['filename']}",
                               initial_comment="The full ranking, every candidate (CSV).")


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
