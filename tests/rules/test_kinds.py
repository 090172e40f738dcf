"""Integer ranges and buffer item kinds, from the model alone."""

from __future__ import annotations

import pytest

from ffikit.cdecl.model import Pointer, Primitive, Void
from ffikit.rules.kinds import format_kind, int_range, item_kind


class TestIntRange:
    @pytest.mark.parametrize("name, expected", [
        ("signed char", (-128, 127)), ("unsigned char", (0, 255)), ("_Bool", (0, 1)),
        ("int", (-2**31, 2**31 - 1)), ("unsigned int", (0, 2**32 - 1)),
        ("long", (-2**63, 2**63 - 1)), ("size_t", (0, 2**64 - 1)), ("int8_t", (-128, 127)),
    ])
    def test_ranges(self, name, expected):
        assert int_range(Primitive(name)) == expected

    def test_not_an_integer(self):
        with pytest.raises(TypeError, match="not an integer type"):
            int_range(Primitive("double"))


class TestItemKind:
    def test_arithmetic(self):
        assert item_kind(Primitive("double")) == ("f", 8)
        assert item_kind(Primitive("uint16_t")) == ("u", 2)
        assert item_kind(Primitive("char")) == ("c", 1)

    def test_not_arithmetic(self):
        assert item_kind(Void()) is None
        assert item_kind(Pointer(Primitive("int"))) is None

    def test_formats(self):
        assert format_kind("d") == ("f", 8)
        assert format_kind("<i") == ("i", 4)
        assert format_kind(">i") is None  # big-endian on a little-endian host
        assert format_kind("T{i:x:}") is None

    def test_native_and_standard_sizes(self):
        """PEP 3118: no prefix or '@' is native ('l' is a C long), '<'/'=' standard."""
        import ctypes
        import struct

        long_size = ctypes.sizeof(ctypes.c_long)
        for fmt in ("l", "@l"):
            assert format_kind(fmt) == ("i", long_size)
        assert format_kind("L") == ("u", long_size)
        assert format_kind("<l") == format_kind("=l") == ("i", 4)
        assert format_kind("q") == format_kind("<q") == ("i", 8)
        assert format_kind("n") == ("i", struct.calcsize("n"))
        assert format_kind("=n") is None  # 'n' has no standard size
        assert format_kind("P") == format_kind("<P") == ("u", ctypes.sizeof(ctypes.c_void_p))
        assert format_kind("<u") == format_kind("w") == item_kind(Primitive("wchar_t"))
