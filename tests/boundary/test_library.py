"""Finding and loading libraries, with reasons; symbols and suggestions."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

import ffikit
from calls_helpers import elf32_stub
from ffikit import LibraryNotFound, SymbolNotFound
from ffikit.boundary.library import Candidate, candidates

HERE = os.path.dirname(os.path.abspath(__file__))
FIB_C = "#include <stdint.h>\nint64_t fibonacci(int n) { int64_t a = 0, b = 1; while (n--) { int64_t t = a + b; a = b; b = t; } return a; }\n"
FIB_H = "int64_t fibonacci(int n); int64_t fibonaci_fast(int n);"


@pytest.fixture()
def fib_dir(cbuild, tmp_path):
    shutil.copy(cbuild(FIB_C, name="fib"), tmp_path / "libfib.so")
    return tmp_path


class TestLoad:
    def test_bare_name_with_search_paths(self, fib_dir):
        lib = ffikit.load("fib", FIB_H, search_paths=[fib_dir])
        assert lib.fibonacci(10) == 55
        assert lib.path == str(fib_dir / "libfib.so")

    def test_relative_to_the_calling_file(self, fib_dir, tmp_path_factory, monkeypatch):
        deep = tmp_path_factory.mktemp("elsewhere").joinpath(*"abcdefgh")
        deep.mkdir(parents=True)
        monkeypatch.chdir(deep)
        relative = os.path.relpath(fib_dir / "libfib.so", HERE)
        assert not os.path.exists(relative)  # not relative to the working directory
        assert ffikit.load(relative, FIB_H).fibonacci(20) == 6765

    def test_relative_to_cwd_second(self, fib_dir, monkeypatch):
        monkeypatch.chdir(fib_dir)
        assert ffikit.load("./libfib.so", FIB_H).fibonacci(1) == 1

    def test_absolute_path(self, fib_dir):
        assert ffikit.load(str(fib_dir / "libfib.so"), FIB_H).fibonacci(2) == 1

    def test_system_libraries(self):
        assert ffikit.load("m", "double cos(double);").cos(0.0) == 1.0
        z = ffikit.load("libz.so.1", "unsigned long compressBound(unsigned long n);")
        assert z.compressBound(1000) > 1000
        assert os.path.isabs(z.path)

    def test_not_found_lists_every_candidate(self, tmp_path):
        with pytest.raises(LibraryNotFound) as e:
            ffikit.load("nosuchlib", search_paths=[tmp_path])
        text = str(e.value)
        assert text.startswith("cannot load library 'nosuchlib'; tried:\n")
        assert f"  {tmp_path}/libnosuchlib.so: no such file" in text
        assert "libnosuchlib.so (system search): not found by the system loader" in text
        assert "hint: pass an absolute path" in text
        assert (str(tmp_path / "libnosuchlib.so"), "no such file") in e.value.candidates
        assert isinstance(e.value, OSError)

    def test_wrong_elf_class(self, tmp_path):
        elf32_stub(tmp_path / "libold.so")
        with pytest.raises(LibraryNotFound, match=r"libold.so: wrong architecture: 32-bit library, 64-bit Python"):
            ffikit.load(str(tmp_path / "libold.so"))

    def test_not_elf(self, tmp_path):
        (tmp_path / "libtext.so").write_text("hello")
        with pytest.raises(LibraryNotFound, match="not a shared library"):
            ffikit.load(str(tmp_path / "libtext.so"))

    def test_missing_dependency_named(self, cbuild, tmp_path):
        dep = cbuild("int dep_value(void) { return 3; }", name="depb")
        shutil.copy(dep, tmp_path / "libdepb.so")
        main = cbuild(
            "int dep_value(void); int use_dep(void) { return dep_value(); }",
            name="usedep",
            flags=(f"-L{tmp_path}", "-Wl,--no-as-needed"),
            libraries=("depb",),
        )
        os.remove(tmp_path / "libdepb.so")
        with pytest.raises(LibraryNotFound) as e:
            ffikit.load(main)
        assert "missing dependency libdepb.so (the loader could not find it; needed by" in str(e.value)

    def test_permission_denied(self, fib_dir):
        """Checked in a forked child that drops to an unprivileged user (root reads any file)."""
        shared = tempfile.mkdtemp()
        os.chmod(shared, 0o755)
        target = os.path.join(shared, "libfib.so")
        shutil.copy(fib_dir / "libfib.so", target)
        os.chmod(target, 0)
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: report the reasons, never return into pytest
            try:
                if os.geteuid() == 0:
                    os.setuid(65534)
                reasons = [c.reason or "loaded" for c in candidates(target)]
                os.write(write_end, "|".join(reasons).encode())
            finally:
                os._exit(0)
        os.close(write_end)
        os.waitpid(pid, 0)
        with os.fdopen(read_end) as pipe:
            reasons = pipe.read()
        shutil.rmtree(shared)
        assert reasons == "permission denied"


class TestCandidates:
    def test_success(self, fib_dir):
        found = candidates("fib", [fib_dir])
        assert isinstance(found[0], Candidate)
        assert found[0].loaded and found[0].reason is None
        assert str(found[0]) == f"{fib_dir}/libfib.so: loaded"

    def test_failure(self, tmp_path):
        found = candidates("nosuchlib", [tmp_path])
        assert not any(c.loaded for c in found)
        assert {c.reason for c in found if not c.system} == {"no such file"}


class TestSymbols:
    def test_missing_declared_function_suggests(self, fib_dir):
        lib = ffikit.load("fib", FIB_H, search_paths=[fib_dir])
        with pytest.raises(SymbolNotFound) as e:
            _ = lib.fibonaci_fast
        assert str(e.value) == (
            "libfib.so does not export 'fibonaci_fast' (declared as int64_t fibonaci_fast(int n)); "
            "did you mean 'fibonacci'?"
        )
        assert isinstance(e.value, AttributeError)

    def test_undeclared(self, fib_dir):
        lib = ffikit.load("fib", "", search_paths=[fib_dir])
        with pytest.raises(SymbolNotFound, match="exports 'fibonacci' but it is not declared"):
            _ = lib.fibonacci
        with pytest.raises(SymbolNotFound, match="did you mean 'fibonacci'"):
            _ = lib.fibonaci

    def test_symbols_and_repr(self, fib_dir):
        lib = ffikit.load("fib", FIB_H, search_paths=[fib_dir])
        assert lib.symbols == (["fibonacci"], ["fibonaci_fast"])
        assert lib.defs.functions["fibonacci"].name == "fibonacci"
        assert repr(lib) == (f"<ffikit.Library '{fib_dir}/libfib.so' (2 functions declared, "
                             f"{lib.backend} backend)>")
        assert "fibonacci" in lib.exports()

    def test_errors_mapping_must_name_declared_functions(self, fib_dir):
        with pytest.raises(SymbolNotFound, match="errors= names 'fibonaci', which is not a declared function; did you mean"):
            ffikit.load("fib", FIB_H, search_paths=[fib_dir], errors={"fibonaci": ffikit.check.nonzero})

    def test_setting_unknown_attribute(self, fib_dir):
        lib = ffikit.load("fib", FIB_H, search_paths=[fib_dir])
        with pytest.raises(AttributeError, match="only declared extern variables are writable"):
            lib.x = 1


class TestPickling:
    """A Library and its bound functions pickle by recipe (path, declarations, options)."""

    KERNEL = """
        #include <stddef.h>
        double dot(const double *a, const double *b, size_t n) {
            double s = 0; for (size_t i = 0; i < n; i++) s += a[i] * b[i]; return s;
        }
        int fail(int code) { return code; }
    """
    DECL = "double dot(const double *a, const double *b, size_t n); int fail(int code);"

    def test_bound_function_is_called_in_a_fresh_interpreter(self, cbuild, tmp_path):
        from pickle_helpers import in_fresh_interpreter

        lib = ffikit.load(cbuild(self.KERNEL, name="pickled_dot"), self.DECL)
        out = in_fresh_interpreter(lib.dot, """
            import array
            a = array.array("d", [1.0, 2.0, 3.0])
            print(obj.__name__, obj(a, a, 3), type(obj.library).__name__)
        """, tmp_path)
        assert out == "dot 14.0 Library"

    def test_library_keeps_its_policies_across_processes(self, cbuild, tmp_path):
        from pickle_helpers import in_fresh_interpreter

        lib = ffikit.load(cbuild(self.KERNEL, name="pickled_dot"), self.DECL,
                          errors={"fail": ffikit.check.nonzero})
        out = in_fresh_interpreter(lib, """
            import ffikit
            assert obj.fail(0) == 0
            try:
                obj.fail(3)
            except ffikit.CallError as exc:
                print("CallError", exc.code)
        """, tmp_path)
        assert out == "CallError 3"

    def test_size_relations_travel_too(self, cbuild, tmp_path):
        from pickle_helpers import in_fresh_interpreter

        lib = ffikit.load(cbuild(self.KERNEL, name="pickled_dot"), self.DECL,
                          sizes={"dot": {"a": "n", "b": "n"}})
        out = in_fresh_interpreter(lib.dot, """
            import array, ffikit
            one = array.array("d", [1.0])
            try:
                obj(one, one, 3)
            except ffikit.BufferTooSmall:
                print("refused")
        """, tmp_path)
        assert out == "refused"

    def test_unpickled_twice_loads_once(self, cbuild):
        import pickle

        lib = ffikit.load(cbuild(self.KERNEL, name="pickled_dot"), self.DECL)
        data = pickle.dumps(lib.dot)
        first, second = pickle.loads(data), pickle.loads(data)
        assert first.library is second.library
        assert first.library.defs is lib.defs  # declarations are memoised by their source


class TestHintFitsTheCause:
    def test_missing_dependency_is_not_fixed_by_a_path(self, cbuild, tmp_path):
        import shutil

        dep = cbuild("int dep3(void) { return 1; }", name="ffkdep3")
        shutil.copy(dep, tmp_path / "libffkdep3.so")
        top = cbuild("int dep3(void); int top3(void) { return dep3(); }", name="ffktop3",
                     flags=["-Wl,--no-as-needed", f"-L{tmp_path}", "-lffkdep3"])
        (tmp_path / "libffkdep3.so").unlink()
        with pytest.raises(ffikit.LibraryNotFound) as info:
            ffikit.load(top)
        hint = str(info.value).split("hint: ")[1]
        assert hint.startswith("install libffkdep3.so, or put its directory on LD_LIBRARY_PATH")
        assert "absolute path" not in hint

    def test_not_a_library_and_a_miss(self, tmp_path):
        (tmp_path / "libtext.so").write_text("hello")
        with pytest.raises(ffikit.LibraryNotFound, match="hint: that file is not a shared library"):
            ffikit.load(str(tmp_path / "libtext.so"))
        with pytest.raises(ffikit.LibraryNotFound, match="hint: pass an absolute path"):
            ffikit.load(str(tmp_path / "libnothing.so"))


def test_raw_access_to_a_const_global_warns(cbuild):
    lib = ffikit.load(cbuild("const int answer = 42; int counter = 1;", name="const_global"),
                      "extern const int answer; extern int counter;")
    with pytest.warns(ffikit.UnsafeWarning, match=r"lib.var\('answer'\) gives writable access"):
        raw = lib.var("answer")
    assert raw.value == 42
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert lib.var("counter").value == 1  # not const: no warning


def test_sizes_names_are_checked_at_load():
    with pytest.raises(ffikit.SymbolNotFound, match="sizes= names 'strln'.*did you mean 'strlen'"):
        ffikit.load("c", "unsigned long strlen(const char *s);", sizes={"strln": {"s": 1}})
    with pytest.raises(ffikit.ArgumentError, match="names parameter 'x'"):
        ffikit.load("c", "unsigned long strlen(const char *s);", sizes={"strlen": {"x": 1}})


def test_ctypes_lookup_errors_never_leak():
    # ctypes.util.find_library("libz") raises FileNotFoundError: b'liblibz.a' from its ld probe
    try:
        lib = ffikit.load("libz")
    except ffikit.LibraryNotFound as exc:
        assert "libz" in str(exc)
    else:
        assert "libz" in lib.path
    with pytest.raises(ffikit.LibraryNotFound) as info:
        ffikit.load("libffikit_surely_missing_library")
    assert type(info.value) is ffikit.LibraryNotFound and "tried" in str(info.value)


def test_paths_may_be_pathlike(cbuild):
    import pathlib

    path = pathlib.Path(cbuild("int seven(void) { return 7; }", name="pathlike"))
    assert ffikit.load(path, "int seven(void);").seven() == 7
    assert ffikit.load(path.name, "int seven(void);", search_paths=[path.parent]).seven() == 7


def test_a_fallback_to_ctypes_is_logged_once_and_shown(cbuild):
    from crashproof import run_isolated

    path = cbuild("int seven(void) { return 7; }", name="fallback")
    result = run_isolated(f"""
        import ffikit
        libs = [ffikit.load({path!r}, "int seven(void);") for _ in range(3)]
        print(libs[0].seven(), libs[0].backend)
        print(repr(libs[0]))
        print(repr(ffikit.load({path!r}, "int seven(void);", backend="ctypes")))
    """, CC="/nonexistent/cc", FFIKIT_BACKEND="")
    out = result.stdout.splitlines()
    assert result.returncode == 0, result.stderr
    assert out[0] == "7 ctypes"
    assert out[1].endswith("ctypes backend: auto: no C compiler ('/nonexistent/cc' not on PATH; set $CC))>")
    assert out[2].endswith("(1 functions declared, ctypes backend)>")  # asked for: no reason shown
    assert result.stderr.count("using the ctypes backend") == 1, result.stderr


def test_a_warm_start_imports_only_what_calls_need(tmp_path):
    """With the model and the compiled module cached, ``load`` + calls parse nothing, build
    nothing and import none of the modules kept for parsing, building, errors or introspection."""
    import subprocess
    import sys

    cache = tmp_path / "cache"
    env = {**os.environ, "FFIKIT_CACHE_DIR": str(cache), "FFIKIT_FASTMEM": "0"}
    env.pop("FFIKIT_BACKEND", None)
    calls = ('z = ffikit.load("z", header="zlib.h")\n'
             'assert z.adler32(1, b"abc", 3) == 38600999 and z.crc32(0, b"abc", 3) == 891568578\n')
    warm_up = f"import ffikit\n{calls}z.wait_compiled(600)\n"
    subprocess.run([sys.executable, "-c", warm_up], env=env, check=True, timeout=600)
    heavy = ["pycparser", "subprocess", "dataclasses", "inspect", "typing", "sysconfig", "platform",
             "traceback", "logging", "tempfile", "shutil", "pathlib", "shlex", "ffikit.build",
             "ffikit.cdecl.preprocess",
             "ffikit.backends.compiled.cgen", "ffikit.backends.compiled.cbpool", "ffikit.memory.new"]
    check = (f"import sys, ffikit\n{calls}"
             "print(z.adler32.backend, sorted(m for m in " + repr(heavy) + " if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", check], env=env, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split(" ", 1) == ["compiled", "[]\n"]
