"""Where members go: gcc's SysV rules and MSVC's (gcc's ``ms_struct``), as plain data.

:func:`ffikit.cdecl.layout.layout` picks the algorithm (the platform's, or
the struct's own ``ms_struct``/``gcc_struct`` attribute) and caches the
result; the functions here place members and pad, given the sizes and
alignments that module answers (passed in as ``size_align`` and
``sub_layout``, so this module imports nothing from it).  :class:`Layout`
and :class:`FieldLayout` are the answers as data.
"""

from __future__ import annotations

from collections.abc import Callable

from ffikit.records import data_record

from ..errors import DeclarationError
from .model import Array, CType, StructOrUnion, resolve
from .platforms import Platform

__all__ = ["FieldLayout", "Layout", "sysv_layout", "msvc_layout"]

SizeAlign = Callable[[CType, Platform], "tuple[int, int]"]


@data_record(frozen=True)
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


@data_record(frozen=True)
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
            bit = f.bit_offset if f.is_bitfield else None
            if bit is not None:
                where = f"{bit // 8}+{bit % 8}b"
                size = f"{f.bit_width}b"
            else:
                where, size = str(f.offset), str(f.size)
            rows.append((int(bit / 8 if bit is not None else f.offset), where, size,
                         f.name or "(unnamed)", f.type.c_name()))
        for off, n in self.holes:
            rows.append((off, str(off), str(n), "(padding)", ""))
        rows.sort(key=lambda r: (r[0], r[3] == "(padding)"))
        head = ("offset", "size", "field", "type")
        cells = [r[1:] for r in rows]
        widths = [max(len(head[i]), *(len(c[i]) for c in cells)) if cells else len(head[i])
                  for i in range(4)]
        out = [self.type.c_name(), "  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip()]
        for c in cells:
            out.append("  ".join(text.ljust(w) for text, w in zip(c, widths)).rstrip())
        out.append(f"size {self.size}, alignment {self.alignment}")
        return "\n".join(out)


def _round_up(value: int, align: int) -> int:
    return (value + align - 1) // align * align


def within_address_space(size: int, t: CType, plat: Platform) -> int:
    """``size``, unless no object that big fits the platform (gcc: "size ... is too large")."""
    limit = (1 << (8 * plat.pointer_size - 1)) - 1  # PTRDIFF_MAX, as the C compiler limits it
    if size > limit:
        raise DeclarationError(
            f"type '{t.c_name()}' would be {size} bytes, more than a {plat.pointer_size * 8}-bit "
            f"address space holds (at most {limit}); the C compiler refuses it too",
            hint="check the array lengths")
    return size


def _finish(t: StructOrUnion, plat, end_bits: int, align: int, members,
            sub_layout: Callable) -> Layout:
    if t.aligned:
        align = max(align, t.aligned)
    size = within_address_space(_round_up((end_bits + 7) // 8, align), t, plat)
    flat = []
    for m in members:
        flat.append(m)
        sub = resolve(m.type)
        if m.name is None and isinstance(sub, StructOrUnion) and m.bit_width is None:
            flat.pop()
            for inner in sub_layout(sub, plat).fields:
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


def _field_size(f, plat, size_align: SizeAlign) -> int:
    t = resolve(f.type)
    if isinstance(t, Array) and t.length is None:
        return 0  # flexible array member
    return size_align(f.type, plat)[0]


def _flex_align(f, plat, size_align: SizeAlign) -> tuple[int, int]:
    t = resolve(f.type)
    if isinstance(t, Array) and t.length is None:
        return 0, size_align(t.item, plat)[1]
    return size_align(f.type, plat)


def sysv_layout(t: StructOrUnion, plat: Platform, size_align: SizeAlign,
                sub_layout: Callable) -> Layout:
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
            size, type_align = size_align(f.type, plat)
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
        size = _field_size(f, plat, size_align)
        _, natural = _flex_align(f, plat, size_align)
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
    return _finish(t, plat, end, align, members, sub_layout)


def msvc_layout(t: StructOrUnion, plat: Platform, size_align: SizeAlign,
                sub_layout: Callable) -> Layout:
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
        size = _field_size(f, plat, size_align)
        _, natural = _flex_align(f, plat, size_align)
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
    return _finish(t, plat, end * 8, align, members, sub_layout)
