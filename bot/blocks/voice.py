"""Block Kit for voice links: the create modal, the channel card, private link delivery, lists and status."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.blocks import (
    Message,
    Page,
    actions,
    button,
    clip,
    confirm_dialog,
    context,
    header,
    mrkdwn_escape,
    pager,
    section,
)
from bot.blocks.when import expiry, slack_date
from services.nimrobo import Evaluation, Project, SessionStatus, Summary, VoiceLink
from services.prompts import FIELDS, PATTERNS, SECTIONS
from services.records import CardLine, LinkRef, SessionRef, VoiceBatch
from services.voice_forms import EXPIRY_PRESETS

CREATE_MODAL = "voicelink_create"
EDIT_INSTANT_MODAL = "voicelink_edit_instant"
EDIT_PROJECT_MODAL = "voicelink_edit_project"
SECTION_HINTS = {"goal": "What the conversation must achieve", "role": "Who the voice agent is",
                 "guidelines": "How to run the conversation", "constraints": "What it must never do; limits"}


def block_key(block_id: str) -> str:
    """Block ids carry a ``~version`` suffix so Slack refreshes initial values; strip it."""
    return block_id.split("~", 1)[0]


def read_values(state_values: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for block_id, actions_ in state_values.items():
        for element in actions_.values():
            value = element.get("value")
            if value is None and element.get("selected_option"):
                value = element["selected_option"].get("value")
            out[block_key(block_id)] = value or ""
    return out


def _text_input(key: str, v: int, label: str, value: str = "", *, multiline: bool = False, optional: bool = False,
                placeholder: str | None = None, hint: str | None = None) -> InputBlock:
    return InputBlock(block_id=f"{key}~{v}", label=label, optional=optional, hint=hint,
                      element=PlainTextInputElement(action_id=key, multiline=multiline, initial_value=value or None,
                                                    placeholder=placeholder))


def _options(mapping: dict[str, str]) -> list[Option]:
    return [Option(value=k, label=v) for k, v in mapping.items()]


def create_modal(channel: str, pattern: str = "interview", values: dict[str, str] | None = None, v: int = 1,
                 note: str = "", ai: bool = False, *, meta: dict[str, Any] | None = None,
                 title: str = "Create voice links", submit: str = "Create") -> View:
    """The create form. ``meta`` rides along in ``private_metadata`` (e.g. the scoring run a
    "Voice-screen top N" form belongs to) and survives every rebuild of the form."""
    heading = title
    values = values or {}
    options = _options(PATTERNS)
    chosen = next(o for o in options if o.value == pattern)
    blocks: list[Any] = [
        section("*Pattern*: interview = one project per role, one link per candidate · research = one project "
                "per study, one link per interview · instant = links with their own prompt, no project."),
        ActionsBlock(block_id="pattern_pick", elements=[StaticSelectElement(
            action_id="voicelink_pattern", options=options, initial_option=chosen, placeholder="Pattern")]),
    ]
    if pattern == "interview":
        blocks.append(_text_input("name", v, "Job title", values.get("name", ""), placeholder="e.g. Backend Engineer",
                                  hint="The role you are hiring for: its voice project is reused if it exists."))
        blocks.append(_text_input("labels", v, "Candidates (one name per line)", values.get("labels", ""),
                                  multiline=True))
    elif pattern == "research":
        blocks.append(_text_input("name", v, "Study", values.get("name", ""), placeholder="e.g. Onboarding study"))
        blocks.append(_text_input("labels", v, "Interview labels (one per line)", values.get("labels", ""),
                                  multiline=True, optional=True))
        blocks.append(_text_input("count", v, "…or a number of interviews", values.get("count", ""), optional=True,
                                  hint="Labels them Interview 1…n"))
    else:
        blocks.append(_text_input("labels", v, "Link labels (one per line)", values.get("labels", ""),
                                  multiline=True))
    blocks.append(_text_input("brief", v, "Job description or research brief (for drafting)", values.get("brief", ""),
                              multiline=True, optional=True))
    blocks.append(actions(button("Draft with AI" if ai else "Fill from template", "voicelink_draft", pattern),
                          block_id="draft"))
    if note:
        blocks.append(context(note))
    for key, title in zip(FIELDS, SECTIONS, strict=True):
        blocks.append(_text_input(key, v, title, values.get(key, ""), multiline=True, hint=SECTION_HINTS[key]))
    blocks += [
        _text_input("landing_title", v, "Landing page title", values.get("landing_title", ""), optional=True),
        _text_input("landing_info", v, "Landing page info", values.get("landing_info", ""), multiline=True,
                    optional=True),
        _text_input("time_limit", v, "Time limit (1–60 minutes)", values.get("time_limit", "10")),
        InputBlock(block_id=f"expiry~{v}", label="Links expire after", element=StaticSelectElement(
            action_id="expiry", options=_options(EXPIRY_PRESETS),
            initial_option=next(o for o in _options(EXPIRY_PRESETS) if o.value == (values.get("expiry") or "1_week")))),
        _text_input("eval_prompt", v, "Evaluator prompt", values.get("eval_prompt", ""), multiline=True,
                    optional=True),
        _text_input("eval_questions", v, "Evaluator questions", values.get("eval_questions", ""),
                    multiline=True, optional=True, hint="One per line: `Communication | number` or `Notes | text`"),
    ]
    return View(type="modal", callback_id=CREATE_MODAL, title=clip(heading, 24), submit=clip(submit, 24),
                close="Cancel", blocks=blocks,
                private_metadata=json.dumps({**(meta or {}), "channel": channel, "pattern": pattern, "v": v}))


def card_message(batch: VoiceBatch, lines: list[CardLine]) -> Message:
    """The channel card of a batch: its status lines, never a link's URL."""
    pattern = PATTERNS.get(batch.pattern, batch.pattern)
    created = sum(1 for line in lines if line.status != "not created")
    fields = [f"*Project*\n{mrkdwn_escape(batch.project_name)}", f"*Pattern*\n{pattern}",
              f"*Links*\n{created} of {len(lines)}", f"*Expiry*\n{EXPIRY_PRESETS.get(batch.expiry_preset, '')}"]
    blocks: list[Any] = [header(f"Voice links · {clip(batch.project_name, 100)}"), section("", fields=fields)]
    rows = [f"• {mrkdwn_escape(line.label)} — {line.status}" for line in lines]
    chunk: list[str] = []
    for row in rows:
        if len("\n".join(chunk + [row])) > 2900 or len(blocks) >= 44:
            if len(blocks) >= 44:
                break
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(row)
    if chunk and len(blocks) < 45:
        blocks.append(section("\n".join(chunk)))
    shown = sum(b.text.text.count("\n• ") + 1 for b in blocks[2:] if getattr(b, "text", None))
    if shown < len(rows):
        blocks.append(context(f"…and {len(rows) - shown} more; see `/voicelink list`."))
    if batch.state in ("partial", "failed"):
        blocks.append(section(f":warning: {mrkdwn_escape(batch.error or 'Some links were not created.')}"))
        if batch.state == "partial":
            blocks.append(actions(button("Retry creating links", "voicelink_retry", batch.id, style="primary")))
    blocks.append(context(f"Created by <@{batch.creator}>. Links were sent to them privately."))
    return Message(text=f"Voice links for {batch.project_name}: {created} of {len(lines)} created", blocks=blocks)


def links_dm(batch: VoiceBatch, links: list[VoiceLink]) -> Message:
    """The links themselves (bearer secrets), for their creator only."""
    rows = [f"• *{mrkdwn_escape(link.label)}*: <{link.url}>" for link in links]
    blocks: list[Any] = [section(f"Your voice links for *{mrkdwn_escape(batch.project_name)}* "
                                 f"({len(links)}). Each link is a secret: send it only to its participant.")]
    chunk: list[str] = []
    for row in rows:
        if len("\n".join(chunk + [row])) > 2900:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(row)
    if chunk:
        blocks.append(section("\n".join(chunk)))
    text = f"Your {len(links)} voice links for {batch.project_name}"
    return Message(text=text, blocks=blocks[:50])


def link_line(link: VoiceLink) -> str:
    status = link.status if link.is_active or link.status in ("used", "expired", "cancelled") \
        else f"not active ({link.status})"
    until = expiry(link.expires_at)
    expires = (until if until.startswith("expired") else f"expires {until}") if until else "no expiry date"
    session = f" · session `{link.session_id}`" if link.session_id else ""
    return f"*{mrkdwn_escape(link.label)}* · {status} · {expires}{session} · `{link.id}` ({link.kind})"


def links_page(links: Page, project: str) -> Message:
    blocks: list[Any] = [section(f"*Voice links*{' · ' + mrkdwn_escape(project) if project else ''} "
                                 f"({links.total})")]
    for link in links.items:
        accessory = None
        if link.kind == "project" and link.is_active:
            accessory = button("Cancel", "voicelink_cancel", LinkRef(link.project_id or "", link.id).to_value(),
                               style="danger",
                               confirm=confirm_dialog("Cancel this link?", f"{link.label} won't be able to use it."))
        elif link.kind == "instant" and link.is_active:
            accessory = button("Edit", "voicelink_edit_instant", link.id)
        blocks.append(section(link_line(link), accessory=accessory))
    blocks += pager(links, "voicelink_list", project)
    if not links.items:
        blocks.append(context("No links yet. Create some with `/voicelink create`."))
    return Message(text=f"{links.total} voice links", blocks=blocks)


def cancel_confirm(link: VoiceLink) -> Message:
    return Message(text=f"Cancel {link.label}?", blocks=[
        section(f"Cancel the link for *{mrkdwn_escape(link.label)}*? It stops working at once."),
        actions(button("Cancel link", "voicelink_cancel", LinkRef(link.project_id or "", link.id).to_value(),
                       style="danger",
                       confirm=confirm_dialog("Cancel this link?", "This cannot be undone.")))])


def projects_page(projects: list[Project]) -> Message:
    blocks: list[Any] = [section(f"*Voice projects* ({len(projects)})")]
    for project in projects[:45]:
        blocks.append(section(f"*{mrkdwn_escape(project.name)}* · `{project.id}` · {project.time_limit_minutes} min"
                              + (" · evaluator" if project.evaluator else ""),
                              accessory=button("Details", "voicelink_project", project.id)))
    if len(projects) > 45:
        blocks.append(context(f"…and {len(projects) - 45} more."))
    if not projects:
        blocks.append(context("No projects yet. Create one with `/voicelink create`."))
    return Message(text=f"{len(projects)} voice projects", blocks=blocks)


def project_details(project: Project) -> Message:
    evaluator = project.evaluator or {}
    questions = ", ".join(q.get("label", "") for q in evaluator.get("questions", [])) or "none"
    return Message(text=f"Project {project.name}", blocks=[
        header(clip(project.name, 150)),
        section("", fields=[f"*Id*\n`{project.id}`", f"*Time limit*\n{project.time_limit_minutes} min",
                            f"*Landing title*\n{mrkdwn_escape(project.landing_page_title) or '—'}",
                            f"*Evaluator questions*\n{mrkdwn_escape(questions)}"]),
        section(f"*Prompt*\n```{clip(project.prompt, 2800)}```"),
        actions(button("Edit", "voicelink_edit_project", project.id))])


def edit_instant_modal(link: VoiceLink, sections: dict[str, str]) -> View:
    raw = link.raw
    blocks = [_text_input("label", 1, "Label", link.label)]
    for key, title in zip(FIELDS, SECTIONS, strict=True):
        blocks.append(_text_input(key, 1, title, sections.get(key, ""), multiline=True))
    blocks += [_text_input("landing_title", 1, "Landing page title", raw.get("landingPageTitle", ""), optional=True),
               _text_input("landing_info", 1, "Landing page info", raw.get("landingPageInfo", ""), multiline=True,
                           optional=True),
               _text_input("time_limit", 1, "Time limit (1–60 minutes)", str(link.time_limit_minutes or 5))]
    return View(type="modal", callback_id=EDIT_INSTANT_MODAL, title="Edit instant link", submit="Save",
                close="Cancel", private_metadata=link.id, blocks=blocks)


def edit_project_modal(project: Project, sections: dict[str, str]) -> View:
    blocks = [_text_input("name", 1, "Name", project.name)]
    for key, title in zip(FIELDS, SECTIONS, strict=True):
        blocks.append(_text_input(key, 1, title, sections.get(key, ""), multiline=True))
    blocks += [_text_input("landing_title", 1, "Landing page title", project.landing_page_title, optional=True),
               _text_input("landing_info", 1, "Landing page info", project.landing_page_info, multiline=True,
                           optional=True),
               _text_input("time_limit", 1, "Time limit (1–60 minutes)", str(project.time_limit_minutes))]
    return View(type="modal", callback_id=EDIT_PROJECT_MODAL, title="Edit project", submit="Save", close="Cancel",
                private_metadata=project.id, blocks=blocks)


def session_message(status: SessionStatus, ref: SessionRef) -> Message:
    who = f" · {mrkdwn_escape(ref.label)}" if ref.label else ""
    value = ref.to_value()
    finished = "finished" if status.is_finished else "not finished"
    return Message(text=f"Session {status.session_id}: {status.status}", blocks=[
        section(f"*Session* `{status.session_id}`{who}\nStatus: *{status.status}* ({finished}) · {status.type}"
                + (f" · completed {slack_date(status.completed_at)}" if slack_date(status.completed_at) else "")),
        actions(button("Transcript", "voicelink_transcript", value), button("Audio", "voicelink_audio", value),
                button("Evaluation", "voicelink_evaluation", value), button("Summary", "voicelink_summary", value))])


def summary_message(summary: Summary, ref: SessionRef) -> Message:
    value = ref.to_value()
    if summary.generating:
        return Message(text="The summary is being generated.", blocks=[
            section(":hourglass_flowing_sand: The summary is being generated. Ask again in a minute."),
            actions(button("Refresh", "voicelink_summary", value))])
    body = summary.summary
    text = body.get("overview") if isinstance(body, dict) else str(body)
    points = body.get("keyPoints", []) if isinstance(body, dict) else []
    lines = [f"*Summary*\n{mrkdwn_escape(str(text))}"] + [f"• {mrkdwn_escape(str(p))}" for p in points[:20]]
    return Message(text=f"Summary: {text}", blocks=[section("\n".join(lines)),
                                                    actions(button("Regenerate", "voicelink_regenerate", value))])


def evaluation_message(evaluation: Evaluation) -> Message:
    if evaluation.has_error:
        return Message(text="The evaluation failed.", blocks=[section(":warning: Nimrobo's evaluation failed.")])
    if not evaluation.ready:
        text = "No evaluation yet: it appears a little after the interview ends, and only with an evaluator."
        return Message(text=text, blocks=[section(text)])
    results = evaluation.results
    fields = [f"*{mrkdwn_escape(str(k))}*\n{mrkdwn_escape(str(v))}" for k, v in
              (results.items() if isinstance(results, dict) else enumerate(results))]
    blocks: list[Any] = [section("*Evaluation*")]
    for i in range(0, min(len(fields), 400), 10):
        blocks.append(section("", fields=fields[i:i + 10]))
    return Message(text="Evaluation", blocks=blocks[:50])
