"""Buffer export and addresses: the one way every layer reaches an object's bytes."""

from __future__ import annotations

import array
import ctypes

import numpy as np
import pytest

from ffikit.backends.ctypes.pybuffer import PLAIN_TYPES, export, learn_numpy, memoryview_address


class TestMemoryviewAddress:
    @pytest.mark.parametrize("make", [lambda: bytearray(16), lambda: array.array("d", [1, 2]),
                                      lambda: np.zeros(4)])
    def test_is_the_first_byte(self, make):
        obj = make()
        expected = (ctypes.c_char * 1).from_buffer(obj)
        assert memoryview_address(memoryview(obj)) == ctypes.addressof(expected)

    def test_slices_point_into_the_parent(self):
        buf = bytearray(32)
        base = memoryview_address(memoryview(buf))
        assert memoryview_address(memoryview(buf)[5:9]) == base + 5


class TestExport:
    def test_plain_buffer(self):
        buf = bytearray(b"abc")
        view = export(buf)
        assert view.obj is buf and bytes(view) == b"abc"

    def test_region_hook_wins(self):
        class Windowed:
            def __init__(self):
                self.data = bytearray(b"0123456789")

            def __ffikit_region__(self):
                return memoryview(self.data)[2:5]

        assert bytes(export(Windowed())) == b"234"

    def test_not_a_buffer(self):
        with pytest.raises(TypeError):
            export(object())

    def test_numpy_joins_the_plain_types(self):
        learn_numpy()
        assert np.ndarray in PLAIN_TYPES
