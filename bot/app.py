"""The Bolt app factory: the one place in ``bot/`` that knows ``handlers/`` (to register them)."""

from __future__ import annotations

import logging
import time
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk import WebClient

from bot.blocks.keys import key_revoked_message
from bot.context import Services
from bot.directory import WorkspaceDirectory, directory_of
from bot.installs import Installs, SlackClients
from bot.logging_setup import ContextExecutor, context_from_body, log_context
from bot.slack_client import BotWebClient, SlackWriteLimiter
from bot.slack_out import SlackOut
from bot.work import InFlight
from handlers import register_all
from services import metrics
from services.store import in_workspace
from services.workspaces import workspace_key

log = logging.getLogger(__name__)

#: events Bolt lets through without an installation (the workspace is leaving): they reach no workspace store
LEAVING_EVENTS = frozenset({"app_uninstalled", "tokens_revoked", "team_access_revoked"})
#: an org-wide install losing or regaining some of the org's teams (handlers/events/workspace.py)
TEAM_ACCESS_EVENTS = frozenset({"team_access_revoked", "team_access_granted"})
NO_TEAM_ACCESS = (":no_entry: Pluto Bot is no longer available in this workspace: an admin of your organization "
                  "removed it from this workspace. Ask them to add it back.")


def make_web_client(services: Services) -> WebClient:
    """A WebClient for the configured Slack API base, paced to Slack's rate tiers (bot/slack_client.py)."""
    settings = services.settings
    limiter = SlackWriteLimiter(settings.slack_posts_per_second, settings.slack_updates_per_minute)
    token = None if settings.multi_workspace else settings.slack_bot_token.reveal() or None
    return BotWebClient(token=token, base_url=settings.slack_api_url, timeout=15, limiter=limiter)


class BotApp(App):
    """Bolt's App, timing each acknowledgement (``pluto_bot_ack_seconds`` by kind) and logging with the
    request's context (team, channel, user, command or action id) on every line it leads to."""

    def __init__(self, *args: Any, multi_workspace: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.in_flight = InFlight()  # requests being acknowledged: a shutdown waits for them
        self.multi_workspace = multi_workspace

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        started = req.context.get("pluto_received_at") or time.perf_counter()  # HTTP: when the request arrived
        body = req.body if isinstance(req.body, dict) else {}
        kind = metrics.ack_kind(body)
        # Several workspaces: everything this request leads to (its listener, the slow work it hands to the
        # pool) reads and writes the store of the workspace it came from, and no other (services/store.py).
        workspace = workspace_key(req.context.team_id, req.context.enterprise_id,
                                  bool(req.context.is_enterprise_install)) if self.multi_workspace else None
        with self.in_flight, log_context(**context_from_body(body)), in_workspace(workspace):
            response = super().dispatch(req)
            seconds = time.perf_counter() - started
            metrics.observe_ack(kind, seconds, response.status)
            log.debug("%s acknowledged in %.1f ms (HTTP %s)", kind, seconds * 1000, response.status)
        return response


def create_app(services: Services, *, client: WebClient | None = None) -> App:
    """Build the Bolt app and register every handler module on it."""
    settings = services.settings
    client = client or make_web_client(services)
    installs = Installs(settings, services.store, on_installed=services.record_install) \
        if settings.multi_workspace else None
    app = BotApp(
        client=client,
        multi_workspace=installs is not None,
        oauth_settings=installs.oauth_settings() if installs is not None else None,
        # Given here too, Bolt's request-time authorize (and its token rotator) uses this client and so
        # SLACK_API_URL; from oauth_settings alone it builds a client of its own that calls slack.com.
        installation_store=installs.installation_store if installs is not None else None,
        # Bolt's own authorize, rotating tokens one at a time with the jobs' look-ups (bot/installs.py)
        authorize=installs.authorize(client, serialized=True) if installs is not None else None,
        signing_secret=settings.slack_signing_secret.reveal() or None,
        # Socket Mode has no signing secret; Bolt then skips signature checks.
        request_verification_enabled=bool(settings.slack_signing_secret),
        token_verification_enabled=False,
        process_before_response=False,
        raise_error_for_unhandled_request=False,
        # Listeners only ack and hand slow work to services.work (bot/work.py), so these
        # threads are busy for milliseconds; a pool this size never makes an ack wait.
        listener_executor=ContextExecutor(max_workers=settings.ack_threads, thread_name_prefix="ack"),
    )

    @app.middleware
    def drop_event_retries(body: dict[str, Any], next: Any) -> BoltResponse | None:  # noqa: A002
        """Slack re-sends an event it thinks we missed; handle each event id once. The events of a workspace
        leaving (handled idempotently) are not recorded: its store may be gone, and is never made again."""
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if (body.get("event") or {}).get("type") in LEAVING_EVENTS:
            return next()
        if event_id and not services.events.first_time(event_id):
            log.info("ignoring duplicate delivery of event %s", event_id)
            return BoltResponse(status=200, body="")
        return next()

    @app.middleware
    def refuse_teams_without_access(context: Any, body: dict[str, Any], next: Any) -> BoltResponse | None:  # noqa: A002
        """An org-wide install serves only the teams of the org it still has access to (``team_access_revoked``
        names those it lost): a request from another is answered with why, and reaches no listener."""
        if installs is None or not context.is_enterprise_install or \
                (body.get("event") or {}).get("type") in TEAM_ACCESS_EVENTS or \
                not services.workspaces.team_revoked(context.enterprise_id, context.team_id):
            return next()
        log.info("a request from team %s, which the org-wide install of %s no longer serves, was refused",
                 context.team_id, context.enterprise_id)
        if body.get("command"):
            return BoltResponse(status=200, body={"response_type": "ephemeral", "text": NO_TEAM_ACCESS})
        return BoltResponse(status=200, body="")

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> None:
        log.error("unhandled error for %s: %s", body.get("type") or body.get("command"), error, exc_info=error)

    services.installs = installs
    services.clients = SlackClients(settings, client, installs, services.workspaces)
    services.directory = WorkspaceDirectory(services.clients) if installs is not None else directory_of(client)
    services.keys.on_revoked = lambda user: SlackOut(services.client_here()).dm(user, key_revoked_message(
        services.settings.nimrobo_shared_key_fallback))
    register_all(app, services)
    return app
