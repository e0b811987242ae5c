"""/voicelink login | whoami | logout: a recruiter's own Nimrobo key (services/keys.py)."""

from __future__ import annotations

from bot.blocks.keys import login_modal, logout_message, whoami_message
from handlers.commands import VOICELINK
from handlers.router import CommandRequest


@VOICELINK.on("login")
def login(cmd: CommandRequest) -> None:
    """A modal, opened while the trigger is fresh; the key never travels in a command's text."""
    cmd.client.views_open(trigger_id=cmd.trigger_id, view=login_modal().to_dict())


@VOICELINK.on("whoami")
def whoami(cmd: CommandRequest) -> None:
    cmd.reply(whoami_message(cmd.services.keys.whoami(cmd.user_id)))


@VOICELINK.on("logout")
def logout(cmd: CommandRequest) -> None:
    cmd.reply(logout_message(cmd.services.keys.logout(cmd.user_id)))
