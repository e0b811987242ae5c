"""/pluto forget | audit | export-person | admin export: data's lifetime, for admins (bot/flows/lifecycle.py)."""

from __future__ import annotations

from bot.flows import lifecycle
from handlers.commands import PLUTO
from handlers.router import CommandRequest
from services.errors import BadInput


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


ADMIN_ACTIONS = {"export": "this workspace's data as a zip of CSVs, by DM"}


@PLUTO.on("admin")
def admin(cmd: CommandRequest) -> None:
    """``/pluto admin export``; any other word gets the usage line, privately."""
    action = cmd.args.split()[0].lower() if cmd.args.split() else ""
    if action != "export":
        choices = "; ".join(f"`/pluto admin {name}`: {what}" for name, what in ADMIN_ACTIONS.items())
        raise BadInput(f"I don't know `/pluto admin {cmd.args}`. Usage: {choices}.")
    cmd.reply(lifecycle.export_workspace(cmd.services, cmd.client, cmd.user_id, cmd.channel_id))
