"""A CSV or text file of names posted with a mention that says "links": one voice link per name.

``@Pluto Bot links Backend Engineer 1 day`` + a file: the links go to the project named after "links"
(else the channel's default project, ``/voicelink use``), expiring after the preset named (default a
week). The person gets, privately, what the file holds (duplicates and empty labels left out, with
their lines) and a Create button; nothing is created before they press it. The ``app_mention``
listener is handlers/events/mentions.py's, which routes such a mention here.
"""

from __future__ import annotations

import re
from typing import Any

from slack_sdk import WebClient

from bot.blocks import error_message
from bot.context import Services
from bot.flows.voice import links_from_file
from bot.slack_out import SlackOut
from bot.work import defer

LINKS_WORD = re.compile(r"\blinks\b", re.IGNORECASE)
SCORE_WORD = re.compile(r"\bscore\b", re.IGNORECASE)
EXPIRY_WORDS = re.compile(r"\b(?:for\s+)?(?:1|one|a)\s*[-_ ]?\s*(day|week|month)\b", re.IGNORECASE)
LABEL_FILETYPES = ("csv", "text", "txt")


def wants_links(event: dict[str, Any]) -> bool:
    """A mention that asks for links (and not for scoring, which handlers/events/pluto_files.py does)."""
    text = event.get("text") or ""
    return bool(LINKS_WORD.search(text)) and not SCORE_WORD.search(text)


def parse_request(text: str) -> tuple[str, str]:
    """(the project named after "links", the expiry preset) from the mention's text."""
    text = re.sub(r"<@[A-Z0-9]+>", " ", text or "")
    match = LINKS_WORD.search(text)
    rest = text[match.end():] if match else ""
    expiry = "1_week"
    found = EXPIRY_WORDS.search(rest)
    if found:
        expiry = f"1_{found.group(1).lower()}"
        rest = rest[:found.start()] + rest[found.end():]
    rest = re.sub(r"^\s*(?:for|to|in|into)\b", " ", rest, flags=re.IGNORECASE)
    return rest.strip(" :,-\n\t"), expiry


def on_links_mention(event: dict[str, Any], client: WebClient, services: Services) -> None:
    channel, user = event["channel"], event.get("user", "")
    if not services.events.first_time(f"links:{channel}:{event['ts']}"):
        return
    out = SlackOut(client)
    files = [f for f in event.get("files") or [] if str(f.get("name", "")).lower().endswith((".csv", ".txt"))
             or f.get("filetype") in LABEL_FILETYPES]
    if not files:
        out.reply_privately(channel, user, error_message(
            "Attach a CSV or text file of names to the message that says links.",
            hint="Or use `/voicelink create`, whose form takes a file too."), event.get("thread_ts"))
        return
    project, expiry = parse_request(event.get("text") or "")
    defer(services.work, user,
          lambda: links_from_file(services, out, file=files[0], text=project, channel=channel, user=user,
                                  expiry_preset=expiry, thread_ts=event.get("thread_ts")),
          lambda m: out.reply_privately(channel, user, m, event.get("thread_ts")), "links from a file")

