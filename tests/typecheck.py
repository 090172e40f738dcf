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


class MypyReport:
    """What mypy said of a user program: its whole output, its error lines, its revealed types."""

    def __init__(self, stdout: str) -> None:
        self.stdout = stdout
        lines = stdout.splitlines()
        self.errors = [line for line in lines if ": error:" in line]
        self.revealed = [line.split("Revealed type is ")[1] for line in lines if "Revealed type" in line]

    def error_lines(self) -> set[int]:
        """The line numbers of the program that mypy reported errors on."""
        return {int(line.split(":")[1]) for line in self.errors}


def mypy_on(text: str, tmp_path: Path) -> MypyReport:
    """mypy on ``text`` as a user's ``user.py`` (the test is skipped without mypy)."""
    import pytest

    pytest.importorskip("mypy")
    program = tmp_path / "user.py"
    program.write_text(text)
    return MypyReport(run_mypy(program).stdout)
