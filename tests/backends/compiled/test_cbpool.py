"""cbpool: C callback pools -- C slots per signature, conversions and range checks in C."""

from __future__ import annotations

import ctypes
import gc
import os
import sys
import sysconfig

import pytest

import ffikit
import fuzzscale
from crashproof import run_isolated
from ffikit.backends.compiled import available, cbpool
from ffikit.backends.ctypes.cbhooks import NativeSlot

pytestmark = pytest.mark.skipif(not available()[0], reason="compiled backend unavailable")

C = r"""
#include <pthread.h>
#include <stdint.h>
typedef int (*unary)(int);
int apply(unary f, int x) { return f(x); }
static unary saved;
void store_cb(unary f) { saved = f; }
int call_stored(int x) { return saved(x); }
static void *run(void *arg) { int *x = arg; *x = saved(*x); return 0; }
int call_in_thread(int x) { pthread_t t; pthread_create(&t, 0, run, &x); pthread_join(t, 0); return x; }
int apply_in_thread(unary f, int x) { saved = f; return call_in_thread(x); }
int rec(int n, unary f) { return f(n) + 1; }
void *first_if(unary f, void *p) { return f(1) ? p : 0; }
unsigned long long wide(unsigned long long (*f)(unsigned long long, signed char), unsigned long long v) { return f(v, -5); }
double mix(double (*f)(float, double, _Bool, char, const void *), float a) { return f(a, 2.5, 1, 'z', 0); }
float narrow(float (*f)(int), int x) { return f(x); }
void each(void (*f)(short, unsigned short), int n) { for (int i = 0; i < n; i++) f(-i, i); }
static void *loop(void *arg) { (void)arg; for (int i = 0; ; i++) saved(i); return 0; }
int start(unary cb, int n) { saved = cb; for (int k = 0; k < n; k++) { pthread_t t; pthread_create(&t, 0, loop, 0); pthread_detach(t); } return 0; }
"""
H = """
typedef int (*unary)(int);
int apply(unary f, int x);
void store_cb(unary f);
int call_stored(int x);
int call_in_thread(int x);
int apply_in_thread(unary f, int x);
int rec(int n, unary f);
void *first_if(unary f, void *p);
unsigned long long wide(unsigned long long (*f)(unsigned long long, signed char), unsigned long long v);
double mix(double (*f)(float, double, _Bool, char, const void *), float a);
float narrow(float (*f)(int), int x);
void each(void (*f)(short, unsigned short), int n);
int start(unary cb, int n);
"""


@pytest.fixture(scope="module")
def lib(cbuild):
    old = os.environ.get("FFIKIT_BACKEND")
    os.environ["FFIKIT_BACKEND"] = "compiled"  # pools built at once, and used
    yield ffikit.load(cbuild(C, name="cbpool", libraries=("pthread",)), H)
    if old is None:
        os.environ.pop("FFIKIT_BACKEND", None)
    else:
        os.environ["FFIKIT_BACKEND"] = old


def _pool(spec: str):
    return cbpool.pool_for(ffikit.callback(spec, print).fp_type)


class TestCodes:
    def test_signatures_a_pool_serves(self):
        fp = ffikit.callback("int (*)(const void *, const void *)", print).fp_type
        assert cbpool.codes(fp) == ("i", ("P", "P"))
        assert cbpool.codes(ctypes.CFUNCTYPE(None, ctypes.c_double, ctypes.c_char_p)) == ("v", ("d", "z"))

    @pytest.mark.parametrize("fp", [
        ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_int)),  # typed pointers: ctypes objects
        ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_int),  # pointer results
        ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, use_errno=True),  # errno saved around it
        ctypes.CFUNCTYPE(ctypes.c_int, type("MyInt", (ctypes.c_int,), {})),  # arrives as the instance
        ctypes.CFUNCTYPE(ctypes.c_longdouble, ctypes.c_int),
    ])
    def test_others_stay_ctypes_thunks(self, fp):
        assert cbpool.codes(fp) is None

    def test_generated_source_compiles_with_all_warnings_as_errors(self, cbuild):
        for sig in (("i", ("P", "P")), ("v", ()), ("d", ("f", "d", "?", "c", "P", "z")),
                    ("Q", ("Q", "b")), ("?", ("h", "H", "l", "L", "q", "B", "I"))):
            name, source = cbpool.generate(sig, slots=3)
            path = cbuild(source, name=f"werror{name[-6:]}",
                          include_dirs=[sysconfig.get_paths()["include"], cbpool.RUNTIME_DIR],
                          flags=["-Wall", "-Wextra", "-Werror", "-std=c11"])
            assert os.path.exists(path)


class TestHeld:
    def test_held_callback_is_a_pool_slot(self, lib):
        cb = ffikit.callback("int (*)(int)", lambda v: v + 1)
        assert isinstance(cb._slot, NativeSlot)
        assert cb.address == cb._slot.pool.address(cb._slot.index)
        lib.store_cb(cb)
        assert lib.call_stored(41) == 42 and lib.call_in_thread(1) == 2
        assert cb(1) == 2

    def test_arguments_and_results_as_ctypes_gives_them(self, lib):
        seen = []

        def record(*args):
            seen.append(args)
            return 1.5

        assert lib.mix(record, 0.5) == 1.5
        assert seen == [(0.5, 2.5, True, b"z", None)]
        assert lib.wide(lambda v, s: v + s + 5, 2**64 - 1) == 2**64 - 1
        got = []
        lib.each(lambda a, b: got.append((a, b)), 3)
        assert got == [(0, 0), (-1, 1), (-2, 2)]

    @pytest.mark.parametrize("value, word", [(2**31, "int in"), ("x", "int in"), (1.0, "int in")])
    def test_results_out_of_range_are_refused_in_python_words(self, lib, value, word):
        with pytest.raises(TypeError, match=f"callback must return an {word}"):
            lib.apply(lambda v: value, 1)

    def test_int_subclasses_and_floats_that_fit(self, lib):
        assert lib.apply(lambda v: True, 1) == 1  # bool is an int: converted as ctypes does
        assert lib.narrow(lambda v: v, 7) == 7.0  # an int for float: float()
        with pytest.raises(TypeError, match=r"within \+-3.4"):
            lib.narrow(lambda v: 1e300, 1)
        assert lib.narrow(lambda v: float("inf"), 1) == float("inf")
        with pytest.raises(ffikit.ArgumentError):
            lib.wide(lambda v, s: -1, 1)

    def test_on_error_after_an_exception_and_a_late_call(self, lib):
        def bad(v):
            raise KeyError(v)

        cb = ffikit.callback("int (*)(int)", bad, on_error=-9)
        lib.store_cb(cb)
        seen = []
        old, sys.unraisablehook = sys.unraisablehook, seen.append
        try:
            assert ctypes.CDLL(lib.path).call_stored(3) == -9  # raw ctypes: no ffikit call around
        finally:
            sys.unraisablehook = old
        assert [type(s.exc_value) for s in seen] == [KeyError]
        assert ffikit.callback_errors(clear=True)[-1] is seen[0].exc_value
        with pytest.raises(KeyError) as e:
            lib.call_stored(3)
        assert "called from C function call_stored" in e.value.__notes__[0]
        cb.release()
        with pytest.raises(ffikit.CallbackReleased, match=r"ffikit.callback was released.*on_error \(-9\)"):
            lib.call_stored(3)
        assert cb.released and cb._slot is None
        ffikit.callback_errors(clear=True)


class TestLent:
    def test_a_plain_callable_borrows_a_slot_for_the_call(self, lib):
        pool = _pool("int (*)(int)")
        before = pool.stats()
        for i in range(1000):
            assert lib.apply(lambda v, i=i: v + i, 1) == 1 + i
        after = pool.stats()
        assert after["lent"] == 0  # every slot given back when its call returned
        assert after["slots"] - after["new"] <= before["slots"] - before["new"] + pool.MIN_FREE + 1

    def test_late_call_reports_and_the_slot_is_never_lent_again(self, lib):
        pool = _pool("int (*)(int)")
        lib.store_cb(lambda x: x * 2)
        stuck = pool.stats()["stuck"]
        with pytest.raises(ffikit.CallbackReleased, match="argument 1 'f' of 'store_cb'"):
            lib.call_stored(1)
        assert pool.stats()["stuck"] == stuck + 1
        for _ in range(3 * pool.MIN_FREE):
            assert lib.apply(lambda v: v, 5) == 5
        with pytest.raises(ffikit.CallbackReleased):  # still the stub: never lent again
            lib.call_stored(1)
        ffikit.callback_errors(clear=True)

    def test_from_a_c_thread_during_the_call(self, lib):
        assert lib.apply_in_thread(lambda v: v * 5, 3) == 15
        err = ValueError("in C's thread")

        def bad(v):
            raise err

        seen = []
        old, sys.unraisablehook = sys.unraisablehook, seen.append
        try:  # C's own thread runs no ffikit call: reported through the hook, C gets 0
            assert lib.apply_in_thread(bad, 3) == 0
        finally:
            sys.unraisablehook = old
        assert [s.exc_value for s in seen] == [err]
        assert ffikit.callback_errors(clear=True)[-1] is err

    def test_a_pointer_result_does_not_keep_the_lent_slot(self, lib):
        """A result pointing into an argument keeps the arguments alive: a lent slot is not
        one of them (given back when the call returns all the same)."""
        pool = _pool("int (*)(int)")
        data = bytearray(8)
        for i in range(pool.SLOTS + 2 * pool.MIN_FREE):
            assert lib.first_if(lambda v, i=i: v + i, data)
        assert not lib.first_if(lambda v: 0, data)
        assert pool.stats()["lent"] == 0

    def test_every_slot_taken_falls_back_to_ctypes_thunks(self, lib):
        depth = []

        def nest(v):
            depth.append(v)
            return lib.apply(nest, v + 1) if v < 300 else v  # > SLOTS nested borrowers

        assert lib.apply(nest, 0) == 300 and len(depth) == 301
        gc.collect()


def test_held_callbacks_made_and_released_stay_within_the_pool(lib):
    pool = _pool("int (*)(int)")
    native = 0
    for i in range(3 * pool.SLOTS):
        with ffikit.callback("int (*)(int)", lambda x, i=i: x + i) as cb:
            assert lib.apply(cb, 1) == 1 + i
            native += isinstance(cb._slot, NativeSlot)
    stats = pool.stats()
    assert stats["held"] == 0 and stats["quarantined"] == pool.QUARANTINE
    # released slots come back (after the quarantine): at most the first few were ctypes thunks
    assert native >= 3 * pool.SLOTS - pool.QUARANTINE - pool.MIN_FREE


@pytest.mark.parametrize("stack_kb", [64, 256])
def test_recursion_through_c_on_a_small_stack_raises_before_the_crash(lib, stack_kb):
    code = f"""
        import ffikit, threading
        lib = ffikit.load({lib.path!r}, {H!r})
        def f(n):
            return lib.rec(n + 1, f)
        out = []
        def run():
            try:
                lib.rec(0, f)
            except ffikit.CallbackRecursion as exc:
                out.append(str(exc))
        threading.stack_size({stack_kb} * 1024)
        t = threading.Thread(target=run)
        t.start()
        t.join()
        from ffikit.backends.compiled import cbpool
        print("RAISED", out[0][:60], sum(p.stats()["slots"] - p.stats()["new"] for p in cbpool.loaded().values()))
        """
    result = run_isolated(code, FFIKIT_BACKEND="compiled")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "RAISED ffikit callback f was called from C" in result.stdout
    assert int(result.stdout.split()[-1]) > 4  # the pool's slots were lent (nested)


def test_c_threads_calling_back_while_the_interpreter_exits(lib):
    """The pool's exit: from atexit on no slot enters Python; 0 deaths in 5 runs (up to 50
    under ``make fuzz``, which raises $FFIKIT_FUZZ_EXAMPLES)."""
    code = f"""
        import ffikit, time
        lib = ffikit.load({lib.path!r}, {H!r})
        from ffikit.backends.ctypes.cbhooks import NativeSlot
        def f(i):
            if i % 2:
                raise ValueError(i)
            return i
        cb = ffikit.callback("int (*)(int)", f)
        assert isinstance(cb._slot, NativeSlot)
        lib.start(cb, 8)
        time.sleep(0.03)
        print("EXITING")
        """
    deaths = []
    for run in range(max(5, fuzzscale.examples(5, at_most=50))):
        result = run_isolated(code, timeout=60, FFIKIT_BACKEND="compiled")
        if result.returncode != 0 or "EXITING" not in result.stdout:
            deaths.append((run, result.returncode, result.stderr[-500:]))
    assert deaths == []


def test_exit_waits_for_running_calls_then_returns_zero_without_python(lib):
    code = f"""
        import ffikit, sys
        lib = ffikit.load({lib.path!r}, {H!r})
        from ffikit.backends.compiled import cbpool
        cb = ffikit.callback("int (*)(int)", lambda x: x + 1)
        lib.store_cb(cb)
        pool = cbpool.pool_for(cb.fp_type)
        pool.exit_begin()
        print("AFTER", lib.call_stored(5), lib.call_in_thread(5), pool.stats()["after_exit"])
        """
    result = run_isolated(code, FFIKIT_BACKEND="compiled")
    assert "AFTER 0 0 2" in result.stdout, result.stderr[-2000:]  # the zero value, no Python ran
