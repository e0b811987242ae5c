"""The /pluto score flow shared by its two ways in (the modal and a CSV posted with a mention).

Runs after the ack: download from Slack, check the file, post the preview and the single
progress message in the thread, and queue the run. The scheduler job
(``bot.jobs.scoring``) takes it from there.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError

from bot.blocks import Message, error_message, paginate
from bot.blocks.pluto import preview_message, progress_message, queued_message, shortlist_message
from services.http import ServiceError
from services.intake import download_slack_file
from services.pluto import read_progress

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.context import Services

log = logging.getLogger(__name__)


def post(client: WebClient, channel: str, message: Message, thread_ts: str | None = None) -> str:
    response = client.chat_postMessage(channel=channel, thread_ts=thread_ts, **message.kwargs())
    return response["ts"]


def tell_privately(client: WebClient, channel: str, user: str, message: Message, thread_ts: str | None = None) -> None:
    kwargs = message.kwargs()
    kwargs.pop("metadata", None)
    try:
        client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts, **kwargs)
    except SlackApiError:  # e.g. the bot is not in the channel: fall back to a DM
        dm = client.conversations_open(users=user)["channel"]["id"]
        client.chat_postMessage(channel=dm, **kwargs)


def start_scoring(services: Services, client: WebClient, *, file: dict[str, Any], channel: str, thread_ts: str,
                  user: str, job_description: str = "", top_n: int = 10) -> dict[str, Any] | None:
    """Check the file and queue the run; report any problem in the thread. Returns the run or None."""
    settings = services.settings
    scoring = services.scoring
    filename = file.get("name") or "candidates.csv"
    try:
        data = download_slack_file(file, token=settings.slack_bot_token.reveal(),
                                   slack_api_url=settings.slack_api_url, max_bytes=settings.max_csv_bytes)
        intake_id, report, csv_path = scoring.intake(data, filename, user=user, channel=channel)
    except ServiceError as exc:
        post(client, channel, error_message(exc.user_message), thread_ts)
        return None
    post(client, channel, preview_message(report), thread_ts)
    run = scoring.enqueue(intake_id, csv_path, filename, channel=channel, thread_ts=thread_ts, user=user,
                          job_description=job_description, top_n=top_n)
    position = scoring.position(run)
    first = queued_message(filename, position) if position else \
        progress_message(filename, read_progress({"status": "idle"}))
    ts = post(client, channel, first, thread_ts)
    scoring.set_progress_message(run["id"], ts)
    run["progress_ts"] = ts
    return run


def files_of(services: Services, client: WebClient, file_ids: list[str]) -> list[dict[str, Any]]:
    return [client.files_info(file=fid)["file"] for fid in file_ids]


def shortlist_for(run: dict[str, Any], services: Services, page: int = 1, *, metadata: bool = True) -> Message:
    candidates = services.scoring.candidates(run)
    top = candidates[: run.get("top_n") or 10]
    from bot.blocks.pluto import PER_PAGE

    return shortlist_message(run, candidates, paginate(top, page, PER_PAGE),
                             public=str(run["channel"]).startswith("C"), metadata=metadata)
