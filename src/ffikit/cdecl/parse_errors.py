"""Turning pycparser's parse errors into DeclarationErrors that point at the user's line.

pycparser says ``file:line:col: before: x``; this finds the line in the
user's text, recognises C++ and names used as types that nobody declared,
and says so with a hint.  :func:`understood` does the same for whatever else
escapes at an entry point (deep nesting, huge numbers): a DeclarationError.
"""

from __future__ import annotations

import contextlib
import os
import re

from ffikit.lazyre import LazyPattern

from ..errors import DeclarationError

__all__ = ["source_line", "translate", "understood", "refuse_huge_literals", "MAX_STRING_LITERAL"]

# pycparser's lexer needs ~800 bytes of memory per character of a string literal (a 10 MB
# literal: 8 GB): declarations longer than this are refused before parsing.
MAX_STRING_LITERAL = 65536
_LONG_STRING = LazyPattern(f'"[^"\\n]{{{MAX_STRING_LITERAL}}}')


def refuse_huge_literals(pre) -> None:
    """Raise a DeclarationError for a string literal the parser would choke on."""
    if len(pre.text) < MAX_STRING_LITERAL:
        return
    m = _LONG_STRING.search(pre.text)
    if m is None:
        return
    where = max(((k, v) for k, v in pre.line_starts.items() if v <= m.start()),
                key=lambda kv: kv[1], default=((None, None), 0))[0]
    raise DeclarationError(
        f"a string literal longer than {MAX_STRING_LITERAL} characters "
        f"({pre.text[m.start():m.start() + 20]}...) is more than ffikit parses",
        filename=where[0], line=where[1],
        hint="declare it as 'extern const char name[];' and read it from the library")


def source_line(sources: dict, file: str | None, line: int | None) -> str | None:
    """The text of ``line`` in ``file`` (from the given sources, else from disk)."""
    if line is None or line < 1:
        return None
    text = sources.get(file)
    if text is None and file and os.path.isfile(file):
        try:
            with open(file, encoding="utf-8", errors="replace") as fh:
                text = fh.read()
        except OSError:
            return None
        sources[file] = text
    if text is None:
        return None
    lines = text.split("\n")
    return lines[line - 1] if line <= len(lines) else None


_PARSE_ERROR = LazyPattern(r"^(?P<file>.*?):(?P<line>\d+)(?::(?P<col>\d+))?: (?P<msg>.*)$", re.S)

def translate(message: str, sources, pre, builtins, known, keywords) -> DeclarationError:
    """pycparser's error text -> a DeclarationError with file, line, column and a hint."""
    m = _PARSE_ERROR.match(message)
    file = m.group("file") if m else None
    line = int(m.group("line")) if m else None
    col = int(m.group("col")) if m and m.group("col") else None
    msg = m.group("msg") if m else message
    src = source_line(sources, file, line)
    if src is not None and _CPLUSPLUS.search(src):
        return DeclarationError(
            f"syntax error: {msg}", filename=file, line=line, column=col, source_line=src,
            hint='this looks like C++; ffikit parses C declarations only (wrap C++ in extern "C")')
    known_names = set(builtins) | (set(known.types) if known else set())
    unknown = _first_unknown_type(sources, known_names, keywords)
    if unknown is not None:
        ufile, uline, ucol, word = unknown
        return DeclarationError(
            f"unknown type name '{word}'", filename=ufile, line=uline, column=ucol,
            source_line=source_line(sources, ufile, uline),
            hint="declare it with typedef, or include the header that does")
    before = re.fullmatch(r"before: (.*)", msg.strip(), re.S)
    if before is not None:
        return DeclarationError(
            f"syntax error before '{before.group(1)}'", filename=file, line=line, column=col,
            source_line=src, hint="expected a declaration here: is a ';' or ',' missing "
            "before it, or a type name that was never declared?")
    return DeclarationError(f"syntax error: {msg}", filename=file, line=line, column=col,
                            source_line=src)


_CPLUSPLUS = LazyPattern(r"\b(class|template|namespace|public:|private:|protected:)|::")
_TYPE_USE = LazyPattern(r"(?:^|[;{(,])\s*(?:(?:const|volatile|static|extern|struct|union|enum)\s+)*"
                       r"([A-Za-z_]\w*)\s*[*\s]\s*\(?\s*\**\s*[A-Za-z_),\[]", re.M)


def _first_unknown_type(sources: dict, known: set, keywords) -> tuple | None:
    """Where a name is used as a type but nobody declared it (pycparser can't tell)."""
    from .preprocess import strip_comments  # (the preprocessor's module: only when parsing failed)

    for file, text in sources.items():
        if not isinstance(text, str) or file is None or not file.startswith("<"):
            continue
        for m in _TYPE_USE.finditer(strip_comments(text)):
            word = m.group(1)
            before = text[max(0, m.start(1) - 7):m.start(1)]
            if word in keywords or word in known or re.search(r"(struct|union|enum)\s+$", before):
                continue
            line = text.count("\n", 0, m.start(1)) + 1
            col = m.start(1) - (text.rfind("\n", 0, m.start(1)) + 1) + 1
            return file, line, col, word
    return None


@contextlib.contextmanager
def understood(what: str):
    """Turn what escapes ffikit's C handling (deep nesting, huge numbers) into DeclarationError.

    Used at the entry points (``cdef``/``include``, ``typeof``, ``sizeof``,
    ``layout``, a backend's ``ctype``), so ``except ffikit.FFIError`` catches
    every failure to understand C text.
    """
    try:
        yield
    except DeclarationError:
        raise
    except RecursionError:
        raise DeclarationError(
            f"{what}: the declarations nest too deeply for ffikit (Python's recursion limit)",
            hint="flatten the nesting with typedefs") from None
    except (OverflowError, ValueError, IndexError, KeyError, AttributeError) as exc:
        raise DeclarationError(
            f"{what}: ffikit could not process this C ({type(exc).__name__}: {exc})",
            hint="if the C is valid, please report it as an ffikit bug") from exc
