"""Converters, called directly: each checks one constraint and names it."""

from __future__ import annotations

import ctypes

import pytest

from ffikit import ArgumentError, NotContiguous, ReadOnlyBuffer
from ffikit.backends.ctypes.converters import (
    AS_IS,
    BY_ADDRESS,
    BY_VALUE,
    BYREF,
    ModeCache,
    ctypes_mode,
    float_slow,
    int_slow,
    pointer_converter,
)
from ffikit.backends.ctypes.pybuffer import memoryview_address
from ffikit.cdecl.model import Pointer, Primitive
from ffikit.rules.messages import Param

INT = Primitive("int")
DOUBLE = Primitive("double")


class TestIntSlow:
    def test_accepts_index_types(self):
        convert = int_slow(Param("f", 0, "n", INT), -10, 10, False)
        assert convert(True) == 1

    def test_out_of_range(self):
        convert = int_slow(Param("f", 0, "n", INT), -10, 10, False)
        with pytest.raises(ArgumentError) as e:
            convert(11)
        assert str(e.value) == ("argument 1 'n' of 'f' is out of range for C type int: 11 not in "
                                "[-10, 10] (ctypes would wrap it silently)")

    def test_char_takes_one_byte(self):
        convert = int_slow(Param("f", 1, "c", Primitive("char")), -128, 127, True)
        assert convert(b"\xff") == -1
        with pytest.raises(ArgumentError, match="must be an int or a 1-byte bytes"):
            convert("x")


class TestFloatSlow:
    def test_float_overflow(self):
        convert = float_slow(Param("f", 0, "x", Primitive("float")), ctypes.c_float)
        with pytest.raises(ArgumentError, match="overflows float"):
            convert(1e39)
        assert convert(2).value == 2.0


class TestPointerConverter:
    def test_buffer_by_address(self):
        convert = pointer_converter(Param("f", 0, "p", Pointer(DOUBLE, const=True)), "utf-8")
        buf = bytearray(16)
        ptr, keep = convert(memoryview(buf).cast("d"))
        assert ptr.value == memoryview_address(memoryview(buf)) and keep is not None

    def test_refusals(self):
        convert = pointer_converter(Param("f", 0, "p", Pointer(DOUBLE)), "utf-8")
        with pytest.raises(ReadOnlyBuffer, match="argument 1 'p' of 'f' must be a writable buffer"):
            convert(b"12345678")
        with pytest.raises(ArgumentError, match="must be a buffer of double .*int32"):
            convert(memoryview(bytearray(8)).cast("i"))
        with pytest.raises(NotContiguous, match="ascontiguousarray"):
            convert(memoryview(bytearray(32)).cast("d")[::2])
        assert convert(None) == (None, None)


class TestCtypesMode:
    """How a pointer converter passes every instance of a ctypes type, found once per type."""

    def _convert(self, target, const=True):
        return pointer_converter(Param("f", 0, "p", Pointer(target, const=const)), "utf-8")

    def test_arrays_and_scalars_by_address_pointers_by_value(self):
        convert = self._convert(DOUBLE)
        assert ctypes_mode(convert, ctypes.c_double * 4) == BY_ADDRESS
        assert ctypes_mode(convert, ctypes.c_double) == BY_ADDRESS
        assert ctypes_mode(convert, ctypes.POINTER(ctypes.c_double)) == BY_VALUE

    def test_refused_types_get_no_shortcut(self):
        convert = self._convert(DOUBLE)
        assert ctypes_mode(convert, ctypes.c_float * 4) == 0
        assert ctypes_mode(convert, bytearray) == 0  # not ctypes: the buffer path decides

    def test_mode_cache_answers_what_the_wrapper_does(self):
        cache = ModeCache(self._convert(DOUBLE))
        assert cache[ctypes.c_double * 4] == AS_IS  # ctypes passes arrays by address
        assert cache[ctypes.c_double] == BYREF
        assert cache[ctypes.POINTER(ctypes.c_double)] == AS_IS
        assert cache[ctypes.c_int] == 0
