"""The outbox's rules on the store alone (services/outbox.py), on SQLite and PostgreSQL; the migration
that moved the two earlier exactly-once tables into it (m800); the leader epoch (services/leader.py)."""

import pytest

from services.leader import Leadership, Unelected
from services.outbox import Outbox, update_key
from services.store import Store, now


@pytest.fixture()
def store(database):
    s = Store(database)
    yield s
    s.close()


def test_a_key_is_enqueued_once_and_claimed_by_one_sender(store):
    outbox = Outbox(store)
    with outbox.transaction():
        assert outbox.enqueue("k1", "C1", "post", {"text": "one"})
    assert not outbox.enqueue("k1", "C1", "post", {"text": "again"})  # the decision repeated: still one post
    row = outbox.get("k1")
    assert row["payload_json"] == {"text": "one"} and row["state"] == "waiting"
    first, second = outbox.claim(row, epoch=4), outbox.claim(row, epoch=4)
    assert first is not None and second is None  # of two senders, one wins
    assert outbox.get("k1")["epoch"] == 4
    assert outbox.mark_sent(first, "111.1")
    assert outbox.get("k1")["state"] == "sent" and outbox.get("k1")["message_ts"] == "111.1"


def test_a_rolled_back_decision_leaves_no_post(store):
    outbox = Outbox(store)
    with pytest.raises(RuntimeError), outbox.transaction():
        outbox.enqueue("k1", "C1", "post", {"text": "one"})
        raise RuntimeError("the job's own state change failed")
    assert outbox.get("k1") is None


def test_updates_of_one_message_coalesce_into_the_newest_state(store):
    outbox = Outbox(store)
    key = update_key("C1", "5.5")
    for n in range(5):
        outbox.enqueue(key, "C1", "update", {"ts": "5.5", "message": {"text": f"v{n}"}})
    [row] = store.rows("outbox")
    assert row["payload_json"]["message"]["text"] == "v4" and row["version"] == 5
    claimed = outbox.claim(row, 1)
    outbox.enqueue(key, "C1", "update", {"ts": "5.5", "message": {"text": "v5"}})  # while it is being sent
    assert outbox.mark_sent(claimed, "5.5")  # v4 went out; v5 is still owed
    row = outbox.get(key)
    assert row["state"] == "waiting" and row["payload_json"]["message"]["text"] == "v5"


def test_a_channels_posts_keep_their_order_behind_an_unclear_one(store):
    outbox = Outbox(store)
    for n in range(3):
        outbox.enqueue(f"p{n}", "C1", "post", {"text": str(n)})
    outbox.enqueue(update_key("C1", "1.0"), "C1", "update", {"ts": "1.0", "message": {"text": "u"}})
    assert [r["key"] for r in outbox.heads("C1")] == ["p0", "update:C1:1.0"]
    first = outbox.claim(outbox.get("p0"), 1)
    outbox.unclear(first, "ReadTimeout")
    # p1 must not overtake p0, which may or may not be in Slack; the update may go
    assert [r["key"] for r in outbox.heads("C1")] == ["update:C1:1.0"]
    assert outbox.due_channels() == ["C1"]


def test_claims_to_settle_unclear_after_the_grace_older_epochs_at_once(store):
    outbox = Outbox(store)
    for key in ("old", "mine", "unclear"):
        outbox.enqueue(key, "C1", "post", {"text": key})
    outbox.claim(outbox.get("old"), 1)
    outbox.claim(outbox.get("mine"), 2)
    outbox.unclear(outbox.claim(outbox.get("unclear"), 2), "HTTP 500")
    keys = lambda **kw: [r["key"] for r in outbox.to_settle(**kw)]  # noqa: E731
    assert keys(epoch=2, grace=60, timeout=3600) == ["old"]  # the dead leader's claim, at once
    assert keys(epoch=2, grace=0, timeout=3600) == ["old", "unclear"]
    assert keys(epoch=None, grace=60, timeout=3600) == []  # no elections: only the timeout
    assert keys(epoch=None, grace=60, timeout=0) == ["old", "mine"]
    row = outbox.to_settle(epoch=2, grace=60, timeout=3600)[0]
    taken, again = outbox.retake(row, 2), outbox.retake(row, 2)
    assert taken is not None and again is None
    outbox.reopen(taken)  # not found in Slack: it may be sent
    assert outbox.get("old")["state"] == "waiting"


def test_stats_say_what_waits_and_for_how_long(store):
    outbox = Outbox(store)
    assert outbox.stats().waiting == 0 and outbox.stats().oldest_age_seconds == 0.0
    outbox.enqueue("a", "C1", "post", {"text": "a"})
    outbox.enqueue("b", "C2", "post", {"text": "b"})
    outbox.mark_sent(outbox.claim(outbox.get("b"), 1), "1.0")
    stats = outbox.stats()
    assert stats.waiting == 1 and stats.channels == 1 and stats.oldest_age_seconds >= 0


def test_the_migration_moved_both_earlier_tables(tmp_path):
    import sqlalchemy as sa

    from services.store import Schema, _migration_modules

    store = Store(str(tmp_path / "old.db"), migrate=False)
    with store._begin() as conn:  # the schema as it was before m800, with an old post and an old claim
        sa.Table("schema_migrations", sa.MetaData(), sa.Column("name", sa.Text, primary_key=True),
                 sa.Column("applied_at", sa.Float)).create(conn, checkfirst=True)
        for name, module in _migration_modules():
            if name >= "m800":
                continue
            module.up(Schema(conn))
            conn.execute(sa.text("insert into schema_migrations values (:n, 0)"), {"n": name})
        conn.execute(sa.text("insert into slack_posts values ('pluto_scoring_completed:r1', 'C1', '1.0', "
                             "'posted', '2.0', 1, 2, 1)"))
        conn.execute(sa.text("insert into session_notifications (session_id, channel, state, claimed_at) "
                             "values ('s1', 'C2', 'claimed', :t)"), {"t": now()})
    assert "m800_outbox" in store.migrate()
    outbox = Outbox(store)
    assert outbox.get("pluto_scoring_completed:r1")["state"] == "sent"
    unsettled = outbox.get("voice_session_completed:s1:C2")
    assert unsettled["state"] == "sending" and unsettled["epoch"] == 0  # settled at once by the first leader
    assert unsettled["match_json"] == {"event_type": "voice_session_completed", "payload": {"session_id": "s1"}}
    assert store.table("slack_posts") is None
    store.close()


def test_every_takeover_is_a_new_epoch(tmp_path):
    store = Store(str(tmp_path / "bot.db"))
    first = Leadership(store)
    assert first.check() and first.epoch == 1
    first.release()
    second = Leadership(store)
    assert second.check() and second.epoch == 2
    assert Unelected().check() and Unelected().epoch is None
    store.close()


def test_a_post_waiting_for_its_back_off_holds_its_thread_only(store):
    outbox = Outbox(store)
    outbox.enqueue("t1-a", "C1", "post", {"text": "a"}, thread_ts="1.0")
    outbox.enqueue("t1-b", "C1", "post", {"text": "b"}, thread_ts="1.0")
    outbox.enqueue("t2-a", "C1", "post", {"text": "c"}, thread_ts="2.0")
    first = outbox.claim(outbox.get("t1-a"), 1)
    outbox.release(first, "ratelimited")  # Slack refused it: it waits for its back-off ...
    assert outbox.get("t1-a")["due_at"] > now()
    assert [r["key"] for r in outbox.heads("C1")] == ["t2-a"]  # ... and holds t1-b, not the other thread


def test_the_sender_hears_of_rows_once_they_are_committed(store):
    heard: list[int] = []
    outbox = Outbox(store, on_enqueue=lambda: heard.append(len(store.rows("outbox"))))
    with outbox.transaction():
        outbox.enqueue("k1", "C1", "post", {"text": "one"})
        outbox.enqueue("k2", "C1", "post", {"text": "two"})
        assert heard == []  # not before the commit: another connection could not see the rows yet
    assert heard == [2]
    with pytest.raises(RuntimeError), outbox.transaction():
        outbox.enqueue("k3", "C1", "post", {"text": "three"})
        raise RuntimeError("rolled back")
    outbox.enqueue("k1", "C1", "post", {"text": "again"})  # nothing new
    assert heard == [2]
