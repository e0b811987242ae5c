"""Play Slack's side of the bot's inbound traffic: the same payloads over HTTP or over Socket Mode.

:class:`SlackPayloads` builds what Slack sends — slash commands, block actions, view
submissions, options requests (``block_suggestion``) and events, with trigger ids and
response_urls issued by the :class:`~sandbox.slack_api.SlackStandIn`, so that what the bot
does with them lands on the stand-in — and :meth:`SlackPayloads.press` finds a button the bot
posted by its label and clicks it; :meth:`SlackPayloads.suggest` types into an external select
(the bot's options are checked against Slack's limits) and :meth:`SlackPayloads.choose` picks
one. Two transports deliver those payloads, with the same public methods:

* :class:`SlackSigner` signs them as Slack does and POSTs them to the bot's
  ``/slack/events``. Every method returns the bot's ``httpx.Response`` (its ack) with the
  body also parsed on ``response.ack`` (a dict, a string, or None when empty). Forged
  requests for the 401 tests: pass ``secret=`` (sign with another secret), ``timestamp=``
  (an old one) or ``signature=`` (a literal header value) to any method.
Payloads come from the stand-in's workspace (its team id, its Enterprise Grid ids, whether the app is
installed org-wide); a workspace made with ``SlackStandIn.add_workspace`` gets a signer of its own.
:meth:`SlackPayloads.deliver` sends an envelope built elsewhere (``SlackStandIn.uninstall``'s events).

* :class:`SocketModeSender` sends them as Socket Mode envelopes over the stand-in's
  WebSocket server and returns a :class:`SocketAck`, shaped like the HTTP response
  (``status_code``, ``content``, ``json()``, ``ack``), so end-to-end tests run in both modes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

import httpx

from sandbox.slack_api import (
    VERIFICATION_TOKEN,
    SlackStandIn,
    channel_name,
    empty_value,
    public,
    validate_options_response,
)
from sandbox.socket_mode import Envelope

DEFAULT_USER = "U_ALICE"
DEFAULT_CHANNEL = "C_GENERAL"
__all__ = ["VERIFICATION_TOKEN", "SlackPayloads", "SlackSigner", "SocketModeSender", "SocketAck", "sign"]


def sign(secret: str, timestamp: int | str, body: str | bytes) -> str:
    """Slack's v0 signature: ``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{body}`` with the signing secret."""
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    base = f"v0:{timestamp}:{text}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def _parse_ack(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


class SlackPayloads:
    """Builds Slack's inbound payloads; a transport subclass delivers them (see the module docstring)."""

    def __init__(self, standin: SlackStandIn, team_id: str | None = None) -> None:
        self.slack = standin
        #: the workspace the payloads come from: the stand-in's own unless told (``standin.add_workspace``
        #: makes other workspaces; give each its own signer)
        self.team_id = team_id or standin.team_id
        self.api_app_id = standin.app_id

    # -- who is installed where: Enterprise Grid ids, org-wide installs --------------------------------------
    def _enterprise(self) -> dict[str, Any] | None:
        if not self.slack.enterprise_id:
            return None
        return {"id": self.slack.enterprise_id, "name": self.slack.enterprise_name}

    def _team(self) -> dict[str, Any]:
        team: dict[str, Any] = {"id": self.team_id, "domain": self.slack.team_name.lower().replace(" ", "-")}
        if self.slack.enterprise_id:
            team.update(enterprise_id=self.slack.enterprise_id, enterprise_name=self.slack.enterprise_name)
        return team

    def deliver(self, envelope: dict[str, Any], **kw: Any) -> Any:
        """Deliver an event envelope as built elsewhere (e.g. by :meth:`SlackStandIn.uninstall`)."""
        return self._deliver_event(envelope, **kw)

    def close(self) -> None:
        pass

    # -- what a transport implements -----------------------------------------------------------
    def _deliver_command(self, form: dict[str, str], **kw: Any) -> Any:
        raise NotImplementedError

    def _deliver_interaction(self, payload: dict[str, Any], **kw: Any) -> Any:
        raise NotImplementedError

    def _deliver_options(self, payload: dict[str, Any], **kw: Any) -> Any:
        """An options request; Socket Mode sends it as an interactive envelope like any other."""
        return self._deliver_interaction(payload, **kw)

    def _deliver_event(self, envelope: dict[str, Any], **kw: Any) -> Any:
        raise NotImplementedError

    # -- slash commands ----------------------------------------------------------------------
    def command(self, command: str, text: str = "", user: str = DEFAULT_USER, channel: str = DEFAULT_CHANNEL,
                *, secret: str | None = None, timestamp: int | None = None, signature: str | None = None,
                **extra: Any) -> Any:
        """A slash command as Slack sends it; ``extra`` adds or overrides fields. ``secret``,
        ``timestamp`` and ``signature`` forge the HTTP signature (HTTP only)."""
        form = {"token": VERIFICATION_TOKEN, "team_id": self.team_id, "team_domain": self._team()["domain"],
                "channel_id": channel, "channel_name": "directmessage" if channel.startswith("D") else
                channel_name(channel), "user_id": user, "user_name": user.removeprefix("U_").lower(),
                "command": command, "text": text, "api_app_id": self.api_app_id,
                "is_enterprise_install": "true" if self.slack.org_installed else "false",
                "response_url": self.slack.new_response_url(user, channel),
                "trigger_id": self.slack.issue_trigger_id(user)}
        if self.slack.enterprise_id:
            form.update(enterprise_id=self.slack.enterprise_id, enterprise_name=str(self.slack.enterprise_name))
        form.update(extra)
        forged = {k: v for k, v in (("secret", secret), ("timestamp", timestamp), ("signature", signature))
                  if v is not None}
        return self._deliver_command(form, **forged)

    # -- interactivity -------------------------------------------------------------------------
    def _base(self, kind: str, user: str) -> dict[str, Any]:
        return {"type": kind, "team": self._team(),
                "user": {"id": user, "username": user.removeprefix("U_").lower(),
                         "name": user.removeprefix("U_").lower(), "team_id": self.team_id},
                "api_app_id": self.api_app_id, "token": VERIFICATION_TOKEN, "enterprise": self._enterprise(),
                "is_enterprise_install": self.slack.org_installed, "trigger_id": self.slack.issue_trigger_id(user)}

    @staticmethod
    def _view_payload(view: dict[str, Any], values: dict[str, Any] | None = None) -> dict[str, Any]:
        out = {k: v for k, v in public(view).items() if k not in ("user", "closed", "errors")}
        if values is not None:
            out["state"] = {"values": values}
        out.setdefault("state", {"values": {}})
        return out

    def block_action(self, action_id: str, value: str | None = None, *, block_id: str | None = None,
                     user: str = DEFAULT_USER, channel: str = DEFAULT_CHANNEL, message: dict[str, Any] | None = None,
                     view: dict[str, Any] | None = None, selected_option: dict[str, Any] | None = None,
                     action_type: str = "button", ephemeral: bool = False, message_ts: str | None = None,
                     thread_ts: str | None = None, text: str | None = None,
                     values: dict[str, Any] | None = None, **kw: Any) -> Any:
        """A block_actions payload for one action, on a ``view`` (modal or Home tab) or a message.

        For a message pass ``message`` (the stand-in's dict) or, for an ephemeral one (Slack does
        not include ephemeral messages in the payload), ``ephemeral=True`` and ``message_ts``.
        ``values`` is what the user has typed so far ({block_id: {action_id: value}}): Slack sends
        it as ``view.state.values`` (completed with the untouched inputs' initial values), so an
        action inside a modal can keep the form as typed.
        """
        action: dict[str, Any] = {"action_id": action_id, "block_id": block_id or "b", "type": action_type,
                                  "action_ts": f"{time.time():.6f}"}
        if text is not None:
            action["text"] = {"type": "plain_text", "text": text, "emoji": True}
        if value is not None:
            action["value"] = value
        if selected_option is not None:
            action["selected_option"] = selected_option
        payload = self._base("block_actions", user)
        payload["actions"] = [action]
        if view is not None:
            state = _complete_values(view, values) if values is not None and view.get("type") == "modal" else values
            payload["view"] = self._view_payload(view, state)
            payload["container"] = {"type": "view", "view_id": view.get("id")}
            return self._deliver_interaction(payload, **kw)
        if message is not None and not ephemeral:
            message_ts = message.get("ts")
            thread_ts = message.get("thread_ts")
            payload["message"] = self.slack.slack_message(message)
        elif message is not None:
            message_ts = message_ts or message.get("ts")
            thread_ts = thread_ts or message.get("thread_ts")
        container: dict[str, Any] = {"type": "message", "message_ts": message_ts, "channel_id": channel,
                                     "is_ephemeral": ephemeral}
        if thread_ts:
            container["thread_ts"] = thread_ts
        payload["container"] = container
        payload["channel"] = {"id": channel, "name": channel_name(channel)}
        payload["state"] = {"values": values or {}}
        payload["response_url"] = self.slack.new_response_url(user, channel, message_ts=message_ts,
                                                              ephemeral=ephemeral, thread_ts=thread_ts)
        return self._deliver_interaction(payload, **kw)

    def block_suggestion(self, action_id: str, value: str = "", *, block_id: str | None = None,
                         user: str = DEFAULT_USER, channel: str = DEFAULT_CHANNEL, view: dict[str, Any] | None = None,
                         message: dict[str, Any] | None = None, ephemeral: bool = False,
                         message_ts: str | None = None, **kw: Any) -> Any:
        """What Slack sends to the Options Load URL while someone types ``value`` into the external select
        ``action_id`` (on a ``view``, or a message). No trigger id and no response_url, as in Slack.

        The bot must answer within 3 seconds with ``{"options": [...]}`` (at most 100) or
        ``{"option_groups": [...]}``; ``response.problems`` lists what Slack would refuse (an empty
        list when the answer is good) and ``response.options`` the options Slack would show.
        """
        payload = self._base("block_suggestion", user)
        payload.pop("trigger_id")
        payload.update(action_id=action_id, block_id=block_id or "b", value=value)
        if view is not None:
            payload["view"] = self._view_payload(view)
            payload["container"] = {"type": "view", "view_id": view.get("id")}
        else:
            if message is not None and not ephemeral:
                payload["message"] = self.slack.slack_message(message)
            payload["container"] = {"type": "message", "message_ts": message_ts or (message or {}).get("ts"),
                                    "channel_id": channel, "is_ephemeral": ephemeral}
            payload["channel"] = {"id": channel, "name": channel_name(channel)}
        started = time.monotonic()
        response = self._deliver_options(payload, **kw)
        elapsed = time.monotonic() - started
        problems = validate_options_response(response.status_code, response.ack)
        if elapsed > 3:
            problems.append(f"the options came after {elapsed:.1f} s; Slack gives up after 3 s")
        response.problems = problems
        body = response.ack if isinstance(response.ack, dict) else {}
        response.options = list(body.get("options") or []) + [
            o for g in body.get("option_groups") or [] for o in (g or {}).get("options") or []]
        return response

    def find_element(self, action_id: str, *, user: str = DEFAULT_USER,
                     in_channel: str | None = None) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        """(surface, block, element) of the newest interactive element ``action_id`` that ``user`` can see."""
        for surface in reversed(self.slack.surfaces(user)):
            if in_channel and (surface["kind"] in ("view", "home") or surface["channel"] != in_channel):
                continue
            for block in reversed(surface["blocks"]):
                for element in _block_elements(block):
                    if element.get("action_id") == action_id:
                        return surface, block, element
        raise LookupError(f"no element {action_id!r} visible to {user}")

    def suggest(self, action_id: str, query: str = "", *, user: str = DEFAULT_USER,
                in_channel: str | None = None) -> list[dict[str, Any]]:
        """Type ``query`` into the external select ``action_id`` that ``user`` sees; the options Slack would list.
        Raises AssertionError when the bot's answer breaks Slack's rules (limits, shape, 3 s)."""
        surface, block, element = self.find_element(action_id, user=user, in_channel=in_channel)
        if element.get("type") not in ("external_select", "multi_external_select"):
            raise ValueError(f"{action_id!r} is a {element.get('type')}, not an external select")
        if len(query) < int(element.get("min_query_length", 3)):
            return []  # Slack asks only once this much is typed
        record = surface["record"]
        common = {"block_id": block.get("block_id"), "user": user}
        if surface["kind"] in ("view", "home"):
            response = self.block_suggestion(action_id, query, view=record, **common)
        else:
            response = self.block_suggestion(action_id, query, channel=surface["channel"], message=record,
                                             ephemeral=surface["kind"] != "message", message_ts=surface["ts"],
                                             **common)
        if response.problems:
            raise AssertionError(f"Slack would refuse the options for {action_id!r}: {response.problems}")
        return response.options

    def choose(self, action_id: str, option: dict[str, Any], *, user: str = DEFAULT_USER,
               in_channel: str | None = None, values: dict[str, Any] | None = None) -> Any:
        """Pick ``option`` (one that :meth:`suggest` returned, or any option of a static select) in the select
        ``action_id``: the block_actions Slack sends. ``values``: what is typed in the modal so far."""
        surface, block, element = self.find_element(action_id, user=user, in_channel=in_channel)
        return self.activate(surface, block, element, user=user, selected_option=option, values=values)

    def view_submission(self, view: dict[str, Any], values: dict[str, Any], user: str = DEFAULT_USER,
                        **kw: Any) -> Any:
        """Submit ``view`` with ``values`` ({block_id: {action_id: value}}), as Slack does.

        Input blocks not given keep their initial value (or are empty), like an untouched field.
        A block or action id that is not an input of the view raises ValueError (a typo in a test).
        After the ack, the stand-in applies it: the modal closes, shows errors, updates or pushes;
        that outcome is on ``response.view_outcome``.
        """
        current = self.slack.view(view.get("id", "")) if view.get("id") else None
        if current is not None and current.get("closed"):
            raise ValueError(f"view {view['id']} ({(view.get('title') or {}).get('text')}) is closed already")
        full = _complete_values(view, values)
        payload = self._base("view_submission", user)
        payload["view"] = self._view_payload(view, full)
        payload["response_urls"] = []
        response = self._deliver_interaction(payload, **kw)
        if view.get("id"):
            outcome = self.slack.apply_view_ack(view["id"], response.status_code, response.ack)
            response.view_outcome = outcome  # type: ignore[attr-defined]  # the test bed's note on the response
        return response

    def close_view(self, view: dict[str, Any], user: str = DEFAULT_USER, **kw: Any) -> Any:
        """The user closes the modal; Slack tells the bot (view_closed) only if ``notify_on_close``."""
        self.slack.close_view(view.get("id", ""))
        if not view.get("notify_on_close"):
            return None
        payload = self._base("view_closed", user)
        payload.pop("trigger_id")
        payload["view"] = self._view_payload(view)
        payload["is_cleared"] = False
        return self._deliver_interaction(payload, **kw)

    @staticmethod
    def input_value(text: str | None) -> dict[str, Any]:
        return {"type": "plain_text_input", "value": text}

    @staticmethod
    def selected(value: str, text: str | None = None, kind: str = "static_select") -> dict[str, Any]:
        return {"type": kind, "selected_option": {"text": {"type": "plain_text", "text": text or value},
                                                  "value": value}}

    @staticmethod
    def checkboxes(values: list[str]) -> dict[str, Any]:
        return {"type": "checkboxes", "selected_options": [
            {"text": {"type": "plain_text", "text": v}, "value": v} for v in values]}

    @staticmethod
    def files(file_objects: list[dict[str, Any]]) -> dict[str, Any]:
        return {"type": "file_input", "files": file_objects}

    # -- events ------------------------------------------------------------------------------
    def event(self, event: dict[str, Any], *, event_id: str | None = None, **kw: Any) -> Any:
        """An Events API ``event_callback`` envelope around ``event`` (unique event_id unless given)."""
        if self.slack.enterprise_id and isinstance(event.get("user"), str):
            self.slack._know(event["user"])  # in an org, the person is this workspace's (an org token's calls route by it)
        envelope = self.slack.event_envelope(event, team_id=self.team_id, event_id=event_id)
        return self._deliver_event(envelope, **kw)

    def app_mention(self, text: str, files: list[dict[str, Any]] | None = None, channel: str = DEFAULT_CHANNEL,
                    user: str = DEFAULT_USER, ts: str | None = None, thread_ts: str | None = None,
                    **kw: Any) -> Any:
        """``@bot text`` in a channel (the mention is added when ``text`` lacks it)."""
        mention = f"<@{self.slack.bot_user_id}>"
        if mention not in text:
            text = f"{mention} {text}".rstrip()
        ts = ts or f"{time.time():.6f}"
        event: dict[str, Any] = {"type": "app_mention", "user": user, "text": text, "ts": ts, "channel": channel,
                                 "team": self.team_id, "client_msg_id": f"sandbox-{ts}"}
        if thread_ts:
            event["thread_ts"] = thread_ts
        if files:
            event["files"] = files
            event["upload"] = False
        return self.event(event, **kw)

    def say(self, text: str, *, user: str = DEFAULT_USER, channel: str = DEFAULT_CHANNEL,
            thread_ts: str | None = None, files: list[dict[str, Any]] | None = None,
            **kw: Any) -> tuple[dict[str, Any], httpx.Response]:
        """A person posts ``text`` mentioning the bot: the message is stored on the stand-in (so
        ``conversations.replies`` lists it, as Slack does) and its ``app_mention`` event is sent.
        Returns (the stored message, the bot's ack)."""
        mention = f"<@{self.slack.bot_user_id}>"
        if mention not in text:
            text = f"{mention} {text}".rstrip()
        posted = self.slack.user_post(channel, user, text, thread_ts)
        return posted, self.app_mention(text, files=files, channel=channel, user=user, ts=posted["ts"],
                                        thread_ts=thread_ts, **kw)

    def message(self, text: str, channel: str = DEFAULT_CHANNEL, user: str = DEFAULT_USER, ts: str | None = None,
                thread_ts: str | None = None, files: list[dict[str, Any]] | None = None,
                **kw: Any) -> Any:
        """A ``message`` event (``channel`` starting with D is a DM to the bot)."""
        ts = ts or f"{time.time():.6f}"
        event: dict[str, Any] = {"type": "message", "user": user, "text": text, "ts": ts, "channel": channel,
                                 "team": self.team_id, "channel_type": "im" if channel.startswith("D") else "channel",
                                 "client_msg_id": f"sandbox-{ts}"}
        if thread_ts:
            event["thread_ts"] = thread_ts
        if files:
            event.update(subtype="file_share", files=files, upload=False, display_as_bot=False)
        return self.event(event, **kw)

    # -- Workflow Builder steps ----------------------------------------------------------------
    def function_executed(self, callback_id: str, inputs: dict[str, Any], **kw: Any) -> tuple[dict[str, Any], Any]:
        """A workflow reached the app's step ``callback_id`` with ``inputs``: the stand-in starts an execution
        (its own ``xwfp-`` token) and Slack sends ``function_executed``. Returns (the execution, the ack)."""
        execution = self.slack.start_function(callback_id, inputs)
        event = {"type": "function_executed", "function": execution["function"], "inputs": dict(inputs),
                 "function_execution_id": execution["id"],
                 "workflow_execution_id": execution["workflow_execution_id"],
                 "bot_access_token": execution["token"]}
        return execution, self.event(event, **kw)

    # -- the assistant pane ---------------------------------------------------------------------
    def assistant_thread_started(self, user: str = DEFAULT_USER, context_channel: str | None = None,
                                 **kw: Any) -> tuple[dict[str, Any], Any]:
        """``user`` opens the app's assistant pane (beside ``context_channel`` when given).
        Returns (the thread: channel_id, thread_ts, user_id, context; the ack)."""
        thread = self.slack.open_assistant_thread(user, context_channel)
        return thread, self.event({"type": "assistant_thread_started", "assistant_thread": dict(thread)}, **kw)

    def assistant_context_changed(self, thread: dict[str, Any], context_channel: str, **kw: Any) -> Any:
        """The person moved to ``context_channel`` with the pane open."""
        context = {"channel_id": context_channel, "team_id": self.team_id, "enterprise_id": self.slack.enterprise_id}
        with self.slack._lock:
            found = self.slack.assistant_threads.get((thread["channel_id"], thread["thread_ts"]))
            if found is not None:
                found["context"] = context
        thread = {**thread, "context": context}
        return self.event({"type": "assistant_thread_context_changed", "assistant_thread": thread}, **kw)

    def assistant_message(self, thread: dict[str, Any], text: str, **kw: Any) -> tuple[dict[str, Any], Any]:
        """The person asks ``text`` in the assistant thread: the message is stored in the DM thread and its
        ``message`` event (channel_type ``im``) is sent. Returns (the stored message, the ack)."""
        posted = self.slack.user_post(thread["channel_id"], thread["user_id"], text, thread["thread_ts"])
        return posted, self.message(text, channel=thread["channel_id"], user=thread["user_id"], ts=posted["ts"],
                                    thread_ts=thread["thread_ts"], **kw)

    def message_with_files(self, text: str, files: list[dict[str, Any]], channel: str = DEFAULT_CHANNEL,
                           user: str = DEFAULT_USER, ts: str | None = None, **kw: Any) -> Any:
        """The ``message``/``file_share`` event Slack sends alongside app_mention when files are attached."""
        return self.message(text, channel=channel, user=user, ts=ts, files=files, **kw)

    # -- buttons --------------------------------------------------------------------------------
    def _clickable(self, user: str, in_channel: str | None) -> list[tuple[dict[str, Any], dict[str, Any],
                                                                           dict[str, Any]]]:
        """(surface, block, button) for every button ``user`` can see, newest surface first."""
        found = []
        for surface in reversed(self.slack.surfaces(user)):
            if in_channel and surface["kind"] in ("view", "home"):
                continue
            if in_channel and surface["channel"] != in_channel:
                continue
            for block in reversed(surface["blocks"]):
                for button in reversed(_block_buttons(block)):
                    found.append((surface, block, button))
        return found

    def buttons(self, user: str = DEFAULT_USER, in_channel: str | None = None) -> list[str]:
        """Labels of the buttons ``user`` can press, newest first."""
        return [button["text"]["text"] for _, _, button in self._clickable(user, in_channel)]

    def activate(self, surface: dict[str, Any], block: dict[str, Any], element: dict[str, Any], *,
                 user: str = DEFAULT_USER, selected_option: dict[str, Any] | None = None,
                 values: dict[str, Any] | None = None, **kw: Any) -> Any:
        """Use ``element`` (a button, or a select with ``selected_option``) of ``block`` on ``surface``
        (one of :meth:`SlackStandIn.surfaces`), as Slack reports it. ``values``: the modal's typed state."""
        common: dict[str, Any] = {"block_id": block.get("block_id"), "user": user, "values": values, **kw}
        if element.get("type") == "button":
            common["text"] = (element.get("text") or {}).get("text")
        else:
            common.update(action_type=element.get("type", "static_select"), selected_option=selected_option)
        record = surface["record"]
        if surface["kind"] in ("view", "home"):
            return self.block_action(element.get("action_id", ""), element.get("value"), view=record, **common)
        return self.block_action(element.get("action_id", ""), element.get("value"), channel=surface["channel"],
                                 message=record, ephemeral=surface["kind"] != "message",
                                 message_ts=surface["ts"], thread_ts=record.get("thread_ts"), **common)

    def press(self, label: str, *, user: str = DEFAULT_USER, in_channel: str | None = None,
              **kw: Any) -> Any:
        """Click the most recent button labelled ``label`` (case-insensitive) that ``user`` can see:
        in channel messages, their DMs, ephemerals and response_url posts, open modals, App Home."""
        wanted = label.strip().lower()
        for surface, block, button in self._clickable(user, in_channel):
            if button["text"]["text"].strip().lower() == wanted:
                return self.activate(surface, block, button, user=user, **kw)
        visible = ", ".join(f"[{b}]" for b in self.buttons(user, in_channel)) or "none"
        raise LookupError(f"no button labelled {label!r} for {user}; visible buttons, newest first: {visible}")


class SlackSigner(SlackPayloads):
    """Slack's side of the bot's Request URL: signed POSTs to ``/slack/events``. ``bot_url`` is the bot's base URL."""

    def __init__(self, bot_url: str, signing_secret: str, standin: SlackStandIn, team_id: str | None = None,
                 options_url: str | None = None) -> None:
        super().__init__(standin, team_id)
        self.url = bot_url.rstrip("/") + "/slack/events"
        #: the app's Options Load URL (Interactivity → Select Menus); the README points it at /slack/events too
        self.options_url = options_url or self.url
        self.secret = signing_secret
        # An idle connection is dropped well before the bot's keep-alive timeout (HTTP_KEEPALIVE_SECONDS, 5 s) closes
        # it: at the same 5 s a request could go out on a connection the server was closing ("Server disconnected
        # without sending a response"), which Slack's own clients never see.
        self.http = httpx.Client(timeout=10, limits=httpx.Limits(keepalive_expiry=2.0))

    def close(self) -> None:
        self.http.close()

    def send(self, body: str, content_type: str, *, secret: str | None = None, timestamp: int | None = None,
             signature: str | None = None, headers: dict[str, str] | None = None,
             url: str | None = None) -> httpx.Response:
        """POST ``body`` signed as Slack signs it (or forged, with the overrides) to ``url`` (the Request URL)."""
        ts = int(time.time()) if timestamp is None else int(timestamp)
        signed = {"X-Slack-Request-Timestamp": str(ts),
                  "X-Slack-Signature": signature if signature is not None else sign(secret or self.secret, ts, body),
                  "Content-Type": content_type, "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
                  **(headers or {})}
        response = self.http.post(url or self.url, content=body.encode(), headers=signed)
        response.ack = _parse_ack(response)  # type: ignore[attr-defined]  # the test bed's note on the response
        return response

    def _deliver_command(self, form: dict[str, str], **kw: Any) -> httpx.Response:
        return self.send(urlencode(form), "application/x-www-form-urlencoded", **kw)

    def _deliver_interaction(self, payload: dict[str, Any], **kw: Any) -> httpx.Response:
        return self.send(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded", **kw)

    def _deliver_event(self, envelope: dict[str, Any], **kw: Any) -> httpx.Response:
        return self.send(json.dumps(envelope), "application/json", **kw)

    def _deliver_options(self, payload: dict[str, Any], **kw: Any) -> httpx.Response:
        return self.send(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded",
                         url=self.options_url, **kw)


class SocketAck:
    """The bot's acknowledgement of one Socket Mode envelope, shaped like the HTTP ack.

    ``status_code`` is 200 when the envelope was acknowledged, 504 when it was not within
    Slack's time (the person sees an error in Slack), 503 when no connection was open.
    ``ack``/``json()``/``content`` are the response payload Slack takes from the ack (a
    command's message, a view submission's ``response_action``...). ``envelope`` is the
    test bed's record: attempts, the raw ack, the connection it came on.
    """

    def __init__(self, envelope: Envelope) -> None:
        self.envelope = envelope
        self.outcome = envelope.outcome
        self.status_code = {"acked": 200, "no_connection": 503}.get(envelope.outcome, 504)
        self.ack: Any = envelope.response
        self.content = b"" if self.ack is None else json.dumps(self.ack).encode()
        self.text = self.content.decode()
        self.headers: dict[str, str] = {"content-type": "application/json"} if self.content else {}

    def json(self) -> Any:
        if self.ack is None:
            raise ValueError(f"the ack carried no payload (outcome: {self.outcome})")
        return self.ack

    def __repr__(self) -> str:
        return f"<SocketAck {self.envelope.type} {self.outcome} {self.text[:80]!r}>"


class SocketModeSender(SlackPayloads):
    """The same payloads as :class:`SlackSigner`, as envelopes over the stand-in's Socket Mode server.

    Each call waits for the acknowledgement (pass ``wait=False`` to send and move on; the
    returned ack then reflects the envelope at that moment).
    """

    def __init__(self, standin: SlackStandIn, team_id: str | None = None) -> None:
        super().__init__(standin, team_id)
        if standin.socket is None:
            raise RuntimeError("the Slack stand-in has no Socket Mode server (start it with an app_token)")
        self.socket = standin.socket

    def send(self, kind: str, payload: dict[str, Any], *, wait: bool = True,
             timeout: float | None = None) -> SocketAck:
        envelope = self.socket.deliver(kind, payload, wait=wait, timeout=timeout)
        return SocketAck(envelope)

    def _deliver_command(self, form: dict[str, str], **kw: Any) -> SocketAck:
        return self.send("slash_commands", dict(form), **kw)

    def _deliver_interaction(self, payload: dict[str, Any], **kw: Any) -> SocketAck:
        return self.send("interactive", payload, **kw)

    def _deliver_event(self, envelope: dict[str, Any], **kw: Any) -> SocketAck:
        return self.send("events_api", envelope, **kw)


def _block_elements(block: dict[str, Any]) -> list[dict[str, Any]]:
    """Interactive elements of a block: an actions block's, a section's accessory, an input's element."""
    elements = list(block.get("elements") or []) if block.get("type") == "actions" else []
    if block.get("type") == "section" and block.get("accessory"):
        elements.append(block["accessory"])
    if block.get("type") == "input" and block.get("element"):
        elements.append(block["element"])
    return [e for e in elements if isinstance(e, dict)]


def _block_buttons(block: dict[str, Any]) -> list[dict[str, Any]]:
    elements = list(block.get("elements") or []) if block.get("type") == "actions" else []
    if block.get("type") == "section" and block.get("accessory"):
        elements.append(block["accessory"])
    return [e for e in elements if isinstance(e, dict) and e.get("type") == "button" and not e.get("url")]


def _complete_values(view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    inputs = {b["block_id"]: b.get("element") or {} for b in view.get("blocks") or []
              if b.get("type") == "input" and b.get("block_id")}
    for block_id, actions in values.items():
        if block_id not in inputs:
            raise ValueError(f"{block_id!r} is not an input block of the view; its inputs are {sorted(inputs)}")
        action_id = inputs[block_id].get("action_id")
        unknown = [a for a in actions if action_id and a != action_id]
        if unknown:
            raise ValueError(f"input {block_id!r} has action_id {action_id!r}, not {unknown}")
    full = {}
    for block_id, element in inputs.items():
        full[block_id] = values.get(block_id) or {element.get("action_id", "value"): empty_value(element)}
    return full
