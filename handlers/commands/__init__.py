"""Slash-command listeners; each module registers itself with ``register(app, services)``.

The two commands' routers live here, with every subcommand's usage line, so a command module attaches its
handlers with ``PLUTO.on(name)`` / ``VOICELINK.on(name)`` without importing a sibling listener module;
``pluto.py`` and ``voicelink.py`` register them with Bolt.
"""

from __future__ import annotations

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

