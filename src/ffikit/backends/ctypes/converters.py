"""Converters: one per declared parameter, turning a Python value into what ctypes passes.

Each converter is a closure over its parameter's :class:`~ffikit.rules.params.ParamRule`
and checks one constraint at a time, in the words of :mod:`ffikit.rules.messages`.
The generated wrappers (:mod:`ffikit.backends.ctypes.wrappers`) inline the
common case and call these for everything else, so both give the same answer.
"""

from __future__ import annotations

import ctypes
import operator
from collections.abc import Callable

from ffikit.backends.ctypes import callbacks
from ffikit.backends.ctypes.pybuffer import export, memoryview_address
from ffikit.backends.ctypes.types import ctype_of
from ffikit.cdecl import model as m
from ffikit.errors import (
    ArgumentError,
    MemoryReleased,
    NotContiguous,
    ProtectedMemory,
    ReadOnlyBuffer,
)
from ffikit.rules.kinds import format_kind, int_range
from ffikit.rules.messages import Param, given, kind_name, type_name
from ffikit.rules.params import FLOAT_MAX, param_rule

__all__ = [
    "int_slow", "float_slow", "struct_slow", "pointer_converter",
    "function_pointer_converter", "variadic_converter",
]

_c_void_p = ctypes.c_void_p
_CData = ctypes.c_int.__mro__[-2]  # _ctypes._CData
_Pointer = ctypes._Pointer
_CFuncPtr = ctypes.CFUNCTYPE(None).__mro__[1]
_CArgObject = type(ctypes.byref(ctypes.c_int()))
_POINTERISH = (_Pointer, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_wchar_p, _CFuncPtr)

# --------------------------------------------------------------------------------------
# slow paths and converters, one per parameter (closures over declaration data)


def int_slow(where: Param, lo: int, hi: int, is_char: bool) -> Callable[[object], int]:
    cname = where.type.c_name()

    def convert(value: object) -> int:
        if is_char and type(value) is bytes and len(value) == 1:
            number = value[0]
            if lo < 0 and number > hi:
                number -= 256
            return number
        if isinstance(value, (float, str, bytes, bytearray)) or value is None:
            number = None
        else:
            try:
                number = operator.index(value)  # type: ignore[arg-type]
            except TypeError:
                number = None
        if number is None:
            extra = " or a 1-byte bytes" if is_char else ""
            raise ArgumentError(
                f"{where} must be an int{extra} for C type {cname} (got {given(value)})"
            )
        if not lo <= number <= hi:
            raise ArgumentError(
                f"{where} is out of range for C type {cname}: {number} not in [{lo}, {hi}]"
                " (ctypes would wrap it silently)"
            )
        return number

    return convert


def float_slow(where: Param, wrap: type | None) -> Callable[[object], object]:
    cname = where.type.c_name()
    limit = FLOAT_MAX if wrap is ctypes.c_float else None

    def convert(value: object) -> object:
        if isinstance(value, (str, bytes, bytearray)) or value is None:
            number = None
        else:
            try:
                number = float(value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                number = None
            except OverflowError:
                raise ArgumentError(
                    f"{where} is too large for C type {cname} (got int with "
                    f"{value.bit_length()} bits)"  # type: ignore[union-attr]
                ) from None
        if number is None:
            raise ArgumentError(f"{where} must be a float or int for C type {cname} (got {given(value)})")
        if limit is not None and abs(number) > limit and number != float("inf"):
            raise ArgumentError(f"{where} is out of range for C type {cname}: {number!r} overflows float")
        return number if wrap is None else wrap(number)

    return convert


def struct_slow(where: Param, struct_type: type) -> Callable[[object], object]:
    def convert(value: object) -> object:
        if isinstance(value, struct_type):
            return value
        raise ArgumentError(
            f"{where} must be a {where.type.c_name()} ({struct_type.__name__} instance) "
            f"passed by value (got {given(value)})"
        )

    return convert


def pointer_converter(where: Param, encoding: str) -> Callable[[object], tuple[object, object]]:
    """``value -> (what ctypes passes, what must stay alive until the call returns)``."""
    rule = param_rule(where.type)
    ptr = rule.ctype
    assert isinstance(ptr, m.Pointer)
    target = rule.pointee
    const = rule.const
    cname = where.type.c_name()
    target_ctype = ctype_of(target) if not isinstance(target, m.Void) else None
    is_void = isinstance(target, m.Void)
    raw_ok = rule.raw_ok
    is_char = rule.char_target
    want = rule.item_kind
    target_is_pointer = rule.target_is_pointer
    is_struct = rule.target_is_struct
    target_size = rule.pointee_size
    pointee = ptr.target.c_name()

    def refuse(what: str, value: object, error: type = ArgumentError) -> Exception:
        return error(f"{where} must be {what} (got {given(value)})")

    def from_ctypes_pointer(value: object) -> tuple[object, object]:
        vt = type(value)
        if target_is_pointer and (vt is target_ctype or isinstance(value, (_Pointer, _c_void_p))):
            return ctypes.byref(value), value  # an out-slot for a pointer: pass its address
        if raw_ok or is_void or vt is ptr_ctype:
            return value, None
        if isinstance(value, _Pointer) and value._type_ is target_ctype:  # type: ignore[attr-defined]
            return value, None
        if isinstance(value, _Pointer) and _same_simple(value._type_, target_ctype):  # type: ignore[attr-defined]
            return value, None
        raise refuse(f"a pointer to {pointee} (a {cname})", value)

    ptr_ctype = ctype_of(ptr) if not isinstance(target, m.FunctionType) else None

    def convert(value: object) -> tuple[object, object]:
        if value is None:
            return None, None
        vt = type(value)
        if vt is bytes:
            if not const:
                raise ReadOnlyBuffer(
                    f"{where} must be a writable buffer of {pointee} (got bytes, read-only); "
                    "C may write through a non-const pointer: pass a bytearray"
                )
            if raw_ok or is_char:
                return value, value  # ctypes passes bytes' own data: zero-copy
        elif vt is str:
            if is_char and const:
                try:
                    data = value.encode(encoding)  # type: ignore[attr-defined]
                except UnicodeEncodeError as exc:
                    raise ArgumentError(
                        f"{where} cannot be encoded as {encoding} for C type {cname} ({exc.reason} "
                        f"at position {exc.start}); pass bytes, or load(..., encoding=...)"
                    ) from None
                return data, data
            hint = "; pass a bytearray" if is_char else ""
            raise refuse(f"a buffer of {pointee} for C type {cname}{hint}", value)
        if isinstance(value, _POINTERISH):
            return from_ctypes_pointer(value)
        if vt is _CArgObject:  # ctypes.byref(obj): checked as obj would be
            inner = value._obj  # type: ignore[attr-defined]
            element = inner._type_ if isinstance(inner, ctypes.Array) else type(inner)
            if raw_ok or element is target_ctype or _same_simple(element, target_ctype):
                return value, None
            raise refuse(f"a pointer to {pointee} (byref of {element.__name__} given)", value)
        if is_struct and isinstance(value, _CData):
            element = value._type_ if isinstance(value, ctypes.Array) else vt  # type: ignore[attr-defined]
            if element is not target_ctype:
                raise ArgumentError(
                    f"{where} must be a {pointee} (or an array of them) for C type {cname} "
                    f"(got {type_name(value)} of {element.__name__}); structs are matched by "
                    "declaration, use the type from the same declarations (lib.defs)"
                )
        try:
            view = export(value)  # ffikit memory: its region; read-only views: read-only
        except TypeError:
            raise refuse(f"a buffer of {pointee}, a ctypes pointer or None for C type {cname}", value) from None
        except (MemoryReleased, ProtectedMemory) as exc:  # freed or 'none' ffikit memory
            raise type(exc)(f"{where}: {exc}") from None
        if not view.c_contiguous:
            raise NotContiguous(
                f"{where} must be a C-contiguous buffer of {pointee} (got {type_name(value)}, "
                "not contiguous); pass numpy.ascontiguousarray(x) (a copy) or a contiguous slice"
            )
        if view.readonly and not const:
            raise ReadOnlyBuffer(
                f"{where} must be a writable buffer of {pointee} (got {type_name(value)}, read-only); "
                "C may write through a non-const pointer: pass a writable copy, e.g. bytearray(x)"
            )
        if not raw_ok:
            fmt = view.format
            if want is not None:
                got = format_kind(fmt)
                if got != want and not (is_char and got in (("i", 1), ("u", 1))):
                    raise ArgumentError(
                        f"{where} must be a buffer of {pointee} (got {type_name(value)} of "
                        f"{kind_name(got, fmt)}, format {fmt!r}); convert it first, e.g. "
                        f"numpy.asarray(x, dtype=...) or array.array with the matching typecode"
                    )
            elif view.itemsize != target_size or not (fmt.startswith("T{") or fmt in ("P",) or fmt.startswith("&")):
                raise ArgumentError(
                    f"{where} must be a buffer of {pointee} items of {target_size} bytes "
                    f"(got {type_name(value)} with format {fmt!r}, itemsize {view.itemsize}); "
                    f"view raw bytes as {pointee} with ffikit.view(buf, '{pointee}[]')"
                )
        return _c_void_p(memoryview_address(view)), view

    return convert


def _same_simple(a: type, b: type | None) -> bool:
    return (
        b is not None
        and getattr(a, "_type_", None) == getattr(b, "_type_", 0)
        and isinstance(getattr(a, "_type_", None), str)
        and ctypes.sizeof(a) == ctypes.sizeof(b)
    )


def function_pointer_converter(where: Param, fp_type: type) -> Callable[[object], tuple[object, object]]:
    func_type = m.resolve(m.resolve(where.type).target)  # type: ignore[attr-defined]

    def convert(value: object) -> tuple[object, object]:
        if value is None:
            return None, None
        if isinstance(value, callbacks.Callback):
            return value.thunk, value
        if isinstance(value, _CFuncPtr):
            return value, None
        if callable(value):
            thunk = callbacks.make_thunk(fp_type, func_type, value, on_error=0)
            return thunk, thunk  # alive until the C function returns
        raise ArgumentError(
            f"{where} must be a Python callable, an ffikit.callback or None for C type "
            f"{where.type.c_name()} (got {given(value)})"
        )

    return convert


# --------------------------------------------------------------------------------------
# variadic arguments: C default argument promotions

_INT_MIN, _INT_MAX = int_range(m.Primitive("int"))
_LONG_MIN, _LONG_MAX = int_range(m.Primitive("long long"))


def variadic_converter(function: str, first_index: int, encoding: str):
    def convert(extra: tuple) -> tuple[list, list]:
        args: list = []
        keep: list = []
        for offset, value in enumerate(extra):
            where = f"variadic argument {first_index + offset + 1} of '{function}'"
            vt = type(value)
            if vt is bool or vt is int or (isinstance(value, int)):
                number = int(value)
                if _INT_MIN <= number <= _INT_MAX:
                    args.append(ctypes.c_int(number))
                elif _LONG_MIN <= number <= _LONG_MAX:
                    args.append(ctypes.c_longlong(number))
                elif 0 <= number <= 2**64 - 1:
                    args.append(ctypes.c_ulonglong(number))
                else:
                    raise ArgumentError(f"{where} does not fit any C integer type (got int {number})")
            elif isinstance(value, float):
                args.append(ctypes.c_double(value))
            elif vt is bytes:
                args.append(value)
            elif vt is str:
                data = value.encode(encoding)
                keep.append(data)
                args.append(data)
            elif value is None:
                args.append(None)
            elif isinstance(value, _CData):
                args.append(value)
            else:
                try:
                    view = export(value)
                except TypeError:
                    raise ArgumentError(
                        f"{where} must be an int, float, bytes, str, None, a buffer or a ctypes "
                        f"object (got {given(value)})"
                    ) from None
                if not view.c_contiguous:
                    raise NotContiguous(f"{where} must be a C-contiguous buffer (got {type_name(value)})")
                keep.append(view)
                args.append(_c_void_p(memoryview_address(view)))
        return args, keep

    return convert
