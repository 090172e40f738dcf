"""Random C structs and unions, as C text, for differential tests against the compiler.

``random_declarations(seed, count)`` returns a :class:`Generated` with the C
definitions and, per type, the fields to probe.  Features: every integer and
floating type, pointers, arrays (incl. 2-D), nested and anonymous members,
unions, bitfields (signed, unsigned, ``_Bool``, zero-width), ``#pragma pack``,
``__attribute__((packed))``, ``aligned(n)`` on types and members, flexible
array members.  Reused by the buffers tests (dtype offsets) and the CLI tests.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

SCALARS = [
    "char", "signed char", "unsigned char", "short", "unsigned short", "int", "unsigned int",
    "long", "unsigned long", "long long", "unsigned long long", "float", "double",
    "long double", "_Bool", "int8_t", "uint8_t", "int16_t", "uint16_t", "int32_t", "uint32_t",
    "int64_t", "uint64_t", "size_t", "void *", "char *", "double *",
]
BITFIELD_TYPES = {  # type -> (width limit, signed)
    "char": (8, True), "signed char": (8, True), "unsigned char": (8, False),
    "short": (16, True), "unsigned short": (16, False), "int": (32, True),
    "unsigned int": (32, False), "long": (64, True), "unsigned long": (64, False),
    "long long": (64, True), "unsigned long long": (64, False), "_Bool": (1, False),
    "int32_t": (32, True), "uint16_t": (16, False), "uint8_t": (8, False),
}


@dataclass
class Member:
    name: str | None
    ctype: str  # C type text, e.g. "int", "struct s3", "double"
    dims: tuple = ()
    bits: int | None = None
    signed: bool = False
    aligned: int | None = None
    inner: list | None = None  # anonymous struct/union members
    inner_kind: str = "struct"

    def c(self) -> str:
        if self.inner is not None:
            body = " ".join(m.c() for m in self.inner)
            return f"{self.inner_kind} {{ {body} }};"
        decl = self.ctype
        name = self.name or ""
        if decl.endswith("*"):
            text = f"{decl}{name}"
        else:
            text = f"{decl} {name}".rstrip()
        text += "".join(f"[{d}]" for d in self.dims)
        if self.bits is not None:
            text += f" : {self.bits}"
        if self.aligned:
            text += f" __attribute__((aligned({self.aligned})))"
        return text + ";"

    def probe_names(self) -> list[str]:
        if self.inner is not None:
            return [n for m in self.inner for n in m.probe_names()]
        return [self.name] if self.name else []


@dataclass
class Struct:
    name: str
    kind: str
    members: list
    pack: int | None = None
    packed: bool = False
    aligned: int | None = None
    flexible: bool = False

    def c(self) -> str:
        attrs = " __attribute__((packed))" if self.packed else ""
        if self.aligned:
            attrs += f" __attribute__((aligned({self.aligned})))"
        body = "\n    ".join(m.c() for m in self.members)
        text = f"{self.kind}{attrs} {self.name} {{\n    {body}\n}};\n"
        if self.pack:
            text = f"#pragma pack(push, {self.pack})\n{text}#pragma pack(pop)\n"
        return text

    def all_members(self) -> list:
        out = []
        for m in self.members:
            out.extend(m.inner if m.inner is not None else [m])
        return out


@dataclass
class Generated:
    structs: list = field(default_factory=list)

    def c_definitions(self) -> str:
        head = "#include <stdint.h>\n#include <stddef.h>\n#include <stdbool.h>\n"
        return head + "\n".join(s.c() for s in self.structs)


def _member(rng: random.Random, index: int, nested: list, allow_bits: bool) -> Member:
    roll = rng.random()
    name = f"f{index}"
    if allow_bits and roll < 0.3:
        ctype = rng.choice(list(BITFIELD_TYPES))
        limit, signed = BITFIELD_TYPES[ctype]
        if rng.random() < 0.08:
            return Member(None, ctype, bits=0)
        return Member(name, ctype, bits=rng.randint(1, limit), signed=signed)
    if nested and roll < 0.42:
        return Member(name, rng.choice(nested), dims=(rng.randint(1, 3),) if rng.random() < 0.2
                      else ())
    ctype = rng.choice(SCALARS)
    dims: tuple = ()
    if rng.random() < 0.2:
        dims = (rng.randint(1, 5),) if rng.random() < 0.8 else (rng.randint(1, 3), rng.randint(1, 3))
    aligned = rng.choice([None] * 12 + [2, 4, 8, 16])
    return Member(name, ctype, dims=dims, aligned=aligned)


def random_declarations(seed: int = 1234, count: int = 500) -> Generated:
    """``count`` random structs/unions; later ones may nest earlier ones."""
    rng = random.Random(seed)
    gen = Generated()
    nestable: list[str] = []
    for i in range(count):
        kind = "union" if rng.random() < 0.15 else "struct"
        name = f"s{i}"
        style = rng.random()
        pack = packed = aligned = None
        if style < 0.12:
            pack = rng.choice([1, 2, 4, 8])
        elif style < 0.2:
            packed = True
        elif style < 0.26:
            aligned = rng.choice([8, 16, 32])
        members = []
        for j in range(rng.randint(1, 8)):
            member = _member(rng, j, nestable, allow_bits=True)
            if pack or packed:
                member.aligned = None  # gcc's pack/aligned interplay is out of scope here
            members.append(member)
        if rng.random() < 0.08:
            inner_kind = rng.choice(["struct", "union"])
            inner = [_member(rng, 100 + k, [], allow_bits=False) for k in range(rng.randint(1, 3))]
            for m in inner:
                m.aligned = None
            members.insert(rng.randint(0, len(members)), Member(None, "", inner=inner,
                                                                inner_kind=inner_kind))
        if not any(m.name or m.inner for m in members):
            members.append(Member("fz", "int"))
        flexible = kind == "struct" and not packed and not pack and rng.random() < 0.05
        if flexible:
            members.append(Member("flex", rng.choice(["int", "double", "char"]), dims=("",)))
        gen.structs.append(Struct(name, kind, members, pack, bool(packed), aligned, flexible))
        if not flexible:
            nestable.append(f"{kind} {name}")
    return gen


def probe_source(gen: Generated) -> str:
    """C that reports sizeof/_Alignof/offsetof and each bitfield's byte image."""
    lines = [gen.c_definitions(), "#include <stdio.h>", "#include <string.h>",
             "#include <stdlib.h>", "static char out[1 << 22]; static size_t used;",
             "#define P(...) used += snprintf(out + used, sizeof out - used, __VA_ARGS__)",
             "static void bytes(const void *p, size_t n) {",
             "  const unsigned char *b = p; for (size_t i = 0; i < n; i++) P(\"%02x\", b[i]); }",
             "const char *probe(void) {", "  used = 0;"]
    for s in gen.structs:
        t = f"{s.kind} {s.name}"
        lines.append(f'  P("{s.name} size %zu align %zu\\n", sizeof({t}), _Alignof({t}));')
        for m in s.all_members():
            if m.name is None:
                continue
            if m.bits is None:
                lines.append(f'  P("{s.name} off {m.name} %zu\\n", offsetof({t}, {m.name}));')
            else:
                value = bit_value(m)
                lines.append(f"  {{ {t} v; memset(&v, 0, sizeof v); v.{m.name} = {value}; "
                             f'P("{s.name} bits {m.name} "); bytes(&v, sizeof v); P("\\n"); }}')
    lines += ["  return out;", "}"]
    return "\n".join(lines)


def bit_value(m: Member) -> int:
    """A value with a recognisable bit pattern that fits bitfield ``m``."""
    if m.ctype == "_Bool":
        return 1
    if m.signed:
        return -(1 << (m.bits - 1)) + 1 if m.bits > 1 else -1
    return (1 << m.bits) - 1 - (1 if m.bits > 2 else 0)
