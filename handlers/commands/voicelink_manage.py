"""/voicelink create | list | cancel | projects | status."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.blocks import paginate
from bot.blocks.voice import cancel_confirm, create_modal, links_page, projects_page, session_message
from handlers.commands.voicelink import VOICELINK
from handlers.router import CommandRequest
from services.nimrobo import NimroboError

if TYPE_CHECKING:
    from slack_bolt import App

    from bot.context import Services

LINKS_PER_PAGE = 15


@VOICELINK.on("create")
def create(cmd: CommandRequest) -> None:
    view = create_modal(cmd.channel_id, ai=bool(cmd.services.settings.openai_api_key))
    cmd.client.views_open(trigger_id=cmd.trigger_id, view=view.to_dict())


@VOICELINK.on("list")
def list_links(cmd: CommandRequest) -> None:
    links = cmd.services.voicelinks.all_links(cmd.args)
    cmd.reply(links_page(paginate(links, 1, LINKS_PER_PAGE), cmd.args))


@VOICELINK.on("cancel")
def cancel(cmd: CommandRequest) -> None:
    service = cmd.services.voicelinks
    link = service.find_link(cmd.args.split()[0])
    problem = service.cancel_check(link, cmd.user_id, channel_members(cmd.client, service.link_row(link.id)))
    cmd.reply(cancel_confirm(link) if problem is None else problem)


@VOICELINK.on("projects")
def projects(cmd: CommandRequest) -> None:
    cmd.reply(projects_page(cmd.services.nimrobo.list_projects()))


@VOICELINK.on("status")
def status(cmd: CommandRequest) -> None:
    value, label = locate_session(cmd.services, cmd.args.split()[0])
    kind, project_id, session_id = value.split("|")
    state = cmd.services.nimrobo.session_status(session_id, kind, project_id or None)
    cmd.reply(session_message(state, value, label))


def locate_session(services: Services, session_id: str) -> tuple[str, str]:
    """(``"type|project|session"``, label) for a session we registered, else found through the API."""
    row = services.voicelinks.session_row(session_id)
    if row:
        return f"{row['kind']}|{row['project_id'] or ''}|{session_id}", row["label"]
    for link in services.voicelinks.all_links():
        if link.session_id == session_id:
            return f"{link.kind}|{link.project_id or ''}|{session_id}", link.label
    raise NimroboError(f"no session `{session_id}` was found among your links.", status=404,
                       hint="Session ids appear in `/voicelink list` once a participant opens a link.")


def channel_members(client: object, row: dict | None) -> set[str] | None:
    if not row or not row.get("channel"):
        return None
    try:
        return set(client.conversations_members(channel=row["channel"])["members"])  # type: ignore[attr-defined]
    except Exception:
        return None


def register(app: App, services: Services) -> None:
    """The subcommands attach to the /voicelink router on import."""
