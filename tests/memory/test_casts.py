"""ffikit.cast: C's pointer casts (struct "inheritance", void * user data), owners kept alive,
and every cast that would lose data or reach memory it should not refused."""

from __future__ import annotations

import ctypes
import gc

import pytest

import ffikit
from crashproof import outcome

SOURCE = r"""
typedef struct { int kind; } base;
typedef struct { base head; int extra; } derived;
int kind_of(const base *b) { return b->kind; }
int extra_of(const derived *d) { return d->extra; }
long sum_ints(const int *p, int n) { long s = 0; for (int i = 0; i < n; i++) s += p[i]; return s; }
"""
DECLS = """
typedef struct { int kind; } base;
typedef struct { base head; int extra; } derived;
int kind_of(const base *b);
int extra_of(const derived *d);
long sum_ints(const int *p, int n);
"""


@pytest.fixture(scope="module")
def lib(cbuild, backend):
    return ffikit.load(cbuild(SOURCE, name="casts"), DECLS)


def _derived(lib, kind: int, extra: int):
    d = lib.new("derived")
    d.head.kind, d.extra = kind, extra
    return d


def _churn(ctype=None):
    """Allocate (and fill with 0xFF) enough same-sized objects that freed memory is reused."""
    gc.collect()
    junk = [bytearray(b"\xff" * 64) for _ in range(2000)]
    if ctype is not None:
        junk += [ctype.from_buffer_copy(b"\xff" * ctypes.sizeof(ctype)) for _ in range(2000)]
    del junk


class TestStructPointers:
    def test_derived_object_as_base_pointer(self, lib):
        d = _derived(lib, 7, 9)
        with pytest.raises(ffikit.ArgumentError):
            lib.kind_of(d)  # a derived is not a base: the cast must be explicit
        assert lib.kind_of(ffikit.cast("base *", d, defs=lib.defs)) == 7

    def test_the_cast_keeps_the_object_alive(self, lib):
        d = _derived(lib, 11, 12)
        address = ffikit.address(d)
        as_base = ffikit.cast("base *", d, defs=lib.defs)
        del d
        _churn(lib.defs.derived)
        assert ffikit.cast("uintptr_t", as_base).value == address
        assert lib.kind_of(as_base) == 11 and as_base.contents.kind == 11

    def test_back_from_a_pointer(self, lib):
        """A base * whose extent ffikit does not know casts back to the derived * it is."""
        d = _derived(lib, 1, 42)
        as_base = ffikit.cast("base *", d, defs=lib.defs)
        again = ffikit.cast("derived *", as_base, defs=lib.defs)
        del d, as_base
        _churn(lib.defs.derived)
        assert lib.extra_of(again) == 42 and again.contents.extra == 42

    def test_text_resolves_against_recent_declarations(self, lib):
        d = _derived(lib, 3, 0)
        assert lib.kind_of(ffikit.cast("base *", d)) == 3

    def test_void_pointer_round_trip(self, lib):
        """User data: a struct as void *, and the void * back as the struct."""
        d = _derived(lib, 5, 6)
        opaque = ffikit.cast("void *", d)
        back = ffikit.cast("derived *", opaque, defs=lib.defs)
        del d, opaque
        _churn(lib.defs.derived)
        assert back.contents.extra == 6 and lib.extra_of(back) == 6

    def test_user_data_round_trip_through_an_address(self, lib):
        """A void * that comes back from C as a number casts back while its object lives."""
        d = _derived(lib, 8, 9)
        number = ffikit.cast("void *", d).value  # what C hands back: an address
        back = ffikit.cast("derived *", number, defs=lib.defs)
        del d
        _churn(lib.defs.derived)
        assert lib.extra_of(back) == 9  # the cast holds the object now
        inner = ffikit.cast("uintptr_t", back).value + 4
        with pytest.raises(ffikit.ArgumentError, match="knows no live object there"):
            ffikit.cast("int *", inner)  # only the start of an object it handed out

    def test_an_address_whose_object_died_is_refused(self, lib):
        d = _derived(lib, 1, 2)
        number = ffikit.cast("void *", d).value
        del d
        gc.collect()
        with pytest.raises(ffikit.ArgumentError, match="knows no live object there"):
            ffikit.cast("derived *", number, defs=lib.defs)

    def test_none_is_null(self, lib):
        assert not ffikit.cast("base *", None, defs=lib.defs)
        assert ffikit.cast("uintptr_t", None).value == 0


class TestBuffers:
    def test_bytearray_keeps_and_pins_its_memory(self, lib):
        data = bytearray((1).to_bytes(4, "little") * 3 + (4).to_bytes(4, "little"))
        p = ffikit.cast("int *", data)
        with pytest.raises(BufferError):
            data.extend(b"x")  # the pointer holds an export: no reallocation under it
        del data
        _churn()
        assert lib.sum_ints(p, 4) == 7 and p[3] == 4

    @pytest.mark.parametrize("obj", [b"\0" * 8, memoryview(bytearray(8)).toreadonly()])
    def test_read_only_memory_is_refused(self, obj):
        with pytest.raises(ffikit.ReadOnlyBuffer, match=r"ffikit\.cast\('int \*'"):
            ffikit.cast("int *", obj)

    def test_read_only_view_is_refused(self):
        ro = ffikit.view(b"\x01\0\0\0", "int32_t")
        with pytest.raises(ffikit.ReadOnlyBuffer, match="read-only"):
            ffikit.cast("int32_t *", ro)

    def test_empty_buffer_is_refused(self):
        with pytest.raises(ffikit.BufferTooSmall, match="empty"):
            ffikit.cast("char *", bytearray())

    def test_misaligned_is_refused(self):
        with pytest.raises(ffikit.MisalignedBuffer, match="not aligned for 'int \\*'"):
            ffikit.cast("int *", memoryview(bytearray(16))[1:9])

    @pytest.mark.parametrize("target,obj", [
        ("double *", lambda: ffikit.new("char[4]")),
        ("derived *", lambda: ffikit.new("int")),
        ("int64_t *", lambda: bytearray(7))])
    def test_target_larger_than_the_object_is_refused(self, lib, target, obj):
        with pytest.raises(ffikit.BufferTooSmall, match="C would read past its end"):
            ffikit.cast(target, obj(), defs=lib.defs)

    def test_exactly_fitting_is_accepted(self):
        assert ffikit.cast("int64_t *", bytearray(8))[0] == 0


class TestIntegers:
    def test_pointer_to_uintptr_and_intptr(self, lib):
        d = lib.new("derived")
        p = ffikit.cast("base *", d, defs=lib.defs)
        assert ffikit.cast("uintptr_t", p).value == ffikit.address(d)
        assert ffikit.cast("intptr_t", p).value % (1 << 64) == ffikit.address(d)

    @pytest.mark.parametrize("narrow", ["int", "uint32_t", "short", "char"])
    def test_pointer_to_a_narrower_integer_is_refused(self, narrow):
        p = ffikit.cast("char *", bytearray(1))
        with pytest.raises(ffikit.InvalidValue, match="the address would be cut"):
            ffikit.cast(narrow, p)

    @pytest.mark.parametrize("target,value", [("uint8_t", 256), ("uint8_t", -1),
                                              ("int32_t", 2**31), ("int64_t", -2**63 - 1)])
    def test_integers_that_do_not_fit_are_refused(self, target, value):
        with pytest.raises(ffikit.InvalidValue, match="does not fit"):
            ffikit.cast(target, value)

    def test_integers_that_fit(self):
        assert ffikit.cast("uint8_t", 255).value == 255
        assert ffikit.cast("int64_t", -2**63).value == -2**63


class TestRefused:
    @pytest.mark.parametrize("value", [0x1000, 0, -1, 2**70, 1.5, "text", True])
    def test_numbers_and_text_are_not_pointers(self, value):
        with pytest.raises(ffikit.ArgumentError, match="cannot cast"):
            ffikit.cast("int *", value)

    @pytest.mark.parametrize("target", ["int (*)(int)", "double", "base"])
    def test_targets_that_are_not_pointers_or_integers(self, lib, target):
        with pytest.raises(ffikit.ArgumentError, match="cannot cast to"):
            ffikit.cast(target, ffikit.new("int"), defs=lib.defs)

    def test_unknown_type_name(self):
        with pytest.raises(ffikit.DeclarationError, match="unknown type name 'no_such_t'"):
            ffikit.cast("no_such_t *", bytearray(8))

    def test_a_pointer_read_from_memory_stays_checked(self):
        """A bogus pointer seen through a view and then cast: dereferencing it is refused,
        never a crash (run in a child process)."""
        result, err = outcome("""
            import ffikit
            raw = bytearray((0x10).to_bytes(8, "little"))
            p = ffikit.view(raw, "int *")
        """, "ffikit.cast('char *', p)[0]")
        assert result == "raised InvalidAddress", err
