"""Slack tokens encrypted at rest, end to end: the real bot in OAuth mode on the Slack test bed, on SQLite and
PostgreSQL. After a real install (token rotation on) slack_sdk's tables hold no token, refresh token or webhook
URL in plain text, yet the bot answers commands and events and rotates its tokens; rows an earlier release
stored in plain text are encrypted by migration m960 at the next start (deferred while the store is opened
without ENCRYPTION_KEY) and still authorize."""


import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from sandbox.stack import Stack, StackOptions
from services.crypto import SLACK_TOKEN_COLUMNS
from services.store import Store
from tests.conftest import module_database

ACME, USER = "T0SANDBOX", "U_ALICE"
M960 = "m960_slack_tokens_encrypted"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stack(request, tmp_path_factory):
    # Tokens live 60 s, well inside SLACK_TOKEN_ROTATION_MINUTES (120): every use refreshes them first.
    database = module_database(request, "atrest")
    options = StackOptions(scheduler=False, oauth=True, token_rotation=True, token_lifetime=60, openai=False,
                           **database)
    with Stack(options) as s:
        yield s


@pytest.fixture()
def installed(stack):
    store = stack.services.installs.installation_store
    if store.find_installation(enterprise_id=None, team_id=ACME) is None:
        assert stack.install(ACME, USER).status_code == 200
    return stack


def raw_rows(stack: Stack) -> list[dict]:
    """``select *`` of slack_sdk's two tables, as anyone reading the database (or a backup) sees them."""
    engine = sa.create_engine(Store(stack.settings.database_target, migrate=False).engine.url)
    try:
        with engine.connect() as conn:
            return [dict(r._mapping) for table in SLACK_TOKEN_COLUMNS
                    for r in conn.execute(sa.text(f"select * from {table}"))]
    finally:
        engine.dispose()


def refreshes(stack: Stack) -> int:
    return len([c for c in stack.slack.api_calls("oauth.v2.access") if c["params"].get("grant_type") == "refresh_token"])


def served(stack: Stack, user: str) -> None:
    """A command is answered (Bolt found the installation) and App Home is published with the workspace's token."""
    answer = stack.signer.command("/pluto", "help", user=user)
    assert answer.status_code == 200 and "/pluto score" in answer.json()["text"]
    assert stack.signer.event({"type": "app_home_opened", "user": user, "channel": "D1", "tab": "home"}
                              ).status_code == 200
    stack.slack.wait_for(lambda: stack.slack.home(user))


def test_no_token_is_stored_in_plain_text_and_the_bot_still_works(installed):
    stack = installed
    before = refreshes(stack)
    served(stack, "U_BOB")
    assert refreshes(stack) > before  # the 60-second token was rotated, and the new pair saved
    live = stack.slack.tokens("bot") + stack.slack.tokens("refresh")
    assert any(t.startswith("xoxe-1-") for t in live)  # a refresh token is out there to leak
    rows = raw_rows(stack)
    dump = repr(rows)
    assert rows and "xox" not in dump
    assert not [t for t in live if t in dump]
    # ... yet what is stored is the live token, encrypted with ENCRYPTION_KEY, not dropped
    fernet = Fernet(stack.settings.encryption_key.reveal().encode())
    bots = [r for r in rows if "incoming_webhook_url" not in r and r["team_id"] == ACME]
    newest = max(bots, key=lambda r: r["installed_at"])
    assert fernet.decrypt(newest["bot_token"].encode()).decode() in stack.slack.tokens("bot")
    assert fernet.decrypt(newest["bot_refresh_token"].encode()).decode() in stack.slack.tokens("refresh")


def test_rows_stored_in_plain_text_are_encrypted_at_the_next_start_and_still_authorize(installed):
    stack = installed
    target = stack.settings.database_target
    fernet = Fernet(stack.settings.encryption_key.reveal().encode())
    stack.stop_bot()
    # What an earlier release left: the same rows, in plain text, and m960 never run.
    store = Store(target, migrate=False)
    with store.engine.begin() as conn:
        for table, columns in SLACK_TOKEN_COLUMNS.items():
            for row in conn.execute(sa.text(f"select * from {table}")).mappings().all():
                plain = {c: fernet.decrypt(row[c].encode()).decode() for c in columns if row[c]}
                if plain:
                    sets = ", ".join(f"{c} = :{c}" for c in plain)
                    conn.execute(sa.text(f"update {table} set {sets} where id = :id"), {**plain, "id": row["id"]})
        conn.execute(sa.text("delete from schema_migrations where name = :n"), {"n": M960})
    store.close()
    assert "xoxe.xoxb-1-" in repr(raw_rows(stack))
    # Opened without ENCRYPTION_KEY (a console, a tool): the migration waits, the rows stay as they are.
    keyless = Store(target)
    try:
        assert M960 in keyless.pending_migrations()
    finally:
        keyless.close()
    assert "xoxe.xoxb-1-" in repr(raw_rows(stack))

    stack.start_bot()  # with the key: m960 runs
    assert M960 not in stack.services.store.pending_migrations()
    dump = repr(raw_rows(stack))
    assert "xox" not in dump
    before = refreshes(stack)
    served(stack, "U_CAROL")  # authorized with the migrated token, which rotates again
    assert refreshes(stack) > before
    assert "xox" not in repr(raw_rows(stack))
