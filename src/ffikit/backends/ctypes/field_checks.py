"""Struct and union members check what they are given, as arguments do.

A raw ctypes member wraps: ``S(a=2**40)`` stores 0 in an ``int``,
``s.b = 300`` stores 44 in an ``unsigned char``, ``S(c=1)`` (a typo) just
adds a Python attribute and C never sees it.  ffikit's struct classes get a
``__setattr__`` that checks a number member's value (range for integers and
enums, int or float for floating members, the ``float`` limit) and refuses
names that are not members, naming the struct and its members.  Reading a
member is untouched (ctypes' own descriptor, at ctypes speed); only
assignment and construction pay for the check (benchmarks/bench_layout.py).
Pointer members keep their own rules (:mod:`.pointer_fields`), bitfields
theirs (:mod:`.bitfields`), nested structs and arrays ctypes'.
"""

from __future__ import annotations

import ctypes
import math
import operator
from collections.abc import Callable

from ffikit.cdecl.layout import Platform
from ffikit.cdecl.model import Enum, Primitive, StructOrUnion, resolve
from ffikit.errors import ArgumentError, InvalidValue, UnknownMember
from ffikit.rules.kinds import int_range
from ffikit.rules.messages import given
from ffikit.rules.params import FLOAT_MAX

__all__ = ["install_checks", "member_checker", "setattr_slots", "union_setattr"]

_set = ctypes.Structure.__setattr__  # the generic attribute setter (ctypes' CField does the store)


def member_checker(owner: str, name: str, mtype, plat: Platform) -> Callable | None:
    """The check for assigning to member ``name`` of ``owner``; None if ctypes' own suffices."""
    r = resolve(mtype)
    where = f"member '{name}' of '{owner}' ({mtype.c_name()})"
    if isinstance(r, Enum) or (isinstance(r, Primitive) and r.is_integer and r.name != "wchar_t"):
        try:
            lo, hi = int_range(r, plat)  # the same ranges as arguments (ffikit.rules.kinds)
        except Exception:  # noqa: BLE001 - no integer layout (__int128 raw storage): ctypes' rule
            return None
        return _int_check(where, lo, hi, isinstance(r, Primitive) and r.name == "char")
    if isinstance(r, Primitive) and r.is_float:
        return _float_check(where, FLOAT_MAX if r.name == "float" else None)
    return None


def _int_check(where: str, lo: int, hi: int, is_char: bool) -> Callable:
    def check(value):
        if value.__class__ is int and lo <= value <= hi:
            return value
        if is_char and type(value) is bytes and len(value) == 1:
            return value
        if isinstance(value, (float, str, bytes, bytearray)) or value is None:
            number = None
        else:
            try:
                number = operator.index(value)
            except TypeError:
                number = None
        if number is None:
            extra = " or a 1-byte bytes" if is_char else ""
            raise ArgumentError(f"{where} must be an int{extra} (got {given(value)})")
        if not lo <= number <= hi:
            raise InvalidValue(f"{where} holds {lo}..{hi}, not {number} "
                               "(ctypes would wrap it silently)")
        return bytes([number & 0xFF]) if is_char else number
    return check


def _float_check(where: str, limit: float | None) -> Callable:
    def check(value):
        if value.__class__ is float and (limit is None or not abs(value) > limit
                                         or math.isinf(value)):
            return value
        if isinstance(value, (str, bytes, bytearray, bool)) or value is None:
            raise ArgumentError(f"{where} must be a float or int (got {given(value)})")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ArgumentError(f"{where} must be a float or int (got {given(value)})") from None
        except OverflowError:
            raise InvalidValue(f"{where} cannot hold an int of {value.bit_length()} bits") from None
        if limit is not None and abs(number) > limit and not math.isinf(number):
            raise InvalidValue(f"{where} overflows C float: {number!r}")
        return number
    return check


def _members(t: StructOrUnion) -> list:
    """``(name, type, is_bitfield)`` of every member reachable by name, anonymous ones flattened."""
    out = []
    for f in t.fields or ():
        if f.name is None:
            inner = resolve(f.type)
            if isinstance(inner, StructOrUnion):
                out += _members(inner)
            continue
        out.append((f.name, f.type, f.bitwidth is not None))
    return out


def install_checks(cls: type, t: StructOrUnion, plat: Platform) -> None:
    """Give ``cls`` (built from ``t``) a ``__setattr__`` that checks members and refuses typos."""
    owner = t.c_name() if (t.name or t.typedef_name) else cls.__name__
    members = _members(t)
    setters = {}
    for name, mtype, bits in members:
        check = None if bits else member_checker(owner, name, mtype, plat)
        if check is not None:
            setters[name] = _setter(check, cls.__dict__.get(name))
    known = frozenset(name for name, _, _ in members)
    listed = ", ".join(name for name, _, _ in members) or "none"

    def __setattr__(self, name, value):
        setter = setters.get(name)
        if setter is not None:
            return setter(self, value)
        if name not in known and name[:1] != "_" and not hasattr(type(self), name):
            raise UnknownMember(f"'{owner}' has no member {name!r} (its members: {listed})")
        _set(self, name, value)

    # ctypes classes get their checks after creation: mypy has no words for adding
    # attributes to a class object, or for replacing its __setattr__
    cls._ffikit_setattr_ = __setattr__  # type: ignore[attr-defined]
    if not issubclass(cls, ctypes.Union):  # unions: union_setattr, given at class creation
        cls.__setattr__ = __setattr__  # type: ignore[method-assign]


def _setter(check: Callable, field) -> Callable:
    """``(obj, value)`` -> the checked value stored through ctypes' own member descriptor."""
    store = getattr(field, "__set__", None)
    if store is None:  # pragma: no cover - every checked member is a ctypes CField
        return lambda obj, value: _set(obj, field, check(value))
    return lambda obj, value: store(obj, check(value))


def setattr_slots(is_union: bool) -> dict:
    """What a struct class's namespace needs at creation for :func:`install_checks`."""
    return {"__setattr__": union_setattr, "_ffikit_setattr_": _set} if is_union else {}


def union_setattr(self, name, value) -> None:
    """A union class's ``__setattr__`` from its creation: ctypes' Union metaclass (3.11)
    stores a later ``__setattr__`` without the slot update that makes it take effect."""
    type(self)._ffikit_setattr_(self, name, value)
