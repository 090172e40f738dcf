"""Call overhead: ffikit bound functions vs raw ctypes and cffi (ABI mode).

Groups: ``int add(int, int)`` and ``double sum(const double *, unsigned long)``
on an 8-element NumPy array / bytearray, and the cost of a size check (``sum``
declared with an ``access`` attribute, or sized by ``sizes=``, vs neither).  Run standalone:
``PYTHONPATH=src python benchmarks/bench_calls.py``.
"""

from __future__ import annotations

import ctypes
import os
import sys
from types import SimpleNamespace

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from harness import Row, finish, median_ns, table
else:
    from .harness import Row, finish, median_ns, table

import ffikit
from ffikit.cdecl import model as m

SOURCE = """
int add(int a, int b) { return a + b; }
double sum(const double *p, unsigned long n) { double s = 0; for (unsigned long i = 0; i < n; i++) s += p[i]; return s; }
"""


def _declarations() -> object:
    try:
        return ffikit.cdef("int add(int a, int b); double sum(const double *p, unsigned long n);")
    except (ImportError, AttributeError):
        double, ulong, i = m.Primitive("double"), m.Primitive("unsigned long"), m.Primitive("int")
        return SimpleNamespace(
            functions={
                "add": m.FunctionDecl("add", m.FunctionType(i, [i, i], False, ["a", "b"])),
                "sum": m.FunctionDecl(
                    "sum", m.FunctionType(double, [m.Pointer(double, const=True), ulong], False, ["p", "n"])
                ),
            },
            variables={},
            types={},
        )


def _variants(path: str) -> list[tuple[str, str, object, str]]:
    """``(group, variant, zero-argument callable, anchor)`` for every measurement."""
    out: list[tuple[str, str, object, str]] = []
    add_argtypes = ctypes.CDLL(path).add
    add_argtypes.argtypes = [ctypes.c_int, ctypes.c_int]
    add_argtypes.restype = ctypes.c_int
    add_plain = ctypes.CDLL(path).add
    lib = ffikit.load(path, _declarations())
    import numpy as np  # before binding: ndarray joins the inline fast path

    add, fsum = lib.add, lib.sum
    group = "call int add(int,int)"
    out.append((group, "ctypes argtypes", lambda: add_argtypes(3, 4), "ctypes argtypes"))
    out.append((group, "ctypes no argtypes", lambda: add_plain(3, 4), "ctypes argtypes"))
    try:
        import cffi

        ffi = cffi.FFI()
        ffi.cdef("int add(int a, int b); double sum(const double *p, unsigned long n);")
        clib = ffi.dlopen(path)
        cadd, csum = clib.add, clib.sum
        out.append((group, "cffi ABI", lambda: cadd(3, 4), "ctypes argtypes"))
    except ImportError:
        ffi = None
    out.append((group, "ffikit", lambda: add(3, 4), "ctypes argtypes"))

    arr = np.arange(8, dtype=np.float64)
    sum_raw = ctypes.CDLL(path).sum
    sum_raw.argtypes = [ctypes.POINTER(ctypes.c_double), ctypes.c_ulong]
    sum_raw.restype = ctypes.c_double
    c_double_p = ctypes.POINTER(ctypes.c_double)
    array8 = ctypes.c_double * 8
    anchor = "cffi from_buffer"
    group = "sum(const double *, 8) numpy float64"
    if ffi is not None:
        out.append((group, anchor, lambda: csum(ffi.from_buffer("double[]", arr), 8), anchor))
    out.append((group, "ctypes data_as", lambda: sum_raw(arr.ctypes.data_as(c_double_p), 8), anchor))
    out.append((group, "ctypes from_buffer", lambda: sum_raw(array8.from_buffer(arr), 8), anchor))
    out.append((group, "ffikit", lambda: fsum(arr, 8), anchor))
    sum_plain = ctypes.CDLL(path).sum
    sum_plain.restype = ctypes.c_double
    ready = ctypes.c_void_p(arr.ctypes.data)
    c_ulong = ctypes.c_ulong
    out.append((group, "floor: no-argtypes call, pointer ready", lambda: sum_plain(ready, c_ulong(8)), anchor))
    out.append((group, "floor + memoryview(arr)", lambda: (memoryview(arr), sum_plain(ready, c_ulong(8))), anchor))

    group = "sum(const double *, 8) size check"
    checked = ffikit.load(path, "double sum(const double *p, unsigned long n) "
                                "__attribute__((access(read_only, 1, 2)));").sum
    user = ffikit.load(path, "double sum(const double *p, unsigned long n);",
                       sizes={"sum": {"p": "n"}}).sum
    out.append((group, "no relation", lambda: fsum(arr, 8), "no relation"))
    out.append((group, "access attribute", lambda: checked(arr, 8), "no relation"))
    out.append((group, "sizes= to load", lambda: user(arr, 8), "no relation"))

    ba = bytearray(arr.tobytes())
    doubles = memoryview(ba).cast("d")
    group = "sum(const double *, 8) bytearray"
    if ffi is not None:
        out.append((group, anchor, lambda: csum(ffi.from_buffer("double[]", ba), 8), anchor))
    out.append((group, "ctypes from_buffer", lambda: sum_raw(array8.from_buffer(ba), 8), anchor))
    out.append((group, "ffikit", lambda: fsum(doubles, 8), anchor))
    return out


def rows(quick: bool = False) -> list[Row]:
    """Interleaved rounds (the machine is shared): each variant's best median over rounds."""
    path = ffikit.build(SOURCE, name="bench_calls")
    variants = _variants(path)
    best: dict[tuple[str, str], float] = {}
    for _ in range(2 if quick else 7):
        for group, name, fn, _anchor in variants:
            ns = median_ns(fn, repeats=5 if quick else 9, target_s=0.001)
            key = (group, name)
            best[key] = min(best.get(key, ns), ns)
    out = [Row(group, name, best[(group, name)], anchor) for group, name, _fn, anchor in variants]
    for row in out:
        if row.group.endswith("bytearray") and row.name == "ffikit":
            row.note = "a memoryview.cast('d') of it: a bytearray's 'B' items are not double"
    return out


if __name__ == "__main__":
    print(table(finish(rows())))
