"""One leader among replicas, on SQLite (file lock) and PostgreSQL (advisory lock)."""

import subprocess
import sys
import textwrap
import time

from services.leader import leadership_for
from services.store import Store


def wait_until(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_one_leader_and_a_handover(database):
    a, b = Store(database), Store(database)
    first, second = leadership_for(a), leadership_for(b)
    assert first.check() is True
    assert second.check() is False
    assert first.check() is True and second.check() is False  # the leader stays the leader
    first.release()
    assert second.check() is True
    assert first.check() is False
    second.release()
    a.close()
    b.close()


def test_a_killed_leader_process_frees_the_lock(database):
    """The lock goes with the process: no lease to wait out."""
    script = textwrap.dedent(f"""
        import sys, time
        from services.leader import leadership_for
        from services.store import Store
        lead = leadership_for(Store({database!r}))
        print(lead.check(), flush=True)
        sys.stdin.read()  # hold the lock until killed
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
    try:
        assert child.stdout.readline().strip() == "True"
        store = Store(database)
        mine = leadership_for(store)
        assert mine.check() is False
        child.kill()
        child.wait()
        # The kernel drops a flock at exit; PostgreSQL ends the session when its socket closes.
        assert wait_until(mine.check)
        mine.release()
        store.close()
    finally:
        child.kill()
