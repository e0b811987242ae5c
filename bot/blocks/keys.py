"""Block Kit for recruiters' own Nimrobo keys: the login modal, its outcome, whoami, and a revoked key."""

from __future__ import annotations

from slack_sdk.models.blocks import InputBlock, PlainTextInputElement
from slack_sdk.models.views import View

from bot.blocks import Block, Message, context, info_message, mrkdwn_escape, section
from services.keys import Identity, Login

LOGIN_MODAL = "voicelink_login"
KEY_BLOCK, KEY_ACTION = "nimrobo_key", "key"


def key_modal(callback_id: str, title: str, intro: str, note: str, *, block_id: str = KEY_BLOCK,
              action_id: str = KEY_ACTION) -> View:
    """A form with one field for a Nimrobo key. Slack has no password input, so it says where the key goes."""
    return View(type="modal", callback_id=callback_id, title=title, submit="Check and save", close="Cancel", blocks=[
        section(intro),
        InputBlock(block_id=block_id, label="API key",
                   element=PlainTextInputElement(action_id=action_id, placeholder="api_…", max_length=200)),
        context(":lock: The key is checked with Nimrobo, stored encrypted, never shown again and never logged."
                + (f" {note}" if note else "")),
    ])


def login_modal() -> View:
    return key_modal(LOGIN_MODAL, "Your Nimrobo key",
                     "Paste your own Nimrobo API key (`api_…`). Your voice projects, links and sessions then run as "
                     "your Nimrobo account instead of the team's shared one.", "`/voicelink logout` deletes it.")


def key_result_blocks(login: Login | None, problem: str, *, who: str, lacks: str, refused_note: str = "",
                      saved_note: str = "") -> list[Block]:
    """A checked Nimrobo key's outcome: whose requests now run as which account and what the key can't do, or
    why it was refused. ``who``: "Your requests" or the workspace's; the notes go under each outcome."""
    if login is None:
        return [section(f":x: That key was not saved. {mrkdwn_escape(problem)}")] + \
            ([context(refused_note)] if refused_note else [])
    lines = [f":white_check_mark: Saved. {who} now run as *{mrkdwn_escape(login.account)}*."]
    if login.missing_scopes:
        lines.append("This key lacks: " + ", ".join(f"`{s}`" for s in login.missing_scopes) + f". {lacks}")
    return [section("\n".join(lines))] + ([context(saved_note)] if saved_note else [])


def login_result_view(login: Login | None, problem: str = "") -> View:
    """The login modal's last page: who the key belongs to and what it can't do, or why it was refused."""
    return View(type="modal", callback_id=LOGIN_MODAL + "_done", title="Your Nimrobo key", close="Done",
                blocks=key_result_blocks(login, problem, who="Your requests",
                                         lacks="Features that need them will say so; add them in Nimrobo for the "
                                               "full bot.",
                                         refused_note="Run `/voicelink login` to try another key.",
                                         saved_note="`/voicelink whoami` shows this again; `/voicelink logout` "
                                                    "removes the key."))


def whoami_message(identity: Identity) -> Message:
    if identity.personal:
        text = f"Your voice requests run with *your own key*, as *{mrkdwn_escape(identity.account)}*."
        if identity.missing_scopes:
            text += " It lacks " + ", ".join(f"`{s}`" for s in identity.missing_scopes) + "."
    else:
        text = f"Your voice requests run with the team's *shared key*, as *{mrkdwn_escape(identity.account)}*."
        if identity.revoked:
            text += " (Nimrobo stopped accepting your own key; `/voicelink login` with a new one.)"
        else:
            text += " `/voicelink login` to use your own."
    return info_message(text)


def logout_message(removed: bool) -> Message:
    if removed:
        return info_message(":wave: Your Nimrobo key is deleted. Your requests use the team's shared key again.")
    return info_message("You had no key of your own saved; your requests use the team's shared key.")


def key_revoked_message(fallback: bool) -> Message:
    then = "Until then your requests use the team's shared key." if fallback else \
        "Until then voice features won't work for you."
    return info_message(f":warning: Nimrobo no longer accepts your API key (it was revoked or expired). "
                        f"Run `/voicelink login` with a new key. {then}")
