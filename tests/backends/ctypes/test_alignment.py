"""The alignment a ctypes class can carry on this Python, and the base that gives it."""

from __future__ import annotations

import ctypes
import sys

from ffikit.backends.ctypes.alignment import HAS_ALIGN, aligner, expressible_alignment


def test_expressible_alignment():
    assert HAS_ALIGN == (sys.version_info >= (3, 13))
    assert expressible_alignment(8) == 8
    most = max(ctypes.alignment(c) for c in (ctypes.c_uint64, ctypes.c_longdouble))
    assert expressible_alignment(64) == (64 if HAS_ALIGN else most)


def test_aligner_base_raises_alignment_without_size():
    base = aligner(ctypes.Structure, 8)
    assert aligner(ctypes.Structure, 8) is base  # one per (base, alignment)

    class S(base):
        _pack_ = 1
        _fields_ = [("c", ctypes.c_char)]

    assert ctypes.alignment(S) == 8 and ctypes.sizeof(base) == 0
