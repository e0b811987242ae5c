"""/voicelink create | project | projects | use | list | cancel | status."""

from __future__ import annotations

from slack_sdk.models.views import View

from bot.blocks import paginate
from bot.blocks.voice import (
    LINKS_PER_PAGE,
    cancel_confirm,
    create_modal,
    edit_project_modal,
    links_page,
    project_details,
    project_form,
    projects_page,
    session_message,
)
from bot.blocks.voice_projects import use_message
from bot.work import defer, defer_modal
from handlers.commands import VOICELINK
from handlers.router import CommandRequest
from services.prompts import as_dict
from services.voice.links import EVERY_PROJECT


@VOICELINK.on("create")
def create(cmd: CommandRequest) -> None:
    """The form opens at once; the project list starts loading for the research form's study select."""
    voicelinks = cmd.services.voicelinks
    default = voicelinks.default_project(cmd.channel_id)
    values = {"name": default.project_name} if default else {}
    view = create_modal(cmd.channel_id, values=values, ai=voicelinks.ai_drafting, default=default)
    cmd.client.views_open(trigger_id=cmd.trigger_id, view=view.to_dict())
    voicelinks.warm_projects(cmd.user_id)


@VOICELINK.on("project")
def project(cmd: CommandRequest) -> None:
    """``project new``: the form for a project on its own. ``project [edit] <project>``: its details, or its
    edit form (opened at once, filled once the project is read)."""
    voicelinks = cmd.services.voicelinks
    words = cmd.args.split(None, 1)
    if words[0].lower() == "new":
        view = project_form(ai=voicelinks.ai_drafting, channel=cmd.channel_id)
        cmd.client.views_open(trigger_id=cmd.trigger_id, view=view.to_dict())
        return
    if words[0].lower() == "edit" and len(words) > 1:
        def build() -> View:
            found = voicelinks.project(words[1])
            found, sections = voicelinks.editable_project(found.id)
            return edit_project_modal(found, as_dict(sections))

        body = {"trigger_id": cmd.trigger_id, "user": {"id": cmd.user_id}}
        defer_modal(cmd.services.work, cmd.client, body, "Edit project", "Loading the project…", build,
                    cmd.reply, "/voicelink project edit")
        return
    defer(cmd.services.work, cmd.user_id,
          lambda: cmd.reply(project_details(voicelinks.project_by_id(voicelinks.project(cmd.args).id))),
          cmd.reply, "/voicelink project")


@VOICELINK.on("use")
def use(cmd: CommandRequest) -> None:
    """``use <project>`` sets the channel's default project; ``use none`` clears it; ``use`` shows it."""
    voicelinks = cmd.services.voicelinks
    if not cmd.args:
        voicelinks.warm_projects(cmd.user_id)
        cmd.reply(use_message(voicelinks.default_project(cmd.channel_id)))
    elif cmd.args.lower() in ("none", "clear", "off"):
        cleared = voicelinks.clear_default(cmd.channel_id)
        note = f":white_check_mark: *{cleared.project_name}* is no longer this channel's default project." \
            if cleared else "This channel had no default project."
        cmd.reply(use_message(None, note))
    else:
        chosen = voicelinks.use(cmd.channel_id, cmd.args, cmd.user_id)
        cmd.reply(use_message(chosen, f":white_check_mark: *{chosen.project_name}* is now this channel's default "
                                      "project."))


@VOICELINK.on("list")
def list_links(cmd: CommandRequest) -> None:
    """``list [project | all]``: a project's links (the channel's default when none is named); with neither,
    the person's own links and the channel's projects' (from what the bot knows), every project on request."""
    voicelinks = cmd.services.voicelinks
    every = cmd.args.strip().casefold() == "all"
    query = EVERY_PROJECT if every else voicelinks.project_arg(cmd.args, cmd.channel_id)
    default = voicelinks.default_project(cmd.channel_id) if not cmd.args else None
    listing = voicelinks.list_for(query, user=cmd.user_id, channel=cmd.channel_id, fresh=not every)
    title = f"{default.project_name} (this channel's default; `list all` shows every project)" if default else \
        listing.title
    cmd.reply(links_page(paginate(listing.links, 1, LINKS_PER_PAGE), listing.key, title, more=listing.more))


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
    """The list as Nimrobo has it now (and the searches that follow reuse it)."""
    cmd.reply(projects_page(cmd.services.voicelinks.projects(fresh=True)))


@VOICELINK.on("status")
def status(cmd: CommandRequest) -> None:
    """A session by id or by the participant's name (the whole rest of the line, quoted or not)."""
    sessions = cmd.services.sessions
    ref = cmd.one_of(lambda: sessions.locate(cmd.args, user=cmd.user_id), "voicelink_pick_status", "Show")
    if ref is not None:
        status = sessions.status(ref, user=cmd.user_id)
        cmd.reply(session_message(status, ref, sessions.project_of(ref)[0]))
