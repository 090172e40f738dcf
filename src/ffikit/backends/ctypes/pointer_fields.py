"""Struct pointer members that take buffers zero-copy and keep them alive.

The tutorial's ``Image {int width, height, channels; uint8_t *data;}`` wants
``img.data = numpy_array``.  Raw ctypes cannot take a buffer there, so people
copy with ``memmove`` or store a bare address that dangles once the array is
collected.  Here the member takes any C-contiguous buffer: it stores the
buffer's address and keeps a memoryview of it (an export: the source can be
neither collected nor resized) for as long as the struct refers to it.
Assigning a pointer, ``None`` or 0 releases it.

The reference is kept on the object that owns the memory, not on the one
assigned through: ``arr[0].data = buf`` and ``outer.img.data = buf`` assign
through temporaries (ctypes views whose ``_b_base_`` is ``arr``/``outer``), so
the keep-alive goes to the root of that ``_b_base_`` chain, keyed by the
member's byte offset in it, and lives as long as the memory C reads.
"""

from __future__ import annotations

import ctypes

from ffikit.backends.ctypes.pybuffer import export, memoryview_address
from ffikit.errors import NotContiguous, ReadOnlyBuffer

__all__ = ["BufferPointerField"]

_KEEP = "_ffikit_keep"
_RAW_BYTES = frozenset({"char", "signed char", "unsigned char", "uint8_t", "int8_t"})

# typed as a plain type: narrowing _SimpleCData by ctypes.Array crashes mypy's ctypes plugin
_ARRAY: type = ctypes.Array


def _owner(obj, offset: int) -> tuple[object, int]:
    """The object owning ``obj``'s memory (the root of its ``_b_base_`` chain) and the
    member's byte offset in it: where a keep-alive outlives temporaries."""
    root = obj
    while (base := root._b_base_) is not None:
        root = base
    return root, ctypes.addressof(obj) - ctypes.addressof(root) + offset


class BufferPointerField:
    """Descriptor wrapping a ctypes pointer member of an ffikit struct class."""

    def __init__(self, field, pointer_type: type, model, owner: str, name: str):
        self.field = field  # the original ctypes CField
        self.pointer_type = pointer_type
        self.model = model  # the member's model Pointer type
        self.owner = owner
        self.name = name
        self.offset = field.offset
        self.size = field.size

    def __get__(self, obj, cls=None):
        if obj is None:
            return self
        return self.field.__get__(obj, cls)

    def __set__(self, obj, value) -> None:
        root, key = _owner(obj, self.offset)
        keep = root.__dict__.get(_KEEP)
        if value is None or isinstance(value, (ctypes._Pointer, ctypes.c_void_p, int)) \
                or (isinstance(value, ctypes._SimpleCData) and not isinstance(value, _ARRAY)):
            self.field.__set__(obj, value)
            if keep:
                keep.pop(key, None)
            return
        mv = self._checked_view(value)
        address = memoryview_address(mv)
        if self.pointer_type is ctypes.c_void_p:
            self.field.__set__(obj, address)
        else:
            self.field.__set__(obj, ctypes.cast(address, self.pointer_type))
        if keep is None:
            keep = root.__dict__[_KEEP] = {}
        keep[key] = mv

    def _checked_view(self, value) -> memoryview:
        from ffikit.cdecl.model import VOID, resolve
        from ffikit.rules.kinds import format_kind, item_kind

        where = f"member '{self.name}' of '{self.owner}' ({self.model.c_name()})"
        try:
            mv = export(value)
        except TypeError:
            raise TypeError(f"{where} takes a buffer, a ctypes pointer or None, not "
                            f"{type(value).__name__}") from None
        if not mv.c_contiguous:
            raise NotContiguous(f"{where}: the buffer is not C-contiguous; pass "
                                "numpy.ascontiguousarray(a)")
        if mv.readonly and not self.model.const:
            raise ReadOnlyBuffer(f"{where}: the buffer is read-only ({type(value).__name__}) and "
                                 "C may write through this pointer; pass a writable copy")
        target = resolve(self.model.target)
        raw = target == VOID or getattr(target, "name", None) in _RAW_BYTES
        expected = item_kind(target)
        if not raw and expected is not None:
            given = format_kind(mv.format)
            if given != expected:
                raise TypeError(f"{where} points at {target.c_name()}, but the buffer holds "
                                f"items of format {mv.format!r}; pass an array of the right type")
        return mv
