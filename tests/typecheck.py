"""Run mypy on a user program, as a user of the installed (or checked-out) ffikit would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import ffikit

SRC = Path(ffikit.__file__).resolve().parents[1]


def run_mypy(program: Path) -> subprocess.CompletedProcess:
    """mypy on ``program`` (no cache), seeing this ffikit; stdout holds its report."""
    env = {**os.environ}
    if "site-packages" not in str(SRC):  # a source checkout: mypy does not follow editable hooks
        env["MYPYPATH"] = str(SRC)
    return subprocess.run([sys.executable, "-m", "mypy", "--no-incremental", "--cache-dir", os.devnull,
                           "--python-executable", sys.executable, str(program)],
                          capture_output=True, text=True, env=env, cwd=program.parent, timeout=600)
