"""Value facts the call boundary needs about C types, on the host platform.

Three questions: which ctypes type carries a C type (``to_ctypes``), which
Python integer range it holds, and which buffer item kind (signed/unsigned/
float, size) a pointer to it expects, compared with a buffer's format.
"""

from __future__ import annotations

import ctypes
import struct
from functools import cache, lru_cache

from .cdecl import model as m
from .cdecl.layout import int_info
from .cdecl.to_ctypes import to_ctypes

__all__ = ["ctype_of", "int_range", "item_kind", "format_kind", "RAW_BYTE_TARGETS"]

# Pointee types to which any buffer may be passed as raw bytes (DESIGN.md).
RAW_BYTE_TARGETS = frozenset({"char", "unsigned char", "uint8_t"})


def ctype_of(t: m.CType) -> type | None:
    """The ctypes type carrying ``t`` on the host (None for ``void``)."""
    if isinstance(m.resolve(t), m.Void):
        return None
    return to_ctypes(t)


@cache
def int_range(ctype: type) -> tuple[int, int]:
    """``(lowest, highest)`` value of a ctypes integer type."""
    bits = ctypes.sizeof(ctype) * 8
    if ctype is ctypes.c_bool:
        return 0, 1
    if ctype is ctypes.c_char:
        signed = _char_is_signed()
    elif ctype is ctypes.c_wchar:
        signed = ctypes.sizeof(ctype) == 4  # glibc: wchar_t is int; Windows: unsigned short
    else:
        signed = ctype(-1).value < 0
    if signed:
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


def _char_is_signed() -> bool:
    return int_info(m.Primitive("char"))[1]


_FLOAT_CODES = {"f", "d", "g", "e"}
_SIGNED_CODES = set("bhilqnB") - {"B"}
_UNSIGNED_CODES = set("BHILQN")


@lru_cache(maxsize=256)
def format_kind(fmt: str) -> tuple[str, int] | None:
    """``("i"|"u"|"f"|"b"|"c", size)`` of a buffer's single-item format, or None.

    Native (``@``, ``=``) and little-endian (``<``) standard sizes are accepted
    on little-endian hosts; structured formats (``T{...}``) return None.
    """
    code = fmt
    if code and code[0] in "@=<>!":
        prefix, code = code[0], code[1:]
        if prefix in ">!" and struct.pack("=H", 1) == b"\x01\x00":
            return None
    if len(code) != 1:
        return None
    try:
        size = struct.calcsize(code) if fmt[:1] in ("", "@") else struct.calcsize("=" + code)
    except struct.error:
        return None
    if code in _FLOAT_CODES:
        return "f", size
    if code == "?":
        return "b", size
    if code == "c":
        return "c", size
    if code in _SIGNED_CODES:
        return "i", size
    if code in _UNSIGNED_CODES:
        return "u", size
    return None


def item_kind(t: m.CType) -> tuple[str, int] | None:
    """The buffer item kind a ``t *`` parameter expects, or None if not arithmetic."""
    r = m.resolve(t)
    if isinstance(r, m.Enum):
        r = m.Primitive("int")
    if not isinstance(r, m.Primitive):
        return None
    ct = ctype_of(r)
    size = ctypes.sizeof(ct)
    if r.is_float:
        return "f", size
    if r.name == "_Bool":
        return "b", size
    if r.name == "char":
        return "c", size
    lo, _ = int_range(ct)
    return ("i" if lo < 0 else "u"), size
