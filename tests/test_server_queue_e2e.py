"""Two installed workspaces scoring at once on one Pluto server, end to end: the real bot in OAuth mode
on the Slack test bed's two workspaces and the Pluto simulator. The server runs one file at a time, the
workspaces take turns (the one that waited longest first), and each run's progress message counts the
runs ahead in both workspaces, as a number."""


import pytest

from sandbox.stack import Stack, StackOptions
from tests.conftest import module_database

ACME, BETA = "T0SANDBOX", "T0BETA"
USER, CHANNEL = "U_ALICE", "C_GENERAL"
CSV = b"name,email,years_experience\nAda Lovelace,ada@example.com,9\nAlan Turing,alan@example.com,12\n"
SHORTLIST = "pluto_scoring_completed"


@pytest.fixture(params=["sqlite", "postgresql"])
def stack(request):
    database = module_database(request, "queue")
    options = StackOptions(oauth=True, workspaces={BETA: "Beta"}, pluto={"extract_seconds": 0.6, "score_seconds": 0.6},
                           **database)
    with Stack(options) as s:
        for team in (ACME, BETA):
            assert s.install(team).status_code == 200
        yield s


def score(stack, team, name):
    """Someone in ``team`` posts ``name`` mentioning the bot; returns once the run is queued (its preview
    and its progress message are in the thread)."""
    standin, signer = stack.workspace(team)
    file = standin.add_file(name, CSV, user=USER)
    assert signer.app_mention("score", files=[file], user=USER, channel=CHANNEL).status_code == 200
    standin.wait_for(lambda: len([m for m in standin.messages(CHANNEL) if name in str(m)]) >= 2)


def progress_texts(standin, name):
    """Every text the run's messages showed, updates included."""
    return [m["text"] for m in standin.timeline_since(0) if name in str(m.get("text"))]


def test_two_workspaces_share_one_server_in_turns_with_positions_across_both(stack):
    acme, beta = stack.slack, stack.slack.workspace(BETA)
    stack.pluto.stall()  # a1 stays on the server until both files behind it are queued
    score(stack, ACME, "a1.csv")
    stack.slack.wait_for(lambda: stack.pluto.uploads)
    score(stack, BETA, "b1.csv")  # Beta waits from now ...
    score(stack, ACME, "a2.csv")  # ... so it goes before Acme's second file
    # each hears how many runs are ahead, the other workspace's included (and nothing else about them)
    beta.wait_for(lambda: [t for t in progress_texts(beta, "b1.csv") if "position 1" in t])
    acme.wait_for(lambda: [t for t in progress_texts(acme, "a2.csv") if "position 2" in t])
    stack.pluto.stall(False)
    for standin, count in ((acme, 2), (beta, 1)):
        standin.wait_for(lambda s=standin, n=count: len([m for m in s.messages(CHANNEL) if
                                                         (m.get("metadata") or {}).get("event_type") == SHORTLIST]) == n,
                         timeout=40)
    assert [u["filename"] for u in stack.pluto.uploads] == ["a1.csv", "b1.csv", "a2.csv"]
    assert stack.pluto.calls["POST /api/pluto/upload"] == 3  # one each: no upload ever met another run there
    assert not progress_texts(beta, "a1.csv") + progress_texts(beta, "a2.csv")  # nothing of Acme's reaches Beta
