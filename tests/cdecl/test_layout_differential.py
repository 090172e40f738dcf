"""Differential tests: ffikit's layouts equal gcc's on 2 x 520 random structs and unions.

The C text goes through ``ffikit.cdef`` (preprocessor, parser, attributes and
``#pragma pack``), the layout engine and the ctypes backend; the same text is
compiled into a probe that reports ``sizeof``, ``_Alignof``, every
``offsetof`` and the byte image of every bitfield set to a known value.

A second set (``randmodels``) builds the types as model objects, skipping the
parser, and adds ``__int128``, enums of every size, function pointers,
typedefs, per-member ``packed``/``aligned`` and anonymous members under
``#pragma pack``; ``layout()`` and the ``to_ctypes`` class must agree with
every fact its own probe reports.

A third set checks ``platform="windows"`` (MSVC rules) against gcc's
``-mms-bitfields``, gcc's implementation of MSVC's struct layout, on types
whose member sizes LP64 and LLP64 share.
"""

import ctypes

import pytest

import ffikit
from ffikit.backends.ctypes.types import to_ctypes
from ffikit.cdecl.layout import layout
from ffikit.cdecl.model import Primitive, resolve
from randmodels import bit_value as model_bit_value
from randmodels import c_definitions, probed_fields, random_structs, read_probe
from randmodels import probe_source as model_probe_source
from randstructs import bit_value, probe_source, random_declarations

SEED = 20261123
COUNT = 520


# Second generator: model objects built by hand (no parser), laid out directly.
MODEL_SEED = 3
MODEL_COUNT = 520


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


# --- model objects (randmodels): layout.py and to_ctypes.py without the parser ----------


@pytest.fixture(scope="module")
def models():
    return random_structs(MODEL_SEED, MODEL_COUNT)


@pytest.fixture(scope="module")
def model_facts(models, cbuild):
    lib = ctypes.CDLL(cbuild(model_probe_source(models), name="modelprobe"))
    lib.probe.restype = ctypes.c_char_p
    return read_probe(lib.probe().decode())


def _model_source(t):
    return c_definitions([t]).split("typedef unsigned short my_u16;\n", 1)[1]


def test_models_generator_covers_every_feature(models):
    """The random types exercise every layout feature at least once."""
    text = c_definitions(models)
    for feature in ("#pragma pack(push, 1)", "#pragma pack(push, 2)", "packed", "aligned(",
                    "union r", " : 0;", "_Bool", "long double", "__int128", "[];",
                    "struct {", "union {", "enum e", "(*f", "][", ": 1;", ": 64;"):
        assert feature in text, feature
    assert len(models) >= 500


def test_models_sizes_and_alignments_match_gcc(models, model_facts):
    mismatches = []
    for t in models:
        lay = layout(t)
        cls = to_ctypes(t)
        want = (model_facts[(t.name, "size")], model_facts[(t.name, "align")])
        got = (lay.size, lay.alignment)
        if got != want or ctypes.sizeof(cls) != want[0]:
            mismatches.append(f"{t.name}: gcc {want}, ffikit {got}, ctypes "
                              f"{ctypes.sizeof(cls)}\n{_model_source(t)}")
    assert not mismatches, f"{len(mismatches)} mismatches\n" + "\n".join(mismatches[:4])


def test_models_field_offsets_match_gcc(models, model_facts):
    mismatches = []
    checked = 0
    for t in models:
        lay = layout(t)
        cls = to_ctypes(t)
        direct = {f.name for f in t.fields}
        for f in probed_fields(t):
            if f.bitwidth is not None:
                continue
            want = model_facts[(t.name, "off", f.name)]
            got = lay.field(f.name).offset
            ctypes_offset = getattr(cls, f.name).offset if f.name in direct else got
            checked += 1
            if got != want or ctypes_offset != want:
                mismatches.append(f"{t.name}.{f.name}: gcc {want}, ffikit {got}, "
                                  f"ctypes {ctypes_offset}\n{_model_source(t)}")
    assert checked > 1000
    assert not mismatches, f"{len(mismatches)} mismatches\n" + "\n".join(mismatches[:4])


def test_models_bitfield_bytes_match_gcc(models, model_facts):
    mismatches = []
    checked = 0
    for t in models:
        cls = to_ctypes(t)
        for f in probed_fields(t):
            if f.bitwidth is None:
                continue
            value = model_bit_value(f)
            obj = cls()
            setattr(obj, f.name, value)
            got = bytes(obj).hex()
            want = model_facts[(t.name, "bits", f.name)]
            expected = bool(value) if resolve(f.type) == Primitive("_Bool") else value
            read_back = getattr(obj, f.name)
            checked += 1
            if got != want or read_back != expected:
                mismatches.append(f"{t.name}.{f.name} = {value}: gcc {want}, ffikit {got}, "
                                  f"read back {read_back}\n{_model_source(t)}")
    assert checked > 300
    assert not mismatches, f"{len(mismatches)} mismatches\n" + "\n".join(mismatches[:4])


# --- Windows (MSVC) rules, checked with gcc's -mms-bitfields (the MSVC struct layout) -----
MSVC_SEED = 5
MSVC_COUNT = 400


@pytest.fixture(scope="module")
def msvc_models():
    return random_structs(MSVC_SEED, MSVC_COUNT, msvc=True)


@pytest.fixture(scope="module")
def msvc_facts(msvc_models, cbuild):
    lib = ctypes.CDLL(cbuild(model_probe_source(msvc_models), name="msvcprobe",
                             flags=("-mms-bitfields",)))
    lib.probe.restype = ctypes.c_char_p
    return read_probe(lib.probe().decode())


def test_msvc_layouts_match_gcc_ms_bitfields(msvc_models, msvc_facts):
    """platform="windows" layouts equal gcc -mms-bitfields (gcc's implementation of MSVC's
    struct layout) on types whose member sizes LP64 and LLP64 share."""
    mismatches = []
    checked = 0
    for t in msvc_models:
        lay = layout(t, "windows")
        want = (msvc_facts[(t.name, "size")], msvc_facts[(t.name, "align")])
        problems = [] if (lay.size, lay.alignment) == want else [f"gcc {want}, ffikit "
                                                                 f"{(lay.size, lay.alignment)}"]
        for f in probed_fields(t):
            if f.bitwidth is None:
                checked += 1
                want_off = msvc_facts[(t.name, "off", f.name)]
                if lay.field(f.name).offset != want_off:
                    problems.append(f"{f.name}: gcc {want_off}, ffikit {lay.field(f.name).offset}")
        if problems:
            mismatches.append(f"{t.name}: {'; '.join(problems)}\n{_model_source(t)}")
    assert checked > 500
    assert not mismatches, f"{len(mismatches)} mismatches\n" + "\n".join(mismatches[:4])


def test_msvc_bitfield_bytes_match_gcc_ms_bitfields(msvc_models, msvc_facts):
    """Writing each bitfield through the platform="windows" class gives gcc's bytes."""
    mismatches = []
    checked = 0
    for t in msvc_models:
        cls = to_ctypes(t, "windows")
        for f in probed_fields(t):
            if f.bitwidth is None:
                continue
            obj = cls()
            setattr(obj, f.name, model_bit_value(f, "windows"))
            checked += 1
            want = msvc_facts[(t.name, "bits", f.name)]
            if bytes(obj).hex() != want:
                mismatches.append(f"{t.name}.{f.name}: gcc {want}, ffikit {bytes(obj).hex()}\n"
                                  f"{_model_source(t)}")
    assert checked > 200
    assert not mismatches, f"{len(mismatches)} mismatches\n" + "\n".join(mismatches[:4])
