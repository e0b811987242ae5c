"""/pluto room [candidate name]: an ad-hoc interview room, its Interview card in the channel."""

from __future__ import annotations

from bot.flows.interviews import start_adhoc
from handlers.commands import PLUTO
from handlers.router import CommandRequest


@PLUTO.on("room")
def room(cmd: CommandRequest) -> None:
    start_adhoc(cmd.services, cmd.out, user=cmd.user_id, channel=cmd.channel_id, candidate_name=cmd.args.strip())
