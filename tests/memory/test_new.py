"""ffikit.new: zeroed C objects from C text, resolved once per (declarations, text)."""

from __future__ import annotations

import ctypes

import ffikit


class TestNew:
    def test_text_gives_the_same_type_each_time(self):
        a, b = ffikit.new("char[64]"), ffikit.new("char[64]")
        assert type(a) is type(b) and ctypes.sizeof(a) == 64 and a.raw == bytes(64)
        assert ffikit.new("int", 5).value == 5

    def test_declarations_resolve_their_own_names(self):
        one = ffikit.cdef("typedef struct { int x; } Thing;")
        two = ffikit.cdef("typedef struct { double x, y; } Thing;")
        assert ctypes.sizeof(ffikit.new("Thing", defs=one)) == 4
        assert ctypes.sizeof(ffikit.new("Thing", defs=two)) == 16
        assert type(ffikit.new("Thing", defs=one)) is one.Thing  # cached per declarations

    def test_without_declarations_a_later_cdef_still_counts(self):
        ffikit.cdef("typedef struct { char c[3]; } LaterThing3;")
        assert ctypes.sizeof(ffikit.new("LaterThing3")) == 3
        ffikit.cdef("typedef struct { char c[5]; } LaterThing3;")  # the newest cdef wins
        assert ctypes.sizeof(ffikit.new("LaterThing3")) == 5
