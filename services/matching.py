"""The one rule for finding a project, a link or a session from what someone typed.

The whole text counts, spaces included, with any quotes around it removed (:func:`unquote`):

1. an exact id;
2. else a name equal to the query, ignoring case;
3. else the one name that contains the query, ignoring case.

Several matches at step 2 or 3 raise :class:`~services.errors.Ambiguous` with the candidates;
none raises :class:`~services.errors.NotFoundHere`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from services.errors import Ambiguous, NotFoundHere

T = TypeVar("T")
QUOTES = (('"', '"'), ("'", "'"), ("“", "”"), ("‘", "’"), ("«", "»"), ("`", "`"))


def unquote(text: str) -> str:
    """What someone typed, without the quotes around it: ``"Alan Turing"`` → ``Alan Turing``."""
    text = (text or "").strip()
    for left, right in QUOTES:
        if len(text) >= 2 and text.startswith(left) and text.endswith(right):
            return text[1:-1].strip()
    return text


def match_one(items: Sequence[T], query: str, *, ident: Callable[[T], str], name: Callable[[T], str],
              what: str, missing: str, hint: str = "", describe: Callable[[T], str] | None = None) -> T:
    """The item ``query`` names (see the module rule). ``missing`` is the sentence when nothing matches.

    The whole query counts (``Alan Turing``, quoted or not). ``describe`` names a candidate in an
    :class:`~services.errors.Ambiguous` (default: its name), e.g. with its project to tell two apart.
    """
    query = unquote(query)
    exact = [item for item in items if ident(item) == query]
    if exact:
        return exact[0]
    folded = query.casefold()
    rules: tuple[Callable[[str], bool], ...] = (lambda n: n == folded, lambda n: bool(folded) and folded in n)
    for rule in rules:
        found = [item for item in items if rule(name(item).casefold())]
        if len(found) == 1:
            return found[0]
        if found:
            raise Ambiguous(what, query, [((describe or name)(item), ident(item)) for item in found])
    raise NotFoundHere(missing, hint=hint)
