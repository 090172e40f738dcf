"""Making ``Declarations``: C text or headers through the preprocessor and the parser, or the model cache.

:mod:`.declarations` holds what a set of declarations answers; this module
holds how one is made -- ``cc -E`` and the scrubber, the parser, the
``#define`` constants worth keeping -- and how a made one goes into the model
cache and comes back out of it (:mod:`.modelcache`).
"""

from __future__ import annotations

from types import MappingProxyType

from ffikit.cdecl import modelcache
from ffikit.cdecl.header_scope import (
    directly_included,
    final_macros,
    header_constants,
    is_noise,
    with_quote_includes,
)
from ffikit.cdecl.parse_errors import understood
from ffikit.cdecl.typenames import builtin_types as _builtins
from ffikit.cdecl.typenames import import_parser as _import_parser
from ffikit.cdecl.typenames import parse, without_gc
from ffikit.cdecl.typenames import parse_type_name as _parse_type_name

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    Declarations = Any  # (ffikit.cdecl.declarations imports this module: named, not imported)

__all__ = ["cached_model", "declare", "model_parts", "from_model"]


def cached_model(parts: tuple, cls: type[Declarations], plat: Any,
                 make: Callable[[], Declarations], *, standalone: bool = False) -> Declarations:
    """``make()``'s declarations, or those the model cache holds for ``parts``.

    The garbage collector is paused while ``make`` parses (many objects, no garbage), not
    while a stored model is read: paused there, the collections the read's objects call for
    would only fall on whatever the program does next (its first bindings)."""
    return modelcache.cached(parts, lambda: without_gc(make), model_parts,
                             lambda model: from_model(cls, plat, model), standalone=standalone)


def model_parts(defs: Declarations) -> tuple:
    """What the model cache stores of ``defs`` (plain model data: every constant evaluated,
    every function's declaration text made), and the files it came from."""
    texts = {name: defs.c_declaration(name) for name in defs.functions}
    return ((defs._result, dict(defs.constants), defs._own_files, defs._source, defs._macros,
             dict(defs.skipped_macros), dict(defs.type_macros), defs._function_macros, texts),
            defs._inputs)


def from_model(cls: type[Declarations], plat: Any, model: tuple) -> Declarations:
    """A ``cls`` holding a stored model (what :func:`model_parts` gave)."""
    result, constants, own, source, macros, skipped, type_macros, function_macros, texts = model
    defs = cls(result, constants, plat, source, own, macros, function_macros)
    defs._skipped, defs._type_macros = MappingProxyType(skipped), MappingProxyType(type_macros)
    if type(texts) is not dict or not all(type(t) is str for t in texts.values()):
        raise ValueError("not declaration texts")  # (the model cache parses the header again)
    defs._c_declarations = texts
    return defs


@understood("the declarations")  # deep nesting, huge numbers: a DeclarationError too
def declare(cls, text, plat, pack, filename, defines, include_dirs, cpp, own_depth1=False,
            named=()):
    """Preprocess and parse ``text`` into a ``cls``: ``own_depth1`` for an include (``cc -E``
    output, the named headers' own files at depth 1), else a cdef's text."""
    from ffikit.cdecl.cpp import run_cpp

    sources = {filename: text}  # an include: cc -E starts first, the modules below load meanwhile
    from_cpp = run_cpp(text, filename, include_dirs, defines, cpp, _import_parser) \
        if own_depth1 else ""
    from ffikit.cdecl.preprocess import preprocess, scrub  # (a cached model is not preprocessed)
    pre = scrub(from_cpp, pack, filename) if own_depth1 else preprocess(
        text, filename=filename, include_dirs=include_dirs, defines=defines, cpp=cpp,
        default_pack=pack, meanwhile=_import_parser)
    own = directly_included(pre.text, filename, 1 if own_depth1 else 0, named)
    own = with_quote_includes(own, include_dirs)
    result = parse(pre, platform=plat, builtins=_builtins(plat), sources=sources,
                   filename=filename, own_files=frozenset(own))
    macros, system_files = final_macros(pre.macros), pre.system_files  # not all of 'pre'
    function_macros = final_macros(pre.function_macros)

    def wanted(name: str, body: str, file: str) -> bool:
        return not is_noise(name, body, file, system_files)

    constants, found = header_constants(
        macros, result, lambda name: wanted(*macros[name][:3]) if name in macros else False,
        function_macros=function_macros, platform=plat, builtins=_builtins(plat),
        parse_type=lambda t: _parse_type_name(t, result, plat))
    for name, (value, _file) in result.static_constants.items():
        constants.setdefault(name, value)
    defs = cls(result, constants, plat, text, frozenset(own), macros, function_macros)
    defs._macro_values, defs._wanted = found, wanted
    defs._skipped_static = dict(result.skipped_constants)
    defs._inputs = modelcache.input_files(pre.text)
    return defs
