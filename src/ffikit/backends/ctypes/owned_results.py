"""Results a declaration says the caller owns: ``__attribute__ ((malloc (dealloc, i)))``.

A function declared with a deallocator (glibc's ``fopen`` -> ``fclose``,
``strdup``-like functions -> ``free``) returns an :class:`OwnedPointer`: it is
passed to C like the pointer it holds, and released with its deallocator
exactly once -- when the deallocator is called with it, on ``close()``, at
the end of a ``with`` block, or at garbage collection.  Passing it anywhere
after it was released raises :class:`~ffikit.errors.MemoryReleased`, so a
second ``fclose`` is refused instead of corrupting the heap.  ``detach()``
hands back the raw pointer and gives up ownership (the opt-out).

The guarantees are :meth:`ffikit.Memory.free`'s: while a C call uses the
pointer (it was passed as an argument, and the call has not returned),
``close()`` -- from a callback during that call, or from another thread while
the call runs without the GIL -- raises :class:`~ffikit.MemoryInUse`, and so
does passing it to its deallocator.  Release is atomic: of two threads passing
the same result to its deallocator, one frees it and the other gets
``MemoryReleased``.
"""

from __future__ import annotations

import ctypes
import weakref
from collections.abc import Callable

from ffikit.errors import MemoryInUse, MemoryReleased

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["OwnedPointer", "owner"]

def _release(free: Callable[[], Callable], pointer: object) -> None:
    free()(pointer)


class _Lease(tuple):
    """``(users,)``: held by a call that passes an owned pointer; while one lives the pointer
    cannot be released.  Ending it pops one item off the pointer's list of users (atomic
    under the GIL, so a lease dropped anywhere, even inside a locked section, needs no lock)."""

    __slots__ = ()

    def __del__(self) -> None:
        self[0].pop()


class OwnedPointer:
    """A pointer returned by a function with a declared deallocator; freed once.

    Attributes
    ----------
    pointer
        The ctypes pointer (borrowed: do not free it yourself).
    address : int
        Its address.
    freed : bool
        True once the deallocator ran (or the pointer was detached).
    """

    __slots__ = ("_pointer", "_releasers", "_finalizer", "_function", "_dealloc", "_on_release",
                 "_users", "__weakref__")

    def __init__(self, pointer: object, function: str, releasers: frozenset, dealloc: str,
                 free: Callable[[], Callable], on_release: Callable[[object], None] | None = None):
        self._pointer = pointer
        self._function = function
        self._releasers = releasers
        self._dealloc = dealloc
        self._on_release = on_release
        self._users: list = []  # one item per C call using it now (per lease alive)
        self._finalizer = weakref.finalize(self, _release, free, pointer)

    def _ended(self) -> None:
        if self._on_release is not None:
            self._on_release(self)

    def _released(self) -> MemoryReleased:
        return MemoryReleased(
            f"this pointer returned by '{self._function}' was already released with "
            f"'{self._dealloc}'; it can no longer be used (use after free / double free)")

    @property
    def pointer(self) -> Any:
        if not self._finalizer.alive:
            raise self._released()
        return self._pointer

    @property
    def address(self) -> int:
        return ctypes.cast(self.pointer, ctypes.c_void_p).value or 0

    @property
    def contents(self) -> Any:
        return self.pointer.contents

    @property
    def freed(self) -> bool:
        return not self._finalizer.alive

    def _in_use(self, what: str) -> MemoryInUse:
        return MemoryInUse(
            f"this pointer returned by '{self._function}' is in use by a C call that has not "
            f"returned ({len(self._users)} call(s)); {what} after the call returns -- nothing was freed")

    def take(self, function: str, index: int) -> tuple[Any, _Lease | None]:
        """``(pointer, lease)`` to pass as argument ``index`` of ``function``.

        The lease marks it in use until it is dropped (when the call returns).
        If ``function`` is one of its deallocators, ownership ends here instead
        (the deallocator frees it; no lease) -- refused while another call uses it.

        No lock: a user is counted *before* liveness is checked, and a release
        ends ownership *before* it looks for users (each step atomic under the
        GIL), so a use and a release that race never both go ahead.
        """
        if (function, index) in self._releasers:
            self._end("pass it to '" + function + "'")
            return self._pointer, None
        users = self._users
        users.append(None)
        lease = _Lease((users,))  # from here on, dropping it uncounts this use
        if not self._finalizer.alive:
            raise self._released()
        return self._pointer, lease

    def _end(self, what: str) -> tuple | None:
        """End ownership (atomically: one caller wins); MemoryInUse, with ownership kept,
        while a C call uses it.  The finalizer's ``(obj, func, args, kwargs)``, or None
        when it had already ended."""
        found = self._finalizer.detach()
        if found is None:
            if what.startswith("pass"):
                raise self._released()
            return None
        if self._users:  # in use: take ownership back, refuse
            _obj, func, args, _kwargs = found
            self._finalizer = weakref.finalize(self, func, *args)
            raise self._in_use(what)
        self._ended()
        return found

    def close(self) -> None:
        """Release it now with its deallocator (a no-op the second time).

        Raises :class:`~ffikit.MemoryInUse` while a C call uses it.
        """
        found = self._end("close it")
        if found is not None:
            _obj, func, args, _kwargs = found
            func(*args)

    free = close

    def detach(self) -> Any:
        """Give up ownership: the raw pointer, which you must now release yourself."""
        if self._finalizer.detach() is None:
            raise self._released()
        self._ended()
        return self._pointer

    def __enter__(self) -> OwnedPointer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "released" if self.freed else f"at {self.address:#x}"
        return f"<ffikit owned pointer from {self._function}() {state}, freed by {self._dealloc}>"


def owner(function: str, deallocators: tuple, resolve: Callable[[str], Callable],
          hooks: tuple[Callable, Callable] | None = None) -> Callable[[object], object]:
    """``result -> OwnedPointer`` (NULL results stay as they are) for ``function``
    whose declaration names ``deallocators`` (``(name, parameter index)``);
    ``resolve(name)`` finds a deallocator when it is first needed.  ``hooks``
    (``on_own(owned)``, ``on_release(owned)``) let a leak tracker follow them."""
    named = set(deallocators)
    for dname, index in deallocators:  # GCC's '__builtin_free' is the C library's 'free'
        if dname in ("free", "__builtin_free"):
            named |= {("free", index), ("__builtin_free", index)}
    releasers = frozenset(named)
    name, index = next(((n, i) for n, i in deallocators if n in ("free", "__builtin_free")),
                       deallocators[0])
    cached: list = []

    def free() -> Callable:
        if not cached:
            fn = resolve(name)
            cached.append(fn if index == 0 else None)
        fn = cached[0]
        if fn is None:
            raise MemoryReleased(f"cannot release a result of '{function}': its deallocator "
                                 f"'{name}' takes it as argument {index + 1}; call it yourself")
        return fn

    on_own, on_release = hooks or (None, None)

    def own(result: object) -> object:
        if not result:
            return result
        owned = OwnedPointer(result, function, releasers, name, free, on_release)
        if on_own is not None:
            on_own(owned)
        return owned

    return own
