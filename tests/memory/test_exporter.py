"""What type checkers see of Exporter, the buffer type built at import: a buffer, nothing more."""

from __future__ import annotations

import pytest

from ffikit.memory.exporter import Exporter, release
from typecheck import mypy_on

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
    report = mypy_on(USER_PROGRAM, tmp_path)
    assert len(report.errors) == 1 and ':5: error: "Memory" has no attribute "adress"' in \
        report.errors[0], report.stdout
    assert 'Revealed type is "int"' in report.stdout
