"""ctypes classes, typed: their common base, and array classes made and read.

ctypes' metaclasses make ``c_int * 3`` a class whose ``_type_`` and
``_length_`` say what it holds.  typeshed types ``*`` only on ctypes' own
classes, declares ``_type_``/``_length_`` for array *instances*, and names the
base of every ctypes type (``_CData``) only for type checkers.  Code that holds
ctypes classes as ``type`` (every class
:func:`ffikit.backends.ctypes.types.to_ctypes` gives) says what it means
through these names, the one place that tells mypy what it cannot see.
"""

from __future__ import annotations

import ctypes

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

if TYPE_CHECKING:
    from _ctypes import _CData as CData
else:
    CData = ctypes.c_int.__mro__[-2]  # _ctypes._CData: not importable at run time

__all__ = ["CData", "array_class", "array_parts"]


def array_class(item: type, length: int) -> type:
    """``item * length``: the class of ``length`` items of the ctypes class ``item``.

    ctypes caches it, so the same arguments give the same class.
    """
    return item * length  # type: ignore[operator,return-value]  # the metaclass's __mul__


def array_parts(cls: type[ctypes.Array[Any]]) -> tuple[type, int]:
    """``(item class, length)`` of a ctypes array class (the outermost dimension)."""
    return cls._type_, cls._length_  # type: ignore[return-value]  # class attributes here
