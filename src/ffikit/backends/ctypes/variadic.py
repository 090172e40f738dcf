"""Variadic arguments: C's default promotions, or a literal format's conversions.

A variadic C function cannot say what its ``...`` takes, so by default each
Python value is passed as C's default argument promotions would pass it
(``int`` as ``int`` or ``long long`` by size, ``float`` as ``double``, bytes
and buffers as pointers), unchecked, as in C.  When the declaration carries
``format (printf, i, j)`` and the format is a literal, the arguments are
checked against it first (:mod:`ffikit.rules.formats`) and each is passed as
the C type its conversion names.
"""

from __future__ import annotations

import ctypes

from ffikit.backends.ctypes.converters import _CData, _has_nul
from ffikit.backends.ctypes.pybuffer import export, memoryview_address
from ffikit.cdecl import model as m
from ffikit.errors import ArgumentError, BufferTooSmall, NotContiguous
from ffikit.rules.formats import check_printf, scanf_count
from ffikit.rules.kinds import int_range
from ffikit.rules.messages import given, type_name

__all__ = ["variadic_converter"]

_c_void_p = ctypes.c_void_p

_INT_MIN, _INT_MAX = int_range(m.Primitive("int"))
_LONG_MIN, _LONG_MAX = int_range(m.Primitive("long long"))


_PASS_AS = {
    ("int", "int"): ctypes.c_int, ("int", "long"): ctypes.c_long,
    ("int", "long long"): ctypes.c_longlong, ("int", "intmax_t"): ctypes.c_int64,
    ("int", "size_t"): ctypes.c_ssize_t, ("int", "ptrdiff_t"): ctypes.c_ssize_t,
    ("uint", "int"): ctypes.c_uint, ("uint", "long"): ctypes.c_ulong,
    ("uint", "long long"): ctypes.c_ulonglong, ("uint", "intmax_t"): ctypes.c_uint64,
    ("uint", "size_t"): ctypes.c_size_t, ("uint", "ptrdiff_t"): ctypes.c_size_t,
    ("float", "double"): ctypes.c_double, ("float", "long double"): ctypes.c_longdouble,
}


def variadic_converter(function: str, first_index: int, encoding: str,
                       fmt: tuple[str, int, int] | None = None):
    """``(extra, format) -> (arguments, keep-alive)`` for a variadic call.

    With a declared ``format (printf, i, j)`` attribute and a literal
    bytes/str format, each argument is checked against its conversion and
    passed as the C type it names (``%ld`` a ``long``); otherwise C's default
    argument promotions apply, unchecked.
    """
    kind = fmt[0] if fmt and fmt[2] == first_index else None

    def default(offset: int, value: object, args: list, keep: list, cstring: bool = False) -> None:
        where = f"variadic argument {first_index + offset + 1} of '{function}'"
        vt = type(value)
        if vt is bool or vt is int or (isinstance(value, int)):
            number = int(value)  # type: ignore[call-overload]
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
            data = value.encode(encoding)  # type: ignore[attr-defined]
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
            address = memoryview_address(view)
            if cstring and not _has_nul(address, view.nbytes):
                raise BufferTooSmall(f"{where} is printed with %s, but the {type_name(value)} "
                                     f"given is not NUL-terminated within its {view.nbytes} bytes")
            keep.append(view)
            args.append(_c_void_p(address))

    def convert(extra: tuple, format_value: object = None) -> tuple[list, list]:
        args: list = []
        keep: list = []
        convs = None
        if kind is not None and type(format_value) in (bytes, str):
            if kind == "printf":
                convs = check_printf(function, format_value, extra, first_index)  # type: ignore[arg-type]
            elif kind == "scanf":
                text = format_value.decode("latin-1") if type(format_value) is bytes \
                    else format_value
                if scanf_count(text) != len(extra):  # type: ignore[arg-type]
                    raise ArgumentError(
                        f"the format {format_value!r} of '{function}' assigns "
                        f"{scanf_count(text)} arguments but {len(extra)} were given")  # type: ignore[arg-type]
        for offset, value in enumerate(extra):
            conv = convs[offset] if convs else None
            if conv is None:
                default(offset, value, args, keep)
                continue
            pass_as = _PASS_AS.get((conv.kind, conv.ctype))
            if conv.kind == "char":
                pass_as = ctypes.c_int
                if type(value) in (bytes, str):
                    value = ord(value)  # type: ignore[arg-type]
            if pass_as is not None:
                args.append(pass_as(value))
            elif conv.kind == "wstring" and type(value) is str:
                data = ctypes.create_unicode_buffer(value)
                keep.append(data)
                args.append(data)
            else:
                default(offset, value, args, keep, cstring=conv.kind == "string" and "." not in conv.spec)
        return args, keep

    return convert
