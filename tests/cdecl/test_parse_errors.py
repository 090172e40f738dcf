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


def test_huge_string_literal_is_refused_in_bounded_memory():
    """pycparser needs ~800 bytes per character of a literal: 10 MB is refused, at its line."""
    import subprocess
    import sys

    code = ("import ffikit, resource\n"
            "text = 'int a;\\nstatic const char S[] = \"' + 'a' * 10_000_000 + '\";'\n"
            "try:\n    ffikit.cdef(text)\nexcept ffikit.DeclarationError as exc:\n"
            "    print(str(exc).splitlines()[0])\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    message, rss_mb = proc.stdout.splitlines()
    assert message.startswith("<cdef>:2: a string literal longer than 65536 characters")
    assert int(rss_mb) < 400  # the child's own peak (was 7.9 GB)


def test_syntax_error_after_a_typedef_is_at_its_own_line():
    with pytest.raises(DeclarationError) as info:
        ffikit.cdef("typedef int T;\nT a;\nint b c;\n")
    assert (info.value.line, info.value.column) == (3, 7)
    assert "syntax error before 'c'" in str(info.value) and "';'" in str(info.value)


def test_line_markers_set_error_positions():
    with pytest.raises(DeclarationError) as info:
        ffikit.cdef('#line 10 "x.h"\nint f(int);\nint b c;\n')
    assert (info.value.filename, info.value.line) == ("x.h", 11)
