"""Differential test: ffikit's layouts equal gcc's on 500 random structs and unions.

The C text goes through ``ffikit.cdef`` (preprocessor, parser, attributes and
``#pragma pack``), the layout engine and the ctypes backend; the same text is
compiled into a probe that reports ``sizeof``, ``_Alignof``, every
``offsetof`` and the byte image of every bitfield set to a known value.
"""

import ctypes

import pytest
from randstructs import bit_value, probe_source, random_declarations

import ffikit

SEED = 20261123
COUNT = 520


@pytest.fixture(scope="module")
def generated():
    return random_declarations(SEED, COUNT)


@pytest.fixture(scope="module")
def gcc_facts(generated, cbuild):
    lib = ctypes.CDLL(cbuild(probe_source(generated), name="layoutprobe"))
    lib.probe.restype = ctypes.c_char_p
    facts = {}
    for line in lib.probe().decode().splitlines():
        struct, what, *rest = line.split()
        if what == "size":
            facts[(struct, "size")] = int(rest[0])
            facts[(struct, "align")] = int(rest[2])
        elif what == "off":
            facts[(struct, "off", rest[0])] = int(rest[1])
        else:
            facts[(struct, "bits", rest[0])] = rest[1]
    return facts


@pytest.fixture(scope="module")
def declarations(generated):
    return ffikit.cdef(generated.c_definitions())


def test_generator_covers_every_feature(generated):
    text = generated.c_definitions()
    for feature in ("#pragma pack(push", "__attribute__((packed))", "aligned(", "union s",
                    " : 0;", "_Bool", "long double", "[]", "struct {", "union {"):
        assert feature in text, feature
    assert len(generated.structs) >= 500


def test_sizes_and_alignments_match_gcc(generated, gcc_facts, declarations):
    mismatches = []
    for s in generated.structs:
        lay = declarations.layout(f"{s.kind} {s.name}")
        cls = declarations.ctype(f"{s.kind} {s.name}")
        want = (gcc_facts[(s.name, "size")], gcc_facts[(s.name, "align")])
        got = (lay.size, lay.alignment)
        if got != want or ctypes.sizeof(cls) != want[0]:
            mismatches.append(f"{s.name}: gcc {want}, ffikit {got}, ctypes {ctypes.sizeof(cls)}\n"
                              + s.c())
    assert not mismatches, "\n".join(mismatches[:5])


def test_field_offsets_match_gcc(generated, gcc_facts, declarations):
    mismatches = []
    for s in generated.structs:
        lay = declarations.layout(f"{s.kind} {s.name}")
        cls = declarations.ctype(f"{s.kind} {s.name}")
        for m in s.all_members():
            if m.name is None or m.bits is not None:
                continue
            want = gcc_facts[(s.name, "off", m.name)]
            got = lay.field(m.name).offset
            descriptor = getattr(cls, m.name)
            ctypes_offset = getattr(descriptor, "offset", None)
            in_anonymous = m not in s.members
            if got != want or (not in_anonymous and ctypes_offset != want):
                mismatches.append(f"{s.name}.{m.name}: gcc {want}, ffikit {got}, "
                                  f"ctypes {ctypes_offset}\n{s.c()}")
    assert not mismatches, "\n".join(mismatches[:5])


def test_bitfield_bytes_match_gcc(generated, gcc_facts, declarations):
    mismatches = []
    checked = 0
    for s in generated.structs:
        cls = declarations.ctype(f"{s.kind} {s.name}")
        for m in s.all_members():
            if m.name is None or m.bits is None:
                continue
            value = bit_value(m)
            obj = cls()
            setattr(obj, m.name, value)
            got = bytes(obj).hex()
            want = gcc_facts[(s.name, "bits", m.name)]
            read_back = getattr(obj, m.name)
            if got != want or read_back != (bool(value) if m.ctype == "_Bool" else value):
                mismatches.append(f"{s.name}.{m.name} = {value}: gcc {want}, ffikit {got}, "
                                  f"read back {read_back}\n{s.c()}")
            checked += 1
    assert checked > 300
    assert not mismatches, "\n".join(mismatches[:5])
