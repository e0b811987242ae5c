"""The interview watcher (services.sessions) against the Nimrobo simulator over HTTP, plus its message and posting rules."""

import json
from types import SimpleNamespace

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.blocks.voice_watcher import completed_message
from bot.delivery import Deliveries, Sender
from bot.jobs.voice_watcher import decide
from bot.slack_out import SlackOut, masked_kwargs
from config import Settings
from services.outbox import Outbox
from services.records import Notification
from services.store import Store
from services.voice.links import VoiceLinkService
from services.voice.sessions import SessionService
from services.voice.sessions import completed_key as key_of

PROMPT = "## Goal\nScreen\n\n## Role\nInterviewer\n\n## Guidelines\nBe kind\n\n## Constraints\n10 minutes"
EVALUATOR = {"prompt": "Rate", "questions": [{"id": "communication", "label": "Communication", "type": "number"},
                                             {"id": "highlights", "label": "Highlights", "type": "text"}]}
WAIT = 100.0


class Clock:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


def sessions_of(store, nimrobo):
    return SessionService(store, nimrobo, VoiceLinkService(store, nimrobo, Settings()))


@pytest.fixture()
def watcher(store, nimrobo):
    """The watcher's service; ``refresh()`` picks up session ids as the watcher job does first."""
    service = sessions_of(store, nimrobo)
    service.refresh = service.voicelinks.refresh_statuses
    return service


def register_link(store, nimrobo, label="Ada", evaluator=None, channel="C_HIRING", thread_ts="111.222"):
    """A project link created from Slack in ``channel``, as the voice-link service records it."""
    project = nimrobo.create_project(f"Role {label}", PROMPT, evaluator=evaluator)
    link = nimrobo.create_links(project.id, [label], "1_week")[0]
    store.insert("voice_links", {"id": link.id, "batch_id": "b1", "kind": "project", "project_id": project.id,
                                 "label": label, "status": link.status, "session_id": None, "channel": channel,
                                 "thread_ts": thread_ts, "creator": "U1", "created_at": 0.0, "updated_at": 0.0})
    return project, link


def queue(watcher, note):
    """What the watcher job does with a ready note: its outbox row and its own record, in one transaction."""
    outbox = Outbox(watcher.store)
    with outbox.transaction():
        assert outbox.enqueue(key_of(note.session_id, note.channel), note.channel, "post", {"text": "done"})
        watcher.note_reported(note.session_id, note.channel, note.thread_ts)


def post_all(watcher, notes):
    for note in notes:
        queue(watcher, note)
        watcher.mark_posted(note.session_id, note.channel, "999.1")


def test_completed_interview_is_ready_once_after_the_summary_exists(sim, nimrobo, store, watcher):
    _, link = register_link(store, nimrobo)
    session = sim.start_session(link.id)
    watcher.refresh()  # picks up the sessionId
    clock = Clock()
    assert watcher.poll(wait_seconds=WAIT, clock=clock) == []  # still pending
    sim.complete_session(session)
    assert watcher.poll(wait_seconds=WAIT, clock=clock) == []  # summary answered 202
    [note] = watcher.poll(wait_seconds=WAIT, clock=clock)
    assert (note.session_id, note.channel, note.thread_ts, note.label) == (session, "C_HIRING", "111.222", "Ada")
    assert "billing migration" in note.summary["overview"] and not note.summary_pending
    assert note.evaluation is None and note.evaluation_note == "none"  # no evaluator: nothing to wait for
    post_all(watcher, [note])
    assert watcher.poll(wait_seconds=WAIT, clock=clock) == []
    assert watcher.already_posted(session, "C_HIRING")


def test_evaluation_is_waited_for_then_posted_with_question_labels(sim, nimrobo, store, watcher):
    _, link = register_link(store, nimrobo, evaluator=EVALUATOR)
    sim.evaluation_delay = 3600  # arrives "later"
    session = sim.start_session(link.id)
    watcher.refresh()
    sim.complete_session(session)
    clock = Clock()
    watcher.poll(wait_seconds=WAIT, clock=clock)  # summary 202
    assert watcher.poll(wait_seconds=WAIT, clock=clock) == []  # evaluation null, hasError false
    sim.sessions[session]["_evaluation_ready_at"] = 0  # now it is written
    [note] = watcher.poll(wait_seconds=WAIT, clock=clock)
    assert note.evaluation == {"communication": 7, "highlights": "Clear answer about Highlights"}
    assert note.questions == {"communication": "Communication", "highlights": "Highlights"}
    text = json.dumps(completed_message(note).kwargs()["blocks"])
    assert "*Communication*\\n7" in text and "billing migration" in text


def test_after_the_wait_it_is_posted_with_what_exists(sim, nimrobo, store, watcher):
    _, link = register_link(store, nimrobo, evaluator=EVALUATOR)
    sim.evaluation_delay = sim.summary_delay = 3600  # neither arrives
    session = sim.start_session(link.id)
    watcher.refresh()
    sim.complete_session(session)
    clock = Clock()
    assert watcher.poll(wait_seconds=WAIT, clock=clock) == []
    clock.t += WAIT - 1
    assert watcher.poll(wait_seconds=WAIT, clock=clock) == []
    clock.t += 2
    [note] = watcher.poll(wait_seconds=WAIT, clock=clock)
    assert note.summary_pending and note.evaluation is None and note.evaluation_note == "pending"
    message = completed_message(note).kwargs()
    assert "still being generated" in json.dumps(message["blocks"])
    assert "evaluation wasn't ready" in json.dumps(message["blocks"])
    assert sim.calls["POST /api/v1/sessions/summary/regenerate"] == 0  # never triggers regeneration


def test_failed_interview_is_ready_at_once_and_only_once(sim, nimrobo, store, watcher):
    _, link = register_link(store, nimrobo, label="Linus")
    session = sim.start_session(link.id)
    watcher.refresh()
    sim.fail_session(session)
    [note] = watcher.poll(wait_seconds=WAIT, clock=Clock())
    assert note.status == "failed"
    message = completed_message(note)
    assert "Linus failed" in message.text and message.metadata["event_payload"]["session_id"] == session
    post_all(watcher, [note])
    assert watcher.poll(wait_seconds=WAIT, clock=Clock()) == []


def test_a_restart_does_not_decide_again_what_is_queued_or_posted(sim, nimrobo, store, watcher, tmp_path):
    _, link = register_link(store, nimrobo, label="Ada")
    _, other = register_link(store, nimrobo, label="Bea")
    sessions = [sim.start_session(link.id), sim.start_session(other.id)]
    watcher.refresh()
    for s in sessions:
        sim.fail_session(s)
    notes = watcher.poll(clock=Clock())
    assert len(notes) == 2
    post_all(watcher, notes[:1])  # posted
    queue(watcher, notes[1])  # queued, then the process died: the outbox still owes it
    store.close()
    again = Store(tmp_path / "bot.db")  # the restarted bot
    try:
        assert sessions_of(again, nimrobo).poll(clock=Clock()) == []
        assert Outbox(again).get(key_of(notes[1].session_id, "C_HIRING"))["state"] == "waiting"
    finally:
        again.close()


def test_watch_subscription_and_link_channel_each_get_one_with_one_status_call(sim, nimrobo, store, watcher):
    project, link = register_link(store, nimrobo, label="Grace")
    unregistered = nimrobo.create_links(project.id, ["Hopper"], "1_week")[0]  # made outside Slack
    session = sim.start_session(link.id)
    other = sim.start_session(unregistered.id)
    watcher.refresh()
    assert watcher.subscribe(project.id, "C_UPDATES", "U2")[1]
    assert not watcher.subscribe(project.id, "C_UPDATES", "U2")[1]
    assert watcher.watch(session, "C_WATCH", "U3").state == "watching"
    sim.fail_session(session)
    sim.fail_session(other)
    before = sim.calls["GET /api/v1/session/status"]
    notes = watcher.poll(clock=Clock())
    assert sorted((n.session_id, n.channel) for n in notes) == sorted(
        [(session, "C_HIRING"), (session, "C_UPDATES"), (session, "C_WATCH"), (other, "C_UPDATES")])
    assert sim.calls["GET /api/v1/session/status"] - before == 2
    assert watcher.unsubscribe(project.id, "C_UPDATES") == (project.id, True)
    assert watcher.unsubscribe(project.id, "C_UPDATES") == (project.id, False)
    follows = watcher.follows("C_WATCH")
    assert follows.subscriptions == [] and [w.session_id for w in follows.watches] == [session]


def test_message_stays_within_slack_limits_and_is_masked_for_a_public_channel():
    note = Notification(
        "sess_1", "C1", None, "project", "proj_1", "ada@example.com", "completed",
        summary={"overview": "Reach me at ada@example.com or +1 415 555 0100. " + "x" * 20000},
        evaluation={f"q{i}": "y" * 3000 for i in range(600)}, questions={"q0": "First question"},
        project_name="Backend", created_at="2026-01-01T10:00:00Z", completed_at="2026-01-01T10:12:00Z")
    kwargs = masked_kwargs(completed_message(note))  # what SlackOut posts in a public channel
    blocks = kwargs["blocks"]
    assert len(blocks) <= 50
    for block in blocks:
        if block["type"] == "section":
            assert len(block.get("text", {}).get("text", "")) <= 3000
            assert all(len(f["text"]) <= 2000 for f in block.get("fields", []))
    dumped = json.dumps(kwargs)
    assert "ada@example.com" not in dumped and "555 0100" not in dumped
    assert "First question" in dumped and "12 min" in dumped
    assert kwargs["metadata"]["event_type"] == "voice_session_completed"
    assert kwargs["metadata"]["event_payload"]["session_id"] == "sess_1"


class FakeSlack:
    def __init__(self, error=None):
        self.error, self.posts = error, []

    def chat_postMessage(self, **kwargs):  # noqa: N802 - the slack_sdk name
        if self.error:
            raise SlackApiError(self.error, SlackResponse(client=None, http_verb="POST", api_url="", req_args={},
                                                          data={"ok": False, "error": self.error}, headers={},
                                                          status_code=429 if self.error == "ratelimited" else 200))
        self.posts.append(kwargs)
        return {"ok": True, "ts": "123.456"}


def test_deciding_queues_once_and_sending_records_retries_or_gives_up(store, nimrobo):
    services = SimpleNamespace(sessions=sessions_of(store, nimrobo), outbox=Outbox(store),
                               settings=Settings(), clients=None)  # one workspace
    watcher = services.sessions
    note = Notification("sess_9", "C1", "1.2", "instant", None, "Ada", "failed")
    deliveries = Deliveries(services, SlackOut(FakeSlack()))
    assert decide(services, deliveries, note) and not decide(services, deliveries, note)  # queued once
    assert watcher.already_posted("sess_9", "C1")

    def send(slack):
        sender = Sender(services, slack)
        row = services.outbox.claim(services.outbox.get(key), 1)
        sender._send(row, "chat.postMessage")
        sender.pool.shutdown()
        return services.outbox.get(key)

    key = key_of("sess_9", "C1")
    row = send(FakeSlack("ratelimited"))
    assert row["state"] == "waiting" and row["due_at"] > row["created_at"]  # Slack refused: again, later
    store.update("outbox", key, {"due_at": 0})
    slack = FakeSlack()
    row = send(slack)
    assert row["state"] == "sent" and row["message_ts"] == "123.456"
    assert slack.posts[0]["thread_ts"] == "1.2" and slack.posts[0]["metadata"]["event_type"] == "voice_session_completed"
    assert store.get("session_notifications", ("sess_9", "C1"))["message_ts"] == "123.456"
    lost = Notification("sess_10", "C_GONE", None, "instant", None, "Bea", "failed")
    decide(services, deliveries, lost)
    key = key_of("sess_10", "C_GONE")
    assert send(FakeSlack("channel_not_found"))["state"] == "undeliverable"  # kept; not retried forever


def test_a_sender_killed_after_recording_a_post_leaves_its_after_sent_step_to_the_next_sweep(store, nimrobo):
    services = SimpleNamespace(sessions=sessions_of(store, nimrobo), outbox=Outbox(store),
                               settings=Settings().replace(outbox_grace_seconds=0.0), clients=None)
    note = Notification("sess_11", "C1", "1.2", "instant", None, "Ada", "failed")
    decide(services, Deliveries(services, SlackOut(FakeSlack())), note)
    key = key_of("sess_11", "C1")
    row = services.outbox.claim(services.outbox.get(key), 1)
    # Killed here: Slack has the post and the outbox says sent, but the watcher never noted its ts.
    assert services.outbox.mark_sent(row, "555.1", after_pending=True)
    assert store.get("session_notifications", ("sess_11", "C1"))["state"] != "posted"
    sender = Sender(services, FakeSlack())  # the next leader's sender
    sender._after_steps()
    sender.pool.shutdown()
    noted = store.get("session_notifications", ("sess_11", "C1"))
    assert noted["state"] == "posted" and noted["message_ts"] == "555.1"
    assert services.outbox.get(key)["after_pending"] == 0 and services.outbox.after_steps_pending(grace=0) == []
