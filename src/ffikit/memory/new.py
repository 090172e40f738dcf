"""``ffikit.new``: zeroed C objects owned by Python, for out-parameters and small values."""

from __future__ import annotations

import ctypes
import weakref
from typing import Any

from ffikit.backends.ctypes.declarations import ctype_of as declared_ctype_of
from ffikit.backends.ctypes.types import ctype_of
from ffikit.cdecl import model as m
from ffikit.cdecl.declarations import _default_declarations, _owner
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


_text_cache: dict[str, type] = {}  # C text -> ctypes type, for built-in names (no defs)
_defs_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # defs -> {text: type}


def _resolve_ctype(spec: object, defs: object) -> type:
    if isinstance(spec, type) and issubclass(spec, _CData):
        return spec
    if type(spec) is str:  # text is resolved once per (declarations, text)
        try:
            per = _text_cache if defs is None else _defs_cache.setdefault(defs, {})
        except TypeError:  # declarations that cannot be weakly referenced: no cache
            per = {}
        found = per.get(spec)
        if found is None:
            found = _resolve_uncached(spec, defs)
            if defs is not None or _owner(spec, None) is _default_declarations():
                per[spec] = found  # without defs, only built-in names: a later cdef may add others
        return found
    return _resolve_uncached(spec, defs)


def _resolve_uncached(spec: object, defs: object) -> type:
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
