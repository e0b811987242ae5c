"""The console's ``tour``: a newcomer's first hour with the bot, one step at a time.

Each :class:`Step` says what it shows, the command it runs (a string, or a function of the
console for a command that depends on earlier steps; None skips the step), suggested answers
for the form it opens (by the input's ``action_id``; Enter accepts them, so a newcomer can walk
through by pressing Enter), and how to tell it worked (a function of the console and the
timeline position before the command; it returns what to say when it has).

To extend the tour, append a Step to :data:`STEPS`. ``available`` hides a step until its feature
exists (the screening-board steps need the hiring loop).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.console import Console

EXAMPLE_CSV = Path(__file__).resolve().parents[1] / "examples" / "candidates.csv"


@dataclass
class Step:
    title: str
    explain: str
    command: str | Callable[[Console], str | None]
    done: Callable[[Console, int], str | None]
    waiting: str = "for the bot"
    suggest: dict[str, str] = field(default_factory=dict)
    after: str = ""
    timeout: float = 90.0
    available: Callable[[Console], bool] = field(default=lambda console: True)

    def command_for(self, console: Console) -> str | None:
        return self.command(console) if callable(self.command) else self.command


def _posted(event_type: str) -> Callable[[Console, int], Any]:
    """A bot message carrying ``event_type`` metadata, posted since the mark."""

    def check(console: Console, mark: int) -> Any:
        return next((e for e in console.slack.timeline_since(mark) if e["kind"] == "message"
                     and (e.get("metadata") or {}).get("event_type") == event_type), None)

    return check


def _shortlist_done(console: Console, mark: int) -> str | None:
    if _posted("pluto_scoring_completed")(console, mark):
        return "The ranked shortlist is in the thread, and the full ranking is attached as a CSV."
    return None


def _links_done(console: Console, mark: int) -> str | None:
    from sandbox.console import USER

    dm = console.slack.dm_channel(USER)
    if any(e["kind"] == "message" and e.get("channel") == dm and "/link/" in str(e.get("blocks"))
           for e in console.slack.timeline_since(mark)):
        return ("Your links came by DM, because a voice link is a secret; #sandbox got a card that shows "
                "their status without them.")
    return None


def _completed_done(console: Console, mark: int) -> str | None:
    if _posted("voice_session_completed")(console, mark):
        return "The completed interview was posted to #sandbox, once, with its summary and evaluation."
    return None


def _board_done(console: Console, mark: int) -> str | None:
    if _posted("screening_board")(console, mark):
        return ("The Screening board is in the scoring thread: each invited candidate with their Pluto score; "
                "the links came to you by DM.")
    return None


def _screened_done(console: Console, mark: int) -> str | None:
    for event in console.slack.timeline_since(mark):
        if event["kind"] == "update" and (event.get("metadata") or {}).get("event_type") == "screening_board" \
                and "completed" in str(event.get("blocks")) and "Evaluation *" in str(event.get("blocks")):
            return ("The board changed in place: the interview's evaluation now sits next to the Pluto score, "
                    "and the combined ranking moved.")
    return None


def _complete_screened_command(console: Console) -> str | None:
    screened = {row["link_id"] for row in console.stack.services.store.rows("screening_links")}
    links = [link for link in console.stack.nimrobo.all_links()
             if link["id"] in screened and link.get("status") == "active" and not link.get("sessionId")]
    return _sim_complete(console, links[0]) if links else None


def _sim_complete(console: Console, link: dict[str, Any]) -> str:
    """`sim complete <label>`, or the link's id when another usable link has the same label."""
    same = [other for other in console.stack.nimrobo.all_links() if other.get("label") == link.get("label")
            and other.get("status") == "active" and not other.get("sessionId")]
    return f"sim complete {link['label'] if len(same) == 1 else link['id']}"


def _interview_done(console: Console, mark: int) -> str | None:
    from sandbox.console import USER

    events = console.slack.timeline_since(mark)
    card = any(e["kind"] in ("message", "update") and (e.get("metadata") or {}).get("event_type")
               == "pluto_interview_card" for e in events)
    private = any(e["kind"] == "ephemeral" and e.get("user") == USER and "is ready" in str(e.get("text"))
                  for e in events)
    if card and private:
        return ("The thread got an Interview card (no link or token on it); the room link and your token came "
                "to you alone.")
    return None


def _score_command(console: Console) -> str:
    try:
        path = EXAMPLE_CSV.relative_to(Path.cwd())
    except ValueError:
        path = EXAMPLE_CSV
    return f"/pluto score {path}"


def _complete_command(console: Console) -> str | None:
    links = [link for link in console.stack.nimrobo.all_links()
             if link.get("status") == "active" and not link.get("sessionId")]
    return _sim_complete(console, links[0]) if links else None


STEPS: list[Step] = [
    Step(
        title="Score a CSV of candidates",
        explain=("In Slack you run /pluto score and attach a CSV; here a local path stands in for the upload.\n"
                 "The bot checks the file first (\"Checking…\"), then the form shows what it holds and asks for\n"
                 "a job description and how many to show (Enter takes the suggestion). The bot sends it to\n"
                 "Pluto (a simulator), keeps one progress message up to date, then posts the ranked shortlist\n"
                 "in the thread."),
        command=_score_command, done=_shortlist_done, waiting="for the shortlist (about ten seconds)",
        suggest={"jd": "Senior backend engineer: Python, distributed systems, mentoring.", "top_n": "5"},
        after=("`Details 1` opens the first candidate, `Pre-brief Ada` prepares a brief, `buttons` lists "
               "them all; `files` lists the uploads, `open candidates-ranked` shows the ranking CSV.")),
    Step(
        title="Start a live interview",
        explain=("Each candidate card has Start interview. Pluto makes a video room with the candidate's brief\n"
                 "loaded; the thread gets one Interview card, and the room link with your token comes only to\n"
                 "you, because both let anyone in."),
        command="Start interview Ada", done=_interview_done, waiting="for the room",
        after=("`Brief` shows the brief privately, `Invite candidate` makes Ada's join link for you to send, "
               "`Analyze` takes the transcript afterwards (type `<<` to paste several lines). In Slack, "
               "mention the bot in the thread to ask the interview assistant.")),
    Step(
        title="Create voice-screen links",
        explain=("/voicelink create opens a form. The interview pattern makes one voice project per role and\n"
                 "one link per candidate. The bot drafts the four prompt sections (Goal, Role, Guidelines,\n"
                 "Constraints) from the brief; an evaluator scores each interview."),
        command="/voicelink create", done=_links_done, waiting="for your links",
        suggest={"name": "Backend Engineer", "labels": "Ada Lovelace\nAlan Turing",
                 "brief": "Backend engineer for a payments team: Python, APIs, on-call.", "voicelink_draft": "yes",
                 "eval_prompt": "Judge the candidate's backend depth and how clearly they explain it.",
                 "eval_questions": "Communication | number\nBackend depth | number"},
        after="`/voicelink list` shows the links and their status."),
    Step(
        title="An interview is completed",
        explain=("`sim complete <label>` plays the candidate: they open their link and finish the interview.\n"
                 "The bot's watcher notices on its next poll and posts the summary and the evaluation to the\n"
                 "channel where the links were made."),
        command=_complete_command, done=_completed_done, waiting="for the watcher's post (up to a minute)",
        after="`sim fail <label>` shows a failed interview; `/voicelink status <session>` asks on demand."),
    Step(
        title="Voice-screen the best of the shortlist",
        explain=("Back in the scoring thread, `Voice-screen top 5` opens the same form, already filled in:\n"
                 "the role from the job description, the prompt, evaluator questions from the run's criteria,\n"
                 "and the five best candidates as labels. Nothing is created until you submit (Enter\n"
                 "accepts every field as filled). Each link is tied to its Pluto candidate."),
        command="Voice-screen top 5", done=_board_done, waiting="for the screening board",
        after=("`Details 1` shows both signals of a candidate; the shortlist's `Voice-screen` buttons add one "
               "candidate at a time.")),
    Step(
        title="A screened interview completes: both signals on one board",
        explain=("A candidate from the board takes their interview. The completion is posted in the thread as\n"
                 "before; the board itself is updated in place with the evaluation, a combined score, and the\n"
                 "evaluation is saved to the candidate in Pluto."),
        command=_complete_screened_command, done=_screened_done,
        waiting="for the board to update (up to a minute)",
        after=("On the board: the sort select (Pluto, evaluation, combined), `Advance 1`, `Reject 2`, `Undo`, "
               "`Export CSV` (sent to you by DM); `home` shows your dashboard.")),
]


STEP_PROMPT = "  Enter runs it · skip · stop · or type any console command: "


def _step_prompt(console: Console, command: str) -> str | None:
    """Ask until the step runs ("run"), is skipped ("skip") or the tour stops (None). Only Enter (or the
    command shown, typed out) runs the step; anything else is a console command: it runs, then the
    step prompt comes back, so `files` or `buttons` typed here never starts a wait for the step."""
    while True:
        answer = console.ask(STEP_PROMPT, interrupted="stop")
        word = (answer or "").strip()
        if answer is None or word.lower() in ("stop", "quit", "exit"):
            return None
        if word.lower() == "skip":
            return "skip"
        if not word or word == command:
            return "run"
        if word.lower() == "tour":
            console.print("  (the tour is running: Enter runs this step, `stop` ends it)")
            continue
        try:
            console.handle(word)
        except KeyboardInterrupt:
            console.print("  (interrupted)")
        except Exception as exc:  # the tour stays, whatever the command did
            console.print(f"  ! {type(exc).__name__}: {exc}")
        console.print(f"  (back in the tour) Type: {command}")


def run_tour(console: Console, steps: list[Step] | None = None, args: str = "") -> None:
    """The tour from the start, or (after Ctrl-C paused it) from the step after the paused one;
    ``tour restart`` starts over."""
    steps = [s for s in (STEPS if steps is None else steps) if s.available(console)]
    start = getattr(console, "tour_next", 1) if args.strip() != "restart" else 1
    console.tour_next = 1
    if 1 < start <= len(steps):
        console.print(f"  Going on with the tour at step {start} of {len(steps)} (`tour restart` starts over).")
    else:
        start = 1
        console.print(f"  A tour in {len(steps)} steps. At each: Enter runs the command shown, `skip` skips it, "
                      "`stop` ends the tour.")
    for number, step in enumerate(steps, 1):
        if number < start:
            continue
        command = step.command_for(console)
        console.print(f"\n  ── Tour {number}/{len(steps)} · {step.title}")
        console.print("\n".join("  " + line for line in step.explain.splitlines()))
        if command is None:
            console.print("  (skipped: it needs an earlier step done first)")
            continue
        console.print(f"  Type: {command}")
        answer = _step_prompt(console, command)
        if answer is None:
            console.print("  Tour stopped; `tour` starts it again.")
            return
        if answer == "skip":
            continue
        mark = len(console.slack.timeline)
        console.suggest = dict(step.suggest)
        try:
            console.handle(command)
        finally:
            console.suggest = {}
        console.interrupted = False
        try:  # a Ctrl-C at any moment of the wait, even before its polling starts, only stops the wait
            console.print(f"  … waiting {step.waiting} · Ctrl-C stops waiting")
            note = console.wait_until(lambda step=step, mark=mark: step.done(console, mark), step.timeout)
        except KeyboardInterrupt:
            console.interrupted, note = True, None
            console.print("  (stopped waiting)")
        if console.interrupted:
            console.tour_next = number + 1
            console.print(f"  Tour paused at step {number}; `tour` goes on with step {number + 1}, "
                          "`tour restart` starts over.")
            return
        if note:
            console.print(f"  ✓ {note}")
            if step.after:
                console.print(f"  Try: {step.after}")
        else:
            console.print(f"  (not seen within {step.timeout:.0f} s; `logs` may say why. The tour goes on.)")
    console.print("\n  That's the tour. `help` lists every console command; `reset` starts over.")
