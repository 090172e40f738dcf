"""Coord spells a source position as file:line[:column]; model re-exports it."""

from __future__ import annotations

import pytest

from ffikit.cdecl import model
from ffikit.cdecl.coord import Coord


class TestCoord:
    def test_file_line_column(self):
        assert str(Coord("zlib.h", 12, 5)) == "zlib.h:12:5"

    def test_no_column(self):
        assert str(Coord("zlib.h", 12)) == "zlib.h:12"

    def test_cdef_text_has_no_file(self):
        assert str(Coord(None, 3, 1)) == "<cdef>:3:1"

    def test_immutable_and_equal_by_value(self):
        c = Coord("a.h", 1, 2)
        assert c == Coord("a.h", 1, 2) and hash(c) == hash(Coord("a.h", 1, 2))
        with pytest.raises(AttributeError, match="frozen"):
            c.line = 5

    def test_the_model_names_the_same_class(self):
        assert model.Coord is Coord and "Coord" in model.__all__
