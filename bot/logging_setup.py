"""Logging that never prints a secret, even one passed through by a library."""

from __future__ import annotations

import logging

from config import Settings


class SecretFilter(logging.Filter):
    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 6]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        masked = message
        for secret in self.secrets:
            masked = masked.replace(secret, "***")
        if masked != message:
            record.msg, record.args = masked, ()
        return True


def configure_logging(settings: Settings) -> None:
    secrets = [s.reveal() for s in (settings.slack_bot_token, settings.slack_signing_secret,
                                     settings.slack_app_token, settings.nimrobo_api_key, settings.openai_api_key)]
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(SecretFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level if settings.log_level in logging.getLevelNamesMapping() else "INFO")
    quiet_libraries()


# Libraries whose INFO/DEBUG lines carry request URLs or bodies: a query-string token, a message
# with a private link. Their warnings and errors still show.
NOISY = ("httpx", "httpcore", "apscheduler.executors.default", "slack_bolt.App", "slack_sdk")


def quiet_libraries() -> None:
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
