"""``defs.constants``: a mapping that evaluates each ``#define`` the first time it is asked.

A header reaches thousands of macros (``libxml/tree.h``: about 2,400 that could
be constants); evaluating them all when the header is included would cost as
much as the rest of ``include()``, for constants most programs never read.
``name in defs.constants`` and ``defs.constants[name]`` evaluate that macro
(and the macros it uses) only; iterating, ``len()`` or ``items()`` evaluates
every one, once.  Known values (enum members) are added with ``setdefault``;
a macro of the same name comes first, as the preprocessor's name would.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["Constants", "NOT_CONSTANT"]

NOT_CONSTANT = object()  # what ``evaluate`` returns for a macro that is not a constant


class Constants(Mapping):
    """Constants by name, each macro evaluated on first use (see the module docstring).

    ``macros`` maps every candidate name to its record (in definition order),
    ``keep(name)`` says which are candidates, ``evaluate(name)`` gives a value or
    :data:`NOT_CONSTANT`.
    """

    def __init__(self, macros: Mapping, keep: Callable[[str], bool] | None,
                 evaluate: Callable[[str], Any]):
        self._macros = macros
        self._keep = keep
        self._settled: set[str] = set()
        self._values: dict[str, Any] = {}
        self._known: dict[str, Any] = {}
        self._evaluate = evaluate
        self._lock = threading.RLock()

    def _settle(self, name: str) -> None:
        if name in self._settled or name not in self._macros or \
                (self._keep is not None and not self._keep(name)):
            return
        with self._lock:
            if name not in self._settled:
                value = self._evaluate(name)
                if value is not NOT_CONSTANT:
                    self._values[name] = value
                self._settled.add(name)

    def __getitem__(self, name: str) -> Any:
        self._settle(name)
        if name in self._values:
            return self._values[name]
        return self._known[name]

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        self._settle(name)
        return name in self._values or name in self._known

    def __iter__(self) -> Iterator[str]:
        for name in list(self._macros):
            self._settle(name)
        yield from (n for n in self._macros if n in self._values)
        yield from (n for n in self._known if n not in self._values)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def setdefault(self, name: str, value: Any) -> Any:
        """Add a value known without evaluation (an enum member) unless ``name`` has one."""
        if name not in self._known:
            self._known[name] = value
        return self[name]

    def __repr__(self) -> str:
        return repr(dict(self))
