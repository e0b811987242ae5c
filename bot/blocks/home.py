"""The App Home tab."""

from __future__ import annotations

from slack_sdk.models.views import View

from bot.blocks import context, divider, header, section


def home_view(scoring_commands: str, voice_commands: str) -> View:
    """``*_commands`` are bullet lists of the subcommands (from the command routers)."""
    return View(type="home", blocks=[
        header("Pluto Bot"),
        section("Hiring, where you already work: score candidate CSVs with *Pluto* and run voice "
                "interviews with *Nimrobo*."),
        divider(),
        section("*Candidate scoring*\n" + scoring_commands),
        context("Or share a CSV in a channel, mention me and say *score*; the rest of your message is "
                "taken as the job description."),
        divider(),
        section("*Voice interviews*\n" + voice_commands),
        context("Voice links are private: I send them only to the person who created them."),
    ])
