"""module: built once per content, imported from the cache by later processes; reasons kept."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

import ffikit
from compiled_helpers import PYTHON_ONLY, REFUSED, C, H
from ffikit import cachedir
from ffikit.backends.compiled import available
from ffikit.backends.compiled.module import CompiledFunctions, load_module

pytestmark = pytest.mark.skipif(not available()[0], reason="compiled backend unavailable")

SCRIPT = """
import array, ctypes, gc, sys
import ffikit
lib = ffikit.load(sys.argv[1], ffikit.cdef(sys.argv[2]), backend="compiled")
students = (lib.defs.Student * 3)()
for s, v in zip(students, (1.0, 2.0, 6.0)):
    s.score = v
total = 0.0
for i in range(2000):  # temporaries, exports and GC under load: must not crash
    data = array.array("d", [1.0, 2.0, float(i)])
    total += lib.sum(data, 3) + lib.avg(students, 3) + lib.add(i, 1)
    lib.scale(array.array("d", [0.0] * 3), 3, 2.0)
    lib.length(b"abc")
    lib.apply(ffikit.callback("int (*)(int, int)", lambda a, b: a + b), 1, 2)
    if i % 500 == 0:
        gc.collect()
print(type(lib.add).__name__, lib.add(2, 3), lib.greet(), round(total))
"""


def _run(path: str, cache: str) -> str:
    env = dict(os.environ, FFIKIT_CACHE_DIR=cache, FFIKIT_BUILD="sync")  # (the callback pool too)
    proc = subprocess.run([sys.executable, "-c", SCRIPT, path, H], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


class TestBuildOnce:
    def test_later_process_imports_without_compiling(self, cbuild, tmp_path):
        path = cbuild(C, name="compiled_probe")
        cache = str(tmp_path / "cache")
        first = _run(path, cache)
        built = sorted(os.listdir(cache))
        names = sorted(os.path.basename(p) for p in cachedir.entries(cache)
                       if not os.path.basename(p).startswith("model-"))  # (the cdef's model)
        assert first.startswith("CompiledFunction 5 b'hello'") and len(names) == 2
        assert "ffikit_c_" in names[0] and "ffikit_cb_" in names[1]  # wrappers; int (*)(int, int) pool
        assert _run(path, cache) == first
        assert sorted(os.listdir(cache)) == built  # nothing compiled the second time

    def test_same_shapes_same_module(self):
        defs = ffikit.cdef("int add(int a, int b); int sub(int a, int b);")
        funcs = CompiledFunctions({n: d.type for n, d in defs.functions.items()}, "utf-8")
        assert funcs.module is load_module(funcs._shapes)
        assert len(funcs._shapes) == 1  # one wrapper serves both


class TestCompiledFunctions:
    def test_reasons_for_functions_left_to_ctypes(self):
        defs = ffikit.cdef(H)
        funcs = CompiledFunctions.for_declarations(defs, "utf-8")
        assert set(funcs.reasons) == set(PYTHON_ONLY) | REFUSED  # refused ones: not compiled either
        for name, word in PYTHON_ONLY.items():
            assert word in funcs.reasons[name]
        assert CompiledFunctions.for_declarations(defs, "utf-8") is funcs
        described = dict(funcs.describe())
        assert described["add"] == "compiled" and described["count"] == "ctypes (variadic)"

    def test_forced_compiled_reports_a_failed_build(self, cbuild, monkeypatch, tmp_path):
        decl = "short mul(short a, unsigned short b, signed char c);"  # a shape no other test builds
        path = cbuild("short mul(short a, unsigned short b, signed char c) { return a * b * c; }",
                      name="mul")
        monkeypatch.setenv("FFIKIT_CACHE_DIR", str(tmp_path))
        monkeypatch.setenv("CC", "cc -include ffikit-no-such-header.h")
        lib = ffikit.load(path, decl, backend="compiled")
        with pytest.raises(ffikit.CompileError, match="ffikit-no-such-header"):
            lib.mul  # noqa: B018 - binding is what builds
        auto = ffikit.load(path, decl, backend="auto")
        assert auto.mul(6, 7, 1) == 42  # auto: the ctypes backend binds it instead
        assert type(auto.mul).__name__ == "BoundFunction"


def test_smoke_script_is_valid():
    compile(textwrap.dedent(SCRIPT), "<smoke>", "exec")


CRASH = """
import ctypes, ffikit
lib = ffikit.load({path!r}, "int boom(int *p);", backend={backend!r})
{enable}
lib.boom(ctypes.cast(16, ctypes.POINTER(ctypes.c_int)))
"""


@pytest.mark.parametrize("order", ["enabled before load", "enabled after load"])
def test_fatal_signal_names_the_c_function(cbuild, order):
    """Issue 19.20: no Python frame runs during a compiled call, so the module names it."""
    from crashproof import run_isolated

    path = cbuild("int boom(int *p) { return *p; }", name="boom")
    code = CRASH.format(path=path, backend="compiled", enable="ffikit.enable_faulthandler()")
    if order == "enabled before load":
        code = "import ffikit\nffikit.enable_faulthandler()\n" + code.replace("ffikit.enable_faulthandler()", "")
    proc = run_isolated(code)
    assert proc.returncode != 0
    assert f"ffikit: fatal signal 11 in C function int boom(int *p); from {os.path.basename(path)}" in proc.stderr
    assert "Fatal Python error: Segmentation fault" in proc.stderr  # faulthandler's report follows


def test_no_report_unless_asked(cbuild):
    from crashproof import run_isolated

    path = cbuild("int boom(int *p) { return *p; }", name="boom")
    proc = run_isolated(CRASH.format(path=path, backend="compiled", enable=""), PYTHONFAULTHANDLER="")
    assert proc.returncode != 0 and "ffikit: fatal signal" not in proc.stderr


def test_source_and_signature_are_made_when_read(cbuild):
    lib = ffikit.load(cbuild("int add(int a, int b) { return a + b; }", name="lazy_attrs"),
                      "int add(int a, int b);", backend="compiled")
    add = lib.add
    assert "source" not in vars(add) and "__signature__" not in vars(add)
    assert "int32_t (int32_t, int32_t)" in add.source and str(add.__signature__) == "(a, b, /)"
    assert vars(add)["source"] is add.source  # made once, then kept
    add.source = "replaced"
    assert add.source == "replaced"
    del add.source
    assert "int32_t (int32_t, int32_t)" in add.source


def test_a_pointer_result_class_is_made_at_the_first_result(cbuild):
    src = ("typedef struct { int x, y; } Point;\nstatic Point p = {3, 4};\n"
           "Point *origin(void) { return &p; }\nvoid *raw(void) { return &p; }")
    decl = "typedef struct { int x, y; } Point; Point *origin(void); void *raw(void);"
    path = cbuild(src, name="lazy_result")
    compiled = ffikit.load(path, decl, backend="compiled")
    plain = ffikit.load(path, decl, backend="ctypes")
    got, want = compiled.origin(), plain.origin()
    assert type(got) is type(want) and (got.contents.x, got.contents.y) == (3, 4)
    assert type(compiled.raw()) is type(plain.raw()) and compiled.raw().value == plain.raw().value
    assert type(compiled.origin()) is type(got)  # the class kept after the first result


def test_python_include_is_sysconfigs_answer_without_importing_it():
    import subprocess
    import sys
    import sysconfig

    from ffikit.backends.compiled.module import python_include

    assert python_include() == sysconfig.get_paths()["include"]
    code = ("import sys\nfrom ffikit.backends.compiled.module import python_include\n"
            "python_include()\nprint('sysconfig' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
