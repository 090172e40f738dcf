"""Fuzz targets, each run in its own interpreter by ``test_fuzz.py`` (a crash kills only it).

    python fuzz_targets.py TARGET EXAMPLES SEED LASTFILE [LIBPATH]

TARGET is ``cdef`` (random C text: mutations of valid C, garbage, deep and
huge declarators), ``calls`` (random Python values against every parameter
kind of a real compiled library) or ``views`` (random sequences of
``view``/``buffer``/``address`` calls and reads through what they return).

Pass condition: no signal death, and no exception from ffikit's code that is
not an ``ffikit.FFIError`` (hypothesis reports and shrinks any other).  Before
each example runs, its repr is written to LASTFILE, so a signal death names
the example that caused it.
"""

from __future__ import annotations

import array
import ctypes
import gc
import mmap
import os
import random
import sys

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

import ffikit

FUZZ_C = r"""
#include <stdint.h>
#include <stddef.h>
typedef struct { int a; double b; } Pair;
typedef int (*unary)(int);
typedef double (*binary)(double, double);
static unary saved;
int k_int(int x) { return x; }
unsigned k_uint(unsigned x) { return x; }
signed char k_schar(signed char x) { return x; }
unsigned char k_uchar(unsigned char x) { return x; }
char k_char(char x) { return x; }
short k_short(short x) { return x; }
uint16_t k_u16(uint16_t x) { return x; }
long k_long(long x) { return x; }
int64_t k_i64(int64_t x) { return x; }
uint64_t k_u64(uint64_t x) { return x; }
size_t k_size(size_t x) { return x; }
_Bool k_bool(_Bool x) { return x; }
float k_float(float x) { return x; }
double k_double(double x) { return x; }
uintptr_t k_cip(const int *p) { return (uintptr_t)p; }
uintptr_t k_ip(int *p) { return (uintptr_t)p; }
uintptr_t k_cdp(const double *p) { return (uintptr_t)p; }
uintptr_t k_dp(double *p) { return (uintptr_t)p; }
uintptr_t k_ccp(const char *s) { return (uintptr_t)s; }
uintptr_t k_cp(char *s) { return (uintptr_t)s; }
uintptr_t k_vp(void *p) { return (uintptr_t)p; }
uintptr_t k_cvp(const void *p) { return (uintptr_t)p; }
uintptr_t k_u8p(uint8_t *p) { return (uintptr_t)p; }
uintptr_t k_pp(int **p) { return (uintptr_t)p; }
int k_pair(Pair p) { return p.a; }
uintptr_t k_pairp(const Pair *p) { return (uintptr_t)p; }
uintptr_t k_mpairp(Pair *p) { return (uintptr_t)p; }
int k_cb(unary f, int x) { return f ? f(x) : -1; }
double k_bcb(binary f, double x) { return f ? f(x, x) : -1.0; }
void k_store(unary f) { saved = f; }
int k_call_stored(int x) { return saved ? saved(x) : -1; }
int k_mixed(int a, double b, const char *s, Pair p, unary f) { return a + (f ? f(a) : 0); }
"""

FUZZ_H = """
typedef struct { int a; double b; } Pair;
typedef int (*unary)(int);
typedef double (*binary)(double, double);
int k_int(int x); unsigned k_uint(unsigned x); signed char k_schar(signed char x);
unsigned char k_uchar(unsigned char x); char k_char(char x); short k_short(short x);
uint16_t k_u16(uint16_t x); long k_long(long x); int64_t k_i64(int64_t x);
uint64_t k_u64(uint64_t x); size_t k_size(size_t x); _Bool k_bool(_Bool x);
float k_float(float x); double k_double(double x);
uintptr_t k_cip(const int *p); uintptr_t k_ip(int *p); uintptr_t k_cdp(const double *p);
uintptr_t k_dp(double *p); uintptr_t k_ccp(const char *s); uintptr_t k_cp(char *s);
uintptr_t k_vp(void *p); uintptr_t k_cvp(const void *p); uintptr_t k_u8p(uint8_t *p);
uintptr_t k_pp(int **p);
int k_pair(Pair p); uintptr_t k_pairp(const Pair *p); uintptr_t k_mpairp(Pair *p);
int k_cb(unary f, int x); double k_bcb(binary f, double x);
void k_store(unary f); int k_call_stored(int x);
int k_mixed(int a, double b, const char *s, Pair p, unary f);
"""

VALID_C = [
    "typedef struct { int id; char name[50]; double score; int is_active; } Student;",
    "struct node { struct node *next; int value; }; typedef struct node node_t;",
    "typedef int (*cmp)(const void *, const void *); void qsort(void *, unsigned long, unsigned long, cmp);",
    "enum color { RED, GREEN = 5, BLUE }; typedef enum color color_t;",
    "#define N 16\ntypedef struct { unsigned a : 3; unsigned b : 5; int c[N]; } bits;",
    "#pragma pack(1)\nstruct p { char c; int i; };\n#pragma pack()",
    "typedef union { int i; float f; char b[4]; } u; struct __attribute__((aligned(16))) a { char x; };",
    "struct outer { struct { int x, y; }; union { int i; double d; }; char flex[]; };",
    "extern int counter; const char *name(int); int printf(const char *fmt, ...);",
    "typedef _Alignas(8) int aligned_int; struct s { _Alignas(16) char c; };",
]

TOKENS = ["struct", "union", "enum", "typedef", "int", "char", "*", "(", ")", "[", "]", "{", "}",
          ";", ",", "...", "_Alignas", "__attribute__((", "aligned(", "packed", ":", "=", "1ULL<<62",
          "-1", "0x7fffffffffffffff", "sizeof(", "#define X ", "#pragma pack(", "const",
          "volatile", "unsigned", "long", "double", "void", "x", "y", "\n", " ", "__int128",
          "_Complex", "(*", "[1]", "[1ULL<<40]", "#include <nothing_here.h>", "\\", "'", '"']

SIGNATURES = ["int (*)(int)", "double (*)(double, double)", "void (*)(int)", "long (*)(int)",
              "int (*)(int, int)", "int (*)(int *)"]


class UserError(Exception):
    """Raised by fuzzed callbacks: the user's own exception, re-raised as itself."""


_last = None


def note(example: object) -> None:
    """Record the example about to run (a signal death leaves it in the file)."""
    text = repr(example)[:4000]
    _last.seek(0)
    _last.write(text)
    _last.truncate()
    _last.flush()


OUTCOMES: dict[str, int] = {}


def survive(fn, *args, **kwargs):
    """Run one fuzzed operation: an FFIError (or a fuzzed callback's UserError) is a pass."""
    try:
        result = fn(*args, **kwargs)
    except (ffikit.FFIError, UserError) as exc:
        OUTCOMES[type(exc).__name__] = OUTCOMES.get(type(exc).__name__, 0) + 1
        return None
    OUTCOMES["ok"] = OUTCOMES.get("ok", 0) + 1
    return result


# --- cdef ------------------------------------------------------------------------------

def _mutate(text: str, rng: random.Random) -> str:
    chars = list(text)
    for _ in range(rng.randint(1, 6)):
        pos = rng.randrange(len(chars) + 1)
        op = rng.random()
        if op < 0.3 and chars:
            del chars[min(pos, len(chars) - 1)]
        elif op < 0.6:
            chars.insert(pos, rng.choice("{}();,*[]:#=<>-+~!&|^\"'\\ \nabcxyz0129_"))
        else:
            chars[pos:pos] = " " + rng.choice(TOKENS) + " "
    return "".join(chars)


def _deep(kind: str, depth: int) -> str:
    if kind == "pointer":
        return "int " + "*" * depth + "x;"
    if kind == "array":
        return "typedef int x" + "[2]" * depth + ";"
    if kind == "paren":
        return "int " + "(*" * depth + "x" + ")" * depth + ";"
    if kind == "struct":
        return "struct s { " + "struct { " * depth + "int x;" + " } a;" * depth + " };"
    return "typedef int t0;" + "".join(f"typedef t{i} t{i + 1};" for i in range(depth))


cdef_texts = st.one_of(
    st.builds(_mutate, st.sampled_from(VALID_C), st.builds(random.Random, st.integers(0, 2**32))),
    st.lists(st.sampled_from(TOKENS), max_size=30).map(" ".join),
    st.text(max_size=60),
    st.builds(_deep, st.sampled_from(["pointer", "array", "paren", "struct", "typedef"]),
              st.sampled_from([10, 100, 600, 3000])),
)


def exercise_declarations(defs) -> None:
    for name in list(defs.types)[:20]:
        survive(defs.sizeof, name)
        survive(defs.ctype, name)
        if name.startswith(("struct ", "union ")):
            survive(lambda n=name: str(defs.layout(n)))
    for name in list(defs.constants)[:5]:
        survive(getattr, defs, name)


def target_cdef(examples: int, rng_seed: int, _lib: str | None) -> None:
    @seed(rng_seed)
    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck),
              database=None)
    @given(cdef_texts, st.lists(st.sampled_from(TOKENS), max_size=6).map(" ".join))
    def run(text, type_text):
        note(("cdef", text, type_text))
        defs = survive(ffikit.cdef, text)
        if defs is not None:
            exercise_declarations(defs)
            survive(defs.typeof, type_text)
            survive(defs.sizeof, type_text)

    run()


# --- calls --------------------------------------------------------------------------------

def _callable(kind: str, value: object):
    def fn(*args):
        if kind == "raise":
            raise UserError(value)
        if kind == "args":
            return args[0] if args else value
        return value
    return fn


def _values(lib):
    np = __import__("numpy")
    Pair = lib.defs.Pair
    ints = st.one_of(st.integers(-2**70, 2**70), st.integers(-300, 300),
                     st.sampled_from([2**31 - 1, 2**31, -2**31 - 1, 2**63, 2**64 - 1, 2**64]))
    floats = st.floats(allow_nan=True, allow_infinity=True, width=64)
    arrays = st.builds(lambda code, n: array.array(code, [0] * n),
                       st.sampled_from("bBhHiIlLqQfd"), st.integers(0, 8))
    dtypes = ["int8", "uint8", "int32", "int64", "float32", "float64", "bool", "complex128",
              [("a", "<i4"), ("b", "<f8")]]
    numpys = st.builds(lambda dt, n, step: np.zeros(n * 2, dtype=dt)[::step],
                       st.sampled_from(dtypes), st.integers(0, 6), st.sampled_from([1, 2]))
    ctypes_objs = st.sampled_from([
        "c_int", "c_double", "c_char_p", "c_void_p", "p_int", "pp_int", "arr_int", "pair",
        "p_pair", "pair_arr", "byref_int", "byref_double", "c_ubyte_arr", "null_p_int"])

    def make_ctypes(name):
        return {
            "c_int": lambda: ctypes.c_int(3), "c_double": lambda: ctypes.c_double(1.5),
            "c_char_p": lambda: ctypes.c_char_p(b"abc"), "c_void_p": lambda: ctypes.c_void_p(16),
            "p_int": lambda: ctypes.pointer(ctypes.c_int(1)),
            "pp_int": lambda: ctypes.pointer(ctypes.pointer(ctypes.c_int(1))),
            "arr_int": lambda: (ctypes.c_int * 4)(), "pair": lambda: Pair(a=1, b=2.0),
            "p_pair": lambda: ctypes.pointer(Pair(a=1, b=2.0)), "pair_arr": lambda: (Pair * 3)(),
            "byref_int": lambda: ctypes.byref(ctypes.c_int(1)),
            "byref_double": lambda: ctypes.byref(ctypes.c_double(1)),
            "c_ubyte_arr": lambda: (ctypes.c_ubyte * 8)(),
            "null_p_int": lambda: ctypes.POINTER(ctypes.c_int)(),
        }[name]()

    callables = st.one_of(
        st.builds(_callable, st.sampled_from(["raise", "args", "value"]),
                  st.one_of(ints, floats, st.none(), st.text(max_size=3))),
        st.builds(lambda sig, on_error: ffikit.callback(sig, lambda *a: 0, on_error),
                  st.sampled_from(SIGNATURES), st.integers(-5, 5)),
        st.builds(lambda sig: _released(ffikit.callback(sig, lambda *a: 0)), st.sampled_from(SIGNATURES)),
        st.just(ctypes.CFUNCTYPE(ctypes.c_double, ctypes.c_double)(lambda x: x)),
        st.just(ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)(lambda x: x)),
    )
    return st.one_of(
        ints, floats, st.booleans(), st.none(), st.text(max_size=12), st.binary(max_size=24),
        st.binary(max_size=24).map(bytearray),
        st.builds(lambda b, s: memoryview(bytearray(b))[::s], st.binary(max_size=24),
                  st.sampled_from([1, 2, -1])),
        st.builds(lambda b: memoryview(b), st.binary(max_size=16)),
        arrays, numpys, ctypes_objs.map(make_ctypes), callables,
        st.builds(lambda n: ffikit.alloc("char", n), st.integers(1, 64)),
        st.builds(lambda n: ffikit.new("int", n), st.integers(-5, 5)),
        st.sampled_from([[1, 2], {}, object(), 1j, (1,), type, ffikit, np.int64(5),
                         np.float32(1.5), np.bool_(True), Ellipsis, b"\0\0\0\0" * 4]),
    )


def _released(cb):
    cb.release()
    return cb


def target_calls(examples: int, rng_seed: int, lib_path: str | None) -> None:
    lib = ffikit.load(lib_path, FUZZ_H)
    names = sorted(n for n in lib.defs.functions)
    arity = {n: len(lib.defs.functions[n].type.params) for n in names}
    values = _values(lib)

    @seed(rng_seed)
    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck),
              database=None)
    @given(st.sampled_from(names), st.lists(values, min_size=5, max_size=5))
    def run(name, args):
        note(("call", name, args[:arity[name]]))
        survive(getattr(lib, name), *args[:arity[name]])
        if name == "k_store":
            gc.collect()
            survive(lib.k_call_stored, 3)
            survive(ctypes.CDLL(lib_path).k_call_stored, 3)  # outside any ffikit call

    old = sys.unraisablehook
    sys.unraisablehook = lambda args: None  # late calls report here; that is their job
    try:
        run()
    finally:
        sys.unraisablehook = old
        ffikit.callback_errors(clear=True)


# --- views --------------------------------------------------------------------------------

VIEW_TYPES = ["int", "int*", "int(*)(int)", "char[4]", "double[]", "int*[2]", "uint8_t[]", "void*",
              "char*", "double*[]", "struct nope", "int[", "Pair", "Pair*", "int**", "int[0]",
              "char[1ULL<<40]", ")", "", "unsigned long long[]", "float", "_Bool[3]"]


def _sources():
    np = __import__("numpy")
    makers = {
        "bytearray": lambda n: bytearray(os.urandom(n)),
        "bytes": lambda n: os.urandom(n),
        "memoryview": lambda n: memoryview(bytearray(os.urandom(n)))[1:],
        "array": lambda n: array.array("q", [random.getrandbits(63) for _ in range(n // 8 + 1)]),
        "numpy": lambda n: np.frombuffer(bytearray(os.urandom(n)), np.uint8).copy(),
        "numpy_strided": lambda n: np.zeros(n * 2 + 2, np.uint8)[::2],
        "mmap": lambda n: mmap.mmap(-1, max(n, 1)),
        "alloc": lambda n: ffikit.alloc("char", max(n, 1)),
        "pointers": lambda n: bytearray(b"".join(
            random.choice([0, 16, 2**63, 2**64 - 8, id(None), id(n)]).to_bytes(8, "little")
            for _ in range(max(n // 8, 1)))),
    }
    return makers


ops = st.lists(st.tuples(
    st.sampled_from(["view", "buffer", "address", "read", "contents", "call", "slice", "write"]),
    st.sampled_from(sorted(_sources())), st.integers(0, 64), st.sampled_from(VIEW_TYPES),
    st.integers(-3, 80), st.one_of(st.none(), st.integers(-2, 9)), st.booleans(),
    st.sampled_from(["self", "self+", "zero", "small", "negative", "huge", "random", "float"]),
    st.integers(-40, 5000),
), max_size=12)


def _address(choice: str, base: int, delta: int):
    return {"self": base, "self+": base + delta, "zero": 0, "small": abs(delta) % 4096,
            "negative": -abs(delta) - 1, "huge": 2**64 + delta, "random": random.getrandbits(64),
            "float": 1.5}[choice]


def target_views(examples: int, rng_seed: int, _lib: str | None) -> None:
    defs = ffikit.cdef("typedef struct { int a; double b; } Pair;")
    makers = _sources()

    @seed(rng_seed)
    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck),
              database=None)
    @given(ops)
    def run(sequence):
        note(("views", sequence))
        made = []
        for op, source, n, ctype, offset, count, flag, where, delta in sequence:
            obj = makers[source](n)
            base = survive(ffikit.address, obj) or 0
            if op == "address":
                survive(ffikit.address, obj)
                survive(ffikit.address, _address(where, base, delta))
            elif op == "buffer":
                size = max(0, min(n, n - delta)) if where == "self+" else abs(delta) % 64
                mv = survive(ffikit.buffer, _address(where, base, 0 if where == "self" else delta),
                             size, readonly=flag or where not in ("self",), owner=obj)
                if mv is not None and mv.nbytes:
                    bytes(mv)
                    if not mv.readonly and where == "self" and size <= n:
                        mv[0] = 1
            else:
                v = survive(ffikit.view, obj, ctype, offset=offset, count=count,
                            unaligned=flag, defs=defs)
                if v is not None:
                    made.append(v)
                    survive(_poke, v, op, delta)
        del made

    run()


def _poke(v, op: str, delta: int) -> None:
    items = [v]
    if isinstance(v, ctypes.Array) and len(v):
        items.append(v[delta % len(v)])
    for item in items:
        if isinstance(item, ctypes._Pointer):
            if op == "contents":
                _ = item.contents
            elif op == "slice":
                item[0:abs(delta) % 8]
            elif op == "write":
                item[0] = 0
            else:
                item[delta % 4]
        elif isinstance(item, ctypes.CFUNCTYPE(None).__mro__[1]):
            item(delta)
        elif op == "write" and isinstance(item, ctypes.Array) and len(item):
            survive(item.__setitem__, 0, item[0])


TARGETS = {"cdef": target_cdef, "calls": target_calls, "views": target_views}


def main(argv: list[str]) -> None:
    global _last
    target, examples, rng_seed, last_file = argv[:4]
    lib = argv[4] if len(argv) > 4 else None
    _last = open(last_file, "w", encoding="utf-8")  # noqa: SIM115 - kept open for the run
    random.seed(int(rng_seed))
    TARGETS[target](int(examples), int(rng_seed), lib)
    print("FUZZ OK", target, examples, sorted(OUTCOMES.items()))


if __name__ == "__main__":
    main(sys.argv[1:])
