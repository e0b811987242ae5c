"""/pluto forget | audit | export-person: candidate data's lifetime, for admins (bot/flows/lifecycle.py)."""

from __future__ import annotations

from bot.flows import lifecycle
from handlers.commands.pluto import PLUTO
from handlers.router import CommandRequest


@PLUTO.on("forget")
def forget(cmd: CommandRequest) -> None:
    """Privately: what the bot holds about the person, and Erase / Cancel. Nothing is erased yet."""
    cmd.reply(lifecycle.forget_question(cmd.services, cmd.user_id, cmd.args))


@PLUTO.on("audit")
def audit(cmd: CommandRequest) -> None:
    cmd.reply(lifecycle.audit(cmd.services, cmd.client, cmd.user_id, cmd.channel_id, cmd.args))


@PLUTO.on("export-person")
def export_person(cmd: CommandRequest) -> None:
    cmd.reply(lifecycle.export_person(cmd.services, cmd.client, cmd.user_id, cmd.channel_id, cmd.args))
