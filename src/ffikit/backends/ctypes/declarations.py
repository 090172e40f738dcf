"""The declarations users hold: the type model bound to ctypes types.

:mod:`ffikit.cdecl` parses C into a backend-free model; this module makes the
:class:`Declarations` that ``ffikit.cdef``/``ffikit.include`` return, whose
attributes are real ctypes types (``defs.Student``), so every type ffikit
makes works wherever ctypes types do.
"""

from __future__ import annotations

import ctypes
import os
import re
from collections.abc import Mapping, Sequence

from ffikit.backends.ctypes.types import to_ctypes
from ffikit.cdecl import declarations as _model
from ffikit.cdecl.model import CastConstant, CType, FunctionDecl
from ffikit.cdecl.parse_errors import understood
from ffikit.rules.stdlib_facts import with_standard_facts

__all__ = ["Declarations", "cdef", "include", "typeof", "ctype_of"]

_CTYPES_BASES = (ctypes._SimpleCData, ctypes.Structure, ctypes.Union, ctypes.Array,
                 ctypes._Pointer, ctypes.CFUNCTYPE(None).__mro__[1])


class Declarations(_model.Declarations):
    __doc__ = _model.Declarations.__doc__

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, decl in self.functions.items():  # what gcc's builtins know of the C library
            ftype = with_standard_facts(name, decl.type)
            if ftype is not decl.type:
                self.functions[name] = FunctionDecl(decl.name, ftype, decl.coord,
                                                    getattr(decl, "symbol", None))
        for enum_class in self.enums.values():  # members pickle as (these declarations, name)
            enum_class.__reduce_ex__ = _enum_reducer(self)

    def ctype(self, spec: str | CType | type) -> type:
        """The ctypes type for a C type name, model type or ctypes type."""
        if isinstance(spec, type) and issubclass(spec, _CTYPES_BASES):
            return spec
        with understood(f"the ctypes type of {spec!r}"):
            return to_ctypes(self.typeof(spec), self.platform)

    def constant_value(self, value):
        """Cast constants (``SQLITE_TRANSIENT``, ``MAP_FAILED``) as ctypes values."""
        if not isinstance(value, CastConstant):
            return value
        ct = to_ctypes(value.type, self.platform)
        address = value.value & ((1 << (8 * self.platform.pointer_size)) - 1)
        return ctypes.cast(address, ct) if issubclass(ct, ctypes._Pointer) else ct(address)


def cdef(text: str, *, platform: str | None = None, packed: bool | int | None = None
         ) -> Declarations:
    return _model.cdef(text, platform=platform, packed=packed, cls=Declarations)  # type: ignore[return-value]


def include(header: str | os.PathLike | Sequence[str | os.PathLike], *, include_dirs=(),
            defines: Mapping | None = None, cpp: str | None = None,
            platform: str | None = None) -> Declarations:
    return _model.include(header, include_dirs=include_dirs, defines=defines, cpp=cpp,
                          platform=platform, cls=Declarations)  # type: ignore[return-value]


def _enum_reducer(defs: Declarations):
    def __reduce_ex__(member, protocol):
        return (getattr, (defs, member.name))
    return __reduce_ex__


def _public_doc(doc: str | None) -> str | None:
    """The model's docstring without its ``cls`` parameter, which users never pass."""
    return re.sub(r"\n    cls\n(?:        .*\n)+", "\n", doc) if doc else doc


cdef.__doc__ = _public_doc(_model.cdef.__doc__)
include.__doc__ = _public_doc(_model.include.__doc__)
typeof = _model.typeof


def ctype_of(spec: str | CType | type, defs: _model.Declarations | None = None) -> type:
    """The ctypes type for ``spec`` (names resolved as :func:`typeof` does)."""
    if isinstance(spec, type) and issubclass(spec, _CTYPES_BASES):
        return spec
    owner = _model._owner(spec, defs)
    with understood(f"the ctypes type of {spec!r}"):
        return to_ctypes(owner.typeof(spec), owner.platform)
