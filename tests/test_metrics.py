"""The metrics' rules, without a bot: endpoint groups carry no ids, the work pool counts what it does and,
at shutdown, tells the people whose work never started."""

import threading

from prometheus_client.parser import text_string_to_metric_families

from bot.work import WorkPool
from services import metrics
from tests.conftest import eventually


def value(name, **labels):
    text = metrics.render(metrics.registry()).decode()
    want = set(labels.items())
    return sum(s.value for f in text_string_to_metric_families(text) for s in f.samples
               if s.name == name and want <= set(s.labels.items()))


def test_endpoint_groups_replace_every_id():
    assert metrics.endpoint_group("GET", "/v1/projects/p_123/links") == "GET /v1/projects/{id}/links"
    assert metrics.endpoint_group("get", "/pluto/candidates/ada-lovelace/questions?x=1") == \
        "GET /pluto/candidates/{id}/questions"
    assert metrics.endpoint_group("POST", "/rooms/Grace Hopper/chat") == "POST /rooms/{id}/chat"
    assert metrics.endpoint_group("GET", "http://h:1/api/v1/session/status") == "GET /api/v1/session/status"
    assert metrics.slack_method("chat.postMessage") == "chat.postMessage"
    assert metrics.slack_method("U123 secret") == "other"
    assert metrics.server_label("https://user:pw@pluto.example.com:8443/api") == "pluto.example.com:8443"


def test_ack_kinds_from_payloads():
    assert metrics.ack_kind({"command": "/pluto"}) == "command"
    assert metrics.ack_kind({"type": "block_actions"}) == "action"
    assert metrics.ack_kind({"type": "view_submission"}) == "view"
    assert metrics.ack_kind({"type": "event_callback"}) == "event"
    assert metrics.ack_kind({"type": "block_suggestion"}) == "options"
    assert metrics.ack_kind({}) == "other"


def test_the_pool_counts_waits_caps_and_tells_whose_work_never_ran():
    pool = WorkPool(workers=1, per_user=1, name="t")
    release = threading.Event()
    started = threading.Event()
    told = []
    dropped = value("pluto_bot_work_dropped_total", kind="score")

    def hold():
        started.set()
        release.wait(10)

    pool.submit("U1", hold, what="score")
    started.wait(5)
    pool.submit("U1", lambda: None, what="score", on_dropped=lambda: told.append("U1"))
    pool.submit("U2", lambda: None, what="score", on_dropped=lambda: told.append("U2"))
    assert value("pluto_bot_work_queued", kind="score") >= 2
    assert value("pluto_bot_work_running") >= 1
    running = pool.shutdown(wait=True, timeout=0.2)  # the held job outlives the grace
    release.set()
    assert running == 1 and sorted(told) == ["U1", "U2"]
    assert value("pluto_bot_work_dropped_total", kind="score") == dropped + 2
    try:
        pool.submit("U3", lambda: None, what="score")
    except RuntimeError:
        pass
    else:
        raise AssertionError("a shut pool took work")
    assert value("pluto_bot_work_rejected_total", kind="score") >= 1


def test_a_person_at_their_cap_is_counted_once_per_waiting_job():
    pool = WorkPool(workers=2, per_user=1, name="t3")
    release, started = threading.Event(), threading.Event()
    caps = value("pluto_bot_work_user_cap_total")
    pool.submit("U1", lambda: (started.set(), release.wait(10)), what="score")
    started.wait(5)
    pool.submit("U1", lambda: None, what="score")  # the free worker finds U1 at their cap
    pool.submit("U2", lambda: None, what="score")  # and serves U2 meanwhile
    eventually(lambda: value("pluto_bot_work_user_cap_total") == caps + 1)
    release.set()
    pool.shutdown(wait=True, timeout=5)
    assert value("pluto_bot_work_user_cap_total") == caps + 1  # once per waiting job, however often it was passed
    assert pool.stats().done == 3


def test_a_kind_that_is_not_a_fixed_name_is_other():
    pool = WorkPool(workers=1, name="t2")
    done = threading.Event()
    pool.submit("U1", done.set, what="Grace Hopper's brief")
    done.wait(5)
    pool.shutdown()
    text = metrics.render(metrics.registry()).decode()
    assert "Grace Hopper" not in text


def test_outbox_stats_count_the_posts_still_waiting(store):
    from services.outbox import Outbox

    outbox = Outbox(store)
    assert outbox.stats().waiting == 0 and outbox.stats().oldest_age_seconds == 0
    outbox.enqueue("a", "C1", "post", {"text": "a"})
    outbox.enqueue("b", "C2", "post", {"text": "b"})
    outbox.mark_sent(outbox.claim(outbox.get("b"), epoch=1), "1.0")
    stats = outbox.stats()
    assert stats.waiting == 1 and stats.channels == 1 and stats.oldest_age_seconds >= 0
