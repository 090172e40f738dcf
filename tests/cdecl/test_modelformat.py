"""modelformat: a model goes to bytes and back as it was, and nothing but model data comes out."""

from __future__ import annotations

import os
import pickle

import pytest

import ffikit
from ffikit.cdecl import model as m
from ffikit.cdecl import modelformat

HEADER = """
typedef struct node { struct node *next; int value; double weights[3]; } node;
typedef enum { RED, GREEN = 5 } color_t;
typedef int (*visit_fn)(const node *, void *);
int walk(node *head, visit_fn fn, void *ctx) __attribute__((nonnull(1)));
"""


def test_a_model_comes_back_with_its_cycles_shared_types_and_layouts():
    result = ffikit.cdef(HEADER)._result
    back = modelformat.loads(modelformat.dumps(result))
    struct = back.types["struct node"]
    assert str(back.functions["walk"].type) == str(result.functions["walk"].type)
    fields = {f.name: f for f in struct.fields}
    assert fields["next"].type.target is struct  # the cycle is the same object again
    assert back.functions["walk"].type.facts == result.functions["walk"].type.facts
    assert {k: str(v) for k, v in back.types.items()} == {k: str(v) for k, v in result.types.items()}


def test_primitives_are_one_object_per_name_and_hashes_are_not_stored():
    value = (m.Pointer(m.Primitive("int"), const=True), m.Primitive("int"), m.Primitive("int"),
             m.Array(m.Primitive("double"), 3), m.Primitive("double"))
    hash(value[0])  # a cached hash: per process (string hashes are salted), never written
    data = modelformat.dumps(value)
    assert b"_hash" not in data
    back = modelformat.loads(data)
    assert back == value and [str(t) for t in back] == [str(t) for t in value]
    assert back[1] is back[2] is back[0].target and back[3].item is back[4]
    assert hash(back[0]) == hash(value[0])


@pytest.mark.parametrize("value", [len, os.system, type, pickle.Pickler, range(3), 1j,
                                   [1, {"a": object()}], ffikit.cdecl])
def test_what_is_not_model_data_is_not_stored(value):
    with pytest.raises(modelformat.Unsupported):
        modelformat.dumps(value)


def _calls(function, *args) -> bytes:
    class Call:
        def __reduce__(self):
            return function, args
    return pickle.dumps(Call(), protocol=5)


@pytest.mark.parametrize("payload", [
    _calls(os.system, "exit 3"), _calls(getattr, 1, "real"), _calls(eval, "1"),
    _calls(ffikit.build, "int x;"), _calls(ffikit.cdecl.declarations.Declarations),
    _calls(modelformat._set_state, "text", {"x": 1}), _calls(modelformat.loads, b""),
    b"\x80\x05\x95\x0f\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x8c\x06system\x93.",  # STACK_GLOBAL
    b"cos\nsystem\n.", b"\x80\x05P0\n.",  # protocol 0 GLOBAL; a persistent id
], ids=["os.system", "getattr", "eval", "ffikit.build", "Declarations", "set_state on a str",
        "loads", "stack global", "global", "persistent id"])
def test_a_pickle_naming_anything_but_model_classes_is_refused(payload):
    with pytest.raises(pickle.UnpicklingError):
        modelformat.loads(payload)


def test_model_class_accepts_only_the_models_own_classes():
    assert modelformat.model_class("ffikit.cdecl.model", "Pointer") is m.Pointer
    for module, name in [("subprocess", "Popen"), ("ffikit.cdecl.model", "os.system"),
                         ("ffikit.cdecl.cpp", "run_cpp"), ("ffikit.cdecl.model", "VOID"),
                         ("ffikit.cdecl.model", "Pointer.__init__"), ("ffikit.cdecl.model", "_join")]:
        with pytest.raises(ValueError, match="not a model class"):
            modelformat.model_class(module, name)


def test_unset_slots_nan_and_shared_references_come_back_as_they_were():
    """Slots set on some objects only, a NaN, a reference shared between two objects: each comes
    back as it was (an unset slot stays unset)."""
    import math

    originals = []
    for i in range(6):
        s = object.__new__(m.StructOrUnion)  # (slots left unset: typedef_name everywhere)
        s.kind, s.name = "struct", f"s{i}"
        if i % 2:
            s.pack = float("nan") if i == 3 else 2
        if i % 3 == 0:
            s.aligned = 8
        s.fields = (m.Primitive("int"), m.Pointer(m.Primitive("char"))) if i == 0 else None
        s.coord = originals[0].fields[1] if i == 4 else None
        s.rules = "msvc" if i == 5 else None
        originals.append(s)
    back = modelformat.loads(modelformat.dumps(originals))
    for want, got in zip(originals, back, strict=True):
        for slot in ("kind", "name", "fields", "pack", "aligned", "coord", "typedef_name", "rules"):
            assert hasattr(got, slot) == hasattr(want, slot), slot
            a, b = getattr(want, slot, None), getattr(got, slot, None)
            assert (math.isnan(a) and math.isnan(b)) if isinstance(a, float) else a == b, slot
    assert str(back[0].fields[1]) == "char *" and back[0].fields[1] is back[4].coord
