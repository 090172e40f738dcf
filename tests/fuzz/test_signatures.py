"""Differential fuzz of random signatures against C that echoes its arguments, on both backends.

``signatures_child.py`` builds modules of random functions (every integer
size, floats, ``long double``, ``__int128``, structs and unions by value with
arrays and nested unions, up to 11 parameters so registers run out at every
position), calls each with random values on both backends and compares what
C saw, argument by argument, and the result.  Every call must agree or be
refused with an ffikit error: 0 wrong.  The suite runs 2 modules of 40
signatures; ``make fuzz`` (which sets ``FFIKIT_FUZZ_EXAMPLES``) runs 3 of 250;
``FFIKIT_SIGFUZZ_SIGNATURES`` sets the number per module.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import fuzzscale

HERE = Path(__file__).resolve().parent


@pytest.mark.fuzz
def test_random_signatures_agree_with_c_or_are_refused(build_cache):
    full = fuzzscale.fuzzing()
    signatures = int(os.environ.get("FFIKIT_SIGFUZZ_SIGNATURES", 250 if full else 40))
    modules = 3 if full else 2
    seed = os.environ.get("FFIKIT_FUZZ_SEED", "20261207")
    result = subprocess.run(
        [sys.executable, "-X", "faulthandler", str(HERE / "signatures_child.py"), str(modules),
         str(signatures), seed],
        capture_output=True, text=True, timeout=1800, env={**os.environ, "FFIKIT_CACHE_DIR": build_cache},
    )
    if result.returncode < 0:
        pytest.fail(f"signature fuzz died of {signal.Signals(-result.returncode).name}:\n"
                    f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    assert result.returncode == 0, result.stderr[-6000:]
    found = re.search(r"SIGFUZZ signatures=(\d+) vectors=(\d+) agreements=(\d+) refusals=(\d+) "
                      r"wrong=(\d+)", result.stdout)
    assert found, result.stdout[-3000:]
    print(found.group(0))  # the counts, for the record (pytest -s)
    counts = [int(x) for x in found.groups()]
    assert counts[0] == modules * signatures
    assert counts[4] == 0, result.stdout[-6000:]
    assert counts[1] == counts[2] + counts[3] > 0
    assert counts[2] > counts[1] // 2  # most calls run: refusals are the exception
