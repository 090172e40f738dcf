"""When two model structs are the same C type, across every set of declarations.

Model structs are nominal: each ``cdef``/``include`` makes its own objects.
But ``struct stat`` reached by two ``include()`` calls, or ``struct
archive_entry`` seen through ``archive.h`` and ``archive_entry.h``, is one C
type for the program, and a backend gives it one class, so that objects made
through one :class:`~ffikit.Declarations` (or ``Library``) are accepted by
another.  :func:`identity` is the key that decides it, free of any backend:

- a complete struct or union is the same type as another when both are
  declared at the same place of the same header (a real file; text given to
  ``cdef`` has no header of origin, so its structs stay its own), under the
  same tag or typedef name, with the same layout member by member (a header
  read with other ``defines`` may lay the same lines out differently);
- an opaque one (``struct sqlite3;``) is the same as any struct of its kind
  and tag, as C completes it later in the same program.
"""

from __future__ import annotations

from .layout import Platform, int_info, layout
from .model import Array, CType, Enum, StructOrUnion, resolve

__all__ = ["identity", "tag_of"]


def tag_of(t: StructOrUnion) -> tuple | None:
    """``(kind, name)``: the key an opaque struct shares with every struct of its tag."""
    name = t.name or t.typedef_name
    return (t.kind, name) if name else None


def identity(t: StructOrUnion, platform: Platform) -> tuple | None:
    """The key equal for every model of the same C struct/union (None: only itself)."""
    if t.fields is None:
        return tag_of(t)
    coord = t.coord
    if coord is None or not coord.file or coord.file.startswith("<"):
        return None
    lay = layout(t, platform)
    members = tuple((f.name, f.offset, f.size, f.bit_offset, f.bit_width,
                     _type_key(f.type, platform)) for f in lay.members)
    return (t.kind, t.name or t.typedef_name, coord.file, coord.line, coord.column, lay.size,
            lay.alignment, t.pack, t.aligned, members)


def _type_key(t: CType, platform: Platform):
    r = resolve(t)
    if isinstance(r, StructOrUnion):
        return identity(r, platform) or ("itself", id(r))
    if isinstance(r, Array):
        return ("array", r.length, _type_key(r.item, platform))
    if isinstance(r, Enum):
        return ("enum", *int_info(r, platform))
    return r.c_name()
