"""S3: the ctypes tutorial, from the first call to callbacks and error handling (S3.1-S3.6, S3.8)."""

from __future__ import annotations

import array
import ctypes
import os
import shutil
import sys

import numpy as np
import pytest

import ffikit

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from calls_helpers import TUTORIAL_C, TUTORIAL_H, load_tutorial  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


pytestmark = pytest.mark.usefixtures("backend")  # every test under both backends

@pytest.fixture(scope="module")
def lib(cbuild, backend):
    return load_tutorial(cbuild)


class TestS31Loading:
    def test_three_load_forms(self, cbuild, tmp_path, monkeypatch):
        shutil.copy(cbuild(TUTORIAL_C, name="tutorial"), tmp_path / "libfib.so")
        defs = ffikit.cdef(TUTORIAL_H)
        by_name = ffikit.load("fib", defs, search_paths=[tmp_path])
        by_absolute = ffikit.load(str(tmp_path / "libfib.so"), defs)
        monkeypatch.chdir("/")
        by_relative = ffikit.load(os.path.relpath(tmp_path / "libfib.so", HERE), defs)
        assert [lib.fibonacci(50) for lib in (by_name, by_absolute, by_relative)] == [12586269025] * 3

    def test_wrong_name_explains(self, tmp_path):
        with pytest.raises(ffikit.LibraryNotFound) as e:
            ffikit.load("fibb", search_paths=[tmp_path])
        assert f"{tmp_path}/libfibb.so: no such file" in str(e.value)


class TestS32TypeTable:
    @pytest.mark.parametrize(
        "function, values",
        [
            ("echo_int", [-(2**31), 0, 2**31 - 1]),
            ("echo_long", [-(2**63), 2**63 - 1]),
            ("echo_int32", [-(2**31), 2**31 - 1]),
            ("echo_uint64", [0, 2**64 - 1]),
            ("echo_uchar", [0, 255]),
            ("echo_short", [-(2**15), 2**15 - 1]),
            ("echo_double", [-1.7976931348623157e308, 5e-324, 1.7976931348623157e308]),
            ("echo_float", [-3.4028234663852886e38, 0.5, 3.4028234663852886e38]),
            ("echo_bool", [False, True]),
        ],
    )
    def test_round_trip_at_limits(self, lib, function, values):
        fn = getattr(lib, function)
        assert [fn(v) for v in values] == values

    def test_char_string_pointer(self, lib):
        assert lib.echo_char(b"A") == b"A"
        assert lib.echo_char(-128) == b"\x80"
        assert lib.echo_string(b"hi") == b"hi" and lib.echo_string(None) is None
        buf = bytearray(4)
        assert lib.echo_pointer(buf).value == ffikit.backends.ctypes.pybuffer.memoryview_address(memoryview(buf))

    @pytest.mark.parametrize(
        "function, value, limits",
        [
            ("echo_int", 2**31, "[-2147483648, 2147483647]"),
            ("echo_int32", -(2**31) - 1, "[-2147483648, 2147483647]"),
            ("echo_uint64", -1, "[0, 18446744073709551615]"),
            ("echo_uint64", 2**64, "[0, 18446744073709551615]"),
            ("echo_uchar", 256, "[0, 255]"),
            ("echo_long", 2**63, "[-9223372036854775808, 9223372036854775807]"),
        ],
    )
    def test_out_of_range_refused(self, lib, function, value, limits):
        with pytest.raises(ffikit.ArgumentError, match=rf"argument 1 'x' of '{function}' is out of range .*: {value} not in \{limits[:-1]}\]"):
            getattr(lib, function)(value)

    def test_float_overflow_refused(self, lib):
        with pytest.raises(ffikit.ArgumentError, match="overflows float"):
            lib.echo_float(1e39)


class TestS33Strings:
    def test_print_and_length(self, lib, capfd):
        lib.print_string("héllo")
        assert capfd.readouterr().out == "héllo\n"
        assert lib.string_length("你好") == 6  # UTF-8 bytes, not characters
        assert lib.string_length(b"abc") == 3

    def test_modify_needs_writable_buffer(self, lib):
        with pytest.raises(ffikit.ReadOnlyBuffer, match="argument 1 's' of 'modify_string' must be a writable buffer of char"):
            lib.modify_string(b"hello")
        with pytest.raises(ffikit.ArgumentError, match="pass a bytearray"):
            lib.modify_string("hello")
        buf = bytearray(b"hello\0")
        lib.modify_string(buf)
        assert buf == bytearray(b"HELLO\0")


class TestS34Arrays:
    def test_three_kinds_zero_copy(self, lib):
        c_arr = (ctypes.c_double * 3)(1, 2, 3)
        py_arr = array.array("d", [1, 2, 3])
        np_arr = np.array([1.0, 2.0, 3.0])
        for arr in (c_arr, py_arr, np_arr):
            assert lib.sum_array(arr, 3) == 6.0
            lib.scale_array(arr, 3, 2.0)
            assert list(arr) == [2.0, 4.0, 6.0]
        assert lib.address_of(np_arr) == np_arr.ctypes.data
        assert lib.address_of(py_arr) == py_arr.buffer_info()[0]
        assert lib.address_of(c_arr) == ctypes.addressof(c_arr)

    def test_float32_and_readonly_refused(self, lib):
        with pytest.raises(ffikit.ArgumentError, match="must be a buffer of double .got numpy.ndarray of float32"):
            lib.scale_array(np.zeros(3, dtype=np.float32), 3, 2.0)
        ro = np.zeros(3)
        ro.setflags(write=False)
        with pytest.raises(ffikit.ReadOnlyBuffer, match="argument 1 'arr' of 'scale_array'"):
            lib.scale_array(ro, 3, 2.0)
        assert lib.sum_array(ro, 3) == 0.0  # const double *: read-only is fine


class TestS35Structs:
    def test_students(self, lib, capfd):
        Student = lib.defs.Student
        students = (Student * 3)()
        for i, (name, score) in enumerate([(b"Ann", 90.0), (b"Bob", 80.0), (b"Cy", 70.0)]):
            students[i].id, students[i].name, students[i].score, students[i].is_active = i, name, score, 1
        assert lib.get_average_score(students, 3) == 80.0
        lib.print_student(students[1])  # a struct instance goes by address to const Student *
        assert capfd.readouterr().out == "1 Bob 80.0 1\n"
        structured = np.asarray(students)
        assert structured["score"].tolist() == [90.0, 80.0, 70.0]
        assert structured.ctypes.data == ctypes.addressof(students)
        assert lib.get_average_score(structured, 3) == 80.0

    def test_wrong_struct_buffer_refused(self, lib):
        with pytest.raises(ffikit.ArgumentError, match="must be a buffer of Student items of 72 bytes"):
            lib.get_average_score(bytearray(72), 1)


class TestS36Callbacks:
    def test_python_comparator(self, lib):
        arr = array.array("i", [3, 9, 2, 7])
        assert lib.find_max(arr, 4, lambda a, b: a - b) == 9
        cmp = ffikit.callback(lib.defs.CompareFunc, lambda a, b: b - a)
        assert lib.find_max(arr, 4, cmp) == 2

    def test_raising_comparator_raises_the_same_exception(self, lib):
        class Stop(Exception):
            pass

        err = Stop()

        def cmp(a, b):
            raise err

        with pytest.raises(Stop) as e:
            lib.find_max(array.array("i", [1, 2]), 2, cmp)
        assert e.value is err
        assert "called from C function find_max" in e.value.__notes__[0]


class TestS38Errors:
    def test_missing_function_suggests(self, lib):
        defs = ffikit.cdef(TUTORIAL_H + "double get_avg_score(const Student *s, int n);")
        bad = ffikit.load(lib.path, defs)
        with pytest.raises(ffikit.SymbolNotFound, match="did you mean 'get_average_score'"):
            _ = bad.get_avg_score

    def test_named_error_codes(self, cbuild):
        lib = ffikit.load(
            cbuild(TUTORIAL_C, name="tutorial"),
            TUTORIAL_H,
            errors={"process": ffikit.check.negative({-1: "OUT_OF_MEMORY", -2: "BAD_ARGUMENT"})},
        )
        assert lib.process(0) == 0
        with pytest.raises(ffikit.CallError, match=r"^process failed: returned -1 \(OUT_OF_MEMORY\)$"):
            lib.process(-1)

    def test_argument_error_names_parameter(self, lib):
        with pytest.raises(ffikit.ArgumentError, match="argument 2 'n' of 'sum_array' must be an int for C type size_t"):
            lib.sum_array(np.zeros(2), "2")
