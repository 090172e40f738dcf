"""How values and parameters are named in refusals."""

from __future__ import annotations

import ctypes

import numpy as np

from ffikit.cdecl.model import Primitive
from ffikit.rules.messages import Param, given, kind_name, short_repr, type_name


def test_type_names():
    assert type_name(3) == "int"
    assert type_name(ctypes.c_int(1)) == "ctypes c_int"
    assert type_name(ctypes.pointer(ctypes.c_double())) == "ctypes pointer to c_double"
    assert type_name(np.zeros(1)) == "numpy.ndarray"


def test_given_shows_small_values():
    assert given(5) == "int 5"
    assert given(b"ab") == "bytes b'ab'"
    assert given(bytearray(3)) == "bytearray"
    assert short_repr("x" * 100).endswith("...") and len(short_repr("x" * 100)) == 40


def test_kind_names():
    assert kind_name(("f", 4), "f") == "float32"
    assert kind_name(("c", 1), "c") == "char"
    assert kind_name(None, "T{i}") == "format 'T{i}'"


def test_param_position_and_name():
    assert str(Param("fill", 1, "buf", Primitive("int"))) == "argument 2 'buf' of 'fill'"
    assert str(Param("fill", 0, None, Primitive("int"))) == "argument 1 of 'fill'"
