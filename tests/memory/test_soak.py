"""Soak: 1,000,000 alloc/free cycles of every kind leave RSS flat and the tracker empty."""

import ctypes
import gc
import random

import ffikit


def _rss_kib() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4


def test_million_cycles_leave_no_trace():
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    rng = random.Random(5)
    sizes = [rng.choice([8, 24, 64, 200, 1000, 5000]) for _ in range(1024)]
    arena = ffikit.Arena(1 << 20)
    pool = ffikit.Pool(block_size=256, blocks=64)

    def cycle_batch(n: int) -> int:
        done = 0
        for i in range(n // 10):
            size = sizes[i & 1023]
            m = ffikit.alloc("uint8_t", size)          # 1 page-backed alloc/free
            m.free()
            ffikit.adopt(libc.malloc(size), size, free="libc").free()  # 1 adopt/free
            for _ in range(4):                          # 4 arena allocs (reset below)
                arena.alloc("uint8_t", size)
            blocks = [pool.alloc() for _ in range(4)]   # 4 pool alloc/release
            for b in blocks:
                pool.release(b)
            if arena.used > (1 << 20) - 4 * 5000:
                arena.reset()
            done += 10
        return done

    cycle_batch(20_000)  # warm up allocator caches before measuring
    gc.collect()
    start = _rss_kib()
    with ffikit.track(depth=1) as tracker:
        total = cycle_batch(1_000_000)
        arena.reset()
        gc.collect()
        assert tracker.leaks() == [] and tracker.total_allocations > 900_000
    end = _rss_kib()
    assert total == 1_000_000
    assert abs(end - start) <= 0.05 * start, (start, end)
    arena.close()
    pool.close()
