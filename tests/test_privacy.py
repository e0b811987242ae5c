"""Privacy rules at service level: one masking function for real-world shapes, who may see what,
and recruiters' keys encrypted at rest."""

import pytest
from cryptography.fernet import Fernet

from services.access import AccessService
from services.keys import KeyVault, KeyVaultError, check_encryption_key
from services.privacy import mask_payload, mask_text
from services.store import Store

MASKED = [
    ("jane.doe+jobs@acme.co.uk", "j•••@acme.co.uk"),
    ("Reach me: ann_o'neil@mail.example.org.", None),  # checked below: no raw address left
    ("Call +44 20 7946 0958 today", "Call •••58 today"),
    ("(415) 555-0199", "•••99"),
    ("415.555.0199", "•••99"),
    ("+1-415-555-0199", "•••99"),
    ("0049 30 1234567", "•••67"),
    ("+33 1 23 45 67 89", "•••89"),
    ("+91 98765 43210", "•••10"),
    ("phone 4155550199", "phone •••99"),
    ("lives at 221B Baker Street, London", "lives at [address hidden], London"),
    ("1600 Amphitheatre Parkway, Mountain View", "[address hidden], Mountain View"),
    ("<mailto:ann@x.io|ann@x.io>", "a•••@x.io"),
]
KEPT = [
    "Score 87.5 (Top Tier), 12 years",
    "Acme 2019-2023, then Beta 2023 - 2025",
    "since 2024-05-01",
    "10-15 years",
    "$120,000 - $150,000",
    "1,000,000 users",
    "<!date^1700000000^{date_short_pretty} at {time}|2023-11-14>",
    "<@U123ABC> and <#C0HIRING>",
    "candidate 3f2a9c1e-1b2c-4d5e-8f90-1234567890ab",
    "ts 1700000000.123456",
    "ISO 2026-11-23T17:35:00Z",
]


@pytest.mark.parametrize(("text", "expected"), MASKED)
def test_personal_data_is_masked(text, expected):
    masked = mask_text(text)
    if expected is not None:
        assert masked == expected
    assert "@mail.example.org" in masked and "ann_o" not in masked if expected is None else True


@pytest.mark.parametrize("text", KEPT)
def test_numbers_that_are_not_phones_are_left_alone(text):
    assert mask_text(text) == text


def test_mask_payload_masks_what_people_read_and_keeps_what_buttons_need():
    message = {"text": "Ada ada@x.io", "blocks": [
        {"type": "section", "block_id": "ada@x.io", "text": {"type": "mrkdwn", "text": "+44 20 7946 0958"},
         "accessory": {"type": "button", "action_id": "go", "value": "run|ada@x.io",
                       "text": {"type": "plain_text", "text": "Mail ada@x.io"}}}],
        "metadata": {"event_type": "x", "event_payload": {"label": "ada@x.io", "session_id": "s1"}}}
    masked = mask_payload(message)
    flat = str(masked)
    assert "ada@x.io" in masked["blocks"][0]["block_id"] and masked["blocks"][0]["accessory"]["value"] == "run|ada@x.io"
    assert masked["text"] == "Ada a•••@x.io" and "7946" not in masked["blocks"][0]["text"]["text"]
    assert masked["blocks"][0]["accessory"]["text"]["text"] == "Mail a•••@x.io"
    assert masked["metadata"]["event_payload"] == {"label": "a•••@x.io", "session_id": "s1"}
    assert flat.count("ada@x.io") == 2  # only the block id and the button value


class FakeDirectory:
    def __init__(self, members=None, admins=()):
        self._members, self.admins, self.asked = members or {}, set(admins), []

    def members(self, channel):
        self.asked.append(channel)
        return set(self._members.get(channel, set()))

    def is_admin(self, user):
        return user in self.admins


@pytest.fixture()
def store(tmp_path):
    s = Store(tmp_path / "bot.db")
    s.insert("voice_links", {"id": "l1", "batch_id": "b", "kind": "project", "project_id": "p1", "label": "Ada",
                             "status": "used", "session_id": "s1", "channel": "C_HIRING", "thread_ts": None,
                             "creator": "U_ALICE", "created_at": 0.0, "updated_at": 0.0})
    yield s
    s.close()


def test_a_session_belongs_to_its_channel_its_subscribers_and_its_creator(store):
    directory = FakeDirectory({"C_HIRING": {"U_BOB"}, "C_SUBS": {"U_CAROL"}}, admins={"U_ADMIN"})
    access = AccessService(store, directory, admin_ids=["U_LISTED"])
    assert access.may_see_session("U_ALICE", "s1").allowed  # the creator
    assert access.may_see_session("U_BOB", "s1").allowed  # a member of the link's channel
    assert not access.may_see_session("U_CAROL", "s1").allowed
    store.insert("project_subscriptions", {"project_id": "p1", "channel": "C_SUBS", "created_by": "U_BOB",
                                           "created_at": 0.0})
    assert access.may_see_session("U_CAROL", "s1").allowed  # a member of a subscribed channel
    assert access.may_see_session("U_ADMIN", "s1").allowed and access.may_see_session("U_LISTED", "s1").allowed
    refused = access.may_see_session("U_MALLORY", "s1")
    unknown = access.may_see_session("U_MALLORY", "s_does_not_exist")
    assert not refused.allowed and not unknown.allowed
    assert refused.refusal() == unknown.refusal()  # a refusal never says whether the session exists
    assert "<@U_LISTED>" in refused.refusal()


def test_a_run_belongs_to_its_channel_and_its_starter(store):
    store.insert("scoring_runs", {"id": "r1", "channel": "C_HIRING", "user": "U_ALICE", "state": "complete"})
    access = AccessService(store, FakeDirectory({"C_HIRING": {"U_BOB"}}))
    assert access.may_see_run("U_ALICE", "r1").allowed and access.may_see_run("U_BOB", "r1").allowed
    assert not access.may_see_run("U_MALLORY", "r1").allowed and not access.may_see_run("U_BOB", "nope").allowed


def test_keys_are_encrypted_at_rest_and_never_shown(tmp_path):
    path = tmp_path / "bot.db"
    store = Store(path)
    vault = KeyVault(store, Fernet.generate_key().decode())
    vault.save("U_ALICE", "api_very_secret_key_123", "alice@acme.com", ["sessions:read"])
    loaded = vault.load("U_ALICE")
    assert loaded.key.reveal() == "api_very_secret_key_123"
    assert "api_very_secret" not in repr(loaded) and "api_very_secret" not in str(loaded.key)
    assert loaded.missing_scopes == ("sessions:read",) and loaded.account == "alice@acme.com"
    store.close()
    assert b"api_very_secret_key_123" not in path.read_bytes()
    for wal in tmp_path.glob("bot.db-*"):
        assert b"api_very_secret_key_123" not in wal.read_bytes()


def test_another_encryption_key_cannot_read_a_stored_key_and_none_means_disabled(tmp_path):
    store = Store(tmp_path / "bot.db")
    KeyVault(store, Fernet.generate_key().decode()).save("U1", "api_k", "acct")
    assert KeyVault(store, Fernet.generate_key().decode()).load("U1") is None
    disabled = KeyVault(store, "")
    assert not disabled.enabled and disabled.load("U1") is None
    with pytest.raises(KeyVaultError) as refused:
        disabled.save("U1", "api_k", "acct")
    assert "ENCRYPTION_KEY" in refused.value.user_message
    assert check_encryption_key("not-a-key") and check_encryption_key("") and \
        check_encryption_key(Fernet.generate_key().decode()) is None
    store.close()
