"""The sandbox console: type slash commands as in Slack; see what the bot posts.

* ``/pluto help``, ``/voicelink create`` … go to the real bot, correctly signed.
* ``/pluto score ./file.csv`` takes a local path in place of an upload: the file is put
  on the Slack stand-in and the score form is submitted with it.
* Typing a button's label presses it. When the bot opens a modal, the console asks for
  each field in turn (``\\n`` types a new line; Enter keeps the shown default).
* ``sim …`` drives the simulators (``help`` lists them).
"""

from __future__ import annotations

import shlex
import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO

from sandbox.render import render_blocks, render_view

USER = "U_SANDBOX"
CHANNEL = "C_SANDBOX"

CONSOLE_HELP = """Console commands:
  /pluto …, /voicelink …      slash commands, exactly as in Slack
  /pluto score ./file.csv     score a local CSV (stands in for an upload)
  <button label>              press the most recent button with that label
  mention <text>              @-mention the bot in the channel (attach with: mention score ./f.csv)
  sim links                   list voice links the Nimrobo simulator knows
  sim complete <label|link>   a participant opens the link and completes the interview
  sim fail <label|link>       the interview starts and fails
  sim pluto-fail [message]    the running Pluto pipeline fails
  help                        this text
  quit                        stop the sandbox"""


class Console:
    def __init__(self, stack: Any, stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
        self.stack = stack
        self.slack = stack.slack
        self.signer = stack.signer
        self.stdin = stdin or sys.stdin
        self.out = stdout or sys.stdout
        self._seen = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._interactive = self.stdin.isatty()

    # -- output -------------------------------------------------------------
    def print(self, text: str = "") -> None:
        with self._lock:
            self.out.write(text + "\n")
            self.out.flush()

    def _describe(self, event: dict[str, Any]) -> str | None:
        kind = event.get("kind", "")
        blocks = event.get("blocks") or []
        text = event.get("text") or ""
        body = render_blocks(blocks, text) if blocks else text
        channel = event.get("channel") or ""
        where = {"ephemeral": "only you", "response": "only you"}.get(kind, f"#{channel}" if channel else "")
        if channel.startswith("D"):
            where = "DM"
        if event.get("thread_ts"):
            where += " › thread"
        if kind in ("view_open", "view_update", "view_push"):
            return None  # modals are shown when the form is filled
        if kind == "update":
            return f"  ↻ {where} (updated)\n" + _indent(body)
        if kind == "upload":
            return f"  📎 {where} file {event.get('filename') or event.get('title')}" \
                   f" ({len(event.get('content') or b'')} bytes)"
        if kind == "home":
            return None
        return f"  {where} ›\n" + _indent(body) if body else None

    def flush_output(self) -> None:
        events = self.slack.timeline_since(self._seen)
        self._seen += len(events)
        for event in events:
            line = self._describe(event)
            if line:
                self.print(line)

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                self.flush_output()
            except Exception:  # the printer must never take the console down
                pass
            self._stop.wait(0.3)

    # -- input ----------------------------------------------------------------
    def ask(self, prompt: str) -> str | None:
        if self._interactive:
            with self._lock:
                self.out.write(prompt)
                self.out.flush()
        line = self.stdin.readline()
        return None if line == "" else line.rstrip("\n")

    def loop(self) -> None:
        self.print("Pluto Bot sandbox — Slack, Nimrobo, Pluto and OpenAI are local stand-ins.")
        self.print("Type /pluto help, /voicelink help, or help for the console's own commands.")
        printer = threading.Thread(target=self._watch, daemon=True)
        printer.start()
        try:
            while True:
                line = self.ask("> ")
                if line is None:
                    break
                line = line.strip()
                if not line:
                    continue
                if line in ("quit", "exit"):
                    break
                try:
                    self.handle(line)
                except Exception as exc:  # keep the console alive whatever the input
                    self.print(f"  ! {type(exc).__name__}: {exc}")
                self._settle()
        finally:
            self._stop.set()
            printer.join(timeout=2)
            self.flush_output()

    def _settle(self, seconds: float = 1.0) -> None:
        """Give the bot a moment after the ack so its follow-up posts print before the prompt."""
        time.sleep(seconds)
        self.flush_output()

    # -- commands ---------------------------------------------------------------
    def handle(self, line: str) -> None:
        if line == "help":
            self.print(CONSOLE_HELP)
        elif line.startswith("/"):
            self.slash(line)
        elif line.startswith("sim "):
            self.sim(line[4:].strip())
        elif line.startswith("mention "):
            self.mention(line[len("mention "):])
        else:
            self.press(line)

    def _show_ack(self, response: Any) -> None:
        if response.status_code != 200:
            self.print(f"  ! the bot answered HTTP {response.status_code}")
            return
        try:
            body = response.json()
        except ValueError:
            return
        if isinstance(body, dict) and (body.get("text") or body.get("blocks")):
            self.print("  only you ›\n" + _indent(render_blocks(body.get("blocks") or [], body.get("text", ""))))

    def slash(self, line: str) -> None:
        command, _, text = line.partition(" ")
        text = text.strip()
        upload = None
        if command == "/pluto" and text.startswith("score "):
            path = Path(text[len("score "):].strip()).expanduser()
            if not path.is_file():
                self.print(f"  ! no such file: {path}")
                return
            upload = path
            text = "score"
        views_before = len(self.slack.views())
        response = self.signer.command(command, text, user=USER, channel=CHANNEL)
        self._show_ack(response)
        view = self._wait_for_new_view(views_before)
        if view is not None:
            self.fill_view(view, upload=upload)

    def mention(self, text: str) -> None:
        files = None
        words = text.split()
        for word in words:
            if word.lower().endswith(".csv") and Path(word).expanduser().is_file():
                path = Path(word).expanduser()
                files = [self.slack.add_file(path.name, path.read_bytes(), user=USER)]
                text = " ".join(w for w in words if w != word)
        self.signer.app_mention(f"<@{self.slack.bot_user_id}> {text}", files=files, user=USER, channel=CHANNEL)

    def press(self, label: str) -> None:
        views_before = len(self.slack.views())
        try:
            response = self.signer.press(label, user=USER)
        except (LookupError, ValueError, AssertionError) as exc:
            self.print(f"  ! {exc}")
            return
        self._show_ack(response)
        view = self._wait_for_new_view(views_before)
        if view is not None:
            self.fill_view(view)

    def _wait_for_new_view(self, before: int, timeout: float = 3.0) -> dict[str, Any] | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            views = self.slack.views()
            if len(views) > before:
                return views[-1]
            time.sleep(0.05)
        return None

    # -- modals -----------------------------------------------------------------
    def fill_view(self, view: dict[str, Any], upload: Path | None = None) -> None:
        while view is not None:
            self.print(_indent(render_view(view)))
            values, pressed = self._collect(view, upload)
            if pressed:  # a button inside the modal (e.g. "Draft with AI")
                before = _view_version(self.slack, view)
                self.signer.press(pressed, user=USER)
                view = self._wait_for_view_change(view, before)
                continue
            if values is None:
                self.print("  (modal closed)")
                return
            response = self.signer.view_submission(view, values, user=USER)
            body = response.json() if response.content else {}
            action = body.get("response_action") if isinstance(body, dict) else None
            if action == "errors":
                for block_id, message in body.get("errors", {}).items():
                    self.print(f"  ! {block_id}: {message}")
                continue
            if action in ("update", "push"):
                view = body.get("view") and self.slack.views()[-1]
                continue
            return

    def _wait_for_view_change(self, view: dict[str, Any], before: Any, timeout: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            current = self.slack.views()[-1]
            if _view_version(self.slack, current) != before:
                return current
            time.sleep(0.1)
        return self.slack.views()[-1]

    def _collect(self, view: dict[str, Any], upload: Path | None) -> tuple[dict | None, str | None]:
        values: dict[str, dict[str, Any]] = {}
        buttons = [el.get("text", {}).get("text") for b in view.get("blocks", []) if b.get("type") == "actions"
                   for el in b.get("elements", []) if el.get("type") == "button"]
        if buttons:
            self.print("  (type a button's label to press it, or fill the fields; 'cancel' closes)")
        for block in view.get("blocks", []):
            if block.get("type") != "input":
                continue
            element = block.get("element", {})
            kind = element.get("type")
            label = block.get("label", {}).get("text", block.get("block_id"))
            action_id = element.get("action_id", "value")
            block_id = block.get("block_id")
            if kind == "file_input":
                if upload is None:
                    answer = self.ask(f"  {label} (path to a local file): ")
                    if answer is None or answer.strip() == "cancel":
                        return None, None
                    upload = Path(answer.strip()).expanduser()
                file_obj = self.slack.add_file(upload.name, upload.read_bytes(), user=USER)
                values[block_id] = {action_id: self.signer.files([file_obj])}
                continue
            default = _initial(element)
            options = element.get("options") or []
            hint = f" [{default}]" if default else ""
            if options:
                choices = ", ".join(f"{i + 1}={o['text']['text']}" for i, o in enumerate(options))
                hint = f" ({choices}){hint}"
            answer = self.ask(f"  {label}{hint}: ")
            if answer is None or answer.strip() == "cancel":
                return None, None
            if answer.strip() in buttons:
                return None, answer.strip()
            answer = answer.replace("\\n", "\n")
            if not answer and default:
                answer = default
            if kind in ("static_select", "radio_buttons"):
                chosen = _choose(options, answer)
                if chosen is not None:
                    key = "selected_option"
                    values[block_id] = {action_id: {"type": kind, key: chosen}}
                elif block.get("optional"):
                    values[block_id] = {action_id: {"type": kind, "selected_option": None}}
                continue
            if kind == "checkboxes":
                chosen = [o for o in options if answer and o["text"]["text"].lower() in answer.lower()]
                values[block_id] = {action_id: {"type": kind, "selected_options": chosen}}
                continue
            if kind == "number_input":
                values[block_id] = {action_id: {"type": kind, "value": answer or None}}
                continue
            values[block_id] = {action_id: self.signer.input_value(answer or None)}
        return values, None

    # -- simulators -------------------------------------------------------------
    def sim(self, args: str) -> None:
        parts = shlex.split(args)
        if not parts:
            self.print(CONSOLE_HELP)
            return
        nimrobo = self.stack.nimrobo
        verb, rest = parts[0], " ".join(parts[1:])
        if verb == "links":
            for link in nimrobo.all_links():
                self.print(f"  {link['id']}  {link.get('label')}  {link.get('status')}  "
                           f"session={link.get('sessionId') or '-'}")
        elif verb in ("complete", "fail"):
            link = _find_link(nimrobo.all_links(), rest)
            if link is None:
                self.print(f"  ! no link matches {rest!r}; try `sim links`")
                return
            session_id = link.get("sessionId") or nimrobo.start_session(link["id"])
            if verb == "complete":
                nimrobo.complete_session(session_id)
            else:
                nimrobo.fail_session(session_id)
            self.print(f"  simulator: session {session_id} of {link.get('label')} {verb}d")
        elif verb == "pluto-fail":
            self.stack.pluto.fail_run(rest or "Simulated failure")
            self.print("  simulator: Pluto pipeline failed")
        else:
            self.print(CONSOLE_HELP)


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def _initial(element: dict[str, Any]) -> str:
    if "initial_value" in element:
        return str(element["initial_value"] or "")
    option = element.get("initial_option")
    return option["text"]["text"] if option else ""


def _choose(options: list[dict[str, Any]], answer: str) -> dict[str, Any] | None:
    answer = answer.strip()
    if answer.isdigit() and 1 <= int(answer) <= len(options):
        return options[int(answer) - 1]
    for option in options:
        if answer.lower() in (option["text"]["text"].lower(), str(option.get("value", "")).lower()):
            return option
    return None


def _find_link(links: list[dict[str, Any]], query: str) -> dict[str, Any] | None:
    query = query.strip().lower()
    for link in reversed(links):
        if query in (str(link.get("id", "")).lower(), str(link.get("label", "")).lower()):
            return link
    return None


def _view_version(slack: Any, view: dict[str, Any]) -> Any:
    current = slack.views()[-1]
    return current.get("hash") or id(current)
