"""LZ4 as its examples show it (simple_buffer.c): compress into LZ4_compressBound bytes,
decompress safely, and a corrupted block reported as a negative result."""

from __future__ import annotations

import pytest

import ffikit
from corpus_helpers import require

# lib.CONSTANT (cffi's lib.X for #define and enum constants): not merged into main yet

DATA = b"LZ4 is a fast compression algorithm. " * 300


@pytest.fixture(scope="module")
def lz4(backend):
    require("liblz4-dev", "lz4.h")
    # LZ4 passes binary data as 'const char *': say which length bounds each buffer, or
    # ffikit takes them for C strings (and refuses compressed bytes that contain NUL)
    return ffikit.load("lz4", ffikit.include("lz4.h"), sizes={
        "LZ4_compress_default": {"src": "srcSize", "dst": "dstCapacity"},
        "LZ4_decompress_safe": {"src": "compressedSize", "dst": "dstCapacity"}})


def _compress(lz4, data: bytes) -> bytes:
    bound = lz4.LZ4_compressBound(len(data))
    packed = bytearray(bound)
    size = lz4.LZ4_compress_default(data, packed, len(data), bound)
    assert 0 < size < len(data)
    return bytes(packed[:size])


def test_round_trip(lz4):
    packed = _compress(lz4, DATA)
    out = bytearray(len(DATA))
    assert lz4.LZ4_decompress_safe(packed, out, len(packed), len(out)) == len(DATA)
    assert out == DATA


def test_bound_matches_the_macro(lz4):
    """LZ4_COMPRESSBOUND(isize) is a function-like macro; the function gives the same."""
    n = 1000
    assert lz4.LZ4_compressBound(n) == n + n // 255 + 16
    assert lz4.LZ4_compressBound(lz4.LZ4_MAX_INPUT_SIZE + 1) == 0


def test_corrupted_block_is_a_negative_result(lz4):
    packed = bytearray(_compress(lz4, DATA))
    packed[len(packed) // 2:] = bytes(len(packed) - len(packed) // 2)
    out = bytearray(len(DATA))
    assert lz4.LZ4_decompress_safe(packed, out, len(packed), len(out)) < 0


def test_destination_capacity_beyond_the_buffer_is_refused(lz4):
    """With the sizes given, a capacity larger than the buffer never reaches C."""
    packed = _compress(lz4, DATA)
    with pytest.raises(ffikit.BufferTooSmall, match="dstCapacity"):
        lz4.LZ4_decompress_safe(packed, bytearray(10), len(packed), len(DATA))


def test_version(lz4):
    assert lz4.LZ4_versionNumber() == lz4.LZ4_VERSION_NUMBER
    assert lz4.LZ4_versionString() == b"%d.%d.%d" % (
        lz4.LZ4_VERSION_MAJOR, lz4.LZ4_VERSION_MINOR, lz4.LZ4_VERSION_RELEASE)
