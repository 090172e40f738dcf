"""S1: a ctypes array sharing memory with a bytearray — ffikit.view instead of from_buffer."""

import ctypes
import gc

import pytest

import ffikit


def test_char_array_writes_visible_both_ways():
    buf = bytearray(4)
    arr = ffikit.view(buf, "char[4]")
    arr[1] = b"\x05"
    assert buf == bytearray(b"\x00\x05\x00\x00")
    buf[2] = 7
    assert arr[2] == b"\x07"


def test_uint8_int32_and_struct_views():
    buf = bytearray(8)
    ffikit.view(buf, "uint8_t[]")[7] = 255
    ints = ffikit.view(buf, "int32_t[2]")
    assert ints[1] == (255 << 24) - 2**32  # little-endian, signed
    defs = ffikit.cdef("typedef struct { int16_t x, y; int32_t z; } P;")
    p = ffikit.view(buf, "P", defs=defs)
    p.y = -2
    assert buf[2:4] == b"\xfe\xff"


def test_view_keeps_the_bytearray_alive():
    buf = bytearray(b"\x2a\x00\x00\x00")
    arr = ffikit.view(buf, "int32_t[1]")
    del buf
    gc.collect()
    assert arr[0] == 42


def test_view_larger_than_buffer_names_both_sizes():
    with pytest.raises(ffikit.BufferTooSmall, match="'int32_t\\[4\\]' needs 16 bytes .* has 4"):
        ffikit.view(bytearray(4), "int32_t[4]")


def test_bytes_view_is_zero_copy_and_read_only():
    data = b"\x01\x02\x03\x04"
    with pytest.raises(TypeError):  # what raw ctypes does
        (ctypes.c_char * 4).from_buffer(data)
    arr = ffikit.view(data, "uint8_t[4]")
    assert ctypes.addressof(arr) == ffikit.address(data)  # same memory, no copy
    assert list(arr) == [1, 2, 3, 4]
    with pytest.raises(ffikit.ReadOnlyBuffer):
        arr[0] = 9
