"""S5: memoryview zero-copy slicing, to C and to views; the traps become clear errors."""

import struct

import numpy as np
import pytest

import ffikit

C = """
#include <stdint.h>
#include <stddef.h>
uintptr_t where(const void *p) { return (uintptr_t)p; }
long sum_ints(const int32_t *a, size_t n) { long t = 0; for (size_t i = 0; i < n; i++) t += a[i]; return t; }
"""


pytestmark = pytest.mark.usefixtures("backend")  # every test under both backends

@pytest.fixture(scope="module")
def lib(cbuild, backend):
    return ffikit.load(cbuild(C, name="s5"), "uintptr_t where(const void *p);"
                                            "long sum_ints(const int32_t *a, size_t n);")


def test_slice_of_bytes_reaches_c_at_its_first_byte(lib):
    data = b"Hello World!"
    sl = memoryview(data)[6:11]
    assert bytes(sl) == b"World"
    assert lib.where(sl) == ffikit.address(data) + 6


def test_int_slices_keep_their_offset(lib):
    arr = np.arange(10, dtype=np.int32)
    mv = memoryview(arr)[3:6]
    assert lib.where(mv) == arr.ctypes.data + 12
    assert lib.sum_ints(mv, 3) == 3 + 4 + 5


def test_struct_unpack_from_and_view_agree_on_a_slice():
    packet = struct.pack("<iid", 7, 8, 2.5)
    body = memoryview(packet)[8:]
    assert ffikit.view(body, "double").value == struct.unpack_from("<d", packet, 8)[0]


def test_writing_through_a_view_of_bytes_raises():
    with pytest.raises(TypeError):
        memoryview(b"abc")[0] = 1
    with pytest.raises(ffikit.ReadOnlyBuffer):
        ffikit.view(memoryview(b"abcd")[1:], "uint8_t[]")[0] = 1


def test_non_contiguous_is_refused_with_the_fix(lib):
    strided = np.arange(10, dtype=np.int32)[::2]
    with pytest.raises(ffikit.NotContiguous, match="ascontiguousarray"):
        lib.sum_ints(strided, 5)
    with pytest.raises(ffikit.NotContiguous, match="ascontiguousarray"):
        ffikit.view(strided, "int32_t[]")


def test_format_mismatch_is_refused(lib):
    as_bytes = memoryview(np.arange(4, dtype=np.int32)).cast("B")
    with pytest.raises(ffikit.ArgumentError, match="sum_ints"):
        lib.sum_ints(as_bytes, 4)


def test_offset_past_the_end_raises_instead_of_an_empty_view():
    data = bytearray(8)
    with pytest.raises(ffikit.BufferTooSmall):
        ffikit.view(data, "uint8_t[]", offset=8)
    with pytest.raises(ffikit.BufferTooSmall):
        ffikit.view(data, "uint8_t", offset=6, count=4)
