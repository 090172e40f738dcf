"""Value facts about C types that the boundary rules need, on the host platform.

Two questions, answered from the type model alone (no backend): which
Python integer range an integer type holds, and which buffer item kind
(signed/unsigned/float, size) a pointer to a type expects, compared with a
buffer's PEP 3118 format.
"""

from __future__ import annotations

import struct
from functools import cache, lru_cache

from ffikit.cdecl import model as m
from ffikit.cdecl.layout import Platform, int_info, sizeof

__all__ = ["int_range", "item_kind", "format_kind", "RAW_BYTE_TARGETS"]

# Pointee types to which any buffer may be passed as raw bytes (DESIGN.md).
RAW_BYTE_TARGETS = frozenset({"char", "unsigned char", "uint8_t"})


@cache
def int_range(t: m.CType, platform: Platform | str | None = None) -> tuple[int, int]:
    """``(lowest, highest)`` value of an integer or enum type on ``platform`` (the host)."""
    r = m.resolve(t)
    if isinstance(r, m.Primitive) and r.name == "_Bool":
        return 0, 1
    size, signed = int_info(r, platform)
    bits = size * 8
    if signed:
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


_FLOAT_CODES = {"f", "d", "g", "e"}
_SIGNED_CODES = set("bhilqnB") - {"B"}
_UNSIGNED_CODES = set("BHILQN")


@lru_cache(maxsize=256)
def format_kind(fmt: str) -> tuple[str, int] | None:
    """``("i"|"u"|"f"|"b"|"c", size)`` of a buffer's single-item format, or None.

    As PEP 3118 and :mod:`struct` say: no prefix or ``@`` means native sizes
    (``'l'``, ``'L'``, ``'n'``, ``'P'`` are 8 bytes on LP64), ``=``/``<``
    standard ones (``'<l'`` is 4 bytes); byte orders other than the host's
    and structured formats (``T{...}``) return None.  ``'u'``/``'w'``
    (wide characters) are the host's ``wchar_t``; ``'P'`` (ctypes writes
    ``'<P'``) is always pointer-sized.
    """
    code = fmt
    prefix = ""
    if code and code[0] in "@=<>!":
        prefix, code = code[0], code[1:]
        little = struct.pack("=H", 1) == b"\x01\x00"
        if (prefix in ">!" and little) or (prefix == "<" and not little):
            return None
    if len(code) != 1:
        return None
    if code in "uw":
        return _wchar_kind() if code == "w" or prefix in ("", "@", "<", "=") else None
    if code == "P":
        return "u", struct.calcsize("P")
    try:
        size = struct.calcsize(code) if prefix in ("", "@") else struct.calcsize("=" + code)
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


def _wchar_kind() -> tuple[str, int] | None:
    return item_kind(m.Primitive("wchar_t"))


def item_kind(t: m.CType) -> tuple[str, int] | None:
    """The buffer item kind a ``t *`` parameter expects, or None if not arithmetic."""
    r = m.resolve(t)
    if isinstance(r, m.Enum):
        r = m.Primitive("int")
    if not isinstance(r, m.Primitive):
        return None
    size = sizeof(r)
    if r.is_float:
        return "f", size
    if r.name == "_Bool":
        return "b", size
    if r.name == "char":
        return "c", size
    lo, _ = int_range(r)
    return ("i" if lo < 0 else "u"), size
