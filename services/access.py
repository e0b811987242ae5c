"""Who may see what: the one place that answers "may user U see voice session S / scoring run R?".

=====================  ==================================================================
what                   who may see it
=====================  ==================================================================
a voice session        members of the channel where its link was made, members of a channel
(status, evaluation,   subscribed to its project, and the person who made the link
summary, transcript,
audio)
a scoring run (its     members of the channel where the run was started, and the person
candidates, details,   who started it
questions, briefs,
intake links, board)
an interview room      its interviewers, members of its card's channel, and whoever may see
                       its scoring run
everything             workspace admins and owners (``users.info``) and ``ADMIN_USER_IDS``
=====================  ==================================================================

Several workspaces (``strict``): what this workspace's store knows nothing of (a session, link, run or
room id copied from another workspace) is refused to everyone, admins included, so an id from
workspace B never reads B's data through a backend the two share.

Anyone else gets the same polite refusal whether or not the thing exists, so a refusal
never tells an outsider that a session or run is there. Look-ups by name (``/pluto candidate
<name>``, ``/pluto results``) search only what the person may see (:meth:`AccessService.visible_runs`),
so someone who may see nothing gets the answer a name that does not exist gets. Channel membership and admin
roles come from a :class:`Directory`, which the Slack layer implements (with a short cache);
this module knows nothing of Slack.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from services.errors import NotAllowed
from services.store import Store


class Directory(Protocol):
    """What the workspace says about people and channels."""

    def members(self, channel: str) -> set[str]: ...

    def is_admin(self, user: str) -> bool: ...


@dataclass(frozen=True)
class Decision:
    allowed: bool
    why: str  # for logs: which rule let the user in, or "no rule"
    admins: tuple[str, ...] = field(default=())

    def refusal(self, what: str = "that interview") -> str:
        """The same words whether or not the thing exists; names who can help."""
        helpers = ", ".join(f"<@{a}>" for a in self.admins)
        admins = f"a bot admin ({helpers})" if helpers else "a workspace admin"
        return (f":lock: I can't show you {what}. Interviews and scoring runs are visible to the channel they "
                f"belong to and to the person who started them. Ask that person, someone in that channel, or "
                f"{admins} to share it with you.")

    def require(self, what: str = "that interview") -> None:
        """Refuse with :class:`NotAllowed` (the same words whether or not the thing exists) unless the
        person is let in."""
        if not self.allowed:
            raise NotAllowed(self.refusal(what))


class AccessService:
    """``may_see_session`` / ``may_see_run``: plain inputs, a :class:`Decision` out."""

    def __init__(self, store: Store, directory: Directory, admin_ids: Iterable[str] = (), *,
                 strict: bool = False) -> None:
        self.store = store
        self.directory = directory
        self.admin_ids = tuple(sorted(set(admin_ids)))
        self.strict = strict

    def _decide(self, user: str, owners: set[str], channels: set[str],
                vouched: Collection[str] | None = None) -> Decision:
        if self.strict and not (owners - {""}) and not channels and vouched is None:
            return Decision(False, "not this workspace's", self.admin_ids)
        if user in self.admin_ids:
            return Decision(True, "ADMIN_USER_IDS", self.admin_ids)
        if user and user in owners:
            return Decision(True, "creator", self.admin_ids)
        if user and vouched is not None and user in vouched:
            return Decision(True, "member of the card's channel", self.admin_ids)
        for channel in sorted(channels):
            if user in self.directory.members(channel):
                return Decision(True, f"member of {channel}", self.admin_ids)
        if self.is_admin(user):
            return Decision(True, "workspace admin", self.admin_ids)
        return Decision(False, "no rule", self.admin_ids)

    def is_admin(self, user: str) -> bool:
        """A bot admin (``ADMIN_USER_IDS``) or a workspace admin or owner (``users.info``)."""
        return bool(user) and (user in self.admin_ids or self.directory.is_admin(user))

    def session_owners(self, session_id: str, project_id: str | None = None) -> tuple[set[str], set[str]]:
        """(creators, channels) a voice session belongs to: the channel and creator of the link the
        bot made for it, and every channel subscribed to its project (``project_id`` when the bot
        did not make the link). Both empty for a session the bot knows nothing of."""
        links = self.store.rows("voice_links", "session_id = ?", [session_id])
        creators = {r["creator"] for r in links if r.get("creator")}
        channels = {r["channel"] for r in links if r.get("channel")}
        projects = {r["project_id"] for r in links if r.get("project_id")} | ({project_id} if project_id else set())
        for project in projects:
            channels |= {s["channel"] for s in self.store.rows("project_subscriptions", "project_id = ?", [project])}
        return creators, channels

    def may_see_session(self, user: str, session_id: str, project_id: str | None = None) -> Decision:
        creators, channels = self.session_owners(session_id, project_id)
        return self._decide(user, creators, channels)

    def may_see_link(self, user: str, link_id: str) -> Decision:
        row = self.store.get("voice_links", link_id)
        if row is None:
            return self._decide(user, set(), set())
        channels = {row["channel"]} if row.get("channel") else set()
        if row.get("project_id"):
            channels |= {s["channel"] for s in self.store.rows("project_subscriptions", "project_id = ?",
                                                               [row["project_id"]])}
        return self._decide(user, {row.get("creator") or ""}, channels)

    def may_use_channel(self, user: str, channel: str) -> Decision:
        """Whether ``user`` may have the bot post in ``channel`` on their behalf (a Workflow Builder step):
        its members and admins, as for anything that belongs to the channel."""
        return self._decide(user, set(), {channel} if channel else set())

    def may_see_project_link(self, user: str, link_id: str, project_id: str | None) -> Decision:
        """A link as Nimrobo lists it: the bot's own by :meth:`may_see_link`; one made outside the bot by
        the channels subscribed to its project (and admins)."""
        if self.store.get("voice_links", link_id) is not None:
            return self.may_see_link(user, link_id)
        channels = {s["channel"] for s in self.store.rows("project_subscriptions", "project_id = ?",
                                                          [project_id])} if project_id else set()
        return self._decide(user, set(), channels)

    def may_see_run(self, user: str, run_id: str | None, members: Collection[str] | None = None) -> Decision:
        """``members``: people the caller vouches for (the members of the channel the run's card is in)."""
        row = self.store.get("scoring_runs", run_id) if run_id else None
        if row is None:
            return self._decide(user, set(), set())
        return self._decide(user, {row.get("user") or ""}, {row.get("channel") or ""} - {""}, members)

    def visible_runs(self, user: str, *, channel: str | None = None, state: str = "complete",
                     limit: int = 200) -> Iterator[str]:
        """Ids of the runs ``user`` may see, newest first: ``channel``'s first when given, then the rest
        (at most ``limit`` looked at). A look-up by name searches only these."""
        where, params = "state = ?", [state]
        rows = self.store.rows("scoring_runs", where, params, order_by="created_at desc", limit=limit)
        if channel:
            rows = [r for r in rows if r.get("channel") == channel] + [r for r in rows if r.get("channel") != channel]
        for row in rows:
            if self._decide(user, {row.get("user") or ""}, {row.get("channel") or ""} - {""}).allowed:
                yield row["id"]

    def may_use_room(self, user: str, room_id: str, members: Collection[str] | None = None) -> Decision:
        """An interview room: its interviewers, ``members`` (of its card's channel, vouched for by the caller),
        and whoever may see its scoring run."""
        row = self.store.get("interview_rooms", room_id)
        if row is None:
            return self._decide(user, set(), set())
        interviewers = set(row.get("interviewers_json") or [row.get("interviewer") or ""]) - {""}
        decision = self._decide(user, interviewers, set(), members)
        if decision.allowed or not row.get("run_id"):
            return decision
        return self.may_see_run(user, row["run_id"])

    def may_see_board(self, user: str, board_id: str) -> Decision:
        """A screening board is its scoring run's: the same people may see it."""
        row = self.store.get("screening_boards", board_id)
        return self.may_see_run(user, row["run_id"] if row else None)
