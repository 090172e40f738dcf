"""Converters, called directly: each checks one constraint and names it."""

from __future__ import annotations

import ctypes

import pytest

from ffikit import ArgumentError, BufferTooSmall, NotContiguous, ReadOnlyBuffer
from ffikit.backends.ctypes.converters import float_slow, int_slow, pointer_converter
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

    def test_nonnull_and_c_string_flags(self):
        char_p = Pointer(Primitive("char"), const=True)
        convert = pointer_converter(Param("f", 0, "s", char_p), "utf-8", nonnull=True, cstring=True)
        with pytest.raises(ArgumentError, match="must not be NULL"):
            convert(None)
        with pytest.raises(ArgumentError, match="must not be NULL"):
            convert(ctypes.c_char_p())
        with pytest.raises(ArgumentError, match="contain NUL at index 1"):
            convert(b"a\0")
        with pytest.raises(BufferTooSmall, match="not NUL-terminated within its 2 bytes"):
            convert(bytearray(b"ab"))
        assert convert(b"ab")[0] == b"ab"


# --- what users pass every day: NumPy default ints, array('l'), wchar_t, char ** -------------

EVERYDAY_C = r"""
#include <stdint.h>
#include <stddef.h>
#include <string.h>
int64_t sum64(const int64_t *a, size_t n) { int64_t s = 0; for (size_t i = 0; i < n; i++) s += a[i]; return s; }
long suml(const long *a, size_t n) { long s = 0; for (size_t i = 0; i < n; i++) s += a[i]; return s; }
int32_t sum32(const int32_t *a, size_t n) { int32_t s = 0; for (size_t i = 0; i < n; i++) s += a[i]; return s; }
size_t total(const char **v) { size_t s = 0; for (; *v; v++) s += strlen(*v); return s; }
size_t shout(char **v, int n) { size_t s = 0; for (int i = 0; i < n; i++) { s += strlen(v[i]); v[i][0] = 'X'; } return s; }
size_t wide_len(const wchar_t *w) { size_t n = 0; while (w[n]) n++; return n; }
"""

EVERYDAY_DECLS = """
#include <stdint.h>
#include <stddef.h>
int64_t sum64(const int64_t *a, size_t n);
long suml(const long *a, size_t n);
int32_t sum32(const int32_t *a, size_t n);
size_t total(const char **v);
size_t shout(char **v, int n);
size_t wide_len(const wchar_t *w);
"""


@pytest.fixture(scope="module")
def everyday(cbuild):
    import ffikit

    return ffikit.load(cbuild(EVERYDAY_C, name="everyday"), EVERYDAY_DECLS)


def test_numpy_default_ints_and_native_formats(everyday):
    import array

    import numpy as np

    assert everyday.sum64(np.arange(4), 4) == 6
    assert everyday.suml(np.arange(4), 4) == 6
    assert everyday.suml(array.array("l", [1, 2]), 2) == 3
    assert everyday.sum64(array.array("q", [1, 2]), 2) == 3
    assert everyday.suml(memoryview(array.array("l", [5])).cast("B").cast("@l"), 1) == 5
    for wrong in (np.arange(4), array.array("l", [1]), array.array("q", [1])):
        with pytest.raises(ArgumentError, match="must be a buffer of int32_t .*int64"):
            everyday.sum32(wrong, 1)
    assert everyday.sum32(np.arange(4, dtype=np.int32), 4) == 6


def test_char_pointer_arrays(everyday):
    assert everyday.total([b"ab", "cd\u00e9", b""]) == 6
    assert everyday.total((b"x",)) == 1
    assert everyday.total((ctypes.c_char_p * 3)(b"a", b"bb", None)) == 3
    assert everyday.shout([b"ab", b"cde"], 2) == 5  # C writes into copies, not into the bytes
    with pytest.raises(ArgumentError, match="item 1 contains NUL"):
        everyday.total([b"a", b"b\0"])
    with pytest.raises(ArgumentError, match="item 0 of the list must be bytes or str"):
        everyday.total([1])


def test_wchar_inputs(everyday):
    import ffikit

    assert everyday.wide_len("h\u00e9") == 2
    assert everyday.wide_len(ctypes.c_wchar_p("abc")) == 3
    assert everyday.wide_len(ctypes.create_unicode_buffer("abcd")) == 4
    slot = ffikit.new("wchar_t[16]")
    slot.value = "five!"
    assert everyday.wide_len(slot) == 5
