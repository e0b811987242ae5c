"""The /pluto score modal's submission: inline errors, then the run starts in a thread."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.blocks.pluto import SCORE_MODAL
from bot.context import Services
from bot.flows.scoring import start_from_modal
from bot.slack_out import SlackOut
from bot.work import defer
from handlers import inject


def parse(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    files = (values.get("file", {}).get("file") or {}).get("files") or []
    if not files:
        errors["file"] = "Attach one CSV file."
    elif not str(files[0].get("name", "")).lower().endswith(".csv"):
        errors["file"] = "That is not a .csv file. Export the sheet as CSV first."
    raw_n = (values.get("top_n", {}).get("top_n") or {}).get("value")
    top_n = 10
    if raw_n not in (None, ""):
        try:
            top_n = int(raw_n)
        except ValueError:
            errors["top_n"] = "Enter a whole number."
        else:
            if not 1 <= top_n <= 200:
                errors["top_n"] = "Choose between 1 and 200."
    jd = (values.get("jd", {}).get("jd") or {}).get("value") or ""
    return {"file": files[0] if files else None, "top_n": top_n, "job_description": jd.strip()}, errors


def on_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services) -> None:
    form, errors = parse(view["state"]["values"])
    if errors:
        ack(response_action="errors", errors=errors)
        return
    ack()
    user = body["user"]["id"]
    channel = json.loads(view.get("private_metadata") or "{}").get("channel", "")
    out = SlackOut(client)
    defer(services.work, user,
          lambda: start_from_modal(services, out, file_id=form["file"]["id"], channel=channel, user=user,
                                   job_description=form["job_description"], top_n=form["top_n"]),
          lambda message: out.reply_privately(channel, user, message), "/pluto score")


def register(app: App, services: Services) -> None:
    app.view(SCORE_MODAL)(inject(on_submit, services))
