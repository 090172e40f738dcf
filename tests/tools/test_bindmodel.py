"""The type model written as Python and read back: same layouts, same functions."""

import ffikit
from ffikit.cdecl import model as m
from ffikit.tools.bindmodel import declarations, model_source

C = """
typedef struct node { struct node *next; int v : 4; double d[2]; } node;
typedef union { float f; unsigned u; } bits;
typedef unsigned long ul4 __attribute__((aligned(4)));
typedef float v4 __attribute__((vector_size(16)));
struct __attribute__((ms_struct)) ms { char a : 4; short b : 4; ul4 x; v4 y; };
enum color { RED, GREEN = 5 };
int walk(node *n, enum color c, int (*visit)(bits *b, ...));
"""


def _round_trip():
    defs = ffikit.cdef(C)
    types = {n: defs.types[n] for n in ("node", "bits", "ul4", "v4")}
    types["struct ms"] = defs.types["struct ms"]
    source = model_source(types, {"walk": defs.functions["walk"].type})
    namespace = {"_m": m}
    exec(compile(source, "<model>", "exec"), namespace)  # noqa: S102 - our own output
    return defs, declarations(namespace["_TYPES"], namespace["_FUNCTIONS"], enums=namespace["_E"])


def test_layouts_survive():
    defs, back = _round_trip()
    for name in ("node", "bits", "struct ms"):
        assert str(back.layout(name)) == str(defs.layout(name))


def test_functions_and_enums_survive():
    defs, back = _round_trip()
    assert str(back.functions["walk"]) == str(defs.functions["walk"])
    assert back.enums["color"].GREEN == 5 and back.GREEN == 5
