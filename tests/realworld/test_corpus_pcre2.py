"""PCRE2 as its demo program (pcre2demo.c) shows it, 8-bit code units: compile with
PCRE2_ZERO_TERMINATED, match, read the ovector, and a compile error with its message."""

from __future__ import annotations

import pytest

import ffikit
from corpus_helpers import require


@pytest.fixture(scope="module")
def pcre2(backend):
    require("libpcre2-dev", "pcre2.h")
    defs = ffikit.include("pcre2.h", defines={"PCRE2_CODE_UNIT_WIDTH": "8"})
    return ffikit.load("pcre2-8", defs)


def _compile(pcre2, pattern: bytes):
    error, offset = pcre2.new("int"), pcre2.new("PCRE2_SIZE")
    code = pcre2.pcre2_compile(pattern, pcre2.PCRE2_ZERO_TERMINATED, 0, error, offset, None)
    if not code:
        message = bytearray(256)
        pcre2.pcre2_get_error_message(error.value, message, len(message))
        raise SyntaxError(f"{ffikit.string(message).decode()} at offset {offset.value}")
    return code


def test_match_and_groups(pcre2):
    code = _compile(pcre2, rb"(\d{4})-(\d{2})-(\d{2})")
    match = pcre2.pcre2_match_data_create_from_pattern(code, None)
    try:
        subject = b"released on 2026-12-07, patched later"
        rc = pcre2.pcre2_match(code, subject, len(subject), 0, 0, match, None)
        assert rc == 4  # the whole match and three groups
        ovector = pcre2.pcre2_get_ovector_pointer(match)
        groups = [subject[ovector[2 * i]:ovector[2 * i + 1]] for i in range(rc)]
        assert groups == [b"2026-12-07", b"2026", b"12", b"07"]
        assert pcre2.pcre2_match(code, b"no date", 7, 0, 0, match, None) == \
            pcre2.PCRE2_ERROR_NOMATCH
    finally:
        pcre2.pcre2_match_data_free(match)
        pcre2.pcre2_code_free(code)


def test_compile_error_with_its_message(pcre2):
    with pytest.raises(SyntaxError, match=r"missing closing parenthesis at offset 4"):
        _compile(pcre2, b"(abc")


def test_zero_terminated_is_size_t_max(pcre2):
    """'#define PCRE2_ZERO_TERMINATED (~(PCRE2_SIZE)0)', PCRE2_SIZE a macro for size_t."""
    bits = 8 * pcre2.defs.sizeof("PCRE2_SIZE")
    assert bits == 8 * pcre2.defs.sizeof("size_t")
    assert pcre2.PCRE2_ZERO_TERMINATED == 2**bits - 1
