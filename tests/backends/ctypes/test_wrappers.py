"""Bound functions: argument conversion, returns, out-parameters, variadics, globals."""

from __future__ import annotations

import array
import ctypes
import gc
import threading
import time

import numpy as np
import pytest

import ffikit
from calls_helpers import load_tutorial
from ffikit import ArgumentError, NotContiguous, ReadOnlyBuffer
from ffikit.backends.ctypes.pybuffer import memoryview_address

PROBE_C = r"""
#include <stdint.h>
#include <stddef.h>
#include <stdarg.h>
#include <errno.h>
#include <time.h>
int add(int a, int b) { return a + b; }
uintptr_t addr(const void *p) { return (uintptr_t)p; }
uintptr_t addr_mut(void *p) { return (uintptr_t)p; }
uintptr_t addr_int(const int32_t *p) { return (uintptr_t)p; }
void fill(double *buf, size_t n, double v) { for (size_t i = 0; i < n; i++) buf[i] = v; }
void put_ulong(unsigned long *out, unsigned long v) { *out = v; }
double *first(double *p) { return p; }
int sum_ints(int n, ...) { va_list ap; va_start(ap, n); int s = 0; for (int i = 0; i < n; i++) s += va_arg(ap, int); va_end(ap); return s; }
double sum_doubles(int n, ...) { va_list ap; va_start(ap, n); double s = 0; for (int i = 0; i < n; i++) s += va_arg(ap, double); va_end(ap); return s; }
long long pick_ll(int n, ...) { va_list ap; va_start(ap, n); long long v = va_arg(ap, long long); va_end(ap); return v; }
int fail_errno(int e) { errno = e; return -1; }
void *null_ptr(void) { return NULL; }
int counter = 7;
const int limit = 99;
void slow(int ms) { struct timespec ts = {0, ms * 1000000L}; nanosleep(&ts, NULL); }
"""

PROBE_H = """
int add(int a, int b);
uintptr_t addr(const void *p);
uintptr_t addr_mut(void *p);
uintptr_t addr_int(const int32_t *p);
void fill(double *buf, size_t n, double v);
void put_ulong(unsigned long *out, unsigned long v);
double *first(double *p);
int sum_ints(int n, ...);
double sum_doubles(int n, ...);
long long pick_ll(int n, ...);
int fail_errno(int e);
void *null_ptr(void);
extern int counter;
extern const int limit;
void slow(int ms);
"""


pytestmark = pytest.mark.usefixtures("backend")  # every test under both backends

@pytest.fixture(scope="module")
def probe(cbuild, backend):
    return ffikit.load(cbuild(PROBE_C, name="probe"), PROBE_H)


@pytest.fixture(scope="module")
def tut(cbuild, backend):
    return load_tutorial(cbuild)


class TestIntegers:
    def test_success(self, probe):
        assert probe.add(2, 3) == 5
        assert probe.add(-(2**31), 0) == -(2**31)
        assert probe.add(True, np.int32(4)) == 5

    def test_out_of_range_refused(self, probe):
        with pytest.raises(ArgumentError) as e:
            probe.add(2**31, 1)
        assert str(e.value) == (
            "argument 1 'a' of 'add' is out of range for C type int: 2147483648 not in "
            "[-2147483648, 2147483647] (ctypes would wrap it silently)"
        )

    def test_wrong_type_refused(self, probe):
        with pytest.raises(ArgumentError, match=r"argument 2 'b' of 'add' must be an int for C type int \(got float 1.5\)"):
            probe.add(1, 1.5)
        with pytest.raises(TypeError):  # ArgumentError is a TypeError
            probe.add("1", 2)

    def test_wrapper_is_generated_once(self, probe, backend):
        assert probe.add is probe.add
        assert ("def add(a, b, /)" if backend == "ctypes" else "int32_t (int32_t, int32_t)") in probe.add.source
        assert probe.add.declaration == "int add(int a, int b);"


class TestBuffers:
    def test_zero_copy_by_address(self, probe):
        for buf in (bytearray(16), array.array("d", [1, 2]), np.zeros(4), (ctypes.c_char * 8)(), b"bytes"):
            assert probe.addr(buf) == memoryview_address(memoryview(buf))

    def test_slice_points_at_first_byte(self, probe):
        data = bytearray(64)
        base = probe.addr(data)
        assert probe.addr(memoryview(data)[10:20]) == base + 10
        a = np.arange(10, dtype=np.int32)
        assert probe.addr_int(a[3:]) == probe.addr_int(a) + 12

    def test_writes_visible(self, probe):
        a = np.zeros(3)
        probe.fill(a, 3, 2.5)
        assert a.tolist() == [2.5, 2.5, 2.5]

    def test_readonly_refused(self, probe):
        with pytest.raises(ReadOnlyBuffer) as e:
            probe.fill(b"x" * 8, 1, 0.0)
        assert str(e.value).startswith("argument 1 'buf' of 'fill' must be a writable buffer of double (got bytes, read-only)")
        ro = np.zeros(2)
        ro.flags.writeable = False
        with pytest.raises(ReadOnlyBuffer, match="got numpy.ndarray, read-only"):
            probe.fill(ro, 2, 1.0)
        with pytest.raises(ReadOnlyBuffer):
            probe.addr_mut(memoryview(b"abc"))

    def test_item_type_mismatch_refused(self, probe):
        with pytest.raises(ArgumentError) as e:
            probe.fill(np.zeros(2, dtype=np.float32), 2, 1.0)
        assert "argument 1 'buf' of 'fill' must be a buffer of double (got numpy.ndarray of float32, format 'f')" in str(e.value)
        with pytest.raises(ArgumentError, match="must be a buffer of int32_t"):
            probe.addr_int(np.zeros(2, dtype=np.uint32))

    def test_raw_bytes_for_void(self, probe):
        assert probe.addr(np.zeros(2, dtype=np.float32)) > 0
        assert probe.addr_mut(bytearray(3)) > 0

    def test_non_contiguous_refused(self, probe):
        a = np.zeros((4, 4))[:, 1]
        with pytest.raises(NotContiguous) as e:
            probe.fill(a, 4, 1.0)
        assert isinstance(e.value, BufferError)
        assert "numpy.ascontiguousarray" in str(e.value)

    def test_none_is_null(self, probe):
        assert probe.addr(None) == 0

    def test_not_a_buffer(self, probe):
        with pytest.raises(ArgumentError, match=r"argument 1 'buf' of 'fill' must be a buffer of double, a ctypes pointer or None for C type double \* \(got list\)"):
            probe.fill([1.0, 2.0], 2, 1.0)

    def test_buffer_kept_alive_and_locked_during_call(self, probe):
        data = bytearray(8)
        probe.fill(memoryview(data).cast("d"), 1, 1.0)
        data.extend(b"x")  # the export is released after the call
        assert len(data) == 9


class TestOutParameters:
    def test_new_scalar(self, probe):
        slot = ffikit.new("unsigned long")
        probe.put_ulong(slot, 42)
        assert slot.value == 42

    def test_new_with_init_and_type(self):
        assert ffikit.new("int", 5).value == 5
        assert ffikit.new(ctypes.c_double, 1.5).value == 1.5
        assert list(ffikit.new("int[3]", [1, 2, 3])) == [1, 2, 3]

    def test_new_user_type_needs_defs(self):
        defs = ffikit.cdef("typedef unsigned long uLong;")
        assert ffikit.new("uLong", 3, defs=defs).value == 3

    def test_new_is_reported_to_the_tracker(self, monkeypatch):
        from ffikit.memory import tracking

        seen = []

        class Recorder:
            thread = None  # every thread

            def _record(self, kind, owner, size, address):
                seen.append((kind, owner, size, address))

        monkeypatch.setattr(tracking, "ACTIVE", True)
        monkeypatch.setattr(tracking, "_trackers", [Recorder()])
        slot = ffikit.new("double")
        assert seen == [("new", slot, 8, ctypes.addressof(slot))]

    def test_new_failure(self):
        with pytest.raises(TypeError, match="needs a ctypes type"):
            ffikit.new(3)


class TestReturns:
    def test_pointer_return_is_ctypes_pointer(self, probe):
        a = np.arange(3.0)
        p = probe.first(a)
        assert isinstance(p, ctypes._Pointer)
        assert p[2] == 2.0

    def test_void_pointer_return(self, probe):
        result = probe.null_ptr()
        assert isinstance(result, ctypes.c_void_p) and not result

    def test_struct_by_value(self, tut):
        s = tut.make_student(7, 88.5)
        assert (s.id, s.score, bytes(s.name).rstrip(b"\0")) == (7, 88.5, b"made")


class TestVariadic:
    def test_promotions(self, probe):
        assert probe.sum_ints(3, 1, 2, 3) == 6
        assert probe.sum_doubles(2, 1.5, 2.0) == 3.5
        assert probe.pick_ll(1, 2**40) == 2**40

    def test_refused(self, probe):
        with pytest.raises(ArgumentError, match="variadic argument 2 of 'sum_ints' does not fit any C integer type"):
            probe.sum_ints(1, 2**70)
        with pytest.raises(ArgumentError, match="variadic argument 2 of 'sum_ints' must be"):
            probe.sum_ints(1, object())


class TestGlobals:
    def test_read_write(self, probe):
        assert probe.counter == 7
        probe.counter = 8
        assert probe.var("counter").value == 8
        with pytest.raises(ArgumentError, match="out of range"):
            probe.counter = 2**40
        probe.counter = 7  # the library stays loaded for the other backend's run

    def test_const_read_only(self, probe):
        assert probe.limit == 99
        with pytest.raises(AttributeError, match="is const"):
            probe.limit = 1


class TestGIL:
    def test_two_threads_overlap(self, probe):
        """ctypes releases the GIL around the call: two 200 ms sleeps in C overlap."""
        probe.slow(1)
        start = time.perf_counter()
        probe.slow(200)
        one = time.perf_counter() - start
        threads = [threading.Thread(target=probe.slow, args=(200,)) for _ in range(2)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        both = time.perf_counter() - start
        assert both < 1.6 * one


def test_gc_of_view_during_use(probe):
    a = np.arange(4.0)
    view = memoryview(a)[1:]
    del a
    gc.collect()
    assert probe.addr(view) == memoryview_address(view)


FUZZ_KINDS = {
    "int": "int", "uchar": "unsigned char", "i64": "int64_t", "u64": "uint64_t", "dbl": "double",
    "flt": "float", "chr": "char", "cstr": "const char *", "str": "char *", "cdp": "const double *",
    "dp": "double *", "vp": "void *", "cvp": "const void *", "st": "Pair", "stp": "Pair *",
    "fp": "int (*)(int)", "bl": "_Bool",
}
FUZZ_C = "#include <stdint.h>\ntypedef struct { int a; double b; } Pair;\n" + "".join(
    f"int take_{k}({t.replace('(*)', '(*x)') if '(*)' in t else t + ' x'}) {{ return 0; }}\n"
    for k, t in FUZZ_KINDS.items()
)
FUZZ_H = "typedef struct { int a; double b; } Pair;\n" + "".join(
    f"int take_{k}({t.replace('(*)', '(*x)') if '(*)' in t else t + ' x'});\n" for k, t in FUZZ_KINDS.items()
)


class TestFuzz:
    """Random Python values to every parameter kind: each converts or raises an FFIError."""

    def test_random_values(self, cbuild):
        from hypothesis import given, settings
        from hypothesis import strategies as st
        from hypothesis.extra import numpy as hnp

        lib = ffikit.load(cbuild(FUZZ_C, name="fuzz"), FUZZ_H)
        functions = [getattr(lib, f"take_{k}") for k in FUZZ_KINDS]
        arrays = hnp.arrays(
            st.sampled_from([np.int8, np.uint8, np.int32, np.int64, np.float32, np.float64, np.bool_]),
            st.integers(0, 5),
        )
        values = st.one_of(
            st.integers(), st.floats(), st.text(), st.binary(), st.none(), st.booleans(),
            st.lists(st.integers(), max_size=3), st.builds(object), arrays,
            arrays.map(lambda a: a[::2]), st.binary().map(bytearray),
            st.binary().map(lambda b: memoryview(b)), st.just(lambda x: x),
            st.builds(lambda: lib.defs.Pair()), st.builds(lambda: ctypes.c_int(3)),
        )

        @settings(max_examples=300, deadline=None, derandomize=True)
        @given(st.sampled_from(functions), values)
        def check(fn, value):
            try:
                assert fn(value) == 0
            except ffikit.FFIError:
                pass

        check()


class TestEncoding:
    def test_configurable_per_library(self, cbuild):
        src = "#include <string.h>\nsize_t byte_len(const char *s) { return strlen(s); }"
        utf8 = ffikit.load(cbuild(src, name="enc"), "size_t byte_len(const char *s);")
        latin = ffikit.load(cbuild(src, name="enc"), "size_t byte_len(const char *s);", encoding="latin-1")
        assert (utf8.byte_len("\u00e9"), latin.byte_len("\u00e9")) == (2, 1)
        with pytest.raises(ArgumentError) as e:
            latin.byte_len("\u4e2d")
        assert str(e.value) == (
            "argument 1 's' of 'byte_len' cannot be encoded as latin-1 for C type const char * "
            "(ordinal not in range(256) at position 0); pass bytes, or load(..., encoding=...)"
        )


class TestCtypesObjects:
    def test_byref_checked(self, probe):
        slot = ctypes.c_ulong()
        probe.put_ulong(ctypes.byref(slot), 5)
        assert slot.value == 5
        with pytest.raises(ArgumentError, match=r"must be a pointer to unsigned long \(byref of c_double given\)"):
            probe.put_ulong(ctypes.byref(ctypes.c_double()), 5)

    def test_pointer_objects(self, probe):
        a = (ctypes.c_double * 2)()
        probe.fill(ctypes.cast(a, ctypes.POINTER(ctypes.c_double)), 2, 3.0)
        assert list(a) == [3.0, 3.0]
        with pytest.raises(ArgumentError, match=r"^argument 1 'buf' of 'fill' must be a pointer to double \(a double \*\) \(got ctypes pointer to c_int\)$"):
            probe.fill(ctypes.pointer(ctypes.c_int()), 1, 1.0)

    def test_struct_identity(self, tut):
        other = ffikit.cdef("typedef struct { int id; char name[50]; double score; int is_active; } Student;")
        with pytest.raises(ArgumentError, match="structs are matched by declaration"):
            tut.get_average_score((other.Student * 1)(), 1)
        assert tut.get_average_score((tut.defs.Student * 1)(), 1) == 0.0


class TestShadowing:
    """C names never shadow what the generated wrapper uses (builtins, its own name)."""

    NAMES = ["type", "memoryview", "len", "str", "bytes", "object", "self", "lambda", "None",
             "True", "id", "errors", "result", "arg1", "__debug__", "print", "isinstance"]

    def test_parameters_and_functions_named_like_builtins(self, cbuild):
        params = ", ".join(f"int {n}" for n in self.NAMES)
        source = f"""
            #include <string.h>
            #include <stddef.h>
            int sum_all({params}) {{ return {' + '.join(self.NAMES)}; }}
            size_t type(const char *type) {{ return strlen(type); }}
            size_t memoryview(unsigned char *memoryview, size_t len) {{
                for (size_t i = 0; i < len; i++) memoryview[i] = (unsigned char)i;
                return len;
            }}
            double id(double float_, double id) {{ return float_ * id; }}
            int lambda(int None, int self) {{ return None - self; }}
        """
        header = f"""
            int sum_all({params});
            size_t type(const char *type);
            size_t memoryview(unsigned char *memoryview, size_t len);
            double id(double float_, double id);
            int lambda(int None, int self);
        """
        lib = ffikit.load(cbuild(source, name="shadowing"), header)
        values = range(1, len(self.NAMES) + 1)
        assert lib.sum_all(*values) == sum(values)
        assert lib.type(b"hello") == 5 and lib.type("abc") == 3  # no recursion into itself
        buf = bytearray(4)
        assert lib.memoryview(buf, 4) == 4 and list(buf) == [0, 1, 2, 3]
        assert lib.id(1.5, 4.0) == 6.0
        assert getattr(lib, "lambda")(7, 2) == 5
        assert lib.type.__name__ == "type"
        with pytest.raises(ffikit.ArgumentError, match="'type'"):
            lib.type(5)


class TestOneCodePerShape:
    """Functions of one shape share one compiled code object; each keeps its own names."""

    C = r"""
        int plus(int a, int b) { return a + b; }
        int minus(int left, int right) { return left - right; }
        int times(int x, int y) { return x * y; }
    """
    H = "int plus(int a, int b); int minus(int left, int right); int times(int x, int y);"

    def test_each_function_keeps_its_names(self, cbuild):
        import inspect
        import traceback

        from ffikit.backends.ctypes import wrappers

        path = cbuild(self.C, name="same_shape")
        lib = ffikit.load(path, self.H, backend="ctypes")
        before = len(wrappers._CODE)
        fns = [lib.plus, lib.minus, lib.times]
        assert len(wrappers._CODE) - before <= 1  # compiled once (or already, for this shape)
        assert [f(6, 3) for f in fns] == [9, 3, 18]
        assert [str(inspect.signature(f)) for f in fns] == ["(a, b, /)", "(left, right, /)",
                                                            "(x, y, /)"]
        assert "def minus(left, right, /)" in lib.minus.source
        for f, param in ((lib.plus, "b"), (lib.minus, "right"), (lib.times, "y")):
            name = f.__name__
            with pytest.raises(ArgumentError, match=rf"argument 2 '{param}' of '{name}' must be an int"):
                f(1, 1.5)
            with pytest.raises(ArgumentError) as e:
                f(1, 2**40)
            assert f"'{param}' of '{name}'" in str(e.value)
            frames = [frame.name for frame in traceback.extract_tb(e.value.__traceback__)]
            assert name in frames and "_ffk_function" not in frames  # tracebacks name the C function
        wrapped = {f.__wrapped__.__code__ for f in fns}
        assert len(wrapped) == 3 and len({c.co_code for c in wrapped}) == 1
