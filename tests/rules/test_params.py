"""Each parameter classified once: the boundary table as data."""

from __future__ import annotations

import ffikit
from ffikit.rules.params import accepted_formats, param_rule

DEFS = ffikit.cdef("""
    typedef struct { int x, y; } point;
    typedef int (*cmp_fn)(int, int);
    enum color { RED, GREEN };
    void f(char c, unsigned short u, float fl, double d, const double *src, double *dst,
           void *raw, const char *text, point p, point *pp, cmp_fn cmp, enum color col, int **out);
""")
PARAMS = DEFS.functions["f"].type.params


def rule(i):
    return param_rule(PARAMS[i])


def test_integers_carry_their_range():
    assert (rule(0).kind, rule(0).is_char) == ("int", True)
    assert (rule(1).lo, rule(1).hi) == (0, 65535)
    assert rule(11).kind == "int" and rule(11).lo == 0


def test_floats_know_their_limit():
    assert rule(2).kind == "float" and rule(2).float_max is not None
    assert rule(3).float_max is None


def test_pointers():
    src, dst, raw, text = rule(4), rule(5), rule(6), rule(7)
    assert src.kind == "pointer" and src.const and src.item_kind == ("f", 8)
    assert not dst.const and dst.pointee_size == 8
    assert raw.raw_ok and accepted_formats(raw) is None
    assert text.char_target and text.raw_ok
    assert "d" in accepted_formats(src) and "f" not in accepted_formats(src)
    assert rule(9).target_is_struct and rule(9).pointee_size == 8
    assert rule(12).target_is_pointer


def test_structs_and_function_pointers():
    assert rule(8).kind == "struct"
    assert rule(10).kind == "function_pointer"
