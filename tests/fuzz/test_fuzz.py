"""Crash-free fuzzing: random C text, random values at every parameter kind, random views.

Each target runs in its own interpreter (``fuzz_targets.py``), so a signal
death fails the test with the example that caused it instead of killing the
run.  Pass condition: the child exits normally, and no exception other than an
``ffikit.FFIError`` left ffikit's code (hypothesis shrinks and prints any other).

The suite runs a small number of examples per target (about a minute in all);
``make fuzz`` runs many more: ``FFIKIT_FUZZ_EXAMPLES`` sets the count per
target and ``FFIKIT_FUZZ_SEED`` the seed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import fuzzscale
from fuzz.fuzz_targets import FUZZ_C

HERE = Path(__file__).resolve().parent
# examples per target in the ordinary suite: about a minute of CI time in all
DEFAULT_EXAMPLES = {"cdef": 500, "calls": 1000, "views": 500}


@pytest.fixture(scope="module")
def fuzz_lib(cbuild):
    return cbuild(FUZZ_C, name="fuzzlib")


@pytest.mark.fuzz
@pytest.mark.parametrize("target", sorted(DEFAULT_EXAMPLES))
def test_no_crash_and_only_ffi_errors(target, fuzz_lib, tmp_path):
    examples = fuzzscale.examples(DEFAULT_EXAMPLES[target])
    seed = os.environ.get("FFIKIT_FUZZ_SEED", "20261124")
    last = tmp_path / "last_example.txt"
    result = subprocess.run(
        [sys.executable, "-X", "faulthandler", str(HERE / "fuzz_targets.py"), target,
         str(examples), seed, str(last), fuzz_lib],
        capture_output=True, text=True, timeout=max(600, examples),
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), str(HERE.parent)])},
    )
    if result.returncode < 0:
        name = signal.Signals(-result.returncode).name
        pytest.fail(f"fuzz target {target!r} died of {name}; last example:\n"
                    f"{last.read_text() if last.exists() else '?'}\n{result.stderr[-3000:]}")
    assert result.returncode == 0, result.stderr[-6000:]
    assert f"FUZZ OK {target}" in result.stdout
