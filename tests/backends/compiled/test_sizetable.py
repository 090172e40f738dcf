"""sizetable: size relations as the numbers a compiled wrapper checks in C, or why C cannot."""

from __future__ import annotations

import ffikit
from ffikit.backends.compiled.cgen import shape_of
from ffikit.backends.compiled.sizetable import relation_table
from ffikit.rules.sizes import relations


def test_relation_table():
    defs = ffikit.cdef("double f(const double *p, unsigned long n, int k, const double q[3]) "
                       "__attribute__((access(read_only, 1, 2)));")
    ftype = defs.functions["f"].type
    _result, params = shape_of("f", ftype)
    assert set(relation_table(relations("f", ftype), params)) == {
        (0, 1, -1, 0, 8, True, False), (3, -1, -1, 3, 8, False, False)}
    assert isinstance(relation_table(relations("f", ftype), (("double", "double"),) * 4), str)


def test_a_relation_c_does_not_pass_as_numbers_says_why():
    defs = ffikit.cdef("void f(double *p, long n) __attribute__((access(write_only, 1, 2)));")
    ftype = defs.functions["f"].type
    rels = relations("f", ftype)
    assert "not an integer parameter" in relation_table(rels, (("ptr",), ("double", "double")))
    assert "does not pass as a buffer" in relation_table(rels, (("int",), ("int",)))
