"""/voicelink watch | subscribe | unsubscribe | subscriptions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers.commands.voicelink import VOICELINK
from handlers.commands.voicelink_manage import locate_session
from handlers.router import CommandRequest
from services import watcher

if TYPE_CHECKING:
    from slack_bolt import App

    from bot.context import Services


@VOICELINK.on("watch")
def watch(cmd: CommandRequest) -> None:
    session_id = cmd.args.split()[0]
    value, label = locate_session(cmd.services, session_id)
    kind, project_id, _ = value.split("|")
    watcher.watch(cmd.services.store, session_id, cmd.channel_id, cmd.user_id, kind, project_id or None, label)
    cmd.reply(f":eyes: I'll post the results of `{session_id}`{' (' + label + ')' if label else ''} here when the "
              "interview completes.")


@VOICELINK.on("subscribe")
def subscribe(cmd: CommandRequest) -> None:
    project = cmd.services.nimrobo.get_project(cmd.args.split()[0])  # 404 -> a clear error
    if watcher.subscribe(cmd.services.store, project.id, cmd.channel_id, cmd.user_id):
        cmd.reply(f":bell: Every completed interview of *{project.name}* will be posted here.")
    else:
        cmd.reply(f"This channel already follows *{project.name}*.")


@VOICELINK.on("unsubscribe")
def unsubscribe(cmd: CommandRequest) -> None:
    project_id = cmd.args.split()[0]
    if watcher.unsubscribe(cmd.services.store, project_id, cmd.channel_id):
        cmd.reply(f"This channel no longer follows `{project_id}`.")
    else:
        cmd.reply(f"This channel was not subscribed to `{project_id}`. See `/voicelink subscriptions`.")


@VOICELINK.on("subscriptions")
def subscriptions(cmd: CommandRequest) -> None:
    subs, watches = watcher.subscriptions(cmd.services.store, cmd.channel_id)
    lines = [f"• project `{s['project_id']}` (by <@{s['created_by']}>)" for s in subs[:40]]
    lines += [f"• session `{w['session_id']}` (by <@{w['requested_by']}>)" for w in watches[:40]]
    cmd.reply("*This channel follows:*\n" + "\n".join(lines) if lines else
              "This channel follows no projects or sessions. Try `/voicelink subscribe <project>`.")


def register(app: App, services: Services) -> None:
    """The subcommands attach to the /voicelink router on import."""
