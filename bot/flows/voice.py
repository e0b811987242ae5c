"""Delivering voice links: the links privately to their creator, the card (no URLs) to the channel.

A create form that needs a look first (a file of names, or an interview role whose project exists)
is answered in the form itself: "Checking…", then the review (what the file left out; add to the
existing project as it is, update it first, or make a new one), then the outcome. A file of names
shared with a mention gets the same report privately, with a Create button (:func:`links_from_mention`).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View

from bot.blocks import error_message, loading_view
from bot.blocks.voice import card_message, links_dm
from bot.blocks.voice_projects import done_view, file_links_message, review_view
from bot.context import Services
from bot.delivery import Deliveries
from bot.flows.scoring import says_score
from bot.slack_out import SlackOut
from bot.work import defer
from services.errors import BotError
from services.prompts import as_dict
from services.records import BatchResult
from services.voice.forms import VoiceForm

log = logging.getLogger(__name__)
TITLE = "Create voice links"
LINKS_WORD = re.compile(r"\blinks\b", re.IGNORECASE)
EXPIRY_WORDS = re.compile(r"\b(?:for\s+)?(?:1|one|a)\s*[-_ ]?\s*(day|week|month)\b", re.IGNORECASE)
LABEL_FILETYPES = ("csv", "text", "txt")


def create_links(services: Services, out: SlackOut, form: VoiceForm, *, channel: str, user: str) -> None:
    """``/voicelink create`` submitted: the project and links at Nimrobo, then delivered (:func:`deliver`)."""
    deliver(services, out, services.voicelinks.create(form, channel=channel, creator=user))


def deliver(services: Services, out: SlackOut, result: BatchResult) -> None:
    """Links (bearer secrets) by DM to their creator; then the channel card, posted or refreshed."""
    batch = result.batch
    if result.links:
        out.dm(batch.creator, links_dm(batch, result.links))
    refresh_card(services, out, batch.id)


def refresh_card(services: Services, out: SlackOut, batch_id: str) -> None:
    """Update the batch's card, or post it if it has none (privately to the creator when the channel refuses)."""
    batch, lines = services.voicelinks.card(batch_id)
    message = card_message(batch, lines)
    if batch.card_ts:
        out.update(batch.channel, batch.card_ts, message)
        return
    try:
        services.voicelinks.set_card(batch.id, out.post(batch.channel, message))
    except SlackApiError:
        out.reply_privately(batch.channel, batch.creator, message)


def refresh_changed_cards(services: Services, out: SlackOut) -> list[str]:
    """Cards whose links changed status since the last look (the watcher job); the batch ids."""
    changed = services.voicelinks.refresh_statuses()
    deliveries = Deliveries(services, out)
    for batch_id in changed:
        batch, lines = services.voicelinks.card(batch_id)
        if batch.card_ts:  # through the outbox: paced, and coalesced with updates not yet sent
            deliveries.update(batch.channel, batch.card_ts, card_message(batch, lines))
    return changed


def open_working(client: WebClient, trigger_id: str, text: str) -> str:
    """Open a "working on it" form (right after an ack, while the trigger id is fresh); its view id, or ""."""
    try:
        return str(client.views_open(trigger_id=trigger_id, view=loading_view(TITLE, text).to_dict())["view"]["id"])
    except SlackApiError as exc:
        log.warning("could not open the working form: %s", exc.response.get("error"))
        return ""


def show(client: WebClient, view_id: str, view: View) -> bool:
    """Replace the open form with ``view``; False when there is none (it could not be opened, or was closed)."""
    if not view_id:
        return False
    try:
        client.views_update(view_id=view_id, view=view.to_dict())
    except SlackApiError as exc:
        log.info("the create form %s is gone (%s)", view_id, exc.response.get("error"))
        return False
    return True


def prepare_links(services: Services, out: SlackOut, client: WebClient, *, view_id: str, form: VoiceForm,
                  channel: str, user: str) -> None:
    """After "Checking…": read the file of names, look for the role's project; ask when there is something to
    ask, else create and say how it went, in the form."""
    voicelinks = services.voicelinks
    try:
        label_file = voicelinks.read_label_file(out.file(form.labels_file)) if form.labels_file else None
        review = voicelinks.prepare(form, channel=channel, creator=user, label_file=label_file)
    except BotError as exc:
        show(client, view_id, loading_view(TITLE, f":warning: {exc.user_message}"))
        return
    if review.needs_answer:
        if not show(client, view_id, review_view(review)):
            out.dm(user, error_message("I couldn't show you the choices for your voice links (the form was closed).",
                                       hint="Nothing was created; submit `/voicelink create` again."))
        return
    confirm_links(services, out, client, view_id=view_id, batch_id=review.batch.id, user=user)


def confirm_links(services: Services, out: SlackOut, client: WebClient, *, view_id: str, batch_id: str, user: str,
                  choice: str | None = None) -> None:
    """Create a reviewed batch as chosen; the links by DM, the card in the channel, the outcome in the form."""
    try:
        result = services.voicelinks.confirm(batch_id, user, choice)
    except BotError as exc:
        show(client, view_id, loading_view(TITLE, f":warning: {exc.user_message}"))
        return
    deliver(services, out, result)
    show(client, view_id, done_view(result))


def links_from_file(services: Services, out: SlackOut, *, file: dict[str, Any], text: str, channel: str,
                    user: str, expiry_preset: str, thread_ts: str | None = None) -> None:
    """A file of names shared with a mention: read it, then privately what it holds and a Create button."""
    voicelinks = services.voicelinks
    label_file = voicelinks.read_label_file(out.file(file["id"]) if file.get("id") else file)
    review = voicelinks.prepare_file(label_file, project_query=text, channel=channel, creator=user,
                                     expiry_preset=expiry_preset)
    out.reply_privately(channel, user, file_links_message(review), thread_ts)


# -- a file of names shared with a mention ------------------------------------------------------------
# ``@Pluto Bot links Backend Engineer 1 day`` + a file: the links go to the project named after "links"
# (else the channel's default project, ``/voicelink use``), expiring after the preset named (default a
# week). The person gets, privately, what the file holds (duplicates and empty labels left out, with
# their lines) and a Create button; nothing is created before they press it. The ``app_mention``
# listener (handlers/events/mentions.py) routes such a mention here.
def wants_links(event: dict[str, Any]) -> bool:
    """A mention that asks for links (and not for scoring: :func:`bot.flows.scoring.score_from_message`)."""
    text = event.get("text") or ""
    return bool(LINKS_WORD.search(text)) and not says_score(text)


def parse_links_request(text: str) -> tuple[str, str]:
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


def links_from_mention(services: Services, out: SlackOut, event: dict[str, Any]) -> None:
    """A mention that says links, with a file of names: :func:`links_from_file` on the work pool (once, however
    often Slack re-sends the event); without a file, privately how to attach one."""
    channel, user = event["channel"], event.get("user", "")
    if not services.events.first_time(f"links:{channel}:{event['ts']}"):
        return
    files = [f for f in event.get("files") or [] if str(f.get("name", "")).lower().endswith((".csv", ".txt"))
             or f.get("filetype") in LABEL_FILETYPES]
    if not files:
        out.reply_privately(channel, user, error_message(
            "Attach a CSV or text file of names to the message that says links.",
            hint="Or use `/voicelink create`, whose form takes a file too."), event.get("thread_ts"))
        return
    project, expiry = parse_links_request(event.get("text") or "")
    defer(services.work, user,
          lambda: links_from_file(services, out, file=files[0], text=project, channel=channel, user=user,
                                  expiry_preset=expiry, thread_ts=event.get("thread_ts")),
          lambda m: out.reply_privately(channel, user, m, event.get("thread_ts")), "links from a file")


DRAFTED_BY_AI = "Drafted with AI from your brief: review before creating."
FROM_TEMPLATE = "Filled from a template (no OpenAI key is set): edit it to fit."


def draft_sections(services: Services, style: str, values: dict[str, str]) -> tuple[dict[str, str], str]:
    """The four prompt sections drafted from a form's brief and name (AI, or a template without an OpenAI key)
    and the note saying which; when drafting fails, no sections and the reason (the form stays as typed)."""
    try:
        sections, source = services.voicelinks.draft(style or "interview", values.get("brief", ""),
                                                     values.get("name", ""))
    except BotError as exc:
        return {}, f":warning: {exc.user_message}"
    return as_dict(sections), DRAFTED_BY_AI if source == "ai" else FROM_TEMPLATE
