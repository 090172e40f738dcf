"""``ffikit doctor``'s engine: candidates, ELF facts and dependency resolution."""

from __future__ import annotations

import shutil

import pytest

from ffikit.backends.compiled import available
from ffikit.tools.doctor import diagnose, resolve_dependency


class TestResolveDependency:
    def test_ld_library_path_first(self, tmp_path, monkeypatch, cbuild):
        shutil.copy(cbuild("int v(void){return 1;}", name="resdep"), tmp_path / "libresdep.so")
        monkeypatch.setenv("LD_LIBRARY_PATH", str(tmp_path))
        assert resolve_dependency("libresdep.so", None) == str(tmp_path / "libresdep.so")

    def test_origin_directory(self, tmp_path, monkeypatch, cbuild):
        shutil.copy(cbuild("int v(void){return 1;}", name="resdep"), tmp_path / "libresdep.so")
        monkeypatch.delenv("LD_LIBRARY_PATH", raising=False)
        assert resolve_dependency("libresdep.so", str(tmp_path)) == str(tmp_path / "libresdep.so")

    def test_system_cache(self):
        assert resolve_dependency("libc.so.6", None).endswith("libc.so.6")

    def test_missing(self, monkeypatch):
        monkeypatch.delenv("LD_LIBRARY_PATH", raising=False)
        assert resolve_dependency("libffikit_nothing_here.so.9", None) is None


class TestDiagnose:
    def test_loadable_library(self, cbuild):
        path = cbuild("int one(void){return 1;} int two(void){return 2;}", name="diag")
        d = diagnose(path)
        assert d.ok and d.chosen == path
        assert {"one", "two"} <= d.elf.exports
        assert "ok: ffikit.load can load it" in d.report()

    def test_says_which_backend_and_why(self, cbuild, monkeypatch):
        path = cbuild("int one(void){return 1;}", name="diag")
        monkeypatch.setenv("FFIKIT_BACKEND", "ctypes")
        assert "backend: ctypes (FFIKIT_BACKEND='ctypes' asks for it)" in diagnose(path).report()
        monkeypatch.delenv("FFIKIT_BACKEND")
        backend = "compiled" if available()[0] else "ctypes"
        assert f"backend: {backend} (auto: " in diagnose(path).report()

    def test_not_a_library(self, tmp_path):
        bogus = tmp_path / "libbogus.so"
        bogus.write_text("not ELF")
        d = diagnose(str(bogus))
        assert not d.ok
        assert d.problem == "not a shared library (no ELF header)"
        assert "chosen: none: no candidate loaded" in d.report()


def _summary(report: str) -> str:
    """The lines after the candidate list: the verdict and what to do."""
    return "\n".join(line for line in report.splitlines()
                     if line.startswith(("problem:", "hint:", "ok:")))


class TestTheSummaryNamesTheRealCause:
    """Each failure is named in the summary line, not "no such file" from an earlier miss."""

    def _doctor(self, path: str, cwd) -> str:
        import os
        import subprocess
        import sys

        script = os.path.join(os.path.dirname(sys.executable), "ffikit")
        command = [script] if os.path.exists(script) else [sys.executable, "-m", "ffikit"]
        proc = subprocess.run([*command, "doctor", path], capture_output=True, text=True,
                              cwd=cwd, timeout=60)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        return proc.stdout

    def test_32_bit_library(self, tmp_path):
        import subprocess

        src = tmp_path / "f.c"
        src.write_text("int f(void) { return 1; }\n")
        try:  # -nostdlib: no 32-bit C library needed for a function that calls nothing
            subprocess.run(["gcc", "-m32", "-shared", "-fPIC", "-nostdlib", "-o",
                            str(tmp_path / "lib32.so"), str(src)], check=True,
                           capture_output=True, timeout=60)
        except (OSError, subprocess.CalledProcessError) as exc:
            pytest.skip(f"gcc -m32 cannot build a 32-bit library here: {exc}")
        out = self._doctor("./lib32.so", tmp_path)
        assert "problem: wrong architecture: 32-bit library, 64-bit Python" in _summary(out)
        assert "hint: rebuild the library for this Python (64-bit" in out

    def test_not_elf(self, tmp_path):
        (tmp_path / "libtext.so").write_text("hello\n")
        out = self._doctor("./libtext.so", tmp_path)
        assert "problem: not a shared library (no ELF header)" in _summary(out)

    def test_object_file(self, tmp_path):
        import subprocess

        (tmp_path / "f.c").write_text("int f(void) { return 1; }\n")
        subprocess.run(["cc", "-c", "-fPIC", "-o", str(tmp_path / "f.o"), str(tmp_path / "f.c")],
                       check=True, timeout=60)
        out = self._doctor("./f.o", tmp_path)
        assert "problem: an object file (ELF relocatable), not a shared library" in _summary(out)
        assert "cc -shared -fPIC" in out

    def test_missing_dependency(self, tmp_path, cbuild):
        dep = cbuild("int dep2(void) { return 1; }", name="ffkdep2")
        shutil.copy(dep, tmp_path / "libffkdep2.so")
        top = cbuild("int dep2(void); int top2(void) { return dep2(); }", name="ffktop2",
                     flags=["-Wl,--no-as-needed", f"-L{tmp_path}", "-lffkdep2"])
        (tmp_path / "libffkdep2.so").unlink()
        shutil.copy(top, tmp_path / "libffktop2.so")
        out = self._doctor("./libffktop2.so", tmp_path)
        assert "problem: missing dependency libffkdep2.so" in _summary(out)

    def test_dot_slash_is_not_searched_beside_the_console_script(self, tmp_path):
        import sys

        out = self._doctor("./nothing_here.so", tmp_path)
        assert f"{tmp_path}/nothing_here.so: no such file" in out
        assert sys.prefix not in out.split("chosen:")[0]  # not .venv/bin/nothing_here.so


def test_doctor_says_whether_the_cache_is_trusted(cbuild, tmp_path, monkeypatch):
    path = cbuild("int one(void) { return 1; }", name="doctor_cache")
    mine = tmp_path / "mine"
    mine.mkdir(mode=0o700)
    monkeypatch.setenv("FFIKIT_CACHE_DIR", str(mine))
    assert f"cache: {mine} (yours and private" in diagnose(path).report()
    mine.chmod(0o777)
    report = diagnose(path).report()
    assert f"cache: {mine}: NOT USED" in report and "writable by others" in report
