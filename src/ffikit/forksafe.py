"""Every lock ffikit owns, usable in a child process after ``os.fork()``.

``fork()`` copies only the calling thread; a lock another thread held at
that moment stays locked in the child forever, so the child's next
``ffikit.alloc`` (which records into the leak tracker under its lock)
blocked for good.  Every ffikit lock is made here (:func:`Lock`,
:func:`RLock`) and registered, weakly, for ``os.register_at_fork``:

* before the fork, the forking thread takes each lock (waiting at most
  :data:`WAIT` seconds for one another thread holds, so a lock held across a
  long compile, or by the forking thread itself, delays a fork, never
  deadlocks it): the state the lock guards is then consistent when copied;
* after it, the parent releases what it took;
* the child re-initialises every lock (unlocked, no owner), whoever held it.
"""

from __future__ import annotations

import os
import threading
import weakref

__all__ = ["Lock", "RLock", "WAIT"]

WAIT = 0.25  # seconds the fork waits for a lock another thread holds
_locks: weakref.WeakSet = weakref.WeakSet()
_taken: list = []


def Lock():  # noqa: N802 - named as threading's factory it stands for
    """A ``threading.Lock`` that a forked child finds unlocked."""
    lock = threading.Lock()
    _locks.add(lock)
    return lock


def RLock():  # noqa: N802
    """A ``threading.RLock`` that a forked child finds unlocked."""
    lock = threading.RLock()
    _locks.add(lock)
    return lock


def _before() -> None:
    for lock in list(_locks):
        if lock.acquire(timeout=WAIT):
            _taken.append(lock)


def _after_in_parent() -> None:
    while _taken:
        _taken.pop().release()


def _after_in_child() -> None:
    _taken.clear()
    for lock in list(_locks):
        lock._at_fork_reinit()


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(before=_before, after_in_parent=_after_in_parent,
                        after_in_child=_after_in_child)
