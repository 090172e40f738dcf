"""The issue-11 table: ffikit's two backends beside ctypes, cffi ABI and API mode, and a C extension.

Columns (variants): ``C-ext`` (a hand-written METH_FASTCALL extension: the
floor), ``ctypes`` (argtypes, or the idiom named), ``cffi ABI``, ``cffi API``
(``ffi.set_source`` + compile, done in a temporary directory before timing),
``ffikit ctypes`` and ``ffikit compiled`` (``load(..., backend=...)``).  Rows
are interleaved rounds of every variant; each keeps its best median.  Run
standalone: ``PYTHONPATH=src python benchmarks/bench_backends.py``.
"""

from __future__ import annotations

import array
import ctypes
import os
import sys
import sysconfig
import tempfile
import time

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from harness import Row, cffi_api, finish, median_ns, table
else:
    from .harness import Row, cffi_api, finish, median_ns, table

import ffikit
from ffikit.backends.compiled.extload import import_extension

SOURCE = r"""
#include <stddef.h>
typedef struct { int id; char name[50]; double score; int is_active; } Student;
int add(int a, int b) { return a + b; }
double sum(const double *p, size_t n) { double s = 0; for (size_t i = 0; i < n; i++) s += p[i]; return s; }
void scale(double *p, size_t n, double k) { for (size_t i = 0; i < n; i++) p[i] *= k; }
double avg(const Student *s, int n) { double t = 0; for (int i = 0; i < n; i++) t += s[i].score; return n ? t / n : 0; }
int apply(int (*f)(int, int), int a, int b) { return f(a, b); }
double first(const double *p, size_t n) { return n ? p[0] : 0.0; }
"""

CDEF = """
typedef struct { int id; char name[50]; double score; int is_active; } Student;
int add(int a, int b);
double sum(const double *p, size_t n);
void scale(double *p, size_t n, double k);
double avg(const Student *s, int n);
int apply(int (*f)(int, int), int a, int b);
double first(const double *p, size_t n);
"""

CEXT = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h>
int add(int a, int b);
double sum(const double *p, size_t n);
static PyObject *x_add(PyObject *m, PyObject *const *a, Py_ssize_t n) {
    long x, y;
    if (n != 2) return NULL;
    x = PyLong_AsLong(a[0]); y = PyLong_AsLong(a[1]);
    if (PyErr_Occurred()) return NULL;
    return PyLong_FromLong(add((int)x, (int)y));
}
static PyObject *x_sum(PyObject *m, PyObject *const *a, Py_ssize_t n) {
    Py_buffer v; size_t k; double r;
    if (n != 2 || PyObject_GetBuffer(a[0], &v, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) return NULL;
    k = PyLong_AsSize_t(a[1]);
    r = sum((const double *)v.buf, k);
    PyBuffer_Release(&v);
    return PyFloat_FromDouble(r);
}
static PyMethodDef M[] = {{"add", (PyCFunction)(void (*)(void))x_add, METH_FASTCALL, 0},
                          {"sum", (PyCFunction)(void (*)(void))x_sum, METH_FASTCALL, 0}, {0}};
static struct PyModuleDef D = {PyModuleDef_HEAD_INIT, "bench_cext", 0, -1, M};
PyMODINIT_FUNC PyInit_bench_cext(void) { return PyModule_Create(&D); }
"""




def _link(path: str) -> list[str]:
    return ["-Wl,--no-as-needed", path, f"-Wl,-rpath,{os.path.dirname(path)}"]


def _cext(path: str) -> object | None:
    try:
        ext = ffikit.build(CEXT, name="bench_cext", include_dirs=[sysconfig.get_paths()["include"]],
                           flags=_link(path))
    except ffikit.CompileError:
        return None
    return import_extension("bench_cext", ext)


def _cffi_api(path: str, tmp: str) -> tuple[object, object] | None:
    return cffi_api("_bench_cffi_api", CDEF, CDEF, tmp, extra_link_args=_link(path))


def _variants(path: str, tmp: str) -> list[tuple[str, str, object, str]]:
    """``(group, variant, zero-argument callable, anchor)`` for every measurement."""
    import numpy as np

    out: list[tuple[str, str, object, str]] = []
    raw = ctypes.CDLL(path)
    defs = ffikit.cdef(CDEF)
    libs = {b: ffikit.load(path, defs, backend=b) for b in ("ctypes", "compiled")}
    cext = _cext(path)
    api = _cffi_api(path, tmp)
    try:
        import cffi

        abi_ffi = cffi.FFI()
        abi_ffi.cdef(CDEF)
        abi = (abi_ffi, abi_ffi.dlopen(path))
    except ImportError:
        abi = None
    cffis = [(name, pair) for name, pair in (("cffi ABI", abi), ("cffi API", api)) if pair is not None]

    def add_row(group: str, anchor: str, variants: dict) -> None:
        for name, fn in variants.items():
            out.append((group, name, fn, anchor))

    # add(1, 2)
    c_add = raw.add
    c_add.argtypes, c_add.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    v: dict = {}
    if cext is not None:
        v["C-ext"] = lambda f=cext.add: f(1, 2)  # type: ignore[attr-defined]
    v["ctypes argtypes"] = lambda: c_add(1, 2)
    for name, (_ffi, lib) in cffis:
        v[name] = lambda f=lib.add: f(1, 2)
    for b, lib in libs.items():
        v[f"ffikit {b}"] = lambda f=lib.add: f(1, 2)
    add_row("add(1, 2)", "cffi API", v)

    # sum over NumPy float64[8] and array('d')[8]
    c_sum = raw.sum
    c_sum.argtypes, c_sum.restype = [ctypes.POINTER(ctypes.c_double), ctypes.c_size_t], ctypes.c_double
    d8 = ctypes.c_double * 8
    for label, data in (("NumPy float64[8]", np.arange(8.0)), ("array('d')[8]", array.array("d", range(8)))):
        v = {}
        if cext is not None:
            v["C-ext"] = lambda f=cext.sum, a=data: f(a, 8)  # type: ignore[attr-defined]
        v["ctypes argtypes"] = lambda a=data: c_sum(d8.from_buffer(a), 8)
        for name, (ffi, lib) in cffis:
            v[name] = lambda f=lib.sum, fb=ffi.from_buffer, a=data: f(fb("double[]", a), 8)
        for b, lib in libs.items():
            v[f"ffikit {b}"] = lambda f=lib.sum, a=data: f(a, 8)
        add_row(f"sum(const double *, 8), {label}", "cffi API", v)

    # scale a NumPy slice in place (k = 1.0 keeps the data unchanged)
    big = np.arange(16.0)
    part = big[4:12]
    c_scale = raw.scale
    c_scale.argtypes = [ctypes.POINTER(ctypes.c_double), ctypes.c_size_t, ctypes.c_double]
    c_scale.restype = None
    v = {"ctypes argtypes": lambda: c_scale(d8.from_buffer(part), 8, 1.0)}
    for name, (ffi, lib) in cffis:
        v[name] = lambda f=lib.scale, fb=ffi.from_buffer: f(fb("double[]", part), 8, 1.0)
    for b, lib in libs.items():
        v[f"ffikit {b}"] = lambda f=lib.scale: f(part, 8, 1.0)
    add_row("scale(double *, 8, k), NumPy slice", "cffi API", v)

    # avg over a ctypes Student[100]
    students = (defs.Student * 100)()
    c_avg = raw.avg
    c_avg.argtypes, c_avg.restype = [ctypes.POINTER(defs.Student), ctypes.c_int], ctypes.c_double
    v = {"ctypes argtypes": lambda: c_avg(students, 100)}
    for name, (ffi, lib) in cffis:
        cffi_students = ffi.new("Student[100]")
        v[name] = lambda f=lib.avg, s=cffi_students: f(s, 100)
    for b, lib in libs.items():
        v[f"ffikit {b}"] = lambda f=lib.avg: f(students, 100)
    add_row("avg(const Student *, 100), ctypes Student[100] (cffi: its own)", "cffi API", v)
    table = ffikit.asarray(students)  # a NumPy structured array over the same bytes
    v = {"ctypes argtypes": lambda: c_avg((defs.Student * 100).from_buffer(table), 100)}
    for name, (ffi, lib) in cffis:
        v[name] = lambda f=lib.avg, fb=ffi.from_buffer: f(fb("Student[]", table), 100)
    for b, lib in libs.items():
        v[f"ffikit {b}"] = lambda f=lib.avg: f(table, 100)
    add_row("avg(const Student *, 100), NumPy structured Student[100]", "cffi API", v)

    # callbacks
    def py_add(a: int, b: int) -> int:
        return a + b

    fp = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_int)
    c_apply = raw.apply
    c_apply.argtypes, c_apply.restype = [fp, ctypes.c_int, ctypes.c_int], ctypes.c_int
    held = fp(py_add)
    held_ffikit = ffikit.callback("int (*)(int, int)", py_add)
    v = {"ctypes argtypes": lambda: c_apply(held, 1, 2)}
    for name, (ffi, lib) in cffis:
        cffi_held = ffi.callback("int(int, int)", py_add)
        v[name] = lambda f=lib.apply, cb=cffi_held: f(cb, 1, 2)
    for b, lib in libs.items():
        v[f"ffikit {b}"] = lambda f=lib.apply: f(held_ffikit, 1, 2)
    add_row("apply(int (*)(int, int), 1, 2), held callback", "ctypes argtypes", v)
    v = {"ctypes argtypes": lambda: c_apply(fp(py_add), 1, 2)}
    if abi is not None:
        v["cffi ABI"] = lambda f=abi[1].apply, cb=abi[0].callback: f(cb("int(int, int)", py_add), 1, 2)
    for b, lib in libs.items():
        v[f"ffikit {b}"] = lambda f=lib.apply: f(py_add, 1, 2)
    add_row("apply(...), a plain callable each call", "ctypes argtypes", v)

    # typed view, alloc, load + bind
    arr = np.arange(8.0)
    v = {"ctypes from_buffer": lambda: d8.from_buffer(arr)}
    for name, (ffi, _lib) in cffis:
        v[name] = lambda fb=ffi.from_buffer: fb("double[]", arr)
    v["ffikit.view 'double[]'"] = lambda: ffikit.view(arr, "double[]")
    add_row("typed view of float64[8]", "ctypes from_buffer", v)

    def ffikit_alloc() -> None:
        ffikit.alloc("char", 64).free()

    v = {"ctypes create_string_buffer": lambda: ctypes.create_string_buffer(64)}
    for name, (ffi, _lib) in cffis:
        v[name] = lambda new=ffi.new: new("char[64]")
    v["ffikit.alloc + free"] = ffikit_alloc
    add_row("64-byte alloc + free", "ctypes create_string_buffer", v)

    def ctypes_load() -> None:
        f = ctypes.CDLL(path).add
        f.argtypes, f.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int

    v = {"ctypes CDLL": ctypes_load}
    if abi is not None:
        v["cffi ABI"] = lambda: abi[0].dlopen(path).add
    for b in libs:
        v[f"ffikit {b}"] = lambda b=b: ffikit.load(path, defs, backend=b).add
    add_row("load + bind one function (declarations parsed)", "ctypes CDLL", v)

    # per-call cost against buffer size: 8 bytes vs 100 MB
    small, large = np.zeros(1), np.zeros(100 * 1024 * 1024 // 8)
    v = {}
    for b, lib in libs.items():
        v[f"ffikit {b}, 8 B"] = lambda f=lib.first: f(small, 1)
        v[f"ffikit {b}, 100 MB"] = lambda f=lib.first, a=large: f(a, len(a))
    add_row("first(const double *, n): 8 B vs 100 MB", "ffikit compiled, 8 B", v)
    return out


def rows(quick: bool = False) -> list[Row]:
    """Interleaved rounds (the machine is shared): each variant's best median over rounds."""
    path = ffikit.build(SOURCE, name="bench_backends")
    with tempfile.TemporaryDirectory(prefix="ffikit-bench-") as tmp:
        variants = _variants(path, tmp)
        for _group, _name, fn, _anchor in variants:
            fn()  # warm: compiled modules built, NumPy learned, caches filled
        best: dict[tuple[str, str], float] = {}
        for _ in range(2 if quick else 7):
            for group, name, fn, _anchor in variants:
                slow = "load" in group
                ns = median_ns(fn, repeats=3 if (quick or slow) else 9, target_s=0.001)
                best[(group, name)] = min(best.get((group, name), ns), ns)
    return [Row(group, name, best[(group, name)], anchor) for group, name, _fn, anchor in variants]


if __name__ == "__main__":
    start = time.perf_counter()
    print(table(finish(rows(quick="--quick" in sys.argv))))
    print(f"({time.perf_counter() - start:.1f} s)", file=sys.stderr)
