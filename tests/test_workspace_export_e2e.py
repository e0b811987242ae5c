"""``/pluto admin export`` end to end, one workspace (SLACK_BOT_TOKEN): the real bot over HTTP against the Slack
test bed, on SQLite and PostgreSQL. An admin gets the workspace's zip of CSVs in their DM (through the outbox,
audited, its copy gone from the outbox once sent); anyone else is refused privately; ``/pluto admin`` alone gives
its usage. In single-workspace mode the leaving events change nothing."""

import csv
import io
import zipfile

import pytest

from sandbox.stack import Stack, StackOptions
from tests.conftest import db_options

OWNER, USER, CHANNEL = "U_OWNER", "U_ALICE", "C_HIRING"


@pytest.fixture()
def stack(database):
    options = StackOptions(openai=False, **db_options(database))
    with Stack(options) as s:
        s.slack.add_user(OWNER, "Olive Owner", is_owner=True)
        s.slack.add_user(USER, "Alice Recruiter")
        yield s


def zips(stack):
    return [u for u in stack.slack.uploads() if u["filename"].startswith("pluto-workspace-")]


def answers(stack, user, text):
    return [r for r in stack.slack.responses(user) if text in r["text"]]


def test_an_admin_gets_the_workspace_zip_by_dm_and_others_are_refused(stack):
    store = stack.services.store
    store.save_file("F_EVIDENCE", "candidates.csv", b"name,email\n@Ada,ada@example.com\n")
    stack.signer.command("/pluto", "digest 09:00", user=USER, channel=CHANNEL)  # a record made through Slack
    stack.slack.wait_for(lambda: store.count("channel_digests") == 1)

    # a recruiter is refused, privately, and nothing is sent
    stack.signer.command("/pluto", "admin export", user=USER, channel=CHANNEL)
    stack.slack.wait_for(lambda: answers(stack, USER, "Only workspace admins"))
    # usage for /pluto admin alone and for an unknown action
    ack = stack.signer.command("/pluto", "admin", user=OWNER, channel=CHANNEL)
    assert "/pluto admin export" in ack.text
    stack.signer.command("/pluto", "admin everything", user=OWNER, channel=CHANNEL)
    stack.slack.wait_for(lambda: answers(stack, OWNER, "Usage: `/pluto admin export`"))

    # Slack's leaving events change nothing with one workspace: its token is the operator's
    stack.signer.event({"type": "app_uninstalled"})
    stack.signer.event({"type": "tokens_revoked", "tokens": {"bot": ["UBOT"]}})

    # the owner (a Slack workspace owner) gets the zip in their DM, never in the channel
    stack.signer.command("/pluto", "admin export", user=OWNER, channel=CHANNEL)
    upload = stack.slack.wait_for(lambda: zips(stack))[-1]
    assert upload["channel"] == stack.slack.dm_channel(OWNER)
    assert not [m for m in stack.slack.messages(CHANNEL) if m.get("files")]
    assert answers(stack, OWNER, "on its way to you by DM")
    assert answers(stack, USER, "Only workspace admins") and len(zips(stack)) == 1
    with zipfile.ZipFile(io.BytesIO(upload["content"])) as archive:
        files = {name: archive.read(name).decode() for name in archive.namelist()}
    assert {"README.txt", "files.csv", "channel_digests.csv", "audit_log.csv", "scoring_runs.csv"} <= set(files)
    assert "leader_heartbeat.csv" not in files
    digest = list(csv.DictReader(io.StringIO(files["channel_digests.csv"])))
    assert [(d["channel"], d["at_time"]) for d in digest] == [(CHANNEL, "09:00")]
    assert "channel_digests.csv (1 rows)" in files["README.txt"]
    # audited; and once Slack has it, the zip's copy leaves the outbox (the row stays: never sent twice)
    stack.slack.wait_for(lambda: store.count("audit_log", "action = 'workspace_export' and user_id = ?", [OWNER]) == 1)
    row = stack.slack.wait_for(lambda: [r for r in store.rows("outbox", "key like 'workspace_export:%'")
                                        if "content_left_out_bytes" in r["payload_json"]])[0]
    assert row["state"] == "sent" and "content_b64" not in row["payload_json"]
    assert row["payload_json"]["content_left_out_bytes"] == len(upload["content"])
