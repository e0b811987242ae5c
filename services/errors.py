"""The one error tree for everything a person reads.

::

    BotError                      user_message: the sentence the person who asked reads, privately
     ├── Refusal                  the bot says no by itself; no API behind it
     │    ├── NotFoundHere        a run, link, session, room or board the bot does not know
     │    ├── NotAllowed          a rule forbids it: who may see, cancel or change what
     │    └── Ambiguous           a name matched several things; ``candidates`` lists them
     ├── BadInput                 what the person gave can't be used (a CSV, a label file, a prompt,
     │                            a transcript, a form): they fix it and try again
     └── ServiceError             an API behind the bot failed (Nimrobo, Pluto, OpenAI): ``status``,
                                  ``endpoint``, and ``outcome_unknown`` when a write may have happened

They read differently: a refusal is the whole answer (*Only the people who can see this shortlist
can …*); bad input says what to fix; an API error names the service (*Nimrobo error (…): …*) and
whether trying again may help. Each feature's own errors subclass one branch (``NimroboError``,
``PlutoError`` (``IntakeLinkError``) → ``ServiceError``; ``IntakeError``, ``LabelFileError`` → ``BadInput``;
``KeyVaultError``, ``RunNotReady`` → ``Refusal``).

The Slack layer shows ``user_message`` of any :class:`BotError` privately to the person who asked;
anything else is a bug and reaches them as "something went wrong" with a reference.
"""

from __future__ import annotations


class BotError(Exception):
    """Something the person who asked should read: ``user_message`` is one or two sentences."""

    service = "Pluto Bot"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        endpoint: str = "",
        hint: str = "",
        outcome_unknown: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.endpoint = endpoint
        self.hint = hint
        self.outcome_unknown = outcome_unknown

    @property
    def user_message(self) -> str:
        return f"{self.message} {self.hint}".strip()

    def __str__(self) -> str:
        status = f"HTTP {self.status} " if self.status else ""
        return f"{status}{self.endpoint}: {self.message}".strip(": ")


class Refusal(BotError):
    """The bot says no by itself; ``message`` (plus ``hint``) is the whole sentence."""


class NotFoundHere(Refusal):
    """A lookup among what the bot knows (its runs, links, sessions, rooms, subscriptions) found nothing."""


class NotAllowed(Refusal):
    """A rule forbids it (who may see a shortlist, cancel a link, which links can be edited ...)."""


class Ambiguous(Refusal):
    """A name matched several things; ``candidates`` lists them (name and id) so the person can pick."""

    def __init__(self, what: str, query: str, candidates: list[tuple[str, str]], *, hint: str = "") -> None:
        self.what, self.query, self.candidates = what, query, candidates
        shown = ", ".join(f"*{name}* (`{ident}`)" for name, ident in candidates[:10])
        more = f" and {len(candidates) - 10} more" if len(candidates) > 10 else ""
        super().__init__(f"Several {what}s match “{query}”: {shown}{more}.",
                         hint=hint or "Give the id or the full name.")


class BadInput(BotError):
    """What the person sent can't be used as it is; ``message`` says what is wrong, ``hint`` how to fix it."""


class ServiceError(BotError):
    """An API call failed. ``user_message`` names the service and is a sentence a recruiter can act on."""

    service = "API"

    @property
    def user_message(self) -> str:
        where = f" ({self.endpoint})" if self.endpoint else ""
        text = f"{self.service} error{where}: {self.message}"
        if self.hint:
            text += f" {self.hint}"
        return text
