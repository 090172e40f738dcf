"""Typed exports: memory and views seen by other libraries as their items, not bytes.

``memoryview(m)`` of ``alloc("double", 3)`` has format ``"d"`` and shape
``(3,)`` (:func:`exported_as_items`): NumPy asks for the buffer before any other
protocol, so ``np.asarray(m)`` is float64 ``(3,)``.  ``m[i]``, ``bytes(m)`` and
``m.region()`` stay bytes.

A typed view (``ffikit.view(buf, "double[8]")``, ``m.view``) is a ctypes array.
ctypes' own buffer export is typed, so ``np.asarray(v)`` sees float64 ``(8,)``;
but ``torch.from_dlpack(v)`` and ``np.from_dlpack(v)`` ask for ``__dlpack__``,
which ctypes arrays lack.  ffikit hands out, for each array type of integers,
floats or bool (nested arrays too: ``double[3][4]`` is 3x4), a subclass that adds
``__dlpack__``/``__dlpack_device__``.  It is still an instance of the ctypes
array type, so ctypes, ffikit calls and ``isinstance`` treat it as before.

The capsule holds an export of the view, which holds its source, so the memory
outlives the consumer's tensor; a read-only view exports read-only (DLPack 1.0's
flag; an older consumer is refused).
"""

from __future__ import annotations

import ctypes

from ffikit.backends.ctypes.arrays import dlpack_type
from ffikit.memory.arrayexport import capsule, check_request

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["exporting_type", "exported_as_items", "export_format"]

_CPU = 1
_cache: dict[type, type] = {}
_CASTABLE = frozenset("bhHiIlLqQfd?P")  # item formats memoryview.cast takes (not 'B': bytes)
_EXPORT_CODES: dict = {}  # item type -> the format memoryview(m) has, or None: bytes


def exported_as_items(target: Any, spec: Any) -> Any:
    """What ``memoryview(m)`` of memory with ``spec``'s items forwards to: ``target``
    cast to the item's format when the items are one simple C type, else ``target``."""
    code = export_format(spec.item)
    if code is None or target is None:
        return target
    raw: Any = memoryview(target)  # (typeshed's cast takes literal formats only)
    return raw.cast(code)


def export_format(item: type) -> str | None:
    """The format ``memoryview(m)`` has for memory of ``item``s, or None: bytes."""
    try:
        return _EXPORT_CODES[item]
    except KeyError:
        code = getattr(item, "_type_", None)
        if not (isinstance(code, str) and code in _CASTABLE):
            code = None
        _EXPORT_CODES[item] = code
        return code


def _shape(array_type: type) -> tuple[tuple[int, ...], type]:
    """``(shape, scalar item type)`` of a (nested) ctypes array type."""
    shape: list[int] = []
    t: Any = array_type
    while isinstance(t, type) and issubclass(t, ctypes.Array):
        length: int = getattr(t, "_length_")  # noqa: B009 - a class attribute typeshed types oddly
        shape.append(length)
        t = t._type_
    return tuple(shape), t


def _dlpack(self: Any, *, stream: object = None, max_version: tuple[int, int] | None = None,
            dl_device: tuple[int, int] | None = None, copy: bool | None = None) -> object:
    """A DLPack capsule of this view's items, at its address (no copy)."""
    check_request(dl_device, copy)
    shape, item = _shape(type(self))
    readonly = bool(getattr(type(self), "_ffikit_readonly_", False))
    return capsule(memoryview(self), item, shape, readonly, max_version)


def _dlpack_device(self: Any) -> tuple[int, int]:
    return (_CPU, 0)


def exporting_type(vtype: type) -> type:
    """``vtype``, or for an array of integers, floats or bool its DLPack-exporting subclass."""
    found = _cache.get(vtype)
    if found is not None:
        return found
    result = vtype
    if issubclass(vtype, ctypes.Array) and "__dlpack__" not in vtype.__dict__:
        _, item = _shape(vtype)
        try:
            dlpack_type(item)
        except BufferError:
            pass
        else:
            metaclass: Any = type(vtype)  # ctypes' array metaclass makes the subclass
            result = metaclass(vtype.__name__, (vtype,), {
                "__slots__": (), "__module__": vtype.__module__,
                "__dlpack__": _dlpack, "__dlpack_device__": _dlpack_device})
    _cache[vtype] = result
    return result
