"""Serving under load: acks never wait behind slow work, bursts are all accepted, the watcher fans out
within its bound, and Slack's 429s during a burst of posts lose and double nothing."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.slack_client import BotWebClient, SlackWriteLimiter
from bot.work import WorkPool
from config import Settings
from sandbox.nimrobo_sim import ALL_SCOPES, NimroboSimulator
from sandbox.slack_api import SlackStandIn
from sandbox.stack import Stack, StackOptions
from services.concurrency import Backoff
from services.http import RetryPolicy
from services.nimrobo import NimroboClient, NimroboError
from services.store import Store
from services.voice.links import VoiceLinkService
from services.voice.sessions import SessionService


def sessions_of(store, nimrobo, backoff=None):
    """The watcher's service, fanning out four requests at a time."""
    return SessionService(store, nimrobo, VoiceLinkService(store, nimrobo, Settings()), workers=4,
                          backoff=backoff or Backoff())


PROMPT = "## Goal\nScreen\n\n## Role\nInterviewer\n\n## Guidelines\nBe kind\n\n## Constraints\n10 minutes"


# -- the work pool ------------------------------------------------------------------------------
def test_one_busy_user_cannot_starve_another_and_hears_they_are_queued():
    pool = WorkPool(workers=2, per_user=1)
    gate = threading.Event()
    order: list[str] = []
    queued: list[tuple[str, int]] = []
    try:
        for i in range(5):  # Mallory presses five slow buttons
            pool.submit("U_MALLORY", lambda i=i: (gate.wait(5), order.append(f"mallory{i}")),
                        on_queued=lambda ahead: queued.append(("mallory", ahead)))
        done = threading.Event()
        pool.submit("U_ALICE", lambda: (order.append("alice"), done.set()),
                    on_queued=lambda ahead: queued.append(("alice", ahead)))
        # Mallory holds at most one worker, so Alice runs at once on the other.
        assert done.wait(5)
        assert order == ["alice"]
        assert ("alice", 0) not in queued and not [q for q in queued if q[0] == "alice"]
        assert len([q for q in queued if q[0] == "mallory"]) == 4  # every waiting press was told
        gate.set()
    finally:
        pool.shutdown(wait=True)
    assert order[0] == "alice" and sorted(order[1:]) == [f"mallory{i}" for i in range(5)]


def test_a_saturated_pool_queues_work_and_says_so_instead_of_failing():
    pool = WorkPool(workers=1, per_user=1)
    gate, finished = threading.Event(), threading.Event()
    notices: list[int] = []
    try:
        pool.submit("U1", lambda: gate.wait(5))
        pool.submit("U2", finished.set, on_queued=notices.append)
        assert len(notices) == 1  # said at once, with how many are ahead
        assert not finished.is_set()
        gate.set()
        assert finished.wait(5)
    finally:
        pool.shutdown()


# -- the real bot over HTTP -------------------------------------------------------------------------
@pytest.fixture()
def slow_stack():
    # A small pool makes the slow presses saturate it; the backends take seconds per call.
    with Stack(StackOptions(openai=False, scheduler=False,
                            settings={"work_pool_size": 3, "work_per_user": 2})) as stack:
        yield stack


def test_slow_presses_do_not_hold_the_ack_path(slow_stack):
    stack = slow_stack
    project = stack.services.nimrobo.create_project("Latency Study", PROMPT)
    stack.services.nimrobo.create_links(project.id, ["Ada Lovelace"], "1_week")
    # made outside the bot: #hiring follows the project, so its members may see its links
    stack.services.store.insert("project_subscriptions", {"project_id": project.id, "channel": "C_HIRING",
                                                           "created_by": "U_ALICE", "created_at": 0.0})
    stack.slack.members["C_HIRING"] = {"U_ALICE", stack.slack.bot_user_id}
    stack.nimrobo.faults.latency = 4.0
    presses = [threading.Thread(target=stack.signer.block_action, args=("voicelink_project", project.id),
                                kwargs={"user": f"U_PRESS{i}"}) for i in range(6)]
    for press in presses:
        press.start()
    stack.slack.wait_for(lambda: stack.services.work.stats().running >= 3, timeout=30)

    help_ack = stack.signer.command("/pluto", "help", user="U_ALICE")
    assert help_ack.status_code == 200 and "/pluto score" in str(help_ack.ack)
    list_ack = stack.signer.command("/voicelink", f"list {project.name}", user="U_ALICE", channel="C_HIRING")
    assert list_ack.status_code == 200
    # Queued behind the slow presses, it is said to be queued at once, then answered with the list.
    stack.slack.wait_for(lambda: [r for r in stack.slack.responses("U_ALICE") if "queued" in r["text"]], timeout=30)
    answer = stack.slack.wait_for(lambda: [r for r in stack.slack.responses("U_ALICE") if r["text"].endswith(
                                           "voice links") and "Ada Lovelace" in str(r["blocks"])], timeout=40)
    assert answer
    for press in presses:
        press.join(30)


def test_a_burst_of_100_signed_requests_is_all_accepted(slow_stack):
    stack = slow_stack

    def one(i: int) -> int:
        return stack.signer.command("/pluto", "help", user=f"U{i}").status_code

    with ThreadPoolExecutor(max_workers=100) as pool:
        statuses = list(pool.map(one, range(100)))
    assert statuses == [200] * 100


# -- the watcher fans out within its bound ------------------------------------------------------------
def test_the_watcher_polls_concurrently_within_its_bound(tmp_path):
    key = "api_fanout"
    with NimroboSimulator(keys={key: ALL_SCOPES}, evaluation_delay=0, summary_delay=0) as sim, \
            NimroboClient(sim.url + "/api", key, retry=RetryPolicy(base_delay=0.01)) as nimrobo:
        store = Store(tmp_path / "bot.db")
        watcher = sessions_of(store, nimrobo)
        for n in range(4):
            project = nimrobo.create_project(f"Role {n}", PROMPT)
            for link in nimrobo.create_links(project.id, [f"P{n}-{i}" for i in range(5)], "1_week"):
                session = sim.start_session(link.id)
                store.insert("voice_links", {"id": link.id, "batch_id": "b", "kind": "project",
                                             "project_id": project.id, "label": link.label, "status": "used",
                                             "session_id": session, "channel": "C_HIRING", "thread_ts": None,
                                             "creator": "U1", "created_at": 0.0, "updated_at": 0.0})
            watcher.subscribe(project.id, "C_ALL", "U1")
        sim.faults.latency = 0.05
        sim.reset_calls()
        watcher.poll()
        assert 1 < sim.max_in_flight <= 4
        # One status call per session and one listing per subscribed project: P + S.
        assert sim.count("GET") == 4 + 20
        store.close()


class _FlakyProjects(NimroboClient):
    """Listing one project fails every time (e.g. Nimrobo answers 500 for it)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.listed: list[str] = []

    def list_links(self, project_id):
        self.listed.append(project_id)
        if project_id == "p_broken":
            raise NimroboError("server error", status=500)
        return super().list_links(project_id)


def test_a_failing_project_backs_off_alone(tmp_path):
    key = "api_backoff"
    with NimroboSimulator(keys={key: ALL_SCOPES}) as sim, \
            _FlakyProjects(sim.url + "/api", key, retry=RetryPolicy(base_delay=0.01)) as nimrobo:
        store = Store(tmp_path / "bot.db")
        good = nimrobo.create_project("Good", PROMPT)
        link = nimrobo.create_links(good.id, ["Ada"], "1_week")[0]
        sim.start_session(link.id)
        watcher = sessions_of(store, nimrobo, Backoff(base=60))
        watcher.subscribe(good.id, "C1", "U1")
        store.insert("project_subscriptions", {"project_id": "p_broken", "channel": "C1", "created_by": "U1",
                                               "created_at": 0.0})  # Nimrobo no longer lists it
        found = watcher.targets()
        assert [t.label for t in found] == ["Ada"]  # the good project was read despite the broken one
        nimrobo.listed.clear()
        watcher.targets()
        assert nimrobo.listed == [good.id]  # the broken one waits out its back-off; the good one goes on
        store.close()


# -- Slack write budget -------------------------------------------------------------------------------
def test_429s_during_a_burst_of_posts_lose_and_double_nothing_and_keep_order():
    with SlackStandIn(bot_token="xoxb-burst") as slack:
        slack.rate_limit("chat.postMessage", burst=5, retry_after=1, window=1.0)
        client = BotWebClient(token="xoxb-burst", base_url=slack.url + "/api/",
                              limiter=SlackWriteLimiter(posts_per_second=50))
        for i in range(25):
            client.chat_postMessage(channel="C_BURST", text=f"completion {i}")
        texts = [m["text"] for m in slack.messages("C_BURST")]
        assert texts == [f"completion {i}" for i in range(25)]
        assert len(slack.api_calls("chat.postMessage")) > 25  # some were refused with 429 and re-sent


def test_the_limiter_paces_posts_per_channel_and_pauses_a_method_on_429():
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = SlackWriteLimiter(posts_per_second=1, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):  # the burst allowance
        assert limiter.acquire("chat.postMessage", "C1") == 0
    assert limiter.acquire("chat.postMessage", "C1") == pytest.approx(1.0)
    assert limiter.acquire("chat.postMessage", "C2") == 0  # another channel has its own budget
    limiter.pause("chat.postMessage", 5)
    assert limiter.acquire("chat.postMessage", "C2") == pytest.approx(5.0)


def test_a_429_in_one_channel_pauses_only_that_channel_and_try_take_never_waits():
    from slack_sdk.http_retry.request import HttpRequest

    from bot.slack_client import channel_of

    now = [0.0]
    limiter = SlackWriteLimiter(posts_per_second=1, clock=lambda: now[0], sleep=lambda s: None)
    for _ in range(3):
        assert limiter.try_take("chat.postMessage", "C1") == 0
    assert limiter.try_take("chat.postMessage", "C1") == pytest.approx(1.0)  # says when, takes nothing
    assert limiter.try_take("chat.postMessage", "C1") == pytest.approx(1.0)
    limiter.pause("chat.postMessage", 5, "C1")
    assert limiter.try_take("chat.postMessage", "C1") == pytest.approx(5.0)
    assert limiter.try_take("chat.postMessage", "C2") == 0  # the other channels go on
    with limiter.prepaid("chat.postMessage"):  # the sender took its token: the call does not wait again
        assert limiter.acquire("chat.postMessage", "C1") == 0
    request = HttpRequest(method="POST", url="https://slack.com/api/chat.postMessage", headers={},
                          data=b'{"channel": "C9", "text": "hi"}')
    assert channel_of(request) == "C9"
    assert channel_of(HttpRequest(method="POST", url="u", headers={}, data=b"channel=C8&text=x")) == "C8"
