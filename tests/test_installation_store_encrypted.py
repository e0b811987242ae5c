"""The installation store's encryption, column by column (bot/installs.py ``EncryptedInstallationStore``): what the
end-to-end tests can't reach through the test bed (user tokens, the incoming webhook URL, a changed key)."""

import sqlalchemy as sa
from cryptography.fernet import Fernet
from slack_sdk.oauth.installation_store import Installation

from bot.installs import EncryptedInstallationStore
from services.crypto import SLACK_TOKEN_COLUMNS, Cipher

SECRETS = {"bot_token": "xoxb-1-bot", "bot_refresh_token": "xoxe-1-botrefresh", "user_token": "xoxp-1-user",
           "user_refresh_token": "xoxe-1-userrefresh",
           "incoming_webhook_url": "https://hooks.slack.com/services/T1/B1/secretpath"}


def installation() -> Installation:
    return Installation(app_id="A1", enterprise_id="E1", team_id="T1", user_id="U1", bot_id="B1", bot_user_id="UB1",
                        bot_token_expires_in=3600, user_token_expires_in=3600, incoming_webhook_channel_id="C1",
                        **SECRETS)


def test_every_credential_column_is_written_encrypted_and_read_back(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    key = Fernet.generate_key().decode()
    store = EncryptedInstallationStore(cipher=Cipher(key), client_id="1.2", engine=engine)
    store.create_tables()
    given = installation()
    store.save(given)
    assert given.bot_token == SECRETS["bot_token"]  # the caller's object is left as it was
    with engine.connect() as conn:
        raw = repr([conn.execute(sa.text(f"select * from {t}")).mappings().all() for t in SLACK_TOKEN_COLUMNS])
    assert not [value for value in SECRETS.values() if value in raw] and "xox" not in raw and "hooks" not in raw
    found = store.find_installation(enterprise_id="E1", team_id="T1")
    assert {name: getattr(found, name) for name in SECRETS} == SECRETS
    assert store.find_installation(enterprise_id="E1", team_id="T1", user_id="U1").user_token == SECRETS["user_token"]
    bot = store.find_bot(enterprise_id="E1", team_id="T1")
    assert (bot.bot_token, bot.bot_refresh_token) == (SECRETS["bot_token"], SECRETS["bot_refresh_token"])
    # another ENCRYPTION_KEY reads nothing (the workspace is then "not installed"), and hands out no ciphertext
    stranger = EncryptedInstallationStore(cipher=Cipher(Fernet.generate_key().decode()), client_id="1.2",
                                          engine=engine)
    assert stranger.find_bot(enterprise_id="E1", team_id="T1").bot_token is None
    assert stranger.find_installation(enterprise_id="E1", team_id="T1").incoming_webhook_url is None
    engine.dispose()
