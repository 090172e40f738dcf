"""Native memory with an owner and a lifetime: ``alloc``, ``adopt``, page protection.

Design
------
Python 3.10/3.11 classes cannot export buffers themselves, yet ``memoryview(m)``
must work and ``free()`` must never pull memory from under a live export.
:class:`Memory` therefore *is* an anonymous ``mmap``: CPython counts its
exports and refuses to unmap while any memoryview, ctypes view or NumPy array
of it is alive — ffikit turns that refusal into a clear ``BufferError``.  The
memory is page-aligned and zero-filled by the kernel.  Many small blocks
belong in an :class:`Arena` or a :class:`Pool`, which carve one ``Memory``.

Ownership: ``alloc`` memory is freed by ``free()``, by leaving its ``with``
block, or when the object is garbage-collected — whichever comes first.
``adopt`` memory is released by the deallocator you name, exactly once.
"""

from __future__ import annotations

import ctypes
import mmap
import weakref
from collections.abc import Callable
from typing import Any

from ffikit.errors import MemoryReleased, ReadOnlyBuffer
from ffikit.memory import pages as _pages
from ffikit.memory import tracking
from ffikit.memory.views import _readonly_type, _spec

__all__ = ["Memory", "Adopted", "alloc", "adopt", "released", "round_up"]

PAGE = mmap.PAGESIZE


def released(what: str) -> MemoryReleased:
    return MemoryReleased(f"{what} was freed; it can no longer be used (use after free)")


class Memory(mmap.mmap):
    """Owned, zeroed native memory; ``memoryview(m)`` and C calls take it zero-copy.

    Attributes
    ----------
    address : int
        Where the region starts (raises MemoryReleased after ``free()``).
    size : int
        Bytes in the region.
    ctype : type
        The ctypes type of one item.
    view
        A typed ctypes object over the region (``ctype * count``).
    """

    def __new__(cls, size: int, item: type, count: int, *, align: int = 1, guard: bool = False,
                guard_before: bool = False):
        lead = PAGE if guard_before else 0
        span = max(size, 1)
        offset = 0
        if guard:  # right-align the region so its last byte touches the guard page
            mapped = lead + round_up(span, PAGE)
            offset = mapped - lead - span
            offset -= offset % max(align, 1)
            total = mapped + PAGE
        elif align > PAGE or lead:
            mapped = lead + span + (align if align > PAGE else 0)
            total = mapped
        else:  # the common case: the mapping is exactly the region
            mapped = total = span
        self = super().__new__(cls, -1, total)
        base = _pages.address_of(self)
        offset += lead
        if align > PAGE:
            offset += (-(base + offset)) % align
        self._ffikit_state = _State(base, base + offset, size, item, count)
        if guard:
            _pages.protect(base + mapped, PAGE, "none")  # memoryview(m) spans it: use .region()
        if guard_before:
            _pages.protect(base, PAGE, "none")
        return self

    def resize(self, newsize: int) -> None:
        raise BufferError("ffikit.Memory cannot be resized: C may hold its address; "
                          "allocate a new block and copy")

    def __init__(self, *args, **kwargs):  # mmap.__init__ takes the mapping arguments
        pass

    # --- properties ------------------------------------------------------------
    @property
    def address(self) -> int:
        state = self._ffikit_state
        if state.freed:
            raise released("this ffikit.Memory")
        return state.address

    @property
    def size(self) -> int:
        return self._ffikit_state.size

    @property
    def ctype(self) -> type:
        return self._ffikit_state.item

    @property
    def freed(self) -> bool:
        return self._ffikit_state.freed

    @property
    def view(self):
        """A typed ctypes view of the region (read-only while protected read-only).

        Each access makes a new view; a view holds an export, so ``free()`` is
        refused while one is alive.
        """
        state = self._ffikit_state
        if state.freed:
            raise released("this ffikit.Memory")
        vtype = state.item if state.count == 1 else state.item * state.count
        if state.protection != "rw":
            vtype = _readonly_type(vtype)
        result = vtype.from_address(state.address)
        result.__dict__["_ffikit_source"] = self._region()
        return result

    def region(self) -> memoryview:
        """A memoryview (format 'B') of exactly the region (``memoryview(m)`` is larger
        when a guard page or alignment padding surrounds it)."""
        if self._ffikit_state.freed:
            raise released("this ffikit.Memory")
        mv = self._region()
        return mv.toreadonly() if self._ffikit_state.protection in ("r", "rx") else mv

    __ffikit_region__ = region  # what ffikit.view / asarray / C calls see of this memory

    def _region(self) -> memoryview:
        state = self._ffikit_state
        start = state.address - state.base
        return memoryview(self)[start:start + state.size]

    # --- lifetime --------------------------------------------------------------
    def free(self) -> None:
        """Unmap the memory now.  A second call does nothing.

        Raises
        ------
        BufferError
            While a memoryview, typed view or NumPy array of it is alive:
            nothing is freed under a live export.
        """
        state = self._ffikit_state
        if state.freed:
            return
        try:
            mmap.mmap.close(self)
        except BufferError:
            raise BufferError(
                "ffikit.Memory.free: views of this memory are still alive (a memoryview, "
                ".view object or NumPy array); delete them first — nothing was freed") from None
        state.freed = True
        if tracking.ACTIVE:
            tracking.forget(self)

    close = free

    def __enter__(self) -> Memory:
        return self

    def __exit__(self, *exc) -> None:
        self.free()

    # --- protection --------------------------------------------------------------
    def protect(self, mode: str) -> None:
        """Set page protection: ``"r"``, ``"rw"``, ``"rx"`` or ``"none"``.

        ``mprotect`` on POSIX, ``VirtualProtect`` on Windows.  C writes to
        read-only memory fault; Python writes through ``m.view`` or ``m[i] = x``
        raise ``ReadOnlyBuffer`` instead.  Applies to whole pages: allocate with
        ``pages=True`` so the region owns its pages.
        """
        state = self._ffikit_state
        if state.freed:
            raise released("this ffikit.Memory")
        if mode not in ("r", "rw", "rx", "none"):
            raise ValueError(f"protect: mode must be 'r', 'rw', 'rx' or 'none', not {mode!r}")
        start = state.address - (state.address - state.base) % PAGE
        length = round_up(state.address + state.size, PAGE) - start
        _pages.protect(start, length, mode)
        state.protection = mode

    def __setitem__(self, index, value) -> None:
        if self._ffikit_state.protection != "rw":
            raise ReadOnlyBuffer(f"this memory is protected {self._ffikit_state.protection!r}; "
                                 "call protect('rw') before writing")
        mmap.mmap.__setitem__(self, index, value)

    def __getitem__(self, index):
        if self._ffikit_state.protection == "none":
            raise ReadOnlyBuffer("this memory is protected 'none'; call protect('r') to read it")
        return mmap.mmap.__getitem__(self, index)

    def __repr__(self) -> str:
        state = self._ffikit_state
        if state.freed:
            return "<ffikit.Memory freed>"
        return (f"<ffikit.Memory {state.size} bytes of {state.item.__name__} at "
                f"{state.address:#x}{'' if state.protection == 'rw' else ' ' + state.protection}>")

    def __reduce_ex__(self, protocol):
        """Pickle by value: item type, count and the bytes (out of band with protocol 5)."""
        return _reduce_memory(self, protocol)

    def __reduce__(self):
        return _reduce_memory(self, 2)


def _reduce_memory(mem: Memory, protocol: int):
    """``Memory`` pickles by value: ``(item type, count, bytes)``.

    With pickle protocol 5 the bytes travel as a :class:`pickle.PickleBuffer`
    over the region itself: no copy on the sending side, and none in transit
    where the transport takes out-of-band buffers (``buffer_callback``,
    multiprocessing with protocol 5, Dask); the receiver copies them once into
    memory it owns.
    """
    import pickle

    from ffikit.errors import NotPicklable

    state = mem._ffikit_state
    if state.freed:
        raise NotPicklable("cannot pickle this ffikit.Memory: it was freed (use after free)")
    if state.protection != "rw":
        raise NotPicklable(
            f"cannot pickle this ffikit.Memory: its pages are protected {state.protection!r}, "
            "so reading them may fault and the copy could not keep the protection; "
            "call protect('rw') first, or pickle bytes(m.region()) yourself")
    data = mem._region()
    payload = pickle.PickleBuffer(data) if protocol >= 5 else data.tobytes()
    return (_rebuild_memory, (state.item, state.count, payload))


def _rebuild_memory(item: type, count: int, data) -> Memory:
    """Unpickle a :class:`Memory`: new owned memory holding a copy of ``data``."""
    mem = alloc(item, count)
    source = memoryview(data).cast("B")
    region = mem._region()
    region[:] = source
    region.release()
    return mem


class _State:
    __slots__ = ("base", "address", "size", "item", "count", "freed", "protection")

    def __init__(self, base, address, size, item, count):
        self.base, self.address, self.size = base, address, size
        self.item, self.count = item, count
        self.freed = False
        self.protection = "rw"


def round_up(value: int, align: int) -> int:
    return (value + align - 1) // align * align


def alloc(ctype: Any, count: int = 1, *, zero: bool = True, align: int | None = None,
          pages: bool = False, guard: bool = False, guard_before: bool = False,
          defs=None) -> Memory:
    """Allocate native memory for ``count`` items of ``ctype``, owned by the result.

    Parameters
    ----------
    ctype
        Item type: C text (``"double"``, ``"Student"`` with ``defs``), ctypes or model type.
    count
        Number of items.
    zero
        Memory is always zero-filled (fresh anonymous pages); kept for API symmetry.
    align
        Required alignment in bytes (a power of two).  Memory is page-aligned,
        so anything up to the page size is free.
    pages
        Whole pages for this region, so :meth:`Memory.protect` affects nothing
        else.  (Every ``alloc`` is page-backed today; the flag documents intent.)
    guard, guard_before
        An inaccessible page right after (and before) the region, which ends
        exactly at the guard page: a C overflow by one byte faults at the bad
        write (and ``faulthandler`` shows where).

    Returns
    -------
    Memory
        Freed by ``free()``, at the end of a ``with`` block, or at garbage
        collection, whichever comes first.
    """
    spec = _spec(ctype, defs)
    if spec.count is None:
        raise ValueError("ffikit.alloc: give an item type and count=, not an open array 'T[]'")
    if count < 1:
        raise ValueError(f"ffikit.alloc: count must be >= 1, got {count}")
    if align is not None and (align < 1 or align & (align - 1)):
        raise ValueError(f"ffikit.alloc: align must be a power of two, got {align}")
    size = spec.item_size * count
    mem = Memory(size, spec.item, count, align=max(align or 1, spec.align), guard=guard,
                 guard_before=guard_before)
    if tracking.ACTIVE:
        tracking.record("alloc", mem, size, mem.address)
    return mem


# --- adopted memory -------------------------------------------------------------------------------

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

    __slots__ = ("_address", "size", "ctype", "_count", "_finalizer", "_view", "__weakref__")

    def __init__(self, address: int, size: int | None, deallocate: Callable, item: type | None,
                 count: int):
        self._address = address
        self.size = size
        self.ctype = item
        self._count = count
        self._view = None
        self._finalizer = weakref.finalize(self, _call_free, deallocate, address)

    @property
    def address(self) -> int:
        if not self._finalizer.alive:
            raise released("this adopted memory")
        return self._address

    @property
    def freed(self) -> bool:
        return not self._finalizer.alive

    @property
    def view(self):
        """A typed ctypes view (needs ``ctype=`` at adoption)."""
        if self.ctype is None:
            raise TypeError("adopt(..., ctype=...) was not given, so there is no typed view; "
                            "use ffikit.buffer(m.address, m.size) for bytes")
        address = self.address
        if self._view is None:
            vtype = self.ctype if self._count == 1 else self.ctype * self._count
            self._view = vtype.from_address(address)
            self._view.__dict__["_ffikit_source"] = self
        return self._view

    def buffer(self) -> memoryview:
        """A memoryview (format 'B') of the adopted bytes; it keeps this object alive."""
        from ffikit.memory.views import buffer

        if self.size is None:
            raise TypeError("adopt(..., size=...) was not given, so the length is unknown")
        return buffer(self.address, self.size, owner=self)

    def free(self) -> None:
        """Release the memory now with its deallocator (a no-op the second time)."""
        self._view = None
        if self._finalizer.alive:
            self._finalizer()
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
    if hasattr(deallocate, "cfunc") or isinstance(deallocate, ctypes._CFuncPtr):
        deallocate(ctypes.c_void_p(address))
    else:
        deallocate(address)


def adopt(address_or_pointer: Any, size: int | None = None, *, free: Any, ctype: Any = None,
          count: int = 1, defs=None) -> Adopted:
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
    """
    from ffikit.memory.views import address as address_of

    addr = address_of(address_or_pointer)
    if not addr:
        raise ValueError("ffikit.adopt: the pointer is NULL; there is nothing to own")
    if isinstance(free, str):
        if free != "libc":
            raise ValueError(f"ffikit.adopt: free must be a callable or 'libc', not {free!r}")
        free = _libc_free()
    if not callable(free):
        raise TypeError(f"ffikit.adopt: free must be callable, got {type(free).__name__}")
    item = _spec(ctype, defs).item if ctype is not None else None
    if size is None and item is not None:
        size = ctypes.sizeof(item) * count
    mem = Adopted(addr, size, free, item, count)
    if tracking.ACTIVE:
        tracking.record("adopt", mem, size or 0, addr)
    return mem
