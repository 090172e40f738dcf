"""The type model: value equality, nominal structs, and C spelling."""

import pytest

from ffikit.cdecl.model import (
    VOID,
    Array,
    Enum,
    FunctionType,
    Pointer,
    Primitive,
    StructOrUnion,
    Typedef,
    resolve,
)

INT, CHAR, DOUBLE = Primitive("int"), Primitive("char"), Primitive("double")


class TestSpelling:
    @pytest.mark.parametrize("ctype,text", [
        (Pointer(CHAR, const=True), "const char *"),
        (Pointer(FunctionType(INT, [INT, INT])), "int (*)(int, int)"),
        (Array(Pointer(CHAR), 4), "char *[4]"),
        (Pointer(Array(INT, 4)), "int (*)[4]"),
        (Array(Array(INT, 3), 2), "int[2][3]"),
        (Pointer(Pointer(CHAR), const=True), "char *const *"),
        (FunctionType(VOID, []), "void (void)"),
        (FunctionType(INT, [Pointer(INT), INT], True, ["arr", "n"]), "int (int *arr, int n, ...)"),
        (Array(DOUBLE, None), "double[]"),
    ])
    def test_c_name(self, ctype, text):
        assert ctype.c_name() == text
        assert repr(ctype) == f"<{text}>"

    def test_anonymous_struct_spells_its_typedef_name(self):
        s = StructOrUnion("struct", None)
        assert s.c_name() == "struct <anonymous>"
        s.typedef_name = "Student"
        assert s.c_name("*p") == "Student *p"


class TestEquality:
    def test_value_types_compare_and_hash_by_value(self):
        assert Pointer(INT) == Pointer(Primitive("int"))
        assert hash(Array(INT, 3)) == hash(Array(INT, 3))
        assert Pointer(INT) != Pointer(INT, const=True)
        assert FunctionType(INT, [INT], param_names=["a"]) == FunctionType(INT, [INT])

    def test_structs_and_enums_are_nominal(self):
        a, b = StructOrUnion("struct", "p"), StructOrUnion("struct", "p")
        assert a != b and a == a
        assert Enum("e", [("A", 1)]) != Enum("e", [("A", 1)])

    def test_immutable(self):
        with pytest.raises(AttributeError):
            Pointer(INT).target = CHAR

    def test_struct_completes_once(self):
        s = StructOrUnion("struct", "node")
        assert not s.is_complete
        s.complete([])
        with pytest.raises(ValueError, match="already complete"):
            s.complete([])

    def test_resolve_strips_typedefs(self):
        assert resolve(Typedef("b", Typedef("a", INT))) is INT

    def test_bad_primitive_name(self):
        with pytest.raises(ValueError, match="not a primitive"):
            Primitive("integer")
