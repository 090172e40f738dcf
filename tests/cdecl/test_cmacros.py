"""#define constants against gcc: macro expansion, C's types, and the bounds on the work.

The differential test compiles one C file that prints the value and the type
(by ``_Generic``) of every expression, and compares each with what ffikit
computes for the same text: hand-written families (suffixes, promotions,
casts, character constants, float precision, ``<stdint.h>`` macros) and
seeded random expressions over operators, literals and casts.
"""

import random
import subprocess
import sys
import textwrap

import pytest

import ffikit
from ffikit.cdecl.carith import FloatType
from ffikit.cdecl.cmacros import MAX_TOKENS, macro_constants
from ffikit.cdecl.constexpr import Env, NotConstant, evaluate
from ffikit.cdecl.prelude import STANDARD_TYPES

INT_TYPES = ["char", "signed char", "unsigned char", "short", "unsigned short", "int",
             "unsigned", "long", "unsigned long", "long long", "unsigned long long", "_Bool",
             "int8_t", "uint8_t", "int16_t", "uint16_t", "int32_t", "uint32_t", "int64_t",
             "uint64_t", "size_t", "intptr_t"]
FLOAT_TYPES = ["float", "double", "long double"]
INT_LITERALS = ["0", "1", "2", "3", "7", "31", "255", "0x7f", "0x7fffffff", "0x80000000",
                "0xffffffff", "2147483647", "2147483648", "4294967295", "4294967296",
                "0x7fffffffffffffff", "0x8000000000000000", "0xffffffffffffffffULL", "1U", "1L",
                "1UL", "1LL", "1ULL", "077", "0b1010", "'a'", "'\\377'", "'\\x80'", "100u",
                "65535", "32768", "-1", "-2147483647", "9223372036854775807", "0xFFu", "10l"]
FLOAT_LITERALS = ["0.1f", "0.1", "0.1L", "1.5", "2.5f", "1e10", "1e-5f", "0x1p-3",
                  "0x1.8p1f", "3.0L", "1e38f", "123456789.0f", "1e300", ".5", "6.02e23L"]
INT_OPS = ["%", "<<", ">>", "&", "|", "^"]
ARITH_OPS = ["+", "-", "*", "/", "<", ">", "<=", ">=", "==", "!=", "&&", "||"]
# Refusals are for what C leaves undefined (or that has no value), never for valid C.
UNDEFINED = ("signed overflow", "by zero", "shift count", "does not fit", "nested deeper")

FAMILIES = [
    "~0U", "-1U >> 1", "0xFFFFFFFFU + 1", "'\\377'", "0.1f", "042", "0x1p-1074",
    "-1 < 0U", "-1L < 0U", "-1LL < 0UL", "(unsigned short)-1 + 1", "(unsigned char)255 + 1",
    "(signed char)-128 - 1", "1 ? -1 : 0U", "1 ? 1 : 2.0", "0 ? 1.0f : 2", "1 ? 1.0f : 2.0",
    "sizeof(int) * -1", "sizeof(long double)", "sizeof 1.0f", "sizeof(char) - 2",
    "_Alignof(long long)", "__alignof__(long double)", "(float)16777217", "(double)(float)0.1",
    "(float)0.1 == 0.1f", "0.1f == 0.1", "1.0f / 3", "1.0 / 3", "1.0L / 3", "1e38f * 10",
    "(long double)1 / 3 * 3", "0x1.fffffep127f", "(int)-0.5", "(unsigned)3.99", "(_Bool)0.5",
    "'\\x7f' + 1", "'\\200'", "L'\\377'", "u'x'", "U'\\xffff'", "'\\n' * 3", "(char)-1 == '\\377'",
    "0x7fffffff + 0U", "2147483647 + 1U", "4294967295 + 1", "0xffffffff + 1", "1LL << 62",
    "1ULL << 63", "-1LL >> 60", "-16 >> 2", "(-16) % 5", "16 % -5", "-16 / 5", "-1 / 2U",
    "(long)-1 / 2UL", "5 / 2.0f", "0 || 0", "3 && 2", "!3", "!!-1", "~1", "-~0", "+'a'",
    "(1, 2U)", "(1.0, 2)", "100000 * 20000L", "(unsigned short)65535 * (unsigned short)65535U",
    "(uint8_t)300", "(int16_t)40000", "(uint64_t)-1", "(int64_t)1 << 40", "(size_t)-1 / 2",
    "(intptr_t)-5 >> 1", "18446744073709551615U", "9223372036854775807LL + 0ULL",
]
STDINT_FAMILIES = ["INT64_MIN", "INT64_MAX", "UINT64_C(1)", "INT64_C(-5)", "UINT32_MAX",
                   "INT8_MIN", "INT16_MAX", "UINT8_MAX + 1", "INT32_MIN / -2", "SIZE_MAX",
                   "UINTMAX_C(7) << 40", "INT_LEAST8_MAX", "UINT16_C(65535) + 1",
                   "INTPTR_MIN", "PTRDIFF_MAX", "UINT8_C(255) * 2"]


def _leaf(rng, want_int):
    if want_int or rng.random() < 0.75:
        return rng.choice(INT_LITERALS)
    return rng.choice(FLOAT_LITERALS)


def _expr(rng, depth, want_int=False):
    if depth <= 0 or rng.random() < 0.2:
        return _leaf(rng, want_int)
    kind = rng.random()
    if kind < 0.12:
        op = rng.choice(["-", "~", "!", "+"] if want_int or rng.random() < 0.5 else ["-", "!"])
        return f"{op}({_expr(rng, depth - 1, want_int or op == '~')})"
    if kind < 0.3:
        t = rng.choice(INT_TYPES if want_int or rng.random() < 0.7 else FLOAT_TYPES)
        return f"(({t}){_expr(rng, depth - 1)})"
    if kind < 0.5:
        op = rng.choice(INT_OPS)
        right = str(rng.randrange(0, 40)) if op in ("<<", ">>") and rng.random() < 0.7 else \
            _expr(rng, depth - 1, True)
        return f"({_expr(rng, depth - 1, True)} {op} {right})"
    if kind < 0.8:
        op = rng.choice(ARITH_OPS)
        return f"({_expr(rng, depth - 1, want_int)} {op} {_expr(rng, depth - 1, want_int)})"
    if kind < 0.9:
        return (f"({_expr(rng, depth - 1)} ? {_expr(rng, depth - 1, want_int)} : "
                f"{_expr(rng, depth - 1, want_int)})")
    if kind < 0.95:
        return f"sizeof({rng.choice(INT_TYPES + FLOAT_TYPES)})"
    return f"({_expr(rng, depth - 1)}, {_expr(rng, depth - 1, want_int)})"


_PRINTERS = "\n".join(
    f'static void e_{i}({t} v) {{ pos += snprintf(buf + pos, sizeof buf - pos, '
    f'"{t}|{fmt}\\n", {cast}v); }}'
    for i, (t, fmt, cast) in enumerate([
        ("_Bool", "%d", "(int)"), ("char", "%d", "(int)"), ("signed char", "%d", "(int)"),
        ("unsigned char", "%d", "(int)"), ("short", "%d", "(int)"),
        ("unsigned short", "%d", "(int)"), ("int", "%d", ""), ("unsigned int", "%u", ""),
        ("long", "%ld", ""), ("unsigned long", "%lu", ""), ("long long", "%lld", ""),
        ("unsigned long long", "%llu", ""), ("float", "%a", "(double)"), ("double", "%a", ""),
        ("long double", "%a", "(double)")]))
_GENERIC = ", ".join(f"{t}: e_{i}" for i, t in enumerate([
    "_Bool", "char", "signed char", "unsigned char", "short", "unsigned short", "int",
    "unsigned int", "long", "unsigned long", "long long", "unsigned long long", "float",
    "double", "long double"]))


def _gcc_values(cbuild, expressions, name):
    """``(type, value)`` per expression, as gcc computes them on this machine."""
    calls = "\n".join(f"    P({e});" for e in expressions)
    source = textwrap.dedent("""\
        #include <stdio.h>
        #include <stdint.h>
        #include <stddef.h>
        static char buf[1 << 20];
        static size_t pos;
        """) + _PRINTERS + f"\n#define P(e) _Generic((e), {_GENERIC})(e)\n" + \
        "const char *constants(void) {\n    pos = 0;\n" + calls + "\n    return buf;\n}\n"
    lib = ffikit.load(cbuild(source, name=name, flags=["-w"]), "const char *constants(void);")
    out = []
    for line in lib.constants().decode().splitlines():
        t, text = line.split("|")
        if t in ("float", "double", "long double"):
            out.append((t, float(text) if "inf" in text else float.fromhex(text)))
        else:
            out.append((t, int(text)))
    return out


def _ffikit_value(expr, env):
    v = evaluate(expr, env)
    t = v.type.name if v.type.name != "unsigned" else "unsigned int"
    return t, float(v.value) if isinstance(v.type, FloatType) else v.value


@pytest.mark.skipif(sys.platform == "win32", reason="needs gcc's printf and <stdint.h>")
def test_constants_equal_gcc(cbuild):
    """>= 300 expressions: ffikit's value and type equal gcc's, or ffikit refuses for a
    reason C leaves undefined (those are not compiled, gcc would only warn)."""
    env = Env(None, None, {}, STANDARD_TYPES)
    rng = random.Random(20261207)
    expressions = list(FAMILIES)
    while len(expressions) < 700:
        expressions.append(_expr(rng, rng.randrange(1, 5)))
    compared, refused = [], []
    for e in expressions:
        try:
            compared.append((e, _ffikit_value(e, env)))
        except NotConstant as exc:
            assert any(r in str(exc) for r in UNDEFINED), (e, str(exc))
            refused.append(e)
    gcc = _gcc_values(cbuild, [e for e, _ in compared], "constexpr_diff")
    wrong = [(e, ours, theirs) for (e, ours), theirs in zip(compared, gcc) if ours != theirs]
    assert not wrong, wrong[:10]
    assert len(compared) >= 300 and len(refused) < len(compared) // 3, (len(compared),
                                                                        len(refused))


@pytest.mark.skipif(sys.platform == "win32", reason="needs gcc's <stdint.h>")
def test_stdint_macros_equal_gcc(cbuild):
    """Function-like macros (``UINT64_C``) and cast macros expand as the preprocessor does."""
    text = "#include <stdint.h>\n" + "".join(
        f"#define E{i} {e}\n" for i, e in enumerate(STDINT_FAMILIES))
    defs = ffikit.cdef(text)
    gcc = _gcc_values(cbuild, STDINT_FAMILIES, "constexpr_stdint")
    assert [defs.constants[f"E{i}"] for i in range(len(STDINT_FAMILIES))] == [v for _, v in gcc]


class TestMacroConstants:
    def _run(self, lines, functions=None):
        macros = [(name, body, "f.h", i) for i, (name, body) in enumerate(lines)]
        return macro_constants(macros, functions or {}, {"f.h"}, types={}, builtins=STANDARD_TYPES)

    def test_textual_expansion_keeps_precedence(self):
        constants, _, _ = self._run([("A", "1 + 2"), ("B", "A * 3"), ("C", "(A) * 3")])
        assert constants == {"A": 3, "B": 7, "C": 9}

    def test_function_like_macros_paste_and_stringify(self):
        constants, skipped, _ = self._run(
            [("X", "CAT(0x, FF)"), ("S", "STR(a b)"), ("V", "FIRST(4, 5, 6)")],
            {"CAT": (("a", "b"), "a ## b", "f.h"), "STR": (("x",), "#x", "f.h"),
             "FIRST": (("a", "..."), "a", "f.h")})
        assert constants == {"X": 255, "S": "a b", "V": 4}
        assert skipped["CAT"] == "function-like macro (takes arguments)"

    def test_every_skipped_macro_has_a_reason(self):
        constants, skipped, types = self._run(
            [("E", ""), ("F", "f(1)"), ("R", "R + 1"), ("T", "unsigned long"),
             ("P", "(T)-1"), ("U", "T_UNKNOWN")])
        assert constants == {"P": 2 ** 64 - 1}
        assert skipped == {"E": "empty (a flag for #ifdef)", "F": "call to 'f' is not a constant",
                           "R": "'R' is not a constant", "U": "'T_UNKNOWN' is not a constant"}
        assert types["T"].c_name() == "unsigned long"

    def test_doubling_chains_are_linear(self):
        """41 squaring macros: each evaluated once; the int overflows and is refused."""
        lines = [("B0", "2")] + [(f"B{i + 1}", f"(B{i}*B{i})") for i in range(40)]
        constants, skipped, _ = self._run(lines)
        assert constants["B4"] == 2 ** 16 and "signed overflow" in skipped["B5"]
        assert "signed overflow" in skipped["B40"]
        lines = [("D0", "1")] + [(f"D{i + 1}", f"D{i} + D{i}") for i in range(27)]
        constants, skipped, _ = self._run(lines)
        assert constants["D10"] == 1024
        assert skipped["D27"] == f"expands to more than {MAX_TOKENS} tokens"

    def test_deep_macro_chains_evaluate_without_recursing(self):
        lines = [(f"A{i}", f"(A{i + 1} + 1)") for i in range(3000)] + [("A3000", "0")]
        constants, skipped, _ = self._run(lines)
        assert constants["A0"] == 3000 and not skipped
        constants, skipped, _ = self._run([("X", "Y"), ("Y", "X")])
        assert set(skipped) == {"X", "Y"} and constants == {}
        assert all(reason.endswith("is not a constant") for reason in skipped.values())


CDEF_DOS = {
    "squares": "#define B0 2\n" + "".join(f"#define B{i + 1} (B{i}*B{i})\n" for i in range(40)),
    "enum_squares": "enum { B0 = 2, " + ", ".join(f"B{i + 1} = (B{i}*B{i})" for i in range(40))
    + "};",
    "doubling": "#define D0 1\n" + "".join(f"#define D{i + 1} D{i}+D{i}\n" for i in range(27)),
    "parentheses": "#define P " + "(" * 30000 + "1" + ")" * 30000 + "\n",
    "many_defines": "".join(f"#define M{i} ({i} + M{i - 1})\n" if i else "#define M0 0\n"
                            for i in range(40000)),
}


@pytest.mark.parametrize("case", sorted(CDEF_DOS))
def test_hostile_defines_finish(case, tmp_path):
    """Each case in a child process with a timeout: finishes, with a constant, a listed
    reason, or a DeclarationError."""
    path = tmp_path / "text.h"
    path.write_text(CDEF_DOS[case])
    code = textwrap.dedent(f"""
        import ffikit
        try:
            d = ffikit.cdef(open({str(path)!r}).read())
        except ffikit.DeclarationError as exc:
            print("error", str(exc).splitlines()[0])
        else:
            print("ok", len(d.constants), len(d.skipped_macros))
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    kind, *rest = proc.stdout.split()
    if case == "enum_squares":
        assert kind == "error" and "not a constant expression" in proc.stdout
    elif case == "many_defines":
        assert proc.stdout.split() == ["ok", "40000", "0"]
    else:
        assert kind == "ok", proc.stdout
