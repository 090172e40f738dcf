"""Allocate + free 64 bytes, side by side; the tracker's cost; Memory's checks on access.

Run: ``python benchmarks/bench_memory.py``.
"""

from __future__ import annotations

import ctypes
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Row, compare, finish, median_ns, table  # noqa: E402

import ffikit  # noqa: E402


def rows(quick: bool = False) -> list[Row]:
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

    def alloc_pages_cycle():
        ffikit.alloc("uint8_t", 64, pages=True).free()

    rounds = 3 if quick else 7
    anchor = "ctypes.create_string_buffer"
    result = compare("alloc+free 64 bytes", {
        anchor: lambda: ctypes.create_string_buffer(64),
        "bytearray(64)": lambda: bytearray(64),
        "libc malloc/free via ctypes": lambda: libc.free(libc.malloc(64)),
        "cffi ffi.new('char[64]')": lambda: ffi.new("char[64]"),
        "ffikit.alloc (heap, the default)": alloc_cycle,
        "ffikit.alloc(pages=True)": alloc_pages_cycle,
        "ffikit Arena.alloc": arena_alloc,
        "ffikit Pool.alloc+release": pool_cycle,
    }, anchor, rounds=rounds)
    off: list[float] = []
    on: list[float] = []
    for _ in range(rounds):  # interleave off/on
        off.append(median_ns(alloc_cycle, repeats=11, target_s=0.001))
        with ffikit.track():
            on.append(median_ns(alloc_cycle, repeats=11, target_s=0.001))
    result += [Row("tracking", "ffikit.alloc, tracking off", min(off),
                   "ffikit.alloc, tracking off"),
               Row("tracking", "ffikit.alloc, tracking on", min(on),
                   "ffikit.alloc, tracking off")]
    # What Memory's bounds and protection checks cost next to a plain buffer.
    heap, plain = ffikit.alloc("uint8_t", 64), bytearray(64)
    paged = ffikit.alloc("uint8_t", 64, guard=True)
    ffikit.view(plain, "uint8_t[64]")  # warm the type cache
    result += compare("m[3] read", {
        "bytearray": lambda: plain[3],
        "ffikit.Memory (heap)": lambda: heap[3],
        "ffikit.Memory (guarded pages)": lambda: paged[3],
    }, "bytearray", rounds=rounds)
    result += compare("ffikit.view(m, 'uint8_t[64]')", {
        "bytearray": lambda: ffikit.view(plain, "uint8_t[64]"),
        "ffikit.Memory (heap)": lambda: ffikit.view(heap, "uint8_t[64]"),
        "ffikit.Memory (guarded pages)": lambda: ffikit.view(paged, "uint8_t[64]"),
    }, "bytearray", rounds=rounds)
    arena.close()
    pool.close()
    return finish(result)


if __name__ == "__main__":
    print(table(rows(quick="--quick" in sys.argv)))
