"""/voicelink watch | subscribe | unsubscribe | subscriptions (answers go privately to the person)."""

from __future__ import annotations

from bot.blocks import info_message
from bot.blocks.voice_watcher import follows_message, subscribe_reply, unsubscribe_reply, watch_reply
from handlers.commands import VOICELINK
from handlers.router import CommandRequest

NAME_ONE = ("Name a project (`/voicelink {sub} <project>`), or give this channel a default project with "
            "`/voicelink use <project>`.")


@VOICELINK.on("watch")
def watch(cmd: CommandRequest) -> None:
    """A session by id or by the participant's name (the whole rest of the line, quoted or not)."""
    outcome = cmd.one_of(lambda: cmd.services.sessions.watch(cmd.args, cmd.channel_id, cmd.user_id),
                         "voicelink_pick_watch", "Watch")
    if outcome is not None:
        cmd.reply(watch_reply(outcome))


def _project(cmd: CommandRequest, sub: str) -> str:
    """The project the command names, else the channel's default; "" (and they are asked to name one)
    when there is neither."""
    query = cmd.services.voicelinks.project_arg(cmd.args, cmd.channel_id)
    if not query:
        cmd.reply(info_message(NAME_ONE.format(sub=sub)))
    return query


@VOICELINK.on("subscribe")
def subscribe(cmd: CommandRequest) -> None:
    """``subscribe [project]``: without a name, the channel's default project."""
    query = _project(cmd, "subscribe")
    if query:
        cmd.reply(subscribe_reply(*cmd.services.sessions.subscribe(query, cmd.channel_id, cmd.user_id)))


@VOICELINK.on("unsubscribe")
def unsubscribe(cmd: CommandRequest) -> None:
    query = _project(cmd, "unsubscribe")
    if query:
        project_id, removed = cmd.services.sessions.unsubscribe(query, cmd.channel_id)
        cmd.reply(unsubscribe_reply(query, project_id, removed))


@VOICELINK.on("subscriptions")
def subscriptions(cmd: CommandRequest) -> None:
    cmd.reply(follows_message(cmd.services.sessions.follows(cmd.channel_id)))

