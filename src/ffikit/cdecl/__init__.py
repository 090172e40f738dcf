"""C text -> the backend-free type model.

``cdef`` takes C text, ``include`` a real header; both return model-level
:class:`Declarations` (types, functions, constants, enums, layouts).  Nothing
here knows ctypes: the declarations users hold come from
:mod:`ffikit.backends.ctypes.declarations`, which adds the ctypes types.
"""

from __future__ import annotations

from ffikit.cdecl.declarations import Declarations, cdef, include, typeof

__all__ = ["Declarations", "cdef", "include", "typeof"]
