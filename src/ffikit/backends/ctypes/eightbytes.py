"""x86-64 System V classification of structs and unions passed by value, and the classes libffi needs.

libffi decides which registers carry a struct from the ``ffi_type`` ctypes
gives it, and that description is wrong or unusable in several cases: a
union is described as a struct of all its members in a row (C receives
garbage or the next argument shifts registers), arrays inside small structs
depend on ctypes' expansion, and ``long double`` members (class X87) come
back as 0.0.  The System V ABI itself is simple: a by-value aggregate of at
most 16 bytes is split into *eightbytes*, each INTEGER (any integer or
pointer byte in it) or SSE (only ``float``/``double`` bytes), and travels in
one register per eightbyte; larger ones are copied to the stack.

:func:`classes` computes those classes from ffikit's own layout (gcc's), and
:func:`register_twin` builds a ctypes class with the same size, alignment and
classes made only of plain scalars (``c_uintN`` for INTEGER, ``c_float``/
``c_double`` for SSE), which libffi classifies exactly as gcc does.  The
bytes are copied into it for the call.

libffi (3.4.4, fixed upstream in PR #848) also copies a whole (INTEGER, SSE)
struct into the last integer register slot, overwriting the first SSE
register; :func:`registers_before` lets the wrapper spot that position and
pass the two eightbytes as two scalars instead (the same registers).
"""

from __future__ import annotations

import ctypes
import sys

from ffikit.cdecl import model as m
from ffikit.cdecl.layout import int_info, layout, sizeof
from ffikit.cdecl.platforms import host_machine

__all__ = ["SYSV_X86_64", "classes", "holds_union", "register_twin", "memory_twin",
           "registers_before", "Unsupported"]

SYSV_X86_64 = host_machine() in ("x86_64", "amd64") and not sys.platform.startswith("win")
INTEGER, SSE, X87 = "INTEGER", "SSE", "X87"
_GPRS, _SSES = 6, 8


class Unsupported(Exception):
    """A member libffi cannot carry by value (the message says which)."""


def _scalar_class(t: m.CType) -> str:
    if isinstance(t, (m.Pointer, m.Enum)):
        return INTEGER
    if isinstance(t, m.Primitive):
        if t.is_integer:
            if int_info(t)[0] > 8:
                raise Unsupported(f"a {t.c_name()} member (128-bit integers have no libffi type)")
            return INTEGER
        if t.is_float and sizeof(t) in (4, 8):
            return SSE
        return X87
    if isinstance(t, m.Complex):
        raise Unsupported(f"a {t.c_name()} member (complex numbers have no ctypes type)")
    raise Unsupported(f"a {t.c_name()} member")


def _walk(t: m.CType, offset: int, out: dict[int, str]) -> bool:
    """Merge the classes of ``t``'s bytes at ``offset`` into ``out``; True when it holds a
    union or an array (what ctypes describes to libffi in its own way)."""
    r = m.resolve(t)
    if isinstance(r, m.Vector):
        raise Unsupported(f"a vector member ({r.c_name()})")
    if isinstance(r, m.Array):
        if not r.length:
            return True
        size = sizeof(r.item)
        found = True
        for k in range(r.length):
            found |= _walk(r.item, offset + k * size, out)
        return found
    if isinstance(r, m.StructOrUnion):
        found = r.kind == "union"
        for f in layout(r).fields:
            if f.bit_width is not None:
                if f.bit_width and f.bit_offset is not None:
                    for bit in (f.bit_offset, f.bit_offset + f.bit_width - 1):
                        out[offset * 8 + bit // 64 * 64] = INTEGER  # keyed by eightbyte start (bits)
                continue
            found |= _walk(f.type, offset + f.offset, out)
        return found
    cls = _scalar_class(r)
    for byte in (offset, offset + sizeof(r) - 1):
        key = byte // 8 * 64
        if out.get(key) not in (INTEGER, X87):
            out[key] = cls
    return False


def classes(t: m.StructOrUnion) -> tuple[tuple[str, ...], bool]:
    """``(classes of each eightbyte, holds a union or array)``; ``()`` for MEMORY (over 16 bytes).

    Raises :class:`Unsupported` for members no ctypes class can carry by
    value (128-bit integers, complex numbers, vectors; ``long double`` in
    a struct that travels in registers).
    """
    out: dict[int, str] = {}
    union = _walk(t, 0, out)
    size = sizeof(t)
    if size > 16:  # MEMORY: copied to the stack, whatever the members
        return (), union
    if X87 in out.values():
        raise Unsupported("a long double member in a struct of 16 bytes (class X87: "
                          "ctypes returns it as 0.0)")
    return tuple(out.get(k * 64, SSE) for k in range((size + 7) // 8)), union


def holds_union(t: m.CType) -> bool:
    """True when a struct or union is, or holds (at any depth, in arrays too), a union."""
    r = m.resolve(t)
    while isinstance(r, m.Array):
        r = m.resolve(r.item)
    if not isinstance(r, m.StructOrUnion):
        return False
    return r.kind == "union" or any(holds_union(f.type) for f in (r.fields or ()))


def register_twin(name: str, size: int, alignment: int, kinds: tuple[str, ...]) -> type | None:
    """A ctypes Structure of ``size`` bytes and ``alignment`` whose eightbytes have ``kinds``.

    Made of scalars of the struct's own alignment, so its size and alignment
    are the struct's: INTEGER bytes as ``c_uint8``..``c_uint64``, SSE bytes
    as ``c_float``/``c_double``.  None when no such class exists.
    """
    unit = min(alignment, 8)
    ints = {1: ctypes.c_uint8, 2: ctypes.c_uint16, 4: ctypes.c_uint32, 8: ctypes.c_uint64}
    floats = {4: ctypes.c_float, 8: ctypes.c_double}
    fields = []
    for k, kind in enumerate(kinds):
        left = min(8, size - 8 * k)
        table = ints if kind == INTEGER else floats
        if unit not in table or left % unit:
            return None
        fields += [(f"e{k}_{j}", table[unit]) for j in range(left // unit)]
    twin = type(name, (ctypes.Structure,), {"_fields_": fields, "__module__": "ffikit.types"})
    if ctypes.sizeof(twin) != size or ctypes.alignment(twin) != alignment:
        return None
    return twin


def memory_twin(name: str, size: int, alignment: int) -> type | None:
    """A class of ``size`` bytes and ``alignment`` libffi copies to the stack (over 16 bytes)."""
    unit = min(alignment, 8)
    ints = {1: ctypes.c_uint8, 2: ctypes.c_uint16, 4: ctypes.c_uint32, 8: ctypes.c_uint64}
    if size <= 16 or unit not in ints or size % unit:
        return None
    fields = [(f"w{j}", ints[unit]) for j in range(size // unit)]
    twin = type(name, (ctypes.Structure,), {"_fields_": fields, "__module__": "ffikit.types"})
    if ctypes.sizeof(twin) != size or ctypes.alignment(twin) != alignment:
        return None
    return twin


def registers_before(params: list[tuple[str, tuple[str, ...]]], hidden_result: bool) -> list[tuple[int, int]]:
    """``(integer registers, SSE registers)`` in use before each parameter.

    ``params`` holds ``("int" | "sse" | "stack" | "struct", eightbyte classes)``
    per parameter; a struct goes to the stack whole when its eightbytes do not
    all fit.  ``hidden_result``: the result is returned through memory, which
    takes the first integer register.
    """
    gpr, sse = int(hidden_result), 0
    before = []
    for kind, kinds in params:
        before.append((gpr, sse))
        if kind == "int":
            gpr += 1
        elif kind == "sse":
            sse += 1
        elif kind == "struct" and kinds:
            ni, ns = kinds.count(INTEGER), kinds.count(SSE)
            if gpr + ni <= _GPRS and sse + ns <= _SSES:
                gpr, sse = gpr + ni, sse + ns
    return before
