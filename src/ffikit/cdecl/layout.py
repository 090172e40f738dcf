"""Sizes, alignments and struct layouts per platform ABI, computed by ffikit.

ctypes' own bitfield and packing rules have differed from gcc's in several
CPython releases, so ffikit does not ask ctypes where fields go: it applies
the platform's rules itself (SysV as gcc implements it on x86-64 and AArch64;
MSVC's on Windows) and the ctypes backend then builds classes that reproduce the
result byte for byte.  The answers are plain data (:class:`Layout`) so they
can be printed, compared with a compiler, or fed to another backend.
"""

from __future__ import annotations

from .. import records
from ..errors import DeclarationError
from .gcc_layout import FieldLayout, Layout, msvc_layout, sysv_layout, within_address_space
from .model import (
    Array,
    Complex,
    CType,
    Enum,
    FunctionType,
    Pointer,
    Primitive,
    StructOrUnion,
    Typedef,
    Vector,
    Void,
    resolve,
)
from .parse_errors import understood
from .platforms import Platform, get_platform, host_platform

__all__ = [
    "Platform",
    "get_platform",
    "host_platform",
    "sizeof",
    "alignof",
    "int_info",
    "layout",
    "Layout",
    "FieldLayout",
]


_INCOMPLETE_HINTS = {
    "struct": "define its members, or use it only behind a pointer ('{name} *')",
    "array": "give the array a length, or use a pointer ('{item} *')",
    "void": "use 'void *' for untyped memory",
    "function": "use a function pointer ('{fptr}')",
}


def _incomplete(ctype: CType, why: str, kind: str) -> DeclarationError:
    """The error for asking the size of a type that has none."""
    hint = _INCOMPLETE_HINTS[kind].format(
        name=ctype.c_name(),
        item=ctype.item.c_name() if isinstance(ctype, Array) else "",
        fptr=ctype.c_name("(*)") if isinstance(ctype, FunctionType) else "",
    )
    return DeclarationError(
        f"type '{ctype.c_name()}' is incomplete ({why}), so it has no size", hint=hint
    )


_UNSIGNED = {
    "unsigned char", "unsigned short", "unsigned int", "unsigned long", "unsigned long long",
    "_Bool", "uint8_t", "uint16_t", "uint32_t", "uint64_t", "uintptr_t", "size_t",
    "uintmax_t", "char16_t", "char32_t", "unsigned __int128",
}


def int_info(ctype: CType, platform: Platform | str | None = None) -> tuple[int, bool]:
    """``(size_in_bytes, signed)`` of an integer type (typedefs resolved)."""
    plat = get_platform(platform)
    t = resolve(ctype)
    if isinstance(t, Primitive) and t.is_integer:
        if t.name == "char":
            signed = plat.char_signed
        elif t.name == "wchar_t":
            signed = plat.wchar_signed
        else:
            signed = t.name not in _UNSIGNED
        return plat.primitives[t.name][0], signed
    if isinstance(t, Enum):
        return _enum_info(t, plat)
    raise TypeError(f"'{ctype.c_name()}' is not an integer type")


def _enum_info(t: Enum, plat: Platform) -> tuple[int, bool]:
    values = [v for _, v in (t.members or ())]
    lo, hi = (min(values), max(values)) if values else (0, 0)
    if t.packed and not plat.is_windows:  # gcc: the smallest integer that holds the values
        for size in (1, 2, 4, 8):
            if lo >= 0 and hi < (1 << (8 * size)):
                return size, False
            if -(1 << (8 * size - 1)) <= lo and hi < (1 << (8 * size - 1)):
                return size, True
    if plat.is_windows:
        return 4, True
    if lo >= 0:
        if hi <= 0xFFFFFFFF:
            return 4, False
        return 8, False
    if lo >= -(1 << 31) and hi < (1 << 31):
        return 4, True
    return 8, True


@understood("sizeof")
def sizeof(ctype: CType, platform: Platform | str | None = None) -> int:
    """``sizeof`` the type on ``platform`` (raises for incomplete types)."""
    return _size_align(ctype, get_platform(platform))[0]


def alignof(ctype: CType, platform: Platform | str | None = None) -> int:
    """gcc's ``__alignof__`` the type on ``platform`` (the alignment layouts use)."""
    return _size_align(ctype, get_platform(platform))[1]


def _size_align(ctype: CType, plat: Platform) -> tuple[int, int]:
    t = ctype
    while isinstance(t, Typedef):
        if t.aligned is not None:  # gcc: a typedef's 'aligned' sets the alignment
            return _size_align(t.type, plat)[0], t.aligned
        t = t.type
    if isinstance(t, Vector):
        size = _size_align(t.item, plat)[0] * (t.length or 0)
        return size, size
    if isinstance(t, Complex):
        size, align = _size_align(t.base, plat)
        return 2 * size, align
    if isinstance(t, Primitive):
        return plat.primitives[t.name]
    if isinstance(t, Pointer):
        return plat.pointer_size, plat.pointer_size
    if isinstance(t, Array):
        if t.length is None:
            raise _incomplete(t, "an array of unknown length", "array")
        size, align = _size_align(t.item, plat)
        return within_address_space(size * t.length, t, plat), align
    if isinstance(t, StructOrUnion):
        if t.fields is None:
            raise _incomplete(t, "declared without its members", "struct")
        lay = layout(t, plat)
        return lay.size, lay.alignment
    if isinstance(t, Enum):
        size = _enum_info(t, plat)[0]
        return size, size
    if isinstance(t, Void):
        raise _incomplete(t, "void has no values", "void")
    if isinstance(t, FunctionType):
        raise _incomplete(t, "a function, not a pointer to one", "function")
    raise TypeError(f"cannot size {ctype!r}")


_LAYOUT_CACHE: dict = {}


@understood("layout")
def layout(ctype: CType, platform: Platform | str | None = None) -> Layout:
    """Compute (and cache) the layout of a struct or union type on ``platform``.

    Through a typedef with ``__attribute__((aligned(n)))`` the alignment is the
    typedef's (gcc keeps the struct's size: ``sizeof`` is not rounded up).
    """
    plat = get_platform(platform)
    t = ctype
    while isinstance(t, Typedef):
        if t.aligned is not None:
            return records.replace(layout(t.type, plat), alignment=t.aligned)
        t = t.type
    t = resolve(ctype)
    if not isinstance(t, StructOrUnion):
        raise TypeError(f"'{ctype.c_name()}' is not a struct or union")
    key = (t, plat.name)
    cached = _LAYOUT_CACHE.get(key)
    if cached is not None:
        return cached
    if t.fields is None:
        raise _incomplete(t, "declared without its members", "struct")
    _check_members(t, plat)
    ms = plat.is_windows if t.rules is None else t.rules == "msvc"
    result = (msvc_layout if ms else sysv_layout)(t, plat, _size_align, layout)
    _LAYOUT_CACHE[key] = result
    return result


def _check_members(t: StructOrUnion, plat: Platform) -> None:
    """Every member needs a size, except a struct's last member ``T[]``."""
    fields = t.fields or ()
    for index, f in enumerate(fields):
        ftype = resolve(f.type)
        where = f"member '{f.name or '(anonymous)'}' of {t.c_name()}"
        if isinstance(ftype, Array) and ftype.length is None:
            if t.is_union or index != len(fields) - 1:
                rule = ("a union member may not be a flexible array" if t.is_union
                        else "only a struct's last member may be a flexible array")
                raise DeclarationError(
                    f"{where} has type '{f.type.c_name()}' with no length: {rule}",
                    hint="give the array a length, or move it to the end of a struct",
                )
            ftype = ftype.item
        try:
            _size_align(ftype, plat)
        except DeclarationError as error:
            raise DeclarationError(f"{where}: {error.message}", hint=error.hint) from None
        if f.bitwidth is not None:
            _check_bitfield(t, f, plat, where)


def _check_bitfield(t: StructOrUnion, f, plat: Platform, where: str) -> None:
    ftype = resolve(f.type)
    if not ((isinstance(ftype, Primitive) and ftype.is_integer) or isinstance(ftype, Enum)):
        raise DeclarationError(
            f"{where} is a bitfield of non-integer type '{f.type.c_name()}'",
            hint="bitfields need an integer or enum type",
        )
    bits = 1 if ftype == Primitive("_Bool") else _size_align(ftype, plat)[0] * 8
    if f.bitwidth < 0 or f.bitwidth > bits:
        raise DeclarationError(
            f"{where}: bitfield width {f.bitwidth} is outside 0..{bits} for "
            f"'{f.type.c_name()}'",
            hint=f"use a width of at most {bits}, or a wider type",
        )
    if f.bitwidth == 0 and f.name is not None:
        raise DeclarationError(
            f"{where}: a named bitfield may not have width 0",
            hint="drop the name ('int : 0;') to start a new storage unit",
        )
