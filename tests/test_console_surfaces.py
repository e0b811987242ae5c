"""The sandbox console's way to the newest surfaces: `step` runs a Workflow Builder step, `ask` asks
in the "Ask Pluto" pane; the real bot answers over HTTP from a Stack."""

from sandbox.stack import Stack
from tests.test_console import EXAMPLE, Typist, fast_options


def test_step_and_ask_from_the_console():
    with Stack(fast_options()) as stack:
        typist = Typist(stack)
        completed = lambda: [e for e in stack.slack.timeline if e["kind"] == "function_completed"]  # noqa: E731
        answered = lambda: [e for e in stack.slack.timeline if "Top of candidates.csv" in (e.get("text") or "")]  # noqa: E731
        output = (typist
                  .type("> ", f'step score_candidates file_id={EXAMPLE} job_description="Data Engineer"')
                  .type("> ", "ask Top candidates of my last run", wait=completed)
                  .type("> ", "step create_voice_link candidate_name=Ada project=Nowhere", wait=answered)
                  .run())
        assert "workflow step score_candidates completed › outputs" in output
        assert "Ask Pluto suggests: Top candidates of candidates.csv" in output
        assert "Top of candidates.csv: 1." in output
        assert "workflow step create_voice_link failed › Project not found" in output
