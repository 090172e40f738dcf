"""The fast lexer gives exactly pycparser's tokens, positions and errors."""

import random
import subprocess
import sys
import textwrap

import pytest
from pycparser import c_lexer, c_parser

from ffikit.cdecl.fastlex import LEXER, FastLexer
from ffikit.cdecl.preprocess import preprocess

SHAPE_TEST = "test_the_fast_lexer_is_used_where_pycparser_lexes_as_this_one_knows"


@pytest.fixture(autouse=True)
def _fast_lexer_only(request):
    """pycparser 3.0's lexer has another shape (no ``Token``, other arguments): ffikit uses it
    as it is there, and only the shape test applies."""
    if LEXER is not FastLexer and request.node.name != SHAPE_TEST:
        pytest.skip("this pycparser's lexer has another shape: its own lexer is used")


def tokens(cls, text: str) -> tuple[list, list]:
    errors: list = []
    lexer = cls(lambda message, line, column: errors.append((message, line, column)))
    lexer.input(text, "<t>")
    out = []
    while (tok := lexer.token()) is not None:
        out.append((tok.type, tok.value, tok.lineno, tok.column, tok.filename))
        assert len(out) < 200_000
    return out, errors


def same_as_pycparser(text: str) -> list:
    fast = tokens(FastLexer, text)
    assert fast == tokens(c_lexer.CLexer, text)
    return fast[0]


def test_the_fast_lexer_is_used_where_pycparser_lexes_as_this_one_knows():
    assert (LEXER is FastLexer) == hasattr(c_lexer, "Token")  # (pycparser 3.0 has no Token)
    import ffikit

    text = "typedef struct { int a; } S; unsigned long adler32(unsigned long, const char *, unsigned);"
    assert "adler32" in ffikit.cdef(text).functions  # parsed by whichever lexer was chosen


SNIPPETS = [
    "",
    "   \n\t\f\v  ",
    "int x;",
    "typedef struct s { int a, *b; } S;\n",
    "a->b ... <<= >>= *= * *p ++ -- && || ! != == <= >= ? : :: ~ ^ ^= | |= & &= % %=",
    'L"wide" u8"utf" u"16" U"32" "plain" "esc\\n\\"q"',
    "L'a' u8'b' u'c' U'd' 'e' '\\377' 'ab' Lx\"s\" u8x'q'",
    ".5 1.e3 0x1p-3 0x1.8P+2f 1'000 0b101 017 09 42ULL 3.0L 1e+ .",
    "0 00 0u 0x0 0XffU 10ul 10UL 10lu 10LLU 10ull 10llu 10lL 10Llu 10uwb 10wbu 1'2'3 0'7 0'8 "
    "0x1e5 0x1.p1 7$ 7_ 7. 7' 7\" 7é",
    "a[2] b[ [x]] c[[d]] ... .. . .5 x.y x/y x/=y x/*c*/ x//c\n /",
    '"" "plain" "with \\"escape\\"" "tab\tin" "unterminated',
    "[[gnu::packed]] struct [[deprecated(\"x\")]] t; int a[3]; a[[1]]",
    "#pragma pack(1)\nint x;\n#pragma once\n#  pragma\n#",
    '# 12 "f.h" 1 3 4\nint y;\n#line 7 "g.c"\nz\n# 5\nw\n# 9 "a\\\\b.h"\nq',
    '# 3 "end.h"',
    '# 4 "bad.h" x\nint a;\n#line "f.h" 3\n# 1\'0 "s.h"\n#5"n.h"\n# 6 "c.h"\r\nint b;',
    "$dollar _under x1 __int128 _Bool _Complex __asm__ restrict inline",
    "@ ` \\ \r int \x00 é ünïcode",
    "/* comment */ // line\n int f(void);",
    "int f(int (*)(char), ...) { return 0; }",
    "\"unterminated\n'x\n'' 'abcde'",
]


@pytest.mark.parametrize("text", SNIPPETS)
def test_snippets(text):
    same_as_pycparser(text)


def test_positions_after_markers_and_blank_runs():
    found = same_as_pycparser('# 40 "z.h"\n\n   \n    int\n  f ( ) ;')
    assert [(t[1], t[2], t[3], t[4]) for t in found] == [
        ("int", 42, 5, "z.h"), ("f", 43, 3, "z.h"), ("(", 43, 5, "z.h"), (")", 43, 7, "z.h"),
        (";", 43, 9, "z.h")]


FRAGMENTS = ["int", "x", "L", "u8", "U", "'a'", '"s"', " ", "\n", "\t", "(", ")", "*", "*=", "=",
             "->", "-", ">", ".", "..", "1", "0x", "e", "[", "[[", "]]", "]", "#", "# 3 \"f\"",
             "#pragma", "line", "/", "/*", "*/", "\\", "$", ";", ",", "{", "}", ":", "?", "\r",
             "__attribute__", "'", '"', "0", "10", "017", "08", "0x1F", "0x", "0b1", "1.", "1e3",
             "0x1p3", "u", "U", "l", "ll", "LL", "wb", "ULL", "1'0", "...", "/=", "//", "[ [",
             '"a\\"b"', '"x"', "\\n", "9"]


def test_random_fragments():
    rng = random.Random(21)
    for _ in range(1500):
        same_as_pycparser("".join(rng.choice(FRAGMENTS) for _ in range(rng.randrange(1, 40))))


HEADERS = ["zlib.h", "sqlite3.h", "stdio.h", "stdlib.h", "string.h", "math.h", "pthread.h",
           "signal.h", "sys/socket.h", "Python.h", "png.h"]


@pytest.mark.parametrize("header", HEADERS)
def test_real_headers(header):
    include_dirs = ()
    if header == "Python.h":
        import sysconfig

        include_dirs = (sysconfig.get_paths()["include"],)
    try:
        raw = preprocess(f"#include <{header}>\n", filename="<t>", include_dirs=include_dirs,
                         force_cpp=True)
    except Exception as exc:  # not installed here
        pytest.skip(f"{header}: {exc}")
    assert len(same_as_pycparser(raw.text)) > 100
    ast = c_parser.CParser(lexer=FastLexer)
    # the parse with the fast lexer builds what pycparser's own does
    from pycparser import c_generator

    prefix = "typedef int __ffikit_va_list, __ffikit_int128, __ffikit_uint128, _Float128, " \
             "_Float64x, _Float32, _Float64, _Float32x;\n"
    try:
        slow = c_parser.CParser().parse(prefix + raw.text, "<t>")
    except c_parser.ParseError:
        pytest.skip(f"{header}: pycparser alone does not parse it")
    fast = ast.parse(prefix + raw.text, "<t>")
    generate = c_generator.CGenerator().visit
    assert generate(fast) == generate(slow)



@pytest.mark.parametrize("text", [
    "int x int y;\nint @ z;\n",       # the parse error comes first, as with pycparser
    "int a;\nint @ z;\nint x int y;\n",  # the lexing error comes first
    "int a;\nchar *s = \"bad \\q escape\";\n",
    "int a;\n# 7 \"f.h\"\nint b c;\n",
    "struct s { int a; } x\n# 3 \"g.h\"\n[[deprecated]] int y;",
])
def test_errors_are_reported_where_pycparser_reports_them(text):
    def outcome(**kwargs):
        try:
            return c_parser.CParser(**kwargs).parse(text, "<t>").__class__.__name__
        except c_parser.ParseError as exc:
            return str(exc)

    assert outcome(lexer=FastLexer) == outcome()


def test_the_big_token_regex_compiles_when_first_needed():
    code = textwrap.dedent("""
        import re
        compile_ = re.compile
        from ffikit.cdecl.fastlex import FastLexer
        from pycparser import c_lexer
        assert re.compile is compile_
        lazy = c_lexer._regex_master
        def lex(text):
            lexer = FastLexer(lambda *a: None)
            lexer.input(text, "<t>")
            return [t.type for t in iter(lexer.token, None)]
        assert lex("int a[0x10]; char *s = \\"x\\";") and lazy._real is None
        assert lex("double d = 1.5;")[-2] == "FLOAT_CONST" and lazy._real is not None
        print("ok")
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "ok", proc.stderr
