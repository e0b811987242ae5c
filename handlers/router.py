"""Slash-command routing: ``/pluto <subcommand> [args]`` and ``/voicelink ...``.

A :class:`CommandRouter` knows every subcommand of the contract with its usage line
and example, so help is generated from one list. The router acknowledges at once
(help and usage errors ride on the ack itself, visible only to the person who typed
the command), then runs the subcommand's handler on the work pool
(:func:`bot.work.defer`); a subcommand that only opens a modal opens it right after the
ack, while its trigger id is fresh. A handler that is not built yet answers "coming soon"
privately, never with silence. Errors become a clear private message; the bot stays up.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.models.blocks import Block

from bot.blocks import Message, context, header, picker_message, section
from bot.context import Services
from bot.slack_out import SlackOut, private_kwargs, respond_privately
from bot.work import defer, run_safely
from handlers import inject
from services.errors import Ambiguous

T = TypeVar("T")


@dataclass
class CommandRequest:
    """What a subcommand handler gets: the parsed command plus the means to answer."""

    command: str
    name: str
    args: str
    user_id: str
    channel_id: str
    trigger_id: str
    body: dict[str, Any]
    client: WebClient
    respond: Respond
    services: Services

    @property
    def out(self) -> SlackOut:
        return SlackOut(self.client)

    def reply(self, message: Message) -> None:
        """Answer privately (ephemeral, through the command's response_url)."""
        respond_privately(self.respond, message)

    def one_of(self, find: Callable[[], T], action_id: str, verb: str) -> T | None:
        """``find()``'s answer; when the name typed matches several things, None after a private picker:
        one ``verb`` button per candidate, whose press reaches ``action_id`` with the candidate's id."""
        try:
            return find()
        except Ambiguous as choice:
            self.reply(picker_message(choice, action_id, verb))
            return None


Handler = Callable[[CommandRequest], None]


@dataclass
class Subcommand:
    name: str
    usage: str
    summary: str
    example: str
    needs_arg: bool = False
    opens_modal: bool = False  # runs right after the ack: a trigger id lasts 3 s, the work pool may be busy
    handler: Handler | None = None


@dataclass
class CommandRouter:
    command: str
    title: str
    subcommands: list[Subcommand] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.get("help") is None:  # every command has help, listed first
            self.subcommands.insert(0, Subcommand("help", "help", "show this help", "help"))

    def get(self, name: str) -> Subcommand | None:
        return next((s for s in self.subcommands if s.name == name), None)

    def on(self, name: str) -> Callable[[Handler], Handler]:
        """Attach the handler for subcommand ``name`` (which must be declared)."""
        sub = self.get(name)
        if sub is None:
            raise KeyError(f"{self.command} has no subcommand {name!r}")

        def attach(fn: Handler) -> Handler:
            sub.handler = fn
            return fn

        return attach

    # -- rendering ---------------------------------------------------------
    def summary_lines(self) -> str:
        return "\n".join(f"• `{self.command} {s.usage}` — {s.summary}" for s in self.subcommands if s.name != "help")

    def help_message(self, note: str = "") -> Message:
        lines = [f"• `{self.command} {s.usage}` — {s.summary}\n    e.g. `{self.command} {s.example}`"
                 for s in self.subcommands]
        blocks: list[Block] = [header(self.title)]
        if note:
            blocks.append(section(f":information_source: {note}"))
        blocks.append(section("\n".join(lines)))
        blocks.append(context(f"Only you can see this. Type `{self.command} help` any time."))
        text = (note + "\n" if note else "") + f"{self.title}\n" + "\n".join(
            f"{self.command} {s.usage} — {s.summary}" for s in self.subcommands)
        return Message(text=text, blocks=blocks)

    def suggest(self, name: str) -> Subcommand | None:
        """The subcommand ``name`` was probably meant to be (a typo: ``scor``, ``stauts``), or None."""
        names = [s.name for s in self.subcommands]
        close = difflib.get_close_matches(name.lower(), names, n=1, cutoff=0.6)
        if not close and len(name) >= 3:  # a start of a name: ``sub`` for ``subscribe``
            close = [n for n in names if n.startswith(name.lower())][:1]
        return self.get(close[0]) if close else None

    def unknown(self, name: str) -> str:
        """The note above the help for a subcommand that does not exist, with a "did you mean" when one is close."""
        note = f"I don't know `{self.command} {name}`."
        guess = self.suggest(name)
        if guess is not None:
            note += f" Did you mean `{self.command} {guess.name}`?"
        return note

    # -- dispatch ------------------------------------------------------------
    def parse(self, text: str) -> tuple[str, str]:
        name, _, args = (text or "").strip().partition(" ")
        return name.lower(), args.strip()

    def __call__(self, ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond,
                 services: Services) -> None:
        name, args = self.parse(body.get("text", ""))
        sub = self.get(name) if name else None
        if not name or name == "help" or sub is None:
            note = self.unknown(name) if name and name != "help" else ""
            ack(response_type="ephemeral", **private_kwargs(self.help_message(note)))
            return
        if sub.needs_arg and not args:
            ack(response_type="ephemeral",
                **private_kwargs(self.help_message(f"`{self.command} {sub.name}` needs an argument: "
                                                   f"`{self.command} {sub.usage}`.")))
            return
        if sub.handler is None:
            ack(response_type="ephemeral",
                text=f":construction: `{self.command} {sub.name}` is coming soon. "
                     f"Try `{self.command} help` to see what works today.")
            return
        ack()
        request = CommandRequest(
            command=self.command, name=sub.name, args=args, user_id=body.get("user_id", ""),
            channel_id=body.get("channel_id", ""), trigger_id=body.get("trigger_id", ""), body=body,
            client=client, respond=respond, services=services,
        )
        handler, what = sub.handler, f"{self.command} {sub.name}"
        if sub.opens_modal:
            run_safely(lambda: handler(request), request.reply, what)
        else:
            defer(services.work, request.user_id, lambda: handler(request), request.reply, what)

    def register(self, app: App, services: Services) -> None:
        app.command(self.command)(inject(self.__call__, services))
