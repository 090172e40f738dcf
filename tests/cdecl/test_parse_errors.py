"""Parse errors point at the user's own line, with a hint where one helps."""

from __future__ import annotations

import pytest

import ffikit
from ffikit import DeclarationError
from ffikit.cdecl.parse_errors import source_line


def test_source_line_from_text_and_disk(tmp_path):
    assert source_line({"<cdef>": "a\nb\nc"}, "<cdef>", 2) == "b"
    assert source_line({}, "<cdef>", 1) is None
    header = tmp_path / "x.h"
    header.write_text("int x;\nint y;\n")
    assert source_line({}, str(header), 2) == "int y;"


def test_unknown_type_is_named_with_its_position():
    with pytest.raises(DeclarationError) as e:
        ffikit.cdef("int ok;\nfoo_t bad(int);")
    assert e.value.line == 2 and "unknown type name 'foo_t'" in str(e.value)


def test_cplusplus_is_recognised():
    with pytest.raises(DeclarationError, match="looks like C\\+\\+"):
        ffikit.cdef("class X { public: int a; };")
