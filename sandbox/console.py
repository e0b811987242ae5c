"""The sandbox console: type slash commands as in Slack; see what Slack would show.

* ``/pluto help``, ``/voicelink create`` … go to the real bot, correctly signed.
* ``/pluto score ./file.csv`` takes a local path in place of an upload.
* Typing a button's label presses it; ``Details 2`` / ``Details Alan`` pick one of several,
  ``buttons`` numbers them all. Buttons with a confirmation dialog ask first. Selects ask
  for an option.
* Modals are filled field by field: text (``\\n`` or ``<<`` for more lines), numbers, selects,
  radio buttons, checkboxes and files (a local path). Buttons and selects inside a modal send
  what was typed so far, as Slack does, and the bot's ``views.update``/``views.push`` are shown.
* ``home`` shows App Home, ``files`` lists uploads (newest first), ``open <n | name>`` prints one.
* ``sim …`` drives the simulators, ``tour`` walks a newcomer through the bot, ``reset`` starts over.
* With several workspaces (``--workspaces 2``): ``ws beta`` types into Beta (the prompt says where),
  ``uninstall beta`` / ``install beta``; what the bot posts prints tagged with its workspace.

Everything the bot posts is printed by a background thread from the Slack stand-in's timeline;
lines printed while a prompt waits go above it, so a prompt is never split.
"""

from __future__ import annotations

import difflib
import json
import logging
import queue
import re
import shlex
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from sandbox.render import Renderer, render_csv
from sandbox.slack_api import channel_name, empty_value

USER = "U_SANDBOX"
CHANNEL = "C_SANDBOX"
COMMANDS = ("help", "buttons", "press", "home", "files", "open", "tour", "reset", "logs", "sim", "mention", "ask",
            "step", "quit", "ws", "install", "uninstall")
CONSOLE_HELP = """Console commands:
  /pluto …, /voicelink …      slash commands, exactly as in Slack
  /pluto score ./file.csv     score a local CSV (stands in for an upload)
  <label> [n | word]          press a button: `Details` (newest), `Details 2` (row 2), `Details Alan`;
                              a select by what it shows: `Sort evaluation`, `Voice-screen top 3`
  buttons                     number every button you can see; then `press 3` (or just `3`)
  home                        open the App Home tab
  files                       list the files uploaded so far, newest first; `open 1` or `open <name>` prints one
  mention <text>              @-mention the bot in the channel (attach with: mention score ./f.csv)
  ask <question>              ask in the "Ask Pluto" pane (opened beside the channel on first use)
  step <name> key=value …     run a Workflow Builder step: create_voice_link candidate_name=Ada project=Role,
                              score_candidates file_id=./f.csv job_description="…", voice_screen_top run=<id> top_n=3
  sim links                   list voice links the Nimrobo simulator knows
  sim complete <label|link>   a participant opens the link and completes the interview
  sim fail <label|link>       the interview starts and fails
  sim pluto-fail [message]    the running Pluto pipeline fails
  sim clock +1d               move the bot's clock forward (+2h, +30m): reminders and digests due by then arrive
  tour                        a walk through scoring, a voice screen and a completed interview
  reset                       start over: a new database and empty stand-ins
  logs                        the last lines of the sandbox log
  help                        this text
  quit                        stop the sandbox (or Ctrl-D; Ctrl-C only stops a wait)
In a modal: Enter keeps what is shown, `\\n` types a new line (or `<<` … `.` for several lines),
`~` empties a field, `submit` submits now, `cancel` closes the modal."""
WORKSPACES_HELP = """Several workspaces (python3 dev.py run --workspaces 2):
  ws                          list the workspaces (and where the bot is installed); the prompt shows where you type
  ws <name>                   type into that workspace from now on: `ws beta`, `ws acme`
  uninstall <name>            that workspace removes the app: its tokens stop working, the bot stops serving it
  install <name>              install it again, through the bot's /slack/install (Add to Slack → Allow)
What the bot posts shows with its workspace: `[Beta] #sandbox ›`."""
USAGE = {
    "press": "press <n> (a number from `buttons`) or press <label> [row | word], e.g. `press Details 2`",
    "open": "open <n | name> (`files` numbers them, newest first), e.g. `open 1` or `open candidates-ranked`",
    "mention": "mention <text>, e.g. `mention score ./examples/candidates.csv` or `mention help`",
    "sim": "sim links | sim complete <label | link> | sim fail <label | link> | sim pluto-fail [message]",
    "sim complete": "sim complete <label | link id>, e.g. `sim complete Ada Lovelace` (`sim links` lists them)",
    "sim fail": "sim fail <label | link id>, e.g. `sim fail Ada Lovelace` (`sim links` lists them)",
}
INTERACTIVE = {"button", "static_select", "external_select", "multi_static_select", "overflow", "radio_buttons",
               "checkboxes",
               "users_select", "conversations_select", "channels_select", "datepicker"}
CANCEL, SUBMIT, ENDED, ACTED = "cancel", "submit", "ended", "acted"
INTERRUPTED = "\x03"  # what a prompt answers when Ctrl-C is pressed there


@dataclass
class Clickable:
    """A button or select the sandbox user can use now, with the text around it."""

    label: str
    element: dict[str, Any]
    block: dict[str, Any]
    surface: dict[str, Any]
    context: str  # the text next to it (the section it belongs to), for `Details Alan` and listings
    where: str
    option: dict[str, Any] | None = None  # a select's option already named (`Sort evaluation`)

    @property
    def names(self) -> list[str]:
        """What the screen shows for it, lower case: a button's label; a select's placeholder, the option
        it shows (``[Sort: Combined ▾]``) and that option's lead before a colon (``Sort``)."""
        names = [self.label.lower()]
        if not self.is_button:
            shown = _option_text(self.element.get("initial_option")).lower()
            names += [n for n in (shown, shown.split(":")[0].strip(), self.label.split(":")[0].strip().lower())
                      if n and n not in names]
        return names

    @property
    def key(self) -> tuple[Any, ...]:
        record = self.surface["record"]
        return (self.surface["kind"], self.surface.get("ts") or record.get("id"), self.block.get("block_id"),
                self.element.get("action_id"), self.element.get("value"), self.label)

    @property
    def is_button(self) -> bool:
        return self.element.get("type") == "button"


def _pipe_input(prompt: str) -> str:
    line = sys.stdin.readline()
    if line == "":
        raise EOFError
    return line.rstrip("\n")


def _terminal_input(prompt: str) -> str:
    try:
        import readline  # noqa: F401 - line editing and history for input()
    except ImportError:  # pragma: no cover - Windows without pyreadline
        pass
    return input(prompt)


def _line_buffer() -> str:
    try:
        import readline

        return readline.get_line_buffer()
    except ImportError:  # pragma: no cover
        return ""


def _shell_words(text: str) -> list[str]:
    """Words as a shell splits them (quotes, backslash-escaped spaces); plain splitting if the quotes don't close."""
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def _options(element: dict[str, Any]) -> list[dict[str, Any]]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += group.get("options") or []
    return options


def _option_text(option: dict[str, Any] | None) -> str:
    return str(((option or {}).get("text") or {}).get("text", ""))


def _choose(options: list[dict[str, Any]], answer: str) -> dict[str, Any] | None:
    """An option by number, label or value (case-insensitive), or by a unique label prefix."""
    wanted = answer.strip().lower()
    if not wanted:
        return None
    if wanted.isdigit() and 1 <= int(wanted) <= len(options):
        return options[int(wanted) - 1]
    for option in options:
        if wanted in (_option_text(option).lower(), str(option.get("value", "")).lower()):
            return option
    prefixed = [o for o in options if _option_text(o).lower().startswith(wanted)]
    return prefixed[0] if len(prefixed) == 1 else None


def _choose_named(options: list[dict[str, Any]], answer: str) -> dict[str, Any] | None:
    """An option named by its label, or by what follows a colon in it (``evaluation`` for "Sort: Evaluation")."""
    chosen = _choose(options, answer)
    if chosen is not None:
        return chosen
    wanted = answer.strip().lower()
    tails = [o for o in options if _option_text(o).lower().partition(":")[2].strip().startswith(wanted)]
    return tails[0] if wanted and len(tails) == 1 else None


def _choices(options: list[dict[str, Any]]) -> str:
    return ", ".join(f"{i}={_option_text(o)}" for i, o in enumerate(options, 1))


def _short(text: str, limit: int = 48, more: bool = True) -> str:
    """The first line of ``text`` within ``limit`` characters (saying how many lines follow)."""
    lines = text.splitlines() or [""]
    first = lines[0] if len(lines[0]) <= limit else lines[0][: limit - 1] + "…"
    return first + (f" …(+{len(lines) - 1} lines)" if more and len(lines) > 1 else "")


_ROW = re.compile(r"^\s*#?(\d+)(?:\.|\s)")


def _row_number(context: str) -> int | None:
    """The number a row shows at its start ("2. Alan Turing", "#2 Alan Turing"), if any."""
    match = _ROW.match(context)
    return int(match.group(1)) if match else None


def _find_links(links: list[dict[str, Any]], query: str) -> list[dict[str, Any]]:
    """Links whose id or label is ``query`` (case-insensitive), newest first."""
    query = query.strip().lower()
    return [link for link in reversed(links)
            if query in (str(link.get("id", "")).lower(), str(link.get("label", "")).lower())]


class ConsoleLogHandler(logging.Handler):
    """Log records at WARNING and above, printed above the prompt with a ``log ›`` prefix."""

    def __init__(self, console: Console, level: int = logging.WARNING) -> None:
        super().__init__(level)
        self.console = console
        self.setFormatter(logging.Formatter("%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = self.format(record).splitlines()[0]
            # queued, never printed from the logging thread: the printer shows it with the bot's output
            self.console.logs_pending.put(f"  log › {record.levelname.lower()} {record.name}: {message}")
        except Exception:  # a log line must never break the console
            self.handleError(record)


NEWCOMER_HINT = "New here? Type `tour`. Otherwise /pluto help, /voicelink help, or help for the console's own commands."


def banner(mode: str) -> str:
    """The console's first two lines: which mode runs, and that the services are stand-ins."""
    how = ("Socket Mode: the bot connects to the Slack stand-in over a WebSocket" if mode == "socket" else
           "HTTP mode: Slack's requests reach the bot as signed POSTs to /slack/events")
    return f"Pluto Bot sandbox in {how}.\nSlack, Nimrobo, Pluto and OpenAI are local stand-ins."


class Console:
    """The console over a running :class:`~sandbox.stack.Stack`.

    ``input_fn(prompt)`` returns one line (raising EOFError at the end); by default the terminal
    (with line editing) or, when stdin is not a terminal, stdin's lines. ``restart`` returns a
    fresh started Stack for ``reset``. ``color`` defaults to whether output is a terminal.
    """

    def __init__(self, stack: Any, *, input_fn: Callable[[str], str] | None = None, output: TextIO | None = None,
                 color: bool | None = None, restart: Callable[[], Any] | None = None,
                 log_path: Path | None = None, intro: str = "", settle: float = 1.5) -> None:
        self.stack = stack
        self.out = output or sys.stdout
        interactive = input_fn is None and sys.stdin.isatty()
        #: a terminal shows the prompt, so lines printed meanwhile go above it and it is drawn again
        self._tty = bool(getattr(self.out, "isatty", lambda: False)()) and (interactive or input_fn is not None)
        self._input = input_fn or (_terminal_input if interactive else _pipe_input)
        self.render = Renderer("ansi" if (self._tty if color is None else color) else "plain")
        self.settle = settle  # how long to wait for the bot's first follow-up after a request
        self.restart = restart
        self.log_path = log_path
        self.intro = intro
        #: suggested answers for form fields, by action_id (the tour sets them; Enter accepts them)
        self.suggest: dict[str, str] = {}
        self._waited: set[str] = set()  # loading modals already waited for
        self._prefill_file: Path | None = None
        self._seen: dict[str, int] = {}  # workspace (team id) -> how much of its timeline is printed
        #: the workspace typed into (``ws``), a team id; None: the first (the only one, unless there are several)
        self.team: str | None = None
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._prompt: str | None = None
        self._paused = False  # while reset swaps the stack
        #: log lines waiting to be printed (ConsoleLogHandler puts them here from any thread)
        self.logs_pending: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._numbered: list[Clickable] = []
        self._user_files: list[dict[str, Any]] = []
        self._state: dict[str, dict[str, Any]] = {}  # view id -> typed values {block_id: {action_id: value}}
        self._resume: dict[str, int] = {}  # view id -> block index to go on from after an update
        self._only: dict[str, set[str]] = {}  # view id -> block ids to ask again (after errors)
        self._views_shown: dict[str, str] = {}  # view id -> how it was last printed
        self.tour_next = 1  # the tour's step to go on with (after Ctrl-C paused it)
        #: the last wait_until was stopped with Ctrl-C
        self.interrupted = False

    @property
    def slack(self) -> Any:
        """The Slack test bed of the workspace typed into."""
        return self.stack.slack if self.team is None else self.stack.slack.workspace(self.team)

    @property
    def signer(self) -> Any:
        """Slack's payloads from the workspace typed into."""
        return self.stack.signer if self.team is None else self.stack.workspace(self.team)[1]

    # -- several workspaces -------------------------------------------------------------------------
    @property
    def team_ids(self) -> list[str]:
        """The test bed's workspaces, the first one first (several only with ``--workspaces``)."""
        return list(getattr(self.stack, "team_ids", None) or [])

    @property
    def several(self) -> bool:
        return len(self.team_ids) > 1

    @property
    def _tag(self) -> str:
        """``[Beta] `` before what happened in the workspace typed into, when there are several; else nothing."""
        return f"[{self.slack.team_name}] " if self.several else ""

    def _team_name(self, team_id: str) -> str:
        return str(self.stack.slack.workspace(team_id).team_name)

    @property
    def prompt(self) -> str:
        """``> ``; with several workspaces, the one typed into: ``beta> ``."""
        if not self.several:
            return "> "
        return f"{self._team_name(self.team or self.team_ids[0]).lower()}> "

    def _find_team(self, name: str) -> str | None:
        """A workspace by its name or team id (case-insensitive, a unique prefix will do)."""
        wanted = name.strip().lower()
        names = {team_id: self._team_name(team_id).lower() for team_id in self.team_ids}
        exact = [t for t, n in names.items() if wanted in (n, t.lower())]
        prefixed = [t for t, n in names.items() if wanted and n.startswith(wanted)]
        return exact[0] if exact else (prefixed[0] if len(prefixed) == 1 else None)

    def _installed(self, team_id: str) -> bool:
        """The bot serves workspace ``team_id`` (its registry: installed, not left)."""
        return bool(self.stack.services.workspaces.is_installed(team_id))

    def _need_team(self, verb: str, arg: str) -> str | None:
        if not self.several:
            self.print(f"  ! `{verb}` is for several workspaces: start with `python3 dev.py run --workspaces 2`")
            return None
        choices = ", ".join(self._team_name(t).lower() for t in self.team_ids)
        if not arg.strip():
            self.print(f"  ! {verb} needs a workspace: {verb} <{' | '.join(choices.split(', '))}>")
            return None
        team_id = self._find_team(arg)
        if team_id is None:
            self.print(f"  ! no workspace {arg.strip()!r}; there are {choices}")
        return team_id

    def switch_workspace(self, arg: str) -> None:
        """``ws``: list the workspaces; ``ws beta``: type into Beta from now on."""
        if not arg.strip():
            if not self.several:
                self.print("  One workspace (Sandbox). `python3 dev.py run --workspaces 2` shows two side by side.")
                return
            current = self.team or self.team_ids[0]
            for team_id in self.team_ids:
                mark = "*" if team_id == current else " "
                state = "installed" if self._installed(team_id) else "not installed"
                self.print(f"  {mark} {self._team_name(team_id).lower():<8} {team_id:<10} the bot is {state}")
            self.print("  `ws <name>` types into another one.")
            return
        team_id = self._need_team("ws", arg)
        if team_id is None:
            return
        self.flush_output()
        with self._lock:
            self.team = team_id
            self._numbered = []  # numbers from `buttons` belong to the other workspace's screen
        note = "" if self._installed(team_id) else " (the bot is not installed here: `install " + \
            f"{self._team_name(team_id).lower()}`)"
        self.print(f"  Now typing into {self._team_name(team_id)}{note}.")

    def uninstall(self, arg: str) -> None:
        """The workspace removes the app: Slack revokes its tokens and sends app_uninstalled, tokens_revoked."""
        team_id = self._need_team("uninstall", arg)
        if team_id is None:
            return
        name = self._team_name(team_id)
        if not self._installed(team_id):
            self.print(f"  ! the bot is not installed in {name}; `install {name.lower()}` installs it")
            return
        acks = self.stack.uninstall(team_id)
        self.print(f"  {name} removed the app: Slack revoked its tokens and sent app_uninstalled and tokens_revoked "
                   f"(the bot answered {', '.join(str(a.status_code) for a in acks)}).")
        gone = self.wait_until(lambda: not self._installed(team_id), 10)
        days = getattr(getattr(self.stack, "settings", None), "workspace_retention_days", None)
        kept = f"kept {days:g} days (WORKSPACE_RETENTION_DAYS)" if days is not None else "kept for the retention period"
        self.print(f"  The bot forgot {name}'s tokens and stopped serving it (no jobs run there); its data is {kept}, "
                   "then deleted."
                   if gone else f"  ! the bot still has {name}'s installation (see `logs`)")

    def install(self, arg: str) -> None:
        """Install the bot in the workspace again through its /slack/install page, as a browser does."""
        from sandbox.stack import install_line

        team_id = self._need_team("install", arg)
        if team_id is None:
            return
        response = self.stack.install(team_id, USER)
        self.print("  " + install_line(self.stack, team_id, response))

    # -- output ---------------------------------------------------------------------------------
    def print(self, text: str = "") -> None:
        """Print a line; while a prompt waits on a terminal, above it (the prompt is drawn again)."""
        with self._lock:
            if self._prompt is not None and self._tty:
                self.out.write("\r\x1b[2K" + text + "\n" + self._prompt + _line_buffer())
            else:
                self.out.write(text + "\n")
            self.out.flush()

    def _where(self, channel: str | None, thread_ts: str | None = None, private: bool = False) -> str:
        channel = channel or ""
        if private:
            where = "only you"
        elif channel.startswith("D"):
            where = "DM"
        else:
            where = f"#{channel_name(channel)}" if channel else ""
        return where + (" › thread" if thread_ts else "")

    def _describe(self, event: dict[str, Any], slack: Any = None) -> str | None:
        """How ``event`` of the timeline of ``slack`` (default: the workspace typed into) prints, if at all."""
        slack = slack if slack is not None else self.slack
        kind = event.get("kind", "")
        user = event.get("user")
        if kind in ("ephemeral", "response", "view_open", "view_update", "view_push", "view_closed", "home") \
                and user and user != USER:
            return None  # another person's private surface
        if kind in ("view_open", "view_update", "view_push"):
            view = slack.view(event.get("view_id", "")) or {}
            head = {"view_open": "modal opened", "view_update": "modal updated (views.update)",
                    "view_push": "modal pushed on top (views.push)"}[kind]
            if event.get("blocks") is not None:
                view = {**view, "blocks": event["blocks"]}  # as it was then, not as it is by the time it prints
            shown = self.render.view(view, self._state.get(view.get("id", "")))
            if kind == "view_update" and self._views_shown.get(view.get("id", "")) == shown:
                return None  # printed already as it is now: only what changed is printed again
            self._views_shown[view.get("id", "")] = shown
            return f"  ▣ {head}\n" + _indent(shown)
        if kind == "view_closed":
            view = slack.view(event.get("view_id", "")) or {}
            return f"  ▣ modal closed: {self.render.text(view.get('title'))}"
        if kind == "home":
            return None  # shown by `home`, as Slack shows the tab only when it is opened
        if kind == "function_completed":
            return f"  ⚙ workflow step {event.get('callback_id')} completed › outputs {json.dumps(event.get('outputs'))}"
        if kind == "function_failed":
            return f"  ⚙ workflow step {event.get('callback_id')} failed › {event.get('error')}"
        if kind == "assistant_status":
            return f"  ✦ Ask Pluto {event['status']}" if event.get("status") else None
        if kind == "assistant_prompts":
            return "  ✦ Ask Pluto suggests: " + " · ".join(p.get("title", "") for p in event.get("prompts") or [])
        if kind == "assistant_title":
            return None
        if kind == "uninstall":
            return f"  ✕ the app was removed from {slack.team_name}"
        if kind == "install":
            return f"  ✓ the app was installed in {slack.team_name}" + (" (org-wide)" if event.get("org_wide") else "")
        where = self._where(event.get("channel"), event.get("thread_ts"), kind in ("ephemeral", "response"))
        if kind == "delete":
            return f"  ✕ {where} a message was deleted"
        if kind == "file_delete":
            return f"  ✕ file {event.get('file_id')} was deleted (files.delete)"
        if kind == "upload":
            size = len(event.get("content") or b"")
            return (f"  📎 {where} file {event.get('filename') or event.get('title')} ({size:,} bytes)"
                    " · `files` lists it, `open <n>` shows it")
        body = self.render.blocks(event.get("blocks") or [], event.get("text") or "")
        if not body:
            return None
        if kind == "update":
            return f"  ↻ {where} (updated)\n" + _indent(body)
        return f"  {where} ›\n" + _indent(body)

    def flush_output(self) -> None:
        with self._lock:
            while not self.logs_pending.empty():
                self.print(self.logs_pending.get_nowait())
            if self._paused:
                return
            several = self.several
            for slack in ([self.stack.slack.workspace(t) for t in self.team_ids] if several else [self.slack]):
                events = slack.timeline_since(self._seen.get(slack.team_id, 0))
                self._seen[slack.team_id] = self._seen.get(slack.team_id, 0) + len(events)
                for event in events:
                    line = self._describe(event, slack)
                    if line and several:  # each line says which workspace it happened in
                        line = f"  [{slack.team_name}] " + line.removeprefix("  ")
                    if line:
                        self.print(line)

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                self.flush_output()
            except Exception:  # the printer must never take the console down
                pass
            self._stop.wait(0.2)

    # -- input ------------------------------------------------------------------------------------
    def ask(self, prompt: str, interrupted: str | None = "") -> str | None:
        """One line from the user (None when input has ended); Ctrl-C answers ``interrupted``."""
        self.flush_output()
        with self._lock:
            self._prompt = prompt
        try:
            return self._input(prompt)
        except EOFError:
            return None
        except KeyboardInterrupt:
            self.out.write("\n")
            return interrupted
        finally:
            with self._lock:
                self._prompt = None

    def wait_until(self, predicate: Callable[[], Any], timeout: float) -> Any:
        """Poll ``predicate`` (printing the bot's output meanwhile) until truthy or ``timeout``.

        Ctrl-C stops waiting (never the sandbox): it returns None and sets :attr:`interrupted`,
        so a caller such as the tour goes back to the prompt instead of going on."""
        self.interrupted = False
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                result = predicate()
                if result:
                    self.flush_output()
                    return result
                time.sleep(0.1)
        except KeyboardInterrupt:
            self.interrupted = True
            self.print("  (stopped waiting)")
        return None

    def _settle(self, mark: int, first: float | None = None, quiet: float = 0.4, cap: float = 6.0) -> None:
        """After a request, give the bot a moment so its follow-up prints before the next prompt:
        until it has been quiet for ``quiet`` s after posting, a modal opened, or nothing came in ``first`` s."""
        first = self.settle if first is None else first
        start = last_change = time.monotonic()
        seen = mark
        while True:
            now = time.monotonic()
            count = len(self.slack.timeline)
            if count != seen:
                seen, last_change = count, now
            if count > mark and (self.slack.open_views(USER) or now - last_change >= quiet):
                break
            if (count == mark and now - start >= first) or now - start >= cap:
                break
            time.sleep(0.05)
        self.flush_output()

    # -- the loop -----------------------------------------------------------------------------------
    def loop(self) -> None:
        self.print(banner(getattr(self.stack, "mode", "http")))
        if self.intro:
            self.print(self.intro)
        self.print(NEWCOMER_HINT)
        printer = threading.Thread(target=self._watch, name="console-printer", daemon=True)
        printer.start()
        ctrl_c = False  # the previous prompt was answered with Ctrl-C: a second one leaves
        try:
            while True:
                try:  # a Ctrl-C while a form is being filled (or waited on) returns to the prompt
                    if not self.fill_modals():
                        break
                except KeyboardInterrupt:
                    self.print("  (interrupted; the form stays open: press a button or type a command)")
                line = self.ask(self.prompt, interrupted=INTERRUPTED)
                if line is None:
                    break
                if line == INTERRUPTED:
                    if ctrl_c:
                        break
                    ctrl_c = True
                    self.print("  (Ctrl-C again at an empty prompt, `quit` or Ctrl-D leaves the sandbox)")
                    continue
                ctrl_c = False
                line = line.strip()
                if not line:
                    continue
                if line in ("quit", "exit"):
                    break
                try:
                    self.handle(line)
                except KeyboardInterrupt:
                    self.print("  (interrupted)")
                except Exception as exc:  # keep the console alive whatever the input
                    self.print(f"  ! {type(exc).__name__}: {exc}")
        finally:
            self._stop.set()
            printer.join(timeout=2)
            self.flush_output()

    def handle(self, line: str) -> None:
        word, _, rest = line.partition(" ")
        rest = rest.strip()
        if line.startswith("/"):
            self.slash(line)
        elif line.isdigit():
            self.press(line)
        elif word == "help":
            self.print(CONSOLE_HELP + ("\n" + WORKSPACES_HELP if self.several else ""))
        elif word == "tour":
            from sandbox.tour import run_tour

            run_tour(self, args=rest)
        elif word in self.NO_ARGS:
            getattr(self, self.NO_ARGS[word])()
        elif word in self.WITH_ARGS:
            getattr(self, self.WITH_ARGS[word])(rest)
        else:
            self.press(line)

    #: the console's own words: the method each one calls, without or with the rest of the line
    NO_ARGS = {"buttons": "list_buttons", "home": "home", "files": "list_files", "reset": "reset", "logs": "logs"}
    WITH_ARGS = {"press": "press", "open": "open_file", "sim": "sim", "mention": "mention", "ask": "ask_pluto",
                 "step": "run_step", "ws": "switch_workspace", "uninstall": "uninstall", "install": "install"}

    # -- Slack requests ---------------------------------------------------------------------------------
    def _show_ack(self, response: Any) -> None:
        if response.status_code != 200:
            outcome = getattr(response, "outcome", None)  # Socket Mode: the envelope was not acknowledged
            what = f"did not acknowledge over Socket Mode ({outcome})" if outcome else \
                f"answered HTTP {response.status_code}"
            self.print(f"  {self._tag}! the bot {what}; Slack would show the user an error")
            return
        body = getattr(response, "ack", None)
        if isinstance(body, dict) and (body.get("text") or body.get("blocks")):
            self.print(f"  {self._tag}only you ›\n" + _indent(self.render.blocks(body.get("blocks") or [],
                                                                                  body.get("text", ""))))

    @staticmethod
    def _ack_said(response: Any) -> bool:
        """The ack itself answered (text or blocks), or the request failed: nothing more to wait for."""
        body = getattr(response, "ack", None)
        return response.status_code != 200 or (isinstance(body, dict) and bool(body.get("text") or body.get("blocks")))

    def usage(self, command: str, reason: str) -> None:
        """A missing or wrong argument: the reason and the one usage line (never the whole help)."""
        self.print(f"  ! {reason}\n    usage: {USAGE[command]}")

    def slash(self, line: str) -> None:
        command, _, text = line.partition(" ")
        text = text.strip()
        if command not in ("/pluto", "/voicelink"):
            near = difflib.get_close_matches(command, ["/pluto", "/voicelink"], n=1, cutoff=0.5)
            self.print(f"  ! {command} is not a command of this app" + (f"; did you mean {near[0]}?" if near else ""))
            return
        self._prefill_file = None
        if command == "/pluto" and text.startswith("score "):
            words = _shell_words(text[len("score "):])
            path = Path(" ".join(words)).expanduser()  # taken as a shell would: quotes and `\ ` kept together
            if not path.is_file():
                self.print(f"  ! no such file: {path}")
                return
            self._prefill_file = path
            text = "score"
        mark = len(self.slack.timeline)
        try:
            response = self.signer.command(command, text, user=USER, channel=CHANNEL)
            self._show_ack(response)
            # an empty ack means the bot answers next (a form, a post): give it longer on a loaded machine
            self._settle(mark, first=None if self._ack_said(response) else max(self.settle, 5.0))
            self.fill_modals()
        finally:
            self._prefill_file = None

    def mention(self, text: str) -> None:
        if not text.strip():
            self.usage("mention", "mention needs something to say to the bot")
            return
        files = None
        words = _shell_words(text)
        for word in words:
            path = Path(word).expanduser()
            if word.lower().endswith(".csv") and path.is_file():
                files = [self._upload(path, "attached to a mention")]
                text = " ".join(w for w in words if w != word)
        mark = len(self.slack.timeline)
        self.signer.app_mention(f"<@{self.slack.bot_user_id}> {text}", files=files, user=USER, channel=CHANNEL)
        self._settle(mark)

    def ask_pluto(self, question: str) -> None:
        """A question in the assistant pane; the pane is opened (beside the channel) on first use."""
        if not question:
            self.print("  ! ask what? e.g. `ask Top candidates of my last run`")
            return
        mark = len(self.slack.timeline)
        pane = getattr(self, "_pane", None)
        if pane is None or (pane["channel_id"], pane["thread_ts"]) not in self.slack.assistant_threads:
            pane, _ = self.signer.assistant_thread_started(USER, CHANNEL)
            self._pane = pane
            self._settle(mark)
            mark = len(self.slack.timeline)
        posted, _ = self.signer.assistant_message(pane, question)

        def answered() -> bool:
            return any(m.get("bot_id") and float(m["ts"]) > float(posted["ts"])
                       for m in self.slack.messages(pane["channel_id"], thread_ts=pane["thread_ts"]))
        deadline = time.monotonic() + 30
        while not answered() and time.monotonic() < deadline:
            time.sleep(0.05)
        self._settle(mark)

    def run_step(self, text: str) -> None:
        """A workflow reaches one of the app's steps, with ``key=value`` inputs (a file input takes a path)."""
        words = shlex.split(text)
        if not words:
            self.print("  ! which step? create_voice_link, score_candidates or voice_screen_top")
            return
        inputs: dict[str, Any] = {"user_id": USER}
        if words[0] == "score_candidates":
            inputs["channel_id"] = CHANNEL
        for word in words[1:]:
            key, _, value = word.partition("=")
            if key == "file_id" and Path(value).expanduser().is_file():
                value = self._upload(Path(value).expanduser(), "given to a workflow step")["id"]
            inputs[key] = int(value) if value.isdigit() and key == "top_n" else value
        mark = len(self.slack.timeline)
        try:
            execution, _ = self.signer.function_executed(words[0], inputs)
        except KeyError as exc:
            self.print(f"  ! {exc.args[0]}")
            return
        self.print(f"  ⚙ workflow step {words[0]} started ({execution['id']}); its outcome prints when Slack has it")
        self._settle(mark, first=2.0)

    def _upload(self, path: Path, how: str) -> dict[str, Any]:
        content = path.read_bytes()
        filetype = path.suffix.lstrip(".").lower() or "binary"
        mimetype = {"csv": "text/csv", "txt": "text/plain", "json": "application/json"}.get(
            filetype, "application/octet-stream")
        file = self.slack.add_file(path.name, content, filetype=filetype, mimetype=mimetype, user=USER)
        self._user_files.append({"name": path.name, "content": content, "by": "you", "where": how,
                                 "time": time.time()})
        return file

    # -- buttons --------------------------------------------------------------------------------------
    def _label(self, element: dict[str, Any]) -> str:
        if element.get("type") == "button":
            return self.render.text(element.get("text")).strip()
        return self.render.text(element.get("placeholder")).strip() or \
            _option_text(element.get("initial_option")) or element.get("type", "select")

    def clickables(self, *, views: bool = False) -> list[Clickable]:
        """Everything the user can press now, least recently changed surface first, top to bottom.
        Modals only with ``views`` (they are handled while filling them)."""
        plain = Renderer("plain")
        found: list[Clickable] = []
        for surface in self.slack.surfaces(USER):
            kind = surface["kind"]
            if kind == "view" and not views:
                continue
            record = surface["record"]
            where = {"home": "Home", "view": "modal"}.get(kind) or self._where(
                surface["channel"], record.get("thread_ts"), kind in ("ephemeral", "response"))
            context = ""
            for block in surface["blocks"] or []:
                btype = block.get("type")
                if btype in ("section", "header", "context"):
                    context = " ".join(plain.block(block)).strip()
                elements = list(block.get("elements") or []) if btype == "actions" else []
                if btype == "section" and block.get("accessory"):
                    elements.append(block["accessory"])
                for element in elements:
                    if element.get("type") not in INTERACTIVE or element.get("url"):
                        continue
                    found.append(Clickable(self._label(element), element, block, surface, context, where))
        return found

    def list_buttons(self) -> None:
        found = self.clickables()[-40:]
        self._numbered = found
        if not found:
            self.print("  (nothing to press yet)")
            return
        width = max(len(c.label) for c in found) + 2
        for number, c in enumerate(found, 1):
            label = f"[{c.label}]" if c.is_button else f"[{c.label} ▾]"
            self.print(f"  {number:>2}. {label:<{width + 2}} {c.where} · {_short(c.context, 60, more=False)}")
        self.print("  Press one with `press <n>` (or just the number).")

    def _numbered_pick(self, number: int) -> Clickable | None:
        if not 1 <= number <= len(self._numbered):
            self.print("  ! no such number; `buttons` lists what you can press" if self._numbered else
                       "  ! type `buttons` first to number them")
            return None
        wanted = self._numbered[number - 1].key
        current = next((c for c in self.clickables() if c.key == wanted), None)
        if current is None:
            self.print("  ! that button is gone (its message changed); type `buttons` again")
        return current

    def find(self, line: str, found: list[Clickable]) -> Clickable | None | list[str]:
        """The clickable ``line`` names: a label, optionally followed by a number (the n-th with that
        label on the newest message that has n of them) or a word from the text next to it. Returns the
        nearest labels (a list) when nothing matches, None when the user gave up choosing."""
        lowered = line.strip().lower()
        labels = sorted({n for c in found for n in c.names}, key=len, reverse=True)
        label = next((lab for lab in labels if lowered == lab or lowered.startswith(lab + " ")), None)
        if label is None:
            names = sorted({c.label for c in found}) + [c for c in COMMANDS]
            near = difflib.get_close_matches(line.strip(), names, n=5, cutoff=0.5)
            first = line.split()[0] if line.split() else line
            near += [n for n in difflib.get_close_matches(first, names, n=5, cutoff=0.5) if n not in near]
            return near[:5]
        rest = line.strip()[len(label):].strip()
        group = [c for c in found if label in c.names]
        if rest and not rest.isdigit():
            # a select named with one of its options: `Sort evaluation`, `Voice-screen … top 3`
            for c in reversed(found):
                if not c.is_button and any(n.startswith(label) for n in c.names):
                    option = _choose_named(_options(c.element), rest)
                    if option is not None and (c in group or not any(rest.lower() in g.context.lower()
                                                                     for g in group)):
                        return replace(c, option=option)
        by_surface: dict[Any, list[Clickable]] = {}
        for c in group:
            by_surface.setdefault(id(c.surface), []).append(c)
        surfaces = list(by_surface.values())  # least recent first
        if rest.isdigit():
            n = int(rest)
            # the row that shows this number (a board's "2. Alan", a shortlist's "#2 Alan"), as the screen
            # numbers them; buttons are counted only where no row shows numbers
            for same in reversed(surfaces):
                numbered = [c for c in same if _row_number(c.context) is not None]
                if numbered:
                    hit = next((c for c in numbered if _row_number(c.context) == n), None)
                    if hit is not None:
                        return hit
                    continue
                if len(same) >= n >= 1:
                    return same[n - 1]
            rows = sorted({r for c in surfaces[-1] if (r := _row_number(c.context)) is not None})
            shown = f"rows {', '.join(map(str, rows))} have one" if rows else \
                f"the newest message has {len(surfaces[-1])}"
            self.print(f"  ! there is no [{group[0].label}] for row {n}; {shown}")
            return None
        if rest:
            word = rest.lower()
            for same in reversed(surfaces):
                hits = [c for c in same if word in c.context.lower()]
                if hits:
                    return hits[0] if len(hits) == 1 else self._pick(hits)
            self.print(f"  ! no [{group[0].label}] next to text with {rest!r}")
            return None
        newest = surfaces[-1]
        return newest[0] if len(newest) == 1 else self._pick(newest)

    def _pick(self, group: list[Clickable]) -> Clickable | None:
        self.print(f"  Several [{group[0].label}] buttons here:")
        for number, c in enumerate(group, 1):
            self.print(f"    {number}. {_short(c.context, 70, more=False)}")
        answer = self.ask(f"  Which one? (1-{len(group)}, Enter for none) ")
        if answer and answer.strip().isdigit() and 1 <= int(answer) <= len(group):
            return group[int(answer) - 1]
        self.print("  (nothing pressed)")
        return None

    def press(self, line: str) -> None:
        if not line.strip():
            self.usage("press", "press needs a button")
            return
        if line.strip().isdigit():
            chosen = self._numbered_pick(int(line))
        else:
            found = self.clickables()
            result = self.find(line, found)
            if isinstance(result, list):
                hint = f" Nearest: {', '.join(result)}." if result else ""
                self.print(f"  ! no button or command {line.strip()!r}.{hint} "
                           "(`buttons` lists what you can press, `help` the commands)")
                return
            chosen = result
        if chosen is None:
            return
        mark = self.activate(chosen)
        if mark is not None:
            self._settle(mark)
            self.fill_modals()

    def confirm(self, dialog: dict[str, Any]) -> bool:
        """Slack's confirmation dialog (a ``confirm`` object): shown, and asked."""
        yes = self.render.text(dialog.get("confirm")) or "Yes"
        no = self.render.text(dialog.get("deny")) or "Cancel"
        self.print(_indent(f"┌ {self.render.text(dialog.get('title')) or 'Are you sure?'} ┐\n"
                           f"{self.render.text(dialog.get('text'))}\n<{yes}>  <{no}>", "  "))
        answer = self.ask(f"  {yes}? [y/N] ", interrupted="n")
        return (answer or "").strip().lower() in ("y", "yes", yes.lower())

    def _search(self, clickable: Clickable, label: str, shown: str = "") -> dict[str, Any] | None:
        """An external select: what is typed goes to the bot's Options Load URL (``block_suggestion``), as
        Slack sends it while someone types; one match is taken, several are listed to pick from."""
        element, surface = clickable.element, clickable.surface
        while True:
            answer = self.ask(f"  {label} (type to search" + (f"; Enter keeps [{shown}]): " if shown else "): "),
                              interrupted=CANCEL)
            if answer is None or answer.strip() in (CANCEL, SUBMIT) or not answer.strip():
                return None
            record = self.slack.view(surface["record"].get("id", "")) if surface["kind"] == "view" else None
            if record is not None:
                response = self.signer.block_suggestion(element.get("action_id", ""), answer.strip(), user=USER,
                                                        block_id=clickable.block.get("block_id"), view=record)
            else:
                response = self.signer.block_suggestion(
                    element.get("action_id", ""), answer.strip(), user=USER, block_id=clickable.block.get("block_id"),
                    channel=surface["channel"], message=surface["record"], ephemeral=surface["kind"] != "message",
                    message_ts=surface["ts"])
            if response.problems:
                self.print(f"  ! Slack would refuse the bot's options: {'; '.join(response.problems)}")
                return None
            options = response.options
            picked = _choose(options, answer) if len(options) != 1 else options[0]
            if picked is not None:
                self.print(f"  → {_option_text(picked)}")
                return picked
            if not options:
                self.print("  ! nothing matches; type something else")
                continue
            self.print(_indent("\n".join(f"{i}. {_option_text(o)}" for i, o in enumerate(options[:20], start=1))
                               + (f"\n… and {len(options) - 20} more: type more to narrow it" if len(options) > 20
                                  else "")))
            number = self.ask("  choose by number (Enter to search again): ", interrupted=CANCEL)
            if number and number.strip().isdigit() and 1 <= int(number) <= min(20, len(options)):
                return options[int(number) - 1]

    def _select(self, clickable: Clickable) -> dict[str, Any] | None:
        if clickable.element.get("type") == "external_select":
            return self._search(clickable, clickable.label)
        options = _options(clickable.element)
        while True:
            answer = self.ask(f"  {clickable.label} ({_choices(options)}): ")
            if not answer:
                return None
            chosen = _choose_named(options, answer)
            if chosen is not None:
                return chosen
            self.print("  ! choose one by number or name")

    def activate(self, clickable: Clickable, values: dict[str, Any] | None = None) -> int | None:
        """Press a button (or choose in a select); returns the timeline mark before, or None if not sent."""
        element = clickable.element
        selected = None
        if not clickable.is_button:
            selected = clickable.option or self._select(clickable)
            if selected is None:
                self.print("  (nothing chosen)")
                return None
        if element.get("confirm") and not self.confirm(element["confirm"]):
            self.print("  (not pressed)")
            return None
        mark = len(self.slack.timeline)
        response = self.signer.activate(clickable.surface, clickable.block, element, user=USER,
                                        selected_option=selected, values=values)
        self._show_ack(response)
        return mark

    # -- modals ----------------------------------------------------------------------------------------
    def fill_modals(self) -> bool:
        """Fill the user's open modals, top of the stack first, until none is open.
        Returns False when input ended."""
        while True:
            stack = self.slack.open_views(USER)
            if not stack:
                return True
            if not self._fill(stack[-1]):
                for view in reversed(self.slack.open_views(USER)):
                    self.signer.close_view(view, user=USER)
                return False

    def _prune(self, view: dict[str, Any]) -> dict[str, Any]:
        """Typed values Slack keeps across a views.update: those whose block_id and action_id remain."""
        state = self._state.setdefault(view["id"], {})
        inputs = {b.get("block_id"): (b.get("element") or {}).get("action_id")
                  for b in view.get("blocks") or [] if b.get("type") == "input"}
        for block_id in list(state):
            if block_id not in inputs or inputs[block_id] not in state[block_id]:
                del state[block_id]
        return state

    def _fill(self, view: dict[str, Any]) -> bool:
        self.flush_output()
        view_id = view["id"]
        state = self._prune(view)
        if not view.get("submit") and _loading(view) and view_id not in self._waited:
            self._waited.add(view_id)  # the bot fills it in a moment, as a person would wait (once: an error stays)
            filled = self.wait_until(lambda: _changed(self.slack.view(view_id), view), LOADING_WAIT)
            if filled is not None:
                return True  # fill_modals looks at the stack again: the filled view, or none if it closed
        if not view.get("submit"):
            return self._read_only(view)
        only = self._only.pop(view_id, None)
        start = 0 if only is not None else self._resume.pop(view_id, 0)
        if start == 0 and only is None:
            self.print("  (Enter keeps what is shown · `\\n` or `<<` for more lines · `~` empties · "
                       "`submit` · `cancel`)")
        blocks = view.get("blocks") or []
        for index in range(start, len(blocks)):
            block = blocks[index]
            if only is not None and block.get("block_id") not in only:
                continue
            if block.get("type") == "input":
                result = self._ask_input(block, state)
            else:
                result = self._ask_actions(view, index, block, state)
            if result == ENDED:
                return False
            if result == CANCEL:
                self.signer.close_view(self.slack.view(view_id) or view, user=USER)
                self._state.pop(view_id, None)
                self.flush_output()
                return True
            if result == ACTED:
                return True
            if result == SUBMIT:
                break
        return self._submit(view_id, state)

    def _read_only(self, view: dict[str, Any]) -> bool:
        """A modal without a submit button: it can only be read (and closed), never submitted."""
        inside = [c for c in self.clickables(views=True) if c.surface["record"].get("id") == view["id"]]
        hint = " or type a button's label" if inside else ""
        answer = self.ask(f"  (a read-only modal: Enter closes it{hint}) ", interrupted="")
        if answer is None:
            return False
        if answer.strip() and inside:
            result = self.find(answer, inside)
            if isinstance(result, Clickable):
                self._act_in_view(view, result.block, result, {})
                return True
        self.signer.close_view(self.slack.view(view["id"]) or view, user=USER)
        self.flush_output()
        return True

    def _ask_input(self, block: dict[str, Any], state: dict[str, Any]) -> str | None:
        element = block.get("element") or {}
        kind = element.get("type", "plain_text_input")
        block_id, action_id = block.get("block_id", ""), element.get("action_id", "")
        label = self.render.text(block.get("label")) or block_id
        typed = (state.get(block_id) or {}).get(action_id)
        shown = self._value_text(element, typed)
        # a suggestion (the tour's) replaces what an untouched field shows, as the tour says it will
        suggestion = self.suggest.get(action_id) if typed is None else None
        if kind == "file_input" and typed is None and self._prefill_file is not None:
            file = self._upload(self._prefill_file, "uploaded in a form")
            state[block_id] = {action_id: {"type": "file_input", "files": [file]}}
            self.print(f"  {label}: {self._prefill_file.name} (the path you gave)")
            self._prefill_file = None  # once: a form that asks for a file again (one it refused) asks you
            return None
        options = _options(element)
        prompt = f"  {label}" + (" (optional)" if block.get("optional") else "")
        if kind in ("checkboxes", "multi_static_select"):
            prompt += f" (any of {_choices(options)}; comma-separated)"
        elif options:
            prompt += f" ({_choices(options)})"
        elif kind == "file_input":
            prompt += " (path to a local file)"
        elif kind == "number_input":
            prompt += " (a number)"
        default = suggestion if suggestion is not None else shown
        prompt += f" [{_short(default)}]: " if default else ": "
        while True:
            answer = self.ask(prompt, interrupted=CANCEL)
            if answer is None:
                return ENDED
            if answer.strip() in (CANCEL, SUBMIT):
                return answer.strip()
            if answer.strip() == "<<":
                answer = self._read_lines()
                if answer is None:
                    return ENDED
            if answer == "":
                if suggestion is not None:
                    answer = suggestion
                elif shown or block.get("optional"):
                    return None  # keep what is shown (Slack sends the initial value of an untouched field)
                else:
                    self.print("  ! Please fill out this field.")
                    continue
            if answer.strip() == "~":
                if not block.get("optional"):
                    self.print("  ! Please fill out this field.")
                    continue
                state[block_id] = {action_id: {**empty_value({"type": kind}), "type": kind}}
                return None
            value, problem = self._parse(element, answer)
            if problem:
                self.print(f"  ! {problem}")
                continue
            state[block_id] = {action_id: value}
            return None

    def _read_lines(self) -> str | None:
        lines = []
        while True:
            line = self.ask("  … ", interrupted=".")
            if line is None:
                return None
            if line.strip() == ".":
                return "\n".join(lines)
            lines.append(line)

    def _value_text(self, element: dict[str, Any], typed: dict[str, Any] | None) -> str:
        """What the field shows now: the typed value, else the initial one."""
        value = typed if typed is not None else empty_value(element)
        if "selected_option" in value:
            return _option_text(value["selected_option"])
        if "selected_options" in value:
            return ", ".join(_option_text(o) for o in value["selected_options"] or [])
        if "files" in value:
            return ", ".join(str(f.get("name")) for f in value["files"] or [])
        for key in ("value", "selected_date", "selected_time", "selected_user", "selected_conversation",
                    "selected_channel"):
            if key in value:
                return str(value[key] or "")
        return ""

    def _parse(self, element: dict[str, Any], answer: str) -> tuple[dict[str, Any], str | None]:
        """The state value for ``answer``, or a problem Slack's client would show before submitting."""
        kind = element.get("type", "plain_text_input")
        text = answer.replace("\\n", "\n")
        options = _options(element)
        if kind in ("static_select", "radio_buttons", "external_select"):
            chosen = _choose(options, text)
            if chosen is None:
                return {}, f"Choose one of: {_choices(options)}"
            return {"type": kind, "selected_option": chosen}, None
        if kind in ("checkboxes", "multi_static_select"):
            picked = [_choose(options, part) for part in text.split(",") if part.strip()]
            if any(p is None for p in picked):
                return {}, f"Choose from: {_choices(options)} (comma-separated)"
            return {"type": kind, "selected_options": [p for p in picked if p]}, None
        if kind == "file_input":
            paths = [Path(" ".join(_shell_words(p))).expanduser() for p in text.split(",") if p.strip()]
            missing = [str(p) for p in paths if not p.is_file()]
            if missing:
                return {}, f"No such file: {', '.join(missing)}"
            allowed = [t.lower() for t in element.get("filetypes") or []]
            wrong = [p.name for p in paths if allowed and p.suffix.lstrip(".").lower() not in allowed]
            if wrong:
                return {}, f"Only {', '.join(allowed)} files here, not {', '.join(wrong)}"
            if len(paths) > int(element.get("max_files") or 10):
                return {}, f"At most {element.get('max_files')} file(s)"
            return {"type": kind, "files": [self._upload(p, "uploaded in a form") for p in paths]}, None
        if kind == "number_input":
            try:
                number = float(text) if element.get("is_decimal_allowed") else int(text.strip())
            except ValueError:
                return {}, "Enter a number." if element.get("is_decimal_allowed") else "Enter a whole number."
            low, high = element.get("min_value"), element.get("max_value")
            if (low is not None and number < float(low)) or (high is not None and number > float(high)):
                return {}, f"Enter a number from {low if low is not None else '…'} to {high if high is not None else '…'}."
            return {"type": kind, "value": text.strip()}, None
        if kind == "datepicker":
            try:
                date.fromisoformat(text.strip())
            except ValueError:
                return {}, "Enter a date as YYYY-MM-DD."
            return {"type": kind, "selected_date": text.strip()}, None
        for select, key in (("users_select", "user"), ("conversations_select", "conversation"),
                            ("channels_select", "channel")):
            if kind == select:
                return {"type": kind, f"selected_{key}": text.strip()}, None
        if "\n" in text and kind == "plain_text_input" and not element.get("multiline"):
            return {}, "This field takes one line."
        if element.get("max_length") and len(text) > int(element["max_length"]):
            return {}, f"At most {element['max_length']} characters (you typed {len(text)})."
        if element.get("min_length") and len(text) < int(element["min_length"]):
            return {}, f"At least {element['min_length']} characters."
        return {"type": kind, "value": text}, None

    def _ask_actions(self, view: dict[str, Any], index: int, block: dict[str, Any],
                     state: dict[str, Any]) -> str | None:
        """Buttons and selects between the fields: a select is asked like a field, buttons are offered."""
        elements = list(block.get("elements") or []) if block.get("type") == "actions" else []
        if block.get("type") == "section" and block.get("accessory"):
            elements.append(block["accessory"])
        elements = [e for e in elements if e.get("type") in INTERACTIVE and not e.get("url")]
        surface = {"kind": "view", "channel": None, "ts": None, "blocks": view.get("blocks"), "record": view}
        for element in elements:
            if element.get("type") == "button":
                continue
            clickable = Clickable(self._label(element), element, block, surface, "", "modal")
            if element.get("type") == "external_select":
                current = element.get("initial_option")
                picked = self._search(clickable, self.render.text(block.get("text")).split(":")[0].strip("* ")
                                      or clickable.label, _option_text(current))
                if picked and (current or {}).get("value") != picked.get("value"):
                    self._act_in_view(view, block, clickable, state, selected=picked, index=index)
                    return ACTED
                continue
            options = _options(element)
            current = element.get("initial_option")
            suggested = self.suggest.get(element.get("action_id", ""))
            shown = suggested or _option_text(current)
            while True:
                answer = self.ask(f"  {clickable.label} ({_choices(options)})" + (f" [{shown}]: " if shown else ": "),
                                  interrupted=CANCEL)
                if answer is None:
                    return ENDED
                if answer.strip() in (CANCEL, SUBMIT):
                    return answer.strip()
                answer = answer.strip() or (suggested or "")
                chosen = _choose_named(options, answer) if answer else current
                if answer and chosen is None:
                    self.print("  ! choose one by number or name")
                    continue
                break
            if chosen and (current or {}).get("value") != chosen.get("value"):
                self._act_in_view(view, block, clickable, state, selected=chosen, index=index)
                return ACTED
        buttons = [Clickable(self._label(e), e, block, surface, "", "modal") for e in elements
                   if e.get("type") == "button"]
        if not buttons:
            return None
        names = "  ".join(f"[{b.label}]" for b in buttons)
        suggested = next((b for b in buttons if self.suggest.get(b.element.get("action_id", ""))), None)
        drafts = [b for b in buttons if "draft" in str(b.element.get("action_id", ""))]
        if suggested is None and drafts and self._empty_below(view, index, state):
            # drafting fills the empty sections below: Enter drafts (the first style when there are several,
            # as the bot drafts when the form is submitted with them empty), as a person would want
            suggested = drafts[0]
        if len(buttons) == 1:
            prompt = f"  {names} press it? [{'Y/n' if suggested else 'y/N'}] "
        elif suggested:
            prompt = f"  {names} type one to press it, Enter presses [{suggested.label}]: "
        else:
            prompt = f"  {names} type one to press it, Enter to go on: "
        answer = self.ask(prompt, interrupted=CANCEL)
        if answer is None:
            return ENDED
        answer = answer.strip()
        if answer in (CANCEL, SUBMIT):
            return answer
        chosen_button: Clickable | None = None
        if not answer:
            chosen_button = suggested
        elif len(buttons) == 1 and answer.lower() in ("y", "yes"):
            chosen_button = buttons[0]
        elif answer.lower() not in ("n", "no"):
            result = self.find(answer, buttons)
            chosen_button = result if isinstance(result, Clickable) else None
        if chosen_button is None:
            return None
        if chosen_button.element.get("confirm") and not self.confirm(chosen_button.element["confirm"]):
            return None
        self._act_in_view(view, block, chosen_button, state, index=index)
        return ACTED

    def _empty_below(self, view: dict[str, Any], index: int, state: dict[str, Any]) -> bool:
        """The field right below block ``index`` (the first a draft button fills) is empty: neither typed nor
        prefilled."""
        for block in (view.get("blocks") or [])[index + 1:]:
            if block.get("type") != "input":
                continue
            element = block.get("element") or {}
            typed = (state.get(block.get("block_id", "")) or {}).get(element.get("action_id", ""))
            return not self._value_text(element, typed).strip()
        return False

    def _act_in_view(self, view: dict[str, Any], block: dict[str, Any], clickable: Clickable,
                     state: dict[str, Any], selected: dict[str, Any] | None = None, index: int | None = None) -> None:
        """An action inside a modal: sent with the typed values; then wait for the bot to change the modal."""
        view_id = view["id"]
        current = self.slack.view(view_id) or view
        surface = {**clickable.surface, "record": current}
        mark = len(self.slack.timeline)
        response = self.signer.activate(surface, block, clickable.element, user=USER, selected_option=selected,
                                        values=dict(state))
        self._show_ack(response)

        def changed() -> bool:
            now = self.slack.view(view_id)
            stack = self.slack.open_views(USER)
            return bool(now is None or now.get("closed") or now.get("hash") != current.get("hash")
                        or (stack and stack[-1]["id"] != view_id))

        if not self.wait_until(changed, 15):
            self.print("  (the bot did not change the modal)")
        updated = self.slack.view(view_id)
        if index is not None and updated and not updated.get("closed"):
            new_blocks = updated.get("blocks") or []
            same = index < len(new_blocks) and new_blocks[index].get("type") == block.get("type")
            self._resume[view_id] = index + 1 if same else 0
        self._settle(mark, first=0.2)

    def _submit(self, view_id: str, state: dict[str, Any]) -> bool:
        view = self.slack.view(view_id)
        if view is None or view.get("closed"):
            return True
        self.print(f"  → <{self.render.text(view.get('submit'))}>")
        self._waited.discard(view_id)  # the answer may be "loading" again (a form that checks a file): wait for it
        mark = len(self.slack.timeline)
        response = self.signer.view_submission(view, state, user=USER)
        outcome = getattr(response, "view_outcome", {}) or {}
        result = outcome.get("outcome")
        if result == "errors":
            after = self.slack.view(view_id) or view
            labels = {b.get("block_id"): self.render.text(b.get("label")) for b in after.get("blocks") or []}
            errors = after.get("errors") or {}
            for block_id, message in errors.items():
                self.print(f"  ! {labels.get(block_id) or block_id}: {message}")
            self._only[view_id] = set(errors)
            return True
        if result in ("rejected", "error_shown"):
            problems = "; ".join(outcome.get("problems") or []) or "the bot's answer was refused"
            self.print(f"  ! Slack shows an error and keeps the modal open: {problems}")
            again = self.ask("  Try again? [y/N] ", interrupted="n")
            if (again or "").strip().lower() not in ("y", "yes"):
                self.signer.close_view(view, user=USER)
                self._state.pop(view_id, None)
            return again is not None
        if result in ("closed", "cleared"):
            self._state.pop(view_id, None)
        self._settle(mark)
        return True

    # -- looking around ------------------------------------------------------------------------------------
    def home(self) -> None:
        """Open the App Home tab: Slack sends app_home_opened; the bot publishes the view."""
        mark = len(self.slack.timeline)
        self.signer.event({"type": "app_home_opened", "user": USER, "channel": self.slack.dm_channel(USER),
                           "tab": "home"})
        self.wait_until(lambda: any(e["kind"] == "home" and e.get("user") == USER
                                    for e in self.slack.timeline_since(mark)), 5)
        view = self.slack.home(USER)
        if view is None:
            self.print("  (the bot has not published a Home tab)")
            return
        self.print(f"  {self._tag}⌂ App Home\n" + _indent(self.render.view(view)))
        if any(c.where == "Home" for c in self.clickables()):
            self.print("  (its buttons can be pressed like any other)")

    def files(self) -> list[dict[str, Any]]:
        """Every file uploaded so far, newest first (``open 1`` is the latest): by the bot and by you."""
        entries = []
        for upload in self.slack.uploads():
            if upload.get("deleted"):  # files.delete (retention, erasure): gone, as in Slack
                continue
            entries.append({"name": upload["filename"], "content": upload["content"] or b"", "by": "the bot",
                            "where": self._where(upload.get("channel"), upload.get("thread_ts")) or "not shared",
                            "time": float(upload.get("ts") or 0)})
        entries += self._user_files
        return sorted(entries, key=lambda e: e["time"], reverse=True)

    def list_files(self) -> None:
        entries = self.files()
        if not entries:
            self.print("  (no files yet)")
            return
        for number, entry in enumerate(entries, 1):
            self.print(f"  {number:>2}. {entry['name']}  {len(entry['content']):,} bytes · by {entry['by']} · "
                       f"{entry['where']}")
        self.print("  `open <n>` (or `open <name>`) prints one; 1 is the newest.")

    def open_file(self, arg: str) -> None:
        entries = self.files()
        if not entries:
            self.print("  (no files yet)")
            return
        wanted = " ".join(_shell_words(arg)).strip().lower()
        if not wanted:
            self.usage("open", "open needs which file")
            return
        if wanted.isdigit():
            entry = entries[int(wanted) - 1] if 1 <= int(wanted) <= len(entries) else None
        else:  # by name: the newest whose name is, or starts with, what was typed
            entry = next((e for e in entries if wanted in (e["name"].lower(), Path(e["name"]).stem.lower())), None) \
                or next((e for e in entries if e["name"].lower().startswith(wanted)), None)
        if entry is None:
            self.usage("open", f"no file {arg.strip()!r} (1-{len(entries)}, or a name from `files`)")
            return
        name, content = entry["name"], entry["content"]
        self.print(f"  ┌ {name} ┐")
        if name.lower().endswith(".csv"):
            self.print(_indent(render_csv(content)))
            return
        if b"\x00" in content[:4096] or name.lower().endswith((".png", ".jpg", ".jpeg", ".gif", ".pdf")):
            self.print(f"    (a binary file, {len(content):,} bytes: Slack shows it as an image or a download)")
            return
        text = content.decode("utf-8", "replace")
        if name.lower().endswith(".json"):
            try:
                text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
            except ValueError:
                pass
        lines = text.splitlines()
        self.print(_indent("\n".join(lines[:40]) or "(empty)"))
        if len(lines) > 40:
            self.print(f"    … {len(lines) - 40} more lines")

    def logs(self) -> None:
        if self.log_path is None or not Path(self.log_path).exists():
            self.print("  (no log file)")
            return
        lines = Path(self.log_path).read_text(encoding="utf-8", errors="replace").splitlines()
        self.print(f"  the last lines of {self.log_path}:")
        self.print(_indent("\n".join(lines[-20:]) or "(empty)"))

    def reset(self) -> None:
        """Start over: stop the stand-ins and the bot, then a fresh stack with a new database."""
        if self.restart is None:
            self.print("  ! reset is not available here")
            return
        self.print("  Resetting: stopping the bot and the stand-ins …")
        self.flush_output()
        with self._lock:
            self._paused = True
        self.stack.stop()  # not under the lock: stopping threads may log
        try:
            fresh = self.restart()
        except Exception:
            with self._lock:
                self._paused = False
            raise  # the loop prints it; the old stack is stopped, so quit and start again
        with self._lock:
            self.stack = fresh
            self._paused = False
            self._seen = {}
            self.team = None if self.team is None or self.team not in self.team_ids else self.team
            self._numbered, self._user_files = [], []
            self._state.clear()
            self._resume.clear()
            self._only.clear()
        self.print("  Fresh start: a new database and empty stand-ins.")

    # -- simulators -----------------------------------------------------------------------------------------
    def sim(self, args: str) -> None:
        parts = _shell_words(args)
        if not parts:
            self.usage("sim", "sim needs what the simulators should do")
            return
        nimrobo = self.stack.nimrobo
        verb, rest = parts[0], " ".join(parts[1:])
        if verb == "links":
            links = nimrobo.all_links()
            for link in links:
                self.print(f"  {link['id']}  {link.get('label')}  · {self._project_of(link)} · {link.get('status')}  "
                           f"session={link.get('sessionId') or '-'}")
            if not links:
                self.print("  (no voice links yet; /voicelink create makes some)")
        elif verb in ("complete", "fail"):
            if not rest.strip():
                self.usage(f"sim {verb}", f"sim {verb} needs whose interview")
                return
            link = self._pick_link(nimrobo.all_links(), rest)
            if link is None:
                return
            session_id = link.get("sessionId") or nimrobo.start_session(link["id"])
            if verb == "complete":
                nimrobo.complete_session(session_id)
            else:
                nimrobo.fail_session(session_id)
            self.print(f"  simulator: session {session_id} of {link.get('label')} ({self._project_of(link)}) {verb}d "
                       "(the bot's watcher notices within a poll)")
        elif verb == "pluto-fail":
            self.stack.pluto.fail_run(rest or "Simulated failure")
            self.print("  simulator: Pluto pipeline failed")
        elif verb == "clock":
            self.move_clock(rest)
        else:
            self.usage("sim", f"sim has no {verb!r}")

    def _project_of(self, link: dict[str, Any]) -> str:
        if link.get("kind") == "instant":
            return "instant link"
        project = self.stack.nimrobo.projects.get(link.get("projectId") or "") or {}
        return f"project {project.get('name') or link.get('projectId') or '?'}"

    def _pick_link(self, links: list[dict[str, Any]], query: str) -> dict[str, Any] | None:
        """The link ``query`` names (an id, or a label); asked when a label names several that can still be used."""
        matches = _find_links(links, query)
        if not matches:
            self.print(f"  ! no link matches {query.strip()!r}; try `sim links`")
            return None
        usable = [m for m in matches if m.get("status") == "active" and not m.get("sessionId")] or matches
        if len(usable) == 1:
            return usable[0]
        self.print(f"  Several links for {query.strip()!r}:")
        for number, link in enumerate(usable, 1):
            self.print(f"    {number}. {link['id']} · {self._project_of(link)} · {link.get('status')}")
        answer = self.ask(f"  Which one? (1-{len(usable)}, Enter for none) ")
        if answer and answer.strip().isdigit() and 1 <= int(answer) <= len(usable):
            return usable[int(answer) - 1]
        self.print("  (none chosen)")
        return None


    def move_clock(self, step: str) -> None:
        from datetime import UTC, datetime

        from services.clock import parse_shift

        try:
            seconds = parse_shift(step or "")
        except ValueError as exc:
            self.print(f"  ! {exc}")
            return
        now = self.stack.advance_clock(seconds)
        self.print(f"  the bot's clock is now {datetime.fromtimestamp(now, UTC):%a %Y-%m-%d %H:%M} UTC; "
                   "reminders and digests due by then are sent (see your DMs: `home`, or the channel)")


LOADING_WAIT = 30.0  # seconds a "loading" modal may take to be filled before the console lets you close it


def _loading(view: dict[str, Any]) -> bool:
    """The bot's "loading" modal (bot.blocks.loading_view): one hourglass section, to be replaced shortly."""
    blocks = view.get("blocks") or []
    text = ((blocks[0].get("text") or {}).get("text") or "") if len(blocks) == 1 else ""
    return text.startswith(":hourglass_flowing_sand:")


def _changed(now: dict[str, Any] | None, before: dict[str, Any]) -> bool:
    """The modal was updated (a new hash) or closed since ``before``."""
    return now is None or bool(now.get("closed")) or now.get("hash") != before.get("hash")
