"""Declarations for call-boundary tests.

Uses ``ffikit.cdef`` when the cdecl layer is present; until then a tiny
stand-in parses simple prototypes (``int add(int a, int b);``) over primitive
types and the typedefs given in ``types``.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

from ffikit.calls import _parse_simple_type
from ffikit.cdecl import model as m

_PROTO = re.compile(r"^\s*(?P<ret>.+?)\s*\b(?P<name>\w+)\s*\((?P<params>.*)\)\s*$", re.S)


def _param(text: str, types: dict) -> tuple[m.CType, str | None]:
    text = text.strip()
    match = re.match(r"^(.*?[\s*])(\w+)$", text)
    if match and match.group(2) not in m.PRIMITIVE_NAMES and match.group(2) not in types and \
            match.group(2) not in ("int", "char", "long", "short", "double", "float", "unsigned", "signed", "void"):
        type_text, name = match.group(1), match.group(2)
    else:
        type_text, name = text, None
    return _parse_simple_type(type_text.strip(), types), name


def declare(text: str, types: dict | None = None, variables: dict | None = None) -> SimpleNamespace:
    """Parse ``;``-separated prototypes into a Declarations-like namespace."""
    types = dict(types or {})
    functions = {}
    for proto in filter(str.strip, text.split(";")):
        match = _PROTO.match(proto)
        assert match, proto
        params_text = match.group("params").strip()
        variadic = False
        params = []
        if params_text and params_text != "void":
            parts = [p.strip() for p in params_text.split(",")]
            if parts[-1] == "...":
                variadic = True
                parts.pop()
            params = [_param(p, types) for p in parts]
        ftype = m.FunctionType(
            _parse_simple_type(match.group("ret"), types),
            [p[0] for p in params],
            variadic,
            [p[1] for p in params],
        )
        functions[match.group("name")] = m.FunctionDecl(match.group("name"), ftype)
    return SimpleNamespace(functions=functions, variables=dict(variables or {}), types=types)
