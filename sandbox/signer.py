"""Send correctly signed Slack requests to the bot's ``POST /slack/events``, as Slack does.

Slash commands, block actions, view submissions and events, plus :meth:`SlackSigner.press`,
which finds a button the bot posted by its label and clicks it.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

import httpx

from sandbox.slack_api import SlackStandIn

DEFAULT_USER = "U_ALICE"
DEFAULT_CHANNEL = "C_GENERAL"


def sign(secret: str, timestamp: int, body: str) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class SlackSigner:
    def __init__(self, bot_url: str, signing_secret: str, standin: SlackStandIn, team_id: str = "T0SANDBOX") -> None:
        self.url = bot_url.rstrip("/") + "/slack/events"
        self.secret = signing_secret
        self.slack = standin
        self.team_id = team_id
        self.http = httpx.Client(timeout=10)
        self._events = itertools.count(1)

    # -- transport ---------------------------------------------------------------
    def send(self, body: str, content_type: str, *, secret: str | None = None, timestamp: int | None = None,
             headers: dict[str, str] | None = None) -> httpx.Response:
        ts = int(time.time()) if timestamp is None else int(timestamp)
        signed = {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": sign(secret or self.secret, ts, body),
                  "Content-Type": content_type, **(headers or {})}
        return self.http.post(self.url, content=body.encode(), headers=signed)

    def _payload(self, payload: dict[str, Any], **kw: Any) -> httpx.Response:
        body = urlencode({"payload": json.dumps(payload)})
        return self.send(body, "application/x-www-form-urlencoded", **kw)

    # -- slash commands ---------------------------------------------------------
    def command(self, command: str, text: str = "", user: str = DEFAULT_USER, channel: str = DEFAULT_CHANNEL,
                *, secret: str | None = None, timestamp: int | None = None, **extra: Any) -> httpx.Response:
        form = {"token": "legacy-verification-token", "team_id": self.team_id, "team_domain": "sandbox",
                "channel_id": channel, "channel_name": channel.lower(), "user_id": user,
                "user_name": user.removeprefix("U_").lower(), "command": command, "text": text,
                "api_app_id": "A0SANDBOX", "response_url": self.slack.new_response_url(user, channel),
                "trigger_id": self.slack.issue_trigger_id(user), **extra}
        return self.send(urlencode(form), "application/x-www-form-urlencoded", secret=secret, timestamp=timestamp)

    # -- interactivity ------------------------------------------------------------
    def _base(self, kind: str, user: str) -> dict[str, Any]:
        return {"type": kind, "team": {"id": self.team_id, "domain": "sandbox"},
                "user": {"id": user, "username": user.removeprefix("U_").lower(), "team_id": self.team_id},
                "api_app_id": "A0SANDBOX", "token": "legacy-verification-token",
                "trigger_id": self.slack.issue_trigger_id(user)}

    def block_action(self, action_id: str, value: str | None = None, *, block_id: str | None = None,
                     user: str = DEFAULT_USER, channel: str = DEFAULT_CHANNEL, message: dict[str, Any] | None = None,
                     view: dict[str, Any] | None = None, selected_option: dict[str, Any] | None = None,
                     action_type: str = "button", **kw: Any) -> httpx.Response:
        action: dict[str, Any] = {"action_id": action_id, "block_id": block_id or "b", "type": action_type,
                                  "action_ts": f"{time.time():.6f}"}
        if value is not None:
            action["value"] = value
        if selected_option is not None:
            action["selected_option"] = selected_option
        payload = self._base("block_actions", user)
        payload["actions"] = [action]
        if view is not None:
            payload["view"] = view
            payload["container"] = {"type": "view", "view_id": view.get("id")}
        else:
            payload["channel"] = {"id": channel, "name": channel.lower()}
            payload["response_url"] = self.slack.new_response_url(user, channel)
            if message is not None:
                payload["message"] = message
                payload["container"] = {"type": "message", "message_ts": message.get("ts"), "channel_id": channel,
                                        "is_ephemeral": bool(message.get("_ephemeral"))}
        return self._payload(payload, **kw)

    def view_submission(self, view: dict[str, Any], values: dict[str, Any], user: str = DEFAULT_USER,
                        **kw: Any) -> httpx.Response:
        payload = self._base("view_submission", user)
        payload["view"] = {**view, "state": {"values": values}}
        payload["response_urls"] = []
        return self._payload(payload, **kw)

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

    # -- events ---------------------------------------------------------------------
    def event(self, event: dict[str, Any], *, event_id: str | None = None, **kw: Any) -> httpx.Response:
        event = {"event_ts": f"{time.time():.6f}", **event}
        envelope = {"token": "legacy-verification-token", "team_id": self.team_id, "api_app_id": "A0SANDBOX",
                    "event": event, "type": "event_callback",
                    "event_id": event_id or f"Ev{next(self._events):010d}{int(time.time())}",
                    "event_time": int(time.time()),
                    "authorizations": [{"team_id": self.team_id, "user_id": self.slack.bot_user_id,
                                        "is_bot": True}]}
        return self.send(json.dumps(envelope), "application/json", **kw)

    def app_mention(self, text: str, files: list[dict[str, Any]] | None = None, channel: str = DEFAULT_CHANNEL,
                    user: str = DEFAULT_USER, ts: str | None = None, **kw: Any) -> httpx.Response:
        ts = ts or f"{time.time():.6f}"
        event: dict[str, Any] = {"type": "app_mention", "user": user, "text": text, "ts": ts, "channel": channel}
        if files:
            event["files"] = files
        return self.event(event, **kw)

    def message_with_files(self, text: str, files: list[dict[str, Any]], channel: str = DEFAULT_CHANNEL,
                           user: str = DEFAULT_USER, ts: str | None = None, **kw: Any) -> httpx.Response:
        ts = ts or f"{time.time():.6f}"
        event = {"type": "message", "subtype": "file_share", "user": user, "text": text, "ts": ts,
                 "channel": channel, "channel_type": "channel", "files": files}
        return self.event(event, **kw)

    # -- buttons ----------------------------------------------------------------------
    def _surfaces(self, user: str) -> list[tuple[dict[str, Any], str, dict[str, Any]]]:
        """Everything with blocks that ``user`` can see, oldest first: (container, kind, source)."""
        surfaces: list[tuple[float, dict[str, Any], str]] = []
        for m in self.slack.messages():
            surfaces.append((float(m["ts"]), m, "message"))
        for e in self.slack.ephemerals(user=user):
            surfaces.append((float(e["ts"]), {**e, "_ephemeral": True}, "message"))
        for index, r in enumerate(self.slack.responses(user=user)):
            surfaces.append((time.time() - 1e6 + index, {**r, "ts": r.get("ts", ""), "_ephemeral": True}, "message"))
        for v in self.slack.views(user=user):
            surfaces.append((time.time() + 1e6, v, "view"))
        surfaces.sort(key=lambda s: s[0])
        return [(s[1], s[2], s[1]) for s in surfaces]

    def buttons(self, user: str = DEFAULT_USER) -> list[str]:
        labels = []
        for container, _, _ in self._surfaces(user):
            for block in container.get("blocks") or []:
                for element in _block_buttons(block):
                    labels.append(element["text"]["text"])
        return labels

    def press(self, label: str, *, user: str = DEFAULT_USER, in_channel: str | None = None) -> httpx.Response:
        for container, kind, _ in reversed(self._surfaces(user)):
            if in_channel and kind == "message" and container.get("channel") != in_channel:
                continue
            for block in reversed(container.get("blocks") or []):
                for element in _block_buttons(block):
                    if element["text"]["text"].strip().lower() == label.strip().lower():
                        if kind == "view":
                            return self.block_action(element["action_id"], element.get("value"),
                                                     block_id=block.get("block_id"), user=user, view=container)
                        return self.block_action(element["action_id"], element.get("value"),
                                                 block_id=block.get("block_id"), user=user,
                                                 channel=container.get("channel") or DEFAULT_CHANNEL,
                                                 message=container)
        visible = ", ".join(f"[{b}]" for b in self.buttons(user)) or "none"
        raise LookupError(f"no button labelled {label!r}; visible buttons: {visible}")


def _block_buttons(block: dict[str, Any]) -> list[dict[str, Any]]:
    elements = list(block.get("elements") or []) if block.get("type") == "actions" else []
    if block.get("accessory"):
        elements.append(block["accessory"])
    return [e for e in elements if e.get("type") == "button" and not e.get("url")]
