"""What the no-crash checks cost: raw addresses, pointer views, callbacks C may keep, C strings.

Each group puts the checked path next to its unchecked opt-in (``unsafe=True``)
or to raw ctypes, so the ratio is the price of the check.

Run: ``python benchmarks/bench_safety.py``.
"""

from __future__ import annotations

import ctypes
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Row, compare, finish, table  # noqa: E402

import ffikit  # noqa: E402

SRC = "int call_cb(int (*f)(int), int x) { return f(x); }"


def rows(quick: bool = False) -> list[Row]:
    rounds = 3 if quick else 7
    data = bytearray(64)
    addr = ffikit.address(data)
    result = compare("memoryview over a raw address (64 B)", {
        "(c_ubyte*64).from_address": lambda: memoryview((ctypes.c_ubyte * 64).from_address(addr)),
        "ffikit.buffer(addr, unsafe=True)": lambda: ffikit.buffer(addr, 64, owner=data, unsafe=True),
        "ffikit.buffer(addr, readonly=True)": lambda: ffikit.buffer(addr, 64, readonly=True,
                                                                   owner=data),
        "ffikit.buffer(addr)": lambda: ffikit.buffer(addr, 64, owner=data),
    }, "ffikit.buffer(addr, unsafe=True)", rounds=rounds)

    target = (ctypes.c_int * 4)(1, 2, 3, 4)
    raw = bytearray(ctypes.addressof(target).to_bytes(8, sys.byteorder))
    checked = ffikit.view(raw, "int*")
    unchecked = ffikit.view(raw, "int*", unsafe=True)
    result += compare("read through a pointer view (p[0])", {
        "view(..., 'int*', unsafe=True)[0]": lambda: unchecked[0],
        "view(..., 'int*')[0]": lambda: checked[0],
    }, "view(..., 'int*', unsafe=True)[0]", rounds=rounds)

    path = ffikit.build(SRC, name="bench_safety")
    lib = ffikit.load(path, "int call_cb(int (*f)(int), int x);")
    raw_fn = ctypes.CDLL(path).call_cb
    unary = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)
    raw_fn.argtypes = [unary, ctypes.c_int]
    held = ffikit.callback("int (*)(int)", lambda x: x)
    same = lambda x: x  # noqa: E731
    result += compare("int call_cb(int (*)(int), int)", {
        "ctypes argtypes, CFUNCTYPE per call": lambda: raw_fn(unary(same), 1),
        "ffikit, plain callable": lambda: lib.call_cb(same, 1),
        "ffikit, fresh lambda per call": lambda: lib.call_cb(lambda x: x, 1),
        "ffikit, held ffikit.callback": lambda: lib.call_cb(held, 1),
    }, "ctypes argtypes, CFUNCTYPE per call", rounds=rounds)

    text = ctypes.create_string_buffer(b"a C string of 32 characters.....")
    text_address = ctypes.addressof(text)
    result += compare("read a C string at an address (32 chars)", {
        "ctypes.string_at(addr)": lambda: ctypes.string_at(text_address),
        "ffikit.string(addr, unsafe=True)": lambda: ffikit.string(text_address, unsafe=True),
        "ffikit.string(addr)": lambda: ffikit.string(text_address),
    }, "ctypes.string_at(addr)", rounds=rounds)
    return finish(result)


if __name__ == "__main__":
    print(table(rows(quick="--quick" in sys.argv)))
