"""Callbacks: Python callables as C function pointers; exceptions are not lost."""

from __future__ import annotations

import ctypes
import sys

import pytest

import ffikit

CB_C = r"""
#include <pthread.h>
typedef int (*unary)(int);
int apply(unary f, int x) { return f(x); }
int apply_twice(unary f, int x) { return f(f(x)); }
static unary saved;
void register_cb(unary f) { saved = f; }
int call_saved(int x) { return saved(x); }
static void *run(void *arg) { int *x = arg; *x = saved(*x); return 0; }
int call_in_thread(int x) { pthread_t t; pthread_create(&t, 0, run, &x); pthread_join(t, 0); return x; }
"""

CB_H = """
typedef int (*unary)(int);
int apply(unary f, int x);
int apply_twice(unary f, int x);
void register_cb(unary f);
int call_saved(int x);
int call_in_thread(int x);
"""


pytestmark = pytest.mark.usefixtures("backend")  # every test under both backends

@pytest.fixture(scope="module")
def lib(cbuild, backend):
    return ffikit.load(cbuild(CB_C, name="callbacks", libraries=("pthread",)), CB_H)


class Boom(Exception):
    pass


class TestPlainCallable:
    def test_success(self, lib):
        assert lib.apply(lambda v: v * 3, 5) == 15

    def test_exception_is_the_original_object(self, lib):
        err = Boom("no")

        def bad(v):
            raise err

        with pytest.raises(Boom) as e:
            lib.apply(bad, 1)
        assert e.value is err
        assert e.value.__notes__ == [
            "raised in ffikit callback TestPlainCallable.test_exception_is_the_original_object.<locals>.bad "
            "called from C function apply"
        ]
        assert lib.apply(lambda v: v, 4) == 4  # the next call is clean

    def test_first_exception_wins(self, lib):
        calls = []

        def bad(v):
            calls.append(v)
            raise Boom(len(calls))

        with pytest.raises(Boom) as e:
            lib.apply_twice(bad, 1)
        assert e.value.args == (1,) and len(calls) == 2  # C got on_error=0 and called again

    def test_bad_return_value(self, lib):
        with pytest.raises(TypeError, match=r"callback must return an int in \[-2147483648, 2147483647\]"):
            lib.apply(lambda v: "x", 1)

    def test_not_callable(self, lib):
        with pytest.raises(ffikit.ArgumentError, match="argument 1 'f' of 'apply' must be a Python callable"):
            lib.apply(3, 1)


class TestPersistentCallback:
    def test_success(self, lib):
        cb = ffikit.callback(lib.defs.typeof("unary"), lambda v: v + 1)
        lib.register_cb(cb)
        assert lib.call_saved(41) == 42
        assert cb(1) == 2

    def test_text_and_on_error(self, lib):
        def bad(v):
            raise Boom("x")

        cb = ffikit.callback("int (*)(int)", bad, on_error=-7)
        lib.register_cb(cb)
        with pytest.raises(Boom):
            lib.call_saved(1)
        # outside any ffikit call (raw ctypes here): unraisablehook + callback_errors()
        seen = []
        old = sys.unraisablehook
        sys.unraisablehook = seen.append
        try:
            raw = ctypes.CDLL(lib.path).call_saved
            assert raw(1) == -7
        finally:
            sys.unraisablehook = old
        assert isinstance(seen[0].exc_value, Boom)
        assert "ffikit callback" in seen[0].err_msg
        kept = ffikit.callback_errors(clear=True)
        assert kept and kept[-1] is seen[0].exc_value

    def test_from_a_c_thread(self, lib):
        cb = ffikit.callback("int (*)(int)", lambda v: v * 2)
        lib.register_cb(cb)
        assert lib.call_in_thread(21) == 42

    def test_c_thread_exception_goes_to_unraisablehook(self, lib):
        def bad(v):
            raise Boom("thread")

        cb = ffikit.callback("int (*)(int)", bad, on_error=5)
        lib.register_cb(cb)
        seen = []
        old = sys.unraisablehook
        sys.unraisablehook = seen.append
        try:
            assert lib.call_in_thread(1) == 5
        finally:
            sys.unraisablehook = old
        assert [type(s.exc_value) for s in seen] == [Boom]
        assert ffikit.callback_errors(clear=True)[-1] is seen[0].exc_value

    def test_failure(self):
        with pytest.raises(TypeError, match="needs a callable"):
            ffikit.callback("int (*)(int)", 3)
        with pytest.raises(TypeError, match="needs a function-pointer type"):
            ffikit.callback("int", print)

    def test_repr(self):
        def f(v):
            return v

        cb = ffikit.callback("int (*)(int)", f)
        assert repr(cb).startswith("<ffikit.callback TestPersistentCallback.test_repr.<locals>.f at 0x")
        assert cb.address != 0


class TestSignatures:
    def test_void_result_and_double_args(self, cbuild):
        src = "typedef void (*visit)(double, const char *);\nvoid each(visit v) { v(1.5, \"a\"); v(2.5, \"b\"); }"
        lib = ffikit.load(cbuild(src, name="visit"), "typedef void (*visit)(double, const char *); void each(visit v);")
        seen = []
        lib.each(lambda x, s: seen.append((x, ctypes.cast(s, ctypes.c_char_p).value)))
        assert seen == [(1.5, b"a"), (2.5, b"b")]

    def test_typedef_name_with_defs(self, lib):
        cb = ffikit.callback("unary", lambda v: -v, defs=lib.defs)
        assert lib.apply(cb, 4) == -4
