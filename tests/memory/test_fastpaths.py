"""ffikit.view / ffikit.alloc name the C twins once built, the Python functions otherwise
(ffikit.memory.fastpaths); the C twins themselves are tested in tests/backends/compiled."""

from __future__ import annotations

from tests.crashproof import run_isolated

import ffikit
from ffikit.memory import fastpaths, owned, views


def test_the_public_names_are_the_chosen_functions():
    assert ffikit.view is fastpaths.view and ffikit.alloc is fastpaths.alloc
    for fast, python in ((fastpaths.view, views.view), (fastpaths.alloc, owned.alloc)):
        assert fast is python or type(fast).__name__ == "builtin_function_or_method"


def test_ffikit_fastmem_0_keeps_the_python_functions():
    proc = run_isolated("""
        import ffikit
        from ffikit.memory import owned, views
        assert ffikit.view is views.view and ffikit.alloc is owned.alloc
        print("OK")
    """, FFIKIT_FASTMEM="0")
    assert proc.stdout.strip() == "OK", proc.stderr
