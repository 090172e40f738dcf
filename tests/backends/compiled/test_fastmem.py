"""ffikit.view and ffikit.alloc in C (runtime/fastmem.c): the same objects, addresses and
refusals as the Python functions, every hostile call handed to Python, in a child process."""

from __future__ import annotations

import sysconfig

import pytest
from tests.crashproof import run_isolated

import ffikit
from ffikit.backends.compiled import fastmem
from ffikit.backends.compiled.module import available

pytestmark = pytest.mark.skipif(not available()[0], reason="no C compiler or Python.h")


def test_compiles_with_all_warnings_as_errors(cbuild):
    source, _name = fastmem._source_and_name()
    path = cbuild(source, name="werror_fastmem", include_dirs=[sysconfig.get_paths()["include"]],
                  flags=["-Wall", "-Wextra", "-Werror", "-std=c11"])
    assert path


# Every case runs under the C functions and under the Python ones; each line prints
# (what came back or which error, with its words) so the two runs compare line by line.
CHILD = r"""
import ctypes, gc, mmap, array, re, sys
import numpy as np
import ffikit
from ffikit.backends.compiled import fastmem
module = fastmem.load(compile=True)  # built before ffikit.view is first looked up
from ffikit.memory import fastpaths, owned, views
assert fastpaths.view is module.view and fastpaths.alloc is module.alloc, (fastpaths.view,)
FAST = {"view": module.view, "alloc": module.alloc}
SLOW = {"view": views.view, "alloc": owned.alloc}

def describe(value):
    if isinstance(value, ffikit.Memory):
        mv = memoryview(value)
        return ("Memory", value.size, value.ctype.__name__, mv.format, mv.shape, value.protection)
    if isinstance(value, ctypes.Array):
        return (type(value).__name__, len(value), hasattr(value, "__dlpack__"))
    return (type(value).__name__,)

def run(fns):
    view, alloc = fns["view"], fns["alloc"]
    out = []
    def case(label, make):
        try:
            out.append((label, describe(make())))
        except Exception as exc:  # the words, not only the class (addresses differ per run)
            out.append((label, type(exc).__name__, re.sub(r"0x[0-9a-f]+", "0x?", str(exc))))
    ba = bytearray(64)
    for _ in range(2):  # the second time the caches are warm
        case("view bytearray", lambda: view(ba, "double[8]"))
        case("view open bytearray", lambda: view(ba, "double[]"))
        case("view open numpy", lambda: view(np.zeros(4), "int32_t[]"))
        case("view open odd size", lambda: view(bytearray(63), "double[]"))
        case("view open empty", lambda: view(bytearray(0), "double[]"))
        case("view open misaligned", lambda: view(memoryview(ba)[1:17], "double[]"))
        case("view open closed mmap", lambda: (lambda m: (m.close(), view(m, "double[]")))(mmap.mmap(-1, 64)))
        case("view numpy", lambda: view(np.zeros(8), "double[8]"))
        case("view bytes", lambda: view(b"x" * 64, "double[8]"))
        case("view too small", lambda: view(bytearray(63), "double[8]"))
        case("view empty", lambda: view(bytearray(0), "double[8]"))
        case("view misaligned", lambda: view(memoryview(ba)[1:65 - 8 + 1], "double[7]"))
        case("view unhashable", lambda: view(ba, ["double"]))
        case("view unknown text", lambda: view(ba, "no_such_type[2]"))
        case("view keywords", lambda: view(ba, "double[8]", offset=8))
        case("view 1 arg", lambda: view(ba))
        case("view 3 args", lambda: view(ba, "double[8]", 0))
        case("view released", lambda: (lambda m: (m.release(), view(m, "double[8]")))(memoryview(bytearray(64))))
        case("view closed mmap", lambda: (lambda m: (m.close(), view(m, "double[8]")))(mmap.mmap(-1, 64)))
        case("view array.array", lambda: view(array.array("d", [0.0] * 8), "double[8]"))
        case("view non-contiguous", lambda: view(np.zeros(16)[::2], "double[8]"))
        case("alloc double", lambda: alloc("double", 3))
        case("alloc char", lambda: alloc("char", 5))
        case("alloc default count", lambda: alloc("int32_t"))
        for count in (0, -1, 1.5, True, "ten", 2**70, (1 << 17) // 8, (1 << 17) // 8 + 1):
            case(f"alloc count {count!r}", lambda count=count: alloc("double", count))
        case("alloc unhashable", lambda: alloc(["double"], 2))
        case("alloc keywords", lambda: alloc("double", 2, pages=True))
        case("alloc 3 args", lambda: alloc("double", 2, True))
        case("alloc none", lambda: alloc())
    return out

fast, slow = run(FAST), run(SLOW)
for a, b in zip(fast, slow):
    if a != b:
        print("DIFFER", a, b)
print("CASES", len(fast), len(slow))
for entry in fast:
    if len(entry) == 3:
        print("REFUSED", entry[0], entry[1])

# lifetime: the view holds its source; memory from C alloc frees, refuses while exported
src = bytearray(b"\x00" * 64)
v = module.view(src, "double[8]")
assert ffikit.address(v) == ffikit.address(src)
w = module.view(src, "double[]")  # the open-array path: same address, same lifetime rule
assert ffikit.address(w) == ffikit.address(src) and len(w) == 8
del src; gc.collect()
v[7] = 2.5; assert v[7] == 2.5
m = module.alloc("double", 4)
a = np.asarray(m)
assert (a.dtype, a.shape, a.ctypes.data) == (np.float64, (4,), m.address)
try:
    m.free(); print("FREED UNDER EXPORT")
except ffikit.MemoryInUse:
    pass
del a; gc.collect(); m.free(); assert m.freed
with ffikit.track() as t:  # tracking: the Python path records it
    tracked = module.alloc("double", 2)
assert len(t.leaks()) == 1 and t.leaks()[0].size == 16, t.report()
import pickle, subprocess  # pickled by their public home: a process without the C module
assert pickle.loads(pickle.dumps(ffikit.view)) is ffikit.view is module.view
child = subprocess.run([sys.executable, "-c", "import pickle, sys, ffikit; f = pickle.loads(sys.stdin.buffer.read()); "
                        "print(f('double', 2).size)"], input=pickle.dumps(ffikit.alloc), capture_output=True,
                       env={**__import__("os").environ, "FFIKIT_FASTMEM": "0"})
assert child.stdout.strip() == b"16", child.stderr
print("ALIVE")
"""


def test_same_answers_as_python_in_a_child():
    proc = run_isolated(CHILD, timeout=600)
    assert proc.returncode == 0 and "ALIVE" in proc.stdout, proc.stderr[-3000:]
    assert "DIFFER" not in proc.stdout, proc.stdout
    counts = [ln for ln in proc.stdout.splitlines() if ln.startswith("CASES")]
    assert counts == ["CASES 72 72"], proc.stdout
    refused = {ln.split("REFUSED ", 1)[1] for ln in proc.stdout.splitlines() if ln.startswith("REFUSED ")}
    assert {"view too small BufferTooSmall", "view misaligned MisalignedBuffer", "alloc count 0 InvalidValue",
            "alloc count -1 InvalidValue", "view released MemoryReleased"} <= refused, refused


def test_python_functions_while_not_built(monkeypatch):
    from ffikit.memory import owned, tracking, views

    monkeypatch.setenv("FFIKIT_FASTMEM", "0")
    got = fastmem.fast_functions(views.view, owned.alloc, plain=views._PLAIN_BUFFERS,
                                 view_cache=views._fast_cache, open_cache={}, heap_cache=owned.HEAP_FAST,
                                 memory_type=ffikit.Memory, tracking=tracking, heap_max=owned.HEAP_MAX,
                                 module_name="ffikit.memory.fastpaths")
    assert got == (views.view, owned.alloc)


def test_only_a_process_that_lives_on_builds_it(tmp_path):
    """A short script never starts the compiler (its exit would kill it); one that lives
    past BUILD_AFTER builds the module for the processes after it."""
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    env = {"FFIKIT_CACHE_DIR": str(cache), "FFIKIT_BUILD": ""}
    short = run_isolated("import ffikit; ffikit.alloc('double', 3)", **env)
    assert short.returncode == 0 and not list(cache.glob("*fastmem*")), short.stderr
    code = """
        import time, ffikit
        from ffikit.backends.compiled import fastmem
        ffikit.view(bytearray(8), "double[1]")
        deadline = time.monotonic() + 120
        while fastmem.load() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        print("BUILT", fastmem.load() is not None)
    """
    long = run_isolated(code, timeout=180, **env)
    assert "BUILT True" in long.stdout, long.stderr[-2000:]
    after = run_isolated("import ffikit; print(type(ffikit.view).__name__)", **env)
    assert after.stdout.strip() == "builtin_function_or_method", after.stderr
