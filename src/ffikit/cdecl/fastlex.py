"""pycparser's lexer with a fast path for what preprocessed headers are made of.

``cc -E`` output, once scrubbed (:mod:`.preprocess` blanks attributes and
``#define`` lines in place, to keep every offset), is mostly whitespace,
identifiers, a few punctuators and line markers.  pycparser's lexer steps
over whitespace one character per loop turn and looks every token up in one
big alternation: about half of a header's parse.  :class:`FastLexer` takes
runs of whitespace, identifiers, the unambiguous operators and plain line
markers with one precompiled regex in a tight loop, and hands everything else
(numbers, strings, ``/``, ``.``, ``[``, ``#pragma``, attribute brackets,
errors) to pycparser's own code at the same position, so the tokens are
pycparser's: the tests compare both token streams on real headers.  Runs stop
before anything pycparser lexes, so a lexing error is still raised when the
parser reaches it, not earlier.

It uses a few of the lexer's private names; if a pycparser release renames
them, :data:`LEXER` is pycparser's own lexer (slower, same result).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from functools import partial

__all__ = ["LEXER", "FastLexer"]


class _LazyPattern:
    """A regex compiled when first used: pycparser's 3,500-character token regex costs
    11 ms to compile at import, and the fast lexer needs it only for rare tokens."""

    def __init__(self, pattern: str, flags: int, compile_: Any) -> None:
        self._args = (pattern, flags)
        self._compile = compile_
        self._real: re.Pattern | None = None

    def _pattern(self) -> re.Pattern:
        real = self._real
        if real is None:
            real = self._real = self._compile(*self._args)
        return real

    def match(self, *args: Any, **kwargs: Any) -> re.Match | None:
        return self._pattern().match(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pattern(), name)


def _import_pycparser_lexer() -> None:
    """Import :mod:`pycparser.c_lexer` with its big token regex left to compile on first use.

    For the length of that one import, ``re.compile`` hands a :class:`_LazyPattern` to a
    call made from that module's own code for a pattern over 2,000 characters; every other
    call (another thread's too) gets ``re.compile``'s own result.  Nothing changes but
    when the regex is compiled.  Already imported: nothing to do."""
    if "pycparser.c_lexer" in sys.modules:
        return
    compile_ = re.compile

    def compile_lazily(pattern: Any, flags: int = 0) -> Any:
        if isinstance(pattern, str) and len(pattern) > 2000 and \
                sys._getframe(1).f_globals.get("__name__") == "pycparser.c_lexer":
            return _LazyPattern(pattern, flags, compile_)
        return compile_(pattern, flags)

    re.compile = compile_lazily  # type: ignore[assignment]
    try:
        import pycparser.c_lexer  # noqa: F401
    finally:
        re.compile = compile_


_import_pycparser_lexer()

from pycparser import c_lexer  # noqa: E402  (after the lexer's lazy import above)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_SPACE = re.compile(r"[ \t\f\v\n]+")
# Whitespace (taken whole: '*+'), then one of: an identifier not opening a literal (L"..",
# u8'x'); an operator (filled in below, longest first); an integer constant as pycparser spells
# one (its own patterns, filled in below), ended by what cannot continue a number; a string
# without escapes; a line marker as gcc writes it ('# 12 "f.h" 1 3', to the end of its line).
# What none takes (floats, characters, escapes, comments, '[[', #pragma, errors) is pycparser's.
_SCAN_TEXT = (r'[ \t\f\v\n]*+(?:(?P<i>[a-zA-Z_$][0-9a-zA-Z_$]*+)(?![\'"])|(?P<p>{operators})'
              r'|(?P<n>(?P<nh>{hex})|(?P<no>{octal})|(?P<nd>{decimal}))(?![0-9a-zA-Z_$.\'"\\])'
              r'|(?P<s>"[^"\\\n]*+")'
              r'|(?P<m>#[ \t]*+(?:line[ \t]++)?(?P<ml>[0-9]++)[ \t]++"(?P<mf>[^"\\\n]*+)"'
              r'(?:[ \t]++[0-9]++)*+[ \t]*+(?=\n|\Z)))')
# Operators whose first character may start something else: taken only when it does not.
_GUARDED = {"...": r"\.\.\.", ".": r"\.(?![0-9])", "/=": "/=", "/": r"/(?![*/=])",
            "[": r"\[(?!\s*\[)"}


def _operators() -> dict[str, str] | None:
    """pycparser's operator tokens (literal -> type); those whose first character may also
    start something else ('/' a comment, '.' a number, '[' an attribute) are matched with
    a guard (:data:`_GUARDED`), and '#' (a directive) is left to pycparser."""
    table = getattr(c_lexer, "_fixed_tokens_by_first", None)
    if not isinstance(table, dict):
        return None
    out = {}
    for first, bucket in table.items():
        if first in "#_$'\"" or first.isalnum() or first.isspace():
            continue
        for entry in bucket:
            if first not in "/.[" or entry.literal in _GUARDED:
                out[entry.literal] = entry.tok_type
    return out


def _scan() -> re.Pattern | None:
    operators = _OPERATORS
    numbers = [getattr(c_lexer, name, None) for name in
               ("_hex_constant", "_octal_constant", "_decimal_constant")]
    if not operators or not all(isinstance(n, str) for n in numbers):
        return None
    plain = [re.escape(op) for op in sorted(operators, key=len, reverse=True)
             if op not in _GUARDED]
    guarded = [_GUARDED[op] for op in _GUARDED if op in operators]
    hexadecimal, octal, decimal = numbers
    return re.compile(_SCAN_TEXT.format(operators="|".join(plain + guarded), hex=hexadecimal,
                                        octal=octal, decimal=decimal))


_OPERATORS = _operators() or {}
_SCAN = _scan()
_NUMBER = {"nh": "INT_CONST_HEX", "no": "INT_CONST_OCT", "nd": "INT_CONST_DEC"}
_PRIVATE = ("_lexdata", "_pos", "_lineno", "_line_start", "_filename", "_pending_tok",
            "_in_attribute", "_keyword_map")


class FastLexer(c_lexer.CLexer):
    """:class:`pycparser.c_lexer.CLexer`, with runs of common tokens taken by one regex."""

    # pycparser's lexer state (set by its input()), as this class reads and moves it.
    _lexdata: str
    _pos: int
    _lineno: int
    _line_start: int
    _filename: str
    _keyword_map: dict[str, str]

    def input(self, text: str, filename: str = "") -> None:
        super().input(text, filename)
        # The parser reads 'lexer.token' once per parse: a C-level callable over a generator
        # saves a Python call per token.  Past the end it returns None, as token() does.
        self.token = partial(next, self._stream(), None)  # type: ignore[method-assign]

    def _stream(self) -> Iterator[c_lexer.Token | None]:
        slow = c_lexer.CLexer.token
        while True:
            if self._pending_tok is None and not self._in_attribute:
                yield from self._run()
            tok = slow(self)  # what the run stopped at, lexed (or refused) by pycparser
            if tok is None and self._pos >= len(self._lexdata):
                return
            if tok is not None:
                yield tok

    def _run(self) -> list[c_lexer.Token]:
        """The tokens from the current position up to one the regex does not take."""
        text, pos, lineno, line_start, filename = \
            self._lexdata, self._pos, self._lineno, self._line_start, self._filename
        keywords, operators, token, match = self._keyword_map, _OPERATORS, c_lexer.Token, \
            _SCAN.match  # type: ignore[union-attr]
        out: list[c_lexer.Token] = []
        while (m := match(text, pos)) is not None:
            kind = m.lastgroup
            at = m.start(kind)  # type: ignore[arg-type]
            if at != pos and (newlines := text.count("\n", pos, at)):
                lineno += newlines
                line_start = text.rindex("\n", pos, at) + 1
            if kind == "i":
                value = m.group("i")
                out.append(token(keywords.get(value, "ID"), value, lineno, at - line_start + 1,
                                 filename))
                pos = m.end()
            elif kind == "p":
                value = m.group("p")
                out.append(token(operators[value], value, lineno, at - line_start + 1, filename))
                pos = m.end()
            elif kind == "n":
                value = m.group("n")
                number = "nh" if m.group("nh") is not None else \
                    "no" if m.group("no") is not None else "nd"
                out.append(token(_NUMBER[number], value, lineno, at - line_start + 1, filename))
                pos = m.end()
            elif kind == "s":
                value = m.group("s")
                out.append(token("STRING_LITERAL", value, lineno, at - line_start + 1, filename))
                pos = m.end()
            else:  # a line marker: the next line is that line of that file
                lineno, filename = int(m.group("ml")), m.group("mf")
                pos = line_start = m.end() + 1
        space = _SPACE.match(text, pos)
        if space is not None:  # up to what pycparser lexes next
            end = space.end()
            if newlines := text.count("\n", pos, end):
                lineno += newlines
                line_start = text.rindex("\n", pos, end) + 1
            pos = end
        self._pos, self._lineno, self._line_start, self._filename = \
            pos, lineno, line_start, filename
        return out


def _usable() -> bool:
    if _SCAN is None or not hasattr(c_lexer, "Token"):
        return False
    probe = c_lexer.CLexer(lambda *args: None)
    probe.input("x", "")
    return all(hasattr(probe, name) for name in _PRIVATE)


LEXER: type[c_lexer.CLexer] = FastLexer if _usable() else c_lexer.CLexer
