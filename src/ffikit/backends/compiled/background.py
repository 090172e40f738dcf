"""The background builder: compiled wrappers are built while callers go on through ctypes.

Under ``backend="auto"`` a function is bound at once by the ctypes backend,
and its compiled wrapper is requested here.  One daemon thread per process
gathers the requests for a short window (``$FFIKIT_BUILD_WINDOW_MS``,
default 20 ms, so functions bound together are compiled together), builds
one extension module with just those functions' wrappers, and hands each
waiting function its compiled twin.  No caller ever waits on the compiler.

At interpreter exit the thread is abandoned: :mod:`ffikit.build` kills a
compiler still running and removes its temporary directory (cache entries
are only ever renamed into place whole), and nothing is logged.
``$FFIKIT_BUILD=sync`` builds in the caller instead (for tests and for
measuring).
"""

from __future__ import annotations

import atexit
import os
import threading
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["schedule", "wait", "synchronous", "exiting"]

_cond = threading.Condition()
_queue: list[Any] = []  # objects with a build_pending() method, in request order
_busy = [0]  # how many queued or running batches are unfinished
_thread: list[threading.Thread] = []
_exiting = [False]


def synchronous() -> bool:
    """True when ``$FFIKIT_BUILD=sync`` asks for builds in the calling thread."""
    return os.environ.get("FFIKIT_BUILD", "").lower() == "sync"


def exiting() -> bool:
    """True once the interpreter has started to exit (no more builds, no more logging)."""
    from ffikit.build import exiting as build_exiting

    return _exiting[0] or build_exiting()


def _window() -> float:
    try:
        return max(0.0, float(os.environ.get("FFIKIT_BUILD_WINDOW_MS") or 20)) / 1000
    except ValueError:
        return 0.02


def schedule(work: Any) -> None:
    """Ask for ``work.build_pending()`` to run soon on the builder thread."""
    if synchronous():
        work.build_pending()
        return
    with _cond:
        if _exiting[0]:
            return
        if work not in _queue:
            _queue.append(work)
            _busy[0] += 1
        if not _thread or not _thread[0].is_alive():
            thread = threading.Thread(target=_run, name="ffikit-builder", daemon=True)
            _thread[:] = [thread]
            thread.start()
        _cond.notify_all()


def _run() -> None:
    while True:
        with _cond:
            while not _queue and not _exiting[0]:
                _cond.wait()
            if _exiting[0]:
                return
        time.sleep(_window())  # let the functions bound together join one build
        with _cond:
            batch, _queue[:] = list(_queue), []
        for work in batch:
            try:
                work.build_pending()
            except BaseException:  # noqa: BLE001 - the builder must never die with a traceback
                if not exiting():
                    import logging

                    logging.getLogger("ffikit.backends.compiled").exception(
                        "ffikit: background build failed")
            finally:
                with _cond:
                    _busy[0] -= 1
                    _cond.notify_all()


def wait(timeout: float | None = None) -> bool:
    """Wait until every requested build has finished; False if ``timeout`` seconds passed first."""
    deadline = None if timeout is None else time.monotonic() + timeout
    with _cond:
        while _busy[0] > 0:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            _cond.wait(left)
    return True


def _at_exit() -> None:
    with _cond:
        _exiting[0] = True
        _cond.notify_all()


def _after_fork() -> None:  # the builder thread does not exist in a forked child
    global _cond
    _cond = threading.Condition()
    _thread[:] = []
    pending, _queue[:] = list(_queue), []
    _busy[0] = 0
    for work in pending:
        schedule(work)


atexit.register(_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)
