"""``ffikit.new``: zeroed C objects owned by Python, for out-parameters and small values.

Initial values are checked as a call argument of the same C type would be:
integers must fit (``new("uint8_t", -1)`` is refused, where ctypes wraps it
to 255), floats must be numbers, and an array initialiser must fit the
array (``new("char[3]", b"abcdef")`` raises :class:`ffikit.BufferTooSmall`).

``new("T *")`` has cffi's meaning: a zeroed ``T`` is allocated and the
result is a pointer to it, which keeps it alive.  Where ``T`` has no size
(``void *``, an opaque ``sqlite3 *``, a function pointer) there is nothing
to allocate, and the result is a NULL pointer slot: pass it to a ``T **``
parameter and C stores a pointer in it.
"""

from __future__ import annotations

import ctypes
import operator
import weakref
from _ctypes import CFuncPtr
from typing import Any, SupportsIndex

from ffikit.backends.ctypes.declarations import ctype_of as declared_ctype_of
from ffikit.backends.ctypes.types import ctype_int_range, ctype_of
from ffikit.backends.ctypes.variadic import SLOT
from ffikit.cdecl import model as m
from ffikit.cdecl.declarations import _default_declarations, _owner
from ffikit.errors import ArgumentError, BufferTooSmall, OutOfRange
from ffikit.memory import tracking
from ffikit.rules.messages import given
from ffikit.rules.params import FLOAT_MAX

__all__ = ["new"]

_CData = ctypes.c_int.__mro__[-2]  # _ctypes._CData
_SCALAR = ctypes.c_int.__mro__[1]  # _ctypes._SimpleCData


def new(ctype_or_text: object, init: object = None, *, defs: object = None) -> Any:
    """Allocate a zeroed C object to pass by address to a ``T *`` parameter.

    Parameters
    ----------
    ctype_or_text
        A ctypes type, a model type, or C type text (``"uLong"``,
        ``"int *"``, ``"int[4]"``); text naming user types needs ``defs``
        (or use ``lib.new(text)``, which uses the library's declarations).
    init
        Initial value: a number for scalars (range-checked like a call
        argument), a sequence (or bytes, for ``char[]``) for arrays, a
        sequence or dict of fields for structs; for ``"T *"``, the ``T``'s.
    defs
        The :class:`ffikit.Declarations` that define the names in the text.

    Returns
    -------
    ctypes object
        Owned by Python (freed with it).  Passed to a ``T *`` parameter it
        goes by address; afterwards read ``slot.value`` (scalars).
        ``new("T *")`` returns a pointer to a fresh zeroed ``T`` that keeps it
        alive, or a NULL slot for a ``T **`` parameter when ``T`` has no size
        (``lib.new("sqlite3 *")``).

    Raises
    ------
    ArgumentError
        ``init`` does not fit the type (out of range, wrong kind).
    BufferTooSmall
        An array initialiser longer than the array.
    """
    ct = _resolve_ctype(ctype_or_text, defs)
    what = _spelling(ctype_or_text)
    if issubclass(ct, ctypes._Pointer) and _has_size(ct._type_):  # type: ignore[attr-defined]
        target = _make(ct._type_, init, what)  # type: ignore[attr-defined]
        obj = ctypes.pointer(target)  # its _objects keep the target alive
        if tracking.ACTIVE:
            tracking.record("new", obj, ctypes.sizeof(target), ctypes.addressof(target))
        return obj
    obj = _make(ct, init, what)
    if isinstance(obj, _SCALAR):  # a slot: a variadic argument goes by address (its pointer)
        setattr(obj, SLOT, True)
    if tracking.ACTIVE:
        tracking.record("new", obj, ctypes.sizeof(obj), ctypes.addressof(obj))
    return obj


def _has_size(ct: type | None) -> bool:
    if ct is None or getattr(ct, "_ffikit_layout_", True) is None:  # void, opaque struct
        return False
    size = ctypes.sizeof(ct)
    return not issubclass(ct, CFuncPtr) and size > 0  # a function: nothing to allocate


def _make(ct: type, init: object, what: str):
    if init is None:
        return ct()
    if issubclass(ct, ctypes.Array):
        return _array(ct, init, what)
    if issubclass(ct, (ctypes.Structure, ctypes.Union)):
        try:
            if isinstance(init, dict):
                return ct(**init)
            if isinstance(init, (tuple, list)):
                return ct(*init)
            return ct(init)
        except (TypeError, ValueError, AttributeError, IndexError, OverflowError) as exc:
            raise ArgumentError(f"ffikit.new('{what}'): cannot initialise it from "
                                f"{given(init)} ({exc})") from None
    return ct(_scalar(ct, init, what))  # type: ignore[call-arg]  # a simple ctypes class


def _array(ct: type, init: object, what: str):
    length, item = ct._length_, ct._type_  # type: ignore[attr-defined]
    if isinstance(init, (bytes, bytearray, str)) and item in (ctypes.c_char, ctypes.c_wchar):
        if isinstance(init, str) != (item is ctypes.c_wchar):
            raise ArgumentError(f"ffikit.new('{what}'): initialise it with "
                                f"{'str' if item is ctypes.c_wchar else 'bytes'}, not "
                                f"{type(init).__name__}")
        if len(init) > length:
            raise BufferTooSmall(f"ffikit.new('{what}'): the initialiser has {len(init)} "
                                 f"characters, the array holds {length}")
        obj = ct()
        obj[:len(init)] = init
        return obj
    try:
        values = list(init)  # type: ignore[call-overload]
    except TypeError:
        raise ArgumentError(f"ffikit.new('{what}'): an array is initialised from a sequence, "
                            f"not {given(init)}") from None
    if len(values) > length:
        raise BufferTooSmall(f"ffikit.new('{what}'): the initialiser has {len(values)} items, "
                             f"the array holds {length}")
    obj = ct()
    simple = issubclass(item, ctypes._SimpleCData)
    for index, value in enumerate(values):
        label = f"{what}', item {index}: '{_spelling(item)}"
        obj[index] = _scalar(item, value, label) if simple else _make(item, value, label)
    return obj


def _scalar(ct: type, value: object, what: str) -> object:
    """``value`` checked for the simple ctypes type ``ct``, as a call argument is."""
    code = getattr(ct, "_type_", None)
    if not isinstance(code, str):
        return value
    if code in "bBhHiIlLqQ?" or (code == "c" and not isinstance(value, bytes)):
        number: int | None = None
        if not isinstance(value, (float, str, bytes, bytearray)) and \
                isinstance(value, SupportsIndex):
            try:
                number = operator.index(value)
            except TypeError:
                number = None
        if number is None:
            raise ArgumentError(f"ffikit.new('{what}'): needs an int, got {given(value)}")
        # the call boundary's ranges; a char holds either reading of a byte
        lo, hi = (-128, 255) if code == "c" else ctype_int_range(ct)
        if not lo <= number <= hi:
            raise OutOfRange(f"ffikit.new('{what}'): {number} is out of range, not in "
                             f"[{lo}, {hi}] (ctypes would wrap it silently)")
        return number if code != "c" else bytes([number & 0xFF])
    if code in "fdg":
        if isinstance(value, (str, bytes, bytearray)) or value is None:
            raise ArgumentError(f"ffikit.new('{what}'): needs a float or int, got {given(value)}")
        try:
            real = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError):
            raise ArgumentError(f"ffikit.new('{what}'): needs a float or int, got "
                                f"{given(value)}") from None
        limit = FLOAT_MAX if code == "f" else None  # C float; double and long double: none
        if limit is not None and abs(real) > limit and real != float("inf"):
            raise OutOfRange(f"ffikit.new('{what}'): {real!r} overflows float")
        return real
    try:
        ct(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ArgumentError(f"ffikit.new('{what}'): cannot hold {given(value)} ({exc})") from None
    return value


def _spelling(spec: object) -> str:
    if isinstance(spec, str):
        return spec
    if isinstance(spec, m.CType):
        return spec.c_name()
    return getattr(spec, "__name__", repr(spec))


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
        raise ArgumentError(f"ffikit.new() needs a ctypes type, a model type or C type text "
                            f"(got {given(spec)})")
    if ct is None:
        raise ArgumentError(f"ffikit.new({spec!r}): cannot allocate void")
    return ct


def _text_ctype(text: str, defs: object) -> type:
    return declared_ctype_of(text, defs)  # type: ignore[arg-type]
