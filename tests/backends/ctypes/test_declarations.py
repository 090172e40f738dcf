"""The declarations users hold: the model bound to ctypes types."""

from __future__ import annotations

import ctypes

import pytest

import ffikit
from ffikit.backends.ctypes.declarations import Declarations, cdef, ctype_of, include
from ffikit.cdecl import declarations as model


class TestBinding:
    def test_cdef_returns_ctypes_types(self):
        defs = cdef("typedef struct { int id; double score; } Student;")
        assert isinstance(defs, Declarations) and defs is ffikit.cdef(
            "typedef struct { int id; double score; } Student;")
        assert issubclass(defs.Student, ctypes.Structure) and ctypes.sizeof(defs.Student) == 16
        assert defs.ctype("Student *")._type_ is defs.Student

    def test_ctypes_types_pass_through(self):
        assert cdef("").ctype(ctypes.c_int) is ctypes.c_int
        assert ctype_of(ctypes.c_double) is ctypes.c_double

    def test_include_is_bound_too(self):
        assert isinstance(include("zlib.h"), Declarations)
        assert ctypes.sizeof(include("zlib.h").z_stream) > 0

    def test_ctype_of_uses_earlier_declarations(self):
        cdef("typedef struct { char tag[3]; } tagged_for_ctype_of;")
        assert ctypes.sizeof(ctype_of("tagged_for_ctype_of[2]")) == 6


class TestModelOnly:
    def test_model_declarations_have_no_backend_types(self):
        defs = model.cdef("typedef struct { int x; } P;")
        assert not isinstance(defs, Declarations)
        assert defs.sizeof("P") == 4 and defs.layout("P").size == 4
        with pytest.raises(TypeError, match="model-only declarations"):
            defs.ctype("P")
