"""Call overhead: ffikit bound functions vs raw ctypes and cffi (ABI mode).

Groups: ``int add(int, int)`` and ``double sum(const double *, unsigned long)``
on an 8-element NumPy array / bytearray.  Run standalone:
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


def rows(quick: bool = False) -> list[Row]:
    repeats = 7 if quick else 31
    path = ffikit.build(SOURCE, name="bench_calls")
    out: list[Row] = []

    raw = ctypes.CDLL(path)
    add_argtypes = raw.add
    add_argtypes.argtypes = [ctypes.c_int, ctypes.c_int]
    add_argtypes.restype = ctypes.c_int
    add_plain = ctypes.CDLL(path).add
    lib = ffikit.load(path, _declarations())
    add = lib.add
    group = "call int add(int,int)"
    out.append(Row(group, "ctypes argtypes", median_ns(lambda: add_argtypes(3, 4), repeats=repeats), "ctypes argtypes"))
    out.append(Row(group, "ctypes no argtypes", median_ns(lambda: add_plain(3, 4), repeats=repeats), "ctypes argtypes"))
    try:
        import cffi

        ffi = cffi.FFI()
        ffi.cdef("int add(int a, int b); double sum(const double *p, unsigned long n);")
        clib = ffi.dlopen(path)
        cadd = clib.add
        out.append(Row(group, "cffi ABI", median_ns(lambda: cadd(3, 4), repeats=repeats), "ctypes argtypes"))
    except ImportError:
        ffi = None
    out.append(Row(group, "ffikit", median_ns(lambda: add(3, 4), repeats=repeats), "ctypes argtypes"))

    import numpy as np

    arr = np.arange(8, dtype=np.float64)
    ba = bytearray(arr.tobytes())
    sum_raw = ctypes.CDLL(path).sum
    sum_raw.argtypes = [ctypes.POINTER(ctypes.c_double), ctypes.c_ulong]
    sum_raw.restype = ctypes.c_double
    c_double_p = ctypes.POINTER(ctypes.c_double)
    group = "sum(const double *, 8) numpy"
    anchor = "cffi from_buffer"
    if ffi is not None:
        csum = clib.sum
        out.append(Row(group, anchor, median_ns(lambda: csum(ffi.from_buffer("double[]", arr), 8), repeats=repeats), anchor))
    out.append(Row(group, "ctypes data_as", median_ns(lambda: sum_raw(arr.ctypes.data_as(c_double_p), 8), repeats=repeats), anchor))
    array8 = ctypes.c_double * 8
    out.append(Row(group, "ctypes from_buffer", median_ns(lambda: sum_raw(array8.from_buffer(arr), 8), repeats=repeats), anchor))
    fsum = lib.sum
    out.append(Row(group, "ffikit", median_ns(lambda: fsum(arr, 8), repeats=repeats), anchor))
    group = "sum(const double *, 8) bytearray"
    if ffi is not None:
        out.append(Row(group, anchor, median_ns(lambda: csum(ffi.from_buffer("double[]", ba), 8), repeats=repeats), anchor))
    out.append(Row(group, "ffikit", median_ns(lambda: fsum(memoryview(ba).cast("d"), 8), repeats=repeats), anchor, note="memoryview.cast('d')"))
    return out


if __name__ == "__main__":
    print(table(finish(rows())))
