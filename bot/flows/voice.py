"""Delivering voice links: the links privately to their creator, the card (no URLs) to the channel."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

from bot.blocks.voice import card_message, links_dm
from bot.context import Services
from bot.slack_out import SlackOut
from services.records import BatchResult


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
    """Cards whose links changed status since the last look (the ``voice_cards`` job); the batch ids."""
    changed = services.voicelinks.refresh_statuses()
    for batch_id in changed:
        batch, lines = services.voicelinks.card(batch_id)
        if batch.card_ts:
            out.update(batch.channel, batch.card_ts, card_message(batch, lines))
    return changed
