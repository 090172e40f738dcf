"""The fast path of ``ffikit.view(buf, "T[]")``: open-array view types, cached by size.

``view`` first resolves a ``'T[]'`` spec the slow way and records its item
type here (:data:`OPEN_SPECS`); afterwards a plain buffer of a size seen
before maps straight to the ``(T * n).from_buffer`` that views it
(:data:`OPEN_TYPES`), and its size is read the cheapest way its type allows
(:data:`NBYTES`: ``len`` for bytes, ``.nbytes`` for NumPy).
"""

from __future__ import annotations

import types
from operator import attrgetter

from ffikit.memory.typed_exports import exporting_type

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["OPEN_SPECS", "OPEN_TYPES", "NBYTES", "nbytes_reader", "open_type"]

OPEN_SPECS: dict = {}  # 'T[]' spec -> (item ctypes type, item size, alignment)
OPEN_TYPES: dict = {}  # 'T[]' spec -> {nbytes: ((T * count).from_buffer, alignment)}
NBYTES: dict = {bytes: len, bytearray: len, memoryview: memoryview.nbytes.__get__}


def nbytes_reader(tp: type) -> Any:
    """How to read the byte size of a plain buffer type cheaply (NumPy: ``.nbytes``)."""
    direct = isinstance(getattr(tp, "nbytes", None), types.GetSetDescriptorType)
    NBYTES[tp] = attrgetter("nbytes") if direct else (lambda o: memoryview(o).nbytes)
    return NBYTES[tp]


def open_type(ctype: Any, nbytes: int) -> tuple[Any, int] | None:
    """``(from_buffer, alignment)`` for a 'T[]' view of ``nbytes`` bytes, once the spec is known."""
    spec = OPEN_SPECS.get(ctype)
    if spec is None:
        return None
    items, rest = divmod(nbytes, spec[1])
    if rest or not items:
        return None
    sizes = OPEN_TYPES.setdefault(ctype, {})
    if len(sizes) > 64:  # many buffer sizes: stay small
        sizes.clear()
    view_type: Any = exporting_type(spec[0] * items)
    found = sizes[nbytes] = (view_type.from_buffer, spec[2])
    return found
