"""C declarations -> the type model -> ctypes types.

``cdef`` takes C text, ``include`` a real header; both return
:class:`Declarations`, whose attributes are real ctypes types
(``defs.Student``), constants (``defs.MAX_STUDENTS``) and enum members.
"""

from __future__ import annotations

from .declarations import Declarations, cdef, ctype_of, include, typeof

__all__ = ["Declarations", "cdef", "include", "typeof", "ctype_of"]
