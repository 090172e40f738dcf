"""Where relative library paths are resolved from, and the hint that fits the failure."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig

import pytest

from ffikit.boundary.finding import _not_a_caller, caller_dir, hint_for, ld_cache_soname
from ffikit.boundary.library import Candidate


def test_the_callers_file_is_this_test():
    assert caller_dir() == os.path.dirname(os.path.abspath(__file__))


def test_console_scripts_stdlib_and_ffikit_are_not_callers():
    assert _not_a_caller(os.path.join(sysconfig.get_path("scripts"), "ffikit"))
    assert _not_a_caller(os.path.join(sysconfig.get_path("stdlib"), "runpy.py"))
    assert _not_a_caller("<string>") and _not_a_caller("<frozen runpy>")
    assert not _not_a_caller(os.path.abspath(__file__))


def test_python_dash_c_resolves_against_the_working_directory(tmp_path):
    code = ("from ffikit.boundary.library import candidates\n"
            "print(candidates('./libnothing.so')[0].path)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path, timeout=60).stdout.strip()
    assert out == str(tmp_path / "libnothing.so")


def test_the_hint_follows_the_most_telling_reason():
    miss = Candidate("/a/libx.so", reason="no such file")
    system = Candidate("libx.so", reason="not found by the system loader (...)", system=True)
    dep = Candidate("/b/libx.so", reason="missing dependency libdep.so.1 (the loader ...)")
    arch = Candidate("/c/libx.so", reason="wrong architecture: 32-bit library, 64-bit Python")
    assert hint_for([miss, system]).startswith("pass an absolute path")
    assert hint_for([miss, dep, system]).startswith("install libdep.so.1, or put its directory")
    assert hint_for([miss, arch]).startswith("rebuild the library for this Python")
    assert hint_for([Candidate("/d", reason="is a directory")]).startswith("pass the library file")


LD_CACHE = "/etc/ld.so.cache"
reads_ld_cache = pytest.mark.skipif(
    not (sys.platform.startswith("linux") and os.uname().machine == "x86_64"
         and os.path.exists(LD_CACHE) and open(LD_CACHE, "rb").read(20) == b"glibc-ld.so.cache1.1"),
    reason="reads glibc's x86-64 loader cache")


@reads_ld_cache
def test_the_loader_cache_answers_as_ldconfig_does():
    """Every library ldconfig lists: the soname read from the cache file is ctypes' answer."""
    import ctypes.util
    import re

    listing = subprocess.run(["/sbin/ldconfig", "-p"], capture_output=True, text=True,
                             env={**os.environ, "LC_ALL": "C"}, timeout=60).stdout
    names = sorted(set(re.findall(r"^\s+lib([^\s]+?)\.so", listing, re.M)))
    assert len(names) > 20
    for name in [*names, "z", "m", "c", "no_such_library_here"]:
        found = ld_cache_soname(name)
        assert found == ctypes.util.find_library(name) or found is None, name
    assert ld_cache_soname("z") == ctypes.util.find_library("z") is not None
    assert ld_cache_soname("no_such_library_here") is None


@reads_ld_cache
def test_a_damaged_or_foreign_loader_cache_is_not_trusted(tmp_path):
    data = open(LD_CACHE, "rb").read()
    assert ld_cache_soname("c", LD_CACHE) is not None
    cases = {
        "truncated": data[:200],
        "header only": data[:48],
        "old format": b"ld.so-1.7.0" + data[11:],
        "count too big": data[:20] + (10**6).to_bytes(4, "little") + data[24:],
        "empty": b"",
    }
    for what, content in cases.items():
        path = tmp_path / what.replace(" ", "_")
        path.write_bytes(content)
        assert ld_cache_soname("c", str(path)) is None, what
    assert ld_cache_soname("c", str(tmp_path / "missing")) is None


@reads_ld_cache
def test_only_x86_64_libc6_entries_count(tmp_path):
    """A cache holding only another ABI's entry (libc6, 32-bit) gives no answer."""
    def entry(flags: int, key: int) -> bytes:
        return flags.to_bytes(4, "little") + key.to_bytes(4, "little") + bytes(16)

    strings = b"libfoo.so.2\0libfoo.so.1\0"
    table = 48 + 24 * 2
    header = b"glibc-ld.so.cache1.1" + (2).to_bytes(4, "little") + bytes(24)
    path = tmp_path / "ld.so.cache"
    path.write_bytes(header + entry(0x0003, table) + entry(0x0303, table + 12) + strings)
    assert ld_cache_soname("foo", str(path)) == "libfoo.so.1"
    path.write_bytes(header + entry(0x0003, table) + entry(0x0003, table + 12) + strings)
    assert ld_cache_soname("foo", str(path)) is None
    assert ld_cache_soname("fo", str(path)) is None  # 'libfo.' is not 'libfoo.'
