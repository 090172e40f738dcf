"""Memory a C library allocated, owned from Python: ``adopt``.

An :class:`Adopted` block is released with the deallocator its library
names, exactly once.  Its views and ``buffer()`` memoryviews are exports of
one region memoryview that counts them, so ``free()`` is refused while any
is alive — the rule every ffikit allocator follows.  The region keeps the
:class:`Adopted` alive (so garbage collection cannot free memory under a
view); the :class:`Adopted` refers to the region only weakly, so no cycle
delays the free when the last reference goes.
"""

from __future__ import annotations

import ctypes
import pickle
import weakref
from _ctypes import CFuncPtr
from collections.abc import Callable

from ffikit.cdecl.declarations import Declarations
from ffikit.errors import ArgumentError, InvalidValue, MemoryInUse
from ffikit.memory import tracking
from ffikit.memory.exporter import LOCK
from ffikit.memory.typed_exports import exporting_type
from ffikit.memory.views import _SOURCE, _spec
from ffikit.rules.counts import released, whole

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["Adopted", "adopt"]

_libc = None


def _libc_free() -> Callable[[int], None]:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None)
        _libc.free.argtypes = [ctypes.c_void_p]
        _libc.free.restype = None
    return _libc.free


class Adopted:
    """Memory a C library returned, released with its own deallocator exactly once.

    ``free`` runs on explicit :meth:`free`, at the end of a ``with`` block, or
    at garbage collection — whichever comes first, and never twice.
    """

    __slots__ = ("_address", "size", "ctype", "_count", "_finalizer", "_region", "__weakref__")

    def __init__(self, address: int, size: int | None, deallocate: Callable, item: type | None,
                 count: int):
        self._address = address
        self.size = size
        self.ctype = item
        self._count = count
        # a weak reference to the region while exports of it live
        self._region: weakref.ref[memoryview] | None = None
        self._finalizer = weakref.finalize(self, _call_free, deallocate, address)

    @property
    def address(self) -> int:
        if not self._finalizer.alive:
            raise released("this adopted memory")
        return self._address

    @property
    def freed(self) -> bool:
        return not self._finalizer.alive

    def _export(self) -> memoryview:
        """A new export (format 'B') of the region; ``free()`` waits for it."""
        if self.size is None:
            raise ArgumentError("adopt(..., size=...) was not given, so the length is unknown")
        with LOCK:  # not while free() runs
            address = self.address
            region = self._region() if self._region is not None else None
            if region is None:
                holder = (ctypes.c_ubyte * self.size).from_address(address)
                holder.__dict__[_SOURCE] = self  # exports keep this memory's owner alive
                region = memoryview(holder).cast("B")
                self._region = weakref.ref(region)
            return memoryview(pickle.PickleBuffer(region))

    @property
    def view(self):
        """A typed ctypes view (needs ``ctype=`` at adoption); each access makes a new one."""
        if self.ctype is None:
            raise ArgumentError("adopt(..., ctype=...) was not given, so there is no typed "
                                "view; use m.buffer() for bytes")
        vtype = exporting_type(self.ctype if self._count == 1 else self.ctype * self._count)
        source = self._export()
        result = vtype.from_address(self._address)
        result.__dict__[_SOURCE] = source
        return result

    def buffer(self) -> memoryview:
        """A memoryview (format 'B') of the adopted bytes; ``free()`` waits for it."""
        return self._export()

    def free(self) -> None:
        """Release the memory now with its deallocator (a no-op the second time).

        Raises MemoryInUse while a view or buffer of it is alive.
        """
        with LOCK:
            region = self._region() if self._region is not None else None
            if region is not None:
                try:
                    region.release()
                except BufferError:
                    raise MemoryInUse("Adopted.free: views of this memory are still alive; "
                                      "delete them first — nothing was freed") from None
            self._region = None
            alive = self._finalizer.detach()  # only one caller gets to free it
        if alive is not None:
            _call_free(*alive[2])
            if tracking.ACTIVE:
                tracking.forget(self)

    def __enter__(self) -> Adopted:
        return self

    def __exit__(self, *exc) -> None:
        self.free()

    def __reduce__(self):
        from ffikit.errors import NotPicklable

        raise NotPicklable(
            "cannot pickle ffikit.Adopted memory: it belongs to the C library that allocated it "
            "and is freed by that library's deallocator in this process; copy the bytes "
            "(bytes(m.buffer()), or ffikit.alloc + memmove) and pickle the copy")

    def __repr__(self) -> str:
        if self.freed:
            return "<ffikit.Adopted freed>"
        return f"<ffikit.Adopted {self.size} bytes at {self._address:#x}>"


def _call_free(deallocate: Callable, address: int) -> None:
    # C deallocators (ffikit-bound or raw ctypes) take a pointer; Python ones an int.
    if hasattr(deallocate, "cfunc") or isinstance(deallocate, CFuncPtr):
        deallocate(ctypes.c_void_p(address))
    else:
        deallocate(address)


def adopt(address_or_pointer: Any, size: int | None = None, *, free: Any, ctype: Any = None,
          count: int = 1, defs: Declarations | None = None) -> Adopted:
    """Take ownership of memory a C library allocated.

    Parameters
    ----------
    address_or_pointer
        An int address, a ctypes pointer or ``c_void_p``.
    size
        Bytes, if known (needed for ``buffer()``); defaults to ``sizeof(ctype) * count``.
    free
        The deallocator: a bound ffikit function, a ctypes function, any Python
        callable taking the address, or ``"libc"`` for the C library's ``free``.
    ctype
        Item type, for ``.view``.
    count
        Items of ``ctype`` (an int >= 1).
    """
    from ffikit.memory.views import address as address_of

    addr = address_of(address_or_pointer)
    if not addr:
        raise InvalidValue("ffikit.adopt: the pointer is NULL; there is nothing to own")
    if size is not None:
        size = whole(size, "ffikit.adopt", "size")
    count = whole(count, "ffikit.adopt", "count", 1)
    if isinstance(free, str):
        if free != "libc":
            raise InvalidValue(f"ffikit.adopt: free must be a callable or 'libc', not {free!r}")
        free = _libc_free()
    if not callable(free):
        raise ArgumentError(f"ffikit.adopt: free must be callable, got {type(free).__name__}")
    item = _spec(ctype, defs).item if ctype is not None else None
    if size is None and item is not None:
        size = ctypes.sizeof(item) * count
    mem = Adopted(addr, size, free, item, count)
    if tracking.ACTIVE:
        tracking.record("adopt", mem, size or 0, addr)
    return mem
