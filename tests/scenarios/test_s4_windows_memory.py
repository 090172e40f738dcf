"""S4: Windows-style memory management — protection, guard pages, arenas and pools.

The faults happen in child processes so the test run survives them.
"""

import signal
import subprocess
import sys
import textwrap

import pytest

import ffikit
from memory_helpers import COUNTING_ALLOCATOR, DECLARATIONS

pytestmark = pytest.mark.usefixtures("backend")  # children inherit $FFIKIT_BACKEND

@pytest.fixture(scope="module")
def lib_path(cbuild, backend):
    return cbuild(COUNTING_ALLOCATOR, name="s4")


def _child(lib_path: str, body: str) -> subprocess.CompletedProcess:
    code = f"import ffikit\nffikit.enable_faulthandler()\nlib = ffikit.load({lib_path!r}, {DECLARATIONS!r})\n"
    code += textwrap.dedent(body)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)


def test_c_write_to_read_only_memory_kills_the_child(lib_path):
    proc = _child(lib_path, """
        m = ffikit.alloc("uint8_t", 4096, pages=True)
        lib.poke(m, 0, 1)          # fine while writable
        print("written", flush=True)
        m.protect("r")
        try:
            lib.poke(m.view, 0, 2)  # ffikit refuses a read-only view for a non-const pointer
        except ffikit.ReadOnlyBuffer:
            print("refused", flush=True)
        import ctypes
        raw = ctypes.cast(m.address, ctypes.POINTER(ctypes.c_uint8))
        lib.poke(raw, 0, 2)        # a raw pointer gets through: C writes into read-only pages
        print("not reached", flush=True)
    """)
    assert proc.returncode == -signal.SIGSEGV, proc.stderr
    assert "written" in proc.stdout and "refused" in proc.stdout
    assert "not reached" not in proc.stdout
    assert "Fatal Python error: Segmentation fault" in proc.stderr  # faulthandler says where


def test_guard_page_turns_a_one_byte_overflow_into_a_fault(lib_path):
    ok = _child(lib_path, """
        m = ffikit.alloc("uint8_t", 100, guard=True)
        lib.fill(m.view, 100, 9)   # exactly the region: fine
        print("ok")
    """)
    assert ok.returncode == 0 and "ok" in ok.stdout
    proc = _child(lib_path, """
        m = ffikit.alloc("uint8_t", 100, guard=True)
        lib.poke(m.view, 100, 1)   # one byte past the end
    """)
    assert proc.returncode == -signal.SIGSEGV


def test_arena_and_pool_statistics_after_a_mixed_workload():
    arena = ffikit.Arena(4096, align=16)
    pool = ffikit.Pool(block_size=48, blocks=32)
    blocks = []
    for i in range(20):
        arena.alloc("double", i % 5 + 1)
        blocks.append(pool.alloc())
        if i % 3 == 0:
            pool.release(blocks.pop(0))
    assert arena.used == sum(((i % 5 + 1) * 8 + 15) // 16 * 16 for i in range(19)) + 8 * (19 % 5 + 1)
    assert arena.high_water == arena.used
    assert (pool.in_use, pool.high_water) == (13, 13)  # 20 allocs, 7 releases
    assert pool.block_size == 48 and 0.0 <= pool.fragmentation < 1.0
    arena.reset()
    assert arena.used == 0 and arena.high_water > 0
    pool.close()
    arena.close()


def test_protection_is_real_for_c_and_never_faults_python(lib_path):
    """The same 'none' pages: Python is refused with ProtectedMemory, a raw C read faults."""
    proc = _child(lib_path, """
        import ctypes
        m = ffikit.alloc("uint8_t", 4096, pages=True)
        lib.poke(m, 0, 9)
        m.protect("none")
        for attempt in (lambda: bytes(m), lambda: m[0], lambda: m.view, lambda: lib.poke(m, 0, 1)):
            try:
                attempt()
            except ffikit.ProtectedMemory:
                print("refused", flush=True)
        raw = ctypes.cast(m.address, ctypes.POINTER(ctypes.c_uint8))
        print(raw[0])              # a raw pointer gets through: the read faults
    """)
    assert proc.returncode == -signal.SIGSEGV, proc.stderr
    assert proc.stdout.split() == ["refused"] * 4


def test_heap_memory_by_default_pages_when_protected(lib_path):
    ok = _child(lib_path, """
        plain = ffikit.alloc("uint8_t", 64)
        try:
            plain.protect("r")
        except ffikit.InvalidValue as exc:
            print("pages=True" in str(exc))
        paged = ffikit.alloc("uint8_t", 64, pages=True)
        paged.protect("r")
        paged.protect("rw")
        lib.fill(paged, 64, 3)
        print(paged[63])
    """)
    assert ok.returncode == 0 and ok.stdout.split() == ["True", "3"], ok.stderr
