"""ffikit.alloc / adopt / Arena / Pool: ownership, export rules, use-after-free."""

import ctypes
import gc
import mmap

import numpy as np
import pytest

import ffikit
from memory_helpers import COUNTING_ALLOCATOR, DECLARATIONS


@pytest.fixture(scope="module")
def clib(cbuild):
    return ffikit.load(cbuild(COUNTING_ALLOCATOR, name="counting"), DECLARATIONS)


class TestAlloc:
    @pytest.mark.parametrize("pages", [False, True])
    def test_zeroed_typed_and_zero_copy(self, clib, pages):
        with ffikit.alloc("double", 1000, pages=pages) as m:
            assert (m.size, m.ctype, len(m)) == (8000, ctypes.c_double, 8000)
            view = memoryview(m)  # typed as its items: NumPy takes the buffer first
            assert (view.format, len(view), view.nbytes) == ("d", 1000, 8000) and m.address % 16 == 0
            view.release()
            assert (m.address % mmap.PAGESIZE == 0) or not pages
            assert ffikit.asarray(m).sum() == 0.0
            clib.fill(m, 16, 0xFF)  # C writes through the Memory itself
            assert ffikit.asarray(m)[0] != 0.0
            assert ffikit.address(m.view) == m.address == ffikit.address(memoryview(m))
            assert ffikit.asarray(m).ctypes.data == m.address

    def test_heap_by_default_pages_on_request(self):
        small, paged = ffikit.alloc("char", 64), ffikit.alloc("char", 64, pages=True)
        assert type(memoryview(small).obj) is bytearray  # malloc-backed: no system call
        assert type(memoryview(paged).obj.obj) is mmap.mmap
        big = ffikit.alloc("char", 1 << 20)  # too big for the heap: lazily zeroed pages
        assert type(memoryview(big).obj.obj) is mmap.mmap and big.address % mmap.PAGESIZE == 0
        for m in (small, paged, big):
            m.free()

    def test_free_under_a_live_export_is_refused(self):
        m = ffikit.alloc("int32_t", 4)
        arr = ffikit.asarray(m)
        with pytest.raises(ffikit.MemoryInUse, match="still alive.*nothing was freed"):
            m.free()
        arr[0] = 3  # still valid memory
        del arr
        gc.collect()
        m.free()
        assert m.freed

    def test_view_object_counts_as_an_export(self):
        m = ffikit.alloc("int", 2)
        v = m.view
        with pytest.raises(BufferError):
            m.free()
        del v
        m.free()

    def test_use_after_free(self):
        m = ffikit.alloc("char", 16)
        m.free()
        m.free()  # a no-op
        with pytest.raises(ffikit.MemoryReleased, match="use after free"):
            _ = m.address
        with pytest.raises(ffikit.MemoryReleased):
            _ = m.view
        with pytest.raises(ValueError):  # CPython's own refusal (a ValueError, like MemoryReleased)
            memoryview(m)
        with pytest.raises(ffikit.MemoryReleased):
            bytes(m)
        with pytest.raises(ffikit.MemoryReleased):
            m[0]
        with pytest.raises(ffikit.MemoryReleased):
            ffikit.view(m, "char[]")

    def test_freed_at_garbage_collection(self):
        with ffikit.track() as t:
            m = ffikit.alloc("char", 64)
            assert len(t.leaks()) == 1
            del m
            gc.collect()
            assert t.leaks() == []

    @pytest.mark.parametrize("align", [1, 8, 16, 32, 4096, 8192])
    def test_alignment(self, align):
        m = ffikit.alloc("char", 10, align=align)
        assert m.address % align == 0 and len(memoryview(m)) == 10
        assert ffikit.alloc("double", 3).address % 8 == 0

    def test_argument_errors(self):
        with pytest.raises(ffikit.InvalidValue, match="power of two"):
            ffikit.alloc("char", 10, align=3)
        with pytest.raises(ValueError, match="count must be >= 1"):
            ffikit.alloc("char", 0)
        with pytest.raises(ffikit.ArgumentError, match="count must be an int, got float"):
            ffikit.alloc("char", 2.0)
        with pytest.raises(ffikit.ArgumentError, match="got str"):
            ffikit.alloc("char", "8")
        with pytest.raises(ffikit.OutOfMemory):
            ffikit.alloc("char", 2**62)
        with pytest.raises(ffikit.OutOfMemory, match="more than this process can address"):
            ffikit.alloc("double", 2**70)
        assert len(ffikit.alloc("char", np.int64(3))) == 3  # any integer type

    def test_guard_pages_sit_right_outside_the_region(self):
        m = ffikit.alloc("char", 100, guard=True)
        assert (m.address + m.size) % mmap.PAGESIZE == 0
        m.view[99] = b"x"  # the last byte is writable
        assert len(m.region()) == len(memoryview(m)) == 100
        before = ffikit.alloc("char", 100, guard_before=True)
        assert before.address % mmap.PAGESIZE == 0 and len(memoryview(before)) == 100


class TestTypedExport:
    """memoryview(m) has the item's format, so NumPy's buffer-first np.asarray is typed
    (issue 22), from every allocator, with the export rules unchanged."""

    KINDS = [{}, {"pages": True}, {"guard": True}, {"guard_before": True}]

    @pytest.mark.parametrize("kind", KINDS, ids=["heap", "pages", "guard", "guard_before"])
    @pytest.mark.parametrize("ctype, dtype", [("double", np.float64), ("float", np.float32),
                                              ("int32_t", np.int32), ("int64_t", np.int64),
                                              ("uint16_t", np.uint16), ("int8_t", np.int8),
                                              ("_Bool", np.bool_)])
    def test_np_asarray_is_typed_and_zero_copy(self, kind, ctype, dtype):
        m = ffikit.alloc(ctype, 5, **kind)
        a = np.asarray(m)
        assert (a.dtype, a.shape, a.ctypes.data) == (np.dtype(dtype), (5,), m.address)
        a[4] = 1
        assert bytes(m)[-a.itemsize:] == a[4:].tobytes() and type(m[0]) is int  # m[i] is a byte
        with pytest.raises(ffikit.MemoryInUse):
            m.free()
        del a
        gc.collect()
        m.free()
        assert m.freed

    @pytest.mark.parametrize("count", [1, 2, 1 << 15])  # 1 << 15 doubles: page memory
    def test_sizes_and_the_big_path(self, count):
        m = ffikit.alloc("double", count)
        view = memoryview(m)
        assert (view.format, view.shape, view.nbytes) == ("d", (count,), 8 * count)
        assert m.region().format == "B" and len(m.region()) == 8 * count
        del view
        m.free()

    def test_bytes_items_and_structs_export_bytes(self):
        for ctype in ("char", "uint8_t", "unsigned char"):
            assert memoryview(ffikit.alloc(ctype, 4)).format == "B", ctype
        pair = ffikit.alloc(ffikit.cdef("typedef struct { int x, y; } P;").types["P"], 2)
        assert memoryview(pair).format == "B" and ffikit.asarray(pair).shape == (2,)

    def test_protect_waits_for_the_typed_array_then_it_is_read_only(self):
        m = ffikit.alloc("int32_t", 1024, pages=True)
        a = np.asarray(m)
        with pytest.raises(ffikit.MemoryInUse):
            m.protect("r")
        del a
        m.protect("r")
        ro = np.asarray(m)
        assert ro.dtype == np.int32 and not ro.flags.writeable
        with pytest.raises(ffikit.MemoryInUse):
            m.protect("rw")
        del ro
        m.protect("none")
        with pytest.raises(TypeError, match="protected 'none'"):
            np.asarray(m, dtype=np.int32) + 0
        m.protect("rw")
        assert np.asarray(m).sum() == 0
        m.free()

    def test_a_view_outliving_every_other_reference(self):
        a = np.asarray(ffikit.alloc("double", 4))  # the array holds the export, the export the memory
        gc.collect()
        a[:] = [1, 2, 3, 4]
        assert a.sum() == 10.0


class TestBoundedToTheRegion:
    """Every path to the bytes sees the region, never the mapping around it."""

    @pytest.mark.parametrize("how", [{"guard": True}, {"guard_before": True}, {"align": 8192},
                                     {}, {"pages": True}])
    def test_every_path_is_the_region(self, how):
        m = ffikit.alloc("uint8_t", 16, **how)
        m[0], m[15] = 5, 7
        assert m[:] == bytes(m) == bytes(memoryview(m)) == b"\x05" + bytes(14) + b"\x07"
        assert (m[0], m[-1], len(m), m.view[0]) == (5, 7, 16, 5)
        assert len(ffikit.asarray(m)) == 16 and len(ffikit.view(m, "uint8_t[]")) == 16
        assert ffikit.address(memoryview(m)) == m.address
        with pytest.raises(IndexError):
            m[16]
        with pytest.raises(IndexError):
            m[-17] = 1

    def test_slices_are_copies_and_never_resize(self):
        m = ffikit.alloc("uint8_t", 8)
        part = m[2:4]
        assert isinstance(part, bytes)
        m[2:4] = b"ab"
        assert part == bytes(2) and m[2:4] == b"ab"
        with pytest.raises(ffikit.BufferTooSmall, match="3 bytes given for a slice of 2"):
            m[2:4] = b"abc"
        with pytest.raises(ffikit.ArgumentError):
            m[2:4] = [1, 2]
        assert len(m) == 8 and len(memoryview(m)) == 8


class TestProtect:
    """protect() waits for exports; exports after it are read-only or refused."""

    def test_read_only_refuses_python_writes(self):
        m = ffikit.alloc("int", 4, pages=True)
        m.view[0] = 5
        m.protect("r")
        assert (m.view[0], m.protection) == (5, "r")
        with pytest.raises(ffikit.ProtectedMemory, match="protect\\('rw'\\)"):
            m.view[0] = 6
        with pytest.raises(ffikit.ProtectedMemory):
            m[0] = 1
        with pytest.raises(ffikit.ProtectedMemory):
            ffikit.view(m, "int[]")[1] = 1
        with pytest.raises(TypeError, match="cannot modify read-only memory"):  # CPython refuses
            memoryview(m)[0] = 1
        with pytest.raises(ValueError, match="read-only"):  # NumPy refuses
            ffikit.asarray(m)[0] = 1
        with pytest.raises(TypeError):  # ctypes asks for a writable export: refused
            (ctypes.c_int * 4).from_buffer(m)
        assert not np.frombuffer(m, np.int32).flags.writeable
        m.protect("rw")
        m.view[0] = 6
        assert m.view[0] == 6
        with pytest.raises(ffikit.InvalidValue, match="mode must be"):
            m.protect("w")

    def test_none_refuses_every_read(self):
        m = ffikit.alloc("char", 4096, pages=True)
        address = m.address
        m.protect("none")
        for read in (lambda: m.view, lambda: bytes(m), lambda: m[0], lambda: m[:],
                     lambda: ffikit.asarray(m), lambda: ffikit.view(m, "char[]"), m.region):
            with pytest.raises(ffikit.ProtectedMemory, match="protected 'none'"):
                read()
        with pytest.raises(ffikit.ProtectedMemory):
            m[0] = b"x"
        with pytest.raises(TypeError, match="protected 'none'"):  # CPython names the state
            memoryview(m)
        assert m.address == address  # C may still be given the address
        m.protect("r")
        assert m[0] == b"\0"[0] and m.view[0] == b"\0"
        m.free()

    @pytest.mark.parametrize("export", [
        lambda m: memoryview(m), lambda m: m.view, lambda m: ffikit.asarray(m),
        lambda m: ffikit.view(m, "uint8_t[]"), lambda m: np.frombuffer(m, np.uint8),
        lambda m: (ctypes.c_uint8 * 16).from_buffer(m)])
    def test_exports_taken_before_protect_stop_it(self, export):
        m = ffikit.alloc("uint8_t", 16, pages=True)
        alive = export(m)
        for mode in ("r", "none", "rx"):
            with pytest.raises(ffikit.MemoryInUse, match="still alive.*nothing was changed"):
                m.protect(mode)
        assert m.protection == "rw"
        alive[0] = 1  # still writable memory: the refusal changed nothing
        assert m[0] == 1
        del alive
        m.protect("none")
        assert m.protection == "none"
        m.protect("rw")
        m.free()

    def test_protect_needs_pages_and_live_memory(self):
        with pytest.raises(ffikit.InvalidValue, match="pages=True"):
            ffikit.alloc("char", 64).protect("r")
        with pytest.raises(ffikit.InvalidValue, match="pages=True"):
            ffikit.alloc("char", 1 << 20).protect("r")  # page-backed, but not asked to be
        m = ffikit.alloc("char", 64, pages=True)
        m.free()
        with pytest.raises(ffikit.MemoryReleased):
            m.protect("r")

    def test_free_while_protected(self):
        for mode in ("r", "none"):
            m = ffikit.alloc("char", 64, guard=True)
            m.protect(mode)
            m.free()
            assert m.freed and m.protection == "freed"


class TestAdopt:
    def test_freed_exactly_once(self, clib):
        before = clib.free_count()
        m = ffikit.adopt(clib.allocate_buffer(32), 32, free=clib.free_buffer, ctype="uint8_t",
                         count=32)
        assert m.view[5] == 7 and bytes(m.buffer()[:2]) == b"\x07\x07"
        m.free()
        m.free()
        del m
        gc.collect()
        assert clib.free_count() == before + 1

    def test_freed_by_context_and_by_gc(self, clib):
        before = clib.free_count()
        with ffikit.adopt(clib.allocate_buffer(8), 8, free=clib.free_buffer):
            pass
        m = ffikit.adopt(clib.allocate_buffer(8), 8, free=clib.free_buffer)
        del m
        gc.collect()
        assert clib.free_count() == before + 2

    def test_libc_free_and_errors(self):
        libc = ctypes.CDLL(None)
        libc.malloc.restype = ctypes.c_void_p
        m = ffikit.adopt(libc.malloc(16), 16, free="libc")
        m.free()
        with pytest.raises(ffikit.MemoryReleased):
            _ = m.address
        with pytest.raises(ValueError, match="NULL"):
            ffikit.adopt(0, free="libc")
        with pytest.raises(ValueError, match="'libc'"):
            ffikit.adopt(1234, free="glibc")
        with pytest.raises(ffikit.InvalidValue, match="size must be >= 0, got -8"):
            ffikit.adopt(1234, -8, free="libc")
        with pytest.raises(ffikit.ArgumentError, match="size must be an int"):
            ffikit.adopt(1234, 8.0, free="libc")
        with pytest.raises(ffikit.InvalidValue, match="count must be >= 1"):
            ffikit.adopt(1234, ctype="int", count=0, free="libc")

    @pytest.mark.parametrize("export", ["view", "buffer"])
    def test_a_view_keeps_the_memory_alive(self, clib, export):
        before = clib.free_count()
        m = ffikit.adopt(clib.allocate_buffer(8), 8, free=clib.free_buffer, ctype="uint8_t",
                         count=8)
        alive = m.view if export == "view" else m.buffer()
        del m
        gc.collect()
        assert clib.free_count() == before and alive[0] == 7  # not freed under the view
        del alive
        gc.collect()
        assert clib.free_count() == before + 1

    def test_free_waits_for_views_and_buffers(self, clib):
        before = clib.free_count()
        m = ffikit.adopt(clib.allocate_buffer(16), 16, free=clib.free_buffer, ctype="uint8_t",
                         count=16)
        for export in (lambda: m.view, m.buffer):
            alive = export()
            with pytest.raises(ffikit.MemoryInUse, match="nothing was freed"):
                m.free()
            assert alive[0] == 7 and clib.free_count() == before
            del alive
        m.free()
        assert clib.free_count() == before + 1 and m.freed
        with pytest.raises(ffikit.MemoryReleased):
            m.buffer()


class TestArena:
    def test_bump_statistics_and_reset(self, clib):
        arena = ffikit.Arena(1024, align=16)
        a = arena.alloc("double", 3)
        b = arena.alloc("char", 5)
        assert (a.address % 16, b.address - a.address) == (0, 32)
        assert (arena.used, arena.high_water) == (37, 37)
        clib.fill(a.view, 24, 1)
        arena.reset()
        assert arena.used == 0 and arena.high_water == 37
        with pytest.raises(ffikit.MemoryReleased):
            _ = a.address
        with pytest.raises(ffikit.OutOfMemory, match="do not fit"):
            arena.alloc("char", 2000)

    def test_counts_are_checked_and_the_lock_is_never_kept(self):
        arena = ffikit.Arena(1024)
        arena.alloc("int", 4)
        with pytest.raises(ffikit.InvalidValue, match="count must be >= 0, got -64"):
            arena.alloc("char", -64)
        with pytest.raises(ffikit.ArgumentError, match="count must be an int, got float"):
            arena.alloc("char", 2.5)
        with pytest.raises(ffikit.OutOfMemory):
            arena.alloc("char", 10**6)
        assert arena.used == 16 and arena.alloc("char", 0).size == 0
        assert arena.alloc("char", 4).address - arena._base == 16  # not hung, not overlapping
        for bad in ({"capacity": 0}, {"capacity": 64, "align": 3}, {"capacity": 1.5}):
            with pytest.raises(ffikit.ArgumentError):
                ffikit.Arena(**bad)

    def test_reset_refused_while_exported(self):
        arena = ffikit.Arena(64)
        v = arena.alloc("int", 4).view
        with pytest.raises(ffikit.MemoryInUse, match="still alive"):
            arena.reset()
        del v
        arena.reset()
        arena.close()
        with pytest.raises(ffikit.MemoryReleased):
            arena.alloc("int")


class TestPool:
    def test_statistics_and_fragmentation(self):
        pool = ffikit.Pool(block_size=64, blocks=8)
        blocks = [pool.alloc() for _ in range(6)]
        assert (pool.in_use, pool.high_water, pool.fragmentation) == (6, 6, 0.0)
        pool.release(blocks[1])
        pool.release(blocks[3])
        # free: slots 1, 3, 6, 7 -> largest run 2 of 4 free blocks
        assert (pool.in_use, pool.high_water, pool.fragmentation) == (4, 6, 0.5)
        with pytest.raises(ffikit.MemoryReleased):
            _ = blocks[1].address
        with pytest.raises(ValueError, match="already released"):
            pool.release(blocks[3])

    def test_exhaustion_and_typed_blocks(self):
        pool = ffikit.Pool(16, 2)
        b = pool.alloc("double")
        b.view.value = 2.5
        assert np.frombuffer(ffikit.buffer(b.view), np.float64)[0] == 2.5
        pool.alloc()
        with pytest.raises(ffikit.OutOfMemory, match="all 2 blocks"):
            pool.alloc()
        with pytest.raises(ffikit.InvalidValue, match="blocks are 16"):
            ffikit.Pool(16, 1).alloc("double[4]")
        for bad in ((0, 4), (16, -1), (16.0, 4), ("16", 4)):
            with pytest.raises(ffikit.ArgumentError):
                ffikit.Pool(*bad)

    def test_release_waits_for_the_blocks_views(self):
        pool = ffikit.Pool(64, 1)
        block = pool.alloc("int")
        view = block.view
        view.value = 7
        with pytest.raises(ffikit.MemoryInUse, match="views of this block.*nothing was released"):
            pool.release(block)
        with pytest.raises(ffikit.OutOfMemory):
            pool.alloc("int")  # the block is still the pool's only one, and still taken
        assert view.value == 7
        with pytest.raises(ffikit.MemoryInUse):
            pool.close()
        del view
        pool.release(block)
        with pytest.raises(ffikit.MemoryReleased):
            _ = block.view
        with pytest.raises(ffikit.MemoryReleased, match="already released"):
            pool.release(block)
        again = pool.alloc("int")
        assert again.address == block.address_  # the one block, handed out again
        other = ffikit.Pool(64, 1)
        with pytest.raises(ffikit.InvalidValue, match="another pool"):
            other.release(again)
        block_view = again.view
        del block_view
        pool.close()  # no view alive: regions of live blocks are given back first
        with pytest.raises(ffikit.MemoryReleased):
            _ = again.view


class TestMemoryAtTheBoundary:
    """C, views and NumPy all see exactly the region, whatever surrounds it."""

    WHERE = "#include <stdint.h>\nuintptr_t where(void *p) { return (uintptr_t)p; }\n" \
            "void touch(uint8_t *p) { p[0] = 1; }\n"

    def test_guarded_memory_passed_to_c_is_its_region(self, cbuild):
        lib = ffikit.load(cbuild(self.WHERE, name="where_mem"),
                          "uintptr_t where(void *p); void touch(uint8_t *p);")
        m = ffikit.alloc("uint8_t", 100, guard=True)
        assert m.address % mmap.PAGESIZE != 0  # the region does not start the mapping
        assert lib.where(m) == m.address == ffikit.address(ffikit.view(m, "uint8_t[]"))
        assert ffikit.asarray(m).ctypes.data == m.address and len(ffikit.asarray(m)) == 100

    def test_protected_memory_is_refused_for_a_non_const_pointer(self, cbuild):
        lib = ffikit.load(cbuild(self.WHERE, name="where_mem"),
                          "uintptr_t where(void *p); void touch(uint8_t *p);")
        m = ffikit.alloc("uint8_t", 16, pages=True)
        m.protect("r")
        with pytest.raises(ffikit.ReadOnlyBuffer, match="argument 1 'p' of 'touch'"):
            lib.touch(m)  # would fault in C
        m.protect("rw")
        lib.touch(m)
        assert m.view[0] == 1

    TYPED = "#include <stdint.h>\n#include <stddef.h>\n" \
            "uintptr_t dwhere(const double *p) { return (uintptr_t)p; }\n" \
            "double dsum(const double *p, size_t n) { double s = 0; while (n--) s += p[n]; return s; }\n"

    @pytest.mark.parametrize("kw", [{}, {"pages": True}, {"guard": True}])
    def test_typed_memory_reaches_a_typed_pointer_in_place(self, cbuild, kw):
        """alloc("double") is doubles to C: the same address, no copy, gone once freed."""
        lib = ffikit.load(cbuild(self.TYPED, name="typed_mem"),
                          "uintptr_t dwhere(const double *p); double dsum(const double *p, size_t n);")
        m = ffikit.alloc("double", 4, **kw)
        m.view[:] = [1.0, 2.0, 3.0, 4.5]
        assert lib.dwhere(m) == m.address and lib.dsum(m, 4) == 10.5
        with pytest.raises(ffikit.ArgumentError, match="must be a buffer of double .*int32"):
            lib.dsum(ffikit.alloc("int32_t", 2), 1)  # typed the other way: still refused
        m.free()
        with pytest.raises(ffikit.FFIError):
            lib.dsum(m, 4)
