"""Everything the bot says in Slack goes out here, with the privacy rule built in.

* :meth:`SlackOut.post` / :meth:`SlackOut.update` / :meth:`SlackOut.upload`: in a conversation.
  Where the conversation is public (:meth:`SlackOut.is_public`), personal data (emails,
  phone numbers, street addresses: ``services.privacy.mask_payload``) is masked in every
  text and in the metadata first, so a caller cannot forget it.
* :meth:`SlackOut.reply_privately` (ephemeral, falling back to a DM when Slack refuses the
  ephemeral, e.g. the bot is not in the channel), :meth:`SlackOut.dm` and
  :func:`respond_privately` (a command's or click's ``response_url``): only the person sees
  them, so nothing is masked; message metadata (meant for other apps in a channel) is
  stripped.

Callers hand over a :class:`~bot.blocks.Message` from a builder in ``bot/blocks``. Bearer
secrets (voice links, room and intake links) only ever go through the private methods.
"""

from __future__ import annotations

import time
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View

from bot.blocks import (
    MAX_BUTTON_TEXT,
    MAX_FIELD_TEXT,
    MAX_HEADER_TEXT,
    MAX_MESSAGE_TEXT,
    MAX_SECTION_TEXT,
    Message,
    clip,
)
from bot.directory import directory_of
from services.privacy import mask_payload, mask_text

# The longest text each place takes: masking can lengthen a text ("a@b.co" -> "a•••@b.co"),
# so masked texts are clipped again to stay inside Slack's limits.
_LIMITS = {"header": MAX_HEADER_TEXT, "button": MAX_BUTTON_TEXT, "fields": MAX_FIELD_TEXT}


def private_kwargs(message: Message) -> dict[str, Any]:
    """A message for one person's eyes: as built, without metadata."""
    kwargs = message.kwargs()
    kwargs.pop("metadata", None)
    return kwargs


def masked_kwargs(message: Message) -> dict[str, Any]:
    """A message for a public conversation: personal data masked in every text it shows and in its metadata."""
    kwargs = mask_payload(message.kwargs())
    kwargs["text"] = clip(kwargs["text"], MAX_MESSAGE_TEXT)
    if "blocks" in kwargs:
        kwargs["blocks"] = _fit(kwargs["blocks"], MAX_SECTION_TEXT)
    return kwargs


def _fit(node: Any, limit: int) -> Any:
    """Clip every text object to the limit of the place it is in."""
    if isinstance(node, list):
        return [_fit(item, limit) for item in node]
    if not isinstance(node, dict):
        return node
    if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
        return {**node, "text": clip(node["text"], limit)}
    inner = _LIMITS.get(str(node.get("type")), limit)
    return {key: _fit(value, _LIMITS.get(key, inner)) for key, value in node.items()}


def respond_privately(respond: Respond, message: Message, *, replace: bool = False) -> None:
    """Answer through a command's or click's ``response_url``, visible only to that person."""
    respond(response_type="ephemeral", replace_original=replace, **private_kwargs(message))


class SlackOut:
    """The bot's voice in Slack, over one WebClient."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def is_public(self, channel: str) -> bool:
        """Whether ``channel`` is public: the one place this is decided, from ``conversations.info``
        (``is_private``, ``is_im``, ``is_mpim``), cached, never from the id (private channels made
        since 2021 have ``C`` ids too). When Slack can't say, it counts as public."""
        return directory_of(self.client).is_public(channel)

    def _kwargs(self, channel: str, message: Message) -> dict[str, Any]:
        return masked_kwargs(message) if self.is_public(channel) else message.kwargs()

    # -- in a conversation --------------------------------------------------------------------
    def post(self, channel: str, message: Message, thread_ts: str | None = None) -> str:
        """Post ``message`` (masked where public); the new message's ts."""
        response = self.client.chat_postMessage(channel=channel, thread_ts=thread_ts, **self._kwargs(channel, message))
        return str(response["ts"])

    def update(self, channel: str, ts: str, message: Message) -> None:
        self.client.chat_update(channel=channel, ts=ts, **self._kwargs(channel, message))

    def upload(self, channel: str, content: bytes | str, filename: str, title: str, *,
               thread_ts: str | None = None, comment: str | None = None, alt_text: str | None = None) -> str | None:
        """Share a file in ``channel``; its title, comment and alt text (an image's description for screen
        readers) are masked where public. The file's id."""
        if self.is_public(channel):
            title, comment = mask_text(title), mask_text(comment) if comment else comment
            alt_text = mask_text(alt_text) if alt_text else alt_text
        extra: dict[str, Any] = {"initial_comment": comment} if comment else {}
        if alt_text:
            extra["alt_txt"] = alt_text
        response = self.client.files_upload_v2(channel=channel, thread_ts=thread_ts, content=content,
                                               filename=filename, title=title, **extra)
        files = response.get("files") or [{}]
        return (files[0] or {}).get("id")

    # -- to one person ---------------------------------------------------------------------------
    def upload_privately(self, user: str, content: bytes | str, filename: str, title: str, *,
                         comment: str | None = None, alt_text: str | None = None) -> str | None:
        """A file only ``user`` can see: Slack has no ephemeral files, so it goes to their DM."""
        channel = self.client.conversations_open(users=user)["channel"]["id"]
        extra: dict[str, Any] = {"initial_comment": comment} if comment else {}
        if alt_text:
            extra["alt_txt"] = alt_text
        response = self.client.files_upload_v2(channel=channel, content=content, filename=filename, title=title,
                                               **extra)
        files = response.get("files") or [{}]
        return (files[0] or {}).get("id")

    def reply_privately(self, channel: str, user: str, message: Message, thread_ts: str | None = None) -> None:
        """An ephemeral message to ``user`` in ``channel``; a DM when Slack refuses the ephemeral."""
        try:
            self.client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts,
                                           **private_kwargs(message))
        except SlackApiError:  # e.g. the bot is not in the channel: fall back to a DM
            self.dm(user, message)

    # -- modals ---------------------------------------------------------------------------------
    def show_after_ack(self, external_id: str, view: View, *, within: float = 15.0) -> bool:
        """Replace the modal an ack's ``response_action`` put up with ``external_id``, once Slack shows it.

        Slack applies an ack after the bot's own calls may have landed: a ``views.update`` by view id
        could arrive first and be overwritten by the ack's older view. By ``external_id`` it is refused
        (``not_found``) until the ack's view exists, and tried again, so it always lands last. False when
        that view did not appear (or was closed) within ``within`` seconds."""
        delay, deadline = 0.05, time.monotonic() + within
        while True:
            try:
                self.client.views_update(external_id=external_id, view=view.to_dict())
                return True
            except SlackApiError as exc:
                if exc.response.get("error") != "not_found":
                    raise
            if time.monotonic() + delay > deadline:
                return False
            time.sleep(delay)
            delay = min(delay * 2, 1.0)

    def dm_channel(self, user: str) -> str:
        """The id of the bot's DM with ``user`` (``conversations.open``: the same one every time)."""
        return str(self.client.conversations_open(users=user)["channel"]["id"])

    def dm(self, user: str, message: Message) -> str:
        """A direct message to ``user``; its ts."""
        channel = self.client.conversations_open(users=user)["channel"]["id"]
        response = self.client.chat_postMessage(channel=channel, **private_kwargs(message))
        return str(response["ts"])

    # -- reading what the rules need -----------------------------------------------------------
    def members(self, channel: str) -> set[str] | None:
        """The members of ``channel`` (every page, cached briefly), or None when Slack won't say."""
        members = directory_of(self.client).members(channel)
        return members or None

    def file(self, file_id: str) -> dict[str, Any]:
        """A shared file's record (``files.info``)."""
        return dict(self.client.files_info(file=file_id)["file"])

    def thread(self, channel: str, ts: str, max_pages: int = 10) -> list[dict[str, Any]]:
        """The thread started by ``ts``, oldest first, with message metadata (``conversations.replies``)."""
        found: list[dict[str, Any]] = []
        cursor = None
        for _ in range(max_pages):
            page = self.client.conversations_replies(channel=channel, ts=ts, include_all_metadata=True,
                                                     limit=200, cursor=cursor)
            found += list(page.get("messages") or [])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        return found

    def display_name(self, user: str) -> str:
        """How ``user`` is called in the workspace (``users.info``); their id when Slack won't say."""
        try:
            info = self.client.users_info(user=user)["user"]
        except SlackApiError:
            return user
        profile = info.get("profile") or {}
        return str(profile.get("real_name") or info.get("real_name") or profile.get("display_name")
                   or info.get("name") or user)
