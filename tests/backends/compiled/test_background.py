"""background: under auto no call waits on a compiler; functions switch to compiled wrappers when built."""

from __future__ import annotations

import json
import os
import stat
import textwrap
import time
from pathlib import Path

import pytest

import ffikit
from compiled_helpers import C, H
from crashproof import run_isolated
from ffikit import cachedir
from ffikit.backends.compiled import available

pytestmark = pytest.mark.skipif(not available()[0], reason="compiled backend unavailable")


@pytest.fixture
def probe(cbuild):
    return cbuild(C, name="compiled_probe")


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    monkeypatch.setenv("FFIKIT_CACHE_DIR", str(cache))
    return cache


def _slow_compiler(tmp_path: Path, seconds: float) -> tuple[str, Path]:
    """A $CC that sleeps, then compiles, then leaves a mark that it finished."""
    done = tmp_path / "compiler-finished"
    wrapper = tmp_path / "slow-cc"
    wrapper.write_text(f'#!/bin/sh\nsleep {seconds}\ncc "$@" && touch {done}\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    return str(wrapper), done


def test_usable_at_once_then_the_same_object_switches(probe, private_cache):
    lib = ffikit.load(probe, H, backend="auto")
    add = lib.add
    assert add(2, 3) == 5
    assert add.backend == "ctypes" and "background" in add.backend_reason
    assert lib.wait_compiled(120)
    assert add.backend == "compiled" and type(add.func).__name__ == "CompiledFunction"
    assert type(lib.add).__name__ == "CompiledFunction" and lib.add.backend == "compiled"
    assert add(2, 3) == lib.add(2, 3) == 5  # the same answers before and after
    with pytest.raises(ffikit.ArgumentError) as before:
        ffikit.load(probe, H, backend="ctypes").add(2**40, 1)
    with pytest.raises(ffikit.ArgumentError) as after:
        add(2**40, 1)
    assert str(before.value) == str(after.value)


def test_only_the_functions_used_are_compiled(probe, private_cache):
    lib = ffikit.load(probe, H + "\nint not_shared_with_other_tests(void);", backend="auto")
    assert lib.twice(1.5) == 3.0 and lib.length(b"abcd") == 4
    assert lib.wait_compiled(120)
    compiled = lib._compiled
    built = {shape for shape in compiled._where}
    assert built == {compiled.shape("twice"), compiled.shape("length")}
    assert len(compiled._shapes) > len(built)  # the rest were never built
    (module,) = [Path(p) for p in cachedir.entries(private_cache)
                 if os.path.basename(p).startswith("libffikit_c_")]
    assert module.stat().st_size > 0


def test_a_policy_set_before_the_switch_is_kept(probe, private_cache):
    seen = []

    def policy(result, func, args):
        seen.append(result)
        return result * 10

    lib = ffikit.load(probe, H, backend="auto")
    add = lib.add
    add.errors = policy
    assert add(1, 2) == 30
    assert lib.wait_compiled(120) and add.backend == "compiled"
    assert add(1, 2) == 30 and seen == [3, 3]


def test_a_failed_build_logs_once_and_stays_on_ctypes(probe, private_cache, monkeypatch, caplog):
    monkeypatch.setenv("CC", "cc -include ffikit-no-such-header.h")
    lib = ffikit.load(probe, H + "\nint failing_build_only(void);", backend="auto")
    with caplog.at_level("WARNING", logger="ffikit.backends.compiled"):
        assert lib.i8(5) == 5 and lib.u8(7) == 7
        assert lib.wait_compiled(120)
        assert lib.u32(9) == 9  # bound after the failure: ctypes at once, no second build
        assert lib.wait_compiled(120)
    failures = [r for r in caplog.records if "failed" in r.getMessage()]
    assert len(failures) == 1 and "ffikit-no-such-header" in failures[0].getMessage()
    assert lib.backend == "ctypes" and "failed" in lib.backend_reason
    assert lib.i8.backend == "ctypes" and "ffikit-no-such-header" in lib.i8.backend_reason
    assert lib.u32.backend == "ctypes" and "failed" in lib.u32.backend_reason


def test_synchronous_builds_for_measuring(probe, private_cache, monkeypatch):
    monkeypatch.setenv("FFIKIT_BUILD", "sync")
    lib = ffikit.load(probe, H, backend="auto")
    assert type(lib.half).__name__ == "CompiledFunction" and lib.half(3.0) == 1.5


def test_functions_the_compiled_backend_leaves_say_why(probe, private_cache):
    lib = ffikit.load(probe, H, backend="auto")
    assert lib.count.backend == "ctypes" and "variadic" in lib.count.backend_reason


def _only_the_usage_record(cache: Path) -> list[str]:
    """The names in the cache's one entry besides the declarations' model, which must be a
    whole, verified usage record."""
    found = sorted(n for n in os.listdir(cache) if not n.startswith("model-"))
    assert len(found) == 2 and found[0].startswith("uses-") and found[1] == found[0] + ".sha256", found
    assert cachedir.verified(cache / found[0])
    return json.loads((cache / found[0]).read_text())["names"]


def test_compiled_keeps_compiling_before_returning(probe, private_cache):
    lib = ffikit.load(probe, H, backend="compiled")
    assert type(lib.add).__name__ == "CompiledFunction" and lib.add.backend == "compiled"


def test_exit_during_a_background_build_leaves_nothing_behind(probe, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    tmp = tmp_path / "tmp"
    tmp.mkdir(mode=0o700)
    cc, finished = _slow_compiler(tmp_path, 3)
    result = run_isolated(f"""
        import ffikit
        lib = ffikit.load({probe!r}, {H!r}, backend="auto")
        print(lib.add(2, 3), lib.twice(2.0))
    """, FFIKIT_CACHE_DIR=str(cache), TMPDIR=str(tmp), CC=cc)
    assert result.returncode == 0 and result.stdout.split() == ["5", "4.0"]
    assert result.stderr == ""  # no traceback, no log at shutdown
    time.sleep(4)  # longer than the compiler would have taken, had it survived
    assert not finished.exists()  # the compiler was killed at exit, not waited for
    assert os.listdir(tmp) == []  # its temporary directory removed
    assert _only_the_usage_record(cache) == ["add", "twice"]  # nothing half-written in the cache


def test_a_build_finishing_after_exit_began_is_not_published(probe, tmp_path):
    """Exit while the builder thread sleeps in its batching window: nothing is built."""
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    result = run_isolated(textwrap.dedent(f"""
        import ffikit
        lib = ffikit.load({probe!r}, {H!r}, backend="auto")
        print(lib.add(2, 3))
    """), FFIKIT_CACHE_DIR=str(cache), FFIKIT_BUILD_WINDOW_MS="500")
    assert result.returncode == 0 and result.stdout.split() == ["5"] and result.stderr == ""
    assert _only_the_usage_record(cache) == ["add"]  # no module: only what was used, whole


USE = """
import ffikit
lib = ffikit.load({probe!r}, {decls!r}, backend="auto")
print(lib.add(2, 3), lib.twice(2.0), type(lib.add).__name__, lib.add.backend)
lib.wait_compiled(120)
"""


def test_a_later_process_starts_on_the_module_its_predecessor_built(probe, tmp_path):
    """The functions a program used are recorded; the next run imports their module at the
    first bind (no compiler, no ctypes detour)."""
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    cc, log = tmp_path / "logging-cc", tmp_path / "cc.log"
    cc.write_text(f'#!/bin/sh\necho "$@" >> {log}\nexec cc "$@"\n')
    cc.chmod(0o755)
    code = textwrap.dedent(USE.format(probe=probe, decls=H + "\nint recorded_usage_only(void);"))
    env = {"FFIKIT_CACHE_DIR": str(cache), "CC": str(cc)}
    first = run_isolated(code, **env)
    assert first.returncode == 0 and first.stdout.split() == ["5", "4.0", "BoundFunction", "ctypes"]
    compiles = log.read_text().count("-shared")
    assert compiles == 1  # one background build, with the functions used
    second = run_isolated(code, **env)
    assert second.returncode == 0, second.stderr
    assert second.stdout.split() == ["5", "4.0", "CompiledFunction", "compiled"]
    assert log.read_text().count("-shared") == compiles  # nothing compiled the second time


def test_sizes_given_to_load_switch_too_and_still_refuse(cbuild, private_cache):
    """sizes= relations are checked in C as well: under auto they compile in the background."""
    import numpy as np

    path = cbuild("double total(const double *p, unsigned long n) { double s = 0; "
                  "for (unsigned long i = 0; i < n; i++) s += p[i]; return s; }", name="sized_auto")
    decl = "double total(const double *p, unsigned long n);"
    lib = ffikit.load(path, decl, sizes={"total": {"p": "n"}}, backend="auto")
    total = lib.total
    a = np.arange(4.0)
    with pytest.raises(ffikit.BufferTooSmall) as before:
        total(a, 5)
    assert lib.wait_compiled(120) and total.backend == "compiled", total.backend_reason
    assert total(a, 4) == 6.0
    with pytest.raises(ffikit.BufferTooSmall) as after:
        total(a, 5)
    assert str(before.value) == str(after.value) and "sizes= given to load" in str(after.value)
