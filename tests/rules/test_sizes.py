"""Size relations as data, and the plain check over (relations, arguments, extents)."""

from __future__ import annotations

import pytest

import ffikit
from ffikit.rules.sizes import (
    USER_SOURCE,
    check,
    cstring_params,
    param_modes,
    refusal,
    relations,
    user_access,
)

DEFS = ffikit.cdef("""
    #include <stddef.h>
    typedef struct { double x, y; } pt;
    typedef struct opaque opaque;
    void scale(double *a, size_t n, double k);
    void fill(void *p, size_t n) __attribute__((access(write_only, 1, 2)));
    void pts(pt p[4]);
    void op(opaque *o, size_t n) __attribute__((access(read_write, 1, 2)));
    size_t len(const char *s);
    size_t count(const char *s, size_t n) __attribute__((access(read_only, 1, 2)));
    void peek(const char *s) __attribute__((access(read_only, 1)));
""")


def fn(name):
    return DEFS.functions[name].type


def test_units_in_elements_bytes_for_void():
    (fill,) = relations("fill", fn("fill"))
    assert (fill.buffer, fill.size, fill.unit, fill.unit_name, fill.mode) == (0, 1, 1, "byte",
                                                                               "write_only")
    assert fill.source == "the header's access attribute (write_only, 1, 2)"
    (pts,) = relations("pts", fn("pts"))
    assert (pts.count, pts.unit, pts.unit_name, pts.source) == (4, 16, "pt", "the array bound [4]")
    assert relations("op", fn("op")) == ()  # an opaque struct has no element size to check


def test_user_relation():
    extra = user_access("scale", fn("scale"), {"a": "n"})
    (rel,) = relations("scale", fn("scale"), extra)
    assert (rel.buffer, rel.size, rel.unit, rel.source) == (0, 1, 8, USER_SOURCE)
    (const,) = relations("scale", fn("scale"), user_access("scale", fn("scale"), {"a": 3}))
    assert const.count == 3
    with pytest.raises(ffikit.ArgumentError, match="does not have.*'a', 'n', 'k'"):
        user_access("scale", fn("scale"), {"b": "n"})
    with pytest.raises(ffikit.ArgumentError, match="integer parameter, an element count"):
        user_access("scale", fn("scale"), {"a": "k"})
    with pytest.raises(ffikit.ArgumentError, match="not a pointer"):
        user_access("scale", fn("scale"), {"n": 3})


def test_check_is_a_plain_function():
    rels = relations("scale", fn("scale"), user_access("scale", fn("scale"), {"a": "n"}))
    check(rels, (None, 4, 1.0), (32, None, None))  # 4 doubles in 32 bytes: fine
    check(rels, (None, 4, 1.0), (None, None, None))  # unknown extent: not checked
    with pytest.raises(ffikit.BufferTooSmall) as e:
        check(rels, (None, 4, 1.0), (16, None, None))
    assert str(e.value) == (
        "argument 1 'a' of 'scale' holds 2 doubles (16 bytes), but argument 2 'n' is 4, so C "
        "accesses 4 doubles (32 bytes) through it (from sizes= given to load); pass a buffer "
        "of at least 4 doubles (32 bytes), or lower argument 2 'n'")
    assert isinstance(e.value, ValueError)


def test_refusal_wording_for_a_constant():
    (rel,) = relations("pts", fn("pts"))
    text = str(refusal(rel, None, 40))
    assert text.startswith("argument 1 'p' of 'pts' holds 2 pts (32 bytes), but C accesses 4 pts")


def test_modes_and_c_strings():
    assert param_modes(fn("fill")) == {0: True}
    assert param_modes(fn("count")) == {0: False}
    assert cstring_params(fn("len")) == {0}
    assert cstring_params(fn("count")) == frozenset()  # sized: a buffer, not a C string
    assert cstring_params(fn("peek")) == {0}  # access without a size does not size it


def test_product_of_two_size_parameters():
    defs = ffikit.cdef("unsigned long rd(void *p, unsigned long size, unsigned long n);")
    ftype = defs.functions["rd"].type
    for spec in ("size * n", ("size", "n")):
        (rel,) = relations("rd", ftype, user_access("rd", ftype, {"p": spec}))
        assert (rel.size, rel.factor, rel.needed(4, 5)) == (1, 2, 20)
    with pytest.raises(ffikit.BufferTooSmall, match=r"argument 2 'size' \* argument 3 'n' is 4 \* 5"):
        check((rel,), (None, 4, 5), (16, None, None))
    check((rel,), (None, 4, 4), (16, None, None))
    with pytest.raises(ffikit.ArgumentError, match="a product such as 'size \\* n'"):
        user_access("rd", ftype, {"p": "size * n * n"})


def test_unnamed_parameters_are_argN():
    ftype = ffikit.cdef("void f(double *, unsigned long);").functions["f"].type
    (rel,) = relations("f", ftype, user_access("f", ftype, {"arg1": "arg2"}))
    assert (rel.buffer, rel.size) == (0, 1)
    with pytest.raises(ffikit.ArgumentError, match="its parameters: 'arg1', 'arg2'"):
        user_access("f", ftype, {"a": "arg2"})
