"""Typed views and addresses of an 8-element float64 NumPy array, side by side;
view creation on 1 KB vs 1 GB (constant time: nothing is copied).

Run: ``python benchmarks/bench_buffers.py``.
"""

from __future__ import annotations

import ctypes
import mmap
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Row, finish, median_ns, table  # noqa: E402

import ffikit  # noqa: E402


def rows(quick: bool = False) -> list[Row]:
    import cffi
    import numpy as np

    repeats = 9 if quick else 31
    ffi = cffi.FFI()
    a = np.zeros(8)
    T = ctypes.c_double * 8
    ptr = ctypes.POINTER(ctypes.c_double)
    ffikit.view(a, T)  # warm the caches
    g1 = "typed view of float64[8]"
    g2 = "address of float64[8]"
    result = [
        Row(g1, "(c_double*8).from_buffer", median_ns(lambda: T.from_buffer(a), repeats=repeats),
            "(c_double*8).from_buffer"),
        Row(g1, "ffikit.view(a, c_double*8)", median_ns(lambda: ffikit.view(a, T),
                                                         repeats=repeats),
            "(c_double*8).from_buffer"),
        Row(g1, "ffikit.view(a, 'double[8]')", median_ns(lambda: ffikit.view(a, "double[8]"),
                                                          repeats=repeats),
            "(c_double*8).from_buffer"),
        Row(g1, "a.ctypes.data_as(POINTER(c_double))",
            median_ns(lambda: a.ctypes.data_as(ptr), repeats=repeats), "(c_double*8).from_buffer"),
        Row(g2, "cffi ffi.from_buffer", median_ns(lambda: ffi.from_buffer(a), repeats=repeats),
            "cffi ffi.from_buffer"),
        Row(g2, "ffikit.address", median_ns(lambda: ffikit.address(a), repeats=repeats),
            "cffi ffi.from_buffer"),
    ]
    small = bytearray(1024)
    big = mmap.mmap(-1, 1 << 30)
    g3 = "view creation 'uint8_t[]'"
    result += [
        Row(g3, "1 KB bytearray", median_ns(lambda: ffikit.view(small, "uint8_t[]"),
                                            repeats=repeats), "1 KB bytearray"),
        Row(g3, "1 GB mmap", median_ns(lambda: ffikit.view(big, "uint8_t[]"), repeats=repeats),
            "1 KB bytearray"),
    ]
    big.close()
    return finish(result)


if __name__ == "__main__":
    print(table(rows(quick="--quick" in sys.argv)))
