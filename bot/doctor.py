"""``python -m bot doctor``: one line per configured backend, OK or FAIL with the reason and the fix."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from config import Settings
from services.http import ServiceError


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        if self.ok:
            return f"OK    {self.name}: {self.detail}"
        return f"FAIL  {self.name}: {self.detail}" + (f" — fix: {self.fix}" if self.fix else "")


def check_slack(settings: Settings, transport: Any = None) -> Check:
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    if not settings.slack_bot_token:
        return Check("Slack", False, "SLACK_BOT_TOKEN is not set",
                     "install the app from manifest.yml and set SLACK_BOT_TOKEN (xoxb-…)")
    client = WebClient(token=settings.slack_bot_token.reveal(), base_url=settings.slack_api_url, timeout=10)
    try:
        auth = client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error", "error")
        return Check("Slack", False, f"auth.test answered {error}",
                     "check SLACK_BOT_TOKEN; reinstall the app if the token was revoked")
    except Exception as exc:  # network and TLS errors
        return Check("Slack", False, f"cannot reach {settings.slack_api_url} ({type(exc).__name__})",
                     "check SLACK_API_URL and the network")
    mode = settings.mode
    extra = ""
    if mode == "socket" and not settings.slack_app_token.startswith("xapp-"):
        return Check("Slack", False, "SLACK_APP_TOKEN does not look like an app-level token",
                     "create an app-level token with connections:write (xapp-…)")
    if mode == "http" and not settings.slack_signing_secret:
        extra = " (no signing secret)"
    return Check("Slack", True, f"auth.test ok as {auth.get('user')} in {auth.get('team')}; mode={mode}{extra}")


def check_nimrobo(settings: Settings, transport: Any = None) -> Check:
    from services.nimrobo import NimroboClient

    if not settings.nimrobo_api_key:
        return Check("Nimrobo", False, "NIMROBO_API_KEY is not set",
                     "create an API key in Nimrobo and set NIMROBO_API_KEY (api_…)")
    client = NimroboClient(settings.nimrobo_api_base_url, settings.nimrobo_api_key, transport=transport)
    try:
        profile = client.get_profile()
        missing = client.missing_scopes()
    except ServiceError as exc:
        return Check("Nimrobo", False, exc.message, exc.hint or "check NIMROBO_API_BASE_URL and NIMROBO_API_KEY")
    finally:
        client.close()
    who = getattr(profile, "email", None) or getattr(profile, "name", None) or getattr(profile, "id", "")
    if missing:
        return Check("Nimrobo", False, f"signed in as {who}, but the key lacks: {', '.join(missing)}",
                     "create a key with those scopes and set NIMROBO_API_KEY")
    return Check("Nimrobo", True, f"/v1/user/profile ok as {who}; every scope the bot needs is granted")


def check_pluto(settings: Settings, transport: Any = None) -> Check:
    from services.pluto import PlutoClient

    client = PlutoClient(settings.pluto_api_base_url, transport=transport)
    try:
        status = client.status()
    except ServiceError as exc:
        return Check("Pluto", False, exc.message, f"start Pluto or set PLUTO_API_BASE_URL "
                                                  f"(now {settings.pluto_api_base_url})")
    finally:
        client.close()
    state = status.get("status", "?") if isinstance(status, dict) else getattr(status, "status", "?")
    return Check("Pluto", True, f"{settings.pluto_api_base_url} reachable; pipeline is {state}")


def check_openai(settings: Settings, transport: Any = None) -> Check:
    import openai

    client = openai.OpenAI(api_key=settings.openai_api_key.reveal(), base_url=settings.openai_base_url or None,
                           timeout=10, max_retries=1,
                           http_client=httpx.Client(transport=transport) if transport else None)
    try:
        client.models.list()
    except openai.AuthenticationError:
        return Check("OpenAI", False, "the key was refused", "check OPENAI_API_KEY")
    except openai.APIError as exc:
        return Check("OpenAI", False, f"{type(exc).__name__}: {getattr(exc, 'message', exc)}",
                     "check OPENAI_BASE_URL and the network")
    return Check("OpenAI", True, f"models list ok; drafting uses {settings.openai_model}")


def run_checks(settings: Settings, transports: dict[str, Any] | None = None) -> list[Check]:
    transports = transports or {}
    checks: list[tuple[str, Callable[[Settings, Any], Check]]] = [
        ("slack", check_slack), ("nimrobo", check_nimrobo), ("pluto", check_pluto)]
    if settings.openai_api_key:
        checks.append(("openai", check_openai))
    results = []
    for key, fn in checks:
        try:
            results.append(fn(settings, transports.get(key)))
        except Exception as exc:  # a doctor never crashes
            results.append(Check(key.capitalize(), False, f"{type(exc).__name__}: {exc}"))
    return results


def run_doctor(settings: Settings) -> int:
    results = run_checks(settings)
    for check in results:
        print(check.line())
    return 0 if all(c.ok for c in results) else 1
