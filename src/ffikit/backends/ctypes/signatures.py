"""Function-pointer signatures: their C spelling, and whether two of them are the same.

A callback made for ``double (*)(double)`` passed where C expects
``int (*)(int)`` would be called with the wrong registers and its result read
as garbage; ctypes passes it anyway.  The converters ask :func:`same_signature`
(for ``ffikit.callback`` objects and CFUNCTYPE instances) and refuse a
mismatch, naming both types as :func:`signature_text` spells them.
"""

from __future__ import annotations

import ctypes

from ffikit.backends.ctypes.classes import array_parts
from ffikit.cdecl import model as m

__all__ = ["ctype_text", "fits_signature", "same_signature", "signature_text"]


_CFuncPtr = ctypes.CFUNCTYPE(None).__mro__[1]
_VOIDISH = (ctypes.c_void_p, ctypes.c_char_p, ctypes.c_wchar_p)
_C_NAMES = {
    "c": "char", "b": "signed char", "B": "unsigned char", "h": "short", "H": "unsigned short",
    "i": "int", "I": "unsigned int", "l": "long", "L": "unsigned long", "q": "long long",
    "Q": "unsigned long long", "f": "float", "d": "double", "g": "long double", "?": "_Bool",
    "u": "wchar_t", "P": "void *", "z": "char *", "Z": "wchar_t *",
}


def _is_pointer(t: type) -> bool:
    return issubclass(t, (ctypes._Pointer, _CFuncPtr)) or t in _VOIDISH


def _same_ctype(a: type | None, b: type | None) -> bool:
    if a is b:
        return True
    if a is None or b is None:
        return False
    if _is_pointer(a) or _is_pointer(b):
        if not (_is_pointer(a) and _is_pointer(b)):
            return False
        if a is ctypes.c_void_p or b is ctypes.c_void_p:  # void * converts to any object pointer
            return not (issubclass(a, _CFuncPtr) or issubclass(b, _CFuncPtr))
        if issubclass(a, _CFuncPtr) or issubclass(b, _CFuncPtr):
            return issubclass(a, _CFuncPtr) and issubclass(b, _CFuncPtr) and same_signature(a, b)
        ta = ctypes.c_char if a is ctypes.c_char_p else getattr(a, "_type_", None)
        tb = ctypes.c_char if b is ctypes.c_char_p else getattr(b, "_type_", None)
        return isinstance(ta, type) and isinstance(tb, type) and _same_ctype(ta, tb)
    code_a, code_b = getattr(a, "_type_", None), getattr(b, "_type_", None)
    if isinstance(code_a, str) and isinstance(code_b, str):
        return code_a == code_b and ctypes.sizeof(a) == ctypes.sizeof(b)
    model_a, model_b = getattr(a, "_ffikit_type_", None), getattr(b, "_ffikit_type_", None)
    if model_a is not None and model_a == model_b:
        return True
    if issubclass(a, ctypes.Array) and issubclass(b, ctypes.Array):
        (item_a, length_a), (item_b, length_b) = array_parts(a), array_parts(b)
        return length_a == length_b and _same_ctype(item_a, item_b)
    return False


def same_signature(a: type, b: type) -> bool:
    """True when two CFUNCTYPE classes take and return the same C types."""
    if a is b:
        return True
    args_a = a._argtypes_ or ()  # type: ignore[attr-defined]
    args_b = b._argtypes_ or ()  # type: ignore[attr-defined]
    return (
        len(args_a) == len(args_b)
        and getattr(a, "_flags_", None) == getattr(b, "_flags_", None)
        and _same_ctype(a._restype_, b._restype_)  # type: ignore[attr-defined]
        and all(_same_ctype(x, y) for x, y in zip(args_a, args_b))
    )


def fits_signature(fptr: object, fp_type: type) -> bool:
    """True when a ctypes function pointer's declared signature is ``fp_type``'s.

    A foreign function whose ``argtypes`` were never set has no known signature
    and is accepted (ffikit cannot check it: see the README).
    """
    args = getattr(fptr, "argtypes", None)
    restype = getattr(fptr, "restype", None)
    if args is None or not (restype is None or isinstance(restype, type)):
        return True
    wanted = fp_type._argtypes_ or ()  # type: ignore[attr-defined]
    return (
        len(args) == len(wanted)
        and _same_ctype(restype, fp_type._restype_)  # type: ignore[attr-defined]
        and all(_same_ctype(x, y) for x, y in zip(args, wanted))
    )


def ctype_text(t: type | None) -> str:
    """The C spelling of a ctypes type (``int``, ``double *``, a struct's declared name)."""
    if t is None:
        return "void"
    model = getattr(t, "_ffikit_type_", None)
    if model is not None:
        return model.c_name()
    if issubclass(t, _CFuncPtr):
        return signature_text(t)
    if issubclass(t, ctypes._Pointer):
        return ctype_text(t._type_) + " *"  # type: ignore[attr-defined]
    if issubclass(t, ctypes.Array):
        item, length = array_parts(t)
        return f"{ctype_text(item)}[{length}]"
    code = getattr(t, "_type_", None)
    return _C_NAMES.get(code, t.__name__) if isinstance(code, str) else t.__name__


def signature_text(fp: object, func_type: m.CType | None = None) -> str:
    """The C spelling of a function-pointer type or object: ``int (*)(int, int)``."""
    if func_type is not None:
        return func_type.c_name("(*)")
    if isinstance(fp, type):
        args, restype = fp._argtypes_, fp._restype_  # type: ignore[attr-defined]
    else:
        args, restype = fp.argtypes, fp.restype  # type: ignore[attr-defined]
    text = ", ".join(ctype_text(t) for t in (args or ())) or "void"
    return f"{ctype_text(restype)} (*)({text})"
