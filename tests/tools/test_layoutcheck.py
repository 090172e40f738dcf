"""``ffikit layout --check``'s engine: ffikit's layouts against a compiled probe."""

from __future__ import annotations

import ffikit
from ffikit.tools.layoutcheck import Difference, check_layouts, struct_names


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text("#include <stdint.h>\n" + text)
    return str(path)


class TestCheckLayouts:
    def test_agree(self, tmp_path, build_cache):
        header = _write(tmp_path, "a.h", "struct flags { uint8_t on : 1; int32_t level : 7; "
                                         "int64_t big; char tail[3]; };")
        defs = ffikit.include(header)
        assert check_layouts(defs, header, ["struct flags"]) == []

    def test_bitfield_difference_named(self, tmp_path, build_cache):
        mine = _write(tmp_path, "mine.h", "typedef struct { unsigned a : 3; unsigned b : 5; } F;")
        real = _write(tmp_path, "real.h", "typedef struct { unsigned a : 5; unsigned b : 3; } F;")
        diffs = check_layouts(ffikit.include(mine), mine, ["F"], against=real)
        assert [str(d) for d in diffs] == [
            "F: bits of 'a': ffikit 07000000, compiler 1f000000",
            "F: bits of 'b': ffikit f8000000, compiler e0000000",
        ]

    def test_edited_header_is_rechecked(self, tmp_path, build_cache):
        """The probe is rebuilt when the header changes, even at the same path."""
        real = _write(tmp_path, "real.h", "typedef struct { int32_t x; } P;")
        mine = _write(tmp_path, "mine.h", "typedef struct { int32_t x; } P;")
        defs = ffikit.include(mine)
        assert check_layouts(defs, mine, ["P"], against=real) == []
        _write(tmp_path, "real.h", "typedef struct { int64_t x; } P;")
        assert [d.what for d in check_layouts(defs, mine, ["P"], against=real)] == [
            "size", "alignment", "ctypes size", "ctypes alignment"]


class TestStructNames:
    def test_own_complete_types_only(self, tmp_path):
        header = _write(tmp_path, "n.h", "typedef struct { int a; } T; struct s { T t; }; "
                                         "struct opaque; typedef struct s S;")
        assert struct_names(ffikit.include(header)) == ["T", "struct s", "S"] or \
            set(struct_names(ffikit.include(header))) == {"T", "struct s"}


class TestDifference:
    def test_str(self):
        assert str(Difference("Rec", "offset of 'k'", 8, 4)) == \
            "Rec: offset of 'k': ffikit 8, compiler 4"
