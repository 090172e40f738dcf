"""Exact NumPy dtypes for C types and zero-copy arrays over C memory.

NumPy cannot read many ctypes exports (``np.asarray(StudentArray)`` fails on
the PEP 3118 format ctypes writes for padded structs), and
``np.ctypeslib.as_array`` gets padding wrong for ffikit's packed classes.
Here the dtype comes from the layout ffikit computed (offsets, itemsize with
trailing padding, nested structs, sub-arrays), and the array is built over a
plain byte memoryview, so NumPy never has to parse a ctypes format.

Imported only when a NumPy function is called: NumPy stays optional.
"""

from __future__ import annotations

import ctypes
from _ctypes import CFuncPtr

from ffikit.backends.ctypes.classes import CData, array_parts
from ffikit.cdecl.declarations import Declarations
from ffikit.memory.owned import Memory, PagedMemory
from ffikit.memory.typed_exports import export_format
from ffikit.memory.views import _memoryview_of, _spec, is_readonly

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_TYPED_MEMORY = frozenset({Memory, PagedMemory})  # their buffer export is typed (typed_exports)

__all__ = ["dtype", "ctype", "asarray"]


_numpy: Any = None  # imported at first use (NumPy is an optional extra)


def _np():
    global _numpy
    if _numpy is None:
        try:
            import numpy
        except ImportError:
            raise ImportError(
                "this ffikit function needs NumPy: pip install 'ffikit[numpy]'") from None
        _numpy = numpy
    return _numpy


_SIMPLE = {
    "b": "i1", "B": "u1", "h": "i2", "H": "u2", "i": "i4", "I": "u4", "l": "i8", "L": "u8",
    "q": "i8", "Q": "u8", "f": "f4", "d": "f8", "g": "longdouble", "?": "?", "c": "S1",
    "P": "uintp", "z": "uintp", "Z": "uintp", "O": "O",
}
_dtype_cache: dict = {}


def dtype(ctype_spec: Any, *, defs: Declarations | None = None):
    """The NumPy dtype whose memory layout equals the C type's.

    Scalars map to their NumPy kind (``char`` -> ``S1``, pointers -> ``uintp``);
    arrays to sub-array dtypes; structs and unions to structured dtypes with
    the C offsets and ``itemsize`` (trailing padding included).  A bitfield
    run becomes one unsigned integer field over its storage bytes, named
    ``"a|b|c"`` after the bitfields it holds, and listed in the dtype's
    ``metadata["bitfields"]`` (NumPy has no bitfields; read them through the
    ctypes view).  ``dtype.alignment`` is the C alignment (an aligned dtype);
    where the members alone would give NumPy less, a zero-length
    ``_ffikit_align`` field raises it, and where C packs members below their
    own alignment the dtype is unaligned (alignment 1), as NumPy's packed ones are.
    """
    np = _np()
    return _dtype_of(_spec(ctype_spec, defs).item, np)


def _dtype_of(ct: type, np):
    found = _dtype_cache.get(ct)
    if found is not None:
        return found
    if issubclass(ct, ctypes.Array):
        item_type, length = array_parts(ct)
        if item_type is ctypes.c_char:
            result = np.dtype(f"S{length}")  # char name[50] reads as a bytes string
        else:
            inner = _dtype_of(item_type, np)
            if inner.subdtype is not None:  # int[2][3]: one (2, 3) sub-array
                result = np.dtype((inner.subdtype[0], (length, *inner.subdtype[1])))
            else:
                result = np.dtype((inner, (length,)))
    elif issubclass(ct, (ctypes.Structure, ctypes.Union)):
        result = _struct_dtype(ct, np)
    elif issubclass(ct, (ctypes._Pointer, CFuncPtr)):
        result = np.dtype(np.uintp)
    elif issubclass(ct, ctypes._SimpleCData):
        code = ct._type_  # type: ignore[attr-defined]  # a simple class's code ("i", "d"); not in typeshed
        if code == "u":
            result = np.dtype("U1") if ctypes.sizeof(ct) == 4 else np.dtype("u2")
        else:
            result = np.dtype(_SIMPLE[code])
        if result.itemsize != ctypes.sizeof(ct):
            result = np.dtype(f"V{ctypes.sizeof(ct)}")
    else:
        raise TypeError(f"no NumPy dtype for {ct!r}")
    _dtype_cache[ct] = result
    return result


def _struct_dtype(ct: type[ctypes.Structure | ctypes.Union], np):
    layout = getattr(ct, "_ffikit_layout_", None)
    names, formats, offsets = [], [], []
    bitfields: dict = {}
    if layout is not None:
        member_types = _member_types(ct)
        runs: dict = {}
        for field in layout.fields:
            if field.is_bitfield:
                if field.bit_width and field.name:
                    first = field.bit_offset // 8
                    last = (field.bit_offset + field.bit_width + 7) // 8
                    run = runs.setdefault(first, [first, last, []])
                    run[1] = max(run[1], last)
                    run[2].append(field.name)
                continue
            names.append(field.name)
            formats.append(_dtype_of(member_types[field.name], np))
            offsets.append(field.offset)
        for start, end, members in (runs[k] for k in sorted(runs)):
            width = end - start
            fmt = {1: "u1", 2: "u2", 4: "u4", 8: "u8"}.get(width, f"V{width}")
            name = "|".join(members)
            names.append(name)
            formats.append(np.dtype(fmt))
            offsets.append(start)
            bitfields[name] = members
    else:  # a ctypes struct written by hand
        for entry in ct._fields_:
            name, ftype = entry[0], entry[1]
            descriptor = getattr(ct, name)
            if len(entry) == 3:
                bitfields.setdefault(name, [name])
            names.append(name)
            formats.append(_dtype_of(ftype, np))
            offsets.append(descriptor.offset)
    metadata = {"bitfields": bitfields} if bitfields else None
    align = _aligned_spec(names, formats, offsets, layout, np)
    spec = {"names": names, "formats": formats, "offsets": offsets,
            "itemsize": ctypes.sizeof(ct)}
    if metadata:
        return np.dtype(spec, align=align, metadata=metadata)
    return np.dtype(spec, align=align)


_ALIGN_DTYPES = {1: "u1", 2: "u2", 4: "u4", 8: "u8"}


def _aligned_spec(names, formats, offsets, layout, np) -> bool:
    """Whether the dtype can carry the C alignment (``align=True``); may add a
    zero-length ``_ffikit_align`` field to raise NumPy's alignment to the C one.

    NumPy takes a structured dtype's alignment from its fields, so C alignment
    *below* a member's own (``#pragma pack``, a lowering ``aligned``) cannot be
    said: such dtypes are unaligned (alignment 1), like NumPy's packed dtypes.
    """
    if layout is None:
        return False
    want = layout.alignment
    dtypes = [np.dtype(f) for f in formats]
    most = max((d.alignment for d in dtypes), default=1)
    if most > want or any(off % d.alignment for off, d in zip(offsets, dtypes)):
        return False
    if most < want:
        code = _ALIGN_DTYPES.get(want)
        if code is None and np.dtype(np.longdouble).alignment == want:
            code = np.longdouble
        if code is None:
            return want == 1
        names.append("_ffikit_align")
        formats.append(np.dtype((np.dtype(code), (0,))))
        offsets.append(0)
    return True


def _member_types(ct: type[ctypes.Structure | ctypes.Union]) -> dict[str, type]:
    """Member name -> ctypes type, members of anonymous nested structs included."""
    found: dict[str, type] = {}
    anonymous = set(getattr(ct, "_anonymous_", ()))
    for name, ftype, *_ in ct._fields_:
        if name in anonymous and issubclass(ftype, (ctypes.Structure, ctypes.Union)):
            found.update(_member_types(ftype))
        else:
            found[name] = ftype
    return found


_CT = {
    "i1": ctypes.c_int8, "u1": ctypes.c_uint8, "i2": ctypes.c_int16, "u2": ctypes.c_uint16,
    "i4": ctypes.c_int32, "u4": ctypes.c_uint32, "i8": ctypes.c_int64, "u8": ctypes.c_uint64,
    "f4": ctypes.c_float, "f8": ctypes.c_double, "b1": ctypes.c_bool, "S1": ctypes.c_char,
}


def ctype(np_dtype: Any) -> type:
    """The ctypes type with the layout of a NumPy dtype (structured ones too)."""
    np = _np()
    dt = np.dtype(np_dtype)
    if dt.subdtype is not None:
        base, shape = dt.subdtype
        result = ctype(base)
        for n in reversed(shape):
            result = result * n
        return result
    if dt.fields:
        fields, cursor = [], 0
        items = sorted(((info[1], name, info[0]) for name, info in dt.fields.items()
                        if len(info) < 3 or info[2] is None),
                       key=lambda x: x[0])
        natural = True
        for offset, name, fdt in items:
            ft = ctype(fdt)
            if offset < cursor:
                raise TypeError(f"dtype {dt} has overlapping fields; ctypes structs cannot "
                                "express that (use a union)")
            if offset > cursor:
                fields.append((f"_pad_{cursor}", ctypes.c_uint8 * (offset - cursor)))
            if offset % ctypes.alignment(ft):
                natural = False
            fields.append((name, ft))
            cursor = offset + ctypes.sizeof(ft)
        if dt.itemsize > cursor:
            fields.append((f"_pad_{cursor}", ctypes.c_uint8 * (dt.itemsize - cursor)))
        namespace: dict[str, object] = {"_fields_": fields}
        if not natural or dt.itemsize % max((ctypes.alignment(f[1]) for f in fields), default=1):
            namespace = {"_pack_": 1, "_layout_": "ms", "_fields_": fields}
        return type("dtype_struct", (ctypes.Structure,), namespace)
    key = dt.newbyteorder("=").str[1:] if dt.byteorder in "<=|" else None
    if dt.kind == "S":
        return ctypes.c_char * dt.itemsize
    if dt.kind == "V":
        return ctypes.c_uint8 * dt.itemsize
    if dt.kind == "b":
        return ctypes.c_bool
    if key in _CT:
        return _CT[key]
    if dt.kind == "f" and dt.itemsize == ctypes.sizeof(ctypes.c_longdouble):
        return ctypes.c_longdouble
    raise TypeError(f"no ctypes type for NumPy dtype {dt} (non-native byte order, object, "
                    "string or datetime dtypes have none)")


def asarray(obj: Any, ctype_spec: Any = None, *, defs: Declarations | None = None):
    """A NumPy array over the memory of ``obj``, zero-copy, with the exact dtype.

    Parameters
    ----------
    obj
        A ctypes object (array, struct, scalar), ffikit memory, or any buffer.
    ctype_spec
        The C type of each element (``"Student[]"``, ``"double"``, a ctypes
        type).  Default: the ctypes object's own type (arrays give one element
        per item), or bytes for a raw buffer.

    Returns
    -------
    numpy.ndarray
        It shares memory with ``obj`` (writes show in both) and keeps it alive;
        read-only when ``obj`` is.
    """
    np = _np()
    if ctype_spec is None and type(obj) in _TYPED_MEMORY and export_format(obj.ctype) is not None:
        try:  # memoryview(m) already has the items' format and count: NumPy reads it as is
            return np.asarray(obj)
        except (TypeError, ValueError):
            pass  # freed, protected 'none': the general path says so in ffikit's words
    if ctype_spec is None and isinstance(obj, CData):
        ct = type(obj)
        mv = memoryview(obj).cast("B")
        if is_readonly(obj):
            mv = mv.toreadonly()
            ct = ct.__mro__[1]
        if issubclass(ct, ctypes.Array):
            item_type, length = array_parts(ct)
            if not issubclass(item_type, ctypes.Array):
                return np.frombuffer(mv, dtype=_dtype_of(item_type, np), count=length)
        return np.frombuffer(mv, dtype=_dtype_of(ct, np), count=1).reshape(())
    if ctype_spec is None:
        item = getattr(obj, "ctype", None)
        if isinstance(item, type) and isinstance(getattr(obj, "size", None), int):
            mv = _memoryview_of(obj, "ffikit.asarray")  # ffikit memory: its exact region
            return np.frombuffer(mv.cast("B") if mv.format != "B" else mv,
                                 dtype=_dtype_of(item, np), count=obj.size // ctypes.sizeof(item))
        ctype_spec = "uint8_t[]"
    spec = _spec(ctype_spec, defs)
    mv = _memoryview_of(obj, "ffikit.asarray")
    mv = mv.cast("B") if mv.format != "B" or mv.ndim != 1 else mv
    item = _dtype_of(spec.item, np)
    if spec.count is None:
        if mv.nbytes % item.itemsize:
            raise ValueError(f"ffikit.asarray: {mv.nbytes} bytes are not a whole number of "
                             f"'{spec.text[:-2]}' ({item.itemsize} bytes each)")
        return np.frombuffer(mv, dtype=item)
    if spec.size is not None and mv.nbytes < spec.size:  # a count gives a size
        from ffikit.errors import BufferTooSmall

        raise BufferTooSmall(f"ffikit.asarray: '{spec.text}' needs {spec.size} bytes, "
                             f"the buffer has {mv.nbytes}")
    if issubclass(spec.item, ctypes.Array):
        base: type = spec.item
        shape = []
        while issubclass(base, ctypes.Array):
            base, length = array_parts(base)
            shape.append(length)
        return np.frombuffer(mv, dtype=_dtype_of(base, np), count=int(np.prod(shape))
                             ).reshape(shape)
    return np.frombuffer(mv, dtype=item, count=1).reshape(())
