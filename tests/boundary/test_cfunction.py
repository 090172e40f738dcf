"""CFunction: what ``lib.name`` is to a type checker, defined where running code never loads it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ffikit.boundary.cfunction import CFunction
from typecheck import mypy_on

PROGRAM = """
import ffikit
from ffikit.boundary.cfunction import CFunction

lib = ffikit.load("c", "int abs(int);")
f: CFunction = lib.abs
f.errors = ffikit.check.negative
f.declaration = 3
reveal_type(f.declaration)
"""


@pytest.mark.slow
def test_a_type_checker_sees_a_bound_function_as_cfunction(tmp_path):
    report = mypy_on(PROGRAM, tmp_path)
    assert report.error_lines() == {8} and '"int"' in report.errors[0], report.stdout
    assert [r.strip('"').removeprefix("builtins.") for r in report.revealed] == ["str"], report.stdout


def test_bound_functions_have_its_shape_and_binding_does_not_load_it(cbuild):
    lib = ffikit_lib(cbuild)
    for attr in ("__name__", "declaration", "errors"):
        assert hasattr(lib.add, attr)
    assert CFunction.__module__ == "ffikit.boundary.cfunction"
    code = ("import sys, ffikit\nlib = ffikit.load('c', 'int abs(int);')\nassert lib.abs(-3) == 3\n"
            "print('ffikit.boundary.cfunction' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def ffikit_lib(cbuild):
    import ffikit

    return ffikit.load(cbuild("int add(int a, int b) { return a + b; }"), "int add(int a, int b);")
