"""Structs passed and returned by value: the class libffi must see to use C's registers.

ffikit's struct classes spell out padding and bitfield storage as bytes, which
is right for memory but not for a by-value call: libffi picks registers from
the member types, so ``struct { float f; double d; }`` would travel wrongly.
"""

from __future__ import annotations

import ctypes

from ffikit.backends.ctypes.types import to_ctypes
from ffikit.cdecl.layout import Layout

__all__ = ["by_value_class"]


_BY_VALUE: dict = {}


def by_value_class(cls: type) -> type | None:
    """The ctypes class that passes a struct of class ``cls`` by value correctly, or None.

    libffi decides which registers carry a struct from its ctypes members, so
    the explicit padding and bitfield storage ffikit's classes carry (bytes)
    would send ``struct { float f; double d; }`` in the wrong registers.  This
    is a twin class with only the C members, laid out by ctypes itself, used
    only for the call (the bytes are the same); it exists when ctypes' own
    layout equals the C compiler's (checked member by member), else None
    (packed, raised alignment, anonymous members: ctypes cannot pass those).
    """
    if not issubclass(cls, (ctypes.Structure, ctypes.Union)):
        return cls
    if cls in _BY_VALUE:
        return _BY_VALUE[cls]
    _BY_VALUE[cls] = None  # a struct cannot contain itself by value: no recursion
    lay = getattr(cls, "_ffikit_layout_", None)
    twin = None if lay is None else _twin(cls, lay)
    _BY_VALUE[cls] = twin
    return twin


def _twin(cls: type, lay: Layout) -> type | None:
    if not any(name.startswith("_ffikit_") for name, *_ in cls._fields_) \
            and "_pack_" not in cls.__dict__ and cls.__bases__[0] in (ctypes.Structure,
                                                                     ctypes.Union):
        return cls  # ctypes laid it out itself: it passes as it is
    fields = []
    for m in lay.members:
        if m.name is None:
            return None
        ct = to_ctypes(m.type)
        item, dims = ct, []
        while issubclass(item, ctypes.Array):
            dims.append(item._length_)
            item = item._type_
        if issubclass(item, (ctypes.Structure, ctypes.Union)):
            item = by_value_class(item)
            if item is None:
                return None
            for n in reversed(dims):
                item = item * n
            ct = item
        fields.append((m.name, ct, m.bit_width) if m.is_bitfield else (m.name, ct))
    base = ctypes.Union if issubclass(cls, ctypes.Union) else ctypes.Structure
    twin = type(cls.__name__, (base,), {"_fields_": fields, "__module__": "ffikit.types"})
    if ctypes.sizeof(twin) != lay.size or ctypes.alignment(twin) != lay.alignment:
        return None
    for m in lay.members:
        if not m.is_bitfield and getattr(twin, m.name).offset != m.offset:
            return None
        if m.is_bitfield and not _same_bits(cls, twin, m.name):
            return None
    return twin


def _same_bits(cls: type, twin: type, name: str) -> bool:
    """A bitfield sits on the same bits in both classes (probed through their bytes)."""
    ours = cls()
    for value in (1, -1):
        try:
            setattr(ours, name, value)
            break
        except (ValueError, OverflowError, TypeError):
            continue
    theirs = twin.from_buffer_copy(bytes(ours))
    return getattr(theirs, name) == getattr(ours, name) != 0 and \
        bytes(cls.from_buffer_copy(bytes(theirs))) == bytes(ours)
