"""The tiny PNG codec: round trips, validation, and the filters other writers use."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from pngcodec import SIGNATURE, decode_png, encode_png, read_png, write_png


def _rgb(h=5, w=7):
    return (np.arange(h * w * 3, dtype=np.uint32).reshape(h, w, 3) * 37 % 256).astype(np.uint8)


class TestWritePng:
    @pytest.mark.parametrize("channels", [1, 2, 3, 4])
    def test_round_trip(self, tmp_path, channels):
        array = _rgb(6, 9)[:, :, :1].repeat(channels, axis=2).copy()
        write_png(str(tmp_path / "x.png"), array)
        image = read_png(str(tmp_path / "x.png"))
        assert (image.width, image.height, image.channels) == (9, 6, channels)
        assert image.pixels == array.tobytes()

    def test_header_fields(self):
        data = encode_png(bytes(2 * 3 * 3), 3, 2, 3)
        assert data[:8] == SIGNATURE
        assert data[12:16] == b"IHDR"
        assert struct.unpack(">IIBBBBB", data[16:29]) == (3, 2, 8, 2, 0, 0, 0)

    def test_wrong_size_refused(self):
        with pytest.raises(ValueError, match=r"write_png: 3x2x3 needs 18 bytes, got 17"):
            encode_png(bytes(17), 3, 2, 3)

    def test_non_uint8_refused(self, tmp_path):
        with pytest.raises(TypeError, match=r"write_png: array must be uint8 \(got float64\)"):
            write_png(str(tmp_path / "x.png"), np.zeros((2, 2)))


class TestReadPng:
    def test_bad_signature(self):
        with pytest.raises(ValueError, match=r"read_png: not a PNG file \(bad signature\)"):
            decode_png(b"GIF89a" + bytes(40))

    def test_crc_checked(self):
        data = bytearray(encode_png(bytes(12), 2, 2, 3))
        data[-20] ^= 0xFF  # inside the IDAT body
        with pytest.raises(ValueError, match=r"read_png: CRC mismatch in IDAT chunk"):
            decode_png(bytes(data))

    def test_all_filters_undone(self):
        """Rows filtered Sub/Up/Average/Paeth (as other writers do) decode to the pixels."""
        pixels = _rgb(4, 5)
        stride, bpp = 15, 3
        raw, prev = bytearray(), bytes(stride)
        for y, kind in enumerate([1, 2, 3, 4]):
            row = pixels[y].tobytes()
            out = bytearray()
            for i in range(stride):
                a = row[i - bpp] if i >= bpp else 0
                b, c = prev[i], prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = {1: a, 2: b, 3: (a + b) >> 1,
                        4: a if pa <= pb and pa <= pc else (b if pb <= pc else c)}[kind]
                out.append((row[i] - pred) & 0xFF)
            raw += bytes([kind]) + out
            prev = row

        def chunk(k, body):
            return struct.pack(">I", len(body)) + k + body + struct.pack(">I", zlib.crc32(k + body))

        data = (SIGNATURE + chunk(b"IHDR", struct.pack(">IIBBBBB", 5, 4, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(bytes(raw))) + chunk(b"IEND", b""))
        assert decode_png(data).pixels == pixels.tobytes()

    def test_sixteen_bit_refused(self):
        data = bytearray(encode_png(bytes(4), 2, 2, 1))
        data[24] = 16
        data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
        with pytest.raises(ValueError, match=r"only 8-bit non-interlaced grey/RGB\(A\) is supported "
                                             r"\(depth 16, colour type 0, interlace 0\)"):
            decode_png(bytes(data))
