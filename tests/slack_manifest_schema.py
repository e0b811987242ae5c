"""Slack's app manifest schema, for the parts this app uses, written from Slack's manifest reference
(https://api.slack.com/reference/manifests): field names, types, required fields, lengths and enums.

``MANIFEST_SCHEMA`` is JSON Schema (draft 2020-12). Where Slack's validator checks more than a shape
(every required parameter declared, a custom function needs the function runtime and an org-ready app,
the assistant view needs its scope), :func:`slack_rules` checks it.
"""

from __future__ import annotations

from typing import Any

PARAMETER_TYPES = ["string", "integer", "number", "boolean", "array", "object", "slack#/types/user_id",
                   "slack#/types/channel_id", "slack#/types/usergroup_id", "slack#/types/timestamp",
                   "slack#/types/blocks", "slack#/types/date", "slack#/types/message_ts",
                   "slack#/types/message_context", "slack#/types/rich_text", "slack#/types/expanded_rich_text",
                   "slack#/types/file_id", "slack#/types/list_id", "slack#/types/team_id",
                   "slack#/types/interactivity", "slack#/types/user_context", "slack#/types/canvas_id",
                   "slack#/types/email", "slack#/types/url", "slack#/types/credential/oauth2"]

_PARAMETER = {
    "type": "object",
    "required": ["type"],
    "additionalProperties": False,
    "properties": {
        "type": {"enum": PARAMETER_TYPES},
        "title": {"type": "string", "maxLength": 255},
        "description": {"type": "string", "maxLength": 4000},
        "hint": {"type": "string", "maxLength": 255},
        "name": {"type": "string"},
        "is_required": {"type": "boolean"},
        "default": {},
        "enum": {"type": "array"},
        "choices": {"type": "array"},
        "items": {"type": "object", "required": ["type"], "properties": {"type": {"enum": PARAMETER_TYPES}}},
        "minimum": {"type": "number"}, "maximum": {"type": "number"},
        "min_length": {"type": "integer"}, "max_length": {"type": "integer"},
        "min_items": {"type": "integer"}, "max_items": {"type": "integer"},
        "is_hidden": {"type": "boolean"},
    },
}
_PARAMETERS = {
    "type": "object",
    "required": ["properties"],
    "additionalProperties": False,
    "properties": {
        "properties": {"type": "object", "maxProperties": 100, "additionalProperties": _PARAMETER,
                       "propertyNames": {"pattern": "^[a-z0-9_]{1,64}$"}},
        "required": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
    },
}
_FUNCTION = {
    "type": "object",
    "required": ["title", "description", "input_parameters", "output_parameters"],
    "additionalProperties": False,
    "properties": {
        "title": {"type": "string", "minLength": 1, "maxLength": 255},
        "description": {"type": "string", "maxLength": 4000},
        "input_parameters": _PARAMETERS,
        "output_parameters": _PARAMETERS,
    },
}
_SCOPES = {"type": "array", "items": {"type": "string", "pattern": "^([a-z_]+(\\.[a-z_]+)?:[a-z_.]+|commands|bot|incoming-webhook)$"},
           "maxItems": 255, "uniqueItems": True}

MANIFEST_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["display_information"],
    "additionalProperties": False,
    "properties": {
        "_metadata": {"type": "object"},
        "display_information": {
            "type": "object", "required": ["name"], "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 35},
                "description": {"type": "string", "maxLength": 140},
                "background_color": {"type": "string", "pattern": "^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"},
                "long_description": {"type": "string", "minLength": 175, "maxLength": 4000},
            },
        },
        "features": {
            "type": "object", "additionalProperties": False,
            "properties": {
                "app_home": {"type": "object", "additionalProperties": False, "properties": {
                    "home_tab_enabled": {"type": "boolean"}, "messages_tab_enabled": {"type": "boolean"},
                    "messages_tab_read_only_enabled": {"type": "boolean"}}},
                "bot_user": {"type": "object", "required": ["display_name"], "additionalProperties": False,
                             "properties": {"display_name": {"type": "string", "minLength": 1, "maxLength": 80},
                                            "always_online": {"type": "boolean"}}},
                "slash_commands": {"type": "array", "maxItems": 50, "items": {
                    "type": "object", "required": ["command", "description"], "additionalProperties": False,
                    "properties": {"command": {"type": "string", "pattern": "^/[a-z0-9_-]{1,31}$"},
                                   "description": {"type": "string", "minLength": 1, "maxLength": 2000},
                                   "usage_hint": {"type": "string", "maxLength": 1000},
                                   "should_escape": {"type": "boolean"}, "url": {"type": "string"}}}},
                "assistant_view": {
                    "type": "object", "required": ["assistant_description"], "additionalProperties": False,
                    "properties": {
                        "assistant_description": {"type": "string", "minLength": 1, "maxLength": 1000},
                        "suggested_prompts": {"type": "array", "maxItems": 4, "items": {
                            "type": "object", "required": ["title", "message"], "additionalProperties": False,
                            "properties": {"title": {"type": "string", "minLength": 1, "maxLength": 75},
                                           "message": {"type": "string", "minLength": 1}}}},
                    },
                },
                "shortcuts": {"type": "array"},
                "unfurl_domains": {"type": "array"},
            },
        },
        "oauth_config": {
            "type": "object", "additionalProperties": False,
            "properties": {"redirect_urls": {"type": "array"}, "token_management_enabled": {"type": "boolean"},
                           "scopes": {"type": "object", "additionalProperties": False,
                                      "properties": {"bot": _SCOPES, "user": _SCOPES}}},
        },
        "settings": {
            "type": "object", "additionalProperties": False,
            "properties": {
                "event_subscriptions": {"type": "object", "additionalProperties": False, "properties": {
                    "request_url": {"type": "string"},
                    "bot_events": {"type": "array", "maxItems": 100, "uniqueItems": True,
                                   "items": {"type": "string", "pattern": "^[a-z_]+(\\.[a-z_]+)?$"}},
                    "user_events": {"type": "array"}, "metadata_subscriptions": {"type": "array"}}},
                "interactivity": {"type": "object", "required": ["is_enabled"], "additionalProperties": False,
                                  "properties": {"is_enabled": {"type": "boolean"}, "request_url": {"type": "string"},
                                                 "message_menu_options_url": {"type": "string"}}},
                "org_deploy_enabled": {"type": "boolean"},
                "socket_mode_enabled": {"type": "boolean"},
                "token_rotation_enabled": {"type": "boolean"},
                "is_hosted": {"type": "boolean"},
                "function_runtime": {"enum": ["remote", "slack"]},
                "allowed_ip_address_ranges": {"type": "array"},
            },
        },
        "functions": {"type": "object", "maxProperties": 50, "additionalProperties": _FUNCTION,
                      "propertyNames": {"pattern": "^[a-z0-9_]{1,100}$"}},
        "outgoing_domains": {"type": "array", "maxItems": 10},
    },
}


def _parameter_rules(where: str, spec: dict[str, Any]) -> list[str]:
    properties = spec.get("properties") or {}
    required = spec.get("required") or []
    problems = [f"{where}: required {r!r} is not a property" for r in required if r not in properties]
    for pname, parameter in properties.items():
        if "is_required" in parameter and parameter["is_required"] != (pname in required):
            problems.append(f"{where}.{pname}: is_required disagrees with required")
        if parameter.get("name", pname) != pname:
            problems.append(f"{where}.{pname}: name must be the property's key")
        if parameter.get("type") == "array" and "items" not in parameter:
            problems.append(f"{where}.{pname}: an array needs items")
    return problems


def slack_rules(manifest: dict[str, Any]) -> list[str]:
    """What Slack's validator refuses beyond the schema's shapes, for functions and the assistant."""
    problems: list[str] = []
    settings = manifest.get("settings") or {}
    events = set((settings.get("event_subscriptions") or {}).get("bot_events") or [])
    scopes = set(((manifest.get("oauth_config") or {}).get("scopes") or {}).get("bot") or [])
    functions = manifest.get("functions") or {}
    for name, function in functions.items():
        for side in ("input_parameters", "output_parameters"):
            problems += _parameter_rules(f"{name}.{side}", function.get(side) or {})
    if functions:
        if not settings.get("function_runtime"):
            problems.append("functions need settings.function_runtime")
        if settings.get("function_runtime") == "remote" and "function_executed" not in events:
            problems.append("a remote function runtime needs the function_executed bot event")
        if settings.get("org_deploy_enabled") is not True:
            problems.append("custom functions need an org-ready app (settings.org_deploy_enabled: true)")
    return problems + _assistant_rules(manifest, events, scopes)


def _assistant_rules(manifest: dict[str, Any], events: set[str], scopes: set[str]) -> list[str]:
    problems: list[str] = []
    if (manifest.get("features") or {}).get("assistant_view") is not None:
        if "assistant:write" not in scopes:
            problems.append("the assistant view needs the assistant:write scope")
        for event in ("assistant_thread_started", "assistant_thread_context_changed", "message.im"):
            if event not in events:
                problems.append(f"the assistant view needs the {event} bot event")
    for event in events & {"assistant_thread_started", "assistant_thread_context_changed"}:
        if (manifest.get("features") or {}).get("assistant_view") is None:
            problems.append(f"{event} needs features.assistant_view")
    return problems
