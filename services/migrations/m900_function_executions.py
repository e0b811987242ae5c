"""Workflow Builder steps (custom functions) and the "Ask Pluto" assistant pane.

* ``function_executions``: one row per ``function_executed`` event the bot took on: which step,
  who ran the workflow, the inputs, and where the step is. ``state`` is ``working`` while the bot
  acts on it in memory, ``waiting`` while it waits on something stored (a scoring run), then
  ``completed`` or ``failed`` once Slack has the outcome (``functions.completeSuccess`` /
  ``completeError``); ``finishing`` holds the outcome until Slack confirmed it, so a restart sends
  it again and never leaves the step hanging. The function's own token (``xwfp-``) is never
  stored: a step resumed after a restart completes with the bot token. A finished execution keeps
  no inputs or outputs (names, job descriptions, permalinks).
* ``assistant_threads``: each assistant thread's context (the channel the pane was opened beside),
  the thread context store Bolt's ``Assistant`` reads, shared by every replica.
"""

from typing import Any


def up(db: Any) -> None:
    db["function_executions"].create(
        {
            "id": str,  # Slack's function_execution_id
            "callback_id": str,  # which step (manifest ``functions`` key)
            "user": str,  # the person who ran the workflow; the step acts as them
            "inputs_json": str,
            "state": str,  # working | waiting | finishing | completed | failed
            "waiting_for": str,  # e.g. "run:<run id>"
            "outputs_json": str,  # the outcome to send (success); a secret output (a link URL) only as ""
            "error": str,  # the outcome to send (failure): one sentence a workflow author can act on
            "attempts": int,
            "created_at": float,
            "updated_at": float,
        },
        pk="id",
    )
    db["function_executions"].create_index(["state"])
    db["assistant_threads"].create(
        {
            "id": str,  # "<channel_id>:<thread_ts>" of the assistant thread (the DM with the bot)
            "user": str,
            "context_json": str,  # {"channel_id", "team_id", "enterprise_id"} Slack sent
            "updated_at": float,
        },
        pk="id",
    )
