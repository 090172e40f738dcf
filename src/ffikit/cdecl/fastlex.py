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
from collections.abc import Iterator
from functools import partial

from pycparser import c_lexer

__all__ = ["LEXER", "FastLexer"]

_SPACE = re.compile(r"[ \t\f\v\n]+")
# Whitespace (taken whole: '*+'), then an identifier not opening a literal (L"..", u8'x'), an
# operator (filled in below, longest first) or a line marker as gcc writes it ('# 12 "f.h" 1 3',
# to the end of its line; other forms are pycparser's).
_SCAN_TEXT = (r'[ \t\f\v\n]*+(?:(?P<i>[a-zA-Z_$][0-9a-zA-Z_$]*+)(?![\'"])|(?P<p>{operators})'
              r'|(?P<m>#[ \t]*+(?:line[ \t]++)?([0-9]++)[ \t]++"([^"\\\n]*+)"(?:[ \t]++[0-9]++)*+[ \t]*+'
              r'(?=\n|\Z)))')


def _operators() -> dict[str, str] | None:
    """pycparser's operator tokens (literal -> type) for the characters no other token can
    start with ('/' starts a comment, '.' a number, '[' an attribute, '#' a directive:
    those stay with pycparser)."""
    table = getattr(c_lexer, "_fixed_tokens_by_first", None)
    if not isinstance(table, dict):
        return None
    out = {}
    for first, bucket in table.items():
        if first in "/.[#_$'\"" or first.isalnum() or first.isspace():
            continue
        for entry in bucket:
            out[entry.literal] = entry.tok_type
    return out


_OPERATORS = _operators() or {}
_SCAN = re.compile(_SCAN_TEXT.format(operators="|".join(
    re.escape(op) for op in sorted(_OPERATORS, key=len, reverse=True)) or "(?!)"))
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
            _SCAN.match
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
            else:  # a line marker: the next line is that line of that file
                lineno, filename = int(m.group(4)), m.group(5)
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
    if not _OPERATORS or not hasattr(c_lexer, "Token"):
        return False
    probe = c_lexer.CLexer(lambda *args: None)
    probe.input("x", "")
    return all(hasattr(probe, name) for name in _PRIVATE)


LEXER: type[c_lexer.CLexer] = FastLexer if _usable() else c_lexer.CLexer
