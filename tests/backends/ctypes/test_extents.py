"""extent() says how many bytes a converted argument holds for C; string arrays count their items."""

from __future__ import annotations

import ctypes

import pytest

from ffikit.backends.ctypes.extents import extent, has_nul, string_array
from ffikit.cdecl.model import Pointer, Primitive
from ffikit.errors import ArgumentError
from ffikit.rules.messages import Param

WHERE = Param("f", 0, "argv", Pointer(Pointer(Primitive("char"), const=True)))


def test_buffers_bytes_and_arrays():
    assert extent(memoryview(bytearray(12))) == 12
    assert extent(b"abc") == 3
    assert extent((ctypes.c_int * 4)()) == 16
    assert extent(None) == -1 and extent(ctypes.c_void_p(5)) == -1


def test_byref_counts_the_object_past_its_offset():
    x = ctypes.c_double()
    assert extent(ctypes.byref(x)) == 8
    pair = (ctypes.c_double * 2)()
    assert extent(ctypes.byref(pair, 8)) == 8
    assert extent(ctypes.byref(pair, 16)) == 0


def test_a_string_array_holds_its_items_not_its_null():
    array, keep = string_array(WHERE, [b"a", "b", b"c"], "const", "utf-8")
    assert [array[k] for k in range(4)] == [b"a", b"b", b"c", None]
    assert extent(keep) == 3 * ctypes.sizeof(ctypes.c_void_p)
    _, keep = string_array(WHERE, [], "mutable", "utf-8")
    assert extent(keep) == 0
    with pytest.raises(ArgumentError, match="item 1 contains NUL"):
        string_array(WHERE, [b"a", b"b\0"], "const", "utf-8")


def test_has_nul_within_bounds_only():
    data = ctypes.create_string_buffer(b"ab\0cd", 5)
    assert has_nul(ctypes.addressof(data), 5)
    assert not has_nul(ctypes.addressof(data), 2)
