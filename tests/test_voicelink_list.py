"""VoiceLinkService's listings: what ``/voicelink list`` asks Nimrobo for (the known projects only, every
project on request through a cache, a fresh look after a miss), instant-link Edit with one listing, and
only links the person may see (services/access.py)."""

import pytest

from config import Settings
from services.access import AccessService
from services.errors import NotFoundHere
from services.nimrobo import NimroboClient
from services.store import Store
from services.voice.forms import VoiceForm
from services.voice.links import EVERY_PROJECT, VoiceLinkService
from tests.conftest import NIMROBO_KEY

PROMPT = "## Goal\ng\n\n## Role\nr\n\n## Guidelines\ng\n\n## Constraints\nc"
LISTINGS = "GET /api/v1/projects/{project_id}/links"
INSTANT = "GET /api/v1/instant-voice-links"


class Directory:
    def __init__(self, members):
        self._members = members

    def members(self, channel):
        return set(self._members.get(channel, ()))

    def is_admin(self, user):
        return False


class Clock:
    now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture()
def env(database, sim):  # on SQLite and on PostgreSQL
    store = Store(database)
    sim.add_key(NIMROBO_KEY)
    client = NimroboClient(sim.url + "/api", NIMROBO_KEY)
    access = AccessService(store, Directory({"C_HIRING": {"U_ALICE", "U_BOB"}, "C_OTHER": {"U_CAROL"}}))
    clock = Clock()
    service = VoiceLinkService(store, client, Settings(), workers=4, access=access, clock=clock)
    yield service, client, clock
    client.close()
    store.close()


def make(service, name, labels, channel, creator, pattern="interview"):
    return service.create(VoiceForm(pattern=pattern, name=name, labels=labels, prompt=PROMPT,
                                    expiry_preset="1_week"), channel=channel, creator=creator)


def labels(listing):
    return sorted(link.label for link in listing.links)


def test_the_list_asks_only_for_the_known_projects_and_shows_only_visible_links(env, sim):
    service, client, _ = env
    for i in range(30):
        client.create_project(f"Untouched {i}", PROMPT)
    make(service, "Data Engineer", ["Ada"], "C_HIRING", "U_ALICE")  # Alice's
    make(service, "QA Lead", ["Alan"], "C_HIRING", "U_BOB")  # Bob's, in the same channel
    make(service, "Designer", ["Grace"], "C_OTHER", "U_CAROL")  # elsewhere
    sim.reset_calls()
    mine = service.list_for("", user="U_ALICE", channel="C_HIRING", fresh=True)
    assert labels(mine) == ["Ada", "Alan"] and mine.more
    assert sim.calls[LISTINGS] == 2 and sim.calls.get("GET /api/v1/projects", 0) == 0
    # Mallory, in no channel: the same place shows her nothing, and neither does every project
    assert labels(service.list_for("", user="U_MALLORY", channel="C_HIRING")) == []
    assert labels(service.list_for(EVERY_PROJECT, user="U_MALLORY", channel="C_X")) == []
    assert labels(service.list_for(EVERY_PROJECT, user="U_CAROL", channel="C_OTHER")) == ["Grace"]


def test_every_project_is_cached_and_refetched_after_the_ttl_or_a_change(env, sim):
    service, client, clock = env
    for i in range(10):
        client.create_project(f"Untouched {i}", PROMPT)
    make(service, "Data Engineer", ["Ada"], "C_HIRING", "U_ALICE")
    sim.reset_calls()
    service.list_for(EVERY_PROJECT, user="U_ALICE", channel="C_HIRING")
    assert sim.calls[LISTINGS] == 11 and sim.calls[INSTANT] == 1
    sim.reset_calls()
    service.list_for(EVERY_PROJECT, user="U_ALICE", channel="C_HIRING")
    assert sim.calls.get(LISTINGS, 0) == 0
    make(service, "Data Engineer", ["Alan"], "C_HIRING", "U_ALICE")  # links made here: that listing is redone
    sim.reset_calls()
    assert labels(service.list_for(EVERY_PROJECT, user="U_ALICE", channel="C_HIRING")) == ["Ada", "Alan"]
    assert sim.calls[LISTINGS] == 1
    clock.now += 61
    sim.reset_calls()
    service.list_for(EVERY_PROJECT, user="U_ALICE", channel="C_HIRING")
    assert sim.calls[LISTINGS] == 11


def test_instant_link_edit_lists_the_instant_links_once_never_every_project(env, sim):
    service, client, _ = env
    for i in range(10):
        client.create_project(f"Untouched {i}", PROMPT)
    result = make(service, "", ["Walk-in"], "C_HIRING", "U_ALICE", pattern="instant")
    sim.reset_calls()
    link, _ = service.editable_instant_link(result.links[0].id, user="U_ALICE")
    assert link.label == "Walk-in" and dict(sim.calls) == {INSTANT: 1}
    with pytest.raises(NotFoundHere) as refused:  # someone who may not see it: as for a link that does not exist
        service.editable_instant_link(result.links[0].id, user="U_MALLORY")
    with pytest.raises(NotFoundHere) as missing:
        service.editable_instant_link("lnk_missing", user="U_MALLORY")
    assert str(refused.value).replace(result.links[0].id, "X") == str(missing.value).replace("lnk_missing", "X")


def test_a_session_the_watcher_records_while_a_button_looks_it_up_is_still_found(env, sim, monkeypatch):
    """A button on a session the bot has not recorded yet looks it up in Nimrobo's listings of the links still
    without one; if the watcher records it in between, the link has left that listing, and the session must
    still be found (or the person pressing is refused a session of their own channel)."""
    from services.voice.links import LINKS

    service, _, _ = env
    [link] = make(service, "Data Engineer", ["Ada"], "C_HIRING", "U_ALICE").links
    session = sim.start_session(link.id)
    real, looks = service.session_row, []

    def watcher_records_right_after_the_first_look(session_id):
        row = real(session_id)
        if not looks:
            looks.append(session_id)
            service.store.update(LINKS, link.id, {"session_id": session_id})  # the watcher, on its own thread
        return row

    monkeypatch.setattr(service, "session_row", watcher_records_right_after_the_first_look)
    found = service.learn_session(session)
    assert found is not None and found.id == link.id and found.channel == "C_HIRING"
