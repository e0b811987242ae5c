"""AccessService's look-ups: which runs a person may see (newest first, the channel's first), rooms and boards."""

import pytest

from services.access import AccessService
from services.store import Store


@pytest.fixture()
def store(database):  # on SQLite and on PostgreSQL
    s = Store(database)
    yield s
    s.close()


class Directory:
    def __init__(self, members, admins=()):
        self._members, self._admins = members, set(admins)

    def members(self, channel):
        return set(self._members.get(channel, ()))

    def is_admin(self, user):
        return user in self._admins


def run(store, run_id, channel, user, at, state="complete"):
    store.insert("scoring_runs", {"id": run_id, "channel": channel, "user": user, "state": state, "created_at": at,
                                  "filename": f"{run_id}.csv"})


def test_visible_runs_are_the_persons_only_newest_first_with_the_channels_first(store):
    access = AccessService(store, Directory({"C_HIRING": {"U_ALICE", "U_BOB"}, "C_SALES": {"U_CAROL"}}, ["U_BOSS"]))
    run(store, "r1", "C_HIRING", "U_ALICE", 1.0)
    run(store, "r2", "C_SALES", "U_CAROL", 2.0)
    run(store, "r3", "C_HIRING", "U_BOB", 3.0)
    run(store, "r4", "C_HIRING", "U_BOB", 4.0, state="running")
    assert list(access.visible_runs("U_ALICE")) == ["r3", "r1"]
    assert list(access.visible_runs("U_CAROL", channel="C_HIRING")) == ["r2"]
    assert list(access.visible_runs("U_MALLORY", channel="C_HIRING")) == []
    assert list(access.visible_runs("U_BOSS", channel="C_SALES")) == ["r2", "r3", "r1"]


def test_a_room_is_its_interviewers_the_vouched_members_and_who_may_see_its_run(store):
    access = AccessService(store, Directory({"C_HIRING": {"U_ALICE"}}))
    run(store, "r1", "C_HIRING", "U_ALICE", 1.0)
    for room_id, run_id in (("room1", "r1"), ("adhoc", None)):
        store.insert("interview_rooms", {"id": room_id, "room_name": room_id, "kind": "candidate", "run_id": run_id,
                                         "interviewer": "U_RITA", "interviewers_json": ["U_RITA"],
                                         "channel": "C_HIRING", "created_at": 1.0})
    assert access.may_use_room("U_RITA", "room1").allowed and access.may_use_room("U_ALICE", "room1").allowed
    assert not access.may_use_room("U_MALLORY", "room1").allowed
    assert not access.may_use_room("U_ALICE", "adhoc").allowed  # no run: only interviewers and vouched members
    assert access.may_use_room("U_ALICE", "adhoc", members={"U_ALICE"}).allowed
    assert not access.may_use_room("U_ALICE", "nope").allowed
    store.insert("screening_boards", {"id": "b1", "run_id": "r1", "channel": "C_HIRING", "created_by": "U_ALICE"})
    assert access.may_see_board("U_ALICE", "b1").allowed and not access.may_see_board("U_MALLORY", "b1").allowed
    assert access.may_see_board("U_MALLORY", "nope").refusal() == access.may_see_board("U_MALLORY", "b1").refusal()
