"""runtime: the compiled function object: policies, callbacks, the slow path, the GIL."""

from __future__ import annotations

import inspect
import os
import pickle
import subprocess
import sys
import weakref

import pytest

import ffikit
from ffikit.backends.compiled import available

pytestmark = pytest.mark.skipif(not available()[0], reason="compiled backend unavailable")

C = r"""
#include <stdint.h>
int add(int a, int b) { return a + b; }
int minus_one(int x) { return x ? -1 : 0; }
typedef int (*unary)(int);
static unary saved;
void keep(unary f) { saved = f; }
int call_kept(int v) { return saved(v); }
void spin(volatile int32_t *flag) { while (!*flag) { } }
"""
H = """int add(int a, int b); int minus_one(int x); typedef int (*unary)(int);
void keep(unary f); int call_kept(int v); void spin(volatile int32_t *flag);"""


@pytest.fixture(scope="module")
def lib(cbuild):
    return ffikit.load(cbuild(C, name="runtime"), H, backend="compiled")


class Boom(Exception):
    pass


class TestFunctionObject:
    def test_attributes(self, lib):
        f = lib.add
        assert f.__name__ == "add" and f.declaration == "int add(int a, int b);"
        assert repr(f) == f"<ffikit function int add(int a, int b); from {os.path.basename(lib.path)}>"
        again = pickle.loads(pickle.dumps(f))  # (library, name): loaded and bound again
        assert f.library is lib and again(2, 3) == 5 and type(again).__name__ == "CompiledFunction"
        assert "int32_t (int32_t, int32_t)" in f.source and f.cfunc is not None
        assert weakref.ref(f)() is f
        assert str(inspect.signature(f)) == "(a, b, /)"
        assert f.python(2, 3) == 5 and f.python.__name__ == "add"  # the ctypes backend's wrapper

    def test_policy_applies_and_is_shared_with_the_slow_path(self, lib):
        f = lib.minus_one
        assert f(1) == -1
        f.errors = ffikit.check.negative
        with pytest.raises(ffikit.CallError, match="minus_one"):
            f(1)
        assert f.python.errors is ffikit.check.negative
        f.errors = None
        assert f(1) == -1 and f.python.errors is None

    def test_callback_exception_reraised_from_a_compiled_call(self, lib):
        def bad(v):
            raise Boom(v)

        cb = ffikit.callback("int (*)(int)", bad, on_error=-7)
        lib.keep(cb)
        with pytest.raises(Boom) as e:
            lib.call_kept(4)
        assert e.value.args == (4,)
        assert "called from C function call_kept" in "".join(getattr(e.value, "__notes__", []))
        assert lib.call_kept.errors is None  # the parked exception is gone
        good = ffikit.callback("int (*)(int)", lambda v: v * 2)  # held: C keeps calling it
        lib.keep(good)
        assert lib.call_kept(4) == 8

    def test_tampered_callback_takes_the_slow_path(self, lib):
        cb = ffikit.callback("int (*)(int)", lambda v: v)
        lib.keep(cb)  # the fast path learns the callback type
        thunk, cb.thunk = cb.thunk, None  # no longer a C function pointer: the slow path decides
        lib.keep(cb)  # (the ctypes backend passes NULL for it)
        cb.thunk = thunk
        lib.keep(cb)
        assert lib.call_kept(3) == 3


GIL_SCRIPT = """
import ctypes, sys, threading, ffikit
lib = ffikit.load(sys.argv[1], sys.argv[2], backend="compiled")
flag = ctypes.c_int32(0)
threading.Timer(0.05, lambda: setattr(flag, "value", 1)).start()
lib.spin(flag)  # returns only if another Python thread ran while C spun
print(type(lib.spin).__name__, flag.value)
"""


def test_gil_released_while_c_runs(cbuild):
    """A C loop waiting for a Python thread finishes only if the call released the GIL."""
    path = cbuild(C, name="runtime")
    proc = subprocess.run([sys.executable, "-c", GIL_SCRIPT, path, H], capture_output=True, text=True,
                          timeout=120, env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["CompiledFunction", "1"]


class TestErrno:
    """ctypes' private errno copy is swapped around the call exactly as ctypes does."""

    @pytest.mark.parametrize("backend", ["ctypes", "compiled"])
    def test_same_as_ctypes(self, cbuild, backend):
        import ctypes
        import threading

        src = "#include <errno.h>\nint fail_errno(int e) { errno = e; return -1; }\nint read_errno(void) { return errno; }"
        lib = ffikit.load(cbuild(src, name="errnos"), "int fail_errno(int e); int read_errno(void);",
                          backend=backend)
        lib.fail_errno(7)
        assert ctypes.get_errno() == 7
        ctypes.set_errno(42)
        assert lib.read_errno() == 42  # C sees the value set from Python
        seen = []
        worker = threading.Thread(target=lambda: (lib.fail_errno(9), seen.append(ctypes.get_errno())))
        worker.start()
        worker.join()
        assert seen == [9] and ctypes.get_errno() == 42  # per thread
        assert (type(lib.read_errno).__name__ == "CompiledFunction") == (backend == "compiled")


class TestRuntimeFiles:
    """The runtime is C files (package data), and it compiles warning-free with every shape."""

    def test_files_are_package_data(self):
        from ffikit.backends.compiled import runtime

        names = (runtime.HEADER, *runtime.BEFORE_WRAPPERS, *runtime.AFTER_WRAPPERS)
        assert all(os.path.isfile(os.path.join(runtime.RUNTIME_DIR, n)) for n in names)
        text = open(os.path.join(os.path.dirname(__file__), "..", "..", "..", "pyproject.toml")).read()
        assert '"ffikit.backends.compiled" = ["runtime/*.c", "runtime/*.h"]' in text

    def test_generated_module_has_only_wrappers(self):
        from ffikit.backends.compiled.cgen import generate, shape_of

        defs = ffikit.cdef("int add(int a, int b);")
        _name, source, _wrappers = generate([shape_of("add", defs.functions["add"].type)])
        assert '#include "ffikit_rt.h"' in source and '#include "module.c"' in source
        assert "ffk_pointer(" not in source and "PyTypeObject ffk_func_type" not in source

    @pytest.mark.parametrize("shapes", ["every", "none"])
    def test_compiles_with_all_warnings_as_errors(self, cbuild, shapes):
        import sysconfig

        from compiled_helpers import FACTS_H, H
        from ffikit.backends.compiled.cgen import generate, shape_of
        from ffikit.backends.compiled.runtime import RUNTIME_DIR

        found = []
        if shapes == "every":
            for text in (H, FACTS_H):
                defs = ffikit.cdef(text)
                found += [s for n, d in defs.functions.items()
                          if not isinstance(s := shape_of(n, d.type), str) and s not in found]
            assert len(found) > 30
        _name, source, _wrappers = generate(found)
        path = cbuild(source, name=f"werror_{shapes}", include_dirs=[sysconfig.get_paths()["include"], RUNTIME_DIR],
                      flags=["-Wall", "-Wextra", "-Werror", "-std=c11"])
        assert os.path.exists(path)
