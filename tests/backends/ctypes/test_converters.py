"""Converters, called directly: each checks one constraint and names it."""

from __future__ import annotations

import ctypes

import pytest

from crashproof import call_outcome
from ffikit import ArgumentError, BufferTooSmall, NotContiguous, ReadOnlyBuffer
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


STRINGS_SOURCE = r"""
#include <string.h>
int sum_lens(const char **v, int n) { int t = 0; for (int i = 0; i < n; i++) t += strlen(v[i]); return t; }
__attribute__((access(read_only, 1, 2))) int acc(const char **v, int n) { int t = 0; for (int i = 0; i < n; i++) t += strlen(v[i]); return t; }
"""
STRINGS_DECLS = """
int sum_lens(const char **v, int n);
__attribute__((access(read_only, 1, 2))) int acc(const char **v, int n);
"""


@pytest.mark.parametrize("backend", ["ctypes", "compiled"])
@pytest.mark.parametrize("call, expected", [
    ("lib.acc([b'a'], 2)", "raised BufferTooSmall"),
    ("lib.sum_lens([b'a'], 5)", "raised BufferTooSmall"),
    ("lib.sum_lens(('ab', b'c'), 2)", "returned 3"),
    ("lib.acc([b'ab', b'cde'], 2)", "returned 5"),
    ("lib.acc([], 0)", "returned 0"),
])
def test_a_list_for_char_pp_counts_in_its_size_relation(cbuild, backend, call, expected):
    """Issue 19 item 5: the list's temporary array was unknown to the relation: C read past it."""
    got, err = call_outcome(cbuild(STRINGS_SOURCE, name="converters_strings"), STRINGS_DECLS,
                            backend, call, sizes={"sum_lens": {"v": "n"}})
    assert got == expected, err[-2000:]


PP_SOURCE = r"""
int read_pp(int **pp) { return **pp; }
void set_pp(int **pp) { static int seven = 7; *pp = &seven; }
"""


@pytest.mark.parametrize("backend", ["ctypes", "compiled"])
@pytest.mark.parametrize("call, expected", [
    ("lib.read_pp(ctypes.pointer(ctypes.pointer(ctypes.c_int(5))))", "returned 5"),
    ("(slot.__setitem__(0, ffikit.new('int *', 6)), lib.read_pp(slot))[1]", "returned 6"),
    ("(lib.set_pp(slot), slot[0][0])[1]", "returned 7"),  # new('int **'): C stores through it
    ("(lib.set_pp(out), out[0])[1]", "returned 7"),  # an int * object: its address (an out-slot)
])
def test_an_exactly_typed_pointer_to_pointer_is_passed_as_its_value(cbuild, backend, call, expected):
    """Issue 19 item 11: pointer(pointer(c_int(5))) reached C as the Python object's address."""
    got, err = call_outcome(cbuild(PP_SOURCE, name="converters_pp"),
                            "int read_pp(int **pp); void set_pp(int **pp);", backend, call,
                            "slot = ffikit.new('int **')\nout = ctypes.POINTER(ctypes.c_int)()")
    assert got == expected, err[-2000:]


FILL_SOURCE = r"""
void fill(double *p, int n) { for (int i = 0; i < n; i++) p[i] = i; }
float half(float x) { return x / 2; }
"""


@pytest.mark.parametrize("backend", ["ctypes", "compiled"])
@pytest.mark.parametrize("call, expected", [
    # issue 19 item 14: byref(x) skipped the relation x gets; C wrote 16 bytes into 8
    ("lib.fill(ctypes.byref(ctypes.c_double()), 2)", "raised BufferTooSmall"),
    ("lib.fill(ctypes.byref((ctypes.c_double * 2)(), 8), 2)", "raised BufferTooSmall"),
    ("lib.fill(ctypes.byref((ctypes.c_double * 2)()), 2)", "returned None"),
    ("lib.fill(ctypes.byref(ctypes.c_double()), 1)", "returned None"),
    ("lib.half(float('-inf'))", "returned -inf"),  # both infinities fit a float
    ("lib.half(float('inf'))", "returned inf"),
    ("lib.half(-1e39)", "raised OutOfRange"),  # an ArgumentError and an OverflowError
])
def test_byref_gets_its_object_size_relation_and_infinities_pass(cbuild, backend, call, expected):
    got, err = call_outcome(cbuild(FILL_SOURCE, name="converters_fill"),
                            "void fill(double *p, int n); float half(float x);", backend, call,
                            sizes={"fill": {"p": "n"}})
    assert got == expected, err[-2000:]
