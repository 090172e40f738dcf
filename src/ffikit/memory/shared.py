"""Typed views over named shared memory, for zero-copy work across processes.

A :class:`SharedBlock` wraps :class:`multiprocessing.shared_memory.SharedMemory`
and gives the block a C type: ``block.view`` is a ctypes object (an image,
an array of structs) that several processes see at once, with no pickling and
no copies.  The process that creates a block owns it: leaving its ``with``
block (or calling :meth:`SharedBlock.unlink`) removes the name; others only
close their mapping.

Outgrowing one machine: ``block.buf`` is a plain ``memoryview``, which
Arrow (``pyarrow.py_buffer(block.buf)``) and Ray-style object stores accept
without copying, so the same typed data can be handed to them.
"""

from __future__ import annotations

import ctypes
import errno
import sys
import weakref
from multiprocessing import shared_memory

from ffikit.backends.ctypes.classes import array_class
from ffikit.cdecl.declarations import Declarations
from ffikit.errors import (
    ArgumentError,
    BufferTooSmall,
    InvalidValue,
    MemoryInUse,
    OutOfMemory,
    SharedMemoryExists,
    SharedMemoryNotFound,
)
from ffikit.memory import tracking
from ffikit.memory.views import _spec, view

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["SharedBlock", "shared"]


class SharedBlock:
    """A named shared-memory block with a typed ctypes view.

    Attributes
    ----------
    name : str
        The system-wide name other processes attach with.
    view
        The ctypes object over the block (``ctype`` or ``ctype * count``).
    buf : memoryview
        The raw bytes (``format 'B'``), for NumPy, Arrow or ``ffikit.asarray``.
    size : int
        Bytes used by ``view`` (the block may be rounded up to a page).
    """

    _item_count: tuple[type, int]  # set by shared() (its pickle recipe); absent otherwise

    def __init__(self, shm: shared_memory.SharedMemory, view_obj, size: int, owner: bool):
        self._shm = shm
        self.name: str = shm.name
        self.view = view_obj
        self.size = size
        self.owner = owner
        buf = shm.buf
        assert buf is not None  # None only once closed; this block was just opened
        self.buf: memoryview = buf[:size]

    @property
    def address(self) -> int:
        return ctypes.addressof(self.view)

    def close(self) -> None:
        """Unmap the block in this process.

        Raises :class:`ffikit.MemoryInUse` (a ``BufferError``) while views made from
        ``view``/``buf`` (ctypes objects, NumPy arrays) are still alive: nothing is
        unmapped under them.
        """
        if self.view is None:
            return
        self.view = None
        self.buf.release()
        try:
            self._shm.close()
        except BufferError:
            raise MemoryInUse(
                f"ffikit.shared: cannot close {self.name!r} while views of it are alive; "
                "delete the arrays/views made from it first") from None
        if tracking.ACTIVE:
            tracking.forget(self)

    def __del__(self) -> None:
        try:  # views first, then the mapping: SharedMemory's own __del__ would find them open
            self.close()
        except (BufferError, AttributeError):
            pass

    def unlink(self) -> None:
        """Remove the name from the system (the creator's job; open mappings stay valid)."""
        try:
            self._shm.unlink()
        except FileNotFoundError:
            pass

    def __enter__(self) -> SharedBlock:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
        if self.owner:
            self.unlink()

    def __reduce__(self):
        """Pickle by name: the receiving process attaches to the same block (no copy)."""
        if self.view is None:
            from ffikit.errors import NotPicklable

            raise NotPicklable(f"cannot pickle shared block {self.name!r}: it is closed in "
                               "this process; pickle it while it is open")
        item, count = self.__dict__.get("_item_count") or (type(self.view), 1)
        return (_attach, (self.name, item, count))

    def __repr__(self) -> str:
        state = "closed" if self.view is None else f"{self.size} bytes"
        return f"<SharedBlock {self.name!r} {state}{' (owner)' if self.owner else ''}>"


def shared(name: str | None, ctype: Any, count: int = 1, *, create: bool = True,
           defs: Declarations | None = None) -> SharedBlock:
    """Create (or attach to) named shared memory holding ``count`` items of ``ctype``.

    Parameters
    ----------
    name
        System-wide name; ``None`` picks a fresh one (read it from ``.name``).
    ctype
        C type of one item (text, ctypes or model type).
    count
        Number of items; ``view`` is an array when ``count > 1``.
    create
        ``True`` creates the block (and owns it), ``False`` attaches to an
        existing one.

    Raises
    ------
    SharedMemoryExists, SharedMemoryNotFound
        Creating a name that exists / attaching to one that does not (also
        ``FileExistsError`` / ``FileNotFoundError``).
    InvalidValue
        A name that is not one (empty, or with ``/`` inside), a count < 1.
    OutOfMemory
        More bytes than the process can address, or the system refused.
    BufferTooSmall
        Attaching to a block smaller than ``count`` items of ``ctype``.
    """
    spec = _spec(ctype, defs)
    if spec.count is None:
        raise InvalidValue("ffikit.shared: give an item type and count=, not an open array 'T[]'")
    if not isinstance(count, int) or isinstance(count, bool):
        raise ArgumentError(f"ffikit.shared: count must be an int, got {type(count).__name__}")
    if count < 1:
        raise InvalidValue(f"ffikit.shared: count must be >= 1, got {count}")
    item = spec.item
    size = ctypes.sizeof(item) * count
    if size > sys.maxsize:
        raise OutOfMemory(f"ffikit.shared: {count} x '{spec.text}' is {size} bytes, more than "
                          "this process can address; lower count")
    if name is not None and (not isinstance(name, str) or not name.strip("/")
                             or "/" in name.lstrip("/") or "\0" in name):
        raise InvalidValue(f"ffikit.shared: {name!r} is not a shared memory name; give a "
                           "non-empty str without '/' or NUL (or None for a fresh name)")
    try:
        shm = shared_memory.SharedMemory(name=name, create=create, size=size if create else 0)
    except FileNotFoundError:
        raise SharedMemoryNotFound(
            f"ffikit.shared: no shared memory block named {name!r}; create it first with "
            f"ffikit.shared({name!r}, ..., create=True)") from None
    except FileExistsError:
        raise SharedMemoryExists(
            f"ffikit.shared: a shared memory block named {name!r} already exists; attach with "
            "create=False, or pick another name") from None
    except OSError as exc:  # ENAMETOOLONG, EACCES: the name; ENOSPC, EMFILE: the system
        full = exc.errno in (errno.ENOSPC, errno.ENOMEM, errno.EMFILE, errno.ENFILE)
        raise (OutOfMemory if full else InvalidValue)(
            f"ffikit.shared: the system refused block {name!r} of {size} bytes "
            f"({exc.strerror or exc}); {'free some, or lower count' if full else 'pick another name'}"
        ) from None
    if not create:
        _untrack(shm)
        if shm.size < size:
            shm.close()
            raise BufferTooSmall(
                f"ffikit.shared: block {name!r} has {shm.size} bytes, '{spec.text}' x {count} "
                f"needs {size}")
    typed = view(shm.buf, array_class(item, count) if count > 1 else item)
    block = SharedBlock(shm, typed, size, owner=create)
    block._item_count = (item, count)  # its pickle recipe: attach by name
    _open_blocks[shm.name] = block
    if tracking.ACTIVE:
        tracking.record("shared", block, size, ctypes.addressof(typed))
    return block


_open_blocks: weakref.WeakValueDictionary = weakref.WeakValueDictionary()  # name -> open block


def _attach(name: str, item: type, count: int) -> SharedBlock:
    """Unpickle a :class:`SharedBlock`: the block already open here, else attach by name."""
    block = _open_blocks.get(name)
    if block is not None and block.view is not None and \
            block.__dict__.get("_item_count") == (item, count):
        return block
    return shared(name, item, count, create=False)


def _untrack(shm: shared_memory.SharedMemory) -> None:
    """Before 3.13 an attaching process registers the block with its resource
    tracker, which then unlinks it when *that* process exits (bpo-38119).

    A multiprocessing child shares its parent's tracker, where the creator's
    registration must stay (the creator's unlink removes it), so only an
    unrelated process unregisters."""
    import multiprocessing

    if multiprocessing.parent_process() is not None:
        return
    if sys.version_info < (3, 13) and sys.platform != "win32":
        from multiprocessing import resource_tracker

        try:
            resource_tracker.unregister(shm._name, "shared_memory")  # type: ignore[attr-defined]
        except Exception:  # pragma: no cover - tracker not running
            pass
