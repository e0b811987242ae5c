"""/voicelink create | list | cancel | projects | status."""

from __future__ import annotations

from bot.blocks import paginate
from bot.blocks.voice import cancel_confirm, create_modal, links_page, projects_page, session_message
from handlers.commands.voicelink import VOICELINK
from handlers.router import CommandRequest

LINKS_PER_PAGE = 15


@VOICELINK.on("create")
def create(cmd: CommandRequest) -> None:
    view = create_modal(cmd.channel_id, ai=cmd.services.voicelinks.ai_drafting)
    cmd.client.views_open(trigger_id=cmd.trigger_id, view=view.to_dict())


@VOICELINK.on("list")
def list_links(cmd: CommandRequest) -> None:
    links = cmd.services.voicelinks.links(cmd.args)
    cmd.reply(links_page(paginate(links, 1, LINKS_PER_PAGE), cmd.args))


@VOICELINK.on("cancel")
def cancel(cmd: CommandRequest) -> None:
    """Ask first: the confirmation carries the Cancel button (handled in handlers/actions).
    The link is named by id or by label, the whole rest of the line; several matches get a picker."""
    link = cmd.one_of(lambda: cmd.services.voicelinks.cancellable(cmd.args, cmd.user_id, cmd.out.members),
                      "voicelink_pick_cancel", "Cancel…")
    if link is not None:
        cmd.reply(cancel_confirm(link))


@VOICELINK.on("projects")
def projects(cmd: CommandRequest) -> None:
    cmd.reply(projects_page(cmd.services.voicelinks.projects()))


@VOICELINK.on("status")
def status(cmd: CommandRequest) -> None:
    """A session by id or by the participant's name (the whole rest of the line, quoted or not)."""
    sessions = cmd.services.sessions
    ref = cmd.one_of(lambda: sessions.locate(cmd.args, user=cmd.user_id), "voicelink_pick_status", "Show")
    if ref is not None:
        cmd.reply(session_message(sessions.status(ref, user=cmd.user_id), ref))

