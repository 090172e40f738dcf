"""Each declared parameter classified once: what it accepts, as plain data.

:func:`param_rule` reads a parameter's model type and returns a
:class:`ParamRule`, the row of DESIGN.md's boundary table that applies to it
(integer with its range, float, pointer with its pointee facts, function
pointer, struct by value).  The ctypes backend's wrapper generator and the
compiled backend's C generator both start from this, so the two cannot
disagree about what a parameter takes.
"""

from __future__ import annotations

from functools import lru_cache

from ffikit.cdecl import model as m
from ffikit.cdecl.layout import sizeof
from ffikit.records import data_record
from ffikit.rules.kinds import RAW_BYTE_TARGETS, format_kind, int_range, item_kind

__all__ = ["ParamRule", "param_rule", "accepted_formats", "FLOAT_MAX"]

FLOAT_MAX = 3.4028234663852886e38  # the largest finite C float

# Buffer format letters a typed pointer may meet (PEP 3118 single items).
_FORMAT_CODES = "bBhHiIlLqQnNfdeg?cPuw"


@data_record(frozen=True)
class ParamRule:
    """What one parameter accepts.

    ``kind`` is ``"int"``, ``"float"``, ``"pointer"``, ``"function_pointer"``,
    ``"struct"`` or ``"unsupported"``; the other fields matter for some kinds.
    """

    kind: str
    ctype: m.CType            # the parameter's type, typedefs resolved
    lo: int = 0               # int: the range; out of range is refused, never wrapped
    hi: int = 0
    is_char: bool = False     # int: plain ``char`` also takes a 1-byte bytes
    size: int = 0             # int/float: bytes
    float_max: float | None = None  # float: the largest magnitude (C float); None for double
    const: bool = False       # pointer: C promises not to write through it
    pointee: m.CType | None = None  # pointer: its target, typedefs resolved
    raw_ok: bool = False      # pointer: any buffer passes as raw bytes (void/char/uint8_t)
    char_target: bool = False  # pointer: to plain char (bytes/str are C strings)
    item_kind: tuple[str, int] | None = None  # pointer: the buffer item kind expected
    pointee_size: int = 0     # pointer: bytes per item (0 for void/function)
    target_is_pointer: bool = False  # pointer: to a pointer (an out-slot)
    target_is_struct: bool = False   # pointer: to a struct/union


@lru_cache(maxsize=4096)
def param_rule(ptype: m.CType) -> ParamRule:
    """The :class:`ParamRule` for a parameter of model type ``ptype`` on the host."""
    r = m.resolve(ptype)
    if isinstance(r, m.Enum) or (isinstance(r, m.Primitive) and r.is_integer):
        lo, hi = int_range(r)
        return ParamRule("int", r, lo=lo, hi=hi, size=sizeof(r),
                         is_char=isinstance(r, m.Primitive) and r.name == "char")
    if isinstance(r, m.Primitive) and r.is_float:
        size = sizeof(r)
        return ParamRule("float", r, size=size, float_max=FLOAT_MAX if size == 4 else None)
    if isinstance(r, m.Pointer):
        target = m.resolve(r.target)
        if isinstance(target, m.FunctionType):
            return ParamRule("function_pointer", r, pointee=target)
        is_void = isinstance(target, m.Void)
        named = target.name if isinstance(target, m.Primitive) else None
        return ParamRule(
            "pointer", r, const=r.const, pointee=target,
            raw_ok=is_void or named in RAW_BYTE_TARGETS,
            char_target=named == "char",
            item_kind=item_kind(_innermost(target)),  # 'double (*m)[4]' takes doubles
            pointee_size=0 if is_void or not _complete(target) else sizeof(target),
            target_is_pointer=isinstance(target, m.Pointer),
            target_is_struct=isinstance(target, m.StructOrUnion),
        )
    if isinstance(r, m.StructOrUnion):
        return ParamRule("struct", r)
    return ParamRule("unsupported", r)


def _innermost(t: m.CType) -> m.CType:
    while isinstance(t, m.Array):
        t = m.resolve(t.item)
    return t


def _complete(t: m.CType) -> bool:
    try:
        sizeof(t)
    except Exception:  # incomplete struct, flexible array: pointers to it carry no item size
        return False
    return True


@lru_cache(maxsize=4096)
def accepted_formats(rule: ParamRule) -> frozenset[str] | None:
    """Buffer formats a pointer parameter takes as they are (None: any format, raw bytes)."""
    if rule.raw_ok:
        return None
    if rule.item_kind is None:
        return frozenset()
    return frozenset(
        prefix + code
        for prefix in ("", "@", "=", "<")
        for code in _FORMAT_CODES
        if format_kind(prefix + code) == rule.item_kind
    )
