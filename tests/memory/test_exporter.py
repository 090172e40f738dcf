"""What type checkers see of Exporter, the buffer type built at import: a buffer, nothing more."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import ffikit
from ffikit.memory.exporter import Exporter, release

SRC = Path(ffikit.__file__).resolve().parents[1]

USER_PROGRAM = """\
import ffikit
m = ffikit.alloc("double", 3)
view = memoryview(m)
reveal_type(m.address)
m.adress
"""


def test_forwards_exports_to_its_target():
    target = bytearray(b"abc")
    exporter = Exporter(target)
    with memoryview(exporter) as view:
        view[0] = ord("x")
        with pytest.raises(BufferError):  # the bytearray counts the export
            target.clear()
    assert target == b"xbc"
    release(exporter)
    with pytest.raises(ValueError):
        memoryview(exporter)


@pytest.mark.slow
def test_mypy_sees_memory_as_a_buffer_with_no_other_members(tmp_path):
    """Memory's base is typed: memoryview(m) checks, a misspelt member is an error."""
    pytest.importorskip("mypy")
    program = tmp_path / "user.py"
    program.write_text(USER_PROGRAM)
    env = {**os.environ}
    if "site-packages" not in str(SRC):  # a source checkout: mypy does not follow editable hooks
        env["MYPYPATH"] = str(SRC)
    result = subprocess.run([sys.executable, "-m", "mypy", "--no-incremental", "--cache-dir", os.devnull,
                             "--python-executable", sys.executable, str(program)],
                            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 1 and ':5: error: "Memory" has no attribute "adress"' in errors[0], \
        result.stdout
    assert 'Revealed type is "int"' in result.stdout
