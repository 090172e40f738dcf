"""Regular expressions compiled when first used, not when their module is imported.

A warm start (model and compiled module cached) imports the modules that
parse headers, report parse errors and find libraries, but runs few of their
patterns; compiling all of them at import cost about 2 ms of a 50 ms start.
A :class:`LazyPattern` stands where the ``re.Pattern`` stood and behaves as
one; after the first use its methods are the compiled pattern's own bound
methods, so later calls cost what they cost on the pattern itself.
"""

from __future__ import annotations

import re

__all__ = ["LazyPattern"]

_FORWARDED = ("match", "fullmatch", "search", "finditer", "findall", "sub", "subn", "split",
              "pattern", "flags", "groups", "groupindex", "scanner")


class LazyPattern:
    """``re.compile(pattern, flags)``, done at the first attribute read."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._source = (pattern, flags)

    def compiled(self) -> re.Pattern:
        """The compiled pattern (compiled now if it was not yet)."""
        compiled = re.compile(*self._source)
        for name in _FORWARDED:
            self.__dict__[name] = getattr(compiled, name)
        self.__dict__["compiled"] = lambda: compiled
        return compiled

    def __getattr__(self, name: str):
        if name.startswith("__") or name == "_source":
            raise AttributeError(name)
        return getattr(self.compiled(), name)

    def __repr__(self) -> str:
        return f"LazyPattern({self._source[0]!r}, {self._source[1]!r})"
