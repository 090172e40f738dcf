"""Which names a :class:`~ffikit.Library` answers to, and what it says when one is missing.

``lib.name`` and ``lib["name"]`` find, in order: a declared function (bound to
the library's symbol, which an ``__asm__("sym")`` label may rename), a
declared variable, a constant of the declarations (``lib.SQLITE_OK``, as
cffi's ``lib`` has them), and a macro standing for a declared function
(``lib.mpz_init`` for ``#define mpz_init __gmpz_init``).  Every name is
reachable, ``__``-prefixed ones included (``lib.__gmpz_init``), except the
``__dunder__`` names Python itself looks up on objects (``__len__``,
``__array__``, ``__fspath__``): those raise AttributeError at once, so
protocols keep working; ``lib["__name__"]`` still reaches a C symbol of that
spelling.  A suggestion for a missing name is always one that can be reached.
"""

from __future__ import annotations

import os
from collections import namedtuple

TYPE_CHECKING = False
if TYPE_CHECKING:  # the same class, as type checkers read it (typing is not imported to run)
    from typing import Any, NamedTuple

    class Symbols(NamedTuple):
        """Declared names the library exports (``found``) and does not (``missing``)."""

        found: list[str]
        missing: list[str]
else:
    Symbols = namedtuple("Symbols", ["found", "missing"])
    Symbols.__doc__ = "Declared names the library exports (``found``) and does not (``missing``)."

__all__ = ["Symbols", "is_protocol", "resolve", "suggest", "listing", "not_exported"]


def is_protocol(name: str) -> bool:
    """A ``__dunder__`` name: Python's own lookups, never a C symbol by attribute."""
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


def resolve(lib: Any, name: str) -> tuple[str, Any]:
    """``(kind, what)``: ``("function", decl)``, ``("variable", var)``, ``("constant",
    value)``, ``("alias", declared name)`` or ``("missing", message)``."""
    defs = lib.defs
    functions = defs.functions
    if name in functions:
        return "function", functions[name]
    variables = getattr(defs, "variables", {})
    if name in variables:
        return "variable", variables[name]
    constants = getattr(defs, "constants", {})
    if name in constants:
        return "constant", defs.constant_value(constants[name])
    target = defs.alias(name) if hasattr(defs, "alias") else None
    if target is not None:
        return "alias", target
    file = os.path.basename(lib.path)
    if lib._has(name):
        return "missing", (f"{file} exports {name!r} but it is not declared; add its C "
                           "prototype to the declarations (ffikit.cdef / ffikit.include)")
    return "missing", f"{name!r} is neither declared nor exported by {file}"  # + suggest(), lazily


def listing(lib: Any) -> set[str]:
    """The names ``dir(lib)`` adds: declared functions, variables, constants and the
    macros that stand for declared functions."""
    defs = lib.defs
    names = set(defs.functions) | set(getattr(defs, "variables", {}))
    names |= set(getattr(defs, "constants", {}))
    if hasattr(defs, "aliases"):
        names |= set(defs.aliases())
    return {n for n in names if n.isidentifier() and not is_protocol(n)}


def suggest(lib: Any, name: str) -> str:
    """``"; did you mean 'x'?"`` with close names that ``lib.x`` would reach."""
    pool = listing(lib)
    pool |= {n for n in lib.exports() if not n.startswith("_")}
    pool.discard(name)
    import difflib  # (only when a message is shown)

    close = difflib.get_close_matches(name, sorted(pool), n=3, cutoff=0.6)
    return f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""


def not_exported(lib: Any, name: str, symbol: str, ftype: Any) -> str:
    """The message for a declared function the library does not export: the symbol
    looked for, the declaration and, for a header's, where it is declared."""
    where = lib.defs.where(name) if hasattr(lib.defs, "where") else None
    at = f" at {where[0]}:{where[1]}" if where and not where[0].startswith("<") else ""
    return (f"{os.path.basename(lib.path)} does not export {symbol!r} (declared as "
            f"{ftype.c_name(name)}{at})")  # + suggest(), when the message is shown
