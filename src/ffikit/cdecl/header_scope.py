"""Which files a header owns, and the ``#define`` constants they contribute.

``include("zlib.h")`` declares the functions of ``zlib.h`` and of the headers
it includes with quotes (``zconf.h``), not everything the preprocessor pulled
in; the constants follow the same rule.
"""

from __future__ import annotations

import os
import re

from ffikit.cdecl import layout as _layout
from ffikit.cdecl.constexpr import NotConstant, cast_constant, eval_macro
from ffikit.cdecl.model import (
    Typedef,
    resolve,
)
from ffikit.cdecl.parse_result import ParseResult

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


def header_constants(macros, own: set[str], result: ParseResult) -> dict:
    bodies = {name: body for name, body, _file, _line in macros}
    casts = {}
    for name, t in result.types.items():
        r = resolve(t)
        if " " not in name and isinstance(t, Typedef):
            try:
                size, signed = _layout.int_info(r)
                casts[name] = (size * 8, signed)
            except TypeError:
                pass
    cache: dict = {}
    active: set = set()

    def value_of(name):
        if name in cache:
            if isinstance(cache[name], NotConstant):
                raise cache[name]
            return cache[name]
        if name in result.enum_values:
            return result.enum_values[name][0]
        if name not in bodies or name in active:
            raise NotConstant(f"'{name}' is not a constant")
        active.add(name)
        try:
            value = eval_macro(bodies[name], value_of, casts)
        except NotConstant as exc:
            cache[name] = exc
            raise
        finally:
            active.discard(name)
        cache[name] = value
        return value

    def value_of_text(text):
        return eval_macro(text, value_of, casts)

    constants = {}
    for name, _body, file, _line in macros:
        if file not in own:
            continue
        try:
            constants[name] = value_of(name)
        except (NotConstant, RecursionError):
            found = cast_constant(bodies[name], result.types.get, value_of_text)
            if found is not None:
                constants[name] = found
    return constants
