"""Sizes, alignments and struct layouts per platform ABI, computed by ffikit.

ctypes' own bitfield and packing rules have differed from gcc's in several
CPython releases, so ffikit does not ask ctypes where fields go: it applies
the platform's rules itself (SysV as gcc implements it on x86-64 and AArch64;
MSVC's on Windows) and the ctypes backend then builds classes that reproduce the
result byte for byte.  The answers are plain data (:class:`Layout`) so they
can be printed, compared with a compiler, or fed to another backend.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import DeclarationError
from .model import (
    Array,
    CType,
    Enum,
    FunctionType,
    Pointer,
    Primitive,
    StructOrUnion,
    Typedef,
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
    """``_Alignof`` the type on ``platform``."""
    return _size_align(ctype, get_platform(platform))[1]


def _size_align(ctype: CType, plat: Platform) -> tuple[int, int]:
    t = ctype
    while isinstance(t, Typedef):
        t = t.type
    if isinstance(t, Primitive):
        return plat.primitives[t.name]
    if isinstance(t, Pointer):
        return plat.pointer_size, plat.pointer_size
    if isinstance(t, Array):
        if t.length is None:
            raise _incomplete(t, "an array of unknown length", "array")
        size, align = _size_align(t.item, plat)
        return _within_address_space(size * t.length, t, plat), align
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


@dataclass(frozen=True)
class FieldLayout:
    """Where one member lives: byte ``offset`` and ``size``; bit position for bitfields.

    For a bitfield, ``offset``/``size`` describe the declared type's storage
    unit that holds it, and ``bit_offset`` counts bits from the start of the
    whole struct (little-endian bit numbering).
    """

    name: str | None
    type: CType
    offset: int
    size: int
    bit_offset: int | None = None
    bit_width: int | None = None

    @property
    def is_bitfield(self) -> bool:
        return self.bit_width is not None


@dataclass(frozen=True)
class Layout:
    """A struct's or union's layout as data: fields, padding holes, size, alignment.

    ``fields`` lists members in declaration order; members of anonymous nested
    structs/unions appear flattened (they are reachable from the outer type).
    ``holes`` are ``(offset, size)`` byte ranges no member occupies, trailing
    padding included.
    """

    type: CType
    size: int
    alignment: int
    fields: tuple[FieldLayout, ...]
    holes: tuple[tuple[int, int], ...]
    members: tuple[FieldLayout, ...] = ()  # direct members (anonymous ones unflattened)

    def field(self, name: str) -> FieldLayout:
        """The layout of the member called ``name``."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.type.c_name()} has no member {name!r}")

    def __str__(self) -> str:
        rows = []
        for f in self.fields:
            if f.is_bitfield:
                where = f"{f.bit_offset // 8}+{f.bit_offset % 8}b"
                size = f"{f.bit_width}b"
            else:
                where, size = str(f.offset), str(f.size)
            rows.append((int(f.bit_offset / 8 if f.is_bitfield else f.offset), where, size,
                         f.name or "(unnamed)", f.type.c_name()))
        for off, n in self.holes:
            rows.append((off, str(off), str(n), "(padding)", ""))
        rows.sort(key=lambda r: (r[0], r[3] == "(padding)"))
        head = ("offset", "size", "field", "type")
        widths = [max(len(head[i]), *(len(r[i + 1]) for r in rows)) if rows else len(head[i])
                  for i in range(4)]
        out = [self.type.c_name(), "  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip()]
        for r in rows:
            out.append("  ".join(c.ljust(w) for c, w in zip(r[1:], widths)).rstrip())
        out.append(f"size {self.size}, alignment {self.alignment}")
        return "\n".join(out)


_LAYOUT_CACHE: dict = {}


@understood("layout")
def layout(ctype: CType, platform: Platform | str | None = None) -> Layout:
    """Compute (and cache) the layout of a struct or union type on ``platform``."""
    plat = get_platform(platform)
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
    result = (_msvc_layout if plat.is_windows else _sysv_layout)(t, plat)
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


def _round_up(value: int, align: int) -> int:
    return (value + align - 1) // align * align


def _member_align(f, plat: Platform, pack: int | None, packed: bool) -> int:
    size, natural = _size_align(f.type, plat)
    align = 1 if (packed or f.packed) else natural
    if f.aligned:
        align = max(align, f.aligned)
    if pack:
        align = min(align, pack)
    return align


def _within_address_space(size: int, t: CType, plat: Platform) -> int:
    """``size``, unless no object that big fits the platform (gcc: "size ... is too large")."""
    limit = (1 << (8 * plat.pointer_size - 1)) - 1  # PTRDIFF_MAX, as the C compiler limits it
    if size > limit:
        raise DeclarationError(
            f"type '{t.c_name()}' would be {size} bytes, more than a {plat.pointer_size * 8}-bit "
            f"address space holds (at most {limit}); the C compiler refuses it too",
            hint="check the array lengths")
    return size


def _finish(t: StructOrUnion, plat, end_bits: int, align: int, members) -> Layout:
    if t.aligned:
        align = max(align, t.aligned)
    size = _within_address_space(_round_up((end_bits + 7) // 8, align), t, plat)
    flat = []
    for m in members:
        flat.append(m)
        sub = resolve(m.type)
        if m.name is None and isinstance(sub, StructOrUnion) and m.bit_width is None:
            flat.pop()
            for inner in layout(sub, plat).fields:
                flat.append(FieldLayout(
                    inner.name, inner.type, m.offset + inner.offset, inner.size,
                    None if inner.bit_offset is None else inner.bit_offset + m.offset * 8,
                    inner.bit_width,
                ))
    return Layout(t, size, align, tuple(flat), _holes(members, size), tuple(members))


def _holes(members, size: int) -> tuple[tuple[int, int], ...]:
    """Byte ranges no member covers, as ``(offset, length)``; by intervals, so a huge struct is cheap."""
    spans = []
    for m in members:
        if m.is_bitfield:
            if m.bit_width:
                spans.append((m.bit_offset // 8, (m.bit_offset + m.bit_width + 7) // 8))
        elif m.size:
            spans.append((m.offset, m.offset + m.size))
    holes, cursor = [], 0
    for lo, hi in sorted(spans):
        lo, hi = min(lo, size), min(hi, size)
        if lo > cursor:
            holes.append((cursor, lo - cursor))
        cursor = max(cursor, hi)
    if cursor < size:
        holes.append((cursor, size - cursor))
    return tuple(holes)


def _field_size(f, plat) -> int:
    t = resolve(f.type)
    if isinstance(t, Array) and t.length is None:
        return 0  # flexible array member
    return _size_align(f.type, plat)[0]


def _flex_align(f, plat) -> tuple[int, int]:
    t = resolve(f.type)
    if isinstance(t, Array) and t.length is None:
        return 0, _size_align(t.item, plat)[1]
    return _size_align(f.type, plat)


def _sysv_layout(t: StructOrUnion, plat: Platform) -> Layout:
    """gcc's rules (stor-layout.c, PCC_BITFIELD_TYPE_MATTERS) for SysV targets."""
    pack = t.pack
    bits = 0
    end = 0
    align = 1
    members = []
    for f in t.fields or ():
        is_union = t.is_union
        start = 0 if is_union else bits
        if f.bitwidth is not None:
            size, type_align = _size_align(f.type, plat)
            width = f.bitwidth
            if width == 0:
                # Zero-width bitfields ignore packing (gcc layout_decl): next unit of the type.
                if not is_union:
                    bits = _round_up(bits, type_align * 8)
                    end = bits
                members.append(FieldLayout(f.name, f.type, bits // 8, size, bits, 0))
                continue
            eff_align = type_align
            if pack:
                eff_align = min(type_align, pack)
            elif f.packed:
                eff_align = 1
            if f.aligned:
                eff_align = max(eff_align, f.aligned)
            if not pack and not f.packed:
                # A bitfield may not span more units of its type's alignment than the type does.
                unit = type_align * 8
                if (start % unit + width + unit - 1) // unit > (size * 8 + unit - 1) // unit:
                    start = _round_up(start, unit)
            if f.aligned:
                start = _round_up(start, f.aligned * 8)
            if f.name is not None:
                align = max(align, eff_align)
            unit_offset = (start // 8) // size * size if size else 0
            members.append(FieldLayout(f.name, f.type, unit_offset, size, start, width))
            if is_union:
                end = max(end, width)
            else:
                bits = start + width
                end = bits
            continue
        size = _field_size(f, plat)
        _, natural = _flex_align(f, plat)
        falign = 1 if f.packed else natural
        if f.aligned:
            falign = max(falign, f.aligned)
        if pack:
            falign = min(falign, pack)
        if not is_union:
            start = _round_up(bits, falign * 8)
        align = max(align, falign)
        members.append(FieldLayout(f.name, f.type, start // 8, size))
        if is_union:
            end = max(end, size * 8)
        else:
            bits = start + size * 8
            end = bits
    return _finish(t, plat, end, align, members)


def _msvc_layout(t: StructOrUnion, plat: Platform) -> Layout:
    """MSVC's rules: a bitfield run shares one unit of its declared type's size."""
    pack = t.pack
    offset = 0  # bytes
    end = 0
    align = 1
    unit_start = None  # byte offset of the open bitfield unit
    unit_size = 0
    unit_used = 0  # bits used in the open unit
    members = []
    for f in t.fields or ():
        size = _field_size(f, plat)
        _, natural = _flex_align(f, plat)
        falign = natural
        if f.aligned:
            falign = max(falign, f.aligned)
        if pack:
            falign = min(falign, pack)
        if f.bitwidth is not None:
            width = f.bitwidth
            if t.is_union:
                if width:  # a ':0' member of a union occupies nothing
                    align = max(align, falign)
                    end = max(end, size)
                members.append(FieldLayout(f.name, f.type, 0, size, 0, width))
                continue
            if width == 0:
                # After a bitfield, ':0' closes its unit and aligns for its own type;
                # anywhere else MSVC ignores it.
                if unit_start is not None:
                    offset = _round_up(unit_start + unit_size, falign)
                    unit_start = None
                members.append(FieldLayout(f.name, f.type, offset, size, offset * 8, 0))
                continue
            if unit_start is None or unit_size != size or unit_used + width > size * 8:
                if unit_start is not None:
                    offset = unit_start + unit_size
                unit_start = _round_up(offset, falign)
                unit_size, unit_used = size, 0
                align = max(align, falign)
            members.append(FieldLayout(f.name, f.type, unit_start, size,
                                       unit_start * 8 + unit_used, width))
            unit_used += width
            end = max(end, unit_start + unit_size)
            continue
        if unit_start is not None:
            offset = unit_start + unit_size
            unit_start = None
        start = 0 if t.is_union else _round_up(offset, falign)
        align = max(align, falign)
        members.append(FieldLayout(f.name, f.type, start, size))
        if t.is_union:
            end = max(end, size)
        else:
            offset = start + size
            end = offset
    return _finish(t, plat, end * 8, align, members)
