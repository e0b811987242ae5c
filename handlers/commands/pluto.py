"""``/pluto``: candidate scoring and live interviews. Subcommand handlers attach with ``PLUTO.on(name)``."""

from __future__ import annotations

from slack_bolt import App

from bot.context import Services
from handlers.router import CommandRouter, Subcommand

PLUTO = CommandRouter(
    "/pluto",
    "Pluto — candidate scoring and live interviews",
    [
        Subcommand("score", "score", "score a CSV of candidates (opens a form; or mention me with a CSV and "
                   "the word score)", "score", opens_modal=True),
        Subcommand("status", "status", "the current scoring run and the queue", "status"),
        Subcommand("results", "results", "the latest ranked shortlist again", "results"),
        Subcommand("candidate", "candidate <id or name>", "one candidate's profile (fuzzy name match)",
                   "candidate Jane Doe", needs_arg=True),
        Subcommand("export", "export", "the full ranking as a CSV file", "export"),
        Subcommand("room", "room [candidate name]", "an ad-hoc live interview room, outside a scoring run (the "
                   "candidate card's Start interview makes one for a shortlisted candidate)", "room Grace Hopper"),
        Subcommand("cancel", "cancel [file]", "take a waiting scoring run out of the queue (asks first)",
                   "cancel candidates.csv"),
        Subcommand("digest", "digest <HH:MM | off>", "this channel's daily digest on business days, at that time "
                   "in your time zone (interviews, runs, decisions, what waits, links expiring)", "digest 09:00",
                   needs_arg=True),
        Subcommand("forget", "forget <e-mail or name>", "admins: erase everything the bot holds about one person "
                   "(shows what it found and asks first)", "forget ada@example.com", needs_arg=True),
        Subcommand("audit", "audit [candidate or user] [days]", "admins: who read or exported personal data, as a "
                   "private CSV", "audit @alice 30"),
        Subcommand("export-person", "export-person <e-mail>", "admins: one zip of everything the bot holds about "
                   "a person (subject access request)", "export-person ada@example.com", needs_arg=True),
        Subcommand("admin", "admin export", "admins: everything the bot holds for this workspace, as a zip of CSVs "
                   "by DM (e.g. before removing the app)", "admin export", needs_arg=True),
    ],
)


def register(app: App, services: Services) -> None:
    PLUTO.register(app, services)
