"""Native memory with an owner and a lifetime: alloc, adopt, arenas, pools, page protection.

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
import threading
import weakref
from collections.abc import Callable
from typing import Any

from . import _pages, tracking
from .buffers import _readonly_type, _spec, _spec_cache
from .errors import MemoryReleased, ReadOnlyBuffer

__all__ = ["Memory", "Adopted", "Block", "Arena", "Pool", "alloc", "adopt"]

PAGE = mmap.PAGESIZE


def _released(what: str) -> MemoryReleased:
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
            mapped = lead + _round_up(span, PAGE)
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
            raise _released("this ffikit.Memory")
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
            raise _released("this ffikit.Memory")
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
            raise _released("this ffikit.Memory")
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
            raise _released("this ffikit.Memory")
        if mode not in ("r", "rw", "rx", "none"):
            raise ValueError(f"protect: mode must be 'r', 'rw', 'rx' or 'none', not {mode!r}")
        start = state.address - (state.address - state.base) % PAGE
        length = _round_up(state.address + state.size, PAGE) - start
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

    def __reduce__(self):
        raise TypeError("ffikit.Memory cannot be pickled: it is this process's native memory")


class _State:
    __slots__ = ("base", "address", "size", "item", "count", "freed", "protection")

    def __init__(self, base, address, size, item, count):
        self.base, self.address, self.size = base, address, size
        self.item, self.count = item, count
        self.freed = False
        self.protection = "rw"


def _round_up(value: int, align: int) -> int:
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
            raise _released("this adopted memory")
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
        from .buffers import buffer

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
    from .buffers import address as address_of

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


# --- arenas and pools ------------------------------------------------------------------------------

class Block:
    """A piece of an :class:`Arena` or :class:`Pool`: a real address C can use."""

    __slots__ = ("_owner", "_generation", "address_", "size", "ctype", "count", "__weakref__")

    def __init__(self, owner, generation: int, address: int, size: int, item: type | None,
                 count: int = 1):
        self._owner = owner
        self._generation = generation
        self.address_ = address
        self.size = size
        self.ctype = item
        self.count = count

    @property
    def address(self) -> int:
        if self._generation != self._owner._generation:
            raise _released(f"this block of {type(self._owner).__name__}")
        return self.address_

    @property
    def view(self):
        """A typed ctypes view (bytes when no type was given); an export of the owner's
        memory, so ``reset()``/``close()`` are refused while it lives."""
        address = self.address
        if self.ctype is None:
            vtype = ctypes.c_ubyte * self.size
        else:
            vtype = self.ctype if self.count == 1 else self.ctype * self.count
        result = vtype.from_address(address)
        start = address - self._owner._base
        result.__dict__["_ffikit_source"] = memoryview(self._owner._memory)[
            start:start + ctypes.sizeof(vtype)]
        return result

    def __repr__(self) -> str:
        return f"<ffikit.Block {self.size} bytes at {self.address_:#x}>"


class Arena:
    """A bump allocator inside one block of native memory.

    ``alloc`` hands out aligned pieces in O(1); ``reset`` frees them all at
    once.  Blocks share the arena's lifetime and refuse use after a reset.

    Attributes
    ----------
    capacity, used, high_water : int
        Bytes in the arena, in use now, and the most ever in use.
    """

    def __init__(self, capacity: int, *, align: int = 16):
        if capacity < 1:
            raise ValueError(f"Arena: capacity must be >= 1, got {capacity}")
        self._memory = Memory(capacity, ctypes.c_ubyte, capacity)
        self._base = self._memory.address
        self.capacity = capacity
        self.align = align
        self.used = 0
        self.high_water = 0
        self._generation = 0
        self._lock = threading.Lock()
        if tracking.ACTIVE:
            tracking.record("arena", self, capacity, self._base)

    def alloc(self, ctype: Any = None, count: int = 1, *, defs=None) -> Block:
        """``count`` items of ``ctype`` (or ``count`` bytes when ``ctype`` is None)."""
        if self._memory.freed:
            raise _released("this Arena")
        if ctype is None:
            item, size, align = None, count, self.align
        elif type(ctype) is str and defs is None and ctype in _spec_cache:
            spec = _spec_cache[ctype]
            item, size, align = spec.item, spec.item_size * count, max(spec.align, self.align)
        else:
            spec = _spec(ctype, defs)
            item, size, align = spec.item, spec.item_size * count, max(spec.align, self.align)
        lock = self._lock
        lock.acquire()  # (not 'with': the context manager doubles the cost of a bump)
        start = (self.used + align - 1) & -align
        end = start + size
        if end > self.capacity:
            lock.release()
            raise MemoryError(
                f"Arena: {size} bytes do not fit ({self.capacity - self.used} of "
                f"{self.capacity} free); reset() it or make a bigger Arena")
        self.used = end
        if end > self.high_water:
            self.high_water = end
        lock.release()
        block = Block(self, self._generation, self._base + start, size, item, count)
        if tracking.ACTIVE:
            tracking.record("arena block", block, size, self._base + start)
        return block

    def reset(self) -> None:
        """Free every block at once; old blocks raise MemoryReleased from now on.

        Raises ``BufferError`` while views of the arena's memory are exported.
        """
        if self._memory.freed:
            raise _released("this Arena")
        try:
            self._memory.free()
        except BufferError:
            raise BufferError("Arena.reset: views of its memory are still alive; delete them "
                              "first") from None
        self._memory = Memory(self.capacity, ctypes.c_ubyte, self.capacity)
        self._base = self._memory.address
        self._generation += 1
        self.used = 0

    def close(self) -> None:
        """Free the arena's memory for good (refused while views are exported)."""
        if not self._memory.freed:
            self._memory.free()
            self._generation += 1
            if tracking.ACTIVE:
                tracking.forget(self)

    def __enter__(self) -> Arena:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<ffikit.Arena {self.used}/{self.capacity} bytes, high water {self.high_water}>"


class Pool:
    """Fixed-size blocks with a free list: O(1) alloc/release, no fragmentation growth.

    Attributes
    ----------
    in_use, high_water : int
        Blocks handed out now, and the most ever at once.
    fragmentation : float
        Share of the pool's free blocks that are *not* in the largest run of
        adjacent free blocks: 0.0 when the free space is one contiguous run,
        approaching 1.0 when it is scattered.  (Fixed-size blocks never fail for
        lack of contiguity; the number shows how scattered live blocks are.)
    """

    def __init__(self, block_size: int, blocks: int):
        if block_size < 1 or blocks < 1:
            raise ValueError(f"Pool: block_size and blocks must be >= 1, got {block_size}, "
                             f"{blocks}")
        self.block_size = _round_up(block_size, 16)
        self.blocks = blocks
        self._memory = Memory(self.block_size * blocks, ctypes.c_ubyte, self.block_size * blocks)
        self._base = self._memory.address
        self._free = list(range(blocks - 1, -1, -1))
        self._live: dict[int, Block] = {}
        self.in_use = 0
        self.high_water = 0
        self._generation = 0
        self._lock = threading.Lock()
        if tracking.ACTIVE:
            tracking.record("pool", self, self.block_size * blocks, self._base)

    def alloc(self, ctype: Any = None, *, defs=None) -> Block:
        """One block (typed as ``ctype`` if given; it must fit in ``block_size``)."""
        item = None
        if ctype is not None:
            spec = _spec(ctype, defs)
            item = spec.item
            if spec.item_size > self.block_size:
                raise ValueError(f"Pool.alloc: '{spec.text}' is {spec.item_size} bytes, blocks "
                                 f"are {self.block_size}")
        if self._memory.freed:
            raise _released("this Pool")
        lock = self._lock
        lock.acquire()
        if not self._free:
            lock.release()
            raise MemoryError(f"Pool: all {self.blocks} blocks are in use; release() some "
                              "or make a bigger Pool")
        index = self._free.pop()
        self.in_use += 1
        if self.in_use > self.high_water:
            self.high_water = self.in_use
        lock.release()
        block = Block(self, self._generation, self._base + index * self.block_size,
                      self.block_size, item)
        self._live[index] = block
        if tracking.ACTIVE:
            tracking.record("pool block", block, self.block_size, block.address_)
        return block

    def release(self, block: Block) -> None:
        """Give a block back (it raises MemoryReleased afterwards)."""
        if block._owner is not self:
            raise ValueError("Pool.release: this block belongs to another pool or arena")
        index = (block.address_ - self._base) // self.block_size
        with self._lock:
            if self._live.get(index) is not block:
                raise ValueError("Pool.release: block already released")
            del self._live[index]
            self._free.append(index)
            self.in_use -= 1
        block._generation = -1
        if tracking.ACTIVE:
            tracking.forget(block)

    @property
    def fragmentation(self) -> float:
        free = self.blocks - self.in_use
        if free == 0:
            return 0.0
        occupied = sorted(self._live)
        longest, previous = 0, -1
        for index in occupied + [self.blocks]:
            longest = max(longest, index - previous - 1)
            previous = index
        return 1.0 - longest / free

    def close(self) -> None:
        """Free the pool's memory; every block raises MemoryReleased afterwards."""
        if not self._memory.freed:
            self._memory.free()
            self._generation += 1
            self._live.clear()
            if tracking.ACTIVE:
                tracking.forget(self)

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"<ffikit.Pool {self.in_use}/{self.blocks} blocks of {self.block_size} bytes, "
                f"high water {self.high_water}>")
