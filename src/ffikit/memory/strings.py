"""``ffikit.string``: read a NUL-terminated C string a function returned.

Functions that return ``char *`` or ``wchar_t *`` give back pointers (so the
caller can still free them); ``string(ptr)`` copies the text they point at:
``bytes`` for ``char``, ``str`` for ``wchar_t``, or ``str`` decoded with
``encoding=``.  ``maxlen`` bounds the read for strings that may not be
terminated.  A buffer (bytearray, memoryview, ctypes array) is read only
within its own bounds.

An address is checked as ``ffikit.buffer`` checks one: NULL-like, negative
and out-of-range addresses raise :class:`~ffikit.InvalidAddress`, and the
scan for the NUL goes one page at a time, each page checked to be readable
memory of this process before it is read, so an unterminated string that
runs into unmapped memory raises instead of crashing (``unsafe=True`` skips
the checks).
"""

from __future__ import annotations

import ctypes

from ffikit.backends.ctypes.owned_results import OwnedPointer
from ffikit.backends.ctypes.pybuffer import export, memoryview_address
from ffikit.errors import ArgumentError, BufferTooSmall, InvalidAddress
from ffikit.memory.mappings import check_range
from ffikit.rules.messages import given

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["string"]

_WCHAR = ctypes.sizeof(ctypes.c_wchar)
_WIDE_TYPES = (ctypes.c_wchar_p,)
_NARROW_TYPES = (ctypes.c_char_p, ctypes.c_void_p)
_PAGE = 4096  # the scan checks this much at a time (a divisor of every page size in use)


def _libc() -> Any:
    global _LIBC
    if _LIBC is None:
        lib = ctypes.CDLL(None)
        lib.strnlen.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
        lib.strnlen.restype = ctypes.c_size_t
        lib.wcsnlen.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
        lib.wcsnlen.restype = ctypes.c_size_t
        _LIBC = lib
    return _LIBC


_LIBC: ctypes.CDLL | None = None


def _decode(data: bytes, encoding: str | None) -> bytes | str:
    return data if encoding is None else data.decode(encoding)


def _length(address: int, limit: int, wide: bool, unsafe: bool) -> int:
    """Characters before the first NUL (at most ``limit``), reading page by page, each
    page checked to be readable first (unless ``unsafe``)."""
    width = _WCHAR if wide else 1
    scan = _libc().wcsnlen if wide else _libc().strnlen
    if unsafe:
        return scan(address, limit)
    if address % width:
        raise InvalidAddress(f"ffikit.string: address {address:#x} is not aligned for wchar_t")
    count = 0
    at = address
    while count < limit:
        chunk = min((_PAGE - at % _PAGE) // width or 1, limit - count)
        check_range(at, chunk * width, write=False, what="ffikit.string")
        found = scan(at, chunk)
        count += found
        if found < chunk:
            break
        at += chunk * width
    return count


def string(ptr: Any, maxlen: int | None = None, encoding: str | None = None, *,
           unsafe: bool = False) -> bytes | str | None:
    """The C string at ``ptr``, copied into Python.

    Parameters
    ----------
    ptr
        A ``char *``/``wchar_t *`` a C function returned (a ctypes pointer,
        ``c_char_p``, ``c_wchar_p``, ``c_void_p``, an owned result), an int
        address (read as ``char``), or a buffer (read within its bounds).
    maxlen
        Read at most this many characters (for strings that may lack a NUL).
    encoding
        Decode ``char`` strings with this encoding and return ``str``.
    unsafe
        Skip the address checks (for memory the checks cannot see, such as
        device memory); a bad address then crashes the process.

    Returns
    -------
    bytes or str or None
        ``bytes`` for ``char`` (``str`` with ``encoding``), ``str`` for
        ``wchar_t``; None for a NULL pointer.

    Raises
    ------
    BufferTooSmall
        A buffer with no NUL inside it (pass ``maxlen`` to read it whole).
    InvalidAddress
        An address outside the address space, or a string that is not
        NUL-terminated before unreadable memory.
    """
    if maxlen is not None and maxlen < 0:
        raise ValueError(f"ffikit.string: maxlen must be >= 0, got {maxlen}")
    if isinstance(ptr, OwnedPointer):
        ptr = ptr.pointer
    if ptr is None:
        return None
    wide = False
    if isinstance(ptr, int) and not isinstance(ptr, bool):
        address = int(ptr)
        if not 0 <= address < 1 << (8 * ctypes.sizeof(ctypes.c_void_p)):
            raise InvalidAddress(f"ffikit.string: address {address:#x} is outside the address "
                                 "space; nothing can be read there")
    elif isinstance(ptr, (ctypes._Pointer, *_WIDE_TYPES, *_NARROW_TYPES)):
        item = getattr(type(ptr), "_type_", None)
        wide = isinstance(ptr, _WIDE_TYPES) or item is ctypes.c_wchar
        if item not in (None, "z", "Z", "P", ctypes.c_char, ctypes.c_byte, ctypes.c_ubyte,
                        ctypes.c_wchar) and not isinstance(item, str):
            raise ArgumentError(f"ffikit.string: a pointer to {item.__name__} is not a C string "
                                "(pass a char * or wchar_t *)")
        address = ctypes.cast(ptr, ctypes.c_void_p).value or 0
    else:
        return _from_buffer(ptr, maxlen, encoding)
    if not address:
        return None
    if unsafe and maxlen is None and not wide:
        return _decode(ctypes.string_at(address), encoding)
    length = _length(address, maxlen if maxlen is not None else (1 << 62), wide, unsafe)
    if wide:
        return ctypes.wstring_at(address, length)
    return _decode(ctypes.string_at(address, length), encoding)


def _from_buffer(obj: Any, maxlen: int | None, encoding: str | None) -> bytes | str:
    try:
        view = export(obj)
    except TypeError:
        raise ArgumentError(f"ffikit.string needs a char */wchar_t * pointer, an address or a "
                            f"buffer (got {given(obj)})") from None
    wide = view.format.lstrip("<@=") in ("u", "w")
    width = _WCHAR if wide else 1
    limit = view.nbytes // width if maxlen is None else min(maxlen, view.nbytes // width)
    address = memoryview_address(view)
    if wide:
        text = ctypes.wstring_at(address, limit)
        end = text.find("\0")
        if end < 0 and maxlen is None:
            raise BufferTooSmall(f"ffikit.string: the {type(obj).__name__} is not "
                                 f"NUL-terminated within its {limit} characters")
        return text if end < 0 else text[:end]
    data = ctypes.string_at(address, limit)
    end = data.find(0)
    if end < 0 and maxlen is None:
        raise BufferTooSmall(f"ffikit.string: the {type(obj).__name__} is not NUL-terminated "
                             f"within its {limit} bytes; pass maxlen= to read it whole")
    return _decode(data if end < 0 else data[:end], encoding)
