"""Workflow Builder steps: ``function_executed`` for the three custom functions in ``manifest.yml``.

Bolt's ``app.function`` acknowledges the event and hands the listener a client holding the
execution's own token (``bot_access_token``, attached by Bolt). The listener records the execution once
(Slack may deliver the event again) and runs the step on the work pool as the person who ran the
workflow; ``bot/flows/steps.py`` decides and sends the outcome.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.context import Services
from bot.flows import steps as flow
from handlers import inject

log = logging.getLogger(__name__)


def on_function(event: dict[str, Any], client: WebClient, services: Services) -> None:
    execution_id = str(event.get("function_execution_id") or "")
    callback_id = str((event.get("function") or {}).get("callback_id") or "")
    inputs = dict(event.get("inputs") or {})
    user = str(inputs.get("user_id") or "")
    if not execution_id or not services.steps.begin(execution_id, callback_id, user, inputs):
        log.info("workflow step %s (%s) is known already; ignoring the repeat", callback_id, execution_id)
        return
    execution = services.steps.get(execution_id)
    assert execution is not None

    def run() -> None:
        with services.work.acting_as(user):  # Nimrobo calls use this person's own key when they have one
            flow.start(services, client, execution)

    services.work.submit(user or "-", run, what=f"workflow step {callback_id}")


def register(app: App, services: Services) -> None:
    for callback_id in flow.STEPS:
        app.function(callback_id)(inject(on_function, services))
