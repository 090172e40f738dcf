"""Callbacks from C: a held comparator under ``qsort``, and a plain callable passed per call.

Issue 20 item 4.  ``qsort`` (glibc's, through each binding's own declaration)
sorts 64 ints with a comparator that returns 0, so every variant makes the
same comparisons (counted once, through ctypes); the row is the time per
*comparison*: C calling Python.  ``apply(int (*)(int), int)`` takes a plain
Python function each call: ffikit lends it a C slot of the signature's
callback pool for the call (compiled backend), cffi needs ``ffi.callback``
per call, ctypes a ``CFUNCTYPE`` object per call.  Variants run in
interleaved rounds, each keeps its best median.

``--callgrind`` (or ``FFIKIT_BENCH_CALLGRIND=1``) adds instructions per
operation for every variant, where ``valgrind`` exists (see
:func:`harness.callgrind_counts`).

Run: ``python benchmarks/bench_callbacks.py [--quick] [--callgrind]``.
"""

from __future__ import annotations

import ctypes
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Row, callgrind_child, callgrind_counts, cffi_api, finish, median_ns, table  # noqa: E402

import ffikit  # noqa: E402

SOURCE = r"""
#include <stdlib.h>
int apply(int (*f)(int), int x) { return f(x); }
void (*keep_qsort)(void *, size_t, size_t, int (*)(const void *, const void *)) = qsort;  /* linked */
"""
CDEF = """
void qsort(void *base, size_t nmemb, size_t size, int (*compar)(const void *, const void *));
int apply(int (*f)(int), int x);
"""
N = 64


def _cffi_api(tmp: str) -> tuple[object, object] | None:
    return cffi_api("_bench_callbacks_cffi", CDEF, SOURCE, tmp)

def _comparisons(raw: ctypes.CDLL) -> int:
    """How many comparisons qsort makes over N ints with a comparator returning 0."""
    seen = [0]

    def count(a: int, b: int) -> int:
        seen[0] += 1
        return 0

    cmp_t = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)
    raw.qsort((ctypes.c_int * N)(*range(N, 0, -1)), N, 4, cmp_t(count))
    return seen[0]


def variants(tmp: str) -> list[tuple[str, str, object, str, int]]:
    """``(group, variant, zero-argument callable, anchor, operations per call)``."""
    saved = {k: os.environ.get(k) for k in ("FFIKIT_BUILD", "FFIKIT_BACKEND")}
    os.environ["FFIKIT_BUILD"] = "sync"  # the callback pools are built before timing
    try:
        return _variants(tmp)
    finally:
        for key, value in saved.items():  # (ffikit bench runs every suite in one process)
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _variants(tmp: str) -> list[tuple[str, str, object, str, int]]:
    path = ffikit.build(SOURCE, name="bench_callbacks")
    libs = {b: ffikit.load(path, CDEF, backend=b) for b in ("compiled", "ctypes")}
    raw = ctypes.CDLL(path)
    api = _cffi_api(tmp)
    out: list[tuple[str, str, object, str, int]] = []
    per = _comparisons(raw)

    def zero(a: object, b: object) -> int:
        return 0

    data = (ctypes.c_int * N)(*range(N, 0, -1))
    cmp_t = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)
    c_qsort = raw.qsort
    c_qsort.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t, cmp_t]
    c_qsort.restype = None
    held_ctypes = cmp_t(zero)
    group = f"qsort comparator, per comparison ({per} per sort of {N} ints)"
    v: dict[str, object] = {"ctypes CFUNCTYPE": lambda: c_qsort(data, N, 4, held_ctypes)}
    if api:
        ffi, lib = api
        cffi_cmp = ffi.callback("int(*)(const void *, const void *)", zero)  # type: ignore[attr-defined]
        cffi_data = ffi.new("int[]", list(range(N, 0, -1)))  # type: ignore[attr-defined]
        v["cffi API"] = lambda f=lib.qsort, d=cffi_data, c=cffi_cmp: f(d, N, 4, c)  # type: ignore[attr-defined]
    for b, lib in libs.items():
        os.environ["FFIKIT_BACKEND"] = b  # which backend ffikit.callback follows
        held = ffikit.callback(lib.defs.typeof("int (*)(const void *, const void *)"), zero)
        v[f"ffikit {b}, held ffikit.callback"] = lambda f=lib.qsort, c=held: f(data, N, 4, c)
    out += [(group, name, fn, "ctypes CFUNCTYPE", per) for name, fn in v.items()]

    def plain(x: int) -> int:
        return x

    unary = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)
    c_apply = raw.apply
    c_apply.argtypes, c_apply.restype = [unary, ctypes.c_int], ctypes.c_int
    v = {"ctypes CFUNCTYPE per call": lambda: c_apply(unary(plain), 1)}
    if api:
        ffi, lib = api
        v["cffi API, ffi.callback per call"] = (
            lambda f=lib.apply, cb=ffi.callback: f(cb("int(int)", plain), 1))  # type: ignore[attr-defined]
    for b, lib in libs.items():
        v[f"ffikit {b}"] = lambda f=lib.apply: f(plain, 1)
    anchor = "cffi API, ffi.callback per call" if api else "ctypes CFUNCTYPE per call"
    out += [("apply(int (*)(int), 1), a plain callable each call", name, fn, anchor, 1)
            for name, fn in v.items()]
    for item in out:
        item[2]()  # type: ignore[operator]  # warm: the pools plain callables borrow from are built
    return out


def rows(quick: bool = False) -> list[Row]:
    """Interleaved rounds (the machine is shared): each variant's best median over rounds."""
    with tempfile.TemporaryDirectory(prefix="ffikit-bench-") as tmp:
        found = variants(tmp)
        for _group, _name, fn, _anchor, _per in found:
            fn()  # type: ignore[operator]  # warm
        best: dict[tuple[str, str], float] = {}
        for _ in range(2 if quick else 7):
            for group, name, fn, _anchor, per in found:
                ns = median_ns(fn, repeats=3 if quick else 9, target_s=0.001) / per  # type: ignore[arg-type]
                best[(group, name)] = min(best.get((group, name), ns), ns)
        result = [Row(group, name, best[(group, name)], anchor) for group, name, _f, anchor, _p in found]
        if "--callgrind" in sys.argv or os.environ.get("FFIKIT_BENCH_CALLGRIND", "") not in ("", "0"):
            counts = callgrind_counts(__file__, variants)
            for row in result:
                if (row.group, row.name) in counts:
                    row.note = f"{counts[(row.group, row.name)]:,.0f} instr."
    return result


if __name__ == "__main__":
    if "--child" in sys.argv:
        callgrind_child(sys.argv[sys.argv.index("--child") + 1], variants)
    else:
        print(table(finish(rows(quick="--quick" in sys.argv))))
