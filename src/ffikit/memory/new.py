"""``ffikit.new``: zeroed C objects owned by Python, for out-parameters and small values."""

from __future__ import annotations

import ctypes
from typing import Any

from ffikit.backends.ctypes.declarations import ctype_of as declared_ctype_of
from ffikit.backends.ctypes.types import ctype_of
from ffikit.cdecl import model as m
from ffikit.memory import tracking
from ffikit.rules.messages import given

__all__ = ["new"]

_CData = ctypes.c_int.__mro__[-2]  # _ctypes._CData


def new(ctype_or_text: object, init: object = None, *, defs: object = None) -> Any:
    """Allocate a zeroed C object to pass by address to a ``T *`` parameter.

    Parameters
    ----------
    ctype_or_text
        A ctypes type, a model type, or C type text (``"uLong"``,
        ``"sqlite3 *"``, ``"int[4]"``); text naming user types needs ``defs``
        (or use ``lib.new(text)``, which uses the library's declarations).
    init
        Initial value (a number for scalars, a sequence for arrays).
    defs
        The :class:`ffikit.Declarations` that define the names in the text.

    Returns
    -------
    ctypes object
        Owned by Python (freed with it).  Passed to a ``T *`` parameter it
        goes by address; afterwards read ``slot.value`` (scalars) or use the
        pointer it now holds (``new("sqlite3 *")``).
    """
    ct = _resolve_ctype(ctype_or_text, defs)
    if init is None:
        obj = ct()
    elif issubclass(ct, ctypes.Array):
        obj = ct(*init)  # type: ignore[misc]
    else:
        obj = ct(init)
    if tracking.ACTIVE:
        tracking.record("new", obj, ctypes.sizeof(obj), ctypes.addressof(obj))
    return obj


def _resolve_ctype(spec: object, defs: object) -> type:
    if isinstance(spec, type) and issubclass(spec, _CData):
        return spec
    if isinstance(spec, m.CType):
        ct = ctype_of(spec)
    elif isinstance(spec, str):
        if defs is not None and hasattr(defs, "ctype"):
            ct = defs.ctype(spec)
        else:
            ct = _text_ctype(spec, defs)
    else:
        raise TypeError(f"ffikit.new() needs a ctypes type, a model type or C type text (got {given(spec)})")
    if ct is None:
        raise TypeError(f"ffikit.new({spec!r}): cannot allocate void")
    return ct


def _text_ctype(text: str, defs: object) -> type:
    return declared_ctype_of(text, defs)  # type: ignore[arg-type]
