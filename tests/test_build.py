"""ffikit.build: compile real C, cache by content, and report compiler errors."""

import ctypes
import os
import stat

import pytest

import ffikit


def _counting_compiler(tmp_path):
    """A $CC wrapper that logs each invocation, then runs the real compiler."""
    log = tmp_path / "cc.log"
    wrapper = tmp_path / "cc-wrapper"
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> {log}\nexec cc "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    return str(wrapper), log


class TestBuild:
    def test_compiles_and_the_library_works(self, tmp_path):
        path = ffikit.build("int add(int a, int b) { return a + b; }", name="add",
                            cache_dir=tmp_path)
        assert os.path.isabs(path) and path.endswith(".so")
        lib = ctypes.CDLL(path)
        assert lib.add(2, 40) == 42

    def test_cache_hit_does_not_run_the_compiler(self, tmp_path, monkeypatch):
        cc, log = _counting_compiler(tmp_path)
        monkeypatch.setenv("CC", cc)
        src = "int seven(void) { return 7; }"
        first = ffikit.build(src, name="seven", cache_dir=tmp_path / "cache")
        compiles = [line for line in log.read_text().splitlines() if "-shared" in line]
        assert len(compiles) == 1
        second = ffikit.build(src, name="seven", cache_dir=tmp_path / "cache")
        assert second == first
        compiles = [line for line in log.read_text().splitlines() if "-shared" in line]
        assert len(compiles) == 1

    def test_different_flags_rebuild(self, tmp_path):
        src = "int mode(void) {\n#ifdef BIG\nreturn 2;\n#else\nreturn 1;\n#endif\n}"
        a = ffikit.build(src, name="mode", cache_dir=tmp_path)
        b = ffikit.build(src, name="mode", flags=["-DBIG"], cache_dir=tmp_path)
        assert a != b
        assert ctypes.CDLL(a).mode() == 1 and ctypes.CDLL(b).mode() == 2

    def test_cflags_and_ldflags_from_the_environment(self, tmp_path, monkeypatch):
        src = "int level(void) {\n#if defined(LEVEL)\nreturn LEVEL;\n#else\nreturn 0;\n#endif\n}"
        monkeypatch.setenv("CFLAGS", "-DLEVEL=1 -DUNUSED")
        from_env = ffikit.build(src, name="level", cache_dir=tmp_path)
        assert ctypes.CDLL(from_env).level() == 1
        later_wins = ffikit.build(src, name="level", flags=["-ULEVEL", "-DLEVEL=2"], cache_dir=tmp_path)
        assert ctypes.CDLL(later_wins).level() == 2  # flags= come after $CFLAGS
        monkeypatch.setenv("LDFLAGS", "-Wl,--no-such-linker-option")
        with pytest.raises(ffikit.CompileError, match="no-such-linker-option"):
            ffikit.build(src, name="level", cache_dir=tmp_path)  # a new key: LDFLAGS is in it
        monkeypatch.delenv("CFLAGS")
        monkeypatch.delenv("LDFLAGS")
        assert ctypes.CDLL(ffikit.build(src, name="level", cache_dir=tmp_path)).level() == 0

    def test_files_include_dirs_and_libraries(self, tmp_path):
        inc = tmp_path / "inc"
        inc.mkdir()
        (inc / "k.h").write_text("#define K 3.0\n")
        c_file = tmp_path / "root.c"
        c_file.write_text('#include <math.h>\n#include "k.h"\ndouble root(void) { return sqrt(K * K); }\n')
        path = ffikit.build([c_file], name="root", include_dirs=[inc], libraries=["m"],
                            cache_dir=tmp_path / "cache")
        fn = ctypes.CDLL(path).root
        fn.restype = ctypes.c_double
        assert fn() == 3.0

    def test_compile_error_carries_stderr(self, tmp_path):
        with pytest.raises(ffikit.CompileError) as info:
            ffikit.build("int broken(void) { return undeclared_thing; }", name="broken",
                         cache_dir=tmp_path)
        assert "undeclared_thing" in info.value.stderr
        assert "undeclared_thing" in str(info.value)
        assert "broken" in str(info.value)

    def test_missing_compiler_is_a_compile_error(self, tmp_path, monkeypatch):
        monkeypatch.setenv("CC", "no-such-compiler-ffikit")
        with pytest.raises(ffikit.CompileError, match="not found on PATH"):
            ffikit.build("int x;", name="nocc", cache_dir=tmp_path)

    def test_missing_source_file(self, tmp_path):
        with pytest.raises(FileNotFoundError, match="nothere.c"):
            ffikit.build(str(tmp_path / "nothere.c"), cache_dir=tmp_path)


class TestCacheKey:
    def test_editing_an_included_header_rebuilds(self, tmp_path):
        (tmp_path / "value.h").write_text("#define VALUE 1\n")
        src = tmp_path / "v.c"
        src.write_text('#include "value.h"\nint value(void) { return VALUE; }\n')
        first = ffikit.build([src], name="value", cache_dir=tmp_path / "cache")
        (tmp_path / "value.h").write_text("#define VALUE 2\n")
        second = ffikit.build([src], name="value", cache_dir=tmp_path / "cache")
        assert first != second
        assert ctypes.CDLL(second).value() == 2


def test_progress_line_only_on_a_terminal(tmp_path):
    """Compiling shows a progress line on a terminal's stderr, erased when done."""
    import os
    import pty
    import subprocess
    import sys

    code = ("import ffikit; ffikit.build('int four(void) { return 4; }', name='tty_progress', "
            f"cache_dir={str(tmp_path)!r})")
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-c", code], stderr=follower,
                              stdout=subprocess.PIPE, timeout=120)
        os.close(follower)
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closed
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(leader)
    assert proc.returncode == 0
    assert b"ffikit: compiling tty_progress ..." in seen and seen.endswith(b"\r\x1b[K")
