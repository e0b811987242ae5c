"""The /pluto score form, in two steps: the file is checked before the form asks for anything else.

Step 1 (the CSV) is acked at once with "Checking <name>…"; the check runs on the work pool and turns the
same form into step 2 (what the file holds; the job description and Top N) or into the problem with a way
back to step 1. Submitting step 2 closes the form and starts the run in a thread.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.blocks.pluto import (
    SCORE_DETAILS,
    SCORE_MODAL,
    SCORE_PROBLEM,
    score_checking_view,
    score_modal,
    top_n_bound,
)
from bot.context import Services
from bot.flows.scoring import check_for_form, start_from_modal
from bot.slack_out import SlackOut
from bot.work import defer
from handlers import inject


def parse_file(values: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """Step 1: the one CSV picked, or the error to show under the field (said before any download)."""
    files = (values.get("file", {}).get("file") or {}).get("files") or []
    if not files:
        return None, {"file": "Attach one CSV file."}
    if not str(files[0].get("name", "")).lower().endswith(".csv"):
        return None, {"file": "That is not a .csv file. Export the sheet as CSV first."}
    return files[0], {}


def parse_details(values: dict[str, Any], rows: int) -> tuple[dict[str, Any], dict[str, str]]:
    """Step 2: the job description and Top N, which is at most the file's ``rows`` candidates."""
    errors: dict[str, str] = {}
    bound = top_n_bound(rows)
    raw_n = (values.get("top_n", {}).get("top_n") or {}).get("value")
    top_n = min(10, bound)
    if raw_n not in (None, ""):
        try:
            top_n = int(raw_n)
        except ValueError:
            errors["top_n"] = "Enter a whole number."
        else:
            if not 1 <= top_n <= bound:
                errors["top_n"] = f"Choose between 1 and {bound}: the file has {rows} candidates." \
                    if bound == rows else f"Choose between 1 and {bound}."
    jd = (values.get("jd", {}).get("jd") or {}).get("value") or ""
    return {"top_n": top_n, "job_description": jd.strip()}, errors


def on_file(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services) -> None:
    """Step 1 submitted: "Checking…" on the ack; the download and the checks run on the work pool."""
    file, errors = parse_file(view["state"]["values"])
    if file is None:
        ack(response_action="errors", errors=errors)
        return
    name = str(file.get("name") or "the file")
    # "Checking…" rides on the ack; the outcome replaces it by this check's own external id, so it can only
    # land after it (SlackOut.show_after_ack), and a late one never on a newer view.
    checking, external_id = score_checking_view(name), f"{SCORE_MODAL}:{uuid.uuid4().hex}"
    checking.external_id = external_id
    ack(response_action="update", view=checking.to_dict())
    user = body["user"]["id"]
    channel = json.loads(view.get("private_metadata") or "{}").get("channel", "")
    out = SlackOut(client)
    defer(services.work, user,
          lambda: check_for_form(services, out, external_id=external_id, file_id=file["id"], channel=channel,
                                 filename=name),
          lambda message: out.reply_privately(channel, user, message), "/pluto score")


def on_details(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services) -> None:
    """Step 2 submitted: inline errors, or the form closes and the run starts as before (channel, file id)."""
    meta = json.loads(view.get("private_metadata") or "{}")
    form, errors = parse_details(view["state"]["values"], int(meta.get("rows") or 1))
    if errors:
        ack(response_action="errors", errors=errors)
        return
    ack()
    user, channel = body["user"]["id"], meta.get("channel", "")
    out = SlackOut(client)
    defer(services.work, user,
          lambda: start_from_modal(services, out, file_id=meta.get("file", ""), channel=channel, user=user,
                                   job_description=form["job_description"], top_n=form["top_n"]),
          lambda message: out.reply_privately(channel, user, message), "/pluto score")


def on_problem(ack: Ack, view: dict[str, Any]) -> None:
    """"Choose another file": back to step 1, in the same form."""
    channel = json.loads(view.get("private_metadata") or "{}").get("channel", "")
    ack(response_action="update", view=score_modal(channel).to_dict())


def register(app: App, services: Services) -> None:
    app.view(SCORE_MODAL)(inject(on_file, services))
    app.view(SCORE_DETAILS)(inject(on_details, services))
    app.view(SCORE_PROBLEM)(on_problem)
