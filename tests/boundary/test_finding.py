"""Where relative library paths are resolved from, and the hint that fits the failure."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig

from ffikit.boundary.finding import _not_a_caller, caller_dir, hint_for
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
