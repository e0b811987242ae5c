"""/pluto score | status | results | candidate | export."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.blocks import error_message
from bot.blocks.pluto import pick_candidate_message, score_modal, status_message
from handlers.commands.pluto import PLUTO
from handlers.router import CommandRequest
from handlers.scoring_flow import shortlist_for

if TYPE_CHECKING:
    from slack_bolt import App

    from bot.context import Services

NO_RESULTS = "There is no finished scoring run here yet. Start one with `/pluto score`."


@PLUTO.on("score")
def score(cmd: CommandRequest) -> None:
    cmd.client.views_open(trigger_id=cmd.trigger_id, view=score_modal(cmd.channel_id).to_dict())


@PLUTO.on("status")
def status(cmd: CommandRequest) -> None:
    scoring = cmd.services.scoring
    cmd.reply(status_message(scoring.active_runs(), scoring.latest(state="complete")))


def _latest(cmd: CommandRequest) -> dict | None:
    """This channel's latest finished run (else the latest anywhere); tells the user when there is none."""
    scoring = cmd.services.scoring
    run = scoring.latest(cmd.channel_id) or scoring.latest()
    if run is None:
        cmd.reply(NO_RESULTS)
    return run


@PLUTO.on("results")
def results(cmd: CommandRequest) -> None:
    run = _latest(cmd)
    if run is None:
        return
    cmd.reply(shortlist_for(run, cmd.services, metadata=False))


@PLUTO.on("candidate")
def candidate(cmd: CommandRequest) -> None:
    run = _latest(cmd)
    if run is None:
        return
    matches = cmd.services.scoring.find(run, cmd.args)
    if not matches:
        cmd.reply(error_message(f"No candidate in *{run['filename']}* matches “{cmd.args}”.",
                                hint="Try part of the name, or `/pluto results` to see the shortlist."))
    elif len(matches) == 1:
        from bot.blocks.pluto import candidate_card

        cmd.reply(candidate_card(run["id"], matches[0]))
    else:
        cmd.reply(pick_candidate_message(run["id"], matches))


@PLUTO.on("export")
def export(cmd: CommandRequest) -> None:
    run = _latest(cmd)
    if run is None:
        return
    stem = run["filename"].rsplit(".", 1)[0]
    cmd.client.files_upload_v2(channel=cmd.channel_id, content=cmd.services.scoring.export_csv(run),
                               filename=f"{stem}-ranked.csv", title=f"Full ranking · {run['filename']}",
                               initial_comment=f"<@{cmd.user_id}> asked for the full ranking (CSV).")


def register(app: App, services: Services) -> None:
    """The subcommands attach to the /pluto router on import."""
