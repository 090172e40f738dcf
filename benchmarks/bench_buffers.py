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
from harness import Row, compare, finish, table  # noqa: E402

import ffikit  # noqa: E402


def rows(quick: bool = False) -> list[Row]:
    import cffi
    import numpy as np

    rounds = 3 if quick else 7
    ffi = cffi.FFI()
    a = np.zeros(8)
    T = ctypes.c_double * 8
    ptr = ctypes.POINTER(ctypes.c_double)
    ffikit.view(a, T)  # warm the caches
    ffikit.view(a, "double[8]")
    result = compare("typed view of float64[8]", {
        "(c_double*8).from_buffer": lambda: T.from_buffer(a),
        "ffikit.view(a, c_double*8)": lambda: ffikit.view(a, T),
        "ffikit.view(a, 'double[8]')": lambda: ffikit.view(a, "double[8]"),
        "a.ctypes.data_as(POINTER(c_double))": lambda: a.ctypes.data_as(ptr),
    }, "(c_double*8).from_buffer", rounds=rounds)
    result += compare("address of float64[8]", {
        "cffi ffi.from_buffer": lambda: ffi.from_buffer(a),
        "ffikit.address": lambda: ffikit.address(a),
        "floor: memoryview(a) alone": lambda: memoryview(a),
    }, "cffi ffi.from_buffer", rounds=rounds)
    small = mmap.mmap(-1, 1024)
    big = mmap.mmap(-1, 1 << 30)  # anonymous: untouched pages cost nothing
    result += compare("view creation 'uint8_t[]'", {
        "1 KB mmap": lambda: ffikit.view(small, "uint8_t[]"),
        "1 GB mmap": lambda: ffikit.view(big, "uint8_t[]"),
    }, "1 KB mmap", rounds=rounds)
    big.close()
    small.close()
    return finish(result)


if __name__ == "__main__":
    print(table(rows(quick="--quick" in sys.argv)))
