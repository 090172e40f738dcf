"""Live-allocation tracking: which native allocations are still alive, and who made them.

Allocation sites in ffikit (``alloc``, ``adopt``, ``Arena``, ``Pool``, ``new``,
``shared``) report through two hooks, guarded by one module-level flag so that
tracking costs a single branch when it is off::

    from ffikit.memory import tracking
    if tracking.ACTIVE:
        tracking.record("alloc", owner, size, address)
    ...
    if tracking.ACTIVE:
        tracking.forget(owner)          # explicit free; GC of ``owner`` also counts

``owner`` is the (weak-referenceable) Python object whose lifetime is the
allocation's lifetime.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import weakref
from collections.abc import Iterator
from types import FrameType

from ffikit import forksafe
from ffikit.errors import InvalidValue, LeakError
from ffikit.records import data_record

TYPE_CHECKING = False
if TYPE_CHECKING:
    import traceback

__all__ = ["ACTIVE", "record", "forget", "track", "Tracker", "Allocation"]

ACTIVE = False  # True while at least one tracker is open
_trackers: list = []
_lock = forksafe.Lock()


def record(kind: str, owner: object, size: int, address: int) -> None:
    """Tell every open tracker that ``owner`` now holds ``size`` bytes at ``address``."""
    thread = threading.get_ident()
    for tracker in list(_trackers):
        if tracker.thread is None or tracker.thread == thread:
            tracker._record(kind, owner, size, address)


def forget(owner: object) -> None:
    """Tell every open tracker that ``owner``'s memory was freed explicitly."""
    for tracker in list(_trackers):
        tracker._forget(owner)


# --- the tracker -----------------------------------------------------------------------------


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # ffikit/


@data_record
class Allocation:
    """One tracked allocation: what, how big, where, and who made it."""

    kind: str
    size: int
    address: int
    frames: tuple  # ((filename, lineno, function), ...) innermost last, ffikit's own removed

    @property
    def stack(self) -> traceback.StackSummary:
        """The creating traceback (formatted on demand: recording stays cheap)."""
        import linecache
        import traceback

        return traceback.StackSummary.from_list(
            [(f, n, fn, linecache.getline(f, n).strip()) for f, n, fn in self.frames])

    @property
    def where(self) -> str:
        """``file:line`` of the user code that allocated."""
        if not self.frames:
            return "<unknown>"
        filename, lineno, _ = self.frames[-1]
        return f"{filename}:{lineno}"


class Tracker:
    """Records every ffikit allocation made while it is open.

    Use :func:`track`.  ``leaks()`` lists allocations still alive and not
    freed; ``report()`` groups them by source line; ``assert_no_leaks()``
    raises :class:`~ffikit.LeakError` carrying the report.  ``thread`` is the
    ident of the only thread it records (None: every thread).
    """

    def __init__(self, depth: int = 8, thread: int | None = None):
        self.depth = depth
        self.thread = thread
        self._live: dict[int, tuple[weakref.ref[object] | None, Allocation]] = {}
        self._lock = forksafe.Lock()
        self.total_allocations = 0

    def _record(self, kind: str, owner: object, size: int, address: int) -> None:
        stack = _user_frames(self.depth)
        key = id(owner)
        lock = self._lock
        live = self._live

        def gone(_ref, key=key):
            with lock:
                entry = live.get(key)
                if entry is not None and entry[0] is _ref:
                    del live[key]

        try:
            ref = weakref.ref(owner, gone)
        except TypeError:  # not weak-referenceable: track until forgotten explicitly
            ref = None
        with lock:
            live[key] = (ref, Allocation(kind, size, address, stack))
            self.total_allocations += 1

    def _forget(self, owner: object) -> None:
        with self._lock:
            self._live.pop(id(owner), None)

    def leaks(self) -> list[Allocation]:
        """Allocations made while tracking that are still alive and unfreed."""
        with self._lock:
            entries = list(self._live.values())
        leaks = []
        for ref, alloc in entries:
            owner = ref() if ref is not None else None
            if ref is not None and owner is None:
                continue  # collected
            if getattr(owner, "freed", False):
                continue  # freed explicitly, perhaps after the tracker closed
            leaks.append(alloc)
        return leaks

    def report(self) -> str:
        """A table of live allocations grouped by the line that made them."""
        import linecache  # (recording does not need it: imported when a report is made)

        leaks = self.leaks()
        if not leaks:
            return "no leaked ffikit allocations"
        groups: dict[str, list[Allocation]] = {}
        for alloc in leaks:
            groups.setdefault(alloc.where, []).append(alloc)
        rows = sorted(groups.items(), key=lambda kv: -sum(a.size for a in kv[1]))
        lines = [f"{len(leaks)} leaked ffikit allocation(s), "
                 f"{sum(a.size for a in leaks)} bytes:",
                 f"{'bytes':>10}  {'count':>5}  kind            allocated at"]
        for where, allocs in rows:
            kinds = ",".join(sorted({a.kind for a in allocs}))
            lines.append(f"{sum(a.size for a in allocs):>10}  {len(allocs):>5}  {kinds:<14}  "
                         f"{where}")
            frames = allocs[0].frames
            code = linecache.getline(frames[-1][0], frames[-1][1]).strip() if frames else ""
            if code:
                lines.append(f"{'':>10}  {'':>5}  {'':<14}    {code}")
        return "\n".join(lines)

    def assert_no_leaks(self) -> None:
        """Raise LeakError (with the report) if anything tracked is still alive."""
        import gc

        gc.collect()
        leaks = self.leaks()
        if leaks:
            raise LeakError(f"{len(leaks)} ffikit allocation(s) were not freed", self.report())

    def __repr__(self) -> str:
        return f"<ffikit.Tracker {len(self.leaks())} live of {self.total_allocations} tracked>"


def _user_frames(depth: int) -> tuple[tuple[str, int, str], ...]:
    frame: FrameType | None = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename.startswith((_PACKAGE_DIR, "<ffikit")):
        frame = frame.f_back  # ffikit's modules and its generated call wrappers
    frames: list[tuple[str, int, str]] = []
    while frame is not None and len(frames) < depth:
        code = frame.f_code
        frames.append((code.co_filename, frame.f_lineno, code.co_name))
        frame = frame.f_back
    frames.reverse()
    return tuple(frames)


@contextlib.contextmanager
def track(depth: int = 8, *, threads: str = "all") -> Iterator[Tracker]:
    """Track every ffikit allocation (alloc, adopt, arena, pool, new, shared) made inside.

    Parameters
    ----------
    depth
        Frames of the allocating traceback kept per allocation.
    threads
        ``"all"`` (the default): allocations made by any thread while the
        tracker is open count, so work handed to a thread pool is included.
        ``"current"``: only those made by the thread that opened it, so a test
        is not blamed for a background thread's memory.  Frees count from any
        thread either way.

    Examples
    --------
    >>> with ffikit.track() as t:
    ...     m = ffikit.alloc("double", 100)
    >>> t.leaks()            # m is still alive: listed with this file and line
    """
    global ACTIVE
    if threads not in ("all", "current"):
        raise InvalidValue(f"ffikit.track: threads must be 'all' or 'current', not {threads!r}")
    tracker = Tracker(depth, threading.get_ident() if threads == "current" else None)
    with _lock:
        _trackers.append(tracker)
        ACTIVE = True
    try:
        yield tracker
    finally:
        with _lock:
            _trackers.remove(tracker)
            ACTIVE = bool(_trackers)
