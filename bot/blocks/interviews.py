"""Block Kit for live interviews: the Interview card, private deliveries, the brief, the assistant, analytics.

Two kinds of builder, never mixed:

* **Public** (the Interview card, the assistant's answers, the analysis): posted in a channel
  thread through ``SlackOut.post``/``update``. They take records that hold no secret
  (:class:`~services.interviews.InterviewRoom`, analytics) and show no room URL, token,
  join link or client secret.
* **Private** (``*_private``, the brief and voice-session modals): for one person, through
  ``SlackOut.reply_privately``/``dm`` or a modal. Only these reveal a :class:`config.Secret`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import InputBlock, Option, PlainTextInputElement, StaticSelectElement
from slack_sdk.models.blocks.block_elements import FileInputElement, UserSelectElement
from slack_sdk.models.views import View

from bot.blocks import (
    MAX_VIEW_BLOCKS,
    Message,
    actions,
    button,
    clip,
    context,
    divider,
    header,
    mrkdwn_escape,
    section,
    when,
)
from services.interviews import (
    TRANSCRIPT_FILE_TYPES,
    AnalysisResult,
    Brief,
    IntakeCheck,
    InterviewRoom,
    Invitation,
    StartedInterview,
    VoiceSessionRef,
)
from services.pluto import InterviewAnalytics, LiveKitToken, PreBrief, RealtimeSession

ADD_INTERVIEWER_MODAL = "interview_add_interviewer"
ANALYZE_MODAL = "interview_analyze"
CARD_EVENT = "pluto_interview_card"
ANSWER_EVENT = "pluto_assistant_reply"
ANALYSIS_EVENT = "pluto_interview_analyzed"
BAR = 10
PASTE_LIMIT = 3000  # Slack's limit for a plain-text input; longer transcripts go up as a file
FILE_TYPES = [t for t in TRANSCRIPT_FILE_TYPES if t not in ("text", "markdown", "log")]


# -- small pieces -----------------------------------------------------------------------------
def slack_date(moment: float | None, *, estimated: bool = False) -> str:
    """``moment`` in each reader's own time zone (bot/blocks/when.py); "unknown" when there is none."""
    text = when.slack_date(moment)
    if not text:
        return "unknown"
    return f"about {text}" if estimated else text


def bar(score: float | None, width: int = BAR) -> str:
    """``███████░░░ 72`` for a 0-100 score; a dash when there is none."""
    if score is None:
        return "░" * width + "  –"
    value = max(0.0, min(100.0, float(score)))
    filled = round(width * value / 100)
    return "█" * filled + "░" * (width - filled) + f" {value:3.0f}"


def bars(rows: Sequence[tuple[str, float | None]]) -> str:
    """Labelled bars lined up in a code block."""
    rows = [(mrkdwn_escape(clip(label, 28)), score) for label, score in rows]
    width = max((len(label) for label, _ in rows), default=0)
    return "```" + "\n".join(f"{label.ljust(width)}  {bar(score)}" for label, score in rows) + "```"


def _label(key: str) -> str:
    return key.replace("_", " ").strip().capitalize()


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _item(item: Any, main: Sequence[str], extra: Sequence[tuple[str, str]] = ()) -> str:
    """One list item of a brief (a string, or the real server's object) as a readable line."""
    if not isinstance(item, dict):
        return mrkdwn_escape(_text(item))
    head = next((_text(item[k]) for k in main if _text(item.get(k))), "")
    if not head:
        head = " — ".join(_text(v) for v in item.values() if isinstance(v, str | int | float) and _text(v))
    parts = [f"{label}: {_text(item[k])}" if label else _text(item[k]) for k, label in extra if _text(item.get(k))]
    line = mrkdwn_escape(head)
    if parts:
        line += f"\n    _{mrkdwn_escape(' · '.join(parts))}_"
    return line


def _bullets(lines: Sequence[str], limit: int = 12, empty: str = "—") -> str:
    shown = [f"• {line}" for line in lines[:limit] if line]
    if len(lines) > limit:
        shown.append(f"…and {len(lines) - limit} more")
    return "\n".join(shown) or empty


def _status_line(room: InterviewRoom, at: float) -> str:
    status = room.status(at)
    if status == "analyzed":
        return ":white_check_mark: Interviewed"
    if status == "expired":
        return ":black_circle: Closed"
    return ":large_green_circle: Live"


# -- the Interview card (public) --------------------------------------------------------------
def starting_card(candidate_name: str) -> Message:
    """The "working…" card while Pluto makes the room; replaced in place by :func:`interview_card`."""
    who = candidate_name or "an ad-hoc interview"
    text = f"Starting an interview room for {who}…"
    return Message(text=text, blocks=[section(f":hourglass_flowing_sand: {mrkdwn_escape(text)}")])


def interview_card(room: InterviewRoom, at: float) -> Message:
    """Candidate, interviewers, room state and expiry, and the buttons. Never a URL or token."""
    status = room.status(at)
    who = room.candidate_name or "Ad-hoc interview"
    people = ", ".join(f"<@{u}>" for u in room.interviewers) or f"<@{room.interviewer}>"
    when = "Closes" if room.is_live(at) else "Closed"
    expiry = f"*{when}*\n{slack_date(room.expires_at, estimated=room.expiry_estimated)}"
    fields = [f"*Candidate*\n{mrkdwn_escape(who)}", f"*Interviewer{'s' if len(room.interviewers) > 1 else ''}*\n"
              f"{people}", f"*Room*\n`{mrkdwn_escape(room.room_name)}` · {_status_line(room, at)}", expiry]
    blocks: list[Any] = [header(f"Interview · {who}"), section("", fields=fields)]
    if room.state == "analyzed":
        score = "–" if room.score is None else f"{room.score:.0f}/100"
        blocks.append(section(f":bar_chart: *Interviewed* · score *{score}*"
                              + (f" · {mrkdwn_escape(room.recommendation)}" if room.recommendation else "")
                              + " — the analysis is in this thread."))
    value = room.to_value()
    buttons = []
    if status == "live":
        buttons += [button("Invite candidate", "interview_invite", value),
                    button("Add interviewer", "interview_add", value)]
    if room.candidate_id or room.run_id:
        buttons.append(button("Brief", "interview_brief", value))
    if status == "live":
        buttons.append(button("AI voice session", "interview_voice", value))
    buttons.append(button("Analyze again" if room.state == "analyzed" else "Analyze", "interview_analyze", value,
                          style=None if room.state == "analyzed" else "primary"))
    blocks.append(actions(*buttons))
    if status == "live":
        blocks.append(context("Mention me in this thread to ask the interview assistant while the room is open. "
                              "Room links and tokens go only to the people let in, privately."))
    meta = {"event_type": CARD_EVENT, "event_payload": {"room_id": room.id, "state": status}}
    return Message(text=f"Interview · {who} · {status}", blocks=blocks, metadata=meta)


# -- private deliveries -----------------------------------------------------------------------
def _access_lines(join_url: str, room_url: str, token: str) -> str:
    return (f"<{join_url}|Join the room>\nRoom link: `{room_url}`\nYour token: `{token}`")


def started_private(started: StartedInterview) -> Message:
    """The interviewer's way in: room link and token (and the realtime session Pluto made, if any)."""
    room, access = started.room, started.access
    who = room.candidate_name or "your ad-hoc interview"
    lines = [f"*Your interview room for {mrkdwn_escape(who)} is ready*",
             _access_lines(access.join_url.reveal(), access.room_url.reveal(), access.token.reveal())]
    if started.realtime is not None and started.realtime.client_secret:
        lines.append(f"*AI voice session* (made with the room): client secret "
                     f"`{started.realtime.client_secret.reveal()}`"
                     + (f", expires {slack_date(started.realtime.expires_at)}" if started.realtime.expires_at else ""))
    notes = [f"Only you can see this. The link carries your token: don't share it; use *Invite candidate* for "
             f"the candidate's own link. The room closes {slack_date(room.expires_at, estimated=room.expiry_estimated)}."]
    if started.fallback:
        notes.append("Pluto no longer had this candidate (a newer run replaced it), so this is an ad-hoc room "
                     "named for them; the brief comes from the shortlist.")
    return Message(text=f"Your interview room for {who} is ready (only you can see this).",
                   blocks=[section("\n".join(lines)), context(*notes)])


def invitation_private(invite: Invitation) -> Message:
    """The candidate's join link, for the interviewer to send on."""
    room, url = invite.room, invite.access.join_url.reveal()
    who = room.candidate_name or "the candidate"
    return Message(text=f"Candidate join link for {who} (only you can see this).", blocks=[
        section(f"*Join link for {mrkdwn_escape(who)} (candidate)*\n<{url}|Candidate join link>\n`{url}`"),
        context(f"Only you can see this. Send it to {mrkdwn_escape(who)} yourself: it lets one person into the "
                f"room as the candidate, until {slack_date(room.expires_at, estimated=room.expiry_estimated)}.")])


def colleague_dm(invite: Invitation) -> Message:
    """A colleague's own interviewer link, by DM."""
    room, access = invite.room, invite.access
    who = room.candidate_name or "an ad-hoc interview"
    text = (f"<@{invite.invited_by}> added you as an interviewer for *{mrkdwn_escape(who)}*.\n"
            + _access_lines(access.join_url.reveal(), access.room_url.reveal(), access.token.reveal()))
    return Message(text=f"You were added as an interviewer for {who}.", blocks=[
        section(text),
        context("Only you can see this; the link carries your own token. Mention me in the interview's thread to "
                f"ask the assistant. The room closes {slack_date(room.expires_at, estimated=room.expiry_estimated)}.")])


def colleague_added_private(invite: Invitation) -> Message:
    text = f"Sent <@{invite.for_user}> their interviewer link by DM."
    return Message(text=text, blocks=[section(f":incoming_envelope: {text}")])


def add_interviewer_modal(room: InterviewRoom, channel: str, thread_ts: str | None) -> View:
    who = room.candidate_name or "this interview"
    return View(type="modal", callback_id=ADD_INTERVIEWER_MODAL, title="Add an interviewer", submit="Send link",
                close="Cancel", private_metadata=json.dumps({"room": room.id, "channel": channel,
                                                             "thread": thread_ts}),
                blocks=[section(f"Pick a colleague to let into the room for *{mrkdwn_escape(who)}*. They get their "
                                "own interviewer link by DM. They must be able to see the shortlist."),
                        InputBlock(block_id="colleague", label="Colleague",
                                   element=UserSelectElement(action_id="colleague",
                                                             placeholder="Choose someone"))])


def voice_session_view(room: InterviewRoom, session: RealtimeSession) -> View:
    who = room.candidate_name or "the candidate"
    lines = [f"*Your AI voice session for the interview with {mrkdwn_escape(who)}*",
             f"Client secret: `{session.client_secret.reveal()}`"]
    if session.expires_at:
        lines.append(f"Expires {slack_date(session.expires_at)}")
    details = " · ".join(p for p in (f"session `{session.session_id}`" if session.session_id else "",
                                     f"model {session.model}" if session.model else "",
                                     "/".join(session.modalities)) if p)
    blocks: list[Any] = [section("\n".join(lines))]
    if details:
        blocks.append(context(details))
    blocks.append(context("Only you can see this. Give the secret to your realtime voice client once; it is not "
                          "stored anywhere and stops working when it expires."))
    return View(type="modal", title="AI voice session", close="Close", blocks=blocks)


def intake_private(candidate_name: str, check: IntakeCheck, expires: str) -> Message:
    url = check.link.url.reveal()
    gaps = ", ".join(g.replace("_", " ") for g in check.gaps) or "nothing: the profile is complete"
    who = check.validation.candidate_name or candidate_name
    return Message(text=f"Intake link for {who} (checked; only you can see this).", blocks=[
        section(f"*Intake link for {mrkdwn_escape(who)}*\n<{url}|Open the intake>\n`{url}`"),
        section(f"*The intake will ask about:* {mrkdwn_escape(gaps)}"),
        context(f"Checked with Pluto just now: the link works. Only you can see this; send it to the candidate. "
                f"It expires {expires}.")])


def voice_intake_private(candidate_name: str, token: LiveKitToken) -> Message:
    questions = [f"{i + 1}. {mrkdwn_escape(q)}" for i, q in enumerate(token.questions[:20])]
    where = f"Room `{mrkdwn_escape(token.room_name)}`" + (f" on `{mrkdwn_escape(token.livekit_url)}`"
                                                          if token.livekit_url else "")
    return Message(text=f"Voice intake for {candidate_name} is ready (only you can see this).", blocks=[
        section(f"*Voice intake for {mrkdwn_escape(candidate_name)}*\n{where}"),
        section("*Questions it will ask*\n" + ("\n".join(questions) or "—")),
        context("Only you can see this. The candidate joins the voice intake from their intake link.")])


# -- the brief (private modal) ----------------------------------------------------------------
def brief_blocks(brief: PreBrief, title: str = "Brief") -> list[Any]:
    fit = f"*Fit* `{bar(brief.overall_fit_score)}`/100" if brief.overall_fit_score is not None else "*Fit* –"
    role = " · ".join(p for p in (mrkdwn_escape(brief.current_role),
                                  f"{brief.years_experience} years" if _text(brief.years_experience) else "") if p)
    blocks: list[Any] = [header(f"{title} · {clip(brief.candidate_name or 'candidate', 120)}"),
                         section(f"*TL;DR* {mrkdwn_escape(brief.tldr) or '—'}\n{fit}" + (f" · {role}" if role else ""))]
    if brief.fit_summary:
        blocks.append(section(mrkdwn_escape(brief.fit_summary)))
    if brief.score_breakdown:
        blocks.append(section("*Score breakdown*\n" + bars([(_label(k), v) for k, v in
                                                            brief.score_breakdown.items()])))
    strengths = [_item(s, ("strength", "text", "description"), (("evidence", ""), ("how_to_verify", "verify")))
                 for s in brief.strengths]
    concerns = [_item(c, ("concern", "text", "description"),
                      (("severity", "severity"), ("evidence", ""), ("suggested_question", "ask")))
                for c in brief.concerns]
    blocks.append(section(f"*Strengths*\n{_bullets(strengths)}"))
    blocks.append(section(f"*Concerns*\n{_bullets(concerns)}"))
    matches = [_item(m, ("skill", "text"), (("candidate_level", "level"), ("evidence", ""))) for m in
               brief.skill_matches]
    if matches:
        blocks.append(section(f"*Skill matches*\n{_bullets(matches, 8)}"))
    blocks.append(divider())
    questions = brief.questions
    blocks.append(section(f"*Suggested questions* ({len(questions)})" if questions else "*Suggested questions*\n—"))
    for i, q in enumerate(questions[:15]):
        extra = " · ".join(p for p in (q.category, q.purpose) if p)
        text = f"*{i + 1}. {mrkdwn_escape(q.question)}*"
        if extra:
            text += f"\n_{mrkdwn_escape(extra)}_"
        if q.follow_up:
            text += f"\n↳ Follow-up: {mrkdwn_escape(q.follow_up)}"
        blocks.append(section(text))
    blocks.append(section(f"*Topics to avoid*\n{_bullets([mrkdwn_escape(t) for t in brief.topics_to_avoid_lines])}"))
    remember = [_item(k, ("text",)) for k in brief.key_things_to_remember]
    if remember:
        blocks.append(section(f"*Key things to remember*\n{_bullets(remember)}"))
    return blocks


def brief_view(brief: PreBrief, note: str = "", title: str = "Brief", modal_title: str = "Interview brief") -> View:
    blocks = brief_blocks(brief, title)
    blocks.append(context("Only you can see this." + (f" {note}" if note else "")))
    return View(type="modal", title=modal_title, close="Close", blocks=blocks[:MAX_VIEW_BLOCKS])


def room_brief_view(result: Brief) -> View:
    source = ("Pluto's cached brief for this candidate." if result.source == "cached"
              else "Generated for this room from the job description and the candidate's resume.")
    return brief_view(result.brief, source + " The assistant in the thread uses it as context.")


# -- the assistant (public, in the thread) ---------------------------------------------------
def thinking_message(question: str) -> Message:
    text = f"Thinking about “{clip(question, 200)}”…"
    return Message(text=text, blocks=[context(f":hourglass_flowing_sand: {mrkdwn_escape(text)}")])


def answer_message(room: InterviewRoom, answer: str, question_ts: str) -> Message:
    """The assistant's answer; its metadata ties it to the room and the question (the next turn's history)."""
    meta = {"event_type": ANSWER_EVENT, "event_payload": {"room_id": room.id, "question_ts": question_ts}}
    return Message(text=clip(answer, 3000), blocks=[section(mrkdwn_escape(answer)),
                                                    context(":robot_face: Interview assistant")],
                   metadata=meta)


# -- analytics (public, in the thread) -----------------------------------------------------
def analyze_modal(room: InterviewRoom, sessions: list[VoiceSessionRef], channel: str, thread_ts: str | None,
                  note: str = "") -> View:
    who = room.candidate_name or "this interview"
    blocks: list[Any] = [
        section(f"Give me the transcript of the interview with *{mrkdwn_escape(who)}*: paste it, upload it as a "
                "file, or pick a completed voice interview. I analyze it and post the result in the thread."),
        InputBlock(block_id="transcript", label="Paste the transcript", optional=True,
                   hint=f"Up to {PASTE_LIMIT} characters; upload longer ones as a file.",
                   element=PlainTextInputElement(action_id="transcript", multiline=True, max_length=PASTE_LIMIT,
                                                 placeholder="Interviewer: …\nCandidate: …")),
        InputBlock(block_id="file", label="Or upload it", optional=True,
                   element=FileInputElement(action_id="file", filetypes=FILE_TYPES, max_files=1)),
    ]
    if sessions:
        options = [Option(value=s.session_id, label=clip(f"{s.label} · {s.kind} voice interview · {s.session_id}", 75))
                   for s in sessions[:100]]
        blocks.append(InputBlock(block_id="session", label="Or a completed voice interview", optional=True,
                                 element=StaticSelectElement(action_id="session", options=options,
                                                             placeholder="Choose a voice interview")))
    else:
        blocks.append(context(note or f"No completed Nimrobo voice interview of {mrkdwn_escape(who)} was found "
                                      "(voice links labelled with their name)."))
    return View(type="modal", callback_id=ANALYZE_MODAL, title="Analyze interview", submit="Analyze",
                close="Cancel", blocks=blocks,
                private_metadata=json.dumps({"room": room.id, "channel": channel, "thread": thread_ts}))


def analyzing_message(candidate_name: str, source: str) -> Message:
    where = {"pasted": "the pasted transcript", "file": "the uploaded transcript",
             "nimrobo": "the voice interview's transcript"}.get(source, "the transcript")
    text = f"Analyzing {where} of the interview with {candidate_name or 'the candidate'}…"
    return Message(text=text, blocks=[section(f":hourglass_flowing_sand: {mrkdwn_escape(text)}")])


def _save_note(result: AnalysisResult) -> str:
    who = mrkdwn_escape(result.room.candidate_name or "the candidate")
    state = result.save_state
    if state == "saved":
        return f":white_check_mark: Saved to {who}'s profile; their candidate card shows “interviewed” with this score."
    if state == "none":
        return "Not saved to a profile: this ad-hoc room has no shortlisted candidate."
    reason = mrkdwn_escape(result.save_error.user_message) if result.save_error else ""
    if state == "unknown":
        return f":warning: I couldn't confirm that Pluto saved this to {who}'s profile. {reason}".strip()
    return f":x: Not saved to {who}'s profile. {reason}".strip()


def analysis_message(result: AnalysisResult) -> Message:
    a: InterviewAnalytics = result.analytics
    room = result.room
    who = room.candidate_name or "ad-hoc interview"
    source = {"pasted": "a pasted transcript", "file": "an uploaded transcript",
              "nimrobo": "a Nimrobo voice interview"}.get(result.source, "a transcript")
    overall = f"*Overall* `{bar(a.overall_score)}`/100"
    if a.recommendation:
        overall += f"\n*Recommendation:* {mrkdwn_escape(a.recommendation)}"
    if a.recommendation_reasoning:
        overall += f"\n_{mrkdwn_escape(a.recommendation_reasoning)}_"
    blocks: list[Any] = [header(f"Interview analysis · {who}"), section(overall)]
    if a.summary:
        blocks.append(section(mrkdwn_escape(a.summary)))
    if a.competencies:
        blocks.append(section("*Competencies*\n" + bars([(c.name, c.score) for c in a.competencies[:12]])))
    blocks.append(section(f"*Highlights*\n{_bullets([mrkdwn_escape(h) for h in a.highlights], 8)}"))
    blocks.append(section(f"*Concerns*\n{_bullets([mrkdwn_escape(c) for c in a.concerns], 8)}"))
    questions = [f"{i + 1}. {mrkdwn_escape(q)}" for i, q in enumerate(a.next_round_questions[:10])]
    blocks.append(section("*Next-round questions*\n" + ("\n".join(questions) or "—")))
    blocks.append(context(f"From {source}.", _save_note(result)))
    score = "–" if a.overall_score is None else f"{a.overall_score:.0f}/100"
    payload: dict[str, Any] = {"room_id": room.id, "recommendation": a.recommendation}
    if a.overall_score is not None:
        payload["score"] = a.overall_score
    if room.candidate_id:
        payload["candidate_id"] = room.candidate_id
    return Message(text=f"Interview analysis · {who}: {score}" + (f", {a.recommendation}" if a.recommendation else ""),
                   blocks=blocks, metadata={"event_type": ANALYSIS_EVENT, "event_payload": payload})
