"""Bound C functions: safe argument conversion, returns and error policies.

:func:`bind` turns a ctypes function pointer plus its model declaration into a
plain Python function.  The wrapper is *generated once per C function* (a
small source string run through ``exec``): every parameter gets the one
converter expression its C type needs, so a call does no dispatch on
declaration data.  ``int add(int a, int b)`` becomes, in effect::

    def add(a, b, /):
        if type(a) is not int or not -2147483648 <= a <= 2147483647: a = _slow0(a)
        if type(b) is not int or not -2147483648 <= b <= 2147483647: b = _slow1(b)
        result = _cfunc(a, b)        # ctypes, no argtypes: the GIL is released
        if add.errors is None: return result
        return add.errors(result, add, (a, b))      # a policy, or a parked callback error

The ctypes function carries no ``argtypes`` (ctypes' own converters are the
slow part of a ctypes call); values that ctypes would pass wrongly without
them (64-bit integers, ``float``, pointers) are wrapped in their ctypes type
by the generated code.  The rules are DESIGN.md "Rules at the boundary".

Buffers reach ``T *`` parameters without a copy: the converter takes a
``memoryview`` of the object, checks contiguity, writability and item type,
and passes the address of its first byte; the memoryview is held until the C
function returns, which also stops a ``bytearray`` being resized meanwhile.
"""

from __future__ import annotations

import ctypes
import errno as _errno_mod
import keyword
import operator
import os
from collections.abc import Callable, Mapping
from typing import Any

from . import tracking
from ._boundary_types import RAW_BYTE_TARGETS, ctype_of, format_kind, int_range, item_kind
from ._pybuffer import _BUF_OFFSET, PLAIN_TYPES, export, memoryview_address
from .cdecl import model as m
from .errors import ArgumentError, CallError, NotContiguous, ReadOnlyBuffer

__all__ = ["bind", "check", "new", "Policy"]

_c_void_p = ctypes.c_void_p
_CData = ctypes.c_int.__mro__[-2]  # _ctypes._CData
_Pointer = ctypes._Pointer
_CFuncPtr = ctypes.CFUNCTYPE(None).__mro__[1]
_CArgObject = type(ctypes.byref(ctypes.c_int()))
_POINTERISH = (_Pointer, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_wchar_p, _CFuncPtr)


class _VoidPointerResult(ctypes.c_void_p):
    """``void *`` results stay ctypes objects (a plain c_void_p restype would give int/None)."""


# --------------------------------------------------------------------------------------
# describing values and types in messages


def _type_name(value: object) -> str:
    t = type(value)
    if isinstance(value, _Pointer):
        return f"ctypes pointer to {t._type_.__name__}"  # type: ignore[attr-defined]
    if isinstance(value, _CData):
        return f"ctypes {t.__name__}"
    if t.__module__ in ("builtins", None):
        return t.__qualname__
    return f"{t.__module__}.{t.__qualname__}"


def _short_repr(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _given(value: object) -> str:
    if isinstance(value, (int, float, str, bytes)) or value is None:
        return f"{_type_name(value)} {_short_repr(value)}"
    return _type_name(value)


_KIND_NAMES = {"f": "float", "i": "int", "u": "uint", "b": "bool", "c": "char"}


def _kind_name(kind: tuple[str, int] | None, fmt: str) -> str:
    if kind is None:
        return f"format {fmt!r}"
    letter, size = kind
    if letter in ("b", "c"):
        return _KIND_NAMES[letter]
    return f"{_KIND_NAMES[letter]}{size * 8}"


class _Param:
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


# --------------------------------------------------------------------------------------
# slow paths and converters, one per parameter (closures over declaration data)


def _int_slow(where: _Param, lo: int, hi: int, is_char: bool) -> Callable[[object], int]:
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
                f"{where} must be an int{extra} for C type {cname} (got {_given(value)})"
            )
        if not lo <= number <= hi:
            raise ArgumentError(
                f"{where} is out of range for C type {cname}: {number} not in [{lo}, {hi}]"
                " (ctypes would wrap it silently)"
            )
        return number

    return convert


def _float_slow(where: _Param, wrap: type | None) -> Callable[[object], object]:
    cname = where.type.c_name()
    limit = 3.4028234663852886e38 if wrap is ctypes.c_float else None

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
            raise ArgumentError(f"{where} must be a float or int for C type {cname} (got {_given(value)})")
        if limit is not None and abs(number) > limit and number != float("inf"):
            raise ArgumentError(f"{where} is out of range for C type {cname}: {number!r} overflows float")
        return number if wrap is None else wrap(number)

    return convert


def _struct_slow(where: _Param, struct_type: type) -> Callable[[object], object]:
    def convert(value: object) -> object:
        if isinstance(value, struct_type):
            return value
        raise ArgumentError(
            f"{where} must be a {where.type.c_name()} ({struct_type.__name__} instance) "
            f"passed by value (got {_given(value)})"
        )

    return convert


def _pointer_converter(where: _Param, encoding: str) -> Callable[[object], tuple[object, object]]:
    """``value -> (what ctypes passes, what must stay alive until the call returns)``."""
    ptr = m.resolve(where.type)
    assert isinstance(ptr, m.Pointer)
    target = m.resolve(ptr.target)
    const = ptr.const
    cname = where.type.c_name()
    target_ctype = ctype_of(target) if not isinstance(target, m.Void) else None
    is_void = isinstance(target, m.Void)
    raw_ok = is_void or (isinstance(target, m.Primitive) and target.name in RAW_BYTE_TARGETS)
    is_char = isinstance(target, m.Primitive) and target.name == "char"
    want = item_kind(target)
    target_is_pointer = isinstance(target, m.Pointer)
    is_struct = isinstance(target, m.StructOrUnion)
    target_size = ctypes.sizeof(target_ctype) if target_ctype is not None and not isinstance(
        target, m.FunctionType) else 0
    pointee = ptr.target.c_name()

    def refuse(what: str, value: object, error: type = ArgumentError) -> Exception:
        return error(f"{where} must be {what} (got {_given(value)})")

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
                    f"(got {_type_name(value)} of {element.__name__}); structs are matched by "
                    "declaration, use the type from the same declarations (lib.defs)"
                )
        try:
            view = export(value)  # ffikit memory: its region; read-only views: read-only
        except TypeError:
            raise refuse(f"a buffer of {pointee}, a ctypes pointer or None for C type {cname}", value) from None
        if not view.c_contiguous:
            raise NotContiguous(
                f"{where} must be a C-contiguous buffer of {pointee} (got {_type_name(value)}, "
                "not contiguous); pass numpy.ascontiguousarray(x) (a copy) or a contiguous slice"
            )
        if view.readonly and not const:
            raise ReadOnlyBuffer(
                f"{where} must be a writable buffer of {pointee} (got {_type_name(value)}, read-only); "
                "C may write through a non-const pointer: pass a writable copy, e.g. bytearray(x)"
            )
        if not raw_ok:
            fmt = view.format
            if want is not None:
                got = format_kind(fmt)
                if got != want and not (is_char and got in (("i", 1), ("u", 1))):
                    raise ArgumentError(
                        f"{where} must be a buffer of {pointee} (got {_type_name(value)} of "
                        f"{_kind_name(got, fmt)}, format {fmt!r}); convert it first, e.g. "
                        f"numpy.asarray(x, dtype=...) or array.array with the matching typecode"
                    )
            elif view.itemsize != target_size or not (fmt.startswith("T{") or fmt in ("P",) or fmt.startswith("&")):
                raise ArgumentError(
                    f"{where} must be a buffer of {pointee} items of {target_size} bytes "
                    f"(got {_type_name(value)} with format {fmt!r}, itemsize {view.itemsize}); "
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


def _function_pointer_converter(where: _Param, fp_type: type) -> Callable[[object], tuple[object, object]]:
    from . import callbacks

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
            f"{where.type.c_name()} (got {_given(value)})"
        )

    return convert


# --------------------------------------------------------------------------------------
# variadic arguments: C default argument promotions

_INT_MIN, _INT_MAX = int_range(ctypes.c_int)
_LONG_MIN, _LONG_MAX = int_range(ctypes.c_longlong)


def _variadic_converter(function: str, first_index: int, encoding: str):
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
                        f"object (got {_given(value)})"
                    ) from None
                if not view.c_contiguous:
                    raise NotContiguous(f"{where} must be a C-contiguous buffer (got {_type_name(value)})")
                keep.append(view)
                args.append(_c_void_p(memoryview_address(view)))
        return args, keep

    return convert


# --------------------------------------------------------------------------------------
# generating the wrapper


def _accepted_formats(ptr: m.Pointer) -> frozenset[str] | None:
    """Buffer formats a ``T *`` takes as-is (None: any format, raw bytes)."""
    target = m.resolve(ptr.target)
    if isinstance(target, m.Void) or (isinstance(target, m.Primitive) and target.name in RAW_BYTE_TARGETS):
        return None
    want = item_kind(target)
    if want is None:
        return frozenset()
    codes = "bBhHiIlLqQnNfdeg?c"
    return frozenset(
        prefix + code
        for prefix in ("", "@", "=", "<")
        for code in codes
        if format_kind(prefix + code) == want
    )


def _pointer_fast_path(ptr: m.Pointer, i: int, pname: str, env: dict) -> list[str]:
    """Inline source for the common case: a contiguous buffer of the right item type.

    Anything else (None, bytes, str, ctypes objects, errors) goes to the full
    converter ``_ffk_c{i}``, which gives the same answers more slowly.
    """
    full = [f"{pname}, _ffk_k{i} = _ffk_c{i}({pname})"]
    if _BUF_OFFSET is None:
        return full
    formats = _accepted_formats(ptr)
    env[f"_ffk_ft{i}"] = PLAIN_TYPES  # shared and live: NumPy joins when it is imported
    env["_ffk_at"] = _c_void_p.from_address  # a c_void_p *over* view.buf: its value is the address
    env["_ffk_id"] = id
    checks = [f"_ffk_k{i}.c_contiguous"]
    if formats is not None:
        env[f"_ffk_fm{i}"] = formats
        checks.insert(0, f"_ffk_k{i}.format in _ffk_fm{i}")
    if not ptr.const:
        checks.append(f"not _ffk_k{i}.readonly")
    return [
        f"if type({pname}) in _ffk_ft{i}:",
        f"    _ffk_k{i} = memoryview({pname})",
        f"    if {' and '.join(checks)}: {pname} = _ffk_at(_ffk_id(_ffk_k{i}) + {_BUF_OFFSET})",
        f"    else: {full[0]}",
        f"else: {full[0]}",
    ]


def _safe_name(name: str | None, index: int, taken: set[str]) -> str:
    if not name or not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_ffk"):
        name = f"arg{index + 1}"
    while name in taken:
        name += "_"
    taken.add(name)
    return name


def _restype_for(result: m.CType) -> type | None:
    r = m.resolve(result)
    if isinstance(r, m.Void):
        return None
    if isinstance(r, m.Pointer):
        target = m.resolve(r.target)
        if isinstance(target, m.Primitive) and target.name == "char" and r.const:
            return ctypes.c_char_p  # bytes (a copy) or None
        if isinstance(target, m.Void):
            return _VoidPointerResult
    return ctype_of(result)


def bind(
    cfunc: Any,
    name: str,
    ftype: m.FunctionType,
    *,
    encoding: str = "utf-8",
    errors: Callable | None = None,
) -> Callable:
    """Make the Python function that calls ``cfunc`` as ``ftype`` declares.

    Parameters
    ----------
    cfunc
        A ctypes foreign function (``CDLL(...)[name]``); its ``argtypes`` are
        cleared and its ``restype`` set from the declaration.
    name
        The C name, used in messages and as the wrapper's ``__name__``.
    ftype
        The model :class:`~ffikit.cdecl.model.FunctionType`.
    encoding
        How ``str`` is encoded for ``const char *`` parameters.
    errors
        The initial error policy (see :data:`check`); also settable later as
        ``wrapper.errors``.

    Returns
    -------
    function
        A plain Python function with attributes ``errors`` (the policy, or
        None), ``declaration`` (the C text) and ``cfunc`` (the ctypes
        function).  It releases the GIL while C runs, as ctypes' ``CDLL`` does.
    """
    from . import callbacks

    cfunc.argtypes = None
    cfunc.restype = _restype_for(ftype.result)
    env: dict[str, Any] = {
        "_ffk_cfunc": cfunc,
    }
    taken: set[str] = set()
    pnames = [_safe_name(n, i, taken) for i, n in enumerate(ftype.param_names)]
    body: list[str] = []
    for i, (ptype, pname) in enumerate(zip(ftype.params, pnames)):
        where = _Param(name, i, ftype.param_names[i], ptype)
        r = m.resolve(ptype)
        if isinstance(r, m.Enum) or (isinstance(r, m.Primitive) and r.is_integer):
            ct = ctype_of(r)
            lo, hi = int_range(ct)
            env[f"_ffk_s{i}"] = _int_slow(where, lo, hi, ct is ctypes.c_char)
            check = f"if type({pname}) is not int or not {lo} <= {pname} <= {hi}: {pname} = _ffk_s{i}({pname})"
            body.append(check)
            if ct is ctypes.c_char:
                body.append(f"{pname} = _ffk_t{i}({pname} & 0xFF)")
                env[f"_ffk_t{i}"] = ctypes.c_ubyte
            elif ctypes.sizeof(ct) > ctypes.sizeof(ctypes.c_int) or ct is ctypes.c_wchar:
                env[f"_ffk_t{i}"] = ct if ct is not ctypes.c_wchar else ctypes.c_int32
                body.append(f"{pname} = _ffk_t{i}({pname})")
        elif isinstance(r, m.Primitive) and r.is_float:
            ct = ctype_of(r)
            if ct is ctypes.c_double:  # ctypes passes no float without argtypes: wrap it
                env[f"_ffk_s{i}"] = _float_slow(where, None)
                env[f"_ffk_t{i}"] = ct
                body.append(f"{pname} = _ffk_t{i}({pname} if type({pname}) is float else _ffk_s{i}({pname}))")
            else:
                env[f"_ffk_s{i}"] = _float_slow(where, ct)
                body.append(f"{pname} = _ffk_s{i}({pname})")
        elif isinstance(r, m.Pointer) and isinstance(m.resolve(r.target), m.FunctionType):
            env[f"_ffk_c{i}"] = _function_pointer_converter(where, ctype_of(r))
            body.append(f"{pname}, _ffk_k{i} = _ffk_c{i}({pname})")
        elif isinstance(r, m.Pointer):
            env[f"_ffk_c{i}"] = _pointer_converter(where, encoding)
            body += _pointer_fast_path(r, i, pname, env)
        elif isinstance(r, m.StructOrUnion):
            st = ctype_of(r)
            env[f"_ffk_t{i}"] = st
            env[f"_ffk_s{i}"] = _struct_slow(where, st)
            body.append(f"if type({pname}) is not _ffk_t{i}: {pname} = _ffk_s{i}({pname})")
        else:
            raise ArgumentError(f"{where}: parameters of C type {ptype.c_name()} are not supported")
    call_args = ", ".join(pnames)
    signature = ", ".join(pnames) + (", /" if pnames else "")
    if ftype.variadic:
        env["_ffk_va"] = _variadic_converter(name, len(pnames), encoding)
        signature += (", " if signature else "") + "*_ffk_extra"
        body.append("_ffk_vargs, _ffk_kv = _ffk_va(_ffk_extra)")
        call_args += (", " if call_args else "") + "*_ffk_vargs"
    fn_name = name if name.isidentifier() and not keyword.iskeyword(name) else "_ffk_function"
    if fn_name in taken:  # 'int x(int x)': the wrapper must still see itself
        fn_name = "_ffk_function"
    args_tuple = f"({call_args},)" if call_args else "()"
    lines = [f"def _ffk_make({', '.join(env)}):", f"    def {fn_name}({signature}):"]
    lines += [f"        {line}" for line in body]
    lines += [
        f"        _ffk_result = _ffk_cfunc({call_args})",
        f"        _ffk_policy = {fn_name}.errors",
        "        if _ffk_policy is None: return _ffk_result",
        f"        return _ffk_policy(_ffk_result, {fn_name}, {args_tuple})",
        f"    return {fn_name}",
    ]
    source = "\n".join(lines)
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<ffikit wrapper {name}>", "exec"), namespace)  # noqa: S102
    wrapper = namespace["_ffk_make"](**env)
    wrapper.__name__ = wrapper.__qualname__ = name
    declaration = ftype.c_name(name) + ";"
    wrapper.__doc__ = f"C function ``{declaration}`` (argument conversion per ffikit's boundary rules)."
    wrapper.errors = errors
    wrapper.declaration = declaration
    wrapper.cfunc = cfunc
    wrapper.source = source
    callbacks.register_wrapper(wrapper)
    return wrapper


# --------------------------------------------------------------------------------------
# error policies


class Policy:
    """An error policy: decides from a C result whether the call failed.

    Call it with a ``{code: name}`` mapping to get the same policy whose
    messages name the codes: ``check.negative({-1: "ENOMEM"})``.  A policy is
    called as ``policy(result, function, args)`` (the ctypes ``errcheck``
    signature) and returns the result or raises :class:`ffikit.CallError`.
    """

    def __init__(self, kind: str, codes: Mapping[object, str] | None = None):
        self.kind = kind
        self.codes = dict(codes or {})

    def __repr__(self) -> str:
        codes = f"({self.codes!r})" if self.codes else ""
        return f"ffikit.check.{self.kind}{codes}"

    def __call__(self, *args: object) -> object:
        if len(args) == 1 and isinstance(args[0], Mapping):
            return Policy(self.kind, args[0])
        if len(args) != 3:
            raise TypeError(f"{self!r} takes a {{code: name}} mapping, or (result, function, args)")
        result, function, _call_args = args
        name = getattr(function, "__name__", str(function))
        if self.kind == "errno":
            failed = result is None or result == -1 or (isinstance(result, _c_void_p) and not result.value)
            if isinstance(result, _Pointer):
                failed = not result
            if failed:
                number = ctypes.get_errno()
                symbol = self.codes.get(number) or _errno_mod.errorcode.get(number, "")
                text = os.strerror(number)
                label = f" ({symbol})" if symbol else ""
                raise CallError(
                    f"{name} failed: returned {_result_text(result)}, errno {number}{label}: {text}",
                    function=name, code=result, code_name=symbol or None, errno=number, strerror=text,
                )
            return result
        if self.kind == "nonzero":
            failed = result != 0
        elif self.kind == "negative":
            failed = result < 0  # type: ignore[operator]
        elif self.kind == "null":
            failed = result is None or (isinstance(result, (_c_void_p, _Pointer)) and not result)
        else:  # pragma: no cover - constructed only below
            raise AssertionError(self.kind)
        if failed:
            code_name = self.codes.get(result) if isinstance(result, (int, float, bytes)) else None
            label = f" ({code_name})" if code_name else ""
            raise CallError(
                f"{name} failed: returned {_result_text(result)}{label}",
                function=name, code=result, code_name=code_name,
            )
        return result


def _result_text(result: object) -> str:
    if result is None or (isinstance(result, (_c_void_p, _Pointer)) and not result):
        return "NULL"
    return repr(result)


class _Check:
    """The error policies: ``ffikit.check.nonzero``, ``.negative``, ``.null``, ``.errno``.

    ``nonzero``: any non-zero result is an error (zlib's ``Z_OK == 0``);
    ``negative``: a result below zero; ``null``: a NULL pointer result;
    ``errno``: ``-1`` or NULL, with ``errno`` read from ctypes' private copy
    (libraries are loaded with ``use_errno=True``), raised as an ``OSError``.
    Each is usable bare or with a code->name map; any callable
    ``(result, function, args) -> result`` works as a policy too.
    """

    nonzero = Policy("nonzero")
    negative = Policy("negative")
    null = Policy("null")
    errno = Policy("errno")

    def __repr__(self) -> str:
        return "ffikit.check"


check = _Check()


# --------------------------------------------------------------------------------------
# out-parameter slots


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
        raise TypeError(f"ffikit.new() needs a ctypes type, a model type or C type text (got {_given(spec)})")
    if ct is None:
        raise TypeError(f"ffikit.new({spec!r}): cannot allocate void")
    return ct


def _text_ctype(text: str, defs: object) -> type:
    from .cdecl import ctype_of as cdecl_ctype_of

    return cdecl_ctype_of(text, defs)  # type: ignore[arg-type]
