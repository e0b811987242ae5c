"""Buttons on the Interview card: invite candidate, add interviewer, brief, AI voice session, analyze.

Each acks at once. Modals that need the trigger id open right after the ack (the colleague
picker) or open a "working…" modal first and fill it from the work pool (brief, voice session,
the transcript form); everything else runs on the work pool and answers the clicker privately.
"""

from __future__ import annotations

from slack_bolt import App
from slack_sdk.models.views import View

from bot.context import Services
from bot.flows import interviews
from handlers import inject
from handlers.clicks import Click, at_once, deferred, modal


@deferred("invite candidate")
def on_invite(click: Click) -> None:
    """A candidate join link, only to the person who clicked (to send on)."""
    interviews.invite_candidate(click.services, click.out, click.value, click.user, click.reply)


@at_once("add interviewer")
def on_add(click: Click) -> None:
    """The colleague picker (opened at once: it needs the trigger id); the link goes to the colleague by DM
    once they are picked."""
    interviews.open_add_interviewer(click.services, click.client, click.body["trigger_id"], click.value,
                                    click.channel, click.thread)


@modal("Interview brief", "Preparing the brief…", "interview brief")
def on_brief(click: Click) -> View:
    return interviews.brief_view_for(click.services, click.out, click.value, click.user)


@modal("AI voice session", "Creating your AI voice session…", "AI voice session")
def on_voice(click: Click) -> View:
    """A realtime session's client secret, in a modal only the clicker sees."""
    return interviews.voice_view_for(click.services, click.out, click.value, click.user)


@modal("Analyze interview", "Looking for transcripts…", "analyze interview")
def on_analyze(click: Click) -> View:
    """The transcript form (its voice-interview choices take a moment to look up)."""
    return interviews.analyze_form(click.services, click.out, click.value, click.user, click.channel, click.thread)


def register(app: App, services: Services) -> None:
    for action_id, fn in (("interview_invite", on_invite), ("interview_add", on_add),
                                ("interview_brief", on_brief), ("interview_voice", on_voice),
                                ("interview_analyze", on_analyze)):
        app.action(action_id)(inject(fn, services))
