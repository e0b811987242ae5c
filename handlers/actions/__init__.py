"""Slack actions listeners; each module registers itself with ``register(app, services)``."""
