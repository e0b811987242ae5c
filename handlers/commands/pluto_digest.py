"""/pluto digest HH:MM | off: the channel's daily digest (bot/flows/reminders.py posts it)."""

from __future__ import annotations

from bot.blocks import info_message
from handlers.commands import PLUTO
from handlers.router import CommandRequest


@PLUTO.on("digest")
def digest(cmd: CommandRequest) -> None:
    reminders = cmd.services.reminders
    if cmd.args.strip().lower() in ("off", "stop", "none"):
        was = reminders.digest_off(cmd.channel_id)
        cmd.reply(info_message(":no_bell: The daily digest of this channel is off." if was else
                               "This channel has no daily digest. Set one with `/pluto digest 09:00`."))
        return
    setting = reminders.set_digest(cmd.channel_id, cmd.args, cmd.user_id)
    cmd.reply(info_message(f":newspaper: This channel's digest will be posted at *{setting.at_time}* "
                           f"({setting.tz}) on business days, starting with the next one. An empty day posts "
                           "nothing. Stop it with `/pluto digest off`."))
