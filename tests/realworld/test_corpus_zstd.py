"""zstd as its examples show it (simple_compression.c, streaming_compression.c): one-shot
round trip with the frame's content size, a compression context with parameters, the
streaming API's in/out buffer structs, and error codes with their names."""

from __future__ import annotations

import pytest

import ffikit
from corpus_helpers import require

# lib.CONSTANT (cffi's lib.X for #define and enum constants): not merged into main yet

DATA = b"".join(b"line %d: zstd through ffikit\n" % i for i in range(2000))


@pytest.fixture(scope="module")
def zstd(backend):
    require("libzstd-dev", "zstd.h")
    return ffikit.load("zstd", ffikit.include("zstd.h"))


def _check(zstd, code: int) -> int:
    if zstd.ZSTD_isError(code):
        raise RuntimeError(zstd.ZSTD_getErrorName(code).decode())
    return code


def test_simple_round_trip(zstd):
    packed = bytearray(zstd.ZSTD_compressBound(len(DATA)))
    size = _check(zstd, zstd.ZSTD_compress(packed, len(packed), DATA, len(DATA), 1))
    assert packed[:4] == b"\x28\xb5\x2f\xfd" and size < len(DATA) // 10  # the frame magic

    content = zstd.ZSTD_getFrameContentSize(packed, size)
    assert content not in (zstd.ZSTD_CONTENTSIZE_ERROR, zstd.ZSTD_CONTENTSIZE_UNKNOWN)
    assert content == len(DATA)
    out = bytearray(content)
    assert _check(zstd, zstd.ZSTD_decompress(out, len(out), packed, size)) == len(DATA)
    assert out == DATA


def test_contentsize_constants_are_c_values(zstd):
    """``#define ZSTD_CONTENTSIZE_ERROR (0ULL - 2)``: unsigned long long wrap-around."""
    assert zstd.ZSTD_CONTENTSIZE_UNKNOWN == 2**64 - 1
    assert zstd.ZSTD_CONTENTSIZE_ERROR == 2**64 - 2
    assert zstd.ZSTD_getFrameContentSize(b"not zstd", 8) == zstd.ZSTD_CONTENTSIZE_ERROR


def test_too_small_destination_is_an_error_code(zstd):
    packed = bytearray(zstd.ZSTD_compressBound(len(DATA)))
    size = _check(zstd, zstd.ZSTD_compress(packed, len(packed), DATA, len(DATA), 3))
    out = bytearray(100)
    with pytest.raises(RuntimeError, match="Destination buffer is too small"):
        _check(zstd, zstd.ZSTD_decompress(out, len(out), packed, size))


def test_context_with_parameters_and_checksum(zstd):
    cctx = zstd.ZSTD_createCCtx()
    try:
        _check(zstd, zstd.ZSTD_CCtx_setParameter(cctx, zstd.ZSTD_c_compressionLevel, 19))
        _check(zstd, zstd.ZSTD_CCtx_setParameter(cctx, zstd.ZSTD_c_checksumFlag, 1))
        packed = bytearray(zstd.ZSTD_compressBound(len(DATA)))
        size = _check(zstd, zstd.ZSTD_compress2(cctx, packed, len(packed), DATA, len(DATA)))
    finally:
        zstd.ZSTD_freeCCtx(cctx)
    packed[size - 1] ^= 0xFF  # the last byte is the checksum's
    out = bytearray(len(DATA))
    with pytest.raises(RuntimeError, match="checksum"):
        _check(zstd, zstd.ZSTD_decompress(out, len(out), packed, size))


def test_streaming_with_in_and_out_buffers(zstd):
    """ZSTD_compressStream2 over chunks: ZSTD_inBuffer / ZSTD_outBuffer point into Python
    buffers through ffikit.cast (which keeps them alive for the struct)."""
    cctx = zstd.ZSTD_createCCtx()
    frame = bytearray()
    chunk_out = bytearray(zstd.ZSTD_CStreamOutSize())
    try:
        chunks = [DATA[i:i + 8192] for i in range(0, len(DATA), 8192)]
        for n, chunk in enumerate(chunks):
            last = n == len(chunks) - 1
            source = bytearray(chunk)
            inp = zstd.new("ZSTD_inBuffer")
            inp.src, inp.size, inp.pos = ffikit.cast("void *", source), len(source), 0
            mode = zstd.ZSTD_e_end if last else zstd.ZSTD_e_continue
            while True:
                out = zstd.new("ZSTD_outBuffer")
                out.dst, out.size, out.pos = ffikit.cast("void *", chunk_out), len(chunk_out), 0
                remaining = _check(zstd, zstd.ZSTD_compressStream2(cctx, out, inp, mode))
                frame += chunk_out[:out.pos]
                if (remaining == 0) if last else (inp.pos == inp.size):
                    break
    finally:
        zstd.ZSTD_freeCCtx(cctx)
    back = bytearray(len(DATA))
    assert _check(zstd, zstd.ZSTD_decompress(back, len(back), frame, len(frame))) == len(DATA)
    assert back == DATA
