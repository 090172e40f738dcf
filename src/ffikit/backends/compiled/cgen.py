"""C source for a compiled backend module: one ``METH_FASTCALL``-style wrapper per signature shape.

:func:`shape_of` reads a declared function's :class:`~ffikit.rules.params.ParamRule`
for each parameter (the same description the ctypes backend's wrapper
generator reads) and reduces it to a *shape*: the C ABI type of each
argument and the fast case the wrapper handles in C.  Functions whose
declaration needs anything the C side does not implement (variadics,
structs whose layout needs attributes, rules from other
layers such as size relations or ``nonnull``) get a reason string instead and
stay wholly on the ctypes backend.  :func:`generate` writes the module:
:data:`RUNTIME`, the struct definitions, one wrapper per distinct shape, then
``make()`` and the init function.

Each wrapper converts its fast case inline and calls the C function through
the pointer it was given, with the GIL released; on any mismatch it calls the
ctypes backend's wrapper with the original arguments, which either converts
them (slowly) or raises the one refusal both backends share.
"""

from __future__ import annotations

import ctypes
import dataclasses
import hashlib
import sys

from ffikit.backends.compiled.cstructs import struct_c
from ffikit.backends.compiled.runtime import RUNTIME, SEEN
from ffikit.backends.ctypes.wrappers import _restype_for, _VoidPointerResult
from ffikit.cdecl import model as m
from ffikit.errors import ArgumentError
from ffikit.rules.params import ParamRule, accepted_formats, param_rule

__all__ = ["shape_of", "generate", "KNOWN_RULE_FIELDS", "CHAR_TARGETS"]

# ParamRule fields this generator understands; a rule with any other field set
# (a newer rule this C does not implement) keeps the function on the ctypes backend.
KNOWN_RULE_FIELDS = frozenset({
    "kind", "ctype", "lo", "hi", "is_char", "size", "float_max", "const", "pointee",
    "raw_ok", "char_target", "item_kind", "pointee_size", "target_is_pointer", "target_is_struct",
})
# Pointees whose buffers are C strings (or may become so): only NUL-free bytes go fast.
CHAR_TARGETS = frozenset({"char", "wchar_t", "char16_t", "char32_t"})

_INT_CODES = {"b": (1, True), "B": (1, False), "h": (2, True), "H": (2, False),
              "i": (4, True), "I": (4, False), "l": (ctypes.sizeof(ctypes.c_long), True),
              "L": (ctypes.sizeof(ctypes.c_long), False), "q": (8, True), "Q": (8, False)}
_CData = ctypes.c_int.__mro__[-2]


def _int_c(size: int, signed: bool) -> str:
    return f"{'' if signed else 'u'}int{size * 8}_t"


def _unknown_facts(name: str, ftype: m.FunctionType) -> str | None:
    """Why rules beyond the ParamRule (size relations, nonnull, ...) keep it in Python."""
    facts = getattr(ftype, "facts", None)
    if facts is not None:  # nonnull is checked in C; any other promise keeps it in Python
        fields = dataclasses.fields(facts) if dataclasses.is_dataclass(facts) else ()
        values = [getattr(facts, f.name) for f in fields if f.name != "nonnull"] or [facts]
        if any(values):
            return "its declaration carries size/format/ownership rules"
    try:
        from ffikit.rules import sizes  # noqa: F401  (added by the bounds work)
    except ImportError:
        return None
    try:  # C strings need no fallback: the C side passes only NUL-free bytes to plain char
        if sizes.relations(name, ftype, ()) or sizes.param_modes(ftype, ()):
            return "size relations or access modes apply"
    except Exception:  # noqa: BLE001 - an API we do not know: be safe, stay in Python
        return "rules this compiler does not know apply"
    return None


def _param_shape(rule: ParamRule) -> tuple | str:
    for field in dataclasses.fields(rule):
        if field.name not in KNOWN_RULE_FIELDS and getattr(rule, field.name) not in (None, False, 0, (), ""):
            return f"rule field {field.name!r}"
    if rule.kind == "int":
        if rule.size not in (1, 2, 4, 8):
            return f"{rule.ctype.c_name()} integers"
        if isinstance(rule.ctype, m.Primitive) and rule.ctype.name == "_Bool":
            return ("int", "_Bool", rule.lo, rule.hi)
        if rule.size == 8 and rule.lo == 0:
            return ("u64", "uint64_t")
        return ("int", _int_c(rule.size, rule.lo < 0), rule.lo, rule.hi)
    if rule.kind == "float":
        if rule.size == 8:
            return ("double", "double")
        if rule.size == 4:
            return ("float", "float")
        if ctypes.sizeof(ctypes.c_longdouble) == rule.size:
            return ("ldouble", "long double")
        return f"{rule.ctype.c_name()} (long double of another size)"
    if rule.kind == "pointer":
        target = rule.pointee
        named = target.name if isinstance(target, m.Primitive) else None
        formats = accepted_formats(rule)
        # plain char: a C string, only NUL-free bytes go fast; other character types
        # (wchar_t, ...) always take the slow path (the classifier says so)
        items_of = rule.pointee_size if formats == frozenset() and rule.item_kind is None else 0
        return ("ptr", "void *", bool(rule.const), named == "char",
                None if formats is None else tuple(sorted(formats)), items_of)
    if rule.kind == "function_pointer":
        return ("ptr", "void *", True, False, None, 0)
    if rule.kind == "struct":
        definitions: list[str] = []
        tag = struct_c(rule.ctype, definitions)
        if tag is not None:
            return ("struct", tag, tuple(definitions))
        return "struct parameters (bitfields, packing or alignment attributes)"
    return f"{rule.kind} parameters"


def _result_shape(result: m.CType) -> tuple | str:
    try:
        restype = _restype_for(result)
    except ArgumentError:  # vectors, complex numbers: the ctypes backend refuses them at binding
        return f"results of C type {result.c_name()}"
    if restype is None:
        return ("void", "void")
    if restype is ctypes.c_char_p:
        return ("string", "const char *")
    if restype is _VoidPointerResult or issubclass(restype, ctypes._Pointer):
        return ("pointer", "void *")
    if restype is ctypes.c_bool:
        return ("bool", "_Bool")
    if restype is ctypes.c_char:
        return ("char", "char")
    if restype is ctypes.c_double:
        return ("double", "double")
    if restype is ctypes.c_float:
        return ("float", "float")
    if restype is ctypes.c_longdouble and restype is not ctypes.c_double:
        return ("ldouble", "long double")
    if issubclass(restype, (ctypes.Structure, ctypes.Union)):
        definitions: list[str] = []
        tag = struct_c(m.resolve(result), definitions)  # type: ignore[arg-type]
        if tag is not None:
            return ("struct", tag, tuple(definitions))
    code = getattr(restype, "_type_", None)
    if isinstance(code, str) and code in _INT_CODES and restype.__bases__[0] is ctypes._SimpleCData:
        size, signed = _INT_CODES[code]
        return ("int" if signed else "uint", _int_c(size, signed))
    return f"results of C type {result.c_name()}"


def shape_of(name: str, ftype: m.FunctionType) -> tuple | str:
    """The wrapper shape for ``ftype``, or a reason string: why it stays on ctypes."""
    if ftype.variadic:
        return "variadic"
    reason = _unknown_facts(name, ftype)
    if reason:
        return reason
    params = []
    nonnull = set(getattr(getattr(ftype, "facts", None), "nonnull", ()))
    for i, ptype in enumerate(ftype.params):
        shape = _param_shape(param_rule(ptype))
        if isinstance(shape, str):
            return shape
        if shape[0] == "ptr":  # None / a NULL ctypes pointer: the slow path refuses them
            shape = shape + (i in nonnull,)
        params.append(shape)
    result = _result_shape(ftype.result)
    if isinstance(result, str):
        return result
    return (result, tuple(params))


# --------------------------------------------------------------------------------------
# writing C


def _c_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _wrapper(index: int, shape: tuple) -> str:
    result, params = shape
    n = len(params)
    decls, convert, call_args, release = [], [], [], []
    specs = []
    for i, p in enumerate(params):
        kind = p[0]
        if kind == "int":
            decls.append(f"long long a{i};")
            convert.append(f"if (!ffk_int(args[{i}], {p[2]}LL, {p[3]}LL, &a{i})) goto slow;"
                           if p[2] != -(1 << 63) else
                           f"if (!ffk_int(args[{i}], LLONG_MIN, {p[3]}LL, &a{i})) goto slow;")
            call_args.append(f"({p[1]})a{i}")
        elif kind == "u64":
            decls.append(f"unsigned long long a{i};")
            convert.append(f"if (!ffk_uint64(args[{i}], &a{i})) goto slow;")
            call_args.append(f"(uint64_t)a{i}")
        elif kind == "double":
            decls.append(f"double a{i};")
            convert.append(f"if (!ffk_double(args[{i}], &a{i})) goto slow;")
            call_args.append(f"a{i}")
        elif kind == "ldouble":  # converted as a double (as the ctypes backend does), then widened
            decls.append(f"double a{i};")
            convert.append(f"if (!ffk_double(args[{i}], &a{i})) goto slow;")
            call_args.append(f"(long double)a{i}")
        elif kind == "float":
            decls.append(f"float a{i};")
            convert.append(f"if (!ffk_float(args[{i}], &a{i})) goto slow;")
            call_args.append(f"a{i}")
        elif kind == "struct":
            decls.append(f"{p[1]} a{i};")
            convert.append(f"if (ffk_mode(self, {i}, Py_TYPE(args[{i}])) != FFK_ADDRESS) goto slow;")
            convert.append(f"memcpy(&a{i}, *(void **)((char *)args[{i}] + self->bptr), sizeof a{i});")
            call_args.append(f"a{i}")
        else:  # ptr
            _, _, const, cstring, formats, items_of, nonnull = p
            if formats is None:
                fmt = "NULL"
            else:
                specs.append(f"static const char *const ffk_fmt{index}_{i}[] = {{"
                             + "".join(_c_string(f) + ", " for f in formats) + "NULL};")
                fmt = f"ffk_fmt{index}_{i}"
            specs.append(f"static const ffk_pspec ffk_spec{index}_{i} = "
                         f"{{{int(const)}, {int(cstring)}, {fmt}, {items_of}, {int(nonnull)}}};")
            decls.append(f"void *a{i}; Py_buffer v{i}; int h{i} = 0;")
            convert.append(f"if (!ffk_pointer(self, {i}, args[{i}], &ffk_spec{index}_{i}, &a{i}, &v{i}, &h{i})) goto slow;")
            call_args.append(f"a{i}")
            release.append(f"if (h{i}) PyBuffer_Release(&v{i});")
    rkind, rc = result[0], result[1]
    ptypes = ", ".join(p[1] for p in params) or "void"
    fptr = f"(({rc} (*)({ptypes}))self->cfn)"
    call = f"{fptr}({', '.join(call_args)})"
    if rkind == "void":
        invoke = [f"    {call};"]
        value = "Py_NewRef(Py_None)"
        rdecl = ""
    else:
        rdecl = f"    {rc} r;"
        invoke = [f"    r = {call};"]
        value = {
            "string": "ffk_string_result(r)",
            "pointer": "ffk_pointer_result(self, r)",
            "bool": "PyBool_FromLong(r)",
            "char": "PyBytes_FromStringAndSize(&r, 1)",
            "double": "PyFloat_FromDouble(r)",
            "float": "PyFloat_FromDouble((double)r)",
            "ldouble": "PyFloat_FromDouble((double)r)",
            "int": "PyLong_FromLongLong((long long)r)",
            "uint": "PyLong_FromUnsignedLongLong((unsigned long long)r)",
            "struct": "ffk_struct_result(self, &r, sizeof r)",
        }[rkind]
    ret = f"return ffk_after(self, {value}, args, {n});"
    lines = specs + [
        f"/* {rc} ({ptypes}) */",
        "static PyObject *",
        f"ffk_w{index}(PyObject *fself, PyObject *const *args, size_t nargsf, PyObject *kwnames)",
        "{",
        "    ffk_func *self = (ffk_func *)fself, *outer;",
        "    int *errno_space;",
        *(f"    {d}" for d in decls),
        rdecl,
        f"    if (PyVectorcall_NARGS(nargsf) != {n} || kwnames != NULL || self->errors != Py_None)",
        "        return ffk_slow(self, args, nargsf, kwnames);",
        *(f"    {c}" for c in convert),
        "    errno_space = ffk_errno_space();",
        "    outer = ffk_current;",
        "    ffk_current = self;",
        "    Py_BEGIN_ALLOW_THREADS",
        "    FFK_SWAP_ERRNO(errno_space)",
        *invoke,
        "    FFK_SWAP_ERRNO(errno_space)",
        "    Py_END_ALLOW_THREADS",
        "    ffk_current = outer;",
        *(f"    {r}" for r in release),
        f"    {ret}",
    ]
    if params:
        lines += [
            "  slow:",
            *(f"    {r}" for r in release),
            "    return ffk_slow(self, args, nargsf, kwnames);",
        ]
    lines.append("}")
    return "\n".join(line for line in lines if line)


_TAIL = r"""
static vectorcallfunc ffk_wrappers[] = {%(table)s};
static const int ffk_nparams[] = {%(nparams)s};

static PyObject *
ffk_make(PyObject *module, PyObject *args)
{
    int index;
    PyObject *address, *make_slow, *errors, *classify, *result, *fptypes;
    Py_ssize_t bptr;
    ffk_func *f;
    if (!PyArg_ParseTuple(args, "iOOOOOnO!", &index, &address, &make_slow, &errors, &classify,
                          &result, &bptr, &PyTuple_Type, &fptypes))
        return NULL;
    if (index < 0 || index >= (int)(sizeof(ffk_nparams) / sizeof(int))
        || PyTuple_GET_SIZE(fptypes) != ffk_nparams[index]) {
        PyErr_SetString(PyExc_IndexError, "no such wrapper, or fptypes of another length");
        return NULL;
    }
    f = PyObject_GC_New(ffk_func, &ffk_func_type);
    if (f == NULL)
        return NULL;
    f->vectorcall = ffk_wrappers[index];
    f->cfn = PyLong_AsVoidPtr(address);
    f->nparams = ffk_nparams[index];
    f->seen = PyMem_Calloc((size_t)(f->nparams ? f->nparams : 1) * FFK_SEEN, sizeof(ffk_seen));
    f->slow = NULL;
    f->dict = NULL;
    f->weakrefs = NULL;
    f->bptr = bptr;
    Py_INCREF(make_slow); f->make_slow = make_slow;
    Py_INCREF(errors); f->errors = errors;
    Py_INCREF(classify); f->classify = classify;
    Py_INCREF(result); f->result = result;
    Py_INCREF(fptypes); f->fptypes = fptypes;
    if (f->seen == NULL || PyErr_Occurred()) {
        Py_DECREF(f);
        return PyErr_Occurred() ? NULL : PyErr_NoMemory();
    }
    PyObject_GC_Track(f);
    return (PyObject *)f;
}

static PyMethodDef ffk_methods[] = {
    {"make", ffk_make, METH_VARARGS,
     "make(index, address, make_slow, errors, classify, result, bptr, fptypes)"},
    {"current", ffk_current_call, METH_NOARGS, "the compiled function running C on this thread, or None"},
    {"setup", ffk_setup, METH_O, "setup(ctypes function pointer base class)"},
    {"errno_probe", ffk_errno_probe, METH_O, "errno_probe(enable): ctypes' errno copy here, or None"},
    {NULL}
};

static struct PyModuleDef ffk_module = {
    PyModuleDef_HEAD_INIT, "%(modname)s", "ffikit compiled backend wrappers", -1, ffk_methods
};

PyMODINIT_FUNC
PyInit_%(modname)s(void)
{
    if (PyType_Ready(&ffk_func_type) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&ffk_module);
#ifdef Py_GIL_DISABLED
    /* free-threading stance (3.13t+): the wrappers rely on the GIL (docs/environment.md) */
    if (m != NULL && PyUnstable_Module_SetGIL(m, Py_MOD_GIL_USED) < 0) {
        Py_DECREF(m);
        return NULL;
    }
#endif
    return m;
}
"""


def generate(shapes: list[tuple]) -> tuple[str, str, list[str]]:
    """``(module name, C source, each wrapper's C)`` for a module with one wrapper per shape.

    The name carries a hash of the source (and the Python ABI), so a module
    is only ever built once per content and never clashes with another.
    """
    wrappers = [_wrapper(i, s) for i, s in enumerate(shapes)]
    definitions: list[str] = []
    for result, params in shapes:
        for part in (result, *params):
            if part[0] == "struct":
                definitions += [d for d in part[2] if d not in definitions]
    body = "\n\n".join(definitions + wrappers)
    abi = f"/* {sys.implementation.cache_tag} {sys.abiflags} {sys.version} */"
    digest = hashlib.sha256((abi + RUNTIME + body + _TAIL).encode()).hexdigest()[:16]
    modname = f"_ffikit_c_{digest}"
    tail = _TAIL % {
        "table": ", ".join(f"ffk_w{i}" for i in range(len(shapes))) or "NULL",
        "nparams": ", ".join(str(len(s[1])) for s in shapes) or "0",
        "modname": modname,
    }
    source = "\n".join([abi, RUNTIME % {"seen": SEEN}, body, tail])
    return modname, source, wrappers
