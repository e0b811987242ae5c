"""/pluto score | status | results | candidate | export | cancel."""

from __future__ import annotations

from bot.blocks.pluto import (
    cancel_prompt,
    candidate_card,
    no_candidate_message,
    pick_candidate_message,
    score_modal,
    shortlist_message,
    status_message,
)
from bot.flows.interviews import interviewed_for
from bot.flows.scoring import share_export
from handlers.commands import PLUTO
from handlers.router import CommandRequest


@PLUTO.on("score")
def score(cmd: CommandRequest) -> None:
    cmd.client.views_open(trigger_id=cmd.trigger_id, view=score_modal(cmd.channel_id).to_dict())


@PLUTO.on("status")
def status(cmd: CommandRequest) -> None:
    scoring = cmd.services.scoring
    active, hidden = scoring.active_runs_for(cmd.user_id)
    cmd.reply(status_message(active, next(scoring.visible(cmd.user_id, cmd.channel_id), None), others=hidden))


@PLUTO.on("results")
def results(cmd: CommandRequest) -> None:
    run = cmd.services.scoring.latest_for(cmd.channel_id, cmd.user_id)
    cmd.reply(shortlist_message(run, metadata=False, interviewed=interviewed_for(cmd.services, run)))
    cmd.services.audit.record(cmd.user_id, "shortlist", channel=cmd.channel_id, delivery="ephemeral", run_id=run.id)


@PLUTO.on("candidate")
def candidate(cmd: CommandRequest) -> None:
    run, matches = cmd.services.scoring.find_visible(cmd.args, user=cmd.user_id, channel=cmd.channel_id)
    if run is None or not matches:
        cmd.reply(no_candidate_message(cmd.args))
    elif len(matches) == 1:
        cmd.reply(candidate_card(run.id, matches[0], interviewed_for(cmd.services, run).get(matches[0].id)))
        cmd.services.audit.record(cmd.user_id, "candidate_details", channel=cmd.channel_id, delivery="ephemeral",
                                  run_id=run.id, candidate_id=matches[0].id)
    else:
        cmd.reply(pick_candidate_message(run.id, matches))


@PLUTO.on("export")
def export(cmd: CommandRequest) -> None:
    scoring = cmd.services.scoring
    run = scoring.allowed_run(scoring.latest_for(cmd.channel_id, cmd.user_id).id, cmd.user_id)
    share_export(cmd.services, cmd.out, run, cmd.channel_id, cmd.user_id)



@PLUTO.on("cancel")
def cancel(cmd: CommandRequest) -> None:
    """Ask first: the answer carries the Cancel run button (and its confirmation); several runs get a picker."""
    scoring = cmd.services.scoring
    run = cmd.one_of(lambda: scoring.waiting_run(cmd.args, cmd.channel_id), "pluto_cancel_pick", "Cancel…")
    if run is not None:
        cmd.reply(cancel_prompt(scoring.cancellable(run, cmd.user_id), scoring.position(run)))
