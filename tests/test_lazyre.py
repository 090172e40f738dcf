"""lazyre: a pattern compiled at first use behaves as ``re.compile``'s, and costs nothing before."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from ffikit.lazyre import LazyPattern

CASES = [(r"([A-Za-z_]\w*)\s*(\()?", 0, "  foo ( bar"), (r"^# \d+ \"([^\"]+)\"", re.M, '# 1 "a.h"\n# 2 "b.h"'),
         (r"(?P<word>\w+)", 0, "a bc def"), (r"x*", 0, "")]


@pytest.mark.parametrize(("pattern", "flags", "text"), CASES)
def test_a_lazy_pattern_answers_as_the_compiled_one(pattern, flags, text):
    lazy, real = LazyPattern(pattern, flags), re.compile(pattern, flags)
    assert "match" not in vars(lazy)  # nothing compiled yet
    assert (lazy.pattern, lazy.flags, lazy.groups, lazy.groupindex) == \
        (real.pattern, real.flags, real.groups, real.groupindex)
    for method in ("match", "search", "fullmatch"):
        got, want = getattr(lazy, method)(text), getattr(real, method)(text)
        assert (got and (got.span(), got.groups())) == (want and (want.span(), want.groups()))
    assert lazy.findall(text) == real.findall(text)
    assert [m.span() for m in lazy.finditer(text)] == [m.span() for m in real.finditer(text)]
    assert lazy.sub("-", text) == real.sub("-", text) and lazy.split(r" ") == real.split(" ")
    assert lazy.compiled() is lazy.compiled() and lazy.compiled().pattern == pattern
    assert "match" in vars(lazy)  # compiled once: later reads are the pattern's own methods


def test_a_bad_pattern_fails_at_first_use_with_re_error():
    lazy = LazyPattern(r"(unclosed")
    with pytest.raises(re.error):
        lazy.search("x")
    with pytest.raises(AttributeError):
        LazyPattern("x").no_such_method  # noqa: B018


def test_importing_the_parse_error_and_scope_modules_compiles_none_of_their_patterns():
    """What the laziness is for: a warm start imports these modules and compiles nothing."""
    code = ("import ffikit.cdecl.parse_errors, ffikit.cdecl.header_scope, ffikit.cdecl.typenames\n"
            "import ffikit.boundary.finding\n"
            "from ffikit.lazyre import LazyPattern\n"
            "mine = [v for m in ('cdecl.parse_errors', 'cdecl.header_scope', 'cdecl.typenames',\n"
            "                    'boundary.finding', 'cdecl.attributes')\n"
            "        for v in vars(__import__('sys').modules['ffikit.' + m]).values()\n"
            "        if isinstance(v, LazyPattern)]\n"
            "print(sum('match' in vars(p) for p in mine), len(mine))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0", "13"]
