"""pycparser's lexer with a fast path for what preprocessed headers are made of.

``cc -E`` output, once scrubbed (:mod:`.preprocess` blanks attributes and
``#define`` lines in place, to keep every offset), is mostly whitespace,
identifiers, a few punctuators and line markers.  pycparser's lexer steps
over whitespace one character per loop turn and looks every token up in one
big alternation: about half of a header's parse.  :class:`FastLexer` takes
runs of whitespace, identifiers, the unambiguous punctuators and plain line
markers with one precompiled regex each, and hands everything else (numbers,
strings, ``/``, ``.``, ``[``, ``#pragma``, attribute brackets, errors) to
pycparser's own code at the same position, so the tokens are pycparser's:
the tests compare both token streams on real headers.

It uses a few of the lexer's private names; if a pycparser release renames
them, :data:`LEXER` is pycparser's own lexer (slower, same result).
"""

from __future__ import annotations

import re

from pycparser import c_lexer

__all__ = ["LEXER", "FastLexer"]

_SPACE = re.compile(r"[ \t\f\v\n]+")
_IDENTIFIER = re.compile(r"[a-zA-Z_$][0-9a-zA-Z_$]*")
_IDENTIFIER_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_$")
# '# 12 "file.h" 1 3' as gcc writes it, to the end of its line; other forms: pycparser's code.
_MARKER = re.compile(r'#[ \t]*(?:line[ \t]+)?([0-9]+)[ \t]+"([^"\\\n]*)"(?:[ \t]+[0-9]+)*[ \t]*(?=\n|\Z)')


def _punctuators() -> dict[str, tuple] | None:
    """First character -> pycparser's operator tokens starting with it (longest first), for
    the characters no other token can start with ('/' starts a comment, '.' a number, '['
    an attribute, '#' a directive: those stay with pycparser)."""
    table = getattr(c_lexer, "_fixed_tokens_by_first", None)
    if not isinstance(table, dict):
        return None
    out = {}
    for first, bucket in table.items():
        if first in "/.[#" or first.isalnum() or first in "_$'\"":
            continue
        out[first] = tuple((entry.literal, entry.tok_type) for entry in bucket)
    return out


_PUNCTUATORS = _punctuators()
_PRIVATE = ("_lexdata", "_pos", "_lineno", "_line_start", "_filename", "_pending_tok",
            "_in_attribute", "_keyword_map")


class FastLexer(c_lexer.CLexer):
    """:class:`pycparser.c_lexer.CLexer`, with the common tokens taken by precompiled regexes."""

    def token(self) -> c_lexer.Token | None:
        if self._pending_tok is not None or self._in_attribute:
            return super().token()
        text = self._lexdata
        while True:
            pos = self._pos
            space = _SPACE.match(text, pos)
            if space is not None:
                end = space.end()
                newlines = text.count("\n", pos, end)
                if newlines:
                    self._lineno += newlines
                    self._line_start = text.rindex("\n", pos, end) + 1
                self._pos = pos = end
            if pos >= len(text):
                return None
            c = text[pos]
            if c in _IDENTIFIER_START:
                word = _IDENTIFIER.match(text, pos)
                end = word.end()  # type: ignore[union-attr]
                if text[end:end + 1] not in ("'", '"'):  # L"..", u8'x': pycparser's
                    value = word.group()  # type: ignore[union-attr]
                    self._pos = end
                    return c_lexer.Token(self._keyword_map.get(value, "ID"), value, self._lineno,
                                         pos - self._line_start + 1, self._filename)
            elif c == "#":
                marker = _MARKER.match(text, pos)
                if marker is not None:
                    self._lineno = int(marker.group(1))
                    self._filename = marker.group(2)
                    self._pos = self._line_start = marker.end() + 1
                    continue
            else:
                bucket = _PUNCTUATORS.get(c)  # type: ignore[union-attr]
                if bucket is not None:
                    for literal, kind in bucket:
                        if text.startswith(literal, pos):
                            self._pos = pos + len(literal)
                            return c_lexer.Token(kind, literal, self._lineno,
                                                 pos - self._line_start + 1, self._filename)
            return super().token()


def _usable() -> bool:
    if _PUNCTUATORS is None or not hasattr(c_lexer, "Token"):
        return False
    probe = c_lexer.CLexer(lambda *args: None)
    probe.input("x", "")
    return all(hasattr(probe, name) for name in _PRIVATE)


LEXER: type[c_lexer.CLexer] = FastLexer if _usable() else c_lexer.CLexer
