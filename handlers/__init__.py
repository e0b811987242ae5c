"""Slack listeners, grouped by surface (commands, actions, views, events).

Every module in a surface package that defines ``register(app, services)`` registers
itself, as the bolt-python starter template does. Handlers stay thin: parse the
payload, call a service, render with a builder from ``bot.blocks``.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from slack_bolt import App

    from bot.context import Services

SURFACES = ("commands", "actions", "views", "events")


def register_all(app: App, services: Services) -> list[str]:
    """Import every surface module and call its ``register``; return the module names."""
    registered = []
    for surface in SURFACES:
        package = importlib.import_module(f"handlers.{surface}")
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
            module = importlib.import_module(f"handlers.{surface}.{info.name}")
            register = getattr(module, "register", None)
            if callable(register):
                register(app, services)
                registered.append(module.__name__)
    return registered
