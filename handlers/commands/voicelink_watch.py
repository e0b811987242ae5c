"""/voicelink watch | subscribe | unsubscribe | subscriptions (answers go privately to the person)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers.commands.voicelink import VOICELINK
from handlers.commands.voicelink_manage import locate_session
from handlers.router import CommandRequest
from services import watcher
from services.nimrobo import NimroboError, Project
from services.privacy import mask_text

if TYPE_CHECKING:
    from slack_bolt import App

    from bot.context import Services

MAX_LISTED = 40


@VOICELINK.on("watch")
def watch(cmd: CommandRequest) -> None:
    session_id = cmd.args.split()[0]
    value, label = locate_session(cmd.services, session_id)  # not found -> a clear private error
    kind, project_id, _ = value.split("|")
    named = f" ({mask_text(label)})" if label else ""
    if watcher.already_posted(cmd.services.store, session_id, cmd.channel_id):
        cmd.reply(f"The results of `{session_id}`{named} were already posted in this channel.")
        return
    if watcher.watch(cmd.services.store, session_id, cmd.channel_id, cmd.user_id, kind, project_id or None, label):
        cmd.reply(f":eyes: I'll post the results of `{session_id}`{named} here when the interview completes.")
    else:
        cmd.reply(f"This channel already watches `{session_id}`{named}.")


def find_project(services: Services, query: str) -> Project:
    """A project by id, else by exact name (any case); the API's 404 when neither matches."""
    try:
        return services.nimrobo.get_project(query)
    except NimroboError as exc:
        if exc.status != 404:
            raise
        wanted = query.casefold()
        match = next((p for p in services.nimrobo.list_projects() if p.name.casefold() == wanted), None)
        if match is None:
            raise
        return match


@VOICELINK.on("subscribe")
def subscribe(cmd: CommandRequest) -> None:
    project = find_project(cmd.services, cmd.args.strip())
    if watcher.subscribe(cmd.services.store, project.id, cmd.channel_id, cmd.user_id):
        cmd.reply(f":bell: Every completed interview of *{project.name}* (`{project.id}`) will be posted here. "
                  f"Stop with `/voicelink unsubscribe {project.id}`.")
    else:
        cmd.reply(f"This channel already follows *{project.name}* (`{project.id}`).")


@VOICELINK.on("unsubscribe")
def unsubscribe(cmd: CommandRequest) -> None:
    query = cmd.args.strip()
    store = cmd.services.store
    project_id = query
    if store.get("project_subscriptions", (query, cmd.channel_id)) is None:
        try:  # a name: look its id up, but only an id this channel follows can be removed
            project_id = find_project(cmd.services, query).id
        except NimroboError:
            project_id = query
    if watcher.unsubscribe(store, project_id, cmd.channel_id):
        cmd.reply(f"This channel no longer follows `{project_id}`. Interviews already posted stay.")
    else:
        cmd.reply(f"This channel was not subscribed to `{query}`. See `/voicelink subscriptions`.")


@VOICELINK.on("subscriptions")
def subscriptions(cmd: CommandRequest) -> None:
    subs, watches = watcher.subscriptions(cmd.services.store, cmd.channel_id)
    lines = [f"• project `{s['project_id']}` (by <@{s['created_by']}>)" for s in subs]
    lines += [f"• session `{w['session_id']}`" + (f" ({mask_text(w['label'])})" if w.get("label") else "")
              + f" (by <@{w['requested_by']}>)" for w in watches]
    if len(lines) > MAX_LISTED:
        lines = lines[:MAX_LISTED] + [f"…and {len(lines) - MAX_LISTED} more."]
    links = cmd.services.store.count("voice_links", "channel = ?", [cmd.channel_id])
    own = f"\nInterviews of the {links} link(s) created in this channel are posted here too." if links else ""
    if lines:
        cmd.reply("*This channel follows:*\n" + "\n".join(lines) + own)
    else:
        cmd.reply("This channel follows no projects or sessions. Try `/voicelink subscribe <project>` or "
                  "`/voicelink watch <session>`." + own)


def register(app: App, services: Services) -> None:
    """The subcommands attach to the /voicelink router on import."""
