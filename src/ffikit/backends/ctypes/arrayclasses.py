"""ctypes array classes, typed: making ``item * n`` and reading its item class and length.

ctypes' metaclasses make ``c_int * 3`` a class whose ``_type_`` and
``_length_`` say what it holds.  typeshed types ``*`` only on ctypes' own
classes and declares ``_type_``/``_length_`` for array *instances*, so code
that builds or reads array classes from classes it holds as ``type`` (every
class :func:`ffikit.backends.ctypes.types.to_ctypes` gives) says so through
these two functions, the one place that tells mypy what it cannot see.
"""

from __future__ import annotations

import ctypes
from typing import Any

__all__ = ["array_class", "array_parts"]


def array_class(item: type, length: int) -> type:
    """``item * length``: the class of ``length`` items of the ctypes class ``item``.

    ctypes caches it, so the same arguments give the same class.
    """
    return item * length  # type: ignore[operator,return-value]  # the metaclass's __mul__


def array_parts(cls: type[ctypes.Array[Any]]) -> tuple[type, int]:
    """``(item class, length)`` of a ctypes array class (the outermost dimension)."""
    return cls._type_, cls._length_  # type: ignore[return-value]  # class attributes here
