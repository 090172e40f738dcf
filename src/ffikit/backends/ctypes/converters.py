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
from math import isinf

from ffikit.backends.ctypes import callbacks
from ffikit.backends.ctypes.classes import CData
from ffikit.backends.ctypes.extents import extent, has_nul, string_array
from ffikit.backends.ctypes.owned_results import OwnedPointer
from ffikit.backends.ctypes.pybuffer import export, memoryview_address
from ffikit.backends.ctypes.types import ctype_of
from ffikit.cdecl import model as m
from ffikit.errors import (
    ArgumentError,
    BufferTooSmall,
    CallbackReleased,
    MemoryReleased,
    NotContiguous,
    OutOfRange,
    ProtectedMemory,
    ReadOnlyBuffer,
)
from ffikit.rules.kinds import format_kind
from ffikit.rules.messages import Param, given, kind_name, type_name
from ffikit.rules.params import FLOAT_MAX, ParamRule, param_rule

__all__ = [
    "int_slow", "float_slow", "struct_slow", "pointer_converter",
    "function_pointer_converter", "extent", "ctypes_mode", "ModeCache",
    "BY_ADDRESS", "BY_VALUE", "AS_IS", "BYREF",
]

_c_void_p = ctypes.c_void_p
_Pointer = ctypes._Pointer
_CFuncPtr = ctypes.CFUNCTYPE(None).__mro__[1]
_CArgObject = type(ctypes.byref(ctypes.c_int()))
_FunctionType = type(lambda: None)
_POINTERISH = (_Pointer, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_wchar_p, _CFuncPtr)

# --------------------------------------------------------------------------------------
# slow paths and converters, one per parameter (closures over declaration data)


def int_slow(where: Param, lo: int, hi: int, is_char: bool) -> Callable[[object], int]:
    cname = where.type.c_name()

    def convert(value: object) -> int:
        if is_char and type(value) is bytes and len(value) == 1:
            code = value[0]
            if lo < 0 and code > hi:
                code -= 256
            return code
        number: int | None = None
        if not isinstance(value, (float, str, bytes, bytearray)) and value is not None:
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
            raise OutOfRange(
                f"{where} is out of range for C type {cname}: {number} not in [{lo}, {hi}]"
                " (ctypes would wrap it silently)"
            )
        return number

    return convert


def float_slow(where: Param, wrap: type | None) -> Callable[[object], object]:
    cname = where.type.c_name()
    limit = FLOAT_MAX if wrap is ctypes.c_float else None

    def convert(value: object) -> object:
        number: float | None = None
        if not isinstance(value, (str, bytes, bytearray)) and value is not None:
            try:
                number = float(value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                number = None
            except OverflowError:
                got = (f"int with {value.bit_length()} bits" if isinstance(value, int)
                       else given(value))
                raise OutOfRange(f"{where} is too large for C type {cname} (got {got})") from None
        if number is None:
            raise ArgumentError(f"{where} must be a float or int for C type {cname} (got {given(value)})")
        if limit is not None and abs(number) > limit and not isinf(number):  # +-inf fit a float
            raise OutOfRange(f"{where} is out of range for C type {cname}: {number!r} overflows float")
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


def pointer_converter(where: Param, encoding: str, rule: ParamRule | None = None, *,
                      nonnull: bool = False, cstring: bool = False
                      ) -> Callable[[object], tuple[object, object]]:
    """``value -> (what ctypes passes, what must stay alive until the call returns)``.

    ``rule`` overrides the parameter's own (an access attribute may make a
    pointer read-only or writable); ``nonnull`` refuses None and NULL;
    ``cstring`` makes it an input C string (no NUL inside bytes/str, a NUL
    within a buffer's bounds).
    """
    rule = rule or param_rule(where.type)
    ptr = rule.ctype
    assert isinstance(ptr, m.Pointer)
    target = rule.pointee
    assert target is not None  # a pointer's rule names its pointee
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
        if target_is_pointer and isinstance(value, _Pointer) and \
                _same_pointer(value._type_, target_ctype):  # type: ignore[attr-defined]
            return value, None  # exactly a T ** (new("T **"), pointer(pointer(x))): its value
        if target_is_pointer and (vt is target_ctype or isinstance(value, (_Pointer, _c_void_p))):
            if vt is ptr_ctype or (isinstance(value, _Pointer) and _same_ctype(
                    value._type_, target_ctype)):  # type: ignore[attr-defined]
                return value, None  # already a 'T **' (new("T **")): its value is the slot
            # a ctypes object (vt is target_ctype: mypy cannot narrow through a class held in a variable)
            return ctypes.byref(value), value  # type: ignore[arg-type]  # an out-slot: its address
        if raw_ok or is_void or vt is ptr_ctype:
            return value, None
        if vt is ctypes.c_wchar_p and target_ctype is ctypes.c_wchar:
            return value, None
        if isinstance(value, _Pointer) and value._type_ is target_ctype:  # type: ignore[attr-defined]
            return value, None
        if isinstance(value, _Pointer) and _same_simple(value._type_, target_ctype):  # type: ignore[attr-defined]
            return value, None
        raise refuse(f"a pointer to {pointee} (a {cname})", value)

    ptr_ctype = ctype_of(ptr) if not isinstance(target, m.FunctionType) else None
    is_wchar = isinstance(target, m.Primitive) and target.name == "wchar_t"
    # char ** / const char **: a list of strings becomes a NULL-terminated array
    inner = m.resolve(target.target) if isinstance(target, m.Pointer) else None
    strings_target = None
    if isinstance(target, m.Pointer) and isinstance(inner, m.Primitive) and inner.name == "char":
        strings_target = "const" if target.const else "mutable"
    pointer_formats = {"P"} | ({"z"} if strings_target else set()) | \
        ({"Z"} if isinstance(inner, m.Primitive) and inner.name == "wchar_t" else set())

    def null(value: object) -> Exception:
        return ArgumentError(
            f"{where} must not be NULL (got {'None' if value is None else given(value)}): "
            "the declaration says it is "
            f"nonnull, and C would dereference it; pass a {cname}")

    def convert(value: object) -> tuple[object, object]:
        # The tests below read the exact class once (``vt is bytes``: no subclass walk); mypy
        # narrows ``value`` only through ``type(value) is ...`` itself, hence the ignores.
        if value is None:
            if nonnull:
                raise null(value)
            return None, None
        vt = type(value)
        if vt is OwnedPointer:  # in use until the call returns (the lease is kept with it)
            pointer, lease = value.take(where.function, where.index)  # type: ignore[attr-defined]
            out, keep = from_ctypes_pointer(pointer) if isinstance(pointer, _POINTERISH) \
                else convert(pointer)
            return out, (keep if lease is None else (keep, lease))
        if vt is bytes:
            if cstring and 0 in value:  # type: ignore[operator]
                raise ArgumentError(
                    f"{where} is a C string, but the bytes given contain NUL at index "
                    f"{value.index(0)} (C would see only {value[:value.index(0)]!r}); "  # type: ignore[attr-defined,index]
                    "pass bytes without NUL, or a buffer and its length to a sized parameter")
            if not const:
                raise ReadOnlyBuffer(
                    f"{where} must be a writable buffer of {pointee} (got bytes, read-only); "
                    "C may write through a non-const pointer: pass a bytearray"
                )
            if raw_ok or is_char:
                return value, value  # ctypes passes bytes' own data: zero-copy
        elif vt is str:
            if is_char and const:
                if cstring and "\0" in value:  # type: ignore[operator]
                    raise ArgumentError(
                        f"{where} is a C string, but the str given contains NUL at index "
                        f"{value.index(chr(0))}; C would see only the text before it")  # type: ignore[attr-defined]
                try:
                    data = value.encode(encoding)  # type: ignore[attr-defined]
                except UnicodeEncodeError as exc:
                    raise ArgumentError(
                        f"{where} cannot be encoded as {encoding} for C type {cname} ({exc.reason} "
                        f"at position {exc.start}); pass bytes, or load(..., encoding=...)"
                    ) from None
                return data, data
            if is_wchar and const:
                if cstring and "\0" in value:  # type: ignore[operator]
                    raise ArgumentError(f"{where} is a C string, but the str given contains NUL")
                data = ctypes.create_unicode_buffer(value)  # type: ignore[arg-type]
                return data, data
            hint = "; pass a bytearray" if is_char else ""
            if is_wchar:
                hint = "; C may write through it: pass ctypes.create_unicode_buffer(text)"
            raise refuse(f"a buffer of {pointee} for C type {cname}{hint}", value)
        elif (vt is list or vt is tuple) and strings_target is not None:
            return string_array(where, value, strings_target, encoding)  # type: ignore[arg-type]
        if isinstance(value, _POINTERISH):
            if nonnull and not value:
                raise null(value)
            return from_ctypes_pointer(value)
        if vt is _CArgObject:  # ctypes.byref(obj): checked as obj would be
            inner = value._obj  # type: ignore[attr-defined]
            element = inner._type_ if isinstance(inner, ctypes.Array) else type(inner)
            if raw_ok or element is target_ctype or _same_simple(element, target_ctype):
                return value, value  # extent(): the bytes of obj past byref's offset
            raise refuse(f"a pointer to {pointee} (byref of {element.__name__} given)", value)
        if is_struct and isinstance(value, CData):
            element = value._type_ if isinstance(value, ctypes.Array) else vt  # type: ignore[attr-defined]
            if element is not target_ctype:
                raise ArgumentError(
                    f"{where} must be a {pointee} (or an array of them) for C type {cname} "
                    f"(got {type_name(value)} of {element.__name__}); structs are matched by "
                    "declaration, use the type from the same declarations (lib.defs)"
                )
        try:
            view = export(value)  # ffikit memory: its region; read-only views: read-only
        except (ArgumentError, NotContiguous) as exc:  # an array on a GPU, strided, no C format
            raise type(exc)(f"{where}: {exc}") from None
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
            elif view.itemsize != target_size or not (fmt.startswith("T{") or fmt.startswith("&")
                                                       or fmt.lstrip("<@=") in pointer_formats):
                raise ArgumentError(
                    f"{where} must be a buffer of {pointee} items of {target_size} bytes "
                    f"(got {type_name(value)} with format {fmt!r}, itemsize {view.itemsize}); "
                    f"view raw bytes as {pointee} with ffikit.view(buf, '{pointee}[]')"
                )
        address = memoryview_address(view)
        if cstring and not (0 in value if vt is bytearray else  # type: ignore[operator]
                            has_nul(address, view.nbytes, target_size if is_wchar else 1, view)):
            raise BufferTooSmall(
                f"{where} is a C string, but the {type_name(value)} given is not NUL-terminated "
                f"within its {view.nbytes} bytes (C would read past its end); add a NUL "
                "terminator, or pass bytes/str")
        return _c_void_p(address), view

    return convert


BY_ADDRESS, BY_VALUE = 2, 3  # ctypes_mode answers (0: no shortcut)
_POINTER_OBJECTS = (_Pointer, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_wchar_p)


def ctypes_mode(convert: Callable[[object], tuple[object, object]], tp: type) -> int:
    """How a pointer parameter's converter passes *every* instance of the ctypes type ``tp``.

    ``BY_ADDRESS``: the address of the object's own storage (arrays of the
    pointee, the pointee itself, a pointer object as an out-slot for
    ``T **``); ``BY_VALUE``: the pointer the object holds; 0: no shortcut
    (not a ctypes type, refused, or answered per value).  Found by running
    ``convert`` on a fresh instance, so shortcuts never accept what the
    converter would refuse.
    """
    if (not isinstance(tp, type) or not issubclass(tp, CData) or issubclass(tp, _CFuncPtr)
            or hasattr(tp, "__ffikit_region__")):
        return 0
    try:
        sample = tp()
        out, _keep = convert(sample)
    except Exception:  # noqa: BLE001 - refused or unusual: the converter will say why each time
        return 0
    if type(out) is _c_void_p and out.value == ctypes.addressof(sample):
        return BY_ADDRESS
    if type(out) is _CArgObject and getattr(out, "_obj", None) is sample:
        return BY_ADDRESS
    if out is sample and isinstance(sample, _POINTER_OBJECTS):
        return BY_VALUE
    return 0


AS_IS, BYREF = 1, 2  # ModeCache answers: pass the object itself to ctypes, or byref() of it


class ModeCache(dict):
    """``cache[type]`` -> how a generated wrapper passes a ctypes object of that type.

    ``AS_IS`` (ctypes passes arrays by address and pointer objects by value,
    with no argtypes), ``BYREF`` (a struct or scalar whose address is wanted),
    or 0 (the converter decides each time).  Computed with :func:`ctypes_mode`
    on first sight of each type.
    """

    def __init__(self, convert: Callable[[object], tuple[object, object]]):
        super().__init__()
        self.convert = convert

    def __missing__(self, tp: type) -> int:
        mode = ctypes_mode(self.convert, tp)
        if mode == BY_VALUE or (mode == BY_ADDRESS and issubclass(tp, ctypes.Array)):
            mode = AS_IS
        elif mode == BY_ADDRESS:
            mode = BYREF
        if len(self) > 64:  # array types of many lengths: stay small
            self.clear()
        self[tp] = mode
        return mode


def _same_pointer(a: type, b: type | None) -> bool:
    """``a`` and ``b`` are the same pointer type (``int *`` made by ffikit or by ctypes)."""
    if a is b:
        return True
    if not (isinstance(a, type) and issubclass(a, _Pointer) and isinstance(b, type)
            and issubclass(b, _Pointer)):
        return False
    ta, tb = a._type_, b._type_  # type: ignore[attr-defined]
    return ta is tb or _same_simple(ta, tb) or _same_pointer(ta, tb)


def _same_ctype(a: type, b: type | None) -> bool:
    """The same C type: one class, the same simple type, or pointers to the same type."""
    if a is b or _same_simple(a, b):
        return True
    return (b is not None and issubclass(a, _Pointer) and issubclass(b, _Pointer)
            and _same_ctype(a._type_, b._type_))  # type: ignore[attr-defined]


def _same_simple(a: type, b: type | None) -> bool:
    return (
        b is not None
        and getattr(a, "_type_", None) == getattr(b, "_type_", 0)
        and isinstance(getattr(a, "_type_", None), str)
        and ctypes.sizeof(a) == ctypes.sizeof(b)
    )


def function_pointer_converter(where: Param, fp_type: type, *, nonnull: bool = False
                               ) -> Callable[[object], tuple[object, object]]:
    """Callables, callbacks and ctypes function pointers for a function-pointer parameter.

    A plain callable borrows a thunk for the call (:func:`callbacks.lend`); an
    ``ffikit.callback`` or a ctypes function pointer must have the declared
    signature (a mismatch is refused, naming both); ``nonnull`` refuses None.
    """
    func_type = m.resolve(m.resolve(where.type).target)  # type: ignore[attr-defined]
    owner = str(where)
    wanted = callbacks.signature_text(fp_type, func_type)

    def mismatch(value: object, got: str) -> ArgumentError:
        return ArgumentError(
            f"{where} must be a function pointer of type {wanted} (got "
            f"{'an ffikit.callback' if isinstance(value, callbacks.Callback) else type_name(value)} of "
            f"type {got}); C would call it with the wrong arguments or read the wrong result: "
            f"make the callback with the parameter's type, e.g. ffikit.callback({wanted!r}, fn), "
            "or pass a plain Python callable"
        )

    held_type = callbacks.Callback
    lend = callbacks.lend

    def convert(value: object) -> tuple[object, object]:
        if type(value) is _FunctionType:  # the common case: a def or a lambda
            return lend(fp_type, value, owner)  # (thunk, lease): valid until C returns
        if value is None:
            if nonnull:
                raise ArgumentError(f"{where} must not be NULL (got None): the declaration says "
                                    "it is nonnull; pass a Python callable")
            return None, None
        if isinstance(value, held_type):
            if value.fp_type is not fp_type and not callbacks.same_signature(value.fp_type, fp_type):
                raise mismatch(value, value.signature)
            if value._slot is None:
                raise CallbackReleased(
                    f"{where}: {value!r} was released; make a new ffikit.callback(...) to pass it again"
                )
            return value.thunk, value
        if isinstance(value, _CFuncPtr):
            if nonnull and not value:  # a NULL ctypes function pointer: C would call address 0
                raise ArgumentError(f"{where} must not be NULL (got {given(value)}): the "
                                    "declaration says it is nonnull; pass a Python callable")
            if type(value) is not fp_type and not callbacks.fits_signature(value, fp_type):
                raise mismatch(value, callbacks.signature_text(value))
            return value, None
        if callable(value):
            return lend(fp_type, value, owner)  # (thunk, lease): valid until C returns
        raise ArgumentError(
            f"{where} must be a Python callable, an ffikit.callback or None for C type "
            f"{where.type.c_name()} (got {given(value)})"
        )

    return convert
