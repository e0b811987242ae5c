"""The one error hierarchy for everything a person reads.

* :class:`ServiceError`: an API behind the bot failed (Nimrobo, Pluto, OpenAI, a CSV check).
  ``user_message`` is a sentence a recruiter can act on.
* :class:`Refusal` and its kinds: the bot itself says no, in a whole sentence, without an API
  behind it: :class:`NotFoundHere` (a run, link or session the bot does not know),
  :class:`Ambiguous` (a name that matches several things; the candidates are listed) and
  :class:`NotAllowed` (a rule, e.g. who may cancel a link).

The Slack layer shows ``user_message`` of any :class:`ServiceError` privately to the person
who asked; anything else is a bug and reaches them as "something went wrong" with a reference.
"""

from __future__ import annotations


class ServiceError(Exception):
    """An API call failed. ``user_message`` is a sentence a recruiter can act on."""

    service = "API"

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
        where = f" ({self.endpoint})" if self.endpoint else ""
        text = f"{self.service} error{where}: {self.message}"
        if self.hint:
            text += f" {self.hint}"
        return text

    def __str__(self) -> str:
        status = f"HTTP {self.status} " if self.status else ""
        return f"{status}{self.endpoint}: {self.message}".strip(": ")


class Refusal(ServiceError):
    """The bot says no by itself; ``message`` (plus ``hint``) is the whole sentence."""

    service = "Pluto Bot"

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message, hint=hint)

    @property
    def user_message(self) -> str:
        return f"{self.message} {self.hint}".strip()


class NotFoundHere(Refusal):
    """A lookup among what the bot knows (its runs, links, sessions, subscriptions) found nothing."""


class NotAllowed(Refusal):
    """A rule forbids it (who may cancel a link, which links can be edited ...)."""


class Ambiguous(Refusal):
    """A name matched several things; ``candidates`` lists them (name and id) so the person can pick."""

    def __init__(self, what: str, query: str, candidates: list[tuple[str, str]], *, hint: str = "") -> None:
        self.what, self.query, self.candidates = what, query, candidates
        shown = ", ".join(f"*{name}* (`{ident}`)" for name, ident in candidates[:10])
        more = f" and {len(candidates) - 10} more" if len(candidates) > 10 else ""
        super().__init__(f"Several {what}s match “{query}”: {shown}{more}.",
                         hint=hint or "Give the id or the full name.")
