"""Allocate + free 64 bytes, side by side; and the tracker's cost.

Run: ``python benchmarks/bench_memory.py``.
"""

from __future__ import annotations

import ctypes
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Row, finish, median_ns, table  # noqa: E402

import ffikit  # noqa: E402


def rows(quick: bool = False) -> list[Row]:
    repeats = 9 if quick else 31
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    import cffi

    ffi = cffi.FFI()
    arena = ffikit.Arena(1 << 24)
    pool = ffikit.Pool(64, 1024)

    def arena_alloc():
        if arena.used > (1 << 24) - 128:
            arena.reset()
        arena.alloc(None, 64)

    def pool_cycle():
        pool.release(pool.alloc())

    def alloc_cycle():
        ffikit.alloc("uint8_t", 64).free()

    group = "alloc+free 64 bytes"
    anchor = "ctypes.create_string_buffer"
    result = [
        Row(group, anchor, median_ns(lambda: ctypes.create_string_buffer(64), repeats=repeats),
            anchor),
        Row(group, "bytearray(64)", median_ns(lambda: bytearray(64), repeats=repeats), anchor),
        Row(group, "libc malloc/free via ctypes",
            median_ns(lambda: libc.free(libc.malloc(64)), repeats=repeats), anchor),
        Row(group, "cffi ffi.new('char[64]')", median_ns(lambda: ffi.new("char[64]"),
                                                          repeats=repeats), anchor),
        Row(group, "ffikit.alloc (page-backed)", median_ns(alloc_cycle, repeats=repeats), anchor),
        Row(group, "ffikit Arena.alloc", median_ns(arena_alloc, repeats=repeats), anchor),
        Row(group, "ffikit Pool.alloc+release", median_ns(pool_cycle, repeats=repeats), anchor),
    ]
    off = median_ns(alloc_cycle, repeats=repeats)
    with ffikit.track():
        on = median_ns(alloc_cycle, repeats=repeats)
    result += [Row("tracking", "ffikit.alloc, tracking off", off, "ffikit.alloc, tracking off"),
               Row("tracking", "ffikit.alloc, tracking on", on, "ffikit.alloc, tracking off")]
    arena.close()
    pool.close()
    return finish(result)


if __name__ == "__main__":
    print(table(rows(quick="--quick" in sys.argv)))
