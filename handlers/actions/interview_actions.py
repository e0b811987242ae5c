"""Buttons on the Interview card: invite candidate, add interviewer, brief, AI voice session, analyze.

Each acks at once. Modals that need the trigger id open right after the ack (the colleague
picker) or open a "working…" modal first and fill it from the work pool (brief, voice session,
the transcript form); everything else runs on the work pool and answers the clicker privately.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.context import Services
from bot.flows import interviews
from bot.slack_out import SlackOut
from bot.work import defer, defer_modal, run_safely
from handlers import inject
from handlers.actions.pluto_actions import private_reply, where


def on_invite(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
              services: Services) -> None:
    """A candidate join link, only to the person who clicked (to send on)."""
    ack()
    user, reply = body["user"]["id"], private_reply(client, body)
    defer(services.work, user,
          lambda: interviews.invite_candidate(services, SlackOut(client), action["value"], user, reply),
          reply, "invite candidate")


def on_add(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
           services: Services) -> None:
    """The colleague picker; the link goes to the colleague by DM once they are picked."""
    ack()
    channel, _, thread = where(body)
    run_safely(lambda: interviews.open_add_interviewer(services, client, body["trigger_id"], action["value"],
                                                       channel, thread),
               private_reply(client, body), "add interviewer")


def on_brief(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
             services: Services) -> None:
    ack()
    user = body["user"]["id"]
    defer_modal(services.work, client, body, "Interview brief", "Preparing the brief…",
                lambda: interviews.brief_view_for(services, SlackOut(client), action["value"], user),
                private_reply(client, body), "interview brief")


def on_voice(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
             services: Services) -> None:
    """A realtime session's client secret, in a modal only the clicker sees."""
    ack()
    user = body["user"]["id"]
    defer_modal(services.work, client, body, "AI voice session", "Creating your AI voice session…",
                lambda: interviews.voice_view_for(services, SlackOut(client), action["value"], user),
                private_reply(client, body), "AI voice session")


def on_analyze(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
               services: Services) -> None:
    """The transcript form (its voice-interview choices take a moment to look up)."""
    ack()
    channel, user, thread = where(body)
    defer_modal(services.work, client, body, "Analyze interview", "Looking for transcripts…",
                lambda: interviews.analyze_form(services, SlackOut(client), action["value"], user, channel, thread),
                private_reply(client, body), "analyze interview")


def register(app: App, services: Services) -> None:
    for action_id, listener in (("interview_invite", on_invite), ("interview_add", on_add),
                                ("interview_brief", on_brief), ("interview_voice", on_voice),
                                ("interview_analyze", on_analyze)):
        app.action(action_id)(inject(listener, services))
