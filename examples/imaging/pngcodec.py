"""A tiny PNG writer and reader over stdlib ``zlib`` (8-bit grey, grey+alpha, RGB, RGBA).

Enough for ``ffikit demo`` to save its before/after images and for tests to
check them, without Pillow.  The writer uses filter type 0 on every row; the
reader validates the signature, every chunk's CRC and the IHDR fields, and
undoes all five PNG filters, so it also reads files other tools wrote (8-bit,
non-interlaced only).
"""

from __future__ import annotations

import struct
import zlib
from typing import NamedTuple

__all__ = ["PNGImage", "read_png", "write_png"]

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type
_CHANNELS = {v: k for k, v in _COLOR_TYPES.items()}


class PNGImage(NamedTuple):
    """A decoded PNG: ``pixels`` is row-major interleaved 8-bit samples."""

    width: int
    height: int
    channels: int
    pixels: bytes


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def encode_png(pixels: bytes | memoryview, width: int, height: int, channels: int) -> bytes:
    """PNG file bytes for ``height`` rows of ``width * channels`` 8-bit samples."""
    if channels not in _COLOR_TYPES:
        raise ValueError(f"write_png: channels must be 1, 2, 3 or 4 (got {channels})")
    if width <= 0 or height <= 0:
        raise ValueError(f"write_png: width and height must be positive (got {width}x{height})")
    data = memoryview(pixels).cast("B")
    stride = width * channels
    if len(data) != stride * height:
        raise ValueError(f"write_png: {width}x{height}x{channels} needs {stride * height} bytes, "
                         f"got {len(data)}")
    raw = bytearray()
    for y in range(height):
        raw.append(0)
        raw += data[y * stride:(y + 1) * stride]
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOR_TYPES[channels], 0, 0, 0)
    return (SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(bytes(raw), 6))
            + _chunk(b"IEND", b""))


def write_png(path: str, array) -> None:
    """Write a ``uint8`` array (HxW or HxWxC, C in 1..4) to ``path`` as PNG."""
    shape = array.shape
    height, width = shape[0], shape[1]
    channels = shape[2] if len(shape) == 3 else 1
    if str(getattr(array, "dtype", "uint8")) != "uint8":
        raise TypeError(f"write_png: array must be uint8 (got {array.dtype})")
    with open(path, "wb") as f:
        f.write(encode_png(memoryview(array.tobytes()), width, height, channels))


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def decode_png(data: bytes) -> PNGImage:
    """Decode PNG bytes, checking signature, chunk CRCs and header fields."""
    if not data.startswith(SIGNATURE):
        raise ValueError("read_png: not a PNG file (bad signature)")
    pos, header, idat, ended = len(SIGNATURE), None, bytearray(), False
    while pos < len(data):
        if pos + 8 > len(data):
            raise ValueError("read_png: truncated chunk header")
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        crc_at = pos + 8 + length
        if crc_at + 4 > len(data):
            raise ValueError(f"read_png: truncated {kind!r} chunk")
        (crc,) = struct.unpack(">I", data[crc_at:crc_at + 4])
        if crc != zlib.crc32(kind + body):
            raise ValueError(f"read_png: CRC mismatch in {kind.decode('latin-1')} chunk")
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            ended = True
            break
        pos = crc_at + 4
    if header is None or not ended:
        raise ValueError("read_png: missing IHDR or IEND chunk")
    width, height, depth, color, _compression, _filter, interlace = header
    if depth != 8 or color not in _CHANNELS or interlace != 0:
        raise ValueError(f"read_png: only 8-bit non-interlaced grey/RGB(A) is supported "
                         f"(depth {depth}, colour type {color}, interlace {interlace})")
    channels = _CHANNELS[color]
    raw = zlib.decompress(bytes(idat))
    stride = width * channels
    if len(raw) != (stride + 1) * height:
        raise ValueError(f"read_png: image data has {len(raw)} bytes, expected {(stride + 1) * height}")
    out = bytearray(stride * height)
    prev = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        row = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if kind > 4:
            raise ValueError(f"read_png: bad filter type {kind} on row {y}")
        for i in range(stride) if kind else ():
            left = row[i - channels] if i >= channels else 0
            up = prev[i]
            if kind == 1:
                row[i] = (row[i] + left) & 0xFF
            elif kind == 2:
                row[i] = (row[i] + up) & 0xFF
            elif kind == 3:
                row[i] = (row[i] + ((left + up) >> 1)) & 0xFF
            else:
                upleft = prev[i - channels] if i >= channels else 0
                row[i] = (row[i] + _paeth(left, up, upleft)) & 0xFF
        out[y * stride:(y + 1) * stride] = row
        prev = row
    return PNGImage(width, height, channels, bytes(out))


def read_png(path: str) -> PNGImage:
    """Read and validate the PNG file at ``path``."""
    with open(path, "rb") as f:
        return decode_png(f.read())
