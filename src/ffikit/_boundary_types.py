"""Model type -> ctypes type and value facts the call boundary needs.

``to_ctypes`` (the cdecl backend) is used when it is available; until then,
and for the host platform only, a small mapping of primitives, pointers,
function pointers and plain structs stands in.  The boundary asks three
questions of a C type: which ctypes type carries it, which Python integer
range it holds, and which buffer item kind (signed/unsigned/float, size) a
pointer to it expects.
"""

from __future__ import annotations

import ctypes
import struct
from functools import lru_cache

from .cdecl import model as m

__all__ = ["ctype_of", "int_range", "item_kind", "format_kind", "RAW_BYTE_TARGETS"]

_HOST_PRIMITIVES: dict[str, type] = {
    "char": ctypes.c_char,
    "signed char": ctypes.c_byte,
    "unsigned char": ctypes.c_ubyte,
    "short": ctypes.c_short,
    "unsigned short": ctypes.c_ushort,
    "int": ctypes.c_int,
    "unsigned int": ctypes.c_uint,
    "long": ctypes.c_long,
    "unsigned long": ctypes.c_ulong,
    "long long": ctypes.c_longlong,
    "unsigned long long": ctypes.c_ulonglong,
    "_Bool": ctypes.c_bool,
    "int8_t": ctypes.c_int8,
    "uint8_t": ctypes.c_uint8,
    "int16_t": ctypes.c_int16,
    "uint16_t": ctypes.c_uint16,
    "int32_t": ctypes.c_int32,
    "uint32_t": ctypes.c_uint32,
    "int64_t": ctypes.c_int64,
    "uint64_t": ctypes.c_uint64,
    "intptr_t": ctypes.c_ssize_t,
    "uintptr_t": ctypes.c_size_t,
    "size_t": ctypes.c_size_t,
    "ssize_t": ctypes.c_ssize_t,
    "ptrdiff_t": ctypes.c_ssize_t,
    "intmax_t": ctypes.c_int64,
    "uintmax_t": ctypes.c_uint64,
    "wchar_t": ctypes.c_wchar,
    "char16_t": ctypes.c_uint16,
    "char32_t": ctypes.c_uint32,
    "float": ctypes.c_float,
    "double": ctypes.c_double,
    "long double": ctypes.c_longdouble,
}

# Pointee types to which any buffer may be passed as raw bytes (DESIGN.md).
RAW_BYTE_TARGETS = frozenset({"char", "unsigned char", "uint8_t"})


def _backend():
    try:
        from .cdecl.to_ctypes import to_ctypes
    except ImportError:
        return None
    return to_ctypes


@lru_cache(maxsize=None)
def _fallback(t: m.CType) -> type | None:
    r = m.resolve(t)
    if isinstance(r, m.Void):
        return None
    if isinstance(r, m.Primitive):
        return _HOST_PRIMITIVES[r.name]
    if isinstance(r, m.Enum):
        return ctypes.c_int
    if isinstance(r, m.Pointer):
        target = m.resolve(r.target)
        if isinstance(target, m.Void):
            return ctypes.c_void_p
        if isinstance(target, m.FunctionType):
            res = ctype_of(target.result)
            return ctypes.CFUNCTYPE(res, *(ctype_of(p) for p in target.params))
        if isinstance(target, m.StructOrUnion) and not target.is_complete:
            return ctypes.c_void_p
        return ctypes.POINTER(ctype_of(target))
    if isinstance(r, m.Array):
        item = ctype_of(r.item)
        return item * (r.length or 0)
    if isinstance(r, m.StructOrUnion):
        base = ctypes.Union if r.is_union else ctypes.Structure
        cls = type(r.name or "anonymous", (base,), {})
        fields = []
        for f in r.fields or ():
            if f.bitwidth is not None:
                fields.append((f.name, ctype_of(f.type), f.bitwidth))
            else:
                fields.append((f.name, ctype_of(f.type)))
        if r.pack:
            cls._pack_ = r.pack
        cls._fields_ = fields
        cls._ffikit_type_ = r
        return cls
    raise TypeError(f"no ctypes type for {t!r}")


def ctype_of(t: m.CType) -> type | None:
    """The ctypes type carrying ``t`` (None for ``void``)."""
    if isinstance(m.resolve(t), m.Void):
        return None
    backend = _backend()
    if backend is not None:
        return backend(t)
    return _fallback(t)


@lru_cache(maxsize=None)
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
    import platform

    return platform.machine().lower() not in {"aarch64", "arm64", "armv7l", "ppc64le", "s390x"}


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
