"""usage: what a process used is recorded at exit, so the next one builds it before being asked."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

from compiled_helpers import C, H
from crashproof import run_isolated
from ffikit import cachedir
from ffikit.backends.compiled import available, usage
from ffikit.errors import UntrustedCache

pytestmark = pytest.mark.skipif(not available()[0], reason="compiled backend unavailable")


@pytest.fixture
def probe(cbuild):
    return cbuild(C, name="compiled_probe")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    directory = tmp_path / "cache"
    directory.mkdir(mode=0o700)
    monkeypatch.setenv("FFIKIT_CACHE_DIR", str(directory))
    return directory


def _compiler(tmp_path: Path, name: str, seconds: float = 0) -> tuple[str, Path]:
    """A $CC that logs each run (after sleeping ``seconds``), then compiles."""
    log = tmp_path / f"{name}.log"
    cc = tmp_path / name
    cc.write_text(f'#!/bin/sh\nsleep {seconds}\necho "$@" >> {log}\nexec cc "$@"\n')
    cc.chmod(0o755)
    return str(cc), log


def _builds(log: Path) -> int:
    return log.read_text().count("-shared") if log.exists() else 0


SHORT = """
import ffikit
lib = ffikit.load({probe!r}, {decls!r}, backend="auto")
print(lib.add(2, 3), lib.twice(2.0), lib.add.backend, lib.twice.backend)
"""

LATER = """
import time, ffikit
lib = ffikit.load({probe!r}, {decls!r}, backend="auto")
start = time.perf_counter()
print(lib.add(2, 3), type(lib.add).__name__)
print("first call took", time.perf_counter() - start)
assert lib.wait_compiled(120)
print(lib.twice(2.0), type(lib.twice).__name__, lib.twice.backend)
"""


def test_a_process_exiting_before_its_build_still_helps_the_next(probe, cache, tmp_path):
    """Process 1 exits while its compiler sleeps: its usage is recorded whole, nothing else.
    Process 2 builds what 1 used in the background from its first bind (twice() is compiled
    though only add() was called before waiting); process 3 compiles nothing."""
    slow, slow_log = _compiler(tmp_path, "slow-cc", 30)
    code = SHORT.format(probe=probe, decls=H)
    first = run_isolated(code, FFIKIT_CACHE_DIR=str(cache), CC=slow)
    assert first.returncode == 0 and first.stderr == "", first.stderr
    assert first.stdout.split() == ["5", "4.0", "ctypes", "ctypes"]
    assert _builds(slow_log) == 0  # killed while it slept
    records = [p for p in cache.iterdir() if p.name.startswith("uses-") and p.suffix == ".json"]
    assert len(records) == 1 and usage.read(records[0]) == ["add", "twice"]
    assert not [p for p in cache.iterdir() if p.name.startswith(("lib", ".")) or "partial" in p.name]

    cc, log = _compiler(tmp_path, "cc")
    later = LATER.format(probe=probe, decls=H)
    second = run_isolated(later, FFIKIT_CACHE_DIR=str(cache), CC=cc)
    assert second.returncode == 0, second.stderr
    lines = second.stdout.splitlines()
    assert lines[0] == "5 BoundFunction"  # on ctypes at once: nobody waits on the build
    assert lines[2] == "4.0 CompiledFunction compiled"  # built from the record, never requested
    assert _builds(log) == 1

    third = run_isolated(later, FFIKIT_CACHE_DIR=str(cache), CC=cc)
    assert third.returncode == 0, third.stderr
    assert third.stdout.splitlines()[0] == "5 CompiledFunction"
    assert _builds(log) == 1  # imported, not compiled


def test_a_process_using_nothing_writes_no_record(probe, cache):
    result = run_isolated(f"""
        import ffikit
        lib = ffikit.load({probe!r}, {H!r}, backend="auto")
        print(len(lib.defs.functions) > 0)
    """, FFIKIT_CACHE_DIR=str(cache))
    assert result.returncode == 0 and result.stdout.split() == ["True"]
    assert [n for n in os.listdir(cache) if not n.startswith("model-")] == []  # (the model: cached)


def test_records_round_trip_and_damaged_ones_read_as_empty(cache):
    path = Path(usage.usage_file(["b", "a"], "utf-8", create=True))
    assert str(path) == usage.usage_file(["a", "b"], "utf-8")  # the set of names, in any order
    assert str(path) != usage.usage_file(["a", "b"], "latin-1")
    assert usage.read(path) == []  # absent
    assert usage.write(path, ["a", "b"]) and usage.read(path) == ["a", "b"]
    data = path.read_bytes()
    path.write_bytes(data[:-3])  # truncated: its hash no longer matches
    assert usage.read(path) == []
    for foreign, names in ((b'{"names": "ab"}', []), (b'{"other": 1}', []), (b"[1, 2]", []),
                           (b"not json", []), (b'{"names": [1, "a", null]}', ["a"])):
        cachedir.publish(path, foreign)  # whole and verified, but not (only) a list of names
        assert usage.read(path) == names


def test_an_untrusted_cache_is_neither_read_nor_written(tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)  # anyone may write here: nothing in it is trusted
    monkeypatch.setenv("FFIKIT_CACHE_DIR", str(shared))
    with pytest.raises(UntrustedCache, match="writable by others"):
        usage.usage_file(["a"], "utf-8", create=True)


def test_exit_writes_each_pending_record_once(cache):
    result = run_isolated(textwrap.dedent("""
        from ffikit.backends.compiled import usage
        class Owner:
            calls = 0
            def record_usage(self):
                Owner.calls += 1
                print("recorded", Owner.calls, flush=True)
        owner = Owner()
        usage.remember(owner)
        usage.remember(owner)
    """), FFIKIT_CACHE_DIR=str(cache))
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.split() == ["recorded", "1"]


def test_a_failing_record_at_exit_shows_no_traceback(cache):
    result = run_isolated(textwrap.dedent("""
        from ffikit.backends.compiled import usage
        class Owner:
            def record_usage(self):
                raise OSError("disk full")
        owner = Owner()
        usage.remember(owner)
    """), FFIKIT_CACHE_DIR=str(cache))
    assert result.returncode == 0 and result.stderr == ""


def test_records_are_cache_entries(cache):
    path = usage.usage_file(["x"], "utf-8", create=True)
    usage.write(path, ["x"])
    assert path in cachedir.entries(cache)
    assert json.loads(Path(path).read_text()) == {"names": ["x"]}


def test_the_record_goes_to_the_cache_in_force_when_the_function_was_used(probe, cache, tmp_path):
    later = tmp_path / "later"
    later.mkdir(mode=0o700)
    result = run_isolated(f"""
        import os, ffikit
        lib = ffikit.load({probe!r}, {H!r}, backend="auto")
        print(lib.add(2, 3))
        os.environ["FFIKIT_CACHE_DIR"] = {str(later)!r}  # changed before exit
    """, FFIKIT_CACHE_DIR=str(cache), FFIKIT_BUILD_WINDOW_MS="60000")
    assert result.returncode == 0 and result.stdout.split() == ["5"], result.stderr
    assert os.listdir(later) == []
    (record,) = [p for p in cache.iterdir() if p.suffix == ".json"]
    assert usage.read(record) == ["add"]
