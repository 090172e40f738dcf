"""Random C structs and unions as *model objects*, plus the C to check them with gcc.

The layout tests (and other engineers' dtype/buffer tests) use this to ask the
compiler what it thinks of types ffikit lays out.  Everything is built from
:mod:`ffikit.cdecl.model` objects by hand, so it exercises ``layout.py`` and
``to_ctypes.py`` independently of the parser.

API
---
``random_struct(rng, depth, pool=(), name=None) -> StructOrUnion``
    One random struct or union (nested members drawn from ``pool`` or made
    fresh while ``depth > 0``).
``random_structs(seed, count, msvc=False) -> list[StructOrUnion]``
    ``count`` random types from a fixed seed; later ones nest earlier ones.
``c_definitions(types) -> str``
    C text defining ``types`` and every named struct/union/enum they use, in
    dependency order, with ``#pragma pack`` and ``__attribute__`` spelled out.
``probe_source(types) -> str`` / ``read_probe(text) -> dict``
    A C function ``const char *probe(void)`` reporting ``sizeof``,
    ``_Alignof``, every ``offsetof`` and the byte image of every bitfield set
    to :func:`bit_value`; and its parser.
``bit_value(field, platform=None) -> int``
    A recognisable value that fits a bitfield (negative for signed ones).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence

from ffikit.cdecl.layout import int_info
from ffikit.cdecl.model import (
    VOID,
    Array,
    CType,
    Enum,
    Field,
    FunctionType,
    Pointer,
    Primitive,
    StructOrUnion,
    Typedef,
    resolve,
)

__all__ = [
    "random_struct",
    "random_structs",
    "c_definitions",
    "probe_source",
    "read_probe",
    "bit_value",
    "probed_fields",
]

SCALARS = [
    "char", "signed char", "unsigned char", "short", "unsigned short", "int", "unsigned int",
    "long", "unsigned long", "long long", "unsigned long long", "float", "double",
    "long double", "_Bool", "int8_t", "uint8_t", "int16_t", "uint16_t", "int32_t", "uint32_t",
    "int64_t", "uint64_t", "size_t", "ptrdiff_t", "wchar_t", "__int128", "unsigned __int128",
]
# Types whose size and alignment are the same under LP64 gcc and LLP64 MSVC.
MSVC_SCALARS = [
    "char", "signed char", "unsigned char", "short", "unsigned short", "int", "unsigned int",
    "long long", "unsigned long long", "float", "double", "_Bool", "int8_t", "uint8_t",
    "int16_t", "uint16_t", "int32_t", "uint32_t", "int64_t", "uint64_t", "size_t",
]
BITFIELD_TYPES = [
    "char", "signed char", "unsigned char", "short", "unsigned short", "int", "unsigned int",
    "long", "unsigned long", "long long", "unsigned long long", "_Bool",
    "int8_t", "uint16_t", "int32_t", "uint64_t",
]
MSVC_BITFIELD_TYPES = [t for t in BITFIELD_TYPES if "long" not in t or "long long" in t]
_ENUM_VALUES = [(0, 3), (-5, 7), (0, 0xFFFFFFFF), (-1, 0x7FFFFFFF), (0, 1 << 40), (-(1 << 40), 2)]


class _Names:
    """Unique names for generated types and anonymous members' fields."""

    def __init__(self, msvc: bool = False) -> None:
        self.count = 0
        self.msvc = msvc  # only what MSVC can spell, with sizes equal under LP64

    def next(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"


def _scalar(rng: random.Random, names: _Names) -> CType:
    roll = rng.random()
    if roll < 0.08:
        return Pointer(rng.choice([VOID, Primitive("char"), Primitive("double")]))
    if roll < 0.11:
        return Pointer(FunctionType(Primitive("int"), [Primitive("int"), Pointer(VOID)]))
    if roll < 0.14:
        return Typedef("my_u16", Primitive("unsigned short"))
    return Primitive(rng.choice(MSVC_SCALARS if names.msvc else SCALARS))


def _enum(rng: random.Random, names: _Names) -> Enum:
    lo, hi = rng.choice(_ENUM_VALUES)
    name = names.next("e")
    return Enum(name, [(f"{name}_lo", lo), (f"{name}_hi", hi)])


def _bitfield(rng: random.Random, index: int, names: _Names) -> Field:
    if rng.random() < 0.08 and not names.msvc:
        ftype: CType = _enum(rng, names)
        if int_info(ftype)[0] != 4:
            ftype = Primitive("int")
    else:
        ftype = Primitive(rng.choice(MSVC_BITFIELD_TYPES if names.msvc else BITFIELD_TYPES))
    limit = 1 if resolve(ftype) == Primitive("_Bool") else int_info(ftype)[0] * 8
    roll = rng.random()
    if roll < 0.07:
        return Field(None, ftype, bitwidth=0)
    name = None if roll < 0.12 else f"f{index}"
    return Field(name, ftype, bitwidth=rng.randint(1, limit))


def _member_type(rng: random.Random, pool: Sequence[StructOrUnion], depth: int,
                 names: _Names) -> CType:
    roll = rng.random()
    if pool and roll < 0.15:
        base: CType = rng.choice(pool)
    elif roll < 0.2 and not names.msvc:
        base = _enum(rng, names)
    else:
        base = _scalar(rng, names)
    shape = rng.random()
    if shape < 0.12:
        return Array(base, rng.randint(1, 4))
    if shape < 0.16:
        return Array(Array(base, rng.randint(1, 3)), rng.randint(1, 3))
    return base


def random_struct(
    rng: random.Random,
    depth: int = 1,
    pool: Sequence[StructOrUnion] = (),
    name: str | None = None,
    _names: _Names | None = None,
    _anonymous: bool = False,
) -> StructOrUnion:
    """A random complete struct or union (see the module docstring for features).

    ``depth`` bounds anonymous nesting; ``pool`` holds complete named types
    that members may embed by value.  Member names are unique within the
    type, including those reachable through anonymous members.
    """
    names = _names or _Names()
    kind = "union" if rng.random() < 0.15 else "struct"
    result = StructOrUnion(kind, name or names.next("r"))
    style = rng.random()
    pack = aligned = None
    packed = False
    if _anonymous:
        pass  # an anonymous member is spelled inline: no pragma or type attributes
    elif style < 0.12:
        pack = rng.choice([1, 2, 4, 8, 16])
    elif names.msvc:
        pass  # no __attribute__((packed/aligned)) in MSVC
    elif style < 0.22:
        packed = True
    elif style < 0.28:
        aligned = rng.choice([8, 16, 32])
    fields: list[Field] = []
    for _ in range(rng.randint(1, 7)):
        index = names.count + 1
        names.count += 1
        roll = rng.random()
        # gcc -mms-bitfields sizes a packed union of bitfields by its bits (union
        # { unsigned long long x : 47; } under pack(1) is 6), unlike its own struct
        # case and MSVC (8): the msvc profile does not generate those.
        no_bits = names.msvc and kind == "union" and pack
        if roll < 0.3 and not no_bits:
            field = _bitfield(rng, index, names)
        elif roll < 0.36 and depth > 0:
            inner = random_struct(rng, depth - 1, pool, _names=names, _anonymous=True)
            inner.name = None
            inner.pack = pack  # defined where the outer type's #pragma pack is in force
            field = Field(None, inner)
        else:
            ftype = _member_type(rng, pool, depth, names)
            field_aligned = None
            if not pack and not names.msvc and rng.random() < 0.08:
                field_aligned = rng.choice([2, 4, 8, 16])
            field_packed = not packed and not names.msvc and rng.random() < 0.04
            field = Field(f"f{index}", ftype, aligned=field_aligned, packed=field_packed)
        if packed:
            field = Field(field.name, field.type, field.bitwidth, field.aligned, True)
        fields.append(field)
    if not any(f.name is not None for f in fields):
        fields.append(Field(f"f{names.next('')}", Primitive("int"), packed=packed))
    if kind == "struct" and not _anonymous and rng.random() < 0.06:
        item = Primitive(rng.choice(["int", "double", "char", "short"]))
        fields.append(Field(f"flex{names.next('')}", Array(item, None), packed=packed))
    result.complete(fields, pack=pack, aligned=aligned)
    return result


def _has_flexible(t: StructOrUnion) -> bool:
    return any(isinstance(resolve(f.type), Array) and resolve(f.type).length is None
               for f in t.fields or ())


def random_structs(seed: int, count: int, *, msvc: bool = False) -> list[StructOrUnion]:
    """``count`` random named structs/unions from ``seed``; later ones embed earlier ones.

    ``msvc=True`` keeps to what MSVC can declare with the same member sizes as
    LP64 gcc (no ``long``, ``wchar_t``, ``long double``, ``__int128``, enums,
    ``packed``/``aligned``; ``#pragma pack`` stays), so gcc's
    ``-mms-bitfields`` can check ffikit's Windows rules.
    """
    rng = random.Random(seed)
    names = _Names(msvc)
    made: list[StructOrUnion] = []
    pool: list[StructOrUnion] = []
    for _ in range(count):
        t = random_struct(rng, depth=1, pool=pool[-40:], _names=names)
        made.append(t)
        if not _has_flexible(t):
            pool.append(t)
    return made


# --- C text -------------------------------------------------------------------------------


def _named_dependencies(t: CType, seen: set, order: list) -> None:
    t = resolve(t)
    if isinstance(t, Array):
        _named_dependencies(t.item, seen, order)
    elif isinstance(t, Pointer):
        if isinstance(resolve(t.target), FunctionType):
            _named_dependencies(t.target, seen, order)
    elif isinstance(t, FunctionType):
        for p in (t.result, *t.params):
            _named_dependencies(p, seen, order)
    elif isinstance(t, (StructOrUnion, Enum)):
        if t.name is None:
            for f in getattr(t, "fields", None) or ():
                _named_dependencies(f.type, seen, order)
            return
        if t in seen:
            return
        seen.add(t)
        for f in getattr(t, "fields", None) or ():
            _named_dependencies(f.type, seen, order)
        order.append(t)


def _all_packed(t: StructOrUnion) -> bool:
    return bool(t.fields) and all(f.packed for f in t.fields or ())


def _body(t: StructOrUnion) -> str:
    """Member declarations; a struct whose members are all packed says so once."""
    members = []
    whole = _all_packed(t)
    for f in t.fields or ():
        ftype = resolve(f.type) if isinstance(f.type, StructOrUnion) else f.type
        if isinstance(ftype, StructOrUnion) and ftype.name is None:
            packed = " __attribute__((packed))" if _all_packed(ftype) else ""
            text = f"{ftype.kind}{packed} {{ {_body(ftype)} }}"
        else:
            text = f.type.c_name(f.name or "")
        if f.bitwidth is not None:
            text += f" : {f.bitwidth}"
        attrs = []
        if f.packed and not whole:
            attrs.append("packed")
        if f.aligned:
            attrs.append(f"aligned({f.aligned})")
        if attrs:
            text += f" __attribute__(({', '.join(attrs)}))"
        members.append(text + ";")
    return " ".join(members)


def _definition(t: StructOrUnion | Enum) -> str:
    if isinstance(t, Enum):
        items = ", ".join(f"{n} = {v}" for n, v in t.members or ())
        return f"enum {t.name} {{ {items} }};"
    attrs = " __attribute__((packed))" if _all_packed(t) else ""
    attrs += f" __attribute__((aligned({t.aligned})))" if t.aligned else ""
    text = f"{t.kind}{attrs} {t.name} {{ {_body(t)} }};"
    if t.pack:
        text = f"#pragma pack(push, {t.pack})\n{text}\n#pragma pack(pop)"
    return text


def c_definitions(types: Iterable[CType]) -> str:
    """C text defining ``types`` and all named types they embed, dependencies first."""
    seen: set = set()
    order: list = []
    for t in types:
        _named_dependencies(t, seen, order)
    head = ["#include <stdint.h>", "#include <stddef.h>", "#include <stdbool.h>",
            "typedef unsigned short my_u16;"]
    return "\n".join(head + [_definition(t) for t in order]) + "\n"


def probed_fields(t: StructOrUnion) -> list[Field]:
    """Named members reachable from ``t`` (through anonymous members), in order."""
    out = []
    for f in t.fields or ():
        inner = resolve(f.type)
        if f.name is None and f.bitwidth is None and isinstance(inner, StructOrUnion):
            out.extend(probed_fields(inner))
        elif f.name is not None:
            out.append(f)
    return out


def bit_value(field: Field, platform=None) -> int:
    """A value with a recognisable bit pattern that fits bitfield ``field``."""
    width = field.bitwidth or 0
    if resolve(field.type) == Primitive("_Bool"):
        return 1
    signed = int_info(field.type, platform)[1]
    if signed:
        return -(1 << (width - 1)) + 1 if width > 1 else -1
    return (1 << width) - 1 - (1 if width > 2 else 0)


def _c_int(value: int) -> str:
    if value < 0:
        return f"(-{-value}LL)" if value != -(1 << 63) else "(-9223372036854775807LL - 1)"
    return f"{value}ULL"


def probe_source(types: Sequence[StructOrUnion]) -> str:
    """C source of ``const char *probe(void)``: one line per fact about ``types``.

    Lines: ``NAME size S align A``, ``NAME off FIELD O``, ``NAME bits FIELD HEX``.
    """
    lines = [c_definitions(types), "#include <stdio.h>", "#include <string.h>",
             "static char out[1 << 22]; static size_t used;",
             "#define P(...) used += snprintf(out + used, sizeof out - used, __VA_ARGS__)",
             "static void bytes(const void *p, size_t n) {",
             '  const unsigned char *b = p; for (size_t i = 0; i < n; i++) P("%02x", b[i]); }',
             "const char *probe(void) {", "  used = 0;"]
    for t in types:
        c = t.c_name()
        lines.append(f'  P("{t.name} size %zu align %zu\\n", sizeof({c}), _Alignof({c}));')
        for f in probed_fields(t):
            if f.bitwidth is None:
                lines.append(f'  P("{t.name} off {f.name} %zu\\n", offsetof({c}, {f.name}));')
            else:
                value = _c_int(bit_value(f))
                lines.append(f"  {{ {c} v; memset(&v, 0, sizeof v); v.{f.name} = {value}; "
                             f'P("{t.name} bits {f.name} "); bytes(&v, sizeof v); P("\\n"); }}')
    lines += ["  return out;", "}"]
    return "\n".join(lines)


def read_probe(text: str) -> dict:
    """Parse :func:`probe_source` output into ``{(type, "size"|"align"|"off"|"bits", ...): v}``."""
    facts: dict = {}
    for line in text.splitlines():
        name, what, *rest = line.split()
        if what == "size":
            facts[(name, "size")] = int(rest[0])
            facts[(name, "align")] = int(rest[2])
        elif what == "off":
            facts[(name, "off", rest[0])] = int(rest[1])
        else:
            facts[(name, "bits", rest[0])] = rest[1]
    return facts
