"""libz through its real header: compress / uncompress / crc32, named error codes."""

from __future__ import annotations

import zlib

import pytest

import ffikit


@pytest.fixture(scope="module")
def z():
    defs = ffikit.include("zlib.h")
    return ffikit.load("z", defs, errors={"compress": ffikit.check.nonzero, "uncompress": ffikit.check.nonzero({-5: "Z_BUF_ERROR", -3: "Z_DATA_ERROR"})})


def test_compress_round_trip(z):
    data = b"ffikit " * 1000
    dest = bytearray(z.compressBound(len(data)))
    dest_len = ffikit.new("uLongf", len(dest), defs=z.defs)
    z.compress(dest, dest_len, data, len(data))
    packed = bytes(dest[: dest_len.value])
    assert zlib.decompress(packed) == data
    out = bytearray(len(data))
    out_len = z.new("uLongf", len(out))
    z.uncompress(out, out_len, packed, len(packed))
    assert out == data and out_len.value == len(data)


def test_crc32_matches_python(z):
    data = bytearray(b"hello world")
    assert z.crc32(0, data, len(data)) == zlib.crc32(data)
    assert z.crc32(0, memoryview(data)[6:], 5) == zlib.crc32(b"world")


def test_named_error(z):
    out = bytearray(4)
    with pytest.raises(ffikit.CallError, match=r"^uncompress failed: returned -5 \(Z_BUF_ERROR\)$") as e:
        z.uncompress(out, z.new("uLongf", 4), zlib.compress(b"x" * 100), len(zlib.compress(b"x" * 100)))
    assert e.value.code == -5


def test_readonly_destination_refused(z):
    with pytest.raises(ffikit.ReadOnlyBuffer, match="argument 1 'dest' of 'compress' must be a writable buffer of Bytef"):
        z.compress(bytes(100), z.new("uLongf", 100), b"abc", 3)


def test_version_string(z):
    assert z.zlibVersion() == zlib.ZLIB_RUNTIME_VERSION.encode()
