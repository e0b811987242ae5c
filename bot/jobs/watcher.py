"""Post each completed interview to the channel that asked, once (every ``POLL_INTERVAL_SECONDS``)."""

from __future__ import annotations

import logging
from typing import Any

from bot.blocks.watcher import completed_message
from bot.context import Services
from bot.scheduler import job
from services import watcher

log = logging.getLogger(__name__)


@job("interview_watcher", seconds=lambda services: services.settings.poll_interval_seconds)
def watch_interviews(services: Services, client: Any) -> None:
    if not services.settings.nimrobo_api_key:
        return
    store = services.store
    wait = max(10.0, 4 * services.settings.poll_interval_seconds)
    for note in watcher.poll(store, services.nimrobo, wait_seconds=wait):
        if not watcher.claim(store, note.session_id, note.channel):
            continue
        response = client.chat_postMessage(channel=note.channel, thread_ts=note.thread_ts,
                                           **completed_message(note).kwargs())
        watcher.mark_posted(store, note.session_id, note.channel, response["ts"])
