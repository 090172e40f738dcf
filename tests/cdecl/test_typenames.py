"""Type names: built-in names per platform, 'T *' without the parser, array suffixes."""

import gc

import pytest

import ffikit
from ffikit.cdecl import layout, typenames
from ffikit.cdecl.model import Array, Pointer


def test_builtin_types_are_cached_per_platform():
    host = layout.host_platform()
    names = typenames.builtin_types(host)
    assert "int32_t" in names and "size_t" in names
    assert typenames.builtin_types(host) is names


def test_pointer_names_are_read_without_the_parser():
    assert typenames.POINTER_TO_NAME.fullmatch("struct s **").group(1) == "struct s"
    assert typenames.POINTER_TO_NAME.fullmatch("int (*)(int)") is None


def test_parse_type_name_reads_function_pointer_arrays():
    defs = ffikit.cdef("typedef int myint;")
    t = typenames.parse_type_name("int (*[3])(int)", defs._result, defs.platform)
    assert isinstance(t, Array) and t.length == 3 and isinstance(t.item, Pointer)
    assert defs.sizeof("int (*[3])(int)") == 24  # an abstract declarator, as gcc sizes it


def test_array_suffixes_take_constants_and_refuse_others():
    defs = ffikit.cdef("#define N 4\ntypedef int myint;")
    t = typenames.with_dims(defs.typeof("myint"), "[N][2]", "myint[N][2]", defs)
    assert isinstance(t, Array) and t.length == 4 and t.item.length == 2
    with pytest.raises(ffikit.DeclarationError, match="not a constant"):
        typenames.with_dims(defs.typeof("myint"), "[M]", "myint[M]", defs)
    with pytest.raises(ffikit.DeclarationError, match="non-negative"):
        typenames.with_dims(defs.typeof("myint"), "[-1]", "myint[-1]", defs)


def test_parsing_leaves_the_collector_as_it_found_it():
    import gc

    source = "struct node { struct node *next; int v; }; int count(struct node *);"
    assert gc.isenabled()
    ffikit.cdef(source)
    assert gc.isenabled()
    gc.disable()
    try:
        ffikit.cdef(source + " int other(void);")
        assert not gc.isenabled()  # a program that turned it off keeps it off
    finally:
        gc.enable()
    with pytest.raises(ffikit.DeclarationError):
        ffikit.cdef("int broken(;")
    assert gc.isenabled()  # a parse error too


class TestWithoutGc:
    def test_paused_during_and_restored_after(self):
        without_gc = typenames.without_gc
        assert gc.isenabled()
        assert without_gc(gc.isenabled) is False
        assert gc.isenabled()

        def fail():
            raise KeyError("x")

        with pytest.raises(KeyError):
            without_gc(fail)
        assert gc.isenabled()
        gc.disable()
        try:
            assert without_gc(lambda: 1) == 1 and not gc.isenabled()  # left as it was
        finally:
            gc.enable()

    def test_include_leaves_the_collector_on(self, tmp_path):
        with pytest.raises(ffikit.DeclarationError):
            ffikit.include(str(tmp_path / "missing_ffikit.h"))
        assert gc.isenabled()
        (tmp_path / "ok_ffikit.h").write_text("struct s { int a; double b; };\n")
        assert ffikit.include(str(tmp_path / "ok_ffikit.h")).sizeof("struct s") == 16
        assert gc.isenabled()
