"""Issue 15's memory reproducers: each line once crashed the interpreter or corrupted memory.

Every case runs in a child process, which must survive and report the exact
result: an ffikit error (or CPython's own refusal, where CPython asks the
buffer itself) or the correct value.
"""

import subprocess
import sys
import textwrap

import pytest

PRELUDE = """
import ffikit, gc, numpy as np

def attempt(label, action):
    try:
        result = action()
    except Exception as exc:
        print(f"{label}: {type(exc).__name__}", flush=True)
    else:
        print(f"{label}: ok {result!r}", flush=True)
"""

from memory_helpers import SAFETY_SOURCE as SOURCE  # noqa: E402

DECLARATIONS = ("double half(double x); uint8_t first(const void *p); "
                "void fill(uint8_t *p, size_t n, uint8_t v); void set_int(int *p, int v);")


def run(body: str, lib_path: str | None = None) -> list[str]:
    code = PRELUDE
    if lib_path:
        code += f"lib = ffikit.load({lib_path!r}, {DECLARATIONS!r})\n"
    code += textwrap.dedent(body)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, f"the child died ({proc.returncode}):\n{proc.stderr}"
    return proc.stdout.splitlines()


@pytest.fixture(scope="module")
def lib_path(cbuild):
    return cbuild(SOURCE, name="safety")


def test_write_through_memoryview_of_read_only_memory():
    assert run("""
        m = ffikit.alloc("char", 4096, pages=True); m.protect("r")
        def write(): memoryview(m)[0] = 1
        attempt("write", write)          # CPython refuses a read-only export
        attempt("read", lambda: memoryview(m)[0])
    """) == ["write: TypeError", "read: ok 0"]


def test_array_taken_before_protect():
    assert run("""
        m = ffikit.alloc("char", 4096, pages=True); a = ffikit.asarray(m)
        attempt("protect", lambda: m.protect("r"))   # refused: the array may write
        def write(): a[0] = 1; return int(a[0])
        attempt("write", write)
        del a
        attempt("protect again", lambda: m.protect("r"))
        attempt("new array", lambda: ffikit.asarray(m).flags.writeable)
    """) == ["protect: MemoryInUse", "write: ok 1", "protect again: ok None",
             "new array: ok False"]


def test_reading_memory_protected_none():
    assert run("""
        m = ffikit.alloc("char", 4096, pages=True); m.protect("none")
        attempt("view", lambda: m.view[0])
        attempt("bytes", lambda: bytes(m))
        attempt("read", lambda: m.read())          # mmap's file API is gone
        attempt("memoryview", lambda: memoryview(m))
        attempt("asarray", lambda: ffikit.asarray(m))
    """) == ["view: ProtectedMemory", "bytes: ProtectedMemory", "read: AttributeError",
             "memoryview: TypeError", "asarray: ProtectedMemory"]


def test_writing_memory_protected_read_only():
    assert run("""
        m = ffikit.alloc("char", 4096, pages=True); m.protect("r")
        attempt("write", lambda: m.write(b"x"))
        def assign(): m[0:1] = b"x"
        attempt("slice", assign)
        def store(): m.view[0] = b"x"
        attempt("view", store)
    """) == ["write: AttributeError", "slice: ProtectedMemory", "view: ProtectedMemory"]


def test_guard_page_is_outside_every_python_path():
    assert run("""
        m = ffikit.alloc("char", 16, guard=True)
        attempt("slice", lambda: m[:])
        attempt("bytes", lambda: bytes(memoryview(m)))
        attempt("find", lambda: m.find(b"x"))
        attempt("len", lambda: len(memoryview(m)))
    """) == [f"slice: ok {bytes(16)!r}", f"bytes: ok {bytes(16)!r}", "find: AttributeError",
             "len: ok 16"]


def test_guard_before_is_outside_every_python_path():
    assert run("""
        m = ffikit.alloc("char", 16, guard_before=True)
        attempt("first", lambda: m[0])
        attempt("last", lambda: m[-1])
    """) == ["first: ok 0", "last: ok 0"]


def test_indexing_is_the_region_not_the_mapping():
    assert run("""
        m = ffikit.alloc("char", 16, guard=True)
        m[0] = 5
        attempt("region", lambda: (m.view[0], ffikit.buffer(m.address, 1)[0]))
        def past(): m[16] = 1
        attempt("past", past)
    """) == ["region: ok (b'\\x05', 5)", "past: IndexError"]


def test_arena_negative_count():
    assert run("""
        a = ffikit.Arena(1024); a.alloc("int", 4)
        attempt("negative", lambda: a.alloc("char", -64))
        attempt("used", lambda: a.used)
        x, y = a.alloc("char", 8), a.alloc("char", 8)
        attempt("apart", lambda: y.address - x.address)
    """) == ["negative: InvalidValue", "used: ok 16", "apart: ok 16"]


def test_arena_float_count_keeps_no_lock():
    assert run("""
        a = ffikit.Arena(1024)
        attempt("float", lambda: a.alloc("char", 2.5))
        attempt("next", lambda: a.alloc("char", 4).size)   # used to hang forever here
    """) == ["float: ArgumentError", "next: ok 4"]


def test_pool_release_with_a_live_view():
    assert run("""
        p = ffikit.Pool(64, 1); b = p.alloc("int"); v = b.view
        attempt("release", lambda: p.release(b))
        attempt("alloc", lambda: p.alloc("int"))        # nothing was given back to alias v
        del v
        attempt("release again", lambda: p.release(b))
        attempt("alloc again", lambda: p.alloc("int").size)
    """) == ["release: MemoryInUse", "alloc: OutOfMemory", "release again: ok None",
             "alloc again: ok 64"]


def test_new_range_checks():
    assert run("""
        attempt("int", lambda: ffikit.new("int", 2**40))
        attempt("uint8_t", lambda: ffikit.new("uint8_t", -1))
    """) == ["int: OutOfRange", "uint8_t: OutOfRange"]  # an ArgumentError and an OverflowError


def test_new_char_array_too_long():
    assert run("""
        attempt("char[3]", lambda: ffikit.new("char[3]", b"abcdef"))
    """) == ["char[3]: BufferTooSmall"]


def test_new_pointer_is_never_null(lib_path):
    assert run("""
        p = ffikit.new("int *"); lib.set_int(p, 7)
        attempt("value", lambda: p[0])
    """, lib_path) == ["value: ok 7"]


def test_memory_protected_none_passed_to_c(lib_path):
    assert run("""
        m = ffikit.alloc("uint8_t", 4096, pages=True); m.protect("none")
        attempt("double", lambda: lib.half(m))       # float() would read the buffer
        attempt("void *", lambda: lib.first(m))      # C would read it
        attempt("writer", lambda: lib.fill(m, 1, 1))
        m.protect("r")
        attempt("read-only", lambda: lib.first(m))
        attempt("writer of read-only", lambda: lib.fill(m, 1, 1))
    """, lib_path) == ["double: ArgumentError", "void *: ProtectedMemory",
                       "writer: ProtectedMemory", "read-only: ok 0",
                       "writer of read-only: ReadOnlyBuffer"]


def test_adopt_negative_size():
    assert run("""
        import ctypes
        libc = ctypes.CDLL(None); libc.malloc.restype = ctypes.c_void_p
        p = libc.malloc(16)
        attempt("negative", lambda: ffikit.adopt(p, -16, free="libc"))
        attempt("fine", lambda: ffikit.adopt(p, 16, free="libc").free())
    """) == ["negative: InvalidValue", "fine: ok None"]


def test_refusals_are_ffikit_errors():
    """alloc(2**62), a full pool, free/reset under a live view: FFIError subclasses."""
    assert run("""
        pool = ffikit.Pool(16, 1)
        for label, action in [
                ("huge", lambda: ffikit.alloc("char", 2**62)),
                ("pool", lambda: [pool.alloc() for _ in range(2)]),
                ("arena", lambda: ffikit.Arena(16).alloc("char", 17))]:
            attempt(label, action)
        m = ffikit.alloc("char", 8); v = memoryview(m)
        attempt("free", m.free)
        a = ffikit.Arena(64); w = a.alloc("int").view
        attempt("reset", a.reset)
        attempt("all ffikit", lambda: all(issubclass(getattr(ffikit, n), ffikit.FFIError)
                for n in ("OutOfMemory", "MemoryInUse")))
    """) == ["huge: OutOfMemory", "pool: OutOfMemory", "arena: OutOfMemory",
             "free: MemoryInUse", "reset: MemoryInUse", "all ffikit: ok True"]


def test_free_racing_c_calls(lib_path):
    """Threads pass the memory to C while another frees it: each side either succeeds
    or is refused with MemoryReleased / MemoryInUse, never a crash."""
    lines = run("""
        import sys, threading
        sys.setswitchinterval(1e-6)
        seen = set()
        for _ in range(200):
            m = ffikit.alloc("uint8_t", 64)
            def call():  # until the memory is gone
                for _ in range(10_000):
                    try:
                        lib.fill(m, 64, 1)
                    except Exception as exc:
                        seen.add(type(exc).__name__)
                        if m.freed:
                            return
            def free():  # until it succeeds
                while not m.freed:
                    try:
                        m.free()
                    except Exception as exc:
                        seen.add(type(exc).__name__)
            threads = [threading.Thread(target=call), threading.Thread(target=free)]
            for t in threads: t.start()
            for t in threads: t.join()
        print(sorted(seen))
    """, lib_path)
    seen = eval(lines[-1])
    assert "MemoryReleased" in seen and set(seen) <= {"MemoryReleased", "MemoryInUse"}


def test_protect_racing_python_access(lib_path):
    """One thread keeps changing the protection (and finally frees); others index, slice,
    copy, view and call C.  Every refusal is an FFIError, and nothing faults."""
    lines = run("""
        import sys, threading, time
        sys.setswitchinterval(1e-6)
        seen = set()
        for _ in range(40):
            m = ffikit.alloc("uint8_t", 64, guard=True)
            done = threading.Event()
            def use():
                while not done.is_set():
                    for action in (lambda: m[3], lambda: m[0:8], lambda: bytes(m),
                                   lambda: m.__setitem__(slice(0, 8), bytes(8)),
                                   lambda: m.__setitem__(5, 1), lambda: m.view[0],
                                   lambda: ffikit.view(m, "uint8_t[]")[1],
                                   lambda: ffikit.asarray(m)[2], lambda: lib.fill(m, 64, 1),
                                   lambda: lib.first(m)):
                        try:
                            action()
                        except ffikit.FFIError as exc:
                            seen.add(type(exc).__name__)
            def change():
                for mode in ["none", "r", "rw", "rx", "none", "rw"] * 20:
                    try:
                        m.protect(mode)
                    except ffikit.FFIError as exc:
                        seen.add(type(exc).__name__)
                while True:
                    try:
                        m.free()
                        break
                    except ffikit.MemoryInUse:
                        pass
                time.sleep(0.002)  # the others meet freed memory too
                done.set()
            threads = [threading.Thread(target=use) for _ in range(2)]
            threads.append(threading.Thread(target=change))
            for t in threads: t.start()
            for t in threads: t.join()
        print(sorted(seen))
    """, lib_path)
    seen = set(eval(lines[-1]))
    assert {"ProtectedMemory", "MemoryInUse", "MemoryReleased"} <= seen
    assert seen <= {"ProtectedMemory", "MemoryInUse", "MemoryReleased", "ReadOnlyBuffer"}


def test_arena_and_pool_racing_their_own_reset_and_release():
    """Threads allocate blocks, write their own pattern through views and check it stays,
    while another thread resets the arena and they release pool blocks: no view sees
    memory given to someone else, and every refusal is an FFIError.  (A smoke test of
    the locking: the narrowest windows, such as a reset between a block's check and its
    export, are closed by doing both under the owner's lock, which no stress test hits
    reliably.)"""
    lines = run("""
        import sys, threading
        sys.setswitchinterval(1e-6)
        arena, pool = ffikit.Arena(4096), ffikit.Pool(64, 32)
        seen, wrong, done = set(), [], threading.Event()
        def work(mark):
            while not done.is_set():
                for owner in (arena, pool):
                    try:
                        block = owner.alloc("uint8_t[16]") if owner is pool else \\
                            owner.alloc("uint8_t", 16)
                        view = block.view
                        view[:] = [mark] * 16
                        for _ in range(5):
                            if list(view) != [mark] * 16:
                                wrong.append(owner)
                        del view
                        if owner is pool:
                            pool.release(block)
                    except ffikit.FFIError as exc:
                        seen.add(type(exc).__name__)
        def churn():
            for _ in range(400):
                try:
                    arena.reset()
                except ffikit.FFIError as exc:
                    seen.add(type(exc).__name__)
            done.set()
        threads = [threading.Thread(target=work, args=(mark,)) for mark in (1, 2, 3)]
        threads.append(threading.Thread(target=churn))
        for t in threads: t.start()
        for t in threads: t.join()
        print(len(wrong), sorted(seen))
    """)
    wrong, seen = lines[-1].split(" ", 1)
    assert wrong == "0"
    assert set(eval(seen)) <= {"MemoryInUse", "MemoryReleased", "OutOfMemory"}


def test_refusals_survive_other_modules_setting_pythonapi_argtypes():
    """ctypes.pythonapi's functions are shared objects: ffikit keeps prototypes of its own,
    so another module's argtypes cannot break a refused free() or protect()."""
    assert run("""
        import ctypes
        import ffikit.memory.owned
        ctypes.pythonapi.PyObject_GetBuffer.argtypes = [ctypes.py_object]  # someone else's
        m = ffikit.alloc("char", 8); v = memoryview(m)
        p = ffikit.alloc("char", 8, pages=True); w = memoryview(p)
        attempt("free", m.free)
        attempt("protect", lambda: p.protect("r"))
        attempt("still usable", lambda: (len(memoryview(m)), len(memoryview(p))))
        del v, w
        attempt("free again", m.free)
        attempt("protect again", lambda: p.protect("r"))
    """) == ["free: MemoryInUse", "protect: MemoryInUse", "still usable: ok (8, 8)",
             "free again: ok None", "protect again: ok None"]
