"""``ffikit doctor``'s engine: candidates, ELF facts and dependency resolution."""

from __future__ import annotations

import shutil

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
