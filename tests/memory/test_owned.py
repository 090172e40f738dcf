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
    def test_zeroed_typed_and_zero_copy(self, clib):
        with ffikit.alloc("double", 1000) as m:
            assert (m.size, m.ctype) == (8000, ctypes.c_double)
            assert m.address % mmap.PAGESIZE == 0 and len(memoryview(m)) == 8000
            assert ffikit.asarray(m).sum() == 0.0
            clib.fill(m, 16, 0xFF)  # C writes through the Memory itself
            assert ffikit.asarray(m)[0] != 0.0
            assert ffikit.address(m.view) == m.address

    def test_free_under_a_live_export_is_refused(self):
        m = ffikit.alloc("int32_t", 4)
        arr = ffikit.asarray(m)
        with pytest.raises(BufferError, match="still alive.*nothing was freed"):
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
        with pytest.raises(ValueError):  # CPython's own mmap error (a ValueError, like MemoryReleased)
            memoryview(m)

    def test_freed_at_garbage_collection(self):
        with ffikit.track() as t:
            m = ffikit.alloc("char", 64)
            assert len(t.leaks()) == 1
            del m
            gc.collect()
            assert t.leaks() == []

    def test_alignment_and_errors(self):
        assert ffikit.alloc("char", 10, align=8192).address % 8192 == 0
        with pytest.raises(ValueError, match="power of two"):
            ffikit.alloc("char", 10, align=3)
        with pytest.raises(ValueError, match="count must be >= 1"):
            ffikit.alloc("char", 0)

    def test_protect_read_only_refuses_python_writes(self):
        m = ffikit.alloc("int", 4, pages=True)
        m.view[0] = 5
        m.protect("r")
        assert m.view[0] == 5
        with pytest.raises(ffikit.ReadOnlyBuffer):
            m.view[0] = 6
        with pytest.raises(ffikit.ReadOnlyBuffer):
            m[0] = 1
        m.protect("rw")
        m.view[0] = 6
        assert m.view[0] == 6
        with pytest.raises(ValueError, match="mode must be"):
            m.protect("w")

    def test_guard_page_sits_right_after_the_region(self):
        m = ffikit.alloc("char", 100, guard=True)
        assert (m.address + m.size) % mmap.PAGESIZE == 0
        m.view[99] = b"x"  # the last byte is writable
        assert len(m.region()) == 100


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
        with pytest.raises(MemoryError, match="do not fit"):
            arena.alloc("char", 2000)

    def test_reset_refused_while_exported(self):
        arena = ffikit.Arena(64)
        v = arena.alloc("int", 4).view
        with pytest.raises(BufferError, match="still alive"):
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
        with pytest.raises(MemoryError, match="all 2 blocks"):
            pool.alloc()
        with pytest.raises(ValueError, match="blocks are 16"):
            ffikit.Pool(16, 1).alloc("double[4]")


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


class TestPickling:
    """Owned memory pickles by value; foreign or protected memory is refused."""

    def test_by_value_into_a_fresh_interpreter(self, tmp_path):
        from pickle_helpers import in_fresh_interpreter

        m = ffikit.alloc("int32_t", 4)
        m.view[:] = [1, 2, 3, -4]
        out = in_fresh_interpreter(m, "print(type(obj).__name__, list(obj.view))", tmp_path)
        assert out == "Memory [1, 2, 3, -4]"

    def test_protocol_5_sends_the_bytes_out_of_band_without_a_copy(self):
        import pickle

        m = ffikit.alloc("double", 1000)
        m.view[999] = 2.5
        buffers: list = []
        data = pickle.dumps(m, protocol=5, buffer_callback=buffers.append)
        assert len(data) < 200 and len(buffers) == 1  # the 8000 bytes are not in the stream
        raw = buffers[0].raw()
        assert ffikit.address(raw) == m.address  # the region itself, not a copy
        raw.release()
        back = pickle.loads(data, buffers=buffers)
        assert back.view[999] == 2.5 and back.address != m.address

    def test_old_protocols_still_work(self):
        import pickle

        m = ffikit.alloc("uint8_t", 3)
        m.view[:] = [7, 8, 9]
        assert list(pickle.loads(pickle.dumps(m, protocol=2)).view) == [7, 8, 9]

    def test_refusals(self):
        import pickle

        m = ffikit.alloc("char", 4096, pages=True)
        m.protect("none")
        with pytest.raises(ffikit.NotPicklable, match="protected 'none'.*protect\\('rw'\\)"):
            pickle.dumps(m)
        m.protect("rw")
        m.free()
        with pytest.raises(ffikit.NotPicklable, match="freed"):
            pickle.dumps(m)
        foreign = ffikit.adopt(ffikit.address(ffikit.alloc("char", 8)), 8, free=lambda a: None)
        with pytest.raises(ffikit.NotPicklable, match="belongs to the C library"):
            pickle.dumps(foreign)
