"""How refusals at the boundary are worded: one place for every backend.

Every message names the function, the parameter (by name and position), the
C type expected and what was given, as DESIGN.md "Rules at the boundary" asks.
Recognising a ctypes *value* a user passed is part of describing it, so this
module looks at ctypes objects; it never decides how anything reaches C.
"""

from __future__ import annotations

import ctypes

from ffikit.cdecl import model as m

__all__ = ["Param", "type_name", "short_repr", "given", "kind_name"]

_CData = ctypes.c_int.__mro__[-2]  # _ctypes._CData
_Pointer = ctypes._Pointer


def type_name(value: object) -> str:
    """What kind of Python value ``value`` is, as a message says it."""
    t = type(value)
    if isinstance(value, _Pointer):
        return f"ctypes pointer to {t._type_.__name__}"  # type: ignore[attr-defined]
    if isinstance(value, _CData):
        return f"ctypes {t.__name__}"
    if t.__module__ in ("builtins", None):
        return t.__qualname__
    return f"{t.__module__}.{t.__qualname__}"


def short_repr(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def given(value: object) -> str:
    """``int 5`` / ``bytes b'ab'`` for small values, the type name otherwise."""
    if isinstance(value, (int, float, str, bytes)) or value is None:
        return f"{type_name(value)} {short_repr(value)}"
    return type_name(value)


_KIND_NAMES = {"f": "float", "i": "int", "u": "uint", "b": "bool", "c": "char"}


def kind_name(kind: tuple[str, int] | None, fmt: str) -> str:
    """``int32``/``float64``/``char`` for a buffer item kind (or its raw format)."""
    if kind is None:
        return f"format {fmt!r}"
    letter, size = kind
    if letter in ("b", "c"):
        return _KIND_NAMES[letter]
    return f"{_KIND_NAMES[letter]}{size * 8}"


class Param:
    """Where a parameter sits, for messages: ``argument 2 'buf' of 'fill'``."""

    __slots__ = ("function", "index", "name", "type")

    def __init__(self, function: str, index: int, name: str | None, ctype: m.CType):
        self.function = function
        self.index = index
        self.name = name
        self.type = ctype

    def __str__(self) -> str:
        named = f" '{self.name}'" if self.name else ""
        return f"argument {self.index + 1}{named} of '{self.function}'"
