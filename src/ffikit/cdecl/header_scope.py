"""Which files a header owns, and the ``#define`` constants they contribute.

``include("zlib.h")`` declares the functions of ``zlib.h`` and of the headers
it includes with quotes (``zconf.h``), not everything the preprocessor pulled
in; the constants follow the same rule.
"""

from __future__ import annotations

import os
import re

from ffikit.cdecl.cmacros import macro_constants
from ffikit.cdecl.parse import ParseResult

__all__ = ["directly_included", "with_quote_includes", "header_constants"]

_QUOTE_INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
_ENTER_FILE = re.compile(r'^# \d+ "([^"]+)"((?: \d)*)$', re.M)


def directly_included(text: str, root: str) -> set[str]:
    """Files the root text includes itself (depth 1 in the preprocessor's markers)."""
    stack: list[str] = []
    found = set()
    for m in _ENTER_FILE.finditer(text):
        name, flags = m.group(1), m.group(2).split()
        if "1" in flags:
            stack.append(name)
            if len(stack) == 1:
                found.add(name)
        elif "2" in flags and stack:
            stack.pop()
    return found or {root}


def with_quote_includes(files: set[str], include_dirs) -> set[str]:
    result = set(files)
    todo = [f for f in files if os.path.isfile(f)]
    while todo:
        path = todo.pop()
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                body = fh.read()
        except OSError:
            continue
        for name in _QUOTE_INCLUDE.findall(body):
            for base in (os.path.dirname(path), *include_dirs):
                candidate = os.path.normpath(os.path.join(base, name))
                if os.path.isfile(candidate):
                    if candidate not in result:
                        result.add(candidate)
                        todo.append(candidate)
                    break
    return result


def header_constants(macros, own: set[str], result: ParseResult, *, function_macros=None,
                     platform=None, builtins=None, parse_type=None) -> tuple[dict, dict, dict]:
    """The ``#define`` constants of the ``own`` files, with C's values on ``platform``:
    ``(constants, skipped, type_macros)`` (see :func:`~.cmacros.macro_constants`)."""
    values = {name: value for name, (value, _file) in result.enum_values.items()}
    values.update({name: value for name, (value, _file) in result.static_constants.items()})
    return macro_constants(macros, function_macros or {}, own, platform=platform,
                           types=result.types, builtins=builtins, values=values,
                           parse_type=parse_type)
