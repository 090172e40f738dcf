"""fork() while other threads hold ffikit's locks: the child still runs (issue 19 item 18)."""

from __future__ import annotations

import os
import threading

import pytest
from tests.crashproof import run_isolated

from ffikit import forksafe

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")

CHILD = """
import os, threading, time, ffikit
from ffikit.memory import tracking
ffikit.alloc("char", 1).free()  # imported before threads start: CPython's own import locks
ffikit.cdef("int warm(int);")   # are not ffikit's to fix
stop = False
def hammer():
    while not stop:
        with ffikit.track() as t:
            m = ffikit.alloc("char", 64)
            m.free()
            ffikit.cdef("int f%d(int);" % (id(t) % 97))
def hold_tracker_lock():  # the exact window: another thread inside the tracker's lock
    while not stop:
        with tracking._lock:
            time.sleep(0.0005)
threads = [threading.Thread(target=hammer), threading.Thread(target=hold_tracker_lock)]
for t in threads: t.start()
time.sleep(0.05)
hung = 0
for _ in range(20):
    pid = os.fork()
    if pid == 0:
        with ffikit.track() as t:  # takes the tracker's lock (and the others) in the child
            m = ffikit.alloc("char", 32)
        m.free()
        ffikit.cdef("struct child_only { int x; };")
        os._exit(0)
    deadline = time.monotonic() + 10
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            assert os.waitstatus_to_exitcode(status) == 0, status
            break
        if time.monotonic() > deadline:
            hung += 1
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            break
        time.sleep(0.01)
stop = True
for t in threads: t.join()
print("HUNG", hung)
"""


def test_children_forked_while_threads_hold_locks_do_not_hang():
    proc = run_isolated(CHILD, timeout=400)
    assert "HUNG 0" in proc.stdout, (proc.returncode, proc.stdout, proc.stderr[-2000:])


def test_the_parent_gets_back_every_lock_it_took_for_the_fork():
    lock = forksafe.Lock()
    held = forksafe.RLock()
    other = threading.Thread(target=held.acquire)
    other.start()
    other.join()  # 'held' now belongs to a thread that is gone: the fork waits WAIT, no more
    pid = os.fork()
    if pid == 0:
        ok = lock.acquire(timeout=1) and held.acquire(timeout=1)
        os._exit(0 if ok else 3)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0  # the child found both unlocked
    assert lock.acquire(blocking=False)  # the parent's lock was released after the fork
    lock.release()
    assert not held.acquire(blocking=False) or held.locked()  # still the other thread's
