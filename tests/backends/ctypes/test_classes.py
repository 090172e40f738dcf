"""CData is every ctypes type's base; array_class/array_parts make and read array classes."""

from __future__ import annotations

import ctypes

import pytest

from ffikit.backends.ctypes.classes import CData, array_class, array_parts


class TestCData:
    def test_base_of_every_ctypes_type(self):
        class Pair(ctypes.Structure):
            _fields_ = [("a", ctypes.c_int), ("b", ctypes.c_int)]

        for cls in (ctypes.c_int, ctypes.c_void_p, ctypes.c_int * 2, ctypes.POINTER(ctypes.c_int),
                    ctypes.CFUNCTYPE(None), Pair):
            assert issubclass(cls, CData), cls

    def test_not_the_base_of_python_types(self):
        assert not isinstance(3, CData) and not isinstance(b"x", CData)


class TestArrayClass:
    def test_is_ctypes_own_class(self):
        """The very class ``c_int * 3`` is (ctypes caches it), holding 3 ints."""
        cls = array_class(ctypes.c_int, 3)
        assert cls is ctypes.c_int * 3
        assert ctypes.sizeof(cls) == 3 * ctypes.sizeof(ctypes.c_int)
        assert list(cls(1, 2, 3)) == [1, 2, 3]

    def test_of_a_struct_and_of_an_array(self):
        class Point(ctypes.Structure):
            _fields_ = [("x", ctypes.c_double), ("y", ctypes.c_double)]

        rows = array_class(array_class(Point, 2), 4)  # Point[4][2]
        assert ctypes.sizeof(rows) == 8 * ctypes.sizeof(Point)
        assert rows()[3][1].y == 0.0

    def test_zero_length_is_a_flexible_member_shape(self):
        assert ctypes.sizeof(array_class(ctypes.c_uint8, 0)) == 0

    def test_negative_length_is_refused_by_ctypes(self):
        with pytest.raises(ValueError):
            array_class(ctypes.c_int, -1)

    def test_not_a_ctypes_class(self):
        with pytest.raises(TypeError):
            array_class(int, 2)


class TestArrayParts:
    def test_item_and_length(self):
        assert array_parts(ctypes.c_char * 50) == (ctypes.c_char, 50)

    def test_outermost_dimension_first(self):
        item, length = array_parts((ctypes.c_int * 3) * 2)
        assert length == 2 and item is ctypes.c_int * 3
        assert array_parts(item) == (ctypes.c_int, 3)

    def test_round_trip(self):
        cls = array_class(ctypes.c_double, 7)
        assert array_class(*array_parts(cls)) is cls
