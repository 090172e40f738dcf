"""Which argument *types* a compiled wrapper may pass to C without asking Python.

A compiled wrapper asks its classifier once per (parameter, exact argument
type) and caches the answer:

* ``BUFFER`` -- any type that is not ctypes (bytes, bytearray, memoryview,
  array, mmap, NumPy arrays and their subclasses such as ``np.memmap``; a
  non-buffer fails ``PyObject_GetBuffer`` and takes the slow path): C takes
  the buffer protocol, checking writability, contiguity and item format
  against the same :func:`accepted_formats`;
* ``ADDRESS`` -- a ctypes object the ctypes backend passes by the address of
  its own storage (an array of the declared struct, a struct, a ``c_double``
  for ``double *``, a pointer object as an out-slot for ``T **``);
* ``VALUE`` -- a ctypes pointer object the ctypes backend passes as the
  pointer it holds;
* ``ADDRESS`` for a struct passed by value: exactly the declared struct's
  ctypes class, whose bytes C copies;
* ``THUNK`` -- an :func:`ffikit.callback` for a function-pointer parameter:
  C passes the ``thunk`` it holds;
* ``LEND`` -- any other callable for a function-pointer parameter: C lends it
  a slot of the C callback pool of the parameter's signature for the call
  (:mod:`~ffikit.backends.compiled.cbpool`; asked for here, so the pool is
  built -- in the background under ``auto`` -- and until then, or for a
  signature no pool serves, the slow path lends a ctypes thunk);
* ``REGION`` -- ffikit memory (not a ctypes object, with ``__ffikit_region__``):
  the buffer checks on the region it exports, as the converter does;
* ``SLOW`` -- anything else: the ctypes backend's wrapper handles the call.

The answer is found by running the ctypes backend's own converter on a fresh
instance of the type and looking at what it produced, so the two backends
cannot disagree about which ctypes objects are accepted.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable

from ffikit.backends.ctypes import callbacks
from ffikit.backends.ctypes.converters import BY_ADDRESS, BY_VALUE, ctypes_mode, pointer_converter
from ffikit.backends.ctypes.pybuffer import PLAIN_TYPES, learn_numpy
from ffikit.backends.ctypes.types import ctype_of
from ffikit.cdecl import model as m
from ffikit.rules.messages import Param
from ffikit.rules.params import param_rule

__all__ = ["SLOW", "BUFFER", "ADDRESS", "VALUE", "THUNK", "REGION", "LEND", "classifier", "BPTR_OFFSET",
           "result_maker", "CHAR_TARGETS", "char_param_indexes"]

SLOW, BUFFER, ADDRESS, VALUE, THUNK, REGION, LEND = 0, 1, 2, 3, 4, 5, 6
_CData = ctypes.c_int.__mro__[-2]

_CFuncPtr = ctypes.CFUNCTYPE(None).__mro__[1]
_CArgObject = type(ctypes.byref(ctypes.c_int()))


def _find_bptr() -> int:
    """Offset of a ctypes object's data pointer (``b_ptr``) inside the object, or -1."""
    probes = [ctypes.c_int(), (ctypes.c_double * 3)(), ctypes.POINTER(ctypes.c_int)()]
    for offset in range(16, 64, ctypes.sizeof(ctypes.c_void_p)):
        if all(ctypes.c_void_p.from_address(id(p) + offset).value == ctypes.addressof(p) for p in probes):
            return offset
    return -1


BPTR_OFFSET = _find_bptr()
# Pointees whose buffers are C strings (or may become so): only NUL-free bytes go fast.
CHAR_TARGETS = frozenset({"char", "wchar_t", "char16_t", "char32_t"})


def classifier(name: str, ftype: m.FunctionType, encoding: str,
               char_params: frozenset[int] | None = None,
               fptypes: list | None = None) -> Callable[[int, type], int]:
    """The ``(parameter index, argument type) -> mode`` function for one C function
    (``char_params``: :func:`char_param_indexes`, found at the first question when not given).

    ``fptypes`` (the list the compiled function reads them from) gets each function-pointer
    parameter's ctypes class when the parameter is first asked about: C needs it only for
    the argument types this answers THUNK or LEND for, so binding builds none.
    """
    return _Classifier(name, ftype, encoding, char_params, fptypes)


class _Classifier:
    """:func:`classifier`'s function: one small object per bound function (binding a library
    whole makes hundreds, and each closure would cost a function and its cells)."""

    __slots__ = ("name", "ftype", "encoding", "chars", "fptypes", "converters")

    def __init__(self, name: str, ftype: m.FunctionType, encoding: str,
                 chars: frozenset[int] | None, fptypes: list | None):
        self.name, self.ftype, self.encoding, self.chars, self.fptypes = name, ftype, encoding, chars, fptypes
        self.converters: dict[int, Callable] | None = None

    def _where(self, index: int) -> Param:
        ftype = self.ftype
        return Param(self.name, index, ftype.param_names[index], ftype.params[index])

    def converter(self, index: int) -> Callable:
        converters = self.converters
        if converters is None:
            converters = self.converters = {}
        conv = converters.get(index)
        if conv is None:
            conv = converters[index] = pointer_converter(self._where(index), self.encoding)
        return conv

    def __call__(self, index: int, tp: type) -> int:
        ftype, fptypes = self.ftype, self.fptypes
        rule = param_rule(ftype.params[index])
        if rule.kind == "struct":  # by value: exactly the declared struct's class, as ctypes wants
            return ADDRESS if tp is ctype_of(rule.ctype) else SLOW
        if rule.kind == "function_pointer":  # signatures are checked per object (C) or here
            if fptypes is not None and fptypes[index] is None:
                fptypes[index] = ctype_of(ftype.params[index])  # (before C reads it)
            if tp is callbacks.Callback:
                return THUNK
            fp_type = ctype_of(rule.ctype)
            if fp_type is None:  # (no ctypes class: nothing to lend for)
                return SLOW
            if tp is fp_type:
                return VALUE
            if issubclass(tp, (_CData, callbacks.Callback)) or not _calls(tp):
                return SLOW  # other types: the slow path checks (or refuses)
            from ffikit.backends.compiled import cbpool

            cbpool.lend_pool(fp_type)
            return LEND
        found = self.chars
        if found is None:
            found = self.chars = char_param_indexes(ftype)
        if index in found:  # C strings: only the C side's bytes case is fast
            return SLOW
        learn_numpy()
        if tp in PLAIN_TYPES:
            return BUFFER
        if not issubclass(tp, _CData) and tp is not _CArgObject:
            if callable(getattr(tp, "__ffikit_region__", None)):
                return REGION  # ffikit memory: the same checks on the region it exports
            # Anything else that is not ctypes is exported as it is (np.memmap, subclasses):
            # the buffer protocol answers, or the slow path refuses it.
            return BUFFER
        mode = ctypes_mode(self.converter(index), tp)
        return ADDRESS if mode == BY_ADDRESS else VALUE if mode == BY_VALUE else SLOW

    def owner_text(self, index: int) -> str:  # a late call's report names the parameter
        return str(self._where(index))


def _calls(tp: type) -> bool:
    """True when instances of ``tp`` are callable (``callable()``, asked of the type)."""
    return any("__call__" in vars(k) for k in tp.__mro__)


def char_param_indexes(ftype: m.FunctionType) -> frozenset[int]:
    """Parameters that point to character types (their buffers may be C strings)."""
    found = set()
    for i, ptype in enumerate(ftype.params):
        rule = param_rule(ptype)
        target = rule.pointee
        if rule.kind == "pointer" and isinstance(target, m.Primitive) and target.name in CHAR_TARGETS:
            found.add(i)
    return frozenset(found)


def result_maker(restype: type | None) -> object:
    """The ctypes class C builds a pointer, ``void *``, struct or union result as (None: other results)."""
    if restype is None or not isinstance(restype, type):
        return None
    if issubclass(restype, (ctypes._Pointer, ctypes.c_void_p, ctypes.Structure, ctypes.Union)):
        return restype
    return None
