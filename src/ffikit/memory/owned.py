"""Native memory with an owner and a lifetime: ``alloc`` and page protection.

Design
------
:class:`Memory` is its own buffer object.  It inherits
:class:`~ffikit.memory.exporter.Exporter`, which forwards every export
(``memoryview(m)``, NumPy, ``ffikit.view``, a C call) to one *target* that
ffikit chooses, so each of them sees exactly the region — never a guard
page, never alignment padding — and is counted:

* heap memory (the default, ``malloc``-cheap): the target is a ``bytearray``
  of exactly the region.  ``free()`` empties it, which CPython refuses while
  any export is alive.
* page memory (``pages=True``, ``guard=True``, ``guard_before=True``, and
  requests too big or too aligned for the heap): an anonymous ``mmap``; the
  target is a ``memoryview`` of the region inside it, read-only while the
  pages are protected ``"r"``/``"rx"``, and none at all while ``"none"``.

Protection follows one rule, the one ``free()`` has always had:
:meth:`Memory.protect` is refused while any export is alive, and the target
is exchanged before the pages change.  So an export taken before
``protect()`` can never meet protected pages, and one asked for afterwards
is read-only (``"r"``) or refused (``"none"``).  Python never faults on
ffikit memory; C still does when it writes past a guard or into protected
pages, which is what they are for.

Ownership: ``alloc`` memory is freed by ``free()``, by leaving its ``with``
block, or when the object is garbage-collected — whichever comes first.
Many small blocks belong in an :class:`~ffikit.Arena` or :class:`~ffikit.Pool`.
"""

from __future__ import annotations

import ctypes
from typing import Any

from ffikit.backends.ctypes.pybuffer import memoryview_address
from ffikit.errors import (
    ArgumentError,
    BufferTooSmall,
    InvalidValue,
    MemoryInUse,
    OutOfMemory,
    ProtectedMemory,
)
from ffikit.memory import tracking
from ffikit.memory.exporter import LOCK, Exporter, hold, hold_refusal, release
from ffikit.memory.memory_pickle import reduce_memory
from ffikit.memory.pages import Pages
from ffikit.memory.typed_exports import export_format, exported_as_items, exporting_type
from ffikit.memory.views import _SOURCE, Declarations, _readonly_type, _Spec, _spec, _spec_cache
from ffikit.rules.counts import released, whole

__all__ = ["Memory", "PagedMemory", "alloc", "allocate", "HEAP_MAX", "HEAP_FAST"]

HEAP_ALIGN = 16 if ctypes.sizeof(ctypes.c_void_p) == 8 else 8  # what PyObject_Malloc gives
HEAP_MAX = 1 << 17  # above this, fresh pages (zeroed lazily by the kernel), as malloc does
_MODES = ("rw", "r", "rx", "none")
_CASTABLE = frozenset("bBhHiIlLqQfd?P")  # simple ctypes items memoryview.cast takes
_HEAP_SPECS: dict = {}  # item type -> its _Spec, for types whose memory may come from the heap
HEAP_FAST: dict = {}  # the same item types -> (_Spec, item size, memoryview(m)'s format or None)
_IN_USE = ("views of this memory are still alive (a memoryview, .view object or NumPy array); "
           "delete them first — nothing was {}")


# While memory is protected "none" its exporter holds this non-buffer, so CPython
# refuses every export of it, naming this type.
_NoAccess = type("ffikit.Memory protected 'none' (call m.protect('r') to read it)", (),
                 {"__slots__": ()})
_NO_ACCESS = _NoAccess()


class Memory(Exporter):
    """Owned, zeroed native memory; ``memoryview(m)`` and C calls take it zero-copy.

    Every way to its bytes — ``memoryview(m)``, ``m[i]``, ``bytes(m)``,
    ``m.view``, ``ffikit.view``/``asarray``, passing ``m`` to C — sees exactly
    the region, and honours :meth:`protect`.

    Attributes
    ----------
    address : int
        Where the region starts (raises MemoryReleased after ``free()``).
    size : int
        Bytes in the region.
    ctype : type
        The ctypes type of one item.
    protection : str
        ``"rw"``, ``"r"``, ``"rx"``, ``"none"``, or ``"freed"``.
    view
        A typed ctypes object over the region (``ctype * count``).
    """

    # Heap memory needs only these slots; PagedMemory adds the rest, which heap
    # memory reads from the class (each store left out makes alloc() cheaper).
    __slots__ = ("_target", "_spec", "_size", "__weakref__")
    _target: Any  # what exports forward to: a bytearray, a memoryview of pages, or None
    _spec: _Spec  # the item type
    _size: int
    _mode: str = "rw"  # protection
    _pages: Pages | None = None  # where page memory lives
    _address: int = 0  # page memory's start; heap memory asks its bytearray
    _typed: Any = None  # page memory: the typed memoryview its exports go through

    # --- properties ------------------------------------------------------------
    @property
    def address(self) -> int:
        address = self._address
        if address and self._mode != "freed":
            return address
        target = self._target
        if target is None or address:
            raise released("this ffikit.Memory")
        return memoryview_address(memoryview(target))  # the bytearray never moves

    @property
    def size(self) -> int:
        return self._size

    @property
    def ctype(self) -> type:
        return self._spec.item

    @property
    def freed(self) -> bool:
        return self.protection == "freed"

    @property
    def protection(self) -> str:
        mode = self._mode
        return "freed" if mode == "rw" and self._target is None else mode

    def __len__(self) -> int:
        return self._size

    def _unusable(self) -> Exception:
        if self._mode == "none":
            return ProtectedMemory("this ffikit.Memory is protected 'none': Python can neither "
                                   "read nor write it; call protect('r') or protect('rw') first")
        return released("this ffikit.Memory")

    def region(self) -> memoryview:
        """A memoryview (format 'B') of exactly the region, read-only while protected
        ``"r"``/``"rx"``.  It is an export: ``free()`` and ``protect()`` wait for it."""
        mv = self._exports()
        return mv if mv.format == "B" else mv.cast("B")

    def _exports(self) -> memoryview:
        """``memoryview(self)``, typed as :func:`_exported` makes it, of exactly the region."""
        target = self._target
        if target is None:
            raise self._unusable()
        try:
            mv = memoryview(self)
        except (ValueError, TypeError):  # another thread's protect()/free() is under way
            with LOCK:
                target = self._target
                if target is None:
                    raise self._unusable() from None
                hold(self, exported_as_items(target, self._spec))  # (a failed free() may not have
                mv = memoryview(self)                      # taken it back yet)
        if mv.nbytes != self._size:  # a heap block emptied by a racing free()
            raise released("this ffikit.Memory")
        return mv

    def _lost(self, target) -> bool:
        """Did another thread's protect()/free() take ``target`` away meanwhile?"""
        with LOCK:  # wait for it to finish
            return self._target is not target or len(target) != self._size

    def __ffikit_region__(self) -> memoryview:
        """The region as ffikit.view / asarray / C calls see it: typed as its items."""
        mv = self._exports()
        if mv.format != "B":
            return mv  # already typed
        code = getattr(self._spec.item, "_type_", None)  # alloc("char") -> 'c'...
        return mv.cast(code) if code in _CASTABLE else mv

    @property
    def view(self):
        """A typed ctypes view of the region (read-only while protected read-only).

        Each access makes a new view; a view holds an export, so ``free()`` and
        ``protect()`` are refused while one is alive.
        """
        mv = self.region()
        spec = self._spec
        count = self._size // spec.item_size if spec.item_size else 1
        vtype = exporting_type(spec.item if count == 1 else spec.item * count)
        if mv.readonly:
            vtype = _readonly_type(vtype, protected=True)
        result = vtype.from_address(memoryview_address(mv))
        result.__dict__[_SOURCE] = mv
        return result

    # --- bytes, bounded to the region -------------------------------------------
    # One item, or bytes(m), is a single C call on the target.  A slice goes
    # through region(): a view made from the target itself (a memoryview, for page
    # memory) would not count as its export, and protect() could change the pages
    # under it.  When another thread's protect()/free() takes the target away
    # meanwhile, CPython's error becomes the reason (ProtectedMemory, MemoryReleased).
    def __getitem__(self, index):
        target = self._target
        if target is None:
            raise self._unusable()
        if type(index) is slice:  # a copy, as mmap gave
            return bytes(self.region()[index])
        try:
            return target[index]
        except (ValueError, IndexError):
            if self._lost(target):
                raise self._unusable() from None
            raise

    def __setitem__(self, index, value) -> None:
        target = self._target
        if target is None or self._mode != "rw":
            raise self._unwritable()
        if type(index) is slice:
            window = self.region()[index]  # a fixed window: the region never resizes
            if window.readonly:
                raise self._unwritable()
            try:
                data = memoryview(value).cast("B")
            except TypeError:
                raise ArgumentError(f"ffikit.Memory: a slice takes a bytes-like object, not "
                                    f"{type(value).__name__}") from None
            if data.nbytes != window.nbytes:
                raise BufferTooSmall(f"ffikit.Memory: {data.nbytes} bytes given for a slice of "
                                     f"{window.nbytes}; native memory never changes size")
            window[:] = data
            return
        try:
            target[index] = value
        except (ValueError, TypeError, IndexError) as exc:
            if self._lost(target):
                raise self._unusable() from None
            if isinstance(exc, IndexError):
                raise
            raise ArgumentError(f"ffikit.Memory[{index!r}] = {value!r:.40}: an item is an "
                                "int 0..255") from None

    def _unwritable(self) -> Exception:
        if self._mode in ("r", "rx"):
            return ProtectedMemory(f"this ffikit.Memory is protected {self._mode!r}; call "
                                   "protect('rw') before writing")
        return self._unusable()

    def __bytes__(self) -> bytes:
        target = self._target
        if target is None:
            raise self._unusable()
        try:
            data = bytes(target)
        except ValueError:
            data = b""
        if len(data) != self._size and self._lost(target):
            raise self._unusable()
        return data

    # --- lifetime --------------------------------------------------------------
    def free(self) -> None:
        """Release the memory now.  A second call does nothing.

        Raises
        ------
        MemoryInUse
            While a memoryview, typed view or NumPy array of it is alive:
            nothing is freed under a live export.
        """
        target = self._target
        if self._pages is None:  # heap: the common, lock-free case
            if target is None:
                return
            release(self)
            try:
                target.clear()  # refused while an export is alive
            except BufferError:
                with LOCK:
                    hold(self, exported_as_items(target, self._spec))
                raise MemoryInUse("ffikit.Memory.free: " + _IN_USE.format("freed")) from None
            self._target = None
            if tracking.ACTIVE:
                tracking.forget(self)
            return
        with LOCK:
            assert isinstance(self, PagedMemory)  # (heap memory returned above)
            if self._mode == "freed":
                return
            self._stop_exporting("ffikit.Memory.free: " + _IN_USE.format("freed"))
            self._pages.mapping.close()
            self._mode = "freed"
        if tracking.ACTIVE:
            tracking.forget(self)

    close = free

    def _stop_exporting(self, refusal: str) -> None:
        """Take back the target (with LOCK held); MemoryInUse while exports of it live."""
        assert isinstance(self, PagedMemory)  # (heap memory never gets here)
        target, typed = self._target, self._typed
        release(self)
        try:
            if typed is not None:  # the typed view exports go through, then the target
                typed.release()
            if target is not None:
                target.release()
        except BufferError:
            self._typed = typed = exported_as_items(target, self._spec)
            hold(self, typed)
            raise MemoryInUse(refusal) from None
        self._target = self._typed = None

    def __enter__(self) -> Memory:
        return self

    def __exit__(self, *exc) -> None:
        self.free()

    # --- protection --------------------------------------------------------------
    def protect(self, mode: str) -> None:
        """Set page protection: ``"r"``, ``"rw"``, ``"rx"`` or ``"none"``.

        ``mprotect`` on POSIX, ``VirtualProtect`` on Windows.  C writes to
        read-only memory fault.  From Python, reading ``"none"`` memory or
        writing ``"r"`` memory raises :class:`ffikit.ProtectedMemory` (CPython's
        own ``memoryview(m)`` is read-only, or refused, instead).

        Raises
        ------
        MemoryInUse
            While an export (memoryview, view, NumPy array) is alive: it was
            taken under the old protection and would fault under the new one.
        InvalidValue
            For memory not allocated with ``pages=True`` (or a guard): only
            then does the region own its pages.
        """
        if mode not in _MODES:
            raise InvalidValue(f"protect: mode must be 'r', 'rw', 'rx' or 'none', not {mode!r}")
        pages = self._pages
        if pages is None or not pages.protectable:
            if self.freed:
                raise released("this ffikit.Memory")
            raise InvalidValue("protect() needs memory that owns its pages: allocate it with "
                               "ffikit.alloc(..., pages=True)")
        with LOCK:
            if self._mode == "freed":
                raise released("this ffikit.Memory")
            if mode == self._mode:
                return
            old = self._mode
            self._stop_exporting("ffikit.Memory.protect: " + _IN_USE.format("changed"))
            try:
                pages.protect(mode)
            except OSError:
                self._export(old)
                raise
            self._export(mode)

    def _export(self, mode: str) -> None:
        assert isinstance(self, PagedMemory) and self._pages is not None  # (page memory only)
        target = self._pages.target(self._size, mode)
        if target is None:
            hold_refusal(self, _NO_ACCESS)
        else:
            typed = exported_as_items(target, self._spec)
            hold(self, typed)
            self._typed = typed if typed is not target else None
        self._target = target
        self._mode = mode

    def __repr__(self) -> str:
        if self.freed:
            return "<ffikit.Memory freed>"
        protection = "" if self._mode == "rw" else " " + self._mode
        return (f"<ffikit.Memory {self._size} bytes of {self._spec.item.__name__} at "
                f"{self.address:#x}{protection}>")

    def __reduce_ex__(self, protocol):
        """Pickle by value: item type, count and the bytes (out of band with protocol 5)."""
        return reduce_memory(self, protocol, _rebuild_memory)

    def __reduce__(self):
        return reduce_memory(self, 2, _rebuild_memory)


def _rebuild_memory(item: type, count: int, data: Any) -> Memory:
    """Unpickle a :class:`Memory`: new owned memory holding a copy of ``data``."""
    mem = alloc(item, count)
    region = mem.region()
    region[:] = memoryview(data).cast("B")
    region.release()
    return mem


class PagedMemory(Memory):
    """:class:`Memory` in pages of its own (``alloc(..., pages=True)``, guards, big
    or over-aligned requests): an anonymous mapping, which ``protect()`` may change."""

    __slots__ = ("_mode", "_pages", "_address", "_typed")


def allocate(spec, count: int, align: int = 1, *, pages: bool = False, guard: bool = False,
             guard_before: bool = False) -> Memory:
    """A :class:`Memory` of ``count`` items of ``spec`` (untracked: callers record it)."""
    size = spec.item_size * count
    if not (pages or guard or guard_before) and size <= HEAP_MAX and align <= HEAP_ALIGN:
        try:
            target = bytearray(size)
        except MemoryError:
            raise OutOfMemory(f"ffikit: no memory for {size} bytes") from None
        mem = Memory(exported_as_items(target, spec))
        mem._target, mem._spec, mem._size = target, spec, size
        return mem
    place = Pages.map(size, align, guard=guard, guard_before=guard_before,
                      protectable=pages or guard or guard_before)
    region = place.target(size, "rw")
    typed = exported_as_items(region, spec)
    mem = PagedMemory(typed)
    mem._target, mem._spec, mem._size = region, spec, size
    mem._typed = typed if typed is not region else None
    mem._address, mem._mode, mem._pages = place.start, "rw", place
    return mem


def alloc(ctype: Any, count: int = 1, *, zero: bool = True, align: int | None = None,
          pages: bool = False, guard: bool = False, guard_before: bool = False,
          defs: Declarations | None = None) -> Memory:
    """Allocate native memory for ``count`` items of ``ctype``, owned by the result.

    Parameters
    ----------
    ctype
        Item type: C text (``"double"``, ``"Student"`` with ``defs``), ctypes or model type.
    count
        Number of items (an int >= 1).
    zero
        Memory is always zero-filled; kept for API symmetry.
    align
        Required alignment in bytes (a power of two); at least the item type's.
    pages
        Whole pages for this region (an anonymous mapping), so that
        :meth:`Memory.protect` may change them.  Without it, small requests
        come from the heap, as ``malloc`` would give them.
    guard, guard_before
        An inaccessible page right after (and before) the region, which ends
        exactly at the guard page: a C overflow by one byte faults at the bad
        write (and ``faulthandler`` shows where).  Implies ``pages``.

    Returns
    -------
    Memory
        Freed by ``free()``, at the end of a ``with`` block, or at garbage
        collection, whichever comes first.

    Raises
    ------
    ArgumentError, InvalidValue
        A count or alignment that is not an int, or out of range.
    OutOfMemory
        The system refused the memory.
    """
    try:
        heap = _HEAP_SPECS.get(ctype)
    except TypeError:  # unhashable: _spec() explains what it takes
        heap = None
    if (heap is not None and type(count) is int and 0 < count <= HEAP_MAX // heap.item_size
            and align is None and defs is None and not (pages or guard or guard_before)):
        # allocate()'s heap case, inlined: this is the path every plain alloc() takes
        size = heap.item_size * count
        try:
            target = bytearray(size)
        except MemoryError:
            raise OutOfMemory(f"ffikit.alloc: no memory for {size} bytes") from None
        mem = Memory(exported_as_items(target, heap))
        mem._target, mem._spec, mem._size = target, heap, size
        if tracking.ACTIVE:
            tracking.record("alloc", mem, size, mem.address)
        return mem
    spec = _spec(ctype, defs)
    if spec.count is None:
        raise InvalidValue("ffikit.alloc: give an item type and count=, not an open array 'T[]'")
    if type(count) is not int or count < 1:
        count = whole(count, "ffikit.alloc", "count", 1)
    if (defs is None and spec.align <= HEAP_ALIGN and spec.item_size
            and _spec_cache.get(ctype) is spec):  # only what _spec() itself caches
        _HEAP_SPECS[ctype] = spec
        HEAP_FAST[ctype] = (spec, spec.item_size, export_format(spec.item))  # fastmem.c's
    if align is None:
        align = spec.align
    else:
        align = whole(align, "ffikit.alloc", "align", 1)
        if align & (align - 1):
            raise InvalidValue(f"ffikit.alloc: align must be a power of two, got {align}")
        align = max(align, spec.align)
    mem = allocate(spec, count, align, pages=pages, guard=guard, guard_before=guard_before)
    if tracking.ACTIVE:
        tracking.record("alloc", mem, mem._size, mem.address)
    return mem
