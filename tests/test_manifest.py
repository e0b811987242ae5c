"""The manifest must declare what the code uses, and ask for no scope it does not need."""

import re
from pathlib import Path

import yaml

from handlers.commands.pluto import PLUTO
from handlers.commands.voicelink import VOICELINK

ROOT = Path(__file__).resolve().parents[1]
CODE_DIRS = ("bot", "handlers", "services")

# Bot scopes each Web API method needs (https://api.slack.com/methods).
METHOD_SCOPES = {
    "auth_test": set(),
    "chat_postMessage": {"chat:write"},
    "chat_update": {"chat:write"},
    "chat_postEphemeral": {"chat:write"},
    "chat_delete": {"chat:write"},
    "chat_getPermalink": set(),
    "views_open": set(),
    "views_update": set(),
    "views_push": set(),
    "views_publish": set(),
    "files_info": {"files:read"},
    "files_upload_v2": {"files:write"},
    "files_delete": {"files:write"},  # the bot deletes only files it uploaded (retention, erasure)
    "conversations_open": {"im:write"},
    "conversations_info": {"channels:read", "groups:read", "im:read", "mpim:read"},
    "conversations_members": {"channels:read", "groups:read"},
    "users_info": {"users:read"},
    # finding a post whose answer was lost, by its metadata, wherever the bot posts
    "conversations_history": {"channels:history", "groups:history", "im:history", "mpim:history"},
    "conversations_replies": {"channels:history", "groups:history", "im:history", "mpim:history"},
    "reactions_add": {"reactions:write"},
}
# Events the bot subscribes to and the scope each needs.
EVENT_SCOPES = {
    "app_home_opened": set(),
    "app_mention": {"app_mentions:read"},
    "message.channels": {"channels:history"},
    "message.groups": {"groups:history"},
}
# Scopes for things that are not Web API methods.
OTHER_SCOPES = {"commands", "files:read"}  # slash commands; downloading url_private files


def _code() -> str:
    return "\n".join(p.read_text() for d in CODE_DIRS for p in (ROOT / d).rglob("*.py"))


def _manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def called_methods(code: str) -> set[str]:
    families = "auth|chat|conversations|files|reactions|users|views"
    return set(re.findall(rf"\bclient\.((?:{families})_[A-Za-z0-9_]+)\(", code))


def test_every_registered_command_is_declared():
    declared = {c["command"]: c for c in _manifest()["features"]["slash_commands"]}
    registered = set(re.findall(r"\.command\(\s*[\"'](/[\w-]+)", _code())) | {PLUTO.command, VOICELINK.command}
    assert registered <= set(declared)
    for router in (PLUTO, VOICELINK):
        entry = declared[router.command]
        assert entry["description"] and entry["usage_hint"]
        for sub in router.subcommands:  # every subcommand appears in the usage hint
            assert sub.name in entry["usage_hint"], (router.command, sub.name)


def test_every_method_called_has_its_scope_and_no_scope_is_unused():
    manifest = _manifest()
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    methods = called_methods(_code())
    unknown = methods - set(METHOD_SCOPES)
    assert not unknown, f"add these methods' scopes to METHOD_SCOPES: {unknown}"
    needed = set().union(*(METHOD_SCOPES[m] for m in methods)) if methods else set()
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    needed |= set().union(*(EVENT_SCOPES[e] for e in events))
    needed |= OTHER_SCOPES
    assert needed <= scopes, f"missing scopes: {needed - scopes}"
    assert scopes <= needed, f"scopes nothing uses: {scopes - needed}"


def test_every_handled_event_is_subscribed():
    code = _code()
    events = set(_manifest()["settings"]["event_subscriptions"]["bot_events"])
    handled = set(re.findall(r"\.event\(\s*[\"']([\w.]+)", code))
    assert handled - {"message"} <= events
    if re.search(r"\.event\(\s*[\"']message[\"']|\bapp\.message\(", code):
        assert {"message.channels", "message.groups"} & events


def test_interactivity_home_and_socket_mode_are_on():
    manifest = _manifest()
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["features"]["bot_user"]["display_name"]
