"""Block Kit for the voice-project choices: what a file of names left out, the role's existing project
(add as it is / update first, shown as a diff / make a new one), the outcome of a create form, a channel's
default project and a new project."""

from __future__ import annotations

import difflib
from typing import Any

from slack_sdk.models.blocks import InputBlock, Option, RadioButtonsElement
from slack_sdk.models.views import View

from bot.blocks import (
    MAX_SECTION_TEXT,
    Message,
    actions,
    button,
    clip,
    context,
    mrkdwn_escape,
    section,
)
from bot.blocks.voice import project_select
from bot.blocks.when import ago, slack_date
from services.nimrobo import Project
from services.records import BatchResult, BatchReview, ChannelProject, FieldDiff, ProjectChoice
from services.voice.forms import EXPIRY_PRESETS, LabelFile

REVIEW_MODAL = "voicelink_review"
USE_SELECT = "voicelink_use_pick"
CHOICES = {
    "reuse": ("Add the links to it as it is", "Its prompt, evaluator and settings stay as they are."),
    "update": ("Update it first, then add the links", "Its prompt and evaluator (and time limit and landing "
               "page) become what you wrote: see the changes below."),
    "new": ("Make a new project for this role", "The existing project and its links stay as they are."),
}
LISTED = 10  # duplicates or empty lines named one by one before "and N more"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def file_report(file: LabelFile) -> list[Any]:
    """What was read from a file of names, and what was left out (duplicates, empty labels) with their lines."""
    blocks: list[Any] = [section(f":page_facing_up: *{mrkdwn_escape(file.name)}*: {_plural(len(file.labels), 'name')} "
                                 f"read from {file.source}.")]
    if file.duplicates:
        shown = [f"“{mrkdwn_escape(label)}” (lines {', '.join(str(n) for n in lines)})"
                 for label, lines in file.duplicates[:LISTED]]
        more = f" and {len(file.duplicates) - LISTED} more" if len(file.duplicates) > LISTED else ""
        extra = sum(len(lines) - 1 for _, lines in file.duplicates)
        blocks.append(section(clip(f":twisted_rightwards_arrows: Left out {_plural(extra, 'duplicate')} (each name "
                                   f"gets one link): {', '.join(shown)}{more}.", MAX_SECTION_TEXT)))
    if file.empty:
        lines = ", ".join(str(n) for n in file.empty[:LISTED * 3])
        more = f" and {len(file.empty) - LISTED * 3} more" if len(file.empty) > LISTED * 3 else ""
        blocks.append(section(f":grey_question: Left out {_plural(len(file.empty), 'empty label')}: "
                              f"line{'s' if len(file.empty) != 1 else ''} {lines}{more}."))
    return blocks


def _diff_text(change: FieldDiff) -> str:
    """The lines removed (``-``) and added (``+``) between the old and the new text."""
    old, new = change.old.splitlines() or [""], change.new.splitlines() or [""]
    out: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new).get_opcodes():
        if op == "equal":
            out += [f"  {line}" for line in old[i1:i2]]
            continue
        out += [f"- {line}" for line in old[i1:i2]] + [f"+ {line}" for line in new[j1:j2]]
    return "\n".join(out)


def diff_blocks(choice: ProjectChoice) -> list[Any]:
    """Each changed field as a diff (the four prompt sections first); the unchanged ones named in one line."""
    blocks: list[Any] = [section("*If you update it*, this changes (`-` now, `+` yours):")]
    for change in choice.diff:
        if change.changed:
            body = clip(mrkdwn_escape(_diff_text(change)), MAX_SECTION_TEXT - 60)
            blocks.append(section(f"*{change.title}*\n```{body}```"))
    same = [change.title for change in choice.diff if not change.changed]
    if choice.same:
        blocks[0] = section("Your prompt, evaluator, time limit and landing page are the same as the project's: "
                            "updating it changes nothing.")
    elif same:
        blocks.append(context(f"Unchanged: {', '.join(same)}."))
    return blocks


def review_view(review: BatchReview) -> View:
    """Asked before anything is created: the file's report, and the choice about the role's existing project."""
    batch = review.batch
    blocks: list[Any] = file_report(review.file) if review.file else []
    if review.problem:
        blocks.append(section(f":warning: {mrkdwn_escape(review.problem)} Nothing was created."))
        return View(type="modal", callback_id=REVIEW_MODAL, title="Create voice links", close="Close",
                    private_metadata=batch.id, blocks=blocks)
    count = _plural(len(batch.labels), "link")
    if review.existing is not None:
        project = review.existing.project
        blocks.append(section(f"A project for *{mrkdwn_escape(batch.project_name)}* already exists: "
                              f"*{mrkdwn_escape(project.name)}* (`{project.id}`), created "
                              f"{slack_date(project.created_at) or 'at an unknown date'}, with "
                              f"{_plural(review.existing.link_count, 'link')}. What should I do?"))
        options = [Option(value=key, label=label, description=clip(detail, 75))
                   for key, (label, detail) in CHOICES.items()]
        blocks.append(InputBlock(block_id="project_choice", label="The existing project", element=RadioButtonsElement(
            action_id="project_choice", options=options, initial_option=options[0])))
        blocks += diff_blocks(review.existing)
    else:
        blocks.append(section(f"Create {count} for *{mrkdwn_escape(batch.project_name)}*?"))
    blocks.append(context(f"They expire after {EXPIRY_PRESETS.get(batch.expiry_preset, batch.expiry_preset)}. The "
                          "links come to you by DM; the channel gets a card without them."))
    return View(type="modal", callback_id=REVIEW_MODAL, title="Create voice links", submit=clip(f"Create {count}", 24),
                close="Cancel", private_metadata=batch.id, blocks=blocks[:100])


def done_view(result: BatchResult) -> View:
    """The form's outcome, in the form (the links themselves went by DM)."""
    batch = result.batch
    made = len(result.links)
    if batch.state == "created":
        text = (f":white_check_mark: {_plural(made, 'link')} for *{mrkdwn_escape(batch.project_name)}*. They are in "
                f"your DMs (each is a secret: send it only to its participant); <#{batch.channel}> has the card.")
    else:
        text = (f":warning: {mrkdwn_escape(batch.error or 'The links were not created.')} The card in "
                f"<#{batch.channel}> has a Retry button when the project exists.")
    return View(type="modal", title="Create voice links", close="Close", blocks=[section(text)])


def file_links_message(review: BatchReview) -> Message:
    """The private answer to a file of names shared with a mention: the report, then Create."""
    batch = review.batch
    blocks = file_report(review.file) if review.file else []
    if review.problem:
        blocks.append(section(f":warning: {mrkdwn_escape(review.problem)} Nothing was created."))
        return Message(text=review.problem, blocks=blocks)
    count = _plural(len(batch.labels), "link")
    expiry = EXPIRY_PRESETS.get(batch.expiry_preset, batch.expiry_preset)
    blocks.append(section(f"Create {count} in *{mrkdwn_escape(batch.project_name)}*, expiring after {expiry}? "
                          "The links come to you by DM; the channel gets a card without them."))
    blocks.append(actions(button(f"Create {count}", "voicelink_file_create", batch.id, style="primary")))
    return Message(text=f"Create {count} in {batch.project_name}?", blocks=blocks)


def use_message(current: ChannelProject | None, note: str = "") -> Message:
    """A channel's default project, and a searchable select to change it."""
    blocks: list[Any] = [section(note)] if note else []
    if current is None:
        text = ("This channel has no default project. Pick one, or type `/voicelink use <project>`; then "
                "`/voicelink create`, `list` and `subscribe` use it when you don't name a project.")
        blocks.append(section(text, accessory=project_select(USE_SELECT, "Search your projects")))
        return Message(text="This channel has no default project.", blocks=blocks)
    blocks.append(section(f"This channel's default project is *{mrkdwn_escape(current.project_name)}* "
                          f"(`{current.project_id}`), set by <@{current.set_by}> {ago(current.set_at)}. "
                          "`/voicelink create`, `list` and `subscribe` use it when you don't name a project.",
                          accessory=project_select(USE_SELECT, "Change it",
                                                   (current.project_id, current.project_name))))
    blocks.append(actions(button("Clear the default", "voicelink_use_clear", current.project_id)))
    return Message(text=f"This channel's default project is {current.project_name}.", blocks=blocks)


def project_created_message(project: Project) -> Message:
    evaluator = f"an evaluator with {_plural(len((project.evaluator or {}).get('questions') or []), 'question')}" \
        if project.evaluator else "no evaluator"
    text = (f":white_check_mark: Project *{mrkdwn_escape(project.name)}* created (`{project.id}`): "
            f"{project.time_limit_minutes} min, {evaluator}. Add links with `/voicelink create`, or make it this "
            "channel's default.")
    return Message(text=f"Project {project.name} created.", blocks=[
        section(text), actions(button("Use in this channel", "voicelink_use_set", project.id),
                               button("Details", "voicelink_project", project.id))])
