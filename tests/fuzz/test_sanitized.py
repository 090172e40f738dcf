"""The compiled backend's runtime under AddressSanitizer and UndefinedBehaviorSanitizer.

``make fuzz`` (which sets ``FFIKIT_FUZZ_EXAMPLES``) runs the cross-backend
refusal tests -- every fact, result kind and policy, both backends -- in a child
interpreter whose C compiler adds ``-fsanitize=address,undefined`` (aborting on
the first report), with ASan's runtime preloaded, and a fresh build cache: every
generated module and test library is built sanitized.  The ordinary suite
skips it (compiling with ASan is slow); it compiles the runtime with
``-Wall -Wextra -Werror`` instead (tests/backends/compiled/test_runtime.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import fuzzscale
from ffikit.backends.compiled import available

ROOT = Path(__file__).resolve().parents[2]


def _asan_runtime() -> str | None:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        return None
    found = subprocess.run([cc, "-print-file-name=libasan.so"], capture_output=True, text=True).stdout.strip()
    return found if os.path.isabs(found) and os.path.exists(found) else None


@pytest.mark.fuzz
@pytest.mark.skipif(not fuzzscale.fuzzing(), reason="make fuzz runs it (slow)")
@pytest.mark.skipif(not available()[0], reason="compiled backend unavailable")
def test_refusal_tests_pass_under_sanitizers(tmp_path):
    asan = _asan_runtime()
    if asan is None:
        pytest.skip("no AddressSanitizer runtime (libasan.so) for this compiler")
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    env = dict(os.environ, CC="cc -fsanitize=address,undefined -fno-sanitize-recover=all",
               LD_PRELOAD=asan, ASAN_OPTIONS="detect_leaks=0", FFIKIT_CACHE_DIR=str(cache))
    env.pop("FFIKIT_BACKEND", None)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-o", "addopts=", "-q", "-p", "no:randomly",
                           "-p", "no:cacheprovider",
                           str(ROOT / "tests/backends/compiled/test_refusals.py")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert " passed" in proc.stdout and " failed" not in proc.stdout
    assert "AddressSanitizer" not in proc.stderr and "runtime error" not in proc.stderr
