"""Workflow Builder steps: what each of the bot's three custom functions does, and how each one ends.

The steps are defined in ``manifest.yml`` (``functions``) and reach the bot as ``function_executed``
events (``handlers/events/steps.py``, Bolt's ``app.function``). Each acts as the person who ran the
workflow (the ``user_id`` input, which Workflow Builder fills with "Person who used this workflow"),
with the same rules as in the app, and ends exactly once:

* ``create_voice_link``: one link on an existing voice project. Its URL is a bearer secret: it leaves
  only through the step's outputs (the workflow's author decides where it goes); the bot posts nothing.
* ``score_candidates``: the normal scoring run (root message, preview, progress, queue); the step waits
  (stored) until the run's shortlist is posted, then hands over the permalink, the top candidate and
  the count.
* ``voice_screen_top``: the top N of a finished run, as "Voice-screen top N" would prefill them; links
  to the runner by DM, the board in the run's thread; outputs the board's permalink and the link ids.

An outcome is decided and stored first (:class:`services.steps.StepService`), then sent to Slack
(``functions.completeSuccess`` / ``functions.completeError``) with the execution's own token when
the event's client is at hand, else with the bot token (a step resumed by the ``workflow_steps`` job,
after a restart or on another replica).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.context import Services
from bot.flows import scoring as scoring_flow
from bot.flows import screening as screening_flow
from bot.slack_out import SlackOut
from services.errors import NotAllowed, NotFoundHere, Refusal, ServiceError
from services.steps import Execution
from services.voice_forms import EXPIRY_PRESETS, VoiceForm

log = logging.getLogger(__name__)

CREATE_LINK, SCORE, SCREEN = "create_voice_link", "score_candidates", "voice_screen_top"
STEPS = (CREATE_LINK, SCORE, SCREEN)
SHORTLIST_KEY = scoring_flow.SHORTLIST  # the outbox key prefix of a run's shortlist post
#: Slack errors that mean the execution is over on Slack's side: sending again can never work
GONE = {"function_execution_not_found", "function_execution_already_completed", "invalid_function_execution_id"}
BAD_OUTPUTS = {"invalid_arguments", "invalid_outputs"}
_TS_IN_PERMALINK = re.compile(r"/p(\d{10})(\d{6})")

Step = Callable[[Services, SlackOut, Execution], "dict[str, Any] | None"]
#: executions this process is working on now: never "recovered" as if a restart had cut them short
IN_FLIGHT: set[str] = set()
#: outputs that are bearer secrets (a voice link's URL): never stored, held here until Slack has them
SECRET_OUTPUTS = ("link_url",)
_SECRETS: dict[str, dict[str, Any]] = {}


# -- starting ------------------------------------------------------------------------------------
def start(services: Services, client: WebClient, execution: Execution) -> None:
    """Run one step (on the work pool, as the person who ran the workflow) and decide its outcome.

    A step returns its outputs (success now) or None (it waits on stored state). A refusal or an API
    error becomes the step's error sentence; anything else a sentence with a reference, never a hang.
    """
    step = _STEPS.get(execution.callback_id)
    out = SlackOut(client)
    IN_FLIGHT.add(execution.id)
    try:
        if step is None:
            raise NotFoundHere(f"Pluto Bot has no step called {execution.callback_id}.",
                               hint="Update the app from its manifest.yml.")
        if not execution.user:
            raise Refusal("The step needs the person who ran the workflow.",
                          hint="Set its “Person” input to “Person who used this workflow”.")
        outputs = step(services, out, execution)
    except ServiceError as exc:
        log.info("workflow step %s (%s) refused: %s", execution.callback_id, execution.id, exc)
        services.steps.fail(execution.id, exc.user_message)
    except Exception:
        ref = uuid.uuid4().hex[:8]
        log.exception("workflow step %s (%s) crashed (ref %s)", execution.callback_id, execution.id, ref)
        services.steps.fail(execution.id, f"Pluto Bot hit an unexpected error (reference {ref}). Nothing was "
                                          "posted; run the workflow again, or ask the app's admin with that "
                                          "reference.")
    else:
        if outputs is not None:
            _succeed(services, execution.id, outputs)
    try:
        send(services, client, execution.id)  # with the execution's own token; the job only if this fails
    finally:
        IN_FLIGHT.discard(execution.id)


def send(services: Services, client: WebClient, execution_id: str) -> bool:
    """Hand a decided outcome to Slack; True once Slack has it (or will never take it)."""
    execution = services.steps.get(execution_id)
    if execution is None or execution.state != "finishing":
        return execution is not None and execution.state in ("completed", "failed")
    services.steps.attempted(execution_id)
    outputs = {**(execution.outputs or {}), **_SECRETS.get(execution_id, {})}
    if not execution.error and any(key in outputs and not outputs[key] for key in SECRET_OUTPUTS):
        outputs.update(_secret_outputs(services, execution))  # held by a process that is gone: read back
        if any(key in outputs and not outputs[key] for key in SECRET_OUTPUTS):
            services.steps.outputs_refused(execution_id, "Pluto Bot made the link (" + str(outputs.get("link_id"))
                                           + "), but could not read its URL back after a restart; find it with "
                                             "/voicelink list rather than running the step again.")
            return send(services, client, execution_id)
    try:
        if execution.error:
            client.functions_completeError(function_execution_id=execution_id, error=execution.error)
        else:
            client.functions_completeSuccess(function_execution_id=execution_id, outputs=outputs)
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else ""
        if error in BAD_OUTPUTS and not execution.error:  # Slack refused the outputs: tell the author why
            log.error("workflow step %s: Slack refused the outputs (%s)", execution_id, exc.response.data)
            services.steps.outputs_refused(execution_id, f"Pluto Bot made the outputs, but Slack refused them "
                                                         f"({error}). Update the app from its manifest.yml, then "
                                                         "run the workflow again.")
            return send(services, client, execution_id)
        if error in GONE or error in BAD_OUTPUTS:
            log.warning("workflow step %s: Slack no longer takes its outcome (%s)", execution_id, error)
            services.steps.sent(execution_id)
            _SECRETS.pop(execution_id, None)
            return True
        log.warning("workflow step %s: completing failed (%s); trying again next period", execution_id, error)
        return False
    except Exception as exc:  # the network: the ``workflow_steps`` job sends it again
        log.warning("workflow step %s: completing failed (%s); trying again next period", execution_id, exc)
        return False
    services.steps.sent(execution_id)
    _SECRETS.pop(execution_id, None)
    return True


def _succeed(services: Services, execution_id: str, outputs: dict[str, Any]) -> None:
    """Decide success; a secret output is held in memory and stored only as an empty placeholder."""
    held = {key: outputs[key] for key in SECRET_OUTPUTS if key in outputs}
    if held:
        _SECRETS[execution_id] = held
    if not services.steps.succeed(execution_id, {**outputs, **dict.fromkeys(held, "")}):
        _SECRETS.pop(execution_id, None)


def _secret_outputs(services: Services, execution: Execution) -> dict[str, Any]:
    """A link's URL read back from Nimrobo (as its creator) by the link id the outputs hold."""
    link_id = str((execution.outputs or {}).get("link_id") or "")
    row = services.voicelinks.link_row(link_id) if link_id else None
    if row is None:
        return {}
    try:
        with services.work.acting_as(execution.user):  # their own Nimrobo key, as when it was made
            found = next((link for link in services.voicelinks.links(row.project_id or "") if link.id == row.id),
                         None)
    except ServiceError as exc:
        log.warning("workflow step %s: could not read link %s back (%s)", execution.id, link_id, exc)
        return {}
    return {"link_url": found.url} if found is not None and found.url else {}


# -- the three steps ---------------------------------------------------------------------------------
def create_link(services: Services, out: SlackOut, execution: Execution) -> dict[str, Any]:
    inputs = execution.inputs
    name = " ".join(str(inputs.get("candidate_name") or "").split())
    query = str(inputs.get("project") or "").strip()
    expiry = str(inputs.get("expiry") or "1_week").strip().lower().replace(" ", "_")
    if not name:
        raise Refusal("The step needs the candidate's name (the link's label).")
    if not query:
        raise Refusal("The step needs the voice project, by name or id.",
                      hint="`/voicelink projects` lists them.")
    if expiry not in EXPIRY_PRESETS:
        raise Refusal(f"“{expiry}” is not an expiry Nimrobo knows; use 1_day, 1_week or 1_month.")
    project = services.voicelinks.project(query)
    form = VoiceForm(pattern="project", name=project.name, labels=[name], prompt="", expiry_preset=expiry,
                     project_id=project.id)
    batch_id = uuid.uuid4().hex[:12]
    services.steps.note(execution.id, f"batch:{batch_id}")  # found again after a crash mid-call
    result = services.voicelinks.create(form, channel="", creator=execution.user, batch_id=batch_id)
    if not result.links:
        raise result.error if isinstance(result.error, ServiceError) else Refusal(
            "Nimrobo made no link.", hint="Run the workflow again.")
    link = result.links[0]
    return {"link_id": link.id, "link_url": link.url}


def score(services: Services, out: SlackOut, execution: Execution) -> None:
    inputs, user = execution.inputs, execution.user
    channel = str(inputs.get("channel_id") or "").strip()
    file_id = _file_id(inputs.get("file_id"))
    if not channel:
        raise Refusal("The step needs the channel to post the shortlist in.")
    if not file_id:
        raise Refusal("The step needs a CSV file of candidates.")
    decision = services.access.may_use_channel(user, channel)
    if not decision.allowed:
        raise NotAllowed(f"<@{user}> is not a member of <#{channel}>, so Pluto Bot won't post a shortlist there "
                         "on their behalf.", hint="Pick a channel they are in, or add them to it.")
    try:
        top_n = int(inputs.get("top_n") or 10)
    except (TypeError, ValueError):
        raise Refusal(f"“{inputs.get('top_n')}” is not a number of candidates to list.") from None
    try:
        file = out.file(file_id)
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else "error"
        raise Refusal(f"Slack would not give Pluto Bot the file ({error}).",
                      hint="Use a file uploaded in the workflow's form, or one shared where Pluto Bot is.") from None
    run = scoring_flow.start_scoring(services, out, file=file, channel=channel, thread_ts=None, user=user,
                                     job_description=str(inputs.get("job_description") or ""),
                                     top_n=max(1, min(50, top_n)), on_refusal=_raise)
    if run is None:  # refused: start_scoring told the person privately; the step says why too
        raise Refusal("The file was refused.")
    services.steps.wait_for(execution.id, f"run:{run.id}")
    return None


def screen(services: Services, out: SlackOut, execution: Execution) -> dict[str, Any] | None:
    inputs, user = execution.inputs, execution.user
    run_id = run_id_of(services, str(inputs.get("run") or ""))
    try:
        top_n = int(inputs.get("top_n") or 0)
    except (TypeError, ValueError):
        top_n = 0
    if top_n < 1:
        raise Refusal(f"“{inputs.get('top_n')}” is not a number of candidates; give N as 1 or more.")
    decision = services.access.may_see_run(user, run_id)
    if not decision.allowed:
        raise NotAllowed(decision.refusal("that shortlist"))
    board, link_ids, _ = screening_flow.screen_top(services, out, run_id=run_id, top_n=top_n, user=user)
    if board.message_ts:
        return {"board_permalink": permalink(out.client, board.channel, board.message_ts), "link_ids": link_ids}
    # the board's first post is on its way through the outbox: finish once it is in the thread
    services.steps.wait_for(execution.id, f"board:{board.id}:{','.join(link_ids)}")
    return None


_STEPS: dict[str, Step] = {CREATE_LINK: create_link, SCORE: score, SCREEN: screen}


# -- resuming -------------------------------------------------------------------------------------
def resume(services: Services, client: WebClient) -> None:
    """The ``workflow_steps`` job: finish what waits on stored state, resume or fail what a restart cut
    short, and send every decided outcome Slack does not have yet."""
    steps = services.steps
    if not steps.any_open():
        return
    for execution in steps.waiting_rows():
        try:
            _check_waiting(services, client, execution)
        except Exception:
            log.exception("workflow step %s: checking its run failed; next period", execution.id)
    for execution in steps.interrupted():
        if execution.id not in IN_FLIGHT:
            _recover(services, execution)
    for execution in steps.to_send():
        if services.stopping.is_set():
            return
        if execution.id not in IN_FLIGHT:  # this process is sending it right now
            send(services, client, execution.id)


def _check_waiting(services: Services, client: WebClient, execution: Execution) -> None:
    kind, run_id = execution.waiting_on
    if kind == "board":
        _check_board(services, client, execution)
        return
    if kind != "run":
        services.steps.fail(execution.id, "Pluto Bot lost track of what this step was waiting for; run the "
                                          "workflow again.")
        return
    run = services.scoring.get(run_id)
    why_not = services.steps.run_outcome(run)
    if why_not:
        services.steps.fail(execution.id, why_not)
        return
    assert run is not None
    posted = services.outbox.get(f"{SHORTLIST_KEY}:{run.id}")
    if run.state != "complete" or posted is None:
        return  # still queued, uploading or running, or the shortlist is not posted yet
    state = str(posted.get("state") or "")
    if state.startswith("undeliverable"):
        services.steps.fail(execution.id, f"Scoring {run.filename} finished, but its shortlist could not be "
                                          f"posted in <#{run.channel}> ({posted.get('error') or state}). Check "
                                          "that Pluto Bot is in the channel, then run `/pluto results` there.")
        return
    if state not in ("sent", "posted"):
        return
    ranked = sorted(run.candidates, key=lambda c: (c.rank if c.rank is not None else 10**9, -(c.final_score or 0)))
    link = permalink(client, run.channel, run.thread_ts or posted.get("message_ts") or "")
    services.steps.succeed(execution.id, {"run_id": run.id, "run_permalink": link,
                                          "top_candidate": ranked[0].name if ranked else "",
                                          "count": len(ranked)})


def _check_board(services: Services, client: WebClient, execution: Execution) -> None:
    """A voice-screen step waits for its board's first post (the outbox sends it)."""
    _, _, rest = execution.waiting_for.partition(":")
    board_id, _, ids = rest.partition(":")
    board = services.screening.board(board_id)
    if board.message_ts:
        services.steps.succeed(execution.id, {"board_permalink": permalink(client, board.channel, board.message_ts),
                                              "link_ids": [i for i in ids.split(",") if i]})
        return
    posted = services.outbox.get(f"{screening_flow.BOARD_POST}:{board_id}") or {}
    if str(posted.get("state") or "").startswith("undeliverable"):
        services.steps.fail(execution.id, f"The voice links were made and sent to <@{execution.user}> by DM, but "
                                          f"the screening board could not be posted in <#{board.channel}> "
                                          f"({posted.get('error') or 'undeliverable'}). Check that Pluto Bot is in "
                                          "the channel.")


def _recover(services: Services, execution: Execution) -> None:
    """A step left ``working`` by a replica that died: resume it from what was stored, else fail it with
    the reason. A POST that may have landed is never sent again blindly."""
    kind, ident = execution.waiting_on
    if execution.callback_id == CREATE_LINK and kind == "batch":
        rows = services.voicelinks.links_of(ident)
        if rows:
            row = rows[0]
            held = _secret_outputs(services, replace(execution, outputs={"link_id": row.id}))
            if held:
                _succeed(services, execution.id, {"link_id": row.id, **held})
                return
            services.steps.fail(execution.id, f"Pluto Bot restarted while making this link. Nimrobo made it "
                                              f"(link {row.id}), but its URL could not be read back now; find "
                                              "it with /voicelink list rather than running the step again.")
            return
        services.steps.fail(execution.id, "Pluto Bot restarted while asking Nimrobo for this link, so it can't "
                                          "tell whether the link exists. Check /voicelink list for the "
                                          "candidate before running the workflow again.")
        return
    what = {SCORE: "checking the file", SCREEN: "making the voice links"}.get(execution.callback_id, "working")
    hint = " Look at the run's Screening board before running it again." if execution.callback_id == SCREEN else \
        " Nothing was started; run the workflow again."
    services.steps.fail(execution.id, f"Pluto Bot restarted while {what} for this step.{hint}")


# -- helpers ----------------------------------------------------------------------------------------
def permalink(client: WebClient, channel: str, ts: str) -> str:
    if not channel or not ts:
        return ""
    return str(client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink") or "")


def run_id_of(services: Services, text: str) -> str:
    """A run named by its id, or by a permalink to its shortlist thread (the scoring step's output)."""
    text = text.strip()
    if not text:
        raise Refusal("The step needs a finished scoring run: its id or the permalink the scoring step outputs.")
    match = _TS_IN_PERMALINK.search(text)
    if match:
        found = services.scoring.run_at(f"{match.group(1)}.{match.group(2)}")
        if found is None:
            raise NotFoundHere("That permalink is not a scoring run's thread.",
                               hint="Use the run permalink output of the “Score candidates from a file” step.")
        return found.id
    return text


def _file_id(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("id") or "")
    if isinstance(value, list):
        return _file_id(value[0]) if value else ""
    return str(value or "").strip()


def _raise(error: ServiceError) -> None:
    raise error
