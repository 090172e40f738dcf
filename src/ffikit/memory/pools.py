"""Many small blocks from one piece of native memory: a bump :class:`Arena` and a fixed-size :class:`Pool`.

Both carve one :class:`~ffikit.memory.owned.Memory`; their blocks carry a
generation, so a block used after ``reset()``/``release()`` raises
:class:`ffikit.MemoryReleased` instead of touching memory someone else owns.

One rule for every allocator: nothing is given back while a view of it is
alive.  ``Arena.reset``/``close`` and ``Pool.close`` wait for every view of
their memory; ``Pool.release(block)`` for the views of that block, which are
exports of the block's own region (a ``memoryview`` that counts them).
"""

from __future__ import annotations

import ctypes
import pickle

from ffikit import forksafe
from ffikit.backends.ctypes.pybuffer import memoryview_address
from ffikit.cdecl.declarations import Declarations
from ffikit.errors import InvalidValue, MemoryInUse, OutOfMemory
from ffikit.memory import tracking
from ffikit.memory.owned import allocate
from ffikit.memory.pages import round_up
from ffikit.memory.typed_exports import exporting_type
from ffikit.memory.views import _SOURCE, _spec, _spec_cache
from ffikit.rules.counts import released, whole

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_BYTE = _spec(ctypes.c_ubyte)

__all__ = ["Block", "Arena", "Pool"]


class Block:
    """A piece of an :class:`Arena` or :class:`Pool`: a real address C can use."""

    __slots__ = ("_owner", "_generation", "address_", "size", "ctype", "count", "_region",
                 "__weakref__")

    def __init__(self, owner, generation: int, address: int, size: int, item: type | None,
                 count: int = 1):
        self._owner = owner
        self._generation = generation
        self.address_ = address
        self.size = size
        self.ctype = item
        self.count = count
        # Pool blocks: the memoryview whose exports are this block's views
        self._region: memoryview | None = None

    @property
    def address(self) -> int:
        if self._generation != self._owner._generation:
            raise released(f"this block of {type(self._owner).__name__}")
        return self.address_

    @property
    def view(self):
        """A typed ctypes view (bytes when no type was given); an export of the owner's
        memory, so ``reset()``/``close()`` (and ``Pool.release`` of this block) are
        refused while it lives."""
        if self.ctype is None:
            vtype = exporting_type(ctypes.c_ubyte * self.size)
        else:
            vtype = exporting_type(self.ctype if self.count == 1 else self.ctype * self.count)
        source = self._owner._export(self, ctypes.sizeof(vtype))
        result = vtype.from_address(memoryview_address(source))  # exactly what is held
        result.__dict__[_SOURCE] = source
        return result

    def _check(self) -> None:
        """MemoryReleased unless the block is still its owner's (call with its lock)."""
        if self._generation != self._owner._generation:
            raise released(f"this block of {type(self._owner).__name__}")

    def _take_back(self, refusal: str) -> None:
        """Stop exporting the block (call with its owner's lock); MemoryInUse while a view
        of it is alive."""
        if self._region is not None:
            try:
                self._region.release()
            except BufferError:
                raise MemoryInUse(refusal) from None
            self._region = None

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
        capacity = whole(capacity, "Arena", "capacity", 1)
        align = whole(align, "Arena", "align", 1)
        if align & (align - 1):
            raise InvalidValue(f"Arena: align must be a power of two, got {align}")
        self._memory = allocate(_BYTE, capacity, align)
        self._base = self._memory.address
        self.capacity = capacity
        self.align = align
        self.used = 0
        self.high_water = 0
        self._generation = 0
        self._lock = forksafe.Lock()
        if tracking.ACTIVE:
            tracking.record("arena", self, capacity, self._base)

    def alloc(self, ctype: Any = None, count: int = 1, *, defs: Declarations | None = None) -> Block:
        """``count`` items of ``ctype`` (or ``count`` bytes when ``ctype`` is None)."""
        if self._memory.freed:
            raise released("this Arena")
        if type(count) is not int or count < 0:
            count = whole(count, "Arena.alloc", "count")
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
        try:
            start = (self.used + align - 1) & -align
            end = start + size
            if end > self.capacity:
                raise OutOfMemory(
                    f"Arena: {size} bytes do not fit ({self.capacity - self.used} of "
                    f"{self.capacity} free); reset() it or make a bigger Arena")
            self.used = end
            if end > self.high_water:
                self.high_water = end
            generation, address = self._generation, self._base + start  # of this memory
        finally:
            lock.release()
        block = Block(self, generation, address, size, item, count)
        if tracking.ACTIVE:
            tracking.record("arena block", block, size, address)
        return block

    def _export(self, block: Block, size: int) -> memoryview:
        with self._lock:  # not while reset() exchanges the memory
            block._check()
            start = block.address_ - self._base
            return memoryview(self._memory)[start:start + size]

    def reset(self) -> None:
        """Free every block at once; old blocks raise MemoryReleased from now on.

        Raises MemoryInUse while views of the arena's memory are alive.
        """
        with self._lock:
            if self._memory.freed:
                raise released("this Arena")
            _free(self._memory, "Arena.reset")
            self._memory = allocate(_BYTE, self.capacity, self.align)
            self._base = self._memory.address
            self._generation += 1
            self.used = 0

    def close(self) -> None:
        """Free the arena's memory for good (refused while views are alive)."""
        with self._lock:
            if not self._memory.freed:
                _free(self._memory, "Arena.close")
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
        block_size = whole(block_size, "Pool", "block_size", 1)
        blocks = whole(blocks, "Pool", "blocks", 1)
        self.block_size = round_up(block_size, 16)
        self.blocks = blocks
        self._memory = allocate(_BYTE, self.block_size * blocks, 16)
        self._base = self._memory.address
        self._free = list(range(blocks - 1, -1, -1))
        self._live: dict[int, Block] = {}
        self.in_use = 0
        self.high_water = 0
        self._generation = 0
        self._lock = forksafe.Lock()
        if tracking.ACTIVE:
            tracking.record("pool", self, self.block_size * blocks, self._base)

    def alloc(self, ctype: Any = None, *, defs: Declarations | None = None) -> Block:
        """One block (typed as ``ctype`` if given; it must fit in ``block_size``)."""
        item = None
        if ctype is not None:
            spec = _spec(ctype, defs)
            item = spec.item
            if spec.item_size > self.block_size:
                raise InvalidValue(f"Pool.alloc: '{spec.text}' is {spec.item_size} bytes, "
                                   f"blocks are {self.block_size}")
        if self._memory.freed:
            raise released("this Pool")
        lock = self._lock
        lock.acquire()
        try:
            if not self._free:
                raise OutOfMemory(f"Pool: all {self.blocks} blocks are in use; release() some "
                                  "or make a bigger Pool")
            index = self._free.pop()
            self.in_use += 1
            if self.in_use > self.high_water:
                self.high_water = self.in_use
        finally:
            lock.release()
        block = Block(self, self._generation, self._base + index * self.block_size,
                      self.block_size, item)
        self._live[index] = block
        if tracking.ACTIVE:
            tracking.record("pool block", block, self.block_size, block.address_)
        return block

    def _export(self, block: Block, size: int) -> memoryview:
        with self._lock:  # not while release()/close() take it back
            block._check()
            region = block._region
            if region is None:
                start = block.address_ - self._base
                region = block._region = memoryview(self._memory)[start:start + self.block_size]
            # An export of the block's own region, so release() can count them.
            return memoryview(pickle.PickleBuffer(region))[:size]

    def release(self, block: Block) -> None:
        """Give a block back (it raises MemoryReleased afterwards).

        Raises MemoryInUse while a view of the block is alive, and
        MemoryReleased for a block already given back.
        """
        if not isinstance(block, Block) or block._owner is not self:
            raise InvalidValue("Pool.release: this block belongs to another pool or arena")
        index = (block.address_ - self._base) // self.block_size
        with self._lock:
            if self._live.get(index) is not block:
                raise released("this block of Pool (Pool.release: block already released)")
            block._take_back("Pool.release: views of this block are still alive; delete them "
                             "first — nothing was released")
            block._generation = -1  # before the lock goes: no view of it from now on
            del self._live[index]
            self._free.append(index)
            self.in_use -= 1
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
        """Free the pool's memory; every block raises MemoryReleased afterwards.

        Raises MemoryInUse while a view of any block is alive.
        """
        with self._lock:
            if self._memory.freed:
                return
            for block in self._live.values():
                block._take_back("Pool.close: views of its blocks are still alive; delete "
                                 "them first — nothing was freed")
            _free(self._memory, "Pool.close")
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


def _free(memory, who: str) -> None:
    try:
        memory.free()
    except MemoryInUse:
        raise MemoryInUse(f"{who}: views of its memory are still alive; delete them first — "
                          "nothing was freed") from None
