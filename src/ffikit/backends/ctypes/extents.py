"""What a converted argument shows C: the bytes it holds, and the temporaries made for a call.

A size relation (:mod:`ffikit.rules.sizes`) compares a count with the bytes
the buffer behind a pointer argument holds; :func:`extent` reads that from
what the converter keeps alive for the call (a memoryview, bytes, a ctypes
array made for the call, ``ctypes.byref(x, offset)``, or the ``char *[]`` a
list of strings became).  :func:`has_nul` finds a C string's terminator
within a buffer's bounds.
"""

from __future__ import annotations

import ctypes
import re
from collections.abc import Callable

from ffikit.backends.ctypes.classes import CData
from ffikit.errors import ArgumentError
from ffikit.rules.messages import Param, given

__all__ = ["extent", "has_nul", "string_array"]

_CArgObject = type(ctypes.byref(ctypes.c_int()))


def string_array(where: Param, items: list | tuple, kind: str, encoding: str
                  ) -> tuple[object, object]:
    """A NULL-terminated ``char *[]`` for the call (copies when C may write the strings)."""
    data = []
    for k, item in enumerate(items):
        if type(item) is str:
            item = item.encode(encoding)
        if type(item) is not bytes:
            raise ArgumentError(f"{where}: item {k} of the {type(items).__name__} must be bytes "
                                f"or str (got {given(item)})")
        if 0 in item:
            raise ArgumentError(f"{where}: item {k} contains NUL; C would see only "
                                f"{item[:item.index(0)]!r}")
        data.append(item)
    array = (ctypes.c_char_p * (len(data) + 1))()
    keep: list = [array, len(data)]
    for k, item in enumerate(data):
        if kind == "const":
            array[k] = item  # points into the bytes object: zero-copy
            keep.append(item)
        else:  # 'char **': C may write into the strings, so each gets its own buffer
            buf = ctypes.create_string_buffer(item)
            keep.append(buf)
            ctypes.c_void_p.from_address(ctypes.addressof(array) + k * ctypes.sizeof(ctypes.c_void_p)
                                         ).value = ctypes.addressof(buf)
    return array, _StringArray(keep)


class _StringArray(tuple):
    """What keeps a call's ``char *[]`` alive: ``(array, count, strings...)``; a size
    relation sees ``count`` pointers (the NULL after them is not C's to read as an item)."""

    __slots__ = ()


def extent(keep: object) -> int:
    """Bytes a converter's keep-alive object shows C (-1: unknown, e.g. a raw pointer)."""
    kt = type(keep)
    if kt is memoryview:
        return keep.nbytes  # type: ignore[attr-defined]
    if kt is bytes:
        return len(keep)  # type: ignore[arg-type]
    if isinstance(keep, ctypes.Array):  # made for the call (a str for 'wchar_t *')
        return ctypes.sizeof(keep)
    if kt is _CArgObject:  # ctypes.byref(obj, offset): obj's bytes from the offset on
        inner = keep._obj  # type: ignore[attr-defined]
        if not isinstance(inner, CData):
            return -1
        found = re.search(r"\((0x[0-9a-fA-F]+|\d+)\)", repr(keep))  # where byref points
        offset = int(found.group(1), 0) - ctypes.addressof(inner) if found else 0
        return max(ctypes.sizeof(inner) - offset, 0)
    if kt is _StringArray:  # a list of strings made into a char *[] for the call
        return keep[1] * ctypes.sizeof(ctypes.c_void_p)  # type: ignore[index]
    return -1


def _load_memchr() -> Callable[[int, int, int], int | None] | None:
    try:
        memchr = ctypes.CDLL(None).memchr
        memchr.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
        memchr.restype = ctypes.c_void_p
    except (OSError, AttributeError, TypeError):  # pragma: no cover - no C library handle
        return None
    return memchr


_memchr = _load_memchr()


def has_nul(address: int, size: int, width: int = 1, view: memoryview | None = None) -> bool:
    """True when a NUL character (``width`` bytes) lies within ``size`` bytes at ``address``."""
    if size < width:
        return False
    if width == 1 and view is not None and size <= 512:  # small: a copy beats a ctypes call
        return 0 in view.tobytes()
    if width != 1:
        count = size // width
        if width == ctypes.sizeof(ctypes.c_wchar):
            return "\0" in ctypes.wstring_at(address, count)
        data = ctypes.string_at(address, count * width)
        return any(data[k:k + width] == b"\0" * width for k in range(0, len(data), width))
    if _memchr is not None:
        return bool(_memchr(address, 0, size))
    return 0 in ctypes.string_at(address, size)  # pragma: no cover
