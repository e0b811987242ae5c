"""Block Kit for a workspace's own backends (App Home, admins only): the section, its two modals, outcomes.

The key itself is never shown: at most its last four characters.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import InputBlock, PlainTextInputElement
from slack_sdk.models.views import View

from bot.blocks import actions, button, confirm_dialog, context, divider, mrkdwn_escape, section
from bot.blocks.keys import key_modal, key_result_blocks
from services.backends import BackendState, PlutoServerCheck
from services.keys import Login

NIMROBO_MODAL = "workspace_nimrobo_key"
PLUTO_MODAL = "workspace_pluto_server"
KEY_BLOCK, KEY_ACTION = "workspace_nimrobo_key", "key"
URL_BLOCK, URL_ACTION = "workspace_pluto_server", "url"
SET_KEY, CLEAR_KEY = "home_ws_nimrobo_set", "home_ws_nimrobo_clear"
SET_PLUTO, CLEAR_PLUTO = "home_ws_pluto_set", "home_ws_pluto_clear"
ACTIONS = (SET_KEY, CLEAR_KEY, SET_PLUTO, CLEAR_PLUTO)


def admin_section(state: BackendState) -> list[Any]:
    """The workspace's Nimrobo key and Pluto server, with buttons to set or clear each (several workspaces);
    in single-workspace mode, that the environment sets them."""
    title = "*Workspace backends* (admins only)"
    if not state.multi_workspace:
        return [divider(), section(f"{title}\nThis bot serves one workspace: its Nimrobo key and Pluto server "
                                   "come from the environment (`NIMROBO_API_KEY`, `PLUTO_API_BASE_URL`); the "
                                   f"operator changes them there. Pluto: `{mrkdwn_escape(state.pluto_in_use)}`")]
    if state.key_unreadable:
        key_line = (":warning: Nimrobo key: *this workspace's own key can't be read* (the bot's ENCRYPTION_KEY "
                    "changed). Its voice requests are refused until an admin enters the key again: *Set Nimrobo "
                    "key* below, or *Use the default key*.")
    elif state.key_tail is not None:
        key_line = f":key: Nimrobo key: *this workspace's own* (ends in `…{mrkdwn_escape(state.key_tail)}`)"
    else:
        key_line = ":key: Nimrobo key: *the bot's default* (set by its operator)"
    if state.pluto_server:
        pluto_line = f":globe_with_meridians: Pluto server: *this workspace's own*, `{mrkdwn_escape(state.pluto_server)}`"
    else:
        pluto_line = ":globe_with_meridians: Pluto server: *the bot's default*"
    has_key = state.key_tail is not None or state.key_unreadable
    buttons = [button("Change Nimrobo key" if state.key_tail is not None else "Set Nimrobo key", SET_KEY, "set")]
    if has_key:
        buttons.append(button("Use the default key", CLEAR_KEY, "clear", confirm=confirm_dialog(
            "Use the default key?", "This workspace's own Nimrobo key is deleted; voice requests without a "
            "personal key run with the bot's default key.", yes="Delete it")))
    buttons.append(button("Set Pluto server" if not state.pluto_server else "Change Pluto server", SET_PLUTO, "set"))
    if state.pluto_server:
        buttons.append(button("Use the default server", CLEAR_PLUTO, "clear", confirm=confirm_dialog(
            "Use the default server?", "New scoring runs go to the bot's default Pluto server.", yes="Use it")))
    notes = ["A personal key (`/voicelink login`) still wins over the workspace's key for its owner."]
    if not state.can_keep_keys:
        notes.append(":warning: The operator has not set ENCRYPTION_KEY, so no key can be kept.")
    return [divider(), section(f"{title}\n{key_line}\n{pluto_line}"), actions(*buttons), context(" ".join(notes))]


def nimrobo_key_modal() -> View:
    return key_modal(NIMROBO_MODAL, "Workspace Nimrobo key",
                     "Paste the Nimrobo API key (`api_…`) this workspace's voice projects, links and sessions run "
                     "with, unless a recruiter logged in with their own.", "", block_id=KEY_BLOCK, action_id=KEY_ACTION)


def pluto_server_modal(current: str | None) -> View:
    element = PlainTextInputElement(action_id=URL_ACTION, placeholder="https://pluto.example.com/api",
                                    initial_value=current or None, max_length=500)
    return View(type="modal", callback_id=PLUTO_MODAL, title="Workspace Pluto server", submit="Check and save",
                close="Cancel", blocks=[
                    section("The address of the Pluto server this workspace's candidate files are scored on "
                            "(where `/pluto/…` begins). Runs already queued stay on their server."),
                    InputBlock(block_id=URL_BLOCK, label="Server address", element=element),
                    context("The bot asks the server for `GET /pluto/status` before it keeps the address."),
                ])


def key_result_view(login: Login | None, problem: str = "") -> View:
    return View(type="modal", callback_id=NIMROBO_MODAL + "_done", title="Workspace Nimrobo key", close="Done",
                blocks=key_result_blocks(login, problem, who="This workspace's voice requests",
                                         lacks="Features that need them will say so.",
                                         saved_note="A recruiter who logged in with their own key keeps using it."))


def pluto_result_view(check: PlutoServerCheck | None, problem: str = "") -> View:
    if check is None:
        blocks = [section(f":x: The server was not saved. {mrkdwn_escape(problem)}")]
    else:
        blocks = [section(f":white_check_mark: Saved. `{mrkdwn_escape(check.url)}` answered (its pipeline is "
                          f"{mrkdwn_escape(check.status)}); this workspace's new scoring runs go there.")]
    return View(type="modal", callback_id=PLUTO_MODAL + "_done", title="Workspace Pluto server", close="Done",
                blocks=blocks)
