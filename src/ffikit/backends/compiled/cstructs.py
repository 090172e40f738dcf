"""Structs passed by value, spelled in C for the generated module.

A struct by value must have its real C type in the call's prototype (the ABI
classifies it by its members).  :func:`struct_c` writes a definition with the
same members, member types and natural layout -- under a name derived from
its content -- plus ``_Static_assert`` checks that the compiler lays it out at
the offsets and size ffikit's layout engine computed.  Structs whose layout
depends on attributes (bitfields, ``packed``, ``aligned``, ``#pragma pack``,
anonymous or flexible members) are not spelled: their functions stay on the
ctypes backend.
"""

from __future__ import annotations

from ffikit.cachedir import sha256_hex
from ffikit.cdecl import model as m
from ffikit.cdecl.layout import int_info, layout, sizeof

__all__ = ["struct_c"]

_FLOATS = {"float": "float", "double": "double"}


def _scalar(t: m.CType) -> str | None:
    if isinstance(t, m.Pointer):
        return "void *"
    if isinstance(t, m.Enum) or (isinstance(t, m.Primitive) and t.is_integer):
        if isinstance(t, m.Primitive) and t.name == "_Bool":
            return "_Bool"
        size, signed = int_info(t)
        return f"{'' if signed else 'u'}int{size * 8}_t" if size in (1, 2, 4, 8) else None
    if isinstance(t, m.Primitive) and t.name in _FLOATS:
        return _FLOATS[t.name]
    return None


def _member(t: m.CType, name: str, definitions: list[str]) -> str | None:
    """``T name`` / ``T name[n]`` for one member, adding any struct definitions it needs."""
    r = m.resolve(t)
    if isinstance(r, m.Array):
        if r.length is None:
            return None
        inner = _member(r.item, f"{name}[{r.length}]", definitions)
        return inner
    if isinstance(r, m.StructOrUnion):
        tag = struct_c(r, definitions)
        return None if tag is None else f"{tag} {name}"
    scalar = _scalar(r)
    return None if scalar is None else f"{scalar} {name}"


def struct_c(t: m.StructOrUnion, definitions: list[str]) -> str | None:
    """The C type name (``struct ffk_s...``) for ``t``, its definition appended, or None."""
    if (t.fields is None or t.pack is not None or t.aligned is not None
            or any(f.bitwidth is not None or f.aligned is not None or f.packed or not f.name
                   for f in t.fields)):
        return None
    members = []
    for index, f in enumerate(t.fields):
        text = _member(f.type, f"m{index}", definitions)
        if text is None:
            return None
        members.append(text)
    try:
        lay = layout(t)
        size = sizeof(t)
    except Exception:  # noqa: BLE001 - an incomplete or odd type: leave it to ctypes
        return None
    body = " ".join(f"{text};" for text in members)
    tag = f"{t.kind} ffk_s{sha256_hex(f'{t.kind}{body}'.encode())[:12]}"
    # The definition depends on the body alone, as the tag does: two C structs with the
    # same members (lldiv_t, imaxdiv_t) share one definition, never define one tag twice.
    checks = [f"_Static_assert(sizeof({tag}) == {size}, \"size of {tag}\");"]
    placed = lay.members or lay.fields
    if len(placed) != len(t.fields):
        return None
    for index, member in enumerate(placed):
        checks.append(f"_Static_assert(offsetof({tag}, m{index}) == {member.offset}, "
                      f"\"offset of {tag}.m{index}\");")
    definition = f"{tag} {{ {body} }};\n" + "\n".join(checks)
    if definition not in definitions:
        definitions.append(definition)
    return tag
