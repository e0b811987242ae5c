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
    """Ask first: the confirmation carries the Cancel button (handled in handlers/actions)."""
    cmd.reply(cancel_confirm(cmd.services.voicelinks.cancellable(cmd.args, cmd.user_id, cmd.out.members)))


@VOICELINK.on("projects")
def projects(cmd: CommandRequest) -> None:
    cmd.reply(projects_page(cmd.services.voicelinks.projects()))


@VOICELINK.on("status")
def status(cmd: CommandRequest) -> None:
    sessions = cmd.services.sessions
    ref = sessions.locate(cmd.args.split()[0], user=cmd.user_id)
    cmd.reply(session_message(sessions.status(ref, user=cmd.user_id), ref))

