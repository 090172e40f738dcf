"""recorded: the first bind of a warm process uses what earlier processes recorded and indexed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crashproof import run_isolated
from ffikit.backends.compiled import available

pytestmark = pytest.mark.skipif(not available()[0], reason="compiled backend unavailable")

# sqlite3.h declares variadic functions: they stay on ctypes, and the index says why
USE = """
import sys, ffikit
lib = ffikit.load("sqlite3", header="sqlite3.h")
print(lib.sqlite3_libversion_number() > 3000000, lib.sqlite3_complete(b"select 1;"))
print(lib.sqlite3_complete.backend, "ffikit.backends.compiled.cgen" in sys.modules)
{more}
lib.wait_compiled(120)
"""
VARIADIC = ('print(lib.sqlite3_mprintf.backend, lib.sqlite3_mprintf.backend_reason, '
            '"ffikit.backends.compiled.cgen" in sys.modules)')


@pytest.fixture
def cache(tmp_path):
    directory = tmp_path / "cache"
    directory.mkdir(mode=0o700)
    return directory


def _run(cache: Path, more: str = "") -> list[str]:
    done = run_isolated(USE.format(more=more), timeout=300, FFIKIT_CACHE_DIR=str(cache),
                        FFIKIT_BACKEND="auto")
    assert done.returncode == 0, done.stderr
    return done.stdout.split("\n")


def test_a_module_found_by_generating_its_source_is_indexed_for_the_next_process(cache):
    assert _run(cache)[1] == "ctypes True"  # the first process: ctypes until built
    (entry,) = cache.glob("uses-*.mod.json")
    entry.unlink()  # a cache from before the index (or an entry evicted)
    assert _run(cache)[1] == "compiled True"  # found by generating the source, and indexed
    assert list(cache.glob("uses-*.mod.json"))
    assert _run(cache)[1] == "compiled False"


def test_why_a_function_stays_on_ctypes_is_indexed_at_exit(cache):
    _run(cache)
    _run(cache)
    lines = _run(cache, VARIADIC)  # a reason learnt after the index was written: written at exit
    assert lines[1] == "compiled False" and lines[2] == "ctypes variadic True"
    (entry,) = cache.glob("uses-*.mod.json")
    assert json.loads(entry.read_bytes())["reasons"]["sqlite3_mprintf"] == "variadic"
    lines = _run(cache, VARIADIC)
    assert lines[1] == "compiled False" and lines[2] == "ctypes variadic False"  # the same words
