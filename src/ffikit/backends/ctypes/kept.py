"""A bounded record of the exceptions callbacks raised where no ffikit call could take them.

A callback called by C outside any ffikit call (a library's own thread, an
``atexit`` handler) cannot raise into Python; its exception is reported through
:data:`sys.unraisablehook` and kept for :func:`ffikit.callback_errors`.  Keeping
every one forever let a C thread calling a failing callback in a loop grow the
process without bound (20,000 raising calls: +1.9 GiB, each exception holding
its traceback and frames).  :class:`Kept` keeps the newest ``maxlen`` (default
:data:`KEEP`, 100) and counts the ones it let go, so nothing is lost silently.
"""

from __future__ import annotations

import collections

__all__ = ["KEEP", "Kept", "CallbackErrors"]

KEEP = 100


class CallbackErrors(list[BaseException]):
    """What :func:`ffikit.callback_errors` returns: the kept exceptions, oldest first,
    and ``dropped``, how many older ones were let go to keep the newest."""

    dropped: int = 0


class Kept(collections.deque[BaseException]):
    """A deque of the newest ``maxlen`` exceptions that counts what it drops."""

    def __init__(self, maxlen: int = KEEP):
        super().__init__(maxlen=maxlen)
        self.dropped = 0

    def append(self, exc: BaseException) -> None:
        if len(self) == self.maxlen:
            self.dropped += 1
        super().append(exc)

    def clear(self) -> None:
        super().clear()
        self.dropped = 0

    def snapshot(self) -> CallbackErrors:
        errors = CallbackErrors(self)
        errors.dropped = self.dropped
        return errors
