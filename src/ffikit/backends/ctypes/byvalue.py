"""Structs passed and returned by value: the class libffi must see to use C's registers.

Used for calls into C (the wrappers), and inside every function-pointer type
ffikit makes, so callbacks receive struct arguments from the right registers.

ffikit's struct classes spell out padding and bitfield storage as bytes, which
is right for memory but not for a by-value call: libffi picks registers from
the member types, so ``struct { float f; double d; }`` would travel wrongly.
"""

from __future__ import annotations

import ctypes

from ffikit.backends.ctypes import eightbytes
from ffikit.backends.ctypes.classes import array_class, array_parts
from ffikit.cdecl.gcc_layout import FieldLayout
from ffikit.cdecl.layout import Layout, int_info
from ffikit.cdecl.model import resolve

TYPE_CHECKING = False

if TYPE_CHECKING:
    from ctypes import _CFunctionType

__all__ = ["by_value_class", "struct_arguments", "why_not_by_value", "split_position",
           "eightbyte_classes"]


_BY_VALUE: dict = {}
_WHY: dict = {}  # class -> why it cannot travel by value through ctypes
_KINDS: dict = {}  # by-value class -> its eightbyte classes (x86-64 System V, up to 16 bytes)
_LAYOUT_WHY = ("its layout (packed, raised alignment or anonymous members) is one ctypes "
               "cannot pass by value correctly")


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
    lay = getattr(cls, "_ffikit_layout_", None)
    if lay is None:  # opaque, or still being built (a member refers back to it): not yet
        return None
    _BY_VALUE[cls] = None  # a struct cannot contain itself by value: no recursion
    twin = _twin(cls, lay)
    if twin is None:
        _WHY[cls] = _LAYOUT_WHY
    elif eightbytes.SYSV_X86_64:
        twin = _abi_twin(cls, lay, twin)
    elif eightbytes.holds_union(lay.type):  # libffi has no union type: ctypes describes one as a struct
        _WHY[cls] = "it is or holds a union, which libffi (ctypes) cannot pass by value"
        twin = None
    _BY_VALUE[cls] = twin
    return twin


def why_not_by_value(cls: type) -> str:
    """Why :func:`by_value_class` gave None for ``cls`` (for refusal messages)."""
    return _WHY.get(cls, _LAYOUT_WHY)


def _abi_twin(cls: type, lay: Layout, twin: type) -> type | None:
    """On x86-64 System V: for a union or array up to 16 bytes, a class of scalars with the
    struct's eightbyte classes; a plain run of words for a bigger union; else the member twin
    (ctypes describes plain scalar members to libffi as C has them)."""
    try:
        kinds, irregular = eightbytes.classes(lay.type)  # type: ignore[arg-type]
    except eightbytes.Unsupported as exc:
        _WHY[cls] = f"it holds {exc}, which ctypes cannot pass or return by value correctly"
        return None
    found: type | None = twin
    if kinds and irregular:
        found = eightbytes.register_twin(cls.__name__, lay.size, lay.alignment, kinds)
    elif not kinds and eightbytes.holds_union(lay.type):
        found = eightbytes.memory_twin(cls.__name__, lay.size, lay.alignment)
    if found is None:
        _WHY[cls] = _LAYOUT_WHY
        return None
    if found is not twin:
        found._ffikit_original_ = cls  # type: ignore[attr-defined]
    _KINDS[found] = kinds
    return found


def split_position(twin: type) -> bool:
    """True for a class libffi 3.4.4 passes wrongly in the last integer register:
    (INTEGER, SSE) eightbytes (it copies both into that slot, over the first SSE one)."""
    return _KINDS.get(twin) == (eightbytes.INTEGER, eightbytes.SSE)


def eightbyte_classes(twin: type | None) -> tuple[str, ...]:
    """The eightbyte classes of a by-value class (``()``: memory, not known, or None)."""
    return _KINDS.get(twin, ())


def _twin(cls: type[ctypes.Structure | ctypes.Union], lay: Layout) -> type | None:
    if not any(name.startswith("_ffikit_") for name, *_ in cls._fields_) \
            and "_pack_" not in cls.__dict__ and cls.__bases__[0] in (ctypes.Structure,
                                                                     ctypes.Union):
        return cls  # ctypes laid it out itself: it passes as it is
    fields: list[tuple[str, type] | tuple[str, type, int]] = []
    declared = {f[0]: f[1] for f in cls._fields_}  # every named member but bitfields has one
    named: list[tuple[str, FieldLayout]] = []
    for m in lay.members:
        if m.name is None:
            return None
        named.append((m.name, m))
        ct = declared[m.name] if m.bit_width is None else _bitfield_type(m)
        item, dims = _array_dims(ct)
        if issubclass(item, (ctypes.Structure, ctypes.Union)):
            twin_item = by_value_class(item)
            if twin_item is None:
                return None
            for n in reversed(dims):
                twin_item = array_class(twin_item, n)
            ct = twin_item
        fields.append((m.name, ct) if m.bit_width is None else (m.name, ct, m.bit_width))
    base = ctypes.Union if issubclass(cls, ctypes.Union) else ctypes.Structure
    twin = type(cls.__name__, (base,), {"_fields_": fields, "__module__": "ffikit.types",
                                        "_ffikit_original_": cls})
    if ctypes.sizeof(twin) != lay.size or ctypes.alignment(twin) != lay.alignment:
        return None
    for name, m in named:
        if not m.is_bitfield and getattr(twin, name).offset != m.offset:
            return None
        if m.is_bitfield and not _same_bits(cls, twin, name):
            return None
    return twin


def _array_dims(ct: type) -> tuple[type, list[int]]:
    """The innermost item class of a (nested) ctypes array class, and its lengths."""
    dims: list[int] = []
    while issubclass(ct, ctypes.Array):
        ct, length = array_parts(ct)
        dims.append(length)
    return ct, dims


def _bitfield_type(m: FieldLayout) -> type:
    """The ctypes integer of a bitfield's declared type (ctypes then places it as gcc does)."""
    if getattr(resolve(m.type), "name", None) == "_Bool":
        return ctypes.c_bool
    size, signed = int_info(m.type)
    return getattr(ctypes, f"c_{'' if signed else 'u'}int{size * 8}")


def _same_bits(cls: type[ctypes.Structure | ctypes.Union], twin: type[ctypes.Structure | ctypes.Union],
               name: str) -> bool:
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


def struct_arguments(fp_type: type[_CFunctionType]):
    """For a callback whose struct arguments arrive in twin classes: a function giving
    the callable its own classes back (same bytes); None when there are none."""
    originals = [getattr(t, "_ffikit_original_", None) for t in fp_type._argtypes_]
    if not any(originals):
        return None

    def restore(args: tuple) -> tuple:
        return tuple(a if o is None else o.from_buffer_copy(a) for o, a in zip(originals, args))

    return restore
