"""Variadic arguments: C's default promotions, or a literal format's conversions.

A variadic C function cannot say what its ``...`` takes, so by default each
Python value is passed as C's default argument promotions would pass it
(``int`` as ``int`` or ``long long`` by size, ``float`` as ``double``, bytes
and buffers as pointers), unchecked, as in C.  When the declaration carries
``format (printf, i, j)`` and the format is a literal, the arguments are
checked against it first (:mod:`ffikit.rules.formats`) and each is passed as
the C type its conversion names.

ctypes objects go as pointers or not at all: pointer objects, arrays and
``ctypes.byref(x)`` as the address they hold or are, an ``ffikit.callback``
as its function pointer, an owned result as its pointer (in use until the call
returns).  A slot made by ``ffikit.new("long", x)`` is ffikit's pointer-to-long
and goes by address -- what ``curl_easy_setopt(h, CURLOPT_WRITEDATA, slot)``
and the like expect.  A bare ctypes scalar (``ctypes.c_long(5)``) is refused:
``...`` cannot say whether C wants its value or its address, so the message
asks for ``x.value`` or ``ctypes.byref(x)``.
"""

from __future__ import annotations

import ctypes

from ffikit.backends.ctypes import callbacks
from ffikit.backends.ctypes.classes import CData as _CData
from ffikit.backends.ctypes.extents import has_nul
from ffikit.backends.ctypes.owned_results import OwnedPointer
from ffikit.backends.ctypes.pybuffer import export, memoryview_address
from ffikit.cdecl import model as m
from ffikit.cdecl.layout import sizeof
from ffikit.errors import (
    ArgumentError,
    BufferTooSmall,
    CallbackReleased,
    NotContiguous,
    OutOfRange,
    ReadOnlyBuffer,
)
from ffikit.rules.kinds import int_range
from ffikit.rules.messages import given, type_name

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ffikit.rules.formats import Conversion

__all__ = ["variadic_converter", "SLOT"]

_c_void_p = ctypes.c_void_p
SLOT = "_ffikit_slot_"  # set on the scalars ffikit.new makes: slots, passed by address
_SCALAR = ctypes._SimpleCData
_POINTER_SCALARS = (ctypes.c_void_p, ctypes.c_char_p, ctypes.c_wchar_p)

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
                       fmt: tuple[str, int, int] | tuple[str, int, int, str] | None = None):
    """``(extra, format) -> (arguments, keep-alive)`` for a variadic call.

    With a declared ``format (printf, i, j)`` attribute and a literal
    bytes/str format, each argument is checked against its conversion and
    passed as the C type it names (``%ld`` a ``long``); otherwise C's default
    argument promotions apply, unchecked.
    """
    kind = fmt[0] if fmt and fmt[2] == first_index else None
    source = fmt[3] if fmt is not None and kind is not None and len(fmt) > 3 else ""

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
                raise OutOfRange(f"{where} does not fit any C integer type (got int {number})")
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
            args.append(_ctypes_object(where, value, keep))
        elif vt is _CArgObject:  # ctypes.byref(x): a pointer to x
            args.append(value)
        elif vt is callbacks.Callback:  # curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, cb)
            if value._slot is None:  # type: ignore[attr-defined]
                raise CallbackReleased(f"{where}: {value!r} was released; make a new "
                                       "ffikit.callback(...) to pass it again")
            keep.append(value)
            args.append(value.thunk)  # type: ignore[attr-defined]
        elif vt is OwnedPointer:
            pointer, lease = value.take(function, first_index + offset)  # type: ignore[attr-defined]
            keep.append(lease)
            args.append(pointer)
        elif callable(value):
            raise ArgumentError(f"{where}: a variadic argument has no declared C type, so a "
                                f"Python callable ({given(value)}) cannot be wrapped; pass "
                                "ffikit.callback('its function-pointer type', fn) and keep it")
        else:
            try:
                view = export(value)
            except TypeError:
                raise ArgumentError(
                    f"{where} must be an int, float, bytes, str, None, a buffer, a ctypes "
                    f"pointer, ctypes.byref(x) or an ffikit.callback (got {given(value)})"
                ) from None
            if not view.c_contiguous:
                raise NotContiguous(f"{where} must be a C-contiguous buffer (got {type_name(value)})")
            address = memoryview_address(view)
            if cstring and not has_nul(address, view.nbytes):
                raise BufferTooSmall(f"{where} is printed with %s, but the {type_name(value)} "
                                     f"given is not NUL-terminated within its {view.nbytes} bytes")
            keep.append(view)
            args.append(_c_void_p(address))

    def convert(extra: tuple, format_value: object = None) -> tuple[list, list]:
        args: list = []
        keep: list = []
        convs = None
        if kind is not None and type(format_value) in (bytes, str):
            # (the format checker and its regular expressions load at the first formatted call:
            # binding a variadic function costs none of it)
            from ffikit.rules.formats import check_printf, check_scanf

            if kind == "printf":
                convs = check_printf(function, format_value, extra, first_index,  # type: ignore[arg-type]
                                     source=source)
            elif kind == "scanf":
                scans = check_scanf(function, format_value, extra, first_index,  # type: ignore[arg-type]
                                    source=source)
                for offset, (scan, value) in enumerate(zip(scans, extra)):
                    _scan_target(function, first_index + offset, scan, value, args, keep)
                return args, keep
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


def _ctypes_object(where: str, value: object, keep: list) -> object:
    """What C's ``...`` receives for a ctypes object: a pointer, always."""
    if not isinstance(value, _SCALAR) or isinstance(value, _POINTER_SCALARS):
        return value  # pointers as the pointer they hold; arrays and structs as ctypes passes them
    if getattr(value, SLOT, False):  # ffikit.new("long", x): a slot, passed by address
        keep.append(value)
        return ctypes.byref(value)
    raise ArgumentError(
        f"{where} is a bare {type(value).__name__} ({value!r}): C's '...' cannot say whether it "
        f"wants the number or a pointer to it; pass x.value for the number, ctypes.byref(x) "
        "for its address, or an ffikit.new(...) slot (passed by address)")


_CArgObject = type(ctypes.byref(ctypes.c_int()))
_RAW_POINTERS = (ctypes._Pointer, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_wchar_p)


def _written(conv: Conversion) -> int:
    """Bytes a scanf conversion writes through its pointer."""
    if conv.ctype.startswith("char["):
        return int(conv.ctype[5:-1])
    if conv.ctype == "void *":
        return ctypes.sizeof(ctypes.c_void_p)
    return sizeof(m.Primitive(conv.ctype))


def _scan_target(function: str, index: int, conv: Conversion, value: object, args: list,
                 keep: list) -> None:
    """Pass a scanf destination by address, refusing one smaller than the conversion writes."""
    need = _written(conv)
    where = f"variadic argument {index + 1} of '{function}' (for {conv.spec!r})"
    if isinstance(value, _RAW_POINTERS):  # a raw pointer carries no length: as in C
        args.append(value)
        return
    if type(value) is _CArgObject:
        target = value._obj  # type: ignore[attr-defined]
        holds = ctypes.sizeof(target)
    elif isinstance(value, _CData) and not isinstance(value, ctypes.Array):
        holds = ctypes.sizeof(value)
        keep.append(value)
        target, value = value, ctypes.byref(value)
    else:
        try:
            view = export(value)
        except TypeError:
            raise ArgumentError(f"{where} must be a writable place for a {conv.ctype} "
                                f"(got {given(value)})") from None
        if view.readonly:
            raise ReadOnlyBuffer(f"{where}: C writes a {conv.ctype} into it, but the "
                                 f"{type_name(value)} given is read-only")
        if not view.c_contiguous:
            raise NotContiguous(f"{where} must be a C-contiguous buffer")
        holds = view.nbytes
        keep.append(view)
        value = _c_void_p(memoryview_address(view))
    if holds < need:
        raise BufferTooSmall(f"{where} holds {holds} bytes, but C writes up to {need} "
                             f"({conv.ctype}) through it; pass a larger place"
                             + (" or a smaller width" if conv.ctype.startswith("char[") else ""))
    args.append(value)
