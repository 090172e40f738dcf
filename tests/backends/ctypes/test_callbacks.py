"""Callbacks: Python callables as C function pointers; exceptions are not lost."""

from __future__ import annotations

import ctypes
import sys

import pytest

import ffikit
from crashproof import outcome, run_isolated

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
void store_cb(int (*f)(int)) { saved = f; }
int call_stored(int x) { return saved(x); }
int call_cb(int (*f)(int), int x) { return f(x); }
int call_stored_and(unary f, int x) { return saved(x) * 1000 + f(x); }
"""

CB_H = """
typedef int (*unary)(int);
int apply(unary f, int x);
int apply_twice(unary f, int x);
void register_cb(unary f);
int call_saved(int x);
int call_in_thread(int x);
void store_cb(int (*)(int));
int call_stored(int);
int call_cb(int (*)(int), int);
int call_stored_and(unary f, int x);
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
    def test_success(self, lib, backend):
        from ffikit.backends.ctypes.cbhooks import NativeSlot

        cb = ffikit.callback(lib.defs.typeof("unary"), lambda v: v + 1)
        # compiled: a C callback pool's slot (every test here runs that path too); ctypes: a thunk
        assert isinstance(cb._slot, NativeSlot) == (backend == "compiled")
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

    def test_on_error_must_fit_the_result(self):
        with pytest.raises(ffikit.ArgumentError, match="on_error='x'"):
            ffikit.callback("int (*)(int)", print, on_error="x")
        with pytest.raises(ffikit.ArgumentError, match="on_error=2147483648"):
            ffikit.callback("int (*)(int)", print, on_error=2**31)
        assert ffikit.callback("void (*)(int)", print, on_error="ignored").on_error == "ignored"

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

    def test_defs_that_are_not_declarations_are_named(self):
        with pytest.raises(ffikit.ArgumentError,
                           match=r"defs must be declarations .*got dict"):
            ffikit.callback("int (*)(int)", abs, defs={"unary": "int (*)(int)"})


def _setup(path: str) -> str:
    return f"import ffikit, gc\nlib = ffikit.load({path!r}, {CB_H!r})\n"


@pytest.fixture(scope="module")
def lib_path(lib):
    return lib.path


class TestCallbacksCKeeps:
    """C stores a callback and calls it after the binding call returned: never a crash."""

    def test_store_cb_then_gc_then_call_reports(self, lib_path):
        # issue 15: lib.store_cb(lambda x: x * 2); gc.collect(); lib.call_stored(21)
        got, err = outcome(_setup(lib_path) + "lib.store_cb(lambda x: x * 2); gc.collect()",
                           "lib.call_stored(21)")
        assert got == "raised CallbackReleased", err

    def test_late_call_message_and_callback_errors(self, lib):
        ffikit.callback_errors(clear=True)
        lib.store_cb(lambda x: x * 2)
        with pytest.raises(ffikit.CallbackReleased) as e:
            lib.call_stored(21)
        text = str(e.value)
        assert "ffikit callback " in text and "<lambda>" in text
        assert "argument 1 of 'store_cb'" in text
        assert "pass ffikit.callback(...) and keep it" in text
        assert isinstance(e.value, RuntimeError)
        assert ffikit.callback_errors(clear=True) == [e.value]

    def test_late_call_outside_ffikit_goes_to_unraisablehook_and_returns_on_error(self, lib):
        lib.store_cb(lambda x: x * 2)
        seen = []
        old = sys.unraisablehook
        sys.unraisablehook = seen.append
        try:
            assert ctypes.CDLL(lib.path).call_stored(21) == 0  # raw ctypes: no ffikit call around
        finally:
            sys.unraisablehook = old
        assert [type(s.exc_value) for s in seen] == [ffikit.CallbackReleased]
        assert ffikit.callback_errors(clear=True)[-1] is seen[0].exc_value

    def test_late_call_from_a_c_thread(self, lib):
        lib.store_cb(lambda x: x * 2)
        seen = []
        old = sys.unraisablehook
        sys.unraisablehook = seen.append
        try:
            assert lib.call_in_thread(21) == 0  # C's own thread: reported, on_error returned
        finally:
            sys.unraisablehook = old
        assert [type(s.exc_value) for s in seen] == [ffikit.CallbackReleased]
        ffikit.callback_errors(clear=True)

    def test_a_stale_thunk_is_never_lent_again(self, lib):
        lib.store_cb(lambda x: x * 2)
        with pytest.raises(ffikit.CallbackReleased):
            lib.call_stored(1)
        # the next plain callable gets another thunk: C's stored one still only reports
        with pytest.raises(ffikit.CallbackReleased):
            lib.call_stored_and(lambda x: x + 1, 1)
        ffikit.callback_errors(clear=True)

    def test_held_callback_stored_by_c_keeps_working(self, lib):
        cb = ffikit.callback("int (*)(int)", lambda x: x * 3)
        lib.store_cb(cb)
        for _ in range(3):
            lib.call_cb(lambda x: x, 1)  # other calls borrow other thunks
        gc_collect()
        assert lib.call_stored(5) == 15
        assert lib.call_in_thread(7) == 21

    def test_released_callback_reports(self, lib):
        with ffikit.callback("int (*)(int)", lambda x: x * 3, on_error=-1) as cb:
            lib.store_cb(cb)
            assert lib.call_stored(2) == 6
        assert cb.released and "(released)" in repr(cb)
        with pytest.raises(ffikit.CallbackReleased, match="was released"):
            lib.call_stored(2)
        with pytest.raises(ffikit.CallbackReleased, match="make a new ffikit.callback"):
            lib.call_cb(cb, 1)
        cb.release()  # idempotent
        ffikit.callback_errors(clear=True)

    def test_released_then_collected_callback_in_subprocess(self, lib_path):
        setup = _setup(lib_path) + (
            "cb = ffikit.callback('int (*)(int)', lambda x: x * 2, on_error=-1)\n"
            "lib.store_cb(cb)\nassert lib.call_stored(4) == 8\ndel cb\ngc.collect()\n"
            "for _ in range(100): lib.call_cb(lambda x: x, 1)\n")
        got, err = outcome(setup, "lib.call_stored(21)")
        assert got == "raised CallbackReleased", err
        got, err = outcome(setup, "lib.call_in_thread(21)")  # C's thread: reported, on_error
        assert got == "returned -1", err
        assert "CallbackReleased" in err

    def test_thunks_are_reused_per_signature(self, lib):
        from ffikit.backends.ctypes import callbacks

        for _ in range(2 * callbacks.MIN_FREE):
            lib.call_cb(lambda x: x, 1)
        total = sum(len(v) for v in callbacks._FREE.values())
        for i in range(1000):
            assert lib.call_cb(lambda x, i=i: x + i, 1) == 1 + i
        assert sum(len(v) for v in callbacks._FREE.values()) == total

    def test_a_kept_thunk_is_not_lent_to_the_next_call(self, lib):
        # C keeps f's thunk and calls it while the next plain callable runs: that one has
        # another thunk, so the late call still reports instead of reaching g
        lib.store_cb(lambda x: x * 2)
        with pytest.raises(ffikit.CallbackReleased):
            lib.call_stored_and(lambda x: x + 1, 1)
        ffikit.callback_errors(clear=True)


def test_threads_borrow_their_own_thunks(lib):
    """Python threads passing fresh lambdas at once never see each other's callable."""
    import threading

    errors = []

    def work(k: int) -> None:
        for i in range(2000):
            got = lib.call_cb(lambda x, k=k, i=i: k * 100000 + i, 0)
            if got != k * 100000 + i:
                errors.append((k, i, got))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_held_callbacks_made_and_released_in_a_loop_stay_bounded(lib):
    from ffikit.backends.ctypes import callbacks

    fp = ffikit.callback("int (*)(int)", print).fp_type

    def slots() -> int:
        return len(callbacks._FREE.get(fp, ())) + sum(
            s.fp_type is fp for s in callbacks._QUARANTINE)

    for i in range(3 * callbacks.QUARANTINE_SIZE):
        with ffikit.callback("int (*)(int)", lambda x, i=i: x + i) as cb:
            assert lib.call_cb(cb, 1) == 1 + i
    assert slots() <= callbacks.QUARANTINE_SIZE + callbacks.MIN_FREE + 4


def gc_collect() -> None:
    import gc

    gc.collect()


class TestFunctionPointerTypes:
    """A callback of another signature is refused, naming both (issue 15 item 3)."""

    def test_wrong_callback_type_refused(self, lib_path):
        # issue 15: lib.call_cb(ffikit.callback("double (*)(double)", lambda x: x), 1)
        got, err = outcome(_setup(lib_path),
                           'lib.call_cb(ffikit.callback("double (*)(double)", lambda x: x), 1)')
        assert got == "raised ArgumentError", err

    def test_message_names_both_signatures(self, lib):
        with pytest.raises(ffikit.ArgumentError) as e:
            lib.call_cb(ffikit.callback("double (*)(double)", lambda x: x), 1)
        text = str(e.value)
        assert "argument 1 of 'call_cb'" in text
        assert "int (*)(int)" in text and "double (*)(double)" in text

    @pytest.mark.parametrize("spec", ["long (*)(int)", "int (*)(int, int)", "void (*)(int)",
                                      "int (*)(unsigned int)", "int (*)(int *)"])
    def test_other_mismatches(self, lib, spec):
        with pytest.raises(ffikit.ArgumentError, match=r"int \(\*\)\(int\)"):
            lib.call_cb(ffikit.callback(spec, lambda *a: 0), 1)

    def test_ctypes_cfunctype_checked_too(self, lib):
        wrong = ctypes.CFUNCTYPE(ctypes.c_double, ctypes.c_double)(lambda x: x)
        with pytest.raises(ffikit.ArgumentError, match=r"double \(\*\)\(double\)"):
            lib.call_cb(wrong, 1)
        right = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)(lambda x: x + 1)
        assert lib.call_cb(right, 1) == 2

    def test_same_signature_other_spelling_accepted(self, lib):
        assert lib.call_cb(ffikit.callback(lib.defs.typeof("unary"), lambda x: x + 2), 1) == 3
        assert lib.call_cb(ffikit.callback("int32_t (*)(int32_t)", lambda x: x + 2), 1) == 3


@pytest.mark.slow
def test_soak_fresh_lambda_per_call_keeps_rss_flat(lib_path):
    """10^6 calls, each with a new lambda: thunks are reused, RSS stays flat."""
    code = _setup(lib_path) + """
def rss_kib():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4
for i in range(50_000):
    lib.call_cb(lambda x: x + 1, i)
gc.collect()
start = rss_kib()
for i in range(1_000_000):
    assert lib.call_cb(lambda x: x + 1, 1) == 2
gc.collect()
end = rss_kib()
print("RSS", start, end)
assert end - start < 2048, (start, end)
"""
    result = run_isolated(code, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "RSS" in result.stdout
