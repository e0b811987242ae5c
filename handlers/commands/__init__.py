"""Slack commands listeners; each module registers itself with ``register(app, services)``."""
