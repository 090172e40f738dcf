"""The exception hierarchy: every error is an FFIError and the builtin DESIGN.md names."""

import pytest

import ffikit
from ffikit import errors

EXPECTED_BASES = {
    "LibraryNotFound": OSError,
    "SymbolNotFound": AttributeError,
    "DeclarationError": ValueError,
    "ArgumentError": TypeError,
    "CallError": OSError,
    "CallbackReleased": RuntimeError,
    "CallbackRecursion": RecursionError,
    "BufferTooSmall": ValueError,
    "ReadOnlyBuffer": TypeError,
    "NotContiguous": BufferError,
    "MisalignedBuffer": ValueError,
    "MemoryReleased": ValueError,
    "InvalidAddress": ValueError,
    "MemoryInUse": BufferError,
    "ProtectedMemory": PermissionError,
    "OutOfMemory": MemoryError,
    "InvalidValue": ValueError,
    "UnknownMember": AttributeError,
    "SharedMemoryNotFound": FileNotFoundError,
    "SharedMemoryExists": FileExistsError,
    "OutOfRange": OverflowError,
    "CompileError": RuntimeError,
    "UntrustedCache": PermissionError,
    "LeakError": AssertionError,
}


class TestHierarchy:
    @pytest.mark.parametrize("name,builtin", sorted(EXPECTED_BASES.items()))
    def test_subclasses_ffierror_and_builtin(self, name, builtin):
        cls = getattr(ffikit, name)
        assert issubclass(cls, ffikit.FFIError)
        assert issubclass(cls, builtin)

    def test_all_errors_exported_and_display_as_ffikit(self):
        for name in errors.__all__:
            cls = getattr(ffikit, name)
            assert cls.__module__ == "ffikit"
            assert name in ffikit.__all__


class TestDeclarationError:
    def test_renders_location_caret_and_hint(self):
        err = ffikit.DeclarationError(
            "unknown type name 'u8'",
            filename="<cdef>",
            line=3,
            column=5,
            source_line="    u8 x;",
            hint="declare it with typedef, or include the header that does",
        )
        assert str(err) == (
            "<cdef>:3:5: unknown type name 'u8'\n"
            "        u8 x;\n"
            "        ^\n"
            "hint: declare it with typedef, or include the header that does"
        )
        assert (err.line, err.column) == (3, 5)


class TestCallError:
    def test_errno_form_is_a_real_oserror(self):
        err = ffikit.CallError("open failed: ENOENT", function="open", code=-1, errno=2,
                               strerror="No such file or directory")
        assert err.errno == 2 and err.strerror == "No such file or directory"
        assert str(err) == "open failed: ENOENT"

    def test_code_name_kept(self):
        err = ffikit.CallError("f returned -2 (EINVAL)", function="f", code=-2, code_name="EINVAL")
        assert (err.function, err.code, err.code_name) == ("f", -2, "EINVAL")


def test_symbol_not_found_makes_its_suggestion_only_when_shown():
    asked = []

    def suggest() -> str:
        asked.append(1)
        return "; did you mean 'compress2'?"

    exc = ffikit.SymbolNotFound("libz.so does not export 'compres'", suggest)
    assert asked == []  # refusing costs no fuzzy search
    assert str(exc) == "libz.so does not export 'compres'; did you mean 'compress2'?"
    assert str(exc) == "libz.so does not export 'compres'; did you mean 'compress2'?"
    assert asked == [1]  # computed once


def test_a_missing_symbol_still_suggests_the_declared_name():
    lib = ffikit.load("z", "unsigned long crc32(unsigned long, const unsigned char *, unsigned int);")
    assert not hasattr(lib, "crc3")
    try:
        lib.crc3  # noqa: B018
    except ffikit.SymbolNotFound as exc:
        assert "did you mean 'crc32'" in str(exc)
@pytest.fixture(scope="module")
def range_lib(cbuild, backend):
    path = cbuild("""
        #include <stdint.h>
        int8_t echo8(int8_t v) { return v; }
        float echof(float v) { return v; }
        unsigned long long echou(unsigned long long v) { return v; }
    """, name="outofrange")
    return ffikit.load(path, "#include <stdint.h>\nint8_t echo8(int8_t v); float echof(float v);"
                             "unsigned long long echou(unsigned long long v);")


class TestOutOfRange:
    """A number outside its C type is an OverflowError too (what users and cffi catch)."""

    @pytest.mark.parametrize("call, value", [("echo8", 128), ("echo8", -129), ("echou", -1),
                                             ("echou", 2**64), ("echof", 1e300), ("echof", 10**400)])
    def test_an_out_of_range_argument_is_an_overflowerror(self, range_lib, call, value):
        with pytest.raises(OverflowError) as info:
            getattr(range_lib, call)(value)
        assert isinstance(info.value, ffikit.OutOfRange) and isinstance(info.value, ffikit.ArgumentError)
        assert call in str(info.value)

    def test_the_edges_still_pass(self, range_lib):
        lib = range_lib
        assert (lib.echo8(127), lib.echo8(-128), lib.echou(2**64 - 1)) == (127, -128, 2**64 - 1)

    def test_new_and_wrong_kinds(self):
        with pytest.raises(OverflowError):
            ffikit.new("uint8_t", 256)
        with pytest.raises(ffikit.ArgumentError) as info:  # a wrong kind is not a range error
            ffikit.new("uint8_t", "1")
        assert not isinstance(info.value, OverflowError)
