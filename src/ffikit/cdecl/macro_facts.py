"""What the ``#define``s of a header are besides constants: names that stand for a
declared function (``#define mpz_init __gmpz_init``), names that stand for a type
(``#define PCRE2_SIZE size_t``), the reason each other macro is no constant, and
every macro with the noise included.  Each is worked out on first use.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ffikit.cdecl.header_scope import header_constants
from ffikit.cdecl.model import CType
from ffikit.cdecl.typenames import builtin_types, parse_type_name

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["MacroFacts"]


class MacroFacts:
    """Mixed into :class:`~ffikit.cdecl.declarations.Declarations`: it reads ``_macros``,
    ``_function_macros``, ``_result``, ``functions``, ``variables`` and ``platform``."""

    _macros: dict
    _function_macros: dict
    _aliases: dict | None
    _all_macros: dict | None
    _result: Any
    functions: dict
    variables: dict
    platform: Any

    def alias(self, name: str) -> str | None:
        """The declared function or variable the macro ``name`` stands for, else None:
        ``#define mpz_init __gmpz_init``, pcre2's ``#define pcre2_compile
        PCRE2_SUFFIX(pcre2_compile_)``, ``#define f(a, b) g(a, b)``."""
        return self.aliases().get(name)

    def aliases(self) -> dict[str, str]:
        """Every macro name that stands for a declared function or variable (computed once)."""
        if self._aliases is None:
            from ffikit.cdecl.macros import alias_targets

            self._aliases = alias_targets(
                {n: entry[1] for n, entry in self._macros.items()},
                {n: entry[1] for n, entry in self._function_macros.items()},
                lambda n: n in self.functions or n in self.variables)
        return self._aliases

    # --- macros that are not constants -------------------------------------------
    _macro_values: Any = None  # cmacros.MacroValues: each macro classified on demand
    _wanted: Any = None  # (name, body, file) -> not noise
    _skipped_static: dict = {}  # noqa: RUF012 - 'static const' name -> why it is no constant
    _skipped: Mapping[str, str] | None = None
    _type_macros: Mapping[str, CType] | None = None

    def type_macro(self, name: str) -> CType | None:
        """The type the macro ``name`` stands for (``#define PCRE2_SIZE size_t``), else None."""
        if self._type_macros is not None:
            return self._type_macros.get(name)
        entry = self._macros.get(name)
        if entry is None or self._macro_values is None or \
                (self._wanted is not None and not self._wanted(*entry[:3])):
            return None
        kind, value = self._macro_values.classify(name)
        return value if kind == "type" else None

    @property
    def skipped_macros(self) -> Mapping[str, str]:
        """Name -> why a ``#define`` (or ``static const``) is not a constant (every macro
        is classified on first use)."""
        if self._skipped is None:
            self._classify_all()
        return self._skipped  # type: ignore[return-value]

    @property
    def type_macros(self) -> Mapping[str, CType]:
        """Name -> the model type a ``#define`` stands for (``#define PCRE2_SIZE size_t``)."""
        if self._type_macros is None:
            self._classify_all()
        return self._type_macros  # type: ignore[return-value]

    def _classify_all(self) -> None:
        skipped, types = dict(self._skipped_static), {}
        found, wanted = self._macro_values, self._wanted
        if found is not None:
            for name, entry in self._macros.items():
                if wanted is None or wanted(*entry[:3]):
                    kind, value = found.classify(name)
                    if kind == "type":
                        types[name] = value
                    elif kind == "skipped":
                        skipped[name] = value
            for name, entry in self._function_macros.items():
                if wanted is None or wanted(name, entry[1][1], entry[2]):  # (params, body)
                    skipped.setdefault(name, "function-like macro (takes arguments)")
        self._skipped, self._type_macros = MappingProxyType(skipped), MappingProxyType(types)

    @property
    def all_macros(self) -> dict[str, Any]:
        """Every object-like ``#define`` that is a constant, noise included
        (``__GNUC__``, ``_GNU_SOURCE``, ``__WORDSIZE``); computed on first use."""
        if self._all_macros is None:
            constants = header_constants(
                self._macros, self._result, function_macros=self._function_macros,
                platform=self.platform, builtins=builtin_types(self.platform),
                parse_type=lambda t: parse_type_name(t, self._result, self.platform))[0]
            self._all_macros = dict(constants)
        return self._all_macros
