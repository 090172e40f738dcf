"""The issue-20 table: ffikit's checked paths on the compiled backend beside cffi API mode and ctypes.

Each row is a case where ffikit does what it exists for -- a size checked from
the header, an errno policy, a pointer or struct handed back -- next to cffi's
API mode (``ffi.set_source``, compiled in a temporary directory: the bar) and
ctypes with ``argtypes``/``restype``.  Variants run in interleaved rounds, each
keeps its best median (CPU noise from other jobs hits every variant alike).

``--callgrind`` (or ``FFIKIT_BENCH_CALLGRIND=1``, e.g. under ``make bench``) adds,
where ``valgrind`` exists, the instructions per call of
every variant (callgrind, collection switched on only around the timed loop;
an empty loop's count subtracted): deterministic on a noisy machine.

Run: ``python benchmarks/bench_checked.py [--quick] [--callgrind]``.
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
#include <stddef.h>
#include <errno.h>
typedef struct { int x, y; } Pair;
double sum(const double *p, size_t n) { double s = 0; for (size_t i = 0; i < n; i++) s += p[i]; return s; }
double sum_checked(const double *p, size_t n) { return sum(p, n); }
int may_fail(int e) { if (e) { errno = e; return -1; } return 0; }
int *same_int(int *p) { return p; }
void *same_void(void *p) { return p; }
Pair make_pair(int x) { Pair p = {x, x + 1}; return p; }
int nothing(void) { return 0; }
"""

CDEF = """
typedef struct { int x, y; } Pair;
double sum(const double *p, size_t n);
double sum_checked(const double *p, size_t n) __attribute__((access(read_only, 1, 2)));
int may_fail(int e);
int *same_int(int *p);
void *same_void(void *p);
Pair make_pair(int x);
int nothing(void);
"""

CFFI_CDEF = CDEF.replace(" __attribute__((access(read_only, 1, 2)))", "")


def _cffi_api(tmp: str) -> tuple[object, object] | None:
    return cffi_api("_bench_checked_cffi", CFFI_CDEF, SOURCE, tmp)

def _raises(fn: object, exc: type[BaseException]) -> object:
    def call() -> None:
        try:
            fn()  # type: ignore[operator]
        except exc:
            pass
    return call


def variants(tmp: str) -> list[tuple[str, str, object, str]]:
    """``(group, variant, zero-argument callable, anchor)`` for every row."""
    import numpy as np

    path = ffikit.build(SOURCE, name="bench_checked")
    lib = ffikit.load(path, CDEF, backend="compiled")
    raw = ctypes.CDLL(path, use_errno=True)
    api = _cffi_api(tmp)
    out: list[tuple[str, str, object, str]] = []

    def group(name: str, found: dict, anchor: str = "cffi API") -> None:
        if "cffi API" not in found:
            anchor = "ctypes argtypes"
        out.extend((name, variant, fn, anchor) for variant, fn in found.items())

    data = np.arange(8.0)
    c_sum = raw.sum
    c_sum.argtypes, c_sum.restype = [ctypes.POINTER(ctypes.c_double), ctypes.c_size_t], ctypes.c_double
    d8 = ctypes.c_double * 8
    v: dict = {"ctypes argtypes": lambda: c_sum(d8.from_buffer(data), 8)}
    if api:
        v["cffi API"] = lambda f=api[1].sum, fb=api[0].from_buffer: f(fb("double[]", data), 8)
    v["ffikit compiled, unchecked"] = lambda f=lib.sum: f(data, 8)
    v["ffikit compiled, access(read_only, 1, 2)"] = lambda f=lib.sum_checked: f(data, 8)
    group("sum(const double *, size_t) size-checked, NumPy float64[8] (cffi: unchecked)", v)

    c_fail = raw.may_fail
    c_fail.argtypes, c_fail.restype = [ctypes.c_int], ctypes.c_int

    def ctypes_errcheck(result: int, func: object, args: tuple) -> int:
        if result == -1:
            number = ctypes.get_errno()
            raise OSError(number, os.strerror(number))
        return result

    c_fail.errcheck = ctypes_errcheck
    lib.may_fail.errors = ffikit.check.errno
    v = {"ctypes argtypes": lambda: c_fail(0)}
    if api:
        def cffi_errno(e: int, f: object = api[1].may_fail, ffi: object = api[0]) -> int:
            result = f(e)  # type: ignore[operator]
            if result == -1:
                number = ffi.errno  # type: ignore[attr-defined]
                raise OSError(number, os.strerror(number))
            return result
        v["cffi API"] = lambda: cffi_errno(0)
    v["ffikit compiled, check.errno"] = lambda f=lib.may_fail: f(0)
    group("errno-checked call, success", v)
    v = {"ctypes argtypes": _raises(lambda: c_fail(5), OSError)}
    if api:
        v["cffi API"] = _raises(lambda: cffi_errno(5), OSError)
    v["ffikit compiled, check.errno"] = _raises(lambda f=lib.may_fail: f(5), ffikit.CallError)
    group("errno-checked call, failing (raises)", v)

    target = ctypes.c_int(5)
    c_int_p = raw.same_int
    c_int_p.argtypes, c_int_p.restype = [ctypes.POINTER(ctypes.c_int)], ctypes.POINTER(ctypes.c_int)
    c_void = raw.same_void
    c_void.argtypes, c_void.restype = [ctypes.c_void_p], ctypes.c_void_p
    typed = ctypes.pointer(target)
    v = {"ctypes argtypes": lambda: c_int_p(typed)}
    if api:
        cffi_int = api[0].new("int *", 5)
        v["cffi API"] = lambda f=api[1].same_int: f(cffi_int)
    v["ffikit compiled"] = lambda f=lib.same_int: f(typed)
    group("int * returned", v)
    v = {"ctypes argtypes": lambda: c_void(None)}
    if api:
        v["cffi API"] = lambda f=api[1].same_void, null=api[0].NULL: f(null)
    v["ffikit compiled"] = lambda f=lib.same_void: f(None)
    group("void * returned", v)

    class Pair(ctypes.Structure):
        _fields_ = [("x", ctypes.c_int), ("y", ctypes.c_int)]

    c_pair = raw.make_pair
    c_pair.argtypes, c_pair.restype = [ctypes.c_int], Pair
    v = {"ctypes argtypes": lambda: c_pair(1)}
    if api:
        v["cffi API"] = lambda f=api[1].make_pair: f(1)
    v["ffikit compiled"] = lambda f=lib.make_pair: f(1)
    group("struct returned (8 B)", v)

    c_nothing = raw.nothing
    c_nothing.argtypes, c_nothing.restype = [], ctypes.c_int
    v = {"ctypes argtypes": lambda: c_nothing()}
    if api:
        v["cffi API"] = api[1].nothing
    v["ffikit compiled"] = lib.nothing
    group("f(void)", v)
    return out


def rows(quick: bool = False) -> list[Row]:
    """Interleaved rounds (the machine is shared): each variant's best median over rounds."""
    with tempfile.TemporaryDirectory(prefix="ffikit-bench-") as tmp:
        found = variants(tmp)
        for _group, _name, fn, _anchor in found:
            fn()  # type: ignore[operator]  # warm: modules built, caches filled
        best: dict[tuple[str, str], float] = {}
        for _ in range(2 if quick else 7):
            for group, name, fn, _anchor in found:
                ns = median_ns(fn, repeats=3 if quick else 9, target_s=0.001)  # type: ignore[arg-type]
                best[(group, name)] = min(best.get((group, name), ns), ns)
        result = [Row(group, name, best[(group, name)], anchor) for group, name, _fn, anchor in found]
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
