"""The key that makes two model structs one C type: header, place, tag and layout."""

from __future__ import annotations

import ffikit
from ffikit.cdecl.identity import identity, tag_of
from ffikit.cdecl.layout import host_platform

HOST = host_platform()


def test_same_header_same_key_across_declarations(tmp_path):
    (tmp_path / "p.h").write_text("struct p { int x; struct { short a; } in; };\ntypedef struct p P;\n")
    a = ffikit.include("p.h", include_dirs=[tmp_path]).types["struct p"]
    b = ffikit.include(["stddef.h", "p.h"], include_dirs=[tmp_path]).types["struct p"]
    assert a is not b and identity(a, HOST) == identity(b, HOST) is not None
    assert identity(a, HOST)[2].endswith("p.h")


def test_cdef_text_has_no_header_of_origin():
    t = ffikit.cdef("struct q { int x; };").types["struct q"]
    assert identity(t, HOST) is None


def test_layout_and_place_are_part_of_the_key(tmp_path):
    (tmp_path / "c.h").write_text("#ifdef WIDE\ntypedef long n;\n#else\ntypedef int n;\n#endif\n"
                                  "struct c { n v; };\n")
    narrow = ffikit.include("c.h", include_dirs=[tmp_path]).types["struct c"]
    wide = ffikit.include("c.h", include_dirs=[tmp_path], defines={"WIDE": 1}).types["struct c"]
    assert identity(narrow, HOST) != identity(wide, HOST)
    (tmp_path / "d.h").write_text("struct c { int v; };\n")
    elsewhere = ffikit.include("d.h", include_dirs=[tmp_path]).types["struct c"]
    assert identity(elsewhere, HOST) != identity(narrow, HOST)  # same layout, other header


def test_opaque_key_is_the_tag():
    t = ffikit.cdef("struct h;\nstruct h *f(void);").types["struct h"]
    assert identity(t, HOST) == tag_of(t) == ("struct", "h")
    anonymous = ffikit.cdef("typedef struct { int x; } T;").types["T"]
    assert tag_of(anonymous.type) == ("struct", "T")  # by its typedef name
