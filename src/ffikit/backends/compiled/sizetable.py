"""Size relations as the table a compiled wrapper checks in C.

A declared function's size relations (:func:`ffikit.rules.sizes.relations`,
with any ``sizes=`` given to ``load``) are given to the generated module's
``make()`` as plain numbers, and ``checks.c`` compares them before each call.
This is used when a function is *bound*, so it lives apart from the C
generator (:mod:`~ffikit.backends.compiled.cgen`): a process that imports a
module already built never needs the generator.
"""

from __future__ import annotations

from collections.abc import Sequence

from ffikit.rules.sizes import SizeRelation

__all__ = ["relation_table"]


def relation_table(rels: Sequence[SizeRelation], params: Sequence[tuple]) -> tuple | str:
    """The size relations as the numbers ``make()`` takes, or why C cannot check them.

    Each is ``(buffer, size, factor, count, unit, size unsigned, factor unsigned)``
    (-1: no size / factor parameter); the buffer must be a pointer parameter and the
    sizes integer parameters of the wrapper's shape.
    """
    table = []
    for rel in rels:
        if rel.size is None and not rel.count:
            continue  # 'access (read_only, i)' alone: nothing to compare
        if params[rel.buffer][0] != "ptr":
            return f"a size relation on parameter {rel.buffer + 1}, which C does not pass as a buffer"
        sizes = [i for i in (rel.size, rel.factor) if i is not None]
        if any(params[i][0] not in ("int", "u64") for i in sizes):
            return "a size relation whose size is not an integer parameter"
        table.append((rel.buffer, -1 if rel.size is None else rel.size,
                      -1 if rel.factor is None else rel.factor, int(rel.count or 0), rel.unit,
                      rel.size is not None and params[rel.size][0] == "u64",
                      rel.factor is not None and params[rel.factor][0] == "u64"))
    return tuple(table)
