"""What a translation unit declares for its user: its macros minus the noise, and
which files are the header's own.

``include("math.h")`` keeps every function, variable, type, enum and ``#define``
of every header the preprocessor read (glibc declares ``cos`` in
``<bits/mathcalls.h>``, ``ENOENT`` in ``<asm-generic/errno-base.h>``).  What
is *noise* stays out of ``constants`` (it is in ``all_macros``): macros the
compiler predefines (``__GNUC__``, ``unix``) or ``<stdc-predef.h>`` defines,
reserved ``__`` names of system headers (``__USE_MISC``, ``__WORDSIZE``),
feature-test macros (``_GNU_SOURCE``, ``_FILE_OFFSET_BITS``) and include
guards (``_MATH_H``).  A macro ``#undef``-ed by the end of the text is gone,
as it is for C.

The header's *own* files (the named header and those it includes with quotes)
are still told apart: :meth:`Declarations.declares` answers from them, so
``ffikit bind`` and the layout checker keep to the library's own names.
"""

from __future__ import annotations

import os
import re

from ffikit.cdecl.lazy_constants import NOT_CONSTANT, Constants
from ffikit.cdecl.parse_result import ParseResult
from ffikit.lazyre import LazyPattern

TYPE_CHECKING = False

if TYPE_CHECKING:
    from ffikit.cdecl.cmacros import MacroValues

__all__ = ["directly_included", "with_quote_includes", "header_constants", "final_macros",
           "is_noise", "is_guard_name"]

_QUOTE_INCLUDE = LazyPattern(r'\n\s*#\s*include\s+"([^"]+)"')  # (in "\n" + text, as below)
_ENTER_FILE = LazyPattern(r'\n# \d+ "([^"]+)"((?: \d)*)$', re.M)  # (both searched in "\n" + text:
# a pattern that starts with a literal is found by a fast scan, '^' is tried at every offset)
_PREDEFINED_FILES = ("<built-in>", "<command-line>")
_FEATURE_TEST = LazyPattern(r"_[A-Z0-9_]*_SOURCE|_FILE_OFFSET_BITS|_TIME_BITS|_REENTRANT|"
                           r"_THREAD_SAFE|_LARGEFILE_SOURCE")
_WORD = LazyPattern(r"\w+")
_GUARD_ENDS = ("_H", "_HPP", "_INCLUDED", "_DEFINED", "_DECLARED")


def is_guard_name(name: str) -> bool:
    """``FOO_H``, ``_FOO_H_``, ``foo_included``: a word ending in a guard suffix (and
    underscores).  Checked without a backtracking pattern: ``_*\\w*?_(H|...)_*`` took
    milliseconds on names of many underscores, and a header has thousands of macros."""
    return _WORD.fullmatch(name) is not None and name.rstrip("_").upper().endswith(_GUARD_ENDS)


def is_noise(name: str, body: str, file: str, system_files) -> bool:
    """Whether a macro is the compiler's or the C library's business, not a constant
    a user of the header asks for (see the module docstring)."""
    if file in _PREDEFINED_FILES or file.endswith("/stdc-predef.h"):
        return True
    if name.startswith("__") and file in system_files:
        return True
    if _FEATURE_TEST.fullmatch(name):
        return True
    return body in ("", "1") and is_guard_name(name)


def final_macros(macros) -> dict:
    """Name -> ``(name, body, file, line)`` (the preprocessor's record itself) of the
    macros still defined at the end (a later ``#define`` replaces, ``#undef`` removes)."""
    found: dict = {}
    for entry in macros:
        if entry[1] is None:
            found.pop(entry[0], None)
        else:
            found[entry[0]] = entry
    return found


def directly_included(text: str, root: str, depth: int = 1, named=()) -> set[str]:
    """Files whose text sits at include ``depth`` of the preprocessor's output: 0 is the
    text itself (under every name ``#line`` gives it), 1 the headers it includes.
    What the compiler includes before the text (``<stdc-predef.h>``) is at no depth.
    A file that is one of the ``named`` headers (``"libxml/tree.h"``) counts at any
    depth: another named header may have included it first."""
    enclosing: list[str] = []
    current = root
    found = {root} if depth == 0 else set()
    suffixes = tuple("/" + n.lstrip("/") for n in named)
    is_named: dict[str, bool] = {}  # (a header's output names each file in many markers)
    for m in _ENTER_FILE.finditer("\n" + text):
        name, flags = m.group(1), m.group(2).split()
        if suffixes:
            hit = is_named.get(name)
            if hit is None:
                hit = is_named[name] = name in named or os.path.normpath(name).endswith(suffixes)
            if hit:
                found.add(name)
        if "1" in flags:
            enclosing.append(current)
        elif "2" in flags and enclosing:
            enclosing.pop()
        current = name
        if len(enclosing) == depth and not name.startswith("<") and \
                "<command-line>" not in enclosing:
            found.add(name)
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
        for name in _QUOTE_INCLUDE.findall("\n" + body):
            for base in (os.path.dirname(path), *include_dirs):
                candidate = os.path.normpath(os.path.join(base, name))
                if os.path.isfile(candidate):
                    if candidate not in result:
                        result.add(candidate)
                        todo.append(candidate)
                    break
    return result


def header_constants(macros: dict, result: ParseResult, keep=None, *, function_macros=None,
                     platform=None, builtins=None, parse_type=None
                     ) -> tuple[Constants, MacroValues]:
    """The constants among ``macros`` (as :func:`final_macros` returns them) whose names
    ``keep`` accepts (all by default), with C's values on ``platform``, each evaluated
    when first asked for (:class:`~ffikit.cdecl.lazy_constants.Constants`); and the
    :class:`~ffikit.cdecl.cmacros.MacroValues` that classifies every macro on demand
    (constant, type or skipped, with the reason)."""
    values = {name: value for name, (value, _file) in result.enum_values.items()}
    values.update({name: value for name, (value, _file) in result.static_constants.items()})
    functions = {name: (tuple(p.strip() for p in entry[1][0].split(",") if p.strip()),
                        entry[1][1]) for name, entry in (function_macros or {}).items()}
    from ffikit.cdecl.cmacros import MacroValues  # (a cached model has its constants evaluated)

    found = MacroValues({name: entry[1] for name, entry in macros.items()}, functions,
                        platform=platform, types=result.types, builtins=builtins,
                        values=values, parse_type=parse_type)

    def evaluate(name: str):
        kind, value = found.classify(name)
        return value if kind == "constant" else NOT_CONSTANT

    return Constants(macros, keep, evaluate), found
