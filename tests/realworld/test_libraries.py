"""Real libraries end to end through their own headers: libcrypto, libuuid, bzip2, liblzma.

Each test skips, with the reason, where the header or the library is not
installed (``make system-deps`` installs them with apt-get where it can).
"""

from __future__ import annotations

import bz2
import hashlib
import lzma
import os

import pytest

import ffikit
from ffikit.cdecl.preprocess import system_include_dirs


def _bind(header: str, library: str, package: str):
    if not any(os.path.isfile(os.path.join(d, header)) for d in system_include_dirs()):
        pytest.skip(f"<{header}> is not installed (apt-get install {package}, or make system-deps)")
    defs = ffikit.include(header)
    try:
        return ffikit.load(library, defs)
    except ffikit.LibraryNotFound as exc:
        pytest.skip(f"lib{library} is not installed ({package}): {exc}")


def test_sha256_through_openssl_evp():
    ssl = _bind("openssl/evp.h", "crypto", "libssl-dev")
    ctx = ssl.EVP_MD_CTX_new()
    try:
        assert ssl.EVP_DigestInit_ex(ctx, ssl.EVP_sha256(), None) == 1  # parameter 'type'
        assert ssl.EVP_DigestUpdate(ctx, b"abc", 3) == 1
        digest, size = bytearray(64), ssl.new("unsigned int")
        assert ssl.EVP_DigestFinal_ex(ctx, digest, size) == 1
    finally:
        ssl.EVP_MD_CTX_free(ctx)
    assert bytes(digest[:size.value]) == hashlib.sha256(b"abc").digest()


def test_uuid_generate_through_uuid_h():
    uuid = _bind("uuid/uuid.h", "uuid", "uuid-dev")
    assert str(uuid.defs.functions["uuid_generate"]) == "void uuid_generate(unsigned char *out);"
    raw, text = bytearray(16), bytearray(37)
    uuid.uuid_generate(raw)  # 'uuid_t out': the array typedef decays to a pointer
    uuid.uuid_unparse(raw, text)
    assert raw != bytearray(16) and raw[6] >> 4 in (1, 4)  # a time or random UUID
    assert bytes(text[:36]).decode().replace("-", "") == raw.hex()
    assert uuid.uuid_is_null(bytes(16)) == 1 and uuid.uuid_is_null(bytes(raw)) == 0


def test_bzip2_round_trip():
    bz = _bind("bzlib.h", "bz2", "libbz2-dev")
    data = bytearray(b"ffikit and bzip2 " * 500)
    out, out_len = bytearray(len(data) + 1000), bz.new("unsigned int", len(data) + 1000)
    assert bz.BZ2_bzBuffToBuffCompress(out, out_len, data, len(data), 9, 0, 30) == bz.defs.BZ_OK
    packed = bytes(out[:out_len.value])
    assert bz2.decompress(packed) == data
    back, back_len = bytearray(len(data)), bz.new("unsigned int", len(data))
    assert bz.BZ2_bzBuffToBuffDecompress(back, back_len, bytearray(packed), len(packed), 0,
                                         0) == bz.defs.BZ_OK
    assert back == data and back_len.value == len(data)


def test_lzma_round_trip():
    xz = _bind("lzma.h", "lzma", "liblzma-dev")
    data = b"ffikit and liblzma " * 500
    out, pos = bytearray(len(data) + 1024), xz.new("size_t", 0)
    assert xz.lzma_easy_buffer_encode(6, xz.defs.LZMA_CHECK_CRC64, None, data, len(data), out, pos,
                                      len(out)) == xz.defs.LZMA_OK
    packed = bytes(out[:pos.value])
    assert lzma.decompress(packed) == data
    back, in_pos, out_pos = bytearray(len(data)), xz.new("size_t", 0), xz.new("size_t", 0)
    limit = xz.new("uint64_t", 1 << 30)
    assert xz.lzma_stream_buffer_decode(limit, 0, None, packed, in_pos, len(packed), back,
                                        out_pos, len(back)) == xz.defs.LZMA_OK
    assert bytes(back) == data and out_pos.value == len(data)
