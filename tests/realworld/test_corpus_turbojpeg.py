"""TurboJPEG as its API documentation shows it: compress an RGB image into a buffer the
library allocates (freed with tjFree), read the header back, decompress, errors."""

from __future__ import annotations

import pytest

import ffikit
from corpus_helpers import require

# lib.CONSTANT (cffi's lib.X for #define and enum constants): not merged into main yet

WIDTH, HEIGHT = 48, 32


def _gradient() -> bytes:
    return bytes(v for y in range(HEIGHT) for x in range(WIDTH)
                 for v in (x * 255 // WIDTH, y * 255 // HEIGHT, 128))


@pytest.fixture(scope="module")
def tj(backend):
    require("libturbojpeg0-dev", "turbojpeg.h")
    return ffikit.load("turbojpeg", ffikit.include("turbojpeg.h"))


def _compress(tj, pixels: bytes, quality: int = 95) -> bytes:
    handle = tj.tjInitCompress()
    jpeg, size = tj.new("unsigned char **"), tj.new("unsigned long *")  # *jpegBuf = NULL
    try:
        if tj.tjCompress2(handle, pixels, WIDTH, 0, HEIGHT, tj.TJPF_RGB, jpeg, size,
                          tj.TJSAMP_444, quality, tj.TJFLAG_ACCURATEDCT) != 0:
            raise RuntimeError(ffikit.string(tj.tjGetErrorStr2(handle)).decode())
        return bytes(ffikit.buffer(jpeg[0], size[0]))
    finally:
        tj.tjFree(jpeg[0])  # the library allocated it
        tj.tjDestroy(handle)


def test_compress_header_decompress(tj):
    pixels = _gradient()
    data = _compress(tj, pixels)
    assert data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9"  # SOI ... EOI

    handle = tj.tjInitDecompress()
    try:
        width, height, subsamp, colorspace = (tj.new("int") for _ in range(4))
        assert tj.tjDecompressHeader3(handle, data, len(data), width, height, subsamp,
                                      colorspace) == 0
        assert (width.value, height.value) == (WIDTH, HEIGHT)
        assert subsamp.value == tj.TJSAMP_444 and colorspace.value == tj.TJCS_YCbCr
        out = bytearray(WIDTH * HEIGHT * 3)  # tjPixelSize[TJPF_RGB] (a static array in the header)
        assert tj.tjDecompress2(handle, data, len(data), out, WIDTH, 0, HEIGHT, tj.TJPF_RGB,
                                tj.TJFLAG_ACCURATEDCT) == 0
    finally:
        tj.tjDestroy(handle)
    worst = max(abs(a - b) for a, b in zip(out, pixels))
    assert worst <= 8  # lossy, but close at quality 95


def test_quality_changes_the_size(tj):
    pixels = _gradient()
    assert len(_compress(tj, pixels, quality=20)) < len(_compress(tj, pixels, quality=95))


def test_buffer_size_bound(tj):
    bound = tj.tjBufSize(WIDTH, HEIGHT, tj.TJSAMP_444)
    assert len(_compress(tj, _gradient())) <= bound


def test_not_a_jpeg_is_an_error_with_its_text(tj):
    handle = tj.tjInitDecompress()
    try:
        width, height, subsamp, colorspace = (tj.new("int") for _ in range(4))
        garbage = b"definitely not a JPEG file"
        assert tj.tjDecompressHeader3(handle, garbage, len(garbage), width, height, subsamp,
                                      colorspace) == -1
        assert tj.tjGetErrorCode(handle) == tj.TJERR_FATAL
        assert b"JPEG" in ffikit.string(tj.tjGetErrorStr2(handle))  # char *: a pointer
    finally:
        tj.tjDestroy(handle)
