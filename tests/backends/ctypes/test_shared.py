"""One ctypes class per C struct type across every Declarations and Library in the process."""

from __future__ import annotations

import ctypes

import pytest

import ffikit

SHAPES_H = """
#ifndef SHAPES_H
#define SHAPES_H
struct point { int x, y; };
typedef struct { struct point a, b; double weight; } segment;
struct handle;  /* opaque: only the library knows it */
#endif
"""
MAKE_H = """
#include "shapes.h"
struct handle *handle_new(int start);
void handle_free(struct handle *h);
segment make_segment(int x0, int y0, int x1, int y1);
void grow(struct point *p, int by);
"""
USE_H = """
#include "shapes.h"
int handle_value(const struct handle *h);
int segment_length2(const segment *s);
int point_sum(const struct point *p);
"""
SOURCE = """
#include <stdlib.h>
#include "make.h"
#include "use.h"
struct handle { int value; };
struct handle *handle_new(int start) { struct handle *h = malloc(sizeof *h); h->value = start; return h; }
void handle_free(struct handle *h) { free(h); }
int handle_value(const struct handle *h) { return h->value; }
segment make_segment(int x0, int y0, int x1, int y1) {
    segment s = {{x0, y0}, {x1, y1}, 1.0}; return s;
}
int segment_length2(const segment *s) {
    int dx = s->b.x - s->a.x, dy = s->b.y - s->a.y; return dx * dx + dy * dy;
}
void grow(struct point *p, int by) { p->x += by; p->y += by; }
int point_sum(const struct point *p) { return p->x + p->y; }
"""


@pytest.fixture(scope="module")
def headers(tmp_path_factory, cbuild):
    root = tmp_path_factory.mktemp("shared_headers")
    for name, text in (("shapes.h", SHAPES_H), ("make.h", MAKE_H), ("use.h", USE_H)):
        (root / name).write_text(text)
    path = cbuild(SOURCE, name="shared_types", include_dirs=[str(root)])
    return root, path


def test_two_libraries_accept_each_others_structs(headers, backend):
    root, path = headers
    make = ffikit.load(path, ffikit.include("make.h", include_dirs=[root]), backend=backend)
    use = ffikit.load(path, ffikit.include("use.h", include_dirs=[root]), backend=backend)
    assert make.defs is not use.defs
    assert make.defs.ctype("struct point") is use.defs.ctype("struct point")
    assert make.defs.segment is use.defs.segment
    seg = make.make_segment(0, 0, 3, 4)
    assert use.segment_length2(seg) == 25  # a by-value result of one, a pointer to the other
    p = use.defs.ctype("struct point")(1, 2)
    make.grow(p, 10)
    assert (p.x, p.y) == (11, 12) and use.point_sum(p) == 23
    h = make.handle_new(7)  # opaque: one class by tag
    try:
        assert use.handle_value(h) == 7
    finally:
        make.handle_free(h)


def test_several_headers_in_one_translation_unit(headers, backend):
    root, path = headers
    both = ffikit.include(["make.h", "use.h"], include_dirs=[root])
    assert both.declares("handle_new") and both.declares("handle_value")
    assert both.where("handle_value")[0].endswith("use.h")
    lib = ffikit.load(path, both, backend=backend)
    seg = lib.make_segment(1, 1, 2, 2)
    assert lib.segment_length2(seg) == 2
    assert both.segment is ffikit.include("use.h", include_dirs=[root]).segment


def test_a_struct_of_another_declaration_is_still_refused(headers):
    root, path = headers
    lib = ffikit.load(path, ffikit.include("use.h", include_dirs=[root]))
    mine = ffikit.cdef("struct point { int x, y; };")  # cdef text is not the header's type
    assert mine.ctype("struct point") is not lib.defs.ctype("struct point")
    with pytest.raises(ffikit.ArgumentError, match="struct point"):
        lib.point_sum(mine.ctype("struct point")(1, 2))


def test_other_defines_other_layout_other_class(tmp_path):
    (tmp_path / "conf.h").write_text(
        "#ifdef WIDE\ntypedef long long num;\n#else\ntypedef int num;\n#endif\n"
        "struct cell { num value; char tag; };\n")
    narrow = ffikit.include("conf.h", include_dirs=[tmp_path])
    wide = ffikit.include("conf.h", include_dirs=[tmp_path], defines={"WIDE": None})
    assert ctypes.sizeof(narrow.ctype("struct cell")) == 8
    assert ctypes.sizeof(wide.ctype("struct cell")) == 16
    assert narrow.ctype("struct cell") is not wide.ctype("struct cell")
    again = ffikit.include(["conf.h", "stddef.h"], include_dirs=[tmp_path])
    assert again.ctype("struct cell") is narrow.ctype("struct cell")


def test_opaque_class_is_completed_by_the_full_declaration(tmp_path):
    (tmp_path / "pub.h").write_text("struct secret;\nstruct secret *get(void);\n")
    (tmp_path / "priv.h").write_text('#include "pub.h"\nstruct secret { int a; double b; };\n')
    public = ffikit.include("pub.h", include_dirs=[tmp_path])
    opaque = public.ctype("struct secret")
    private = ffikit.include("priv.h", include_dirs=[tmp_path])
    assert private.ctype("struct secret") is opaque and ctypes.sizeof(opaque) == 16
    assert opaque(1, 2.5).b == 2.5  # the program now knows its members
    (tmp_path / "other.h").write_text("struct secret { char c; };\n")  # another type, same tag
    other = ffikit.include("other.h", include_dirs=[tmp_path]).ctype("struct secret")
    assert other is not opaque and ctypes.sizeof(other) == 1


def test_opaque_class_ctypes_froze_stays_opaque(tmp_path):
    (tmp_path / "pub.h").write_text("struct frozen;\nstruct frozen *get(void);\n")
    (tmp_path / "priv.h").write_text('#include "pub.h"\nstruct frozen { int a; };\n')
    opaque = ffikit.include("pub.h", include_dirs=[tmp_path]).ctype("struct frozen")
    with pytest.raises(ffikit.DeclarationError, match="opaque"):
        opaque()  # ctypes finalizes a class once an instance is attempted
    full = ffikit.include("priv.h", include_dirs=[tmp_path]).ctype("struct frozen")
    assert full is not opaque and full(5).a == 5
    with pytest.raises(ffikit.DeclarationError, match="opaque"):
        opaque()
