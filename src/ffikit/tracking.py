"""Live-allocation tracking: which native allocations are still alive, and who made them.

Allocation sites in ffikit (``alloc``, ``adopt``, ``Arena``, ``Pool``, ``new``,
``shared``) report through two hooks, guarded by one module-level flag so that
tracking costs a single branch when it is off::

    from . import tracking
    if tracking.ACTIVE:
        tracking.record("alloc", owner, size, address)
    ...
    if tracking.ACTIVE:
        tracking.forget(owner)          # explicit free; GC of ``owner`` also counts

``owner`` is the (weak-referenceable) Python object whose lifetime is the
allocation's lifetime.
"""

from __future__ import annotations

import threading

__all__ = ["ACTIVE", "record", "forget"]

ACTIVE = False  # True while at least one tracker is open
_trackers: list = []
_lock = threading.Lock()


def record(kind: str, owner: object, size: int, address: int) -> None:
    """Tell every open tracker that ``owner`` now holds ``size`` bytes at ``address``."""
    for tracker in list(_trackers):
        tracker._record(kind, owner, size, address)


def forget(owner: object) -> None:
    """Tell every open tracker that ``owner``'s memory was freed explicitly."""
    for tracker in list(_trackers):
        tracker._forget(owner)
