"""Layout attributes attached and evaluated; the rules real headers need (redeclarations)."""

import pytest

import ffikit
from ffikit.cdecl.model import Primitive, Typedef, Vector


def test_typedef_attributes_make_the_type():
    defs = ffikit.cdef("typedef int q __attribute__((mode(QI))); "
                       "typedef unsigned u64 __attribute__((__mode__(__DI__))); "
                       "typedef short v8 __attribute__((vector_size(16))); "
                       "typedef long l4 __attribute__((aligned(4)));")
    assert defs.types["q"].type == Primitive("signed char")
    assert defs.types["u64"].type == Primitive("unsigned long long")
    assert defs.types["v8"].type == Vector(Primitive("short"), 8)
    assert defs.types["l4"] == Typedef("l4", Primitive("long"), 4)


@pytest.mark.parametrize("expr, value", [("2*32", 64), ("sizeof(double)", 8),
                                         ("__alignof__(long long)", 8), ("N << 1", 16),
                                         ("_Alignof(struct t)", 4)])
def test_aligned_takes_constant_expressions(expr, value):
    defs = ffikit.cdef(f"enum {{ N = 8 }}; struct t {{ int a; }}; "
                       f"struct s {{ char c; int x __attribute__((aligned({expr}))); }};")
    assert defs.layout("struct s").field("x").offset == value


def test_bad_mode_and_vector_are_refused():
    with pytest.raises(ffikit.DeclarationError, match="mode"):
        ffikit.cdef("typedef int w __attribute__((mode(V4SI)));")
    with pytest.raises(ffikit.DeclarationError, match="vector"):
        ffikit.cdef("typedef int w __attribute__((vector_size(6)));")
