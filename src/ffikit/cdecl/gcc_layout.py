"""Where members go: gcc's SysV rules and MSVC's (gcc's ``ms_struct``), as plain data.

:func:`ffikit.cdecl.layout.layout` picks the algorithm (the platform's, or
the struct's own ``ms_struct``/``gcc_struct`` attribute) and caches the
result; the functions here place members and pad, given the sizes and
alignments that module answers.
"""

from __future__ import annotations

from . import layout as _layout
from .model import Array, StructOrUnion, resolve
from .platforms import Platform

__all__ = ["sysv_layout", "msvc_layout"]


def _size_align(t, plat):
    return _layout._size_align(t, plat)


def _round_up(value: int, align: int) -> int:
    return (value + align - 1) // align * align


def _finish(t: StructOrUnion, plat, end_bits: int, align: int, members) -> _layout.Layout:
    if t.aligned:
        align = max(align, t.aligned)
    size = _round_up((end_bits + 7) // 8, align)
    flat = []
    for m in members:
        flat.append(m)
        sub = resolve(m.type)
        if m.name is None and isinstance(sub, StructOrUnion) and m.bit_width is None:
            flat.pop()
            for inner in _layout.layout(sub, plat).fields:
                flat.append(_layout.FieldLayout(
                    inner.name, inner.type, m.offset + inner.offset, inner.size,
                    None if inner.bit_offset is None else inner.bit_offset + m.offset * 8,
                    inner.bit_width,
                ))
    return _layout.Layout(t, size, align, tuple(flat), _holes(members, size), tuple(members))


def _holes(members, size: int) -> tuple[tuple[int, int], ...]:
    used = bytearray(size)
    for m in members:
        if m.is_bitfield:
            if m.bit_width:
                for b in range(m.bit_offset // 8, (m.bit_offset + m.bit_width + 7) // 8):
                    if b < size:
                        used[b] = 1
        else:
            for b in range(m.offset, min(size, m.offset + m.size)):
                used[b] = 1
    holes, start = [], None
    for i, u in enumerate(used):
        if not u and start is None:
            start = i
        elif u and start is not None:
            holes.append((start, i - start))
            start = None
    if start is not None:
        holes.append((start, size - start))
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


def sysv_layout(t: StructOrUnion, plat: Platform) -> _layout.Layout:
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
                members.append(_layout.FieldLayout(f.name, f.type, bits // 8, size, bits, 0))
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
            members.append(_layout.FieldLayout(f.name, f.type, unit_offset, size, start, width))
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
        members.append(_layout.FieldLayout(f.name, f.type, start // 8, size))
        if is_union:
            end = max(end, size * 8)
        else:
            bits = start + size * 8
            end = bits
    return _finish(t, plat, end, align, members)


def msvc_layout(t: StructOrUnion, plat: Platform) -> _layout.Layout:
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
                members.append(_layout.FieldLayout(f.name, f.type, 0, size, 0, width))
                continue
            if width == 0:
                # After a bitfield, ':0' closes its unit and aligns for its own type;
                # anywhere else MSVC ignores it.
                if unit_start is not None:
                    offset = _round_up(unit_start + unit_size, falign)
                    unit_start = None
                members.append(_layout.FieldLayout(f.name, f.type, offset, size, offset * 8, 0))
                continue
            if unit_start is None or unit_size != size or unit_used + width > size * 8:
                if unit_start is not None:
                    offset = unit_start + unit_size
                unit_start = _round_up(offset, falign)
                unit_size, unit_used = size, 0
                align = max(align, falign)
            members.append(_layout.FieldLayout(f.name, f.type, unit_start, size,
                                       unit_start * 8 + unit_used, width))
            unit_used += width
            end = max(end, unit_start + unit_size)
            continue
        if unit_start is not None:
            offset = unit_start + unit_size
            unit_start = None
        start = 0 if t.is_union else _round_up(offset, falign)
        align = max(align, falign)
        members.append(_layout.FieldLayout(f.name, f.type, start, size))
        if t.is_union:
            end = max(end, size)
        else:
            offset = start + size
            end = offset
    return _finish(t, plat, end * 8, align, members)
