"""What alignment a ctypes class can carry on this Python, and how to give it.

From Python 3.13 a class says ``_align_``; before, the only way to raise a
struct class's alignment is an empty base class holding a zero-length array
of an item with that alignment (:func:`aligner`), which stops at the largest
alignment of a ctypes simple type (16 on x86-64 and AArch64).
"""

from __future__ import annotations

import ctypes
import sys

__all__ = ["HAS_ALIGN", "ALIGN_NOTE", "expressible_alignment", "aligner"]

HAS_ALIGN = sys.version_info >= (3, 13)  # ctypes' _align_ (gh-112433)
_ALIGN_ITEMS = {ctypes.alignment(c): c for c in (
    ctypes.c_uint8, ctypes.c_uint16, ctypes.c_uint32, ctypes.c_uint64, ctypes.c_longdouble)}
_CTYPES_MAX_ALIGN = max(_ALIGN_ITEMS)  # 16 on x86-64 and AArch64
_aligners: dict = {}
ALIGN_NOTE = (
    "\n\nC alignment is {want} bytes; ctypes on this Python can express at most {most}, "
    "so ctypes.alignment() says {most}.  ffikit's own answers (layout(), alignof, dtype) "
    "and ffikit structs that embed this one are exact.")


def expressible_alignment(align: int) -> int:
    """The alignment a ctypes class can carry on this Python (``align`` itself from 3.13)."""
    return align if HAS_ALIGN else min(align, _CTYPES_MAX_ALIGN)


def aligner(base: type, align: int) -> type:
    """An empty base class whose only effect is alignment ``align`` (Python < 3.13).

    ctypes starts a subclass's layout at the end of its base (here offset 0)
    with the base's alignment, and ``_pack_`` only limits the subclass's own
    members, so ``class S(aligner(Structure, 8)): _pack_ = 1`` is aligned to 8.
    """
    key = (base, align)
    found = _aligners.get(key)
    if found is None:
        found = type(f"_ffikit_align{align}_{base.__name__}", (base,),
                     {"_fields_": [("_ffikit_align", _ALIGN_ITEMS[align] * 0)],
                      "__module__": "ffikit.types"})
        _aligners[key] = found
    return found
