"""Parsed declarations as plain data: holding them loads neither the parser nor pycparser."""

from __future__ import annotations

from crashproof import run_isolated
from ffikit.cdecl.parse_result import ParseResult


def test_declarations_from_a_parse_result_need_no_parser():
    """Declarations built from a ParseResult work (layout, typeof) with the parser unloaded."""
    result = run_isolated("""
        import sys
        from ffikit.cdecl import model as m
        from ffikit.cdecl.declarations import Declarations
        from ffikit.cdecl.layout import get_platform
        from ffikit.cdecl.parse_result import ParseResult

        point = m.StructOrUnion("struct", "point")
        point.complete([m.Field("x", m.Primitive("int")), m.Field("y", m.Primitive("double"))])
        result = ParseResult(types={"struct point": point, "point": m.Typedef("point", point)})
        result.decl_files = {"struct point": "p.h", "point": "p.h"}
        defs = Declarations(result, {}, get_platform(None), "", frozenset({"p.h"}))
        print(defs.sizeof("point"), defs.sizeof("point **"), defs.typeof("struct point *"))
        print(sorted(m for m in ("pycparser", "ffikit.cdecl.parse") if m in sys.modules))
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["16 8 struct point *", "[]"]


def test_the_parser_returns_this_record():
    """parse() fills this very class (re-exported by the parser module)."""
    from ffikit.cdecl import parse
    from ffikit.cdecl.layout import get_platform
    from ffikit.cdecl.preprocess import preprocess

    text = "struct s { char c; }; int f(struct s *);"
    result = parse.parse(preprocess(text, filename="t.h"), platform=get_platform(None),
                         builtins={}, sources={"t.h": text}, filename="t.h")
    assert type(result) is ParseResult and parse.ParseResult is ParseResult
    assert result.decl_files["f"] == "t.h" and "struct s" in result.types
