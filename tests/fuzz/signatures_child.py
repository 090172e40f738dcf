"""Differential signature fuzz, run in its own interpreter by ``test_signatures.py``.

    python signatures_child.py MODULES SIGNATURES SEED CACHE_DIR

Each module is C with SIGNATURES random functions (integers of every size,
``_Bool``, ``float``, ``double``, ``long double``, ``__int128``, structs and
unions by value with arrays, nested unions and ``long double`` members, in
random order and number, so registers run out at every position).  Every
function copies each argument's bytes into ``rec`` and returns the bytes
Python put in ``ret``.  Each function is called with random values (ints
sometimes as ``numpy.int64``, which sends the compiled backend to its slow
path) on both backends; each argument read back from ``rec`` and the result
are compared with what was passed.  A call either agrees, or is refused with
an ``ffikit.FFIError``; anything else is *wrong*.  Prints the counts.
"""

from __future__ import annotations

import ctypes
import random
import struct
import sys

import numpy as np

import ffikit

INTS = {  # C type -> (lo, hi)
    "signed char": (-128, 127), "unsigned char": (0, 255), "short": (-2**15, 2**15 - 1),
    "unsigned short": (0, 2**16 - 1), "int": (-2**31, 2**31 - 1), "unsigned int": (0, 2**32 - 1),
    "long": (-2**63, 2**63 - 1), "unsigned long": (0, 2**64 - 1), "long long": (-2**63, 2**63 - 1),
    "unsigned long long": (0, 2**64 - 1), "_Bool": (0, 1),
}
FLOATS = ("float", "double")
MEMBER_SCALARS = ("signed char", "unsigned char", "short", "int", "unsigned int", "long",
                  "float", "double")
UNIONS = [  # members of one size: a union's bytes are all meaningful
    "double d; long l;", "float f; int i;", "float f[2]; long l;", "unsigned char c[4]; float f;",
    "double d; float f[2];", "int i[3]; float f[3];", "double d[3]; long l[3];",
]


class Int128:
    """Stands for ``__int128`` (ctypes has no such type): 16 bytes, passed as a Python int."""


def _size(ctype: type) -> int:
    return 16 if ctype is Int128 else ctypes.sizeof(ctype)


class Module:
    """Random aggregate types and function signatures, as C text."""

    def __init__(self, rng: random.Random, index: int):
        self.rng = rng
        self.tag = f"m{index}"
        self.types: list[str] = []  # typedef lines
        self.aggregates: list[str] = []
        for k, body in enumerate(UNIONS):
            self.types.append(f"typedef union {{ {body} }} {self.tag}u{k};")
            self.aggregates.append(f"{self.tag}u{k}")
        for k in range(12):
            self.types.append(f"typedef struct {{ {self._members(k)} }} {self.tag}s{k};")
            self.aggregates.append(f"{self.tag}s{k}")

    def _members(self, k: int) -> str:
        rng = self.rng
        parts = []
        for j in range(rng.randint(1, 4)):
            kind = rng.random()
            if kind < 0.15 and k > 0:  # an earlier aggregate inside
                parts.append(f"{rng.choice(self.aggregates)} a{j};")
            elif kind < 0.45:
                parts.append(f"{rng.choice(MEMBER_SCALARS)} a{j}[{rng.randint(1, 3)}];")
            elif kind < 0.5:
                parts.append(f"long double a{j};")
            else:
                parts.append(f"{rng.choice(MEMBER_SCALARS)} a{j};")
        return " ".join(parts)

    def param_type(self) -> str:
        r = self.rng.random()
        if r < 0.4:
            return self.rng.choice(list(INTS))
        if r < 0.65:
            return self.rng.choice(FLOATS)
        if r < 0.68:
            return "long double"
        if r < 0.7:
            return "__int128"
        return self.rng.choice(self.aggregates)

    def functions(self, count: int) -> list[tuple[str, str, list[str]]]:
        out = []
        for k in range(count):
            params = [self.param_type() for _ in range(self.rng.randint(0, 11))]
            result = "void" if self.rng.random() < 0.2 else self.param_type()
            out.append((f"{self.tag}f{k}", result, params))
        return out


def c_source(module: Module, functions: list) -> tuple[str, str]:
    """(C source, declarations)."""
    head = "\n".join(module.types)
    decls = [head, "unsigned char *rec_at(void);", "void set_ret(const unsigned char *b, int n);"]
    body = ["#include <string.h>", head, "static unsigned char rec[4096], ret[4096];",
            "unsigned char *rec_at(void) { return rec; }",
            "void set_ret(const unsigned char *b, int n) { memcpy(ret, b, n); }"]
    for name, result, params in functions:
        plist = ", ".join(f"{t} a{j}" for j, t in enumerate(params)) or "void"
        decls.append(f"{result} {name}({plist});")
        lines = [f"{result} {name}({plist}) {{", "  unsigned char *p = rec;"]
        for j in range(len(params)):
            lines.append(f"  memcpy(p, &a{j}, sizeof a{j}); p += sizeof a{j};")
        if result != "void":
            lines += [f"  {result} r; memcpy(&r, ret, sizeof r); return r;"]
        body.append("\n".join(lines) + "\n}")
    return "\n".join(body), "\n".join(decls)


def _value(rng: random.Random, ctype: type, use_numpy: bool):
    """A random Python value for a ctypes type (struct instances for aggregates)."""
    if issubclass(ctype, (ctypes.Structure, ctypes.Union)):
        lay = ctype._ffikit_layout_
        obj = ctype()
        members = lay.members if issubclass(ctype, ctypes.Structure) else lay.members[:1]
        for f in members:  # a union: its first member (all are the same size)
            setattr(obj, f.name, _value(rng, dict(ctype._fields_)[f.name], False))
        return obj
    if issubclass(ctype, ctypes.Array):
        return ctype(*[_value(rng, ctype._type_, False) for _ in range(ctype._length_)])
    code = ctype._type_
    if code in "fdg":
        v = rng.choice([0.0, -1.5, 2.5e300 if code != "f" else 3.0e38, rng.uniform(-1e6, 1e6)])
        if code == "f":
            v = struct.unpack("f", struct.pack("f", v))[0]
        return v
    if code == "?":
        return rng.random() < 0.5
    size = ctypes.sizeof(ctype)
    signed = code in "bhilq"
    lo, hi = (-(1 << (8 * size - 1)), (1 << (8 * size - 1)) - 1) if signed else (0, (1 << (8 * size)) - 1)
    v = rng.choice([lo, hi, 0, 1, rng.randint(lo, hi)])
    return np.int64(v) if use_numpy and lo <= v <= 2**63 - 1 and lo >= -2**63 else v


def _plain(x):
    """Comparable form: scalars, lists for arrays, member tuples for structs, bytes for unions."""
    if isinstance(x, ctypes.Union):
        return bytes(x)
    if isinstance(x, ctypes.Structure):
        return tuple(_plain(getattr(x, f.name)) for f in type(x)._ffikit_layout_.members)
    if isinstance(x, ctypes.Array):
        return [_plain(v) for v in x]
    if isinstance(x, (bool, np.integer)):
        return int(x)
    return x


def _decode(data: bytes, ctype: type):
    if ctype is Int128:
        return int.from_bytes(data[:16], "little", signed=True)
    if issubclass(ctype, (ctypes.Structure, ctypes.Union)):
        return ctype.from_buffer_copy(data[:ctypes.sizeof(ctype)])
    return ctype.from_buffer_copy(data[:ctypes.sizeof(ctype)]).value


def run(modules: int, signatures: int, seed: int) -> None:
    rng = random.Random(seed)
    counts = {"signatures": 0, "vectors": 0, "agreements": 0, "refusals": 0, "wrong": 0}
    wrong: list[str] = []
    reasons: set[str] = set()
    for index in range(modules):
        module = Module(rng, index)
        functions = module.functions(signatures)
        source, decls = c_source(module, functions)
        path = ffikit.build(source, name=f"sigfuzz{seed}_{index}")
        defs = ffikit.cdef(decls)
        libs = [ffikit.load(path, defs, backend=b) for b in ("ctypes", "compiled")]
        rec = ctypes.c_void_p.from_buffer(libs[0].rec_at()).value
        for name, result, params in functions:
            counts["signatures"] += 1
            ptypes = [_ctype(defs, t) for t in params]
            rtype = None if result == "void" else _ctype(defs, result)
            for _vector in range(3):
                use_numpy = rng.random() < 0.3
                args = [_value(rng, t, use_numpy) if t is not Int128 else rng.randint(-2**100, 2**100)
                        for t in ptypes]
                expect = None
                if rtype is not None:
                    expect = _value(rng, rtype, False) if rtype is not Int128 else rng.randint(-2**100, 2**100)
                for backend, lib in zip(("ctypes", "compiled"), libs):
                    counts["vectors"] += 1
                    if expect is not None:
                        if rtype is Int128:
                            raw = expect.to_bytes(16, "little", signed=True)
                        elif isinstance(expect, (ctypes.Structure, ctypes.Union)):
                            raw = bytes(expect)
                        else:
                            raw = bytes(rtype(expect))
                        libs[0].set_ret(raw, len(raw))
                    ctypes.memset(rec, 0xA5, 4096)
                    try:
                        got = getattr(lib, name)(*args)
                    except ffikit.FFIError as exc:
                        counts["refusals"] += 1
                        reasons.add(str(exc).split(": ", 1)[-1][:90])
                        continue
                    data = ctypes.string_at(rec, 4096)
                    problems = []
                    offset = 0
                    for j, (t, a) in enumerate(zip(ptypes, args)):
                        seen = _decode(data[offset:], t)
                        offset += _size(t)
                        if _plain(seen) != _plain(a):
                            problems.append(f"a{j} ({params[j]}): passed {_plain(a)!r}, C saw {_plain(seen)!r}")
                    if rtype is not None and _plain(got) != _plain(expect):
                        problems.append(f"result ({result}): C returned {_plain(expect)!r}, got {_plain(got)!r}")
                    if not problems:
                        counts["agreements"] += 1
                    else:
                        counts["wrong"] += 1
                        if len(wrong) < 20:
                            decl = f"{result} {name}({', '.join(params)})"
                            wrong.append(f"{backend} {decl}: " + "; ".join(problems))
    print("\n".join(wrong))
    print("refused because:", *sorted(reasons), sep="\n  ")
    print("SIGFUZZ " + " ".join(f"{k}={v}" for k, v in counts.items()))


def _ctype(defs, text: str) -> type | None:
    if text in INTS or text in FLOATS or text in ("long double", "__int128"):
        return {"long double": ctypes.c_longdouble, "__int128": Int128, "_Bool": ctypes.c_bool,
                "float": ctypes.c_float, "double": ctypes.c_double}.get(
            text, getattr(ctypes, "c_" + {"signed char": "byte", "unsigned char": "ubyte",
                                          "short": "short", "unsigned short": "ushort",
                                          "int": "int", "unsigned int": "uint", "long": "long",
                                          "unsigned long": "ulong", "long long": "longlong",
                                          "unsigned long long": "ulonglong"}.get(text, "int")))
    return getattr(defs, text)


if __name__ == "__main__":
    run(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
