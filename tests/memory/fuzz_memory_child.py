"""Random sequences of alloc/view/protect/free/release/reset on every allocator.

Run by ``test_fuzz_memory.py`` in a child process (a crash must not take the
test run with it): ``python fuzz_memory_child.py LIBRARY EXAMPLES [random]``;
it prints what it exercised, as JSON.  Every
operation either succeeds or raises an :class:`ffikit.FFIError`; anything
else (or a signal) fails the run, and Hypothesis prints the shortest sequence
that shows it.  Exports that are alive stay usable, whatever happens to their
memory meanwhile.
"""

from __future__ import annotations

import collections
import ctypes
import gc
import json
import sys

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    rule,
    run_state_machine_as_test,
)

import ffikit
from ffikit.memory.adopted import Adopted
from ffikit.memory.views import is_readonly

LIB = ffikit.load(sys.argv[1], "uint8_t first(const void *p); "
                               "void fill(uint8_t *p, size_t n, uint8_t v); double half(double x);")
LIBC = ctypes.CDLL(None)
LIBC.malloc.restype = ctypes.c_void_p
LIBC.malloc.argtypes = [ctypes.c_size_t]
LIBC.free.argtypes = [ctypes.c_void_p]

COUNTS = st.one_of(st.integers(1, 64), st.integers(0, 300),  # mostly sizes that work
                   st.sampled_from([-1, 4096, 2**62, -2**40, 2.5, "8", None]))
KINDS = {"heap": {}, "pages": {"pages": True}, "guard": {"guard": True},
         "guard_before": {"guard_before": True}, "align": {"align": 64}}


def pick(data, items: list):
    """One of ``items``, drawn by index: Hypothesis keeps what it draws, and a drawn
    export would stay alive for the whole run."""
    return items[data.draw(st.integers(0, len(items) - 1))]


OUTCOMES: collections.Counter = collections.Counter()  # (operation, "ok" or error name)


def attempt(label, action, *also):
    """Run one operation: it succeeds, or raises an FFIError (or one of ``also``)."""
    try:
        result = action()
    except (ffikit.FFIError, *also) as exc:
        OUTCOMES[label, type(exc).__name__] += 1
        return None
    OUTCOMES[label, "ok"] += 1
    return result


class Allocators(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.memory: list = []   # Memory
        self.pools: list = []    # Arena and Pool
        self.blocks: list = []   # their Blocks
        self.adopted: list = []  # Adopted
        self.exports: list = []  # memoryviews, ctypes views, arrays: valid while alive

    # --- making memory ----------------------------------------------------------
    @initialize()
    def one_of_each(self):
        """Every sequence starts with one of every allocator, so no step is wasted."""
        self.memory += [ffikit.alloc("uint8_t", 64), ffikit.alloc("uint8_t", 64, guard=True)]
        self.pools += [ffikit.Arena(256), ffikit.Pool(32, 2)]
        self.adopted.append(ffikit.adopt(LIBC.malloc(64), 64, free="libc", ctype="uint8_t",
                                         count=8))

    @rule(kind=st.sampled_from(sorted(KINDS)), count=COUNTS)
    def alloc(self, kind, count):
        m = attempt("alloc", lambda: ffikit.alloc("uint8_t", count, **KINDS[kind]))
        if m is not None:
            self.memory.append(m)

    @rule(capacity=st.one_of(st.integers(-2, 4096), st.just(1.5)))
    def arena(self, capacity):
        a = attempt("Arena", lambda: ffikit.Arena(capacity))
        if a is not None:
            self.pools.append(a)

    @rule(block_size=st.integers(-1, 128), blocks=st.one_of(st.integers(-1, 6), st.just(2.0)))
    def pool(self, block_size, blocks):
        p = attempt("Pool", lambda: ffikit.Pool(block_size, blocks))
        if p is not None:
            self.pools.append(p)

    @rule(data=st.data(), ctype=st.sampled_from([None, "uint8_t", "double", "int[4]"]),
          count=COUNTS)
    def block(self, data, ctype, count):
        if not self.pools:
            return
        owner = pick(data, self.pools)
        if isinstance(owner, ffikit.Arena):
            b = attempt("Arena.alloc", lambda: owner.alloc(ctype, count))
        else:
            b = attempt("Pool.alloc", lambda: owner.alloc(ctype))
        if b is not None:
            self.blocks.append(b)

    @rule(size=st.sampled_from([-1, 0, 8, 64, 2.5, None]))
    def adopt(self, size):
        address = LIBC.malloc(64)
        m = attempt("adopt", lambda: ffikit.adopt(address, size, free="libc", ctype="uint8_t",
                                         count=8))
        if m is None:
            LIBC.free(address)
        else:
            self.adopted.append(m)

    # --- exports -------------------------------------------------------------------
    @rule(data=st.data(), how=st.integers(0, 5))
    def export(self, data, how):
        things = self.memory + self.blocks + self.adopted
        if not things:
            return
        thing = pick(data, things)
        if isinstance(thing, ffikit.Memory):
            ways = [lambda: memoryview(thing), lambda: thing.view, thing.region,
                    lambda: ffikit.asarray(thing), lambda: ffikit.view(thing, "uint8_t[]"),
                    lambda: np.frombuffer(thing, np.uint8)]
            # CPython / NumPy ask the buffer directly: their refusals are theirs
            also = (TypeError, ValueError) if how in (0, 5) else ()
            result = attempt(f"export {how}", ways[how], *also)
        elif isinstance(thing, Adopted):
            result = attempt("Adopted export", thing.buffer if how % 2 else lambda: thing.view)
        else:
            result = attempt("Block.view", lambda: thing.view)
        if result is not None:
            self.exports.append(result)

    @rule(data=st.data(), value=st.integers(0, 255))
    def use_export(self, data, value):
        """A live export reads and (when writable) writes, whatever happened meanwhile."""
        if not self.exports:
            return
        export = pick(data, self.exports)
        if isinstance(export, ctypes.Structure | ctypes.Union | ctypes._SimpleCData):
            _ = bytes(memoryview(export))
            return
        if len(export) == 0:
            return
        index = data.draw(st.integers(0, len(export) - 1))
        item = export[index]
        writable = (not export.readonly if isinstance(export, memoryview)
                    else export.flags.writeable if isinstance(export, np.ndarray)
                    else not is_readonly(export))
        if writable and not isinstance(item, (ctypes.Array, ctypes.Structure)):
            export[index] = value if not isinstance(item, bytes) else bytes([value])
        OUTCOMES["use export", "written" if writable else "read"] += 1

    @rule(data=st.data())
    def drop_export(self, data):
        if self.exports:
            self.exports.pop(data.draw(st.integers(0, len(self.exports) - 1)))
            if data.draw(st.booleans()):
                gc.collect()

    # --- changing memory -------------------------------------------------------------
    @rule(data=st.data(), mode=st.sampled_from(["r", "rw", "rx", "none", "w"]))
    def protect(self, data, mode):
        if self.memory:
            m = pick(data, self.memory)
            attempt(f"protect {mode}", lambda: m.protect(mode))

    @rule(data=st.data(), mode=st.sampled_from(["r", "none"]))
    def protect_while_exported(self, data, mode):
        """Protecting memory a live export uses is refused (MemoryInUse), never a crash: a
        rule of its own, so the derandomized run reaches it whatever else the rules draw."""
        if self.memory:
            m = pick(data, self.memory)
            region = attempt("export 2", m.region)  # held only while this rule runs
            attempt(f"protect {mode}", lambda: m.protect(mode))
            del region

    @rule(data=st.data())
    def give_back(self, data):
        things = self.memory + self.pools + self.adopted + self.blocks
        if not things:
            return
        thing = pick(data, things)
        if isinstance(thing, ffikit.Arena):
            reset = data.draw(st.booleans())
            attempt("Arena.reset" if reset else "Arena.close", thing.reset if reset else thing.close)
        elif isinstance(thing, ffikit.Pool | ffikit.Memory | Adopted):
            attempt(f"{type(thing).__name__} free", thing.close if isinstance(thing, ffikit.Pool) else thing.free)
        elif isinstance(thing._owner, ffikit.Pool):
            attempt("Pool.release", lambda: thing._owner.release(thing))

    @rule(data=st.data(), value=st.integers(0, 255))
    def touch(self, data, value):
        """Python indexing, bytes(), and C calls on the memory itself."""
        if not self.memory:
            return
        m = pick(data, self.memory)
        index = data.draw(st.integers(-70, 70))
        inside = m.size and -m.size <= index < m.size
        also = () if inside else (IndexError,)  # the sequence protocol's own answer
        attempt("m[i]", lambda: m[index], *also)
        if inside:
            attempt("m[i] = v", lambda: m.__setitem__(index, value))
        attempt("bytes(m)", lambda: bytes(m))
        attempt("m[1:5]", lambda: m[1:5])
        attempt("C reads", lambda: LIB.first(m))
        attempt("C writes", lambda: LIB.fill(m, min(m.size, data.draw(st.integers(0, 64))), value))
        attempt("C double", lambda: LIB.half(m))

    def teardown(self):
        self.exports.clear()
        gc.collect()
        for m in self.memory + self.adopted:
            m.free()  # no export is left: nothing may refuse
        for p in self.pools:
            p.close()


if __name__ == "__main__":
    examples = int(sys.argv[2])
    run_state_machine_as_test(Allocators, settings=settings(
        max_examples=examples, stateful_step_count=40, deadline=None, database=None,
        derandomize=sys.argv[3:] != ["random"], suppress_health_check=list(HealthCheck)))
    print(json.dumps(sorted(f"{op}: {outcome}" for op, outcome in OUTCOMES)))
