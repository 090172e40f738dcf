"""Where a declaration came from: a source position that errors and ``where()`` report.

Kept apart from the type model (:mod:`ffikit.cdecl.model` re-exports it):
positions describe text, not C types, and every layer's messages use them.
"""

from __future__ import annotations

from ffikit.records import data_record

__all__ = ["Coord"]


@data_record(frozen=True)
class Coord:
    """Where a declaration came from: ``file:line:column`` (1-based)."""

    file: str | None
    line: int | None
    column: int | None = None

    def __str__(self) -> str:
        text = f"{self.file or '<cdef>'}:{self.line}"
        return text + (f":{self.column}" if self.column else "")
