"""Callbacks from C never crash the interpreter at exit, nor on a small stack."""

from __future__ import annotations

import pytest

import ffikit
from crashproof import run_isolated
from ffikit.backends.ctypes import callguard

THREADS_SOURCE = r"""
#include <pthread.h>
typedef int (*cb_t)(int);
static cb_t saved;
static void *loop(void *arg) { for (int i = 0; ; i++) saved(i); return 0; }
int start(cb_t cb, int n) { saved = cb; for (int k = 0; k < n; k++) { pthread_t t; pthread_create(&t, 0, loop, 0); pthread_detach(t); } return 0; }
int call_once(cb_t cb, int x) { return cb(x); }
int rec(int n, int (*cb)(int)) { return cb(n) + 1; }
"""
DECLS = "typedef int (*cb_t)(int); int start(cb_t cb, int n); int call_once(cb_t cb, int x); int rec(int n, int (*cb)(int));"


@pytest.fixture(scope="module")
def path(cbuild):
    return cbuild(THREADS_SOURCE, name="callguard", libraries=["pthread"])


@pytest.mark.parametrize("backend", ["ctypes", "compiled"])
def test_c_threads_calling_back_while_the_interpreter_exits(path, backend):
    """Issue 19 item 6: 4 of 49 runs died.  Eight C threads call back (half the calls raise,
    so exceptions are being reported) while the main thread exits: 49 runs, 0 deaths."""
    code = f"""
        import ffikit, time
        lib = ffikit.load({path!r}, {DECLS!r}, backend={backend!r})
        def f(i):
            if i % 2:
                raise ValueError(i)
            return i
        cb = ffikit.callback("int (*)(int)", f)
        lib.start(cb, 8)
        time.sleep(0.03)
        print("EXITING")
        """
    deaths = []
    for run in range(49):
        result = run_isolated(code, timeout=60)
        if result.returncode != 0 or "EXITING" not in result.stdout:
            deaths.append((run, result.returncode, result.stderr[-500:]))
    assert deaths == []


def test_a_sealed_thunk_returns_without_running_python(path):
    code = f"""
        import ffikit
        from ffikit.backends.ctypes import callguard
        lib = ffikit.load({path!r}, {DECLS!r}, backend="ctypes")
        seen = []
        cb = ffikit.callback("int (*)(int)", lambda x: seen.append(x) or 7)
        assert lib.call_once(cb, 1) == 7
        assert callguard.seal([cb.thunk]) == 1
        lib.call_once(cb, 2)
        print("SEEN", seen)
        """
    result = run_isolated(code, FFIKIT_BACKEND="ctypes")  # a ctypes thunk, not a C pool's slot
    assert "SEEN [1]" in result.stdout, result.stderr[-2000:]


@pytest.mark.parametrize("backend", ["ctypes", "compiled"])
@pytest.mark.parametrize("stack_kb", [64, 256])
def test_recursion_through_c_on_a_small_stack_raises_before_the_crash(path, backend, stack_kb):
    """Issue 19 item 6: Python -> C -> Python ... on a 256 KB thread died near 85 levels."""
    code = f"""
        import ffikit, threading
        lib = ffikit.load({path!r}, {DECLS!r}, backend={backend!r})
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
        print("RAISED", out[0][:60])
        """
    result = run_isolated(code)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "RAISED ffikit callback f was called from C" in result.stdout


def test_deep_recursion_with_stack_to_spare_is_not_refused(path):
    lib = ffikit.load(path, DECLS, backend="ctypes")

    def f(n):
        return 0 if n >= 20 else lib.rec(n + 1, f)

    assert lib.rec(0, f) == 21


def test_stack_left_is_known_on_linux():
    import sys

    left = callguard.stack_left(0)
    if sys.platform.startswith("linux"):
        assert left is not None and 0 < left <= 1 << 34
