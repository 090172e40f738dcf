"""Real headers: zlib.h, sqlite3.h, png.h parse; values agree with the compiler's."""

import ctypes

import pytest

import ffikit

PROBE = """
#include <zlib.h>
#include <sqlite3.h>
#include <png.h>
#include <stddef.h>
long values(int i) {
    switch (i) {
    case 0: return ZLIB_VERNUM;  case 1: return Z_OK;  case 2: return Z_STREAM_ERROR;
    case 3: return sizeof(z_stream);  case 4: return offsetof(z_stream, adler);
    case 5: return SQLITE_OK;  case 6: return SQLITE_IOERR_READ;  case 7: return SQLITE_VERSION_NUMBER;
    case 8: return PNG_LIBPNG_VER;  case 9: return PNG_COLOR_TYPE_RGB_ALPHA;
    case 10: return sizeof(png_color);  case 11: return sizeof(gz_header);
    }
    return -12345;
}
"""


@pytest.fixture(scope="module")
def truth(cbuild):
    lib = ctypes.CDLL(cbuild(PROBE, name="headerprobe"))
    lib.values.restype = ctypes.c_long
    return [lib.values(i) for i in range(12)]


def test_zlib(truth):
    z = ffikit.include("zlib.h")
    assert (z.ZLIB_VERNUM, z.Z_OK, z.Z_STREAM_ERROR) == tuple(truth[0:3])
    assert z.ZLIB_VERSION.startswith("1.")
    assert ctypes.sizeof(z.z_stream) == truth[3]
    assert z.layout("z_stream").field("adler").offset == truth[4]
    assert ctypes.sizeof(z.gz_header) == truth[11]
    for name in ("compress", "uncompress", "crc32", "deflateInit_", "compressBound"):
        assert name in z.functions
    assert str(z.functions["compress"]) == (
        "int compress(Bytef *dest, uLongf *destLen, const Bytef *source, uLong sourceLen);")
    assert not z.declares("read") and z.declares("compress")  # zlib.h's own names


def test_sqlite3(truth):
    s = ffikit.include("sqlite3.h")
    assert (s.SQLITE_OK, s.SQLITE_IOERR_READ, s.SQLITE_VERSION_NUMBER) == tuple(truth[5:8])
    assert "sqlite3_exec" in s.functions and "sqlite3_open" in s.functions
    assert not s.types["struct sqlite3"].is_complete  # opaque handle


def test_png(truth):
    p = ffikit.include("png.h")
    assert (p.PNG_LIBPNG_VER, p.PNG_COLOR_TYPE_RGB_ALPHA) == tuple(truth[8:10])
    assert ctypes.sizeof(p.png_color) == truth[10]
    assert "png_create_read_struct" in p.functions


def test_missing_header():
    with pytest.raises(ffikit.DeclarationError) as info:
        ffikit.include("no_such_lib_ffikit.h", include_dirs=["/opt/ffikit-none"])
    assert "no_such_lib_ffikit.h: No such file or directory" in str(info.value)
    assert "/opt/ffikit-none" in str(info.value) and "/usr/include" in str(info.value)
