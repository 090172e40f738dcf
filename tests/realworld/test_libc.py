"""libc through its real header: qsort with a Python comparator over an array.array."""

from __future__ import annotations

import array
import ctypes
import random

import pytest

import ffikit


@pytest.fixture(scope="module")
def libc():
    return ffikit.load("c", ffikit.include("stdlib.h"))


def compare_ints(a, b):
    x = ctypes.cast(a, ctypes.POINTER(ctypes.c_int))[0]
    y = ctypes.cast(b, ctypes.POINTER(ctypes.c_int))[0]
    return (x > y) - (x < y)


def test_qsort_array_in_place(libc):
    values = [random.randint(-1000, 1000) for _ in range(200)]
    arr = array.array("i", values)
    address = arr.buffer_info()[0]
    libc.qsort(arr, len(arr), arr.itemsize, compare_ints)
    assert arr.tolist() == sorted(values)
    assert arr.buffer_info()[0] == address  # sorted where it was: no copy


def test_qsort_comparator_exception(libc):
    def broken(a, b):
        raise ZeroDivisionError("cmp")

    with pytest.raises(ZeroDivisionError) as e:
        libc.qsort(array.array("i", [3, 1, 2]), 3, 4, broken)
    assert "called from C function qsort" in e.value.__notes__[0]


def test_abs_and_strtol(libc):
    assert libc.abs(-5) == 5
    end = libc.new("char *")
    assert libc.strtol(b"123xyz", end, 10) == 123
    with pytest.raises(ffikit.ArgumentError, match="argument 1 '__x' of 'abs' is out of range"):
        libc.abs(2**40)


def test_snprintf_variadic_promotions():
    libc = ffikit.load("c", ffikit.include("stdio.h"))
    buf = bytearray(64)
    n = libc.snprintf(buf, len(buf), b"%d|%s|%.2f|%lld", 42, "h\u00e9", 1.5, 2**40)
    assert bytes(buf[:n]) == "42|h\u00e9|1.50|1099511627776".encode()


def test_header_keyword():
    z = ffikit.load("z", header="zlib.h")
    assert z.compressBound(0) > 0
