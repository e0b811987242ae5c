"""``/voicelink``: Nimrobo voice interviews. Subcommand handlers attach with ``VOICELINK.on(name)``."""

from __future__ import annotations

from slack_bolt import App

from bot.context import Services
from handlers.router import CommandRouter, Subcommand

VOICELINK = CommandRouter(
    "/voicelink",
    "Voice links — Nimrobo voice interviews",
    [
        Subcommand("create", "create", "create a voice project and links (interview, research or instant); "
                   "names can come from a CSV or text file", "create", opens_modal=True),
        Subcommand("project", "project new | project <project>",
                   "create a project on its own (every field); or show one, with edit", "project new",
                   needs_arg=True, opens_modal=True),
        Subcommand("projects", "projects", "your voice projects: search, details, edit", "projects"),
        Subcommand("use", "use [project | none]", "set this channel's default project (no argument: show it)",
                   "use Backend Engineer"),
        Subcommand("list", "list [project]",
                   "links with status, label, expiry and session (none named: this channel's default project; "
                   "`all`: every project)",
                   "list Backend Engineer"),
        Subcommand("cancel", "cancel <link>", "cancel an active project link, by id or by name (asks first)",
                   "cancel Alan Turing", needs_arg=True),
        Subcommand("status", "status <session>", "a session's status, transcript, audio, evaluation and summary; "
                   "by id or by the participant's name", "status Ada Lovelace", needs_arg=True),
        Subcommand("watch", "watch <session>", "post this session's results here when it completes (id or name)",
                   "watch Ada Lovelace", needs_arg=True),
        Subcommand("subscribe", "subscribe <project>",
                   "post every completed interview of a project here (none named: this channel's default project)",
                   "subscribe proj_123"),
        Subcommand("unsubscribe", "unsubscribe <project>",
                   "stop posting a project's interviews here (none named: this channel's default project)",
                   "unsubscribe proj_123"),
        Subcommand("subscriptions", "subscriptions", "what this channel is subscribed to", "subscriptions"),
        Subcommand("login", "login", "use your own Nimrobo API key (checked, stored encrypted)", "login",
                   opens_modal=True),
        Subcommand("whoami", "whoami", "which Nimrobo account your requests run as", "whoami"),
        Subcommand("logout", "logout", "delete your own key; use the team's shared key again", "logout"),
    ],
)


def register(app: App, services: Services) -> None:
    VOICELINK.register(app, services)
