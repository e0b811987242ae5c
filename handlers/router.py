"""Slash-command routing: ``/pluto <subcommand> [args]`` and ``/voicelink ...``.

A :class:`CommandRouter` knows every subcommand of the contract with its usage line
and example, so help is generated from one list. The router acknowledges at once
(help and usage errors ride on the ack itself, visible only to the person who typed
the command), then runs the subcommand's handler after the ack. A handler that is
not built yet answers "coming soon" privately, never with silence. Errors become a
clear private message; the bot stays up.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.blocks import Message, context, error_message, header, section
from services.http import ServiceError

if TYPE_CHECKING:
    from slack_bolt import Ack, App, Respond
    from slack_sdk import WebClient

    from bot.context import Services

log = logging.getLogger(__name__)


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

    def reply(self, message: Message | str) -> None:
        """Answer privately (ephemeral, through the command's response_url)."""
        if isinstance(message, str):
            message = Message(text=message, blocks=[section(message)])
        kwargs = message.kwargs()
        kwargs.pop("metadata", None)
        self.respond(response_type="ephemeral", replace_original=False, **kwargs)


Handler = Callable[[CommandRequest], None]


@dataclass
class Subcommand:
    name: str
    usage: str
    summary: str
    example: str
    needs_arg: bool = False
    handler: Handler | None = None


@dataclass
class CommandRouter:
    command: str
    title: str
    subcommands: list[Subcommand] = field(default_factory=list)

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
        blocks = [header(self.title)]
        if note:
            blocks.append(section(f":information_source: {note}"))
        blocks.append(section("\n".join(lines)))
        blocks.append(context(f"Only you can see this. Type `{self.command} help` any time."))
        text = (note + "\n" if note else "") + f"{self.title}\n" + "\n".join(
            f"{self.command} {s.usage} — {s.summary}" for s in self.subcommands)
        return Message(text=text, blocks=blocks)

    # -- dispatch ------------------------------------------------------------
    def parse(self, text: str) -> tuple[str, str]:
        name, _, args = (text or "").strip().partition(" ")
        return name.lower(), args.strip()

    def __call__(self, ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond,
                 services: Services) -> None:
        name, args = self.parse(body.get("text", ""))
        sub = self.get(name) if name else None
        if not name or name == "help" or sub is None:
            note = f"I don't know `{self.command} {name}`." if name and name != "help" else ""
            ack(response_type="ephemeral", **_ack_kwargs(self.help_message(note)))
            return
        if sub.needs_arg and not args:
            ack(response_type="ephemeral",
                **_ack_kwargs(self.help_message(f"`{self.command} {sub.name}` needs an argument: "
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
        defer(services, request.user_id, lambda: sub.handler(request), request.reply, f"{self.command} {sub.name}")

    def register(self, app: App, services: Services) -> None:
        def listener(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
            self(ack, body, client, respond, services)

        app.command(self.command)(listener)


def _ack_kwargs(message: Message) -> dict[str, Any]:
    kwargs = message.kwargs()
    kwargs.pop("metadata", None)
    return kwargs


def defer(services: Services, user: str, fn: Callable[[], None], reply: Callable[[Message], None],
          what: str) -> None:
    """After the ack: run ``fn`` on the bounded work pool, never on the ack path.

    When every worker is busy the person who asked hears at once, privately, that their
    request is queued; any failure reaches them as a private message.
    """
    services.work.submit(user, lambda: run_safely(fn, reply, what), what=what,
                         on_queued=lambda ahead: _try_reply(reply, queued_notice(what, ahead)))


def defer_modal(services: Services, client: WebClient, body: dict[str, Any], title: str, waiting: str,
                build: Callable[[], Any], reply: Callable[[Message], None], what: str) -> None:
    """Open a "loading" modal now (a trigger id lasts 3 s), then fill it from ``build()`` on the work pool.

    ``build`` returns the finished ``View``; when it fails, the modal says why and stays closable.
    """
    from bot.blocks.pluto import loading_view

    opened = client.views_open(trigger_id=body["trigger_id"], view=loading_view(title, waiting).to_dict())["view"]

    def fill() -> None:
        try:
            view = build()
        except ServiceError as exc:
            view = loading_view(title, exc.user_message)
        except Exception:
            client.views_update(view_id=opened["id"], view=loading_view(title, "That didn't work.").to_dict())
            raise  # run_safely logs it and tells the person who asked
        client.views_update(view_id=opened["id"], view=view.to_dict())

    defer(services, body["user"]["id"], fill, reply, what)


def queued_notice(what: str, ahead: int) -> Message:
    where = "next in line" if ahead <= 0 else f"{ahead} request{'s' if ahead != 1 else ''} ahead of it"
    text = f":hourglass_flowing_sand: Busy right now: your `{what}` is queued ({where}). It will run shortly."
    return Message(text=text, blocks=[context(text)])


def run_safely(fn: Callable[[], None], reply: Callable[[Message], None], what: str) -> None:
    """Run slow work after the ack; report any failure to the person who asked."""
    try:
        fn()
    except ServiceError as exc:
        log.warning("%s failed: %s", what, exc)
        _try_reply(reply, error_message(exc.user_message))
    except Exception:
        ref = uuid.uuid4().hex[:8]
        log.exception("%s crashed (ref %s)", what, ref)
        _try_reply(reply, error_message(f"Something went wrong on our side while running `{what}`.",
                                        hint=f"Nothing was lost; please try again. Reference: {ref}"))


def _try_reply(reply: Callable[[Message], None], message: Message) -> None:
    try:
        reply(message)
    except Exception:
        log.exception("could not deliver an error message")
