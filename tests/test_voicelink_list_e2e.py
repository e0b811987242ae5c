"""``/voicelink list`` from what the bot knows, end to end (the real bot over HTTP, the Slack test bed, the
Nimrobo simulator): the person's own links and the channel's projects first, every project on request (cached),
only links the person may see; and a link made outside the bot keeps its label in the JSON transcript."""

import json
import re

import pytest

from sandbox.stack import Stack, StackOptions
from tests.test_voicelink_e2e import make_links

USER, OUTSIDER, CHANNEL, ELSEWHERE = "U_ALICE", "U_MALLORY", "C_HIRING", "C_ELSEWHERE"
LISTINGS = "GET /api/v1/projects/{project_id}/links"
PROMPT = "## Goal\ng\n\n## Role\nr\n\n## Guidelines\ng\n\n## Constraints\nc"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):  # no scheduler: the card refresher's listings would blur the request counts
    options = StackOptions(openai=False, scheduler=False, nimrobo={"evaluation_delay": 0, "summary_delay": 0},
                           database_path=str(tmp_path_factory.mktemp("db") / "bot.db"))
    with Stack(options) as s:
        s.slack.members[CHANNEL] = {USER, s.slack.bot_user_id}
        s.slack.members[ELSEWHERE] = {USER, OUTSIDER, s.slack.bot_user_id}
        yield s


def listed(stack, user, count):
    """The ``count``-th "N voice links" answer to ``user``."""
    return stack.slack.wait_for(lambda: len(found := [r for r in stack.slack.responses(user)
                                                      if re.fullmatch(r"\d+ voice links", r["text"])]) >= count
                                and found)[count - 1]


def test_list_reads_only_known_projects_every_project_on_request_and_only_visible_links(stack):
    client = stack.services.nimrobo
    outside = client.create_project("Ops Lead", PROMPT)  # made in Nimrobo, not through the bot
    client.create_links(outside.id, ["Someone Else"], "1_week")
    for i in range(20):
        client.create_project(f"Elsewhere {i}", PROMPT)
    make_links(stack, labels="Ada Lovelace", name="Backend Engineer")

    stack.nimrobo.reset_calls()
    stack.signer.command("/voicelink", "list", user=USER, channel=CHANNEL)
    mine = str(listed(stack, USER, 1)["blocks"])
    assert "Ada Lovelace" in mine and "Someone Else" not in mine and "Every project's links" in mine
    assert stack.nimrobo.calls[LISTINGS] == 1  # only the project Alice's link is in, never the other 21

    stack.nimrobo.reset_calls()
    stack.signer.press("Every project's links", user=USER)
    every = str(listed(stack, USER, 2)["blocks"])
    assert stack.nimrobo.calls[LISTINGS] == 21  # asked for: the rest, once each (Ada's project still cached)
    assert "Ada Lovelace" in every and "Someone Else" not in every  # Ops Lead belongs to no channel of hers
    stack.nimrobo.reset_calls()
    stack.signer.command("/voicelink", "list all", user=USER, channel=CHANNEL)
    assert "Ada Lovelace" in str(listed(stack, USER, 3)["blocks"])
    assert stack.nimrobo.calls[LISTINGS] == 0  # from the cache

    # someone outside #hiring: nothing of Ada, by the command or by the button
    stack.signer.command("/voicelink", "list", user=OUTSIDER, channel=ELSEWHERE)
    assert "Ada" not in str(listed(stack, OUTSIDER, 1)["blocks"])
    stack.signer.press("Every project's links", user=OUTSIDER)
    assert "Ada" not in str(listed(stack, OUTSIDER, 2)["blocks"])

    # Mallory can't make her channel follow Backend Engineer to see Ada's interview that way
    stack.signer.command("/voicelink", "subscribe Backend Engineer", user=OUTSIDER, channel=ELSEWHERE)
    stack.slack.wait_for(lambda: [r for r in stack.slack.responses(OUTSIDER) if "can't show you" in r["text"]])
    assert not [r for r in stack.services.store.rows("project_subscriptions") if r["channel"] == ELSEWHERE]

    # #hiring follows Ops Lead: its links are listed for #hiring's members
    stack.signer.command("/voicelink", "subscribe Ops Lead", user=USER, channel=CHANNEL)
    stack.slack.wait_for(lambda: [r for r in stack.slack.responses(USER) if "will be posted" in r["text"]])
    stack.signer.command("/voicelink", "list", user=USER, channel=CHANNEL)
    assert "Someone Else" in str(listed(stack, USER, 4)["blocks"])


def test_a_link_made_outside_the_bot_keeps_its_label_in_the_json_transcript(stack):
    outside = stack.services.nimrobo.create_project("Research Ops", PROMPT)  # made in Nimrobo, not the bot
    [link] = stack.services.nimrobo.create_links(outside.id, ["Someone Outside"], "1_week")
    stack.signer.command("/voicelink", "subscribe Research Ops", user=USER, channel=CHANNEL)  # #hiring may see it
    stack.slack.wait_for(lambda: [r for r in stack.slack.responses(USER) if "will be posted" in r["text"]
                                  and "Research Ops" in r["text"]])
    session = stack.nimrobo.start_session(link.id)
    stack.nimrobo.complete_session(session)
    stack.signer.command("/voicelink", f"status {session}", user=USER, channel=CHANNEL)
    stack.slack.wait_for(lambda: [r for r in stack.slack.responses(USER) if session in str(r["blocks"])
                                  and "completed" in str(r["blocks"])])
    stack.signer.press("Transcript (JSON)", user=USER)
    upload = stack.slack.wait_for(lambda: [u for u in stack.slack.uploads()
                                           if u["filename"] == f"transcript-{session}.json"])[-1]
    data = json.loads(upload["content"])
    assert data["sessionId"] == session and data["label"] == "Someone Outside"
