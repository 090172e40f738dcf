"""Pointers read out of memory: checked before they are dereferenced or called.

``ffikit.view(buf, "int*")`` sees 8 bytes of ``buf`` as a pointer.  Those bytes
may hold anything, and raw ctypes dereferences whatever they say (``p[0]`` on
``0x10`` kills the process).  The types made here are subclasses of the
ctypes pointer and function-pointer types (so ``isinstance`` and passing them
to C still work) that check first:

* a data pointer checks the bytes it is about to read with
  :func:`ffikit.memory.mappings.check_range` on every ``p[i]``, ``p[a:b]`` and
  ``p.contents``; writing through it (``p[i] = v``) is refused, because a
  mapped, writable address may still be the wrong object (silent corruption);
* a function pointer read from memory cannot be checked at all (ffikit cannot
  know the code there has the declared signature), so calling it is refused
  unless the view was made with ``unsafe=True``.

``unsafe=True`` on :func:`ffikit.view` gives the plain ctypes types instead.
"""

from __future__ import annotations

import ctypes

from ffikit.backends.ctypes.classes import array_class, array_parts
from ffikit.backends.ctypes.signatures import ctype_text, signature_text
from ffikit.errors import InvalidAddress
from ffikit.memory.mappings import check_range

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["checked_type"]

_CFuncPtr = ctypes.CFUNCTYPE(None).__mro__[1]
_word = ctypes.c_size_t.from_address
_cache: dict[type, type] = {}


def checked_type(ctype: type) -> type:
    """``ctype`` itself, or for pointers (and arrays of them) a subclass that checks first."""
    found = _cache.get(ctype)
    if found is not None:
        return found
    if issubclass(ctype, ctypes._Pointer) and not getattr(ctype, "_ffikit_checked_", False):
        result = _checked_pointer(ctype)
    elif issubclass(ctype, _CFuncPtr) and not getattr(ctype, "_ffikit_checked_", False):
        result = _guarded_function(ctype)
    elif issubclass(ctype, ctypes.Array):
        item_type, length = array_parts(ctype)
        item = checked_type(item_type)
        result = ctype if item is item_type else array_class(item, length)
    else:
        result = ctype
    _cache[ctype] = result
    return result


def _target(pointer: object) -> int:
    return _word(ctypes.addressof(pointer)).value  # type: ignore[arg-type]


def _checked_pointer(ptype: type[ctypes._Pointer[Any]]) -> type:
    item = ptype._type_
    size = ctypes.sizeof(item)
    what = f"dereferencing '{ctype_text(ptype)}' read from memory"
    base_getitem = ptype.__getitem__
    base_contents = ptype.contents

    def span(self, index) -> tuple[int, int]:
        start = _target(self)
        if isinstance(index, slice):
            if index.stop is None:
                raise InvalidAddress(f"{what}: a slice of a pointer needs a stop (p[:n])")
            steps = range(index.start or 0, index.stop, index.step or 1)
            if not steps:
                return start, 0
            lo, hi = min(steps[0], steps[-1]), max(steps[0], steps[-1]) + 1
            return start + lo * size, (hi - lo) * size
        return start + index.__index__() * size, size

    def getitem(self, index):
        address, nbytes = span(self, index)
        check_range(address, nbytes, write=False, what=what)
        return base_getitem(self, index)

    def setitem(self, index, value) -> None:
        address, nbytes = span(self, index)
        check_range(address, nbytes, write=True, what=what)
        raise InvalidAddress(
            f"writing through '{ctype_text(ptype)}' read from memory ({address:#x}) is refused: "
            "ffikit can check that the address is mapped and writable, not that it is the "
            "object you mean, and a wrong one corrupts memory silently; view the memory with "
            "unsafe=True to write through it, or pass the pointer to a declared C function")

    def contents(self):
        check_range(_target(self), size, write=False, what=what)
        return base_contents.__get__(self)

    return type(f"checked_{ptype.__name__}", (ptype,), {
        "_type_": item,  # a pointer subclass needs its own (ctypes keeps it per class)
        "__getitem__": getitem, "__setitem__": setitem, "contents": property(contents, base_contents.__set__),
        "_ffikit_checked_": True, "__module__": "ffikit.types",
    })


def _guarded_function(ftype: type) -> type:
    def call(self, *args):
        address = _target(self)
        if not address:
            raise InvalidAddress("calling a function pointer read from memory: it is NULL")
        raise InvalidAddress(
            f"calling a function pointer read from memory ({address:#x}) is refused: ffikit "
            f"cannot check that code of type {signature_text(ftype)} is there, and a wrong "
            "address or signature crashes the process; view the memory with unsafe=True to "
            "call it anyway, or pass a pointer C gave you to a declared function")

    # a CFUNCTYPE class carries _flags_/_restype_/_argtypes_; typeshed's CFuncPtr does not
    return type(f"guarded_{ftype.__name__}", (ftype,), {
        "_flags_": ftype._flags_, "_restype_": ftype._restype_,  # type: ignore[attr-defined]
        "_argtypes_": ftype._argtypes_,  # type: ignore[attr-defined]
        "__call__": call, "_ffikit_checked_": True, "__module__": "ffikit.types",
    })
