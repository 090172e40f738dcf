"""Reading C type names: the built-in names, ``T *`` without the parser, array
suffixes with constant lengths, and the C parser (imported on first use) for the rest.

Kept apart from :mod:`ffikit.cdecl.declarations` (which holds what a text declares)
so that holding declarations -- a generated binding, a model from the cache --
never imports the parser or pycparser.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ffikit.cdecl.model import Array, CType
from ffikit.cdecl.parse_result import ParseResult
from ffikit.cdecl.prelude import STANDARD_TYPES, WINDOWS_DECLARATIONS, platform_types
from ffikit.errors import DeclarationError
from ffikit.lazyre import LazyPattern

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeVar

    T = TypeVar("T")

__all__ = ["POINTER_TO_NAME", "TYPE_MACRO", "ARRAY_SUFFIX", "parse_type_name", "with_dims",
           "parse", "keywords", "builtin_types", "import_parser", "without_gc"]

_WINDOWS_FILE = "<ffikit-windows>"

POINTER_TO_NAME = LazyPattern(r"((?:(?:struct|union|enum) )?[A-Za-z_]\w*)\s*(?:\*\s*)*\*")


def parse_type_name(text: str, known: ParseResult, platform) -> CType:
    """A type name read by the C parser, with the names ``known`` declares."""
    from ffikit.cdecl.parse import TYPEOF_PROBE
    from ffikit.cdecl.preprocess import preprocess

    source = f"void {TYPEOF_PROBE}({text});"
    result = parse(preprocess(source, filename="<type>"), platform=platform,
                   builtins=builtin_types(platform), sources={"<type>": source},
                   filename="<type>", known=known)
    model = result.types.get(TYPEOF_PROBE)
    if model is None:
        raise DeclarationError(f"{text!r} is not a single C type name")
    return model


TYPE_MACRO = LazyPattern(r"[A-Za-z_]\w*")
ARRAY_SUFFIX = LazyPattern(r"(.*?)((?:\s*\[\s*[^\]]*\])+)\s*", re.S)


def with_dims(item: CType, suffix: str, text: str, defs: Any) -> CType:
    """``item`` wrapped in the array dimensions of ``suffix`` (``"[2][3]"``, ``"[]"``)."""
    from ffikit.cdecl.constexpr import NotConstant, eval_macro  # (the evaluator: when needed)

    result = item
    for dim in reversed(re.findall(r"\[\s*([^\]]*)\]", suffix)):
        if not dim.strip():
            result = Array(result, None)
            continue
        try:
            value = eval_macro(dim, lambda n: _constant(defs, n), platform=defs.platform)
        except NotConstant as exc:
            raise DeclarationError(f"array length {dim!r} in {text!r} is not a constant: "
                                   f"{exc}") from None
        if not isinstance(value, int) or value < 0:
            raise DeclarationError(f"array length {dim!r} in {text!r} must be a "
                                   f"non-negative integer")
        result = Array(result, value)
    return result


def _constant(defs: Any, name: str):
    from ffikit.cdecl.constexpr import NotConstant

    if name in defs.constants:
        return defs.constants[name]
    raise NotConstant(f"'{name}' is not a known constant")


def import_parser() -> None:
    """Import the scrubber and the parser (pycparser and the modules that read its tree);
    ``include`` does it while the C preprocessor runs, the ~15 ms of each overlap."""
    import ffikit.cdecl.fastlex  # noqa: F401  (first: pycparser's lexer loads lazily)
    import ffikit.cdecl.parse  # noqa: F401


def parse(*args: Any, **kwargs: Any) -> ParseResult:
    """:func:`ffikit.cdecl.parse.parse`, imported when first needed: a declaration model loaded
    from the cache (or held by a generated binding) never imports pycparser."""
    import ffikit.cdecl.fastlex  # noqa: F401  (first: pycparser's lexer loads lazily)
    from ffikit.cdecl.parse import parse as parse_text

    return without_gc(lambda: parse_text(*args, **kwargs))


def without_gc(make: Callable[[], T]) -> T:
    """``make()`` with Python's cycle collector paused.  Preprocessing, parsing and storing
    a header's model make tens of thousands of objects, none of them garbage in a cycle:
    the collections they trigger (40 for zlib.h) would cost 10-40% of the work."""
    import gc

    collecting = gc.isenabled()
    gc.disable()
    try:
        return make()
    finally:
        if collecting:
            gc.enable()


def keywords() -> set[str]:
    from ffikit.cdecl.parse import _KEYWORDS

    return _KEYWORDS


_builtins_cache: dict = {}


def builtin_types(platform) -> dict:
    """Built-in names for ``platform``: the standard ones, plus Windows' on Windows."""
    found = _builtins_cache.get(platform.name)
    if found is not None:
        return found
    names = dict(STANDARD_TYPES)
    names.update(platform_types(platform))
    if platform.is_windows:
        from ffikit.cdecl.preprocess import preprocess

        pre = preprocess(WINDOWS_DECLARATIONS, filename=_WINDOWS_FILE)
        result = parse(pre, platform=platform, builtins=names,
                       sources={_WINDOWS_FILE: WINDOWS_DECLARATIONS}, filename=_WINDOWS_FILE)
        names.update({k: v for k, v in result.types.items() if " " not in k})
    _builtins_cache[platform.name] = names
    return names
