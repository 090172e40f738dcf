"""What parsing one translation unit yields, as plain data.

Kept apart from :mod:`ffikit.cdecl.parse` so code that only *holds* parsed
declarations (a binding written by ``ffikit bind``, the cache of a header's
model, :mod:`ffikit.cdecl.modelcache`) imports neither the parser nor pycparser.
"""

from __future__ import annotations

from ffikit.records import data_record, field

__all__ = ["ParseResult"]


@data_record
class ParseResult:
    """Everything one translation unit declares, in declaration order."""

    types: dict = field(default_factory=dict)  # typedef name or "struct X" -> CType
    functions: dict = field(default_factory=dict)  # name -> FunctionDecl
    variables: dict = field(default_factory=dict)  # name -> GlobalVar
    enum_types: list = field(default_factory=list)  # (Enum, file)
    enum_values: dict = field(default_factory=dict)  # member name -> (value, file)
    decl_files: dict = field(default_factory=dict)  # name -> file it was declared in
    typedef_coords: dict = field(default_factory=dict)  # typedef name -> Coord
    static_constants: dict = field(default_factory=dict)  # 'static const' name -> (value, file)
    skipped_constants: dict = field(default_factory=dict)  # 'static const' name -> reason
