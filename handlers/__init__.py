"""Slack listeners, grouped by surface (commands, actions, views, events).

Listeners are top-level functions whose dependencies are arguments: Bolt's own
(``ack``, ``body``, ``action``, ``view``, ``event``, ``client``, ``respond`` ...) plus
``services``, which :func:`inject` supplies, so a test can call one with a mock ``ack``.
Every module in a surface package that defines ``register(app, services)`` registers its
listeners, as the bolt-python starter template does. Listeners stay thin: ack, parse the
payload, and hand the rest to a feature service and a flow or builder in ``bot/``, on the
work pool when it is slow.

Imports run one way: ``handlers → bot → services → config``.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from typing import Any

from slack_bolt import App

from bot.context import Services

SURFACES = ("commands", "actions", "views", "events")


def inject(listener: Callable[..., Any], services: Services) -> Callable[..., Any]:
    """``listener`` as Bolt calls it: every argument Bolt knows by name, plus ``services``."""
    signature = inspect.signature(listener)
    if "services" not in signature.parameters:
        return listener

    def bound(**kwargs: Any) -> Any:
        return listener(**kwargs, services=services)

    # Bolt passes the arguments a listener names; show it every name but ``services``.
    bound.__signature__ = signature.replace(  # type: ignore[attr-defined]  # read by Bolt's inspect.signature
        parameters=[p for name, p in signature.parameters.items() if name != "services"])
    bound.__name__ = getattr(listener, "__name__", "listener")
    return bound


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
