"""The manifest must declare what the code uses, and ask for no scope it does not need."""

import copy
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from bot.flows.steps import STEPS
from handlers.commands import PLUTO, VOICELINK
from tests.slack_manifest_schema import MANIFEST_SCHEMA, slack_rules

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
    # Workflow Builder steps: the function's own token (or the bot's) completes its execution
    "functions_completeSuccess": set(),
    "functions_completeError": set(),
    # the "Ask Pluto" pane
    "assistant_threads_setStatus": {"assistant:write"},
    "assistant_threads_setSuggestedPrompts": {"assistant:write"},
    "assistant_threads_setTitle": {"assistant:write"},
}
# Events the bot subscribes to and the scope each needs.
EVENT_SCOPES = {
    "app_home_opened": set(),
    "app_mention": {"app_mentions:read"},
    "message.channels": {"channels:history"},
    "message.groups": {"groups:history"},
    "message.im": {"im:history"},  # questions in the assistant pane (a thread in the DM with the app)
    "function_executed": set(),
    "assistant_thread_started": {"assistant:write"},
    "assistant_thread_context_changed": {"assistant:write"},
    "app_uninstalled": set(),  # leaving a workspace (several workspaces): no scope needed
    "tokens_revoked": set(),
    "team_access_revoked": set(),  # an org-wide install removed from (or added to) some of the org's teams
    "team_access_granted": set(),
}
# Scopes for things that are not Web API methods.
OTHER_SCOPES = {"commands", "files:read"}  # slash commands; downloading url_private files


def _code() -> str:
    return "\n".join(p.read_text() for d in CODE_DIRS for p in (ROOT / d).rglob("*.py"))


def _manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def called_methods(code: str) -> set[str]:
    families = "assistant|auth|chat|conversations|files|functions|reactions|users|views"
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


# -- Workflow Builder steps and the assistant pane -------------------------------------------------
def _errors(manifest: dict) -> list[str]:
    validator = jsonschema.Draft202012Validator(MANIFEST_SCHEMA)
    shape = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(manifest)]
    return shape + slack_rules(manifest)


def test_the_manifest_validates_against_slacks_schema_for_functions_and_the_assistant():
    assert _errors(_manifest()) == []


@pytest.mark.parametrize("break_it, says", [
    (lambda m: m["functions"]["score_candidates"]["input_parameters"]["properties"]["file_id"].update(
        type="slack#/types/csv"), "is not one of"),
    (lambda m: m["functions"]["voice_screen_top"]["output_parameters"]["required"].append("board_url"),
     "required 'board_url' is not a property"),
    (lambda m: m["functions"]["voice_screen_top"]["output_parameters"]["properties"]["link_ids"].pop("items"),
     "an array needs items"),
    (lambda m: m["settings"].pop("function_runtime"), "function_runtime"),
    (lambda m: m["settings"].update(org_deploy_enabled=False), "org-ready"),
    (lambda m: m["features"]["assistant_view"]["suggested_prompts"].append({"title": "5th", "message": "x"}),
     "is too long"),
    (lambda m: m["oauth_config"]["scopes"]["bot"].remove("assistant:write"), "assistant:write"),
    (lambda m: m["settings"]["event_subscriptions"]["bot_events"].remove("function_executed"), "function_executed"),
])
def test_the_schema_check_catches_what_slack_would_refuse(break_it, says):
    manifest = copy.deepcopy(_manifest())
    break_it(manifest)
    assert any(says in e for e in _errors(manifest)), _errors(manifest)


def test_every_step_in_the_code_is_a_function_in_the_manifest_and_back():
    functions = _manifest()["functions"]
    assert set(STEPS) == set(functions)
    code = (ROOT / "bot" / "flows" / "steps.py").read_text()
    declared = {name for f in functions.values() for name in f["input_parameters"]["properties"]}
    read = set(re.findall(r"inputs\.get\(\"(\w+)\"", code))
    assert read and read <= declared, f"inputs the code reads but the manifest does not declare: {read - declared}"
    for function in functions.values():  # each step acts as the person who ran the workflow
        person = function["input_parameters"]["properties"]["user_id"]
        assert person["type"] == "slack#/types/user_id" and "user_id" in function["input_parameters"]["required"]


def test_the_assistant_is_declared_with_its_scopes_and_events():
    manifest = _manifest()
    assert "app.assistant(" in _code() and manifest["features"]["assistant_view"]["assistant_description"]
    assert {"assistant:write", "im:history"} <= set(manifest["oauth_config"]["scopes"]["bot"])
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert {"assistant_thread_started", "assistant_thread_context_changed", "message.im"} <= events
